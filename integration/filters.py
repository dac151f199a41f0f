import django_filters
from django.db.models import Q

from integration.models import PosSource, PosTransaction, TransactionState


class TransactionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="POS id or receipt")
    source = django_filters.ModelChoiceFilter(queryset=PosSource.objects.all())
    state = django_filters.ChoiceFilter(choices=TransactionState.choices)
    kind = django_filters.ChoiceFilter(choices=PosTransaction.Kind.choices)
    store = django_filters.CharFilter(method="store_search", label="Store (name or POS location id)")
    business_date = django_filters.DateFromToRangeFilter(
        widget=django_filters.widgets.RangeWidget(attrs={"type": "date"})
    )

    class Meta:
        model = PosTransaction
        fields = ["q", "source", "state", "kind", "store", "business_date"]

    def store_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(pos_location_id=value) | Q(pos_location_name__icontains=value))

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(pos_id=value) | Q(pos_number=value)) if value else queryset
