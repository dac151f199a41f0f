import django_tables2 as tables
from django.urls import reverse

from mappings.models import LocationMap, SkuMap, TaxMap, TenderMap

DATE_ATTRS = {"td": {"class": "num"}}


class MapTable(tables.Table):
    id = tables.Column(verbose_name="#", linkify=lambda record: _detail_url(record))
    source = tables.Column(verbose_name="Source", accessor="source__code")
    effective_from = tables.DateColumn(verbose_name="From", default="always", attrs=DATE_ATTRS)
    effective_to = tables.DateColumn(verbose_name="Until", default="further notice", attrs=DATE_ATTRS)
    updated_at = tables.DateTimeColumn(verbose_name="Changed", format="Y-m-d H:i")

    class Meta:
        attrs = {"class": "table"}
        order_by = ("source", "id")


def _detail_url(record) -> str:
    from mappings.kinds import kind_for

    return reverse("mappings:detail", args=[kind_for(record).slug, record.pk])


class LocationMapTable(MapTable):
    warehouse = tables.Column(verbose_name="Fulfil warehouse")
    channel = tables.Column(verbose_name="Channel")

    class Meta(MapTable.Meta):
        model = LocationMap
        fields = (
            "id",
            "source",
            "pos_location_id",
            "pos_location_name",
            "register_id",
            "warehouse",
            "channel",
        )
        sequence = (*fields, "effective_from", "effective_to", "updated_at")


class SkuMapTable(MapTable):
    product = tables.Column(verbose_name="Fulfil product")
    superseded_by = tables.Column(verbose_name="Replaced by", accessor="superseded_by__pos_key")

    class Meta(MapTable.Meta):
        model = SkuMap
        fields = ("id", "source", "key_type", "pos_key", "product", "superseded_by", "note")
        sequence = (*fields, "effective_from", "effective_to", "updated_at")


class TaxMapTable(MapTable):
    rate = tables.Column(attrs={"td": {"class": "num"}})
    tax = tables.Column(verbose_name="Fulfil tax")

    class Meta(MapTable.Meta):
        model = TaxMap
        fields = ("id", "source", "pos_tax_title", "rate", "tax")
        sequence = (*fields, "effective_from", "effective_to", "updated_at")


class TenderMapTable(MapTable):
    gateway = tables.Column(verbose_name="Fulfil payment gateway")

    class Meta(MapTable.Meta):
        model = TenderMap
        fields = ("id", "source", "pos_tender", "gateway")
        sequence = (*fields, "effective_from", "effective_to", "updated_at")


TABLES = {"locations": LocationMapTable, "skus": SkuMapTable, "taxes": TaxMapTable, "tenders": TenderMapTable}
