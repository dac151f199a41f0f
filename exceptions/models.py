"""Why a transaction cannot post, grouped by root cause.

An ExceptionOccurrence ties one transaction to one problem; an ExceptionGroup is the root cause
(keyed by fingerprint, e.g. `unmapped_location:<source>:<location>`), so fixing it once releases
every transaction it holds.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from integration.models import MONEY, PosSource, PosTransaction


class ExceptionType(models.TextChoices):
    UNMAPPED_LOCATION = "unmapped_location", "Unmapped location"
    SKU_MISMATCH = "sku_mismatch", "SKU mismatch"
    UNLINKED_RETURN = "unlinked_return", "Unlinked return"
    TAX_DISCREPANCY = "tax_discrepancy", "Tax discrepancy"
    SYNC_TIMEOUT = "sync_timeout", "Sync timeout"
    FULFIL_REJECTED = "fulfil_rejected", "Rejected by Fulfil"
    MISSING_DATA = "missing_data", "Missing data"
    DUPLICATE = "duplicate", "Duplicate"
    STOCK_MISMATCH = "stock_mismatch", "Stock mismatch"
    QUARANTINED = "quarantined", "Unreadable POS event"


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    DELAY = "delay", "Delay"
    WARNING = "warning", "Warning"


class ExceptionGroup(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"
        IGNORED = "ignored", "Ignored"
        SNOOZED = "snoozed", "Snoozed"

    class Resolution(models.TextChoices):
        NONE = "", "—"
        AUTO = "auto", "Auto-resolved (its transactions posted)"
        FIXED = "fixed", "Fixed by a map change or link"
        ACCEPTED = "accepted", "Accepted by finance"
        MANUAL = "manual", "Resolved with a note"
        IGNORED = "ignored", "Ignored with a note"

    fingerprint = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=24, choices=ExceptionType.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolution = models.CharField(max_length=10, choices=Resolution.choices, default="", blank=True)
    title = models.CharField(max_length=300)
    source = models.ForeignKey(PosSource, null=True, blank=True, on_delete=models.SET_NULL)
    # The root cause's subject: a POS location id, a SKU, a Fulfil message hash…
    subject = models.CharField(max_length=255, blank=True)
    context = models.JSONField(default=dict, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    # Denormalised counters, refreshed by the service that opens or closes occurrences, so the
    # list page sorts and filters a million rows without aggregating them on every request.
    open_count = models.PositiveIntegerField(default=0)
    money_at_risk = models.DecimalField(**MONEY, default=Decimal("0.00"))
    stores = models.JSONField(default=list, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        indexes = [
            models.Index(fields=["status", "type"]),
            models.Index(fields=["status", "-money_at_risk"]),
            models.Index(fields=["status", "-open_count"]),
            models.Index(fields=["status", "first_seen"]),
        ]

    def __str__(self) -> str:
        return self.title


class ExceptionOccurrence(models.Model):
    id = models.BigAutoField(primary_key=True)
    group = models.ForeignKey(ExceptionGroup, on_delete=models.CASCADE, related_name="occurrences")
    transaction = models.ForeignKey(PosTransaction, on_delete=models.CASCADE, related_name="exceptions")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    is_open = models.BooleanField(default=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open problem per transaction per root cause.
            models.UniqueConstraint(
                fields=["group", "transaction"], condition=Q(is_open=True), name="occurrence_one_open"
            ),
        ]
        indexes = [
            models.Index(fields=["group", "is_open"]),
            models.Index(fields=["transaction", "is_open"]),
        ]

    def __str__(self) -> str:
        return f"{self.group.type} on {self.transaction_id}"


class BulkAction(models.Model):
    """A workbench action over everything a filter selected, run in the background with progress."""

    class Action(models.TextChoices):
        REQUEUE = "requeue", "Requeue"
        ASSIGN = "assign", "Assign"
        SNOOZE = "snooze", "Snooze"
        RESOLVE = "resolve", "Resolve with a note"
        IGNORE = "ignore", "Ignore with a note"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    params = models.JSONField(default=dict, blank=True)
    group_ids = models.JSONField(default=list, help_text="The groups the filter selected when confirmed.")
    filter_query = models.CharField(max_length=1000, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    outcome = models.JSONField(default=dict, blank=True, help_text="Per-record outcome summary.")
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} × {self.total}"

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.status == "done" else 0)
