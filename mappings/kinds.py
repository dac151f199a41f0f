"""The four kinds of map, described once so services, import/export, pages and the API agree.

A map's *key* is what the POS says (store id, SKU, tax title and rate, tender name) within a source;
several rows may share a key as long as their effective-date ranges do not overlap. The *natural key*
(key + effective_from) is what import files use to find an existing row.
"""

from dataclasses import dataclass

from django.db import models

from mappings.models import LocationMap, SkuMap, TaxMap, TenderMap


@dataclass(frozen=True)
class MapKind:
    slug: str  # in URLs: /maps/<slug>/
    model: type[models.Model]
    audit_name: str  # audit actions are "<audit_name>.created" etc.
    label: str
    singular: str
    key_fields: tuple[str, ...]
    # Every field a person can set (the audit snapshot and the update service use this list).
    fields: tuple[str, ...]

    @property
    def natural_key_fields(self) -> tuple[str, ...]:
        return (*self.key_fields, "effective_from")


DATES = ("effective_from", "effective_to")

LOCATION = MapKind(
    slug="locations",
    model=LocationMap,
    audit_name="location_map",
    label="Location maps",
    singular="location map",
    key_fields=("source", "pos_location_id", "register_id"),
    fields=(
        "source",
        "pos_location_id",
        "pos_location_name",
        "register_id",
        "warehouse",
        "storage_location_id",
        "channel",
        *DATES,
    ),
)
SKU = MapKind(
    slug="skus",
    model=SkuMap,
    audit_name="sku_map",
    label="SKU maps",
    singular="SKU map",
    key_fields=("source", "key_type", "pos_key"),
    fields=("source", "key_type", "pos_key", "product", "superseded_by", "note", *DATES),
)
TAX = MapKind(
    slug="taxes",
    model=TaxMap,
    audit_name="tax_map",
    label="Tax maps",
    singular="tax map",
    key_fields=("source", "pos_tax_title", "rate"),
    fields=("source", "pos_tax_title", "rate", "tax", *DATES),
)
TENDER = MapKind(
    slug="tenders",
    model=TenderMap,
    audit_name="tender_map",
    label="Tender maps",
    singular="tender map",
    key_fields=("source", "pos_tender"),
    fields=("source", "pos_tender", "gateway", *DATES),
)

KINDS: dict[str, MapKind] = {k.slug: k for k in (LOCATION, SKU, TAX, TENDER)}
_BY_MODEL = {k.model: k for k in KINDS.values()}


def kind_for(obj_or_model) -> MapKind:
    model = obj_or_model if isinstance(obj_or_model, type) else type(obj_or_model)
    return _BY_MODEL[model]
