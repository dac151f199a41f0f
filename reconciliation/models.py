from decimal import Decimal

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
