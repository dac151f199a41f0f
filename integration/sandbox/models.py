"""The Fulfil sandbox's own tables. Records of every Fulfil model live in one document table, stored in
Fulfil's wire encoding, so the sandbox can grow a model without a migration; the few columns that
the database must enforce or index (channel_identifier uniqueness, parent links, codes) are real
columns. Stock on hand is its own table, kept by stock moves.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q


class SandboxRecord(models.Model):
    model = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    active = models.BooleanField(default=True)
    code = models.CharField(max_length=120, blank=True, default="")
    parent_id = models.BigIntegerField(null=True, blank=True, help_text="sale of a line, parent location…")
    channel_identifier = models.CharField(max_length=255, null=True, blank=True)
    create_date = models.DateTimeField()
    write_date = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["model", "code"]),
            models.Index(fields=["model", "parent_id"]),
            models.Index(fields=["model", "write_date"]),
        ]
        constraints = [
            # Fulfil refuses a second sale (or line) with the same channel_identifier.
            models.UniqueConstraint(
                fields=["model", "channel_identifier"],
                condition=Q(channel_identifier__isnull=False),
                name="sandbox_channel_identifier_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model},{self.pk}"


class SandboxStock(models.Model):
    product_id = models.BigIntegerField()
    location_id = models.BigIntegerField()
    quantity = models.DecimalField(max_digits=16, decimal_places=4, default=Decimal("0"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product_id", "location_id"], name="sandbox_stock_unique"),
        ]
        indexes = [models.Index(fields=["location_id"])]

    def __str__(self) -> str:
        return f"product {self.product_id} @ {self.location_id}: {self.quantity}"


class SandboxSequence(models.Model):
    name = models.CharField(max_length=64, unique=True)
    next_value = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.name}: {self.next_value}"


class SandboxFaults(models.Model):
    """The fault knobs; one row, shared by web and worker processes."""

    class TaxRounding(models.TextChoices):
        LINE = "line", "Per line"
        ORDER = "order", "Per order"

    latency_ms = models.PositiveIntegerField(default=0)
    rate_limit_share = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("0"))
    retry_after_seconds = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1"))
    server_error_share = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("0"))
    commit_timeout_share = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("0"))
    user_error_codes = models.JSONField(default=list, blank=True)
    tax_rounding = models.CharField(max_length=8, choices=TaxRounding.choices, default=TaxRounding.LINE)
    seed = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "sandbox faults"

    def __str__(self) -> str:
        return "Sandbox faults"
