from decimal import Decimal

from django.conf import settings
from django.db import models

from integration.models import MONEY, PosSource


class TenderBatch(models.Model):
    """One tender type's takings for one store and business day, posted to Fulfil as one payment.

    Idempotent per (source, store, day, tender, sequence): a late transaction for a day already
    posted produces an adjustment batch with the next sequence, never an edit of a posted one.
    """

    class State(models.TextChoices):
        OPEN = "open", "Collecting"
        POSTING = "posting", "Posting"
        POSTED = "posted", "Posted"
        FAILED = "failed", "Failed (will retry)"

    source = models.ForeignKey(PosSource, on_delete=models.PROTECT)
    pos_location_id = models.CharField(max_length=120)
    business_date = models.DateField()
    tender_type = models.CharField(max_length=16)
    sequence = models.PositiveSmallIntegerField(default=0, help_text="0 = the day's batch, 1+ = adjustments")
    amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    transaction_count = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    fulfil_reference = models.CharField(max_length=120, blank=True)
    fulfil_id = models.BigIntegerField(null=True, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-business_date", "pos_location_id", "tender_type", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "pos_location_id", "business_date", "tender_type", "sequence"],
                name="tender_batch_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pos_location_id} {self.business_date} {self.tender_type} #{self.sequence}"


class DayStatus(models.TextChoices):
    BALANCED = "balanced", "Balanced"
    EXPLAINED = "explained", "Explained (in flight)"
    UNEXPLAINED = "unexplained", "Unexplained"
    FAILED = "failed", "Could not read Fulfil"


class ReconciliationRun(models.Model):
    """One comparison of one store's business day, kept whole: runs are never edited.

    `figures` holds the report lines (POS, Fulfil, in flight, variance, status) with money as
    strings so a Decimal survives the JSON column unchanged.
    """

    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", "Nightly run"
        ON_DEMAND = "on_demand", "Regenerated on request"
        LATE_POST = "late_post", "Late transactions posted"
        BENCH = "bench", "Benchmark"

    id = models.BigAutoField(primary_key=True)
    source = models.ForeignKey(PosSource, on_delete=models.PROTECT, related_name="+")
    pos_location_id = models.CharField(max_length=120)
    business_date = models.DateField()
    generated_at = models.DateTimeField(db_index=True)
    trigger = models.CharField(max_length=12, choices=Trigger.choices, default=Trigger.NIGHTLY)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=12, choices=DayStatus.choices)
    fulfil_warehouse_id = models.BigIntegerField(null=True, blank=True)
    pos_count = models.PositiveIntegerField(default=0)
    fulfil_count = models.PositiveIntegerField(default=0)
    in_flight_count = models.PositiveIntegerField(default=0)
    pos_total = models.DecimalField(**MONEY, default=Decimal("0.00"))
    fulfil_total = models.DecimalField(**MONEY, default=Decimal("0.00"))
    in_flight_total = models.DecimalField(**MONEY, default=Decimal("0.00"))
    variance = models.DecimalField(**MONEY, default=Decimal("0.00"), help_text="POS total − Fulfil total")
    unexplained = models.DecimalField(**MONEY, default=Decimal("0.00"), help_text="Variance not in flight")
    figures = models.JSONField(default=list)
    tenders = models.JSONField(default=list)
    api_calls = models.PositiveIntegerField(default=0, help_text="Fulfil calls this run's share needed")
    duration_ms = models.PositiveIntegerField(default=0)
    after_close = models.BooleanField(default=False, help_text="Generated after the month was signed off")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-generated_at", "-id"]
        indexes = [models.Index(fields=["source", "pos_location_id", "business_date", "-generated_at"])]

    def __str__(self) -> str:
        return f"{self.pos_location_id} {self.business_date} @ {self.generated_at:%Y-%m-%d %H:%M}"


class ReconciliationDay(models.Model):
    """The matrix cell: one store's business day, pointing at its latest run (and the run signed off)."""

    source = models.ForeignKey(PosSource, on_delete=models.PROTECT, related_name="+")
    pos_location_id = models.CharField(max_length=120)
    pos_location_name = models.CharField(max_length=200, blank=True)
    business_date = models.DateField()
    status = models.CharField(max_length=12, choices=DayStatus.choices)
    variance = models.DecimalField(**MONEY, default=Decimal("0.00"))
    unexplained = models.DecimalField(**MONEY, default=Decimal("0.00"))
    current_run = models.ForeignKey(ReconciliationRun, on_delete=models.PROTECT, related_name="+")
    closed_run = models.ForeignKey(
        ReconciliationRun, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stale_since = models.DateTimeField(
        null=True, blank=True, help_text="Late transactions posted after the current run; regenerate."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-business_date", "pos_location_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "pos_location_id", "business_date"], name="reconciliation_day_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["business_date", "source"]),
            models.Index(
                fields=["stale_since"], condition=models.Q(stale_since__isnull=False), name="recon_day_stale"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pos_location_id} {self.business_date}: {self.status}"

    @property
    def is_closed(self) -> bool:
        return self.closed_run_id is not None


class VarianceItem(models.Model):
    """One transaction (or Fulfil sale) behind a variance, with why it differs."""

    class Kind(models.TextChoices):
        MISSING = "missing", "Missing in Fulfil"
        DUPLICATE = "duplicate", "In Fulfil twice"
        AMOUNT = "amount", "Amount differs in Fulfil"
        WRONG_WAREHOUSE = "wrong_warehouse", "Posted to another store's warehouse"
        FOREIGN = "foreign", "In Fulfil at this store, not from its tills"
        BLOCKED = "blocked", "Still blocked by an exception"
        IN_FLIGHT = "in_flight", "Not posted yet (queued or retrying)"
        EXCLUDED = "excluded", "Excluded from posting by decision"

    # Kinds that a known in-flight item accounts for; everything else needs a person.
    EXPLAINED_KINDS = (Kind.BLOCKED, Kind.IN_FLIGHT, Kind.EXCLUDED)

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    explained = models.BooleanField(default=False)
    transaction = models.ForeignKey(
        "integration.PosTransaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel_identifier = models.CharField(max_length=255, blank=True)
    fulfil_sale_ids = models.JSONField(default=list, blank=True)
    fulfil_warehouse_id = models.BigIntegerField(null=True, blank=True)
    pos_amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    fulfil_amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    difference = models.DecimalField(**MONEY, default=Decimal("0.00"), help_text="POS − Fulfil")
    exception_group = models.ForeignKey(
        "exceptions.ExceptionGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["run", "explained", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.channel_identifier}"


class MonthClose(models.Model):
    """Finance's sign-off of a month: from here on the month's reports are locked."""

    month = models.DateField(unique=True, help_text="First day of the month")
    signed_off_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_off_at = models.DateTimeField()
    note = models.TextField()
    summary = models.JSONField(default=dict)

    class Meta:
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%B %Y} closed by {self.signed_off_by}"
