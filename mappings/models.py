"""What each POS thing is in Fulfil, and a local cache of Fulfil's catalog to pick from.

Maps are effective-dated: a store can open, move or close without rewriting history, and a posted
transaction records the map rows (ids) it was posted under.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from integration.models import RATE, PosSource


class CatalogRecord(models.Model):
    """Fields every cached Fulfil record shares."""

    fulfil_id = models.BigIntegerField(unique=True)
    active = models.BooleanField(default=True)
    synced_at = models.DateTimeField(auto_now=True)
    fulfil_write_date = models.DateTimeField(
        null=True, blank=True, help_text="When Fulfil last changed the record (its write_date)."
    )

    class Meta:
        abstract = True


class FulfilWarehouse(CatalogRecord):
    """A stock.location of type warehouse (stores and the distribution centre)."""

    code = models.CharField(max_length=64, blank=True, db_index=True)
    name = models.CharField(max_length=200)
    storage_location_id = models.BigIntegerField(null=True, blank=True)
    input_location_id = models.BigIntegerField(null=True, blank=True)
    output_location_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})" if self.code else self.name


class FulfilProduct(CatalogRecord):
    code = models.CharField(max_length=120, db_index=True, help_text="Fulfil SKU.")
    name = models.CharField(max_length=255)
    barcode = models.CharField(max_length=64, blank=True, db_index=True)
    list_price = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    normalized_code = models.CharField(max_length=120, blank=True, db_index=True)
    variant_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"[{self.code}] {self.name}"


class FulfilTax(CatalogRecord):
    name = models.CharField(max_length=120)
    rate = models.DecimalField(**RATE, null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)
    type = models.CharField(max_length=20, blank=True, help_text="percentage, fixed or none.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FulfilChannel(CatalogRecord):
    code = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=200)
    source = models.CharField(max_length=40, blank=True)
    warehouse_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FulfilGateway(CatalogRecord):
    code = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=200)
    method = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CatalogSyncRun(models.Model):
    """One pull of one Fulfil model into the cache: when, how many, what changed."""

    model = models.CharField(max_length=60)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    deactivated = models.PositiveIntegerField(default=0)
    changes = models.JSONField(default=list, blank=True)
    cursor = models.CharField(max_length=64, blank=True, help_text="write_date high-water mark.")
    error = models.TextField(blank=True)
    full = models.BooleanField(default=False, help_text="A full pull rather than changes since the cursor.")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.model} @ {self.started_at:%Y-%m-%d %H:%M}"


class EffectiveDated(models.Model):
    source = models.ForeignKey(PosSource, on_delete=models.PROTECT)
    effective_from = models.DateField(null=True, blank=True, help_text="Empty: since always.")
    effective_to = models.DateField(null=True, blank=True, help_text="Empty: until further notice.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True


class LocationMap(EffectiveDated):
    """POS location (optionally one register) → Fulfil warehouse and channel."""

    pos_location_id = models.CharField(max_length=120)
    pos_location_name = models.CharField(max_length=200, blank=True)
    register_id = models.CharField(max_length=120, blank=True, help_text="Set to override one till.")
    warehouse = models.ForeignKey(FulfilWarehouse, on_delete=models.PROTECT, related_name="+")
    storage_location_id = models.BigIntegerField(null=True, blank=True)
    channel = models.ForeignKey(
        FulfilChannel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["source", "pos_location_id", "register_id", "effective_from"]
        indexes = [models.Index(fields=["source", "pos_location_id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "pos_location_id", "register_id", "effective_from"],
                name="location_map_unique_start",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_from__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="location_map_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        till = f" / till {self.register_id}" if self.register_id else ""
        return f"{self.pos_location_name or self.pos_location_id}{till} → {self.warehouse}"


class SkuMap(EffectiveDated):
    """POS SKU (or variant id, or barcode) → Fulfil product."""

    class KeyType(models.TextChoices):
        SKU = "sku", "SKU"
        VARIANT = "variant", "Variant / catalog id"
        BARCODE = "barcode", "Barcode"

    key_type = models.CharField(max_length=10, choices=KeyType.choices, default=KeyType.SKU)
    pos_key = models.CharField(max_length=120)
    product = models.ForeignKey(FulfilProduct, on_delete=models.PROTECT, related_name="+")
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supersedes"
    )
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["source", "key_type", "pos_key", "effective_from"]
        indexes = [models.Index(fields=["source", "key_type", "pos_key"])]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "key_type", "pos_key", "effective_from"], name="sku_map_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pos_key} → {self.product}"


class TaxMap(EffectiveDated):
    """POS tax title and rate → Fulfil tax."""

    pos_tax_title = models.CharField(max_length=120)
    rate = models.DecimalField(**RATE)
    tax = models.ForeignKey(FulfilTax, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["source", "pos_tax_title", "rate"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "pos_tax_title", "rate", "effective_from"], name="tax_map_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pos_tax_title} {self.rate} → {self.tax}"


class TenderMap(EffectiveDated):
    """POS tender type or gateway name → Fulfil payment gateway."""

    pos_tender = models.CharField(max_length=80, help_text="Tender type or gateway as the POS names it.")
    gateway = models.ForeignKey(FulfilGateway, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["source", "pos_tender"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "pos_tender", "effective_from"], name="tender_map_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pos_tender} → {self.gateway}"
