import django_filters

from integration.models import PosSource
from reconciliation.models import TenderBatch


class TenderBatchFilter(django_filters.FilterSet):
    source = django_filters.ModelChoiceFilter(queryset=PosSource.objects.all())
    store = django_filters.CharFilter(field_name="pos_location_id", label="Store (POS location id)")
    tender_type = django_filters.CharFilter(label="Tender")
    state = django_filters.ChoiceFilter(choices=TenderBatch.State.choices)
    business_date = django_filters.DateFromToRangeFilter(
        widget=django_filters.widgets.RangeWidget(attrs={"type": "date"})
    )

    class Meta:
        model = TenderBatch
        fields = ["source", "store", "tender_type", "state", "business_date"]
