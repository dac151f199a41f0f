import django_filters
from django.db.models import Q

from integration.models import PosSource, PosTransaction, TransactionState


class TransactionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="POS id or receipt")
    source = django_filters.ModelChoiceFilter(queryset=PosSource.objects.all())
    state = django_filters.ChoiceFilter(choices=TransactionState.choices)
    kind = django_filters.ChoiceFilter(choices=PosTransaction.Kind.choices)
    store = django_filters.CharFilter(field_name="pos_location_id", label="Store (POS location id)")
    business_date = django_filters.DateFromToRangeFilter(
        widget=django_filters.widgets.RangeWidget(attrs={"type": "date"})
    )

    class Meta:
        model = PosTransaction
        fields = ["q", "source", "state", "kind", "store", "business_date"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(pos_id=value) | Q(pos_number=value)) if value else queryset
