import django_tables2 as tables

from integration.models import PosTransaction


class TransactionTable(tables.Table):
    pos_number = tables.Column(verbose_name="Receipt", linkify=True, empty_values=())
    source = tables.Column(verbose_name="Source")
    pos_location_name = tables.Column(verbose_name="Store", empty_values=())
    total = tables.Column(attrs={"td": {"class": "num"}, "th": {"class": "num"}})

    class Meta:
        model = PosTransaction
        fields = (
            "pos_number",
            "source",
            "pos_location_name",
            "kind",
            "business_date",
            "total",
            "currency",
            "state",
        )
        order_by = ("-business_date",)
        attrs = {"class": "table"}

    def render_pos_number(self, record):
        return record.pos_number or record.pos_id

    def render_pos_location_name(self, record):
        return record.pos_location_name or record.pos_location_id
