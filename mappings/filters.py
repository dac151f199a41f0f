import django_filters
from django.db.models import Q

from integration.models import PosSource
from mappings.models import FulfilWarehouse, LocationMap, SkuMap, TaxMap, TenderMap
from mappings.selectors import _effective_on


class MapFilter(django_filters.FilterSet):
    """Filters every map list shares: source, free-text search, in force on a date, stale targets."""

    q = django_filters.CharFilter(method="search", label="Search")
    source = django_filters.ModelChoiceFilter(queryset=PosSource.objects.all(), to_field_name="code")
    active_on = django_filters.DateFilter(
        method="in_force_on",
        label="In force on",
        widget=django_filters.widgets.forms.DateInput(attrs={"type": "date"}),
    )
    inactive_target = django_filters.BooleanFilter(
        method="points_at_inactive", label="Points at inactive Fulfil record"
    )

    search_fields: tuple[str, ...] = ()
    target_field = ""

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        query = Q()
        for field in self.search_fields:
            query |= Q(**{f"{field}__icontains": value})
        return queryset.filter(query)

    def in_force_on(self, queryset, name, value):
        return _effective_on(queryset, value) if value else queryset

    def points_at_inactive(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(**{f"{self.target_field}__active": not value})


class LocationMapFilter(MapFilter):
    search_fields = (
        "pos_location_id",
        "pos_location_name",
        "register_id",
        "warehouse__name",
        "warehouse__code",
    )
    target_field = "warehouse"
    warehouse = django_filters.ModelChoiceFilter(queryset=FulfilWarehouse.objects.all())

    class Meta:
        model = LocationMap
        fields = ["q", "source", "warehouse", "active_on", "inactive_target"]


class SkuMapFilter(MapFilter):
    search_fields = ("pos_key", "product__code", "product__name", "note")
    target_field = "product"
    key_type = django_filters.ChoiceFilter(choices=SkuMap.KeyType.choices)

    class Meta:
        model = SkuMap
        fields = ["q", "source", "key_type", "active_on", "inactive_target"]


class TaxMapFilter(MapFilter):
    search_fields = ("pos_tax_title", "tax__name")
    target_field = "tax"

    class Meta:
        model = TaxMap
        fields = ["q", "source", "active_on", "inactive_target"]


class TenderMapFilter(MapFilter):
    search_fields = ("pos_tender", "gateway__name", "gateway__code")
    target_field = "gateway"

    class Meta:
        model = TenderMap
        fields = ["q", "source", "active_on", "inactive_target"]


FILTERS = {
    "locations": LocationMapFilter,
    "skus": SkuMapFilter,
    "taxes": TaxMapFilter,
    "tenders": TenderMapFilter,
}
