import django_tables2 as tables

from reconciliation.models import TenderBatch

NUM = {"td": {"class": "num"}, "th": {"class": "num"}}


class TenderBatchTable(tables.Table):
    source = tables.Column(accessor="source__code", verbose_name="Source")
    pos_location_id = tables.Column(verbose_name="Store")
    sequence = tables.Column(verbose_name="Batch", attrs=NUM)
    amount = tables.Column(attrs=NUM)
    transaction_count = tables.Column(verbose_name="Transactions", attrs=NUM)
    fulfil_reference = tables.Column(verbose_name="Fulfil reference", empty_values=())

    class Meta:
        model = TenderBatch
        fields = (
            "business_date",
            "source",
            "pos_location_id",
            "tender_type",
            "sequence",
            "amount",
            "transaction_count",
            "state",
            "fulfil_reference",
            "posted_at",
        )
        attrs = {"class": "table"}

    def render_sequence(self, value):
        return "day" if value == 0 else f"adjustment {value}"

    def render_fulfil_reference(self, value):
        return value or "—"


CSV_FIELDS = (
    "business_date",
    "source__code",
    "pos_location_id",
    "tender_type",
    "sequence",
    "amount",
    "transaction_count",
    "state",
    "fulfil_reference",
    "posted_at",
)
