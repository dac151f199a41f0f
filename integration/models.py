"""The canonical record of what the tills did, and of every attempt to tell Fulfil.

InboundEvent keeps what a POS sent, byte for byte, before we acknowledge it. PosTransaction is the
platform-neutral sale/return that the pipeline validates and posts; its `state` follows
docs/architecture.md. Money is Decimal throughout, quantised to the currency's minor unit by the
normalizers; nothing here is ever a float.
"""

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone

MONEY = {"max_digits": 14, "decimal_places": 2}
QUANTITY = {"max_digits": 14, "decimal_places": 4}
RATE = {"max_digits": 9, "decimal_places": 6}  # a fraction: 0.200000 is 20 %


class Platform(models.TextChoices):
    SHOPIFY = "shopify", "Shopify POS"
    SQUARE = "square", "Square"
    LIGHTSPEED = "lightspeed", "Lightspeed X-Series"
    CSV = "csv", "CSV / JSON import"


class PosSource(models.Model):
    """One POS account (a Shopify shop, a Square merchant, an X-Series retailer, a CSV feed)."""

    code = models.SlugField(max_length=40, unique=True, help_text="Short, stable id used in URLs and ids.")
    name = models.CharField(max_length=120)
    platform = models.CharField(max_length=20, choices=Platform.choices)
    timezone = models.CharField(max_length=64, default="Europe/London", help_text="IANA zone of the stores.")
    currency = models.CharField(max_length=3, default="GBP")
    region = models.CharField(max_length=60, blank=True)
    active = models.BooleanField(default=True)
    # Platform account reference: shop domain, Square merchant id, X-Series domain prefix.
    account_ref = models.CharField(max_length=200, blank=True)
    api_base_url = models.URLField(blank=True, help_text="Where the poller reads the POS API.")
    # Secrets: never rendered, exported or logged. __repr__/__str__ and forms leave them out.
    api_credentials = models.TextField(blank=True, help_text="API token for polling (secret).")
    webhook_secret = models.TextField(blank=True, help_text="Signing key for webhooks (secret).")
    # Square signs the notification URL exactly as registered; behind a proxy it differs from ours.
    webhook_url = models.URLField(blank=True, max_length=500)
    poll_cursor = models.JSONField(default=dict, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    SECRET_FIELDS = ("api_credentials", "webhook_secret")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<PosSource {self.code} ({self.platform})>"


class InboundEvent(models.Model):
    """A webhook delivery or a polled record, exactly as received."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (not a completed sale or return)"
        QUARANTINED = "quarantined", "Quarantined"

    class Channel(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        POLL = "poll", "Catch-up poll"
        IMPORT = "import", "File import"
        REPLAY = "replay", "Replay"

    id = models.BigAutoField(primary_key=True)
    source = models.ForeignKey(PosSource, on_delete=models.PROTECT, related_name="events")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEBHOOK)
    topic = models.CharField(max_length=80, blank=True)
    # Platform event id, or entity id + version where the platform gives no event id.
    dedupe_key = models.CharField(max_length=255)
    entity_ref = models.CharField(max_length=255, blank=True, help_text="The POS order/sale/refund id.")
    entity_version = models.CharField(max_length=64, blank=True)
    body = models.BinaryField()
    headers = models.JSONField(default=dict)
    content_type = models.CharField(max_length=120, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivery_count = models.PositiveIntegerField(default=1)
    last_delivery_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    process_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "dedupe_key"], name="inbound_event_unique_delivery"),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"]),
            models.Index(fields=["source", "entity_ref"]),
        ]

    def __str__(self) -> str:
        return f"{self.source.code} {self.topic or self.channel} {self.dedupe_key}"


class SecurityEvent(models.Model):
    """A refused webhook: who tried, when, why. Never the body."""

    class Kind(models.TextChoices):
        BAD_SIGNATURE = "bad_signature", "Signature did not match"
        MISSING_SIGNATURE = "missing_signature", "No signature"
        OVERSIZED = "oversized", "Body over the size limit"
        STALE = "stale", "Replay of an old delivery"
        UNKNOWN_SOURCE = "unknown_source", "Unknown or inactive source"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    source = models.ForeignKey(PosSource, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=255, blank=True)
    detail = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} from {self.remote_addr}"


class TransactionState(models.TextChoices):
    RECEIVED = "received", "Received"
    NORMALIZED = "normalized", "Normalized"
    READY = "ready", "Ready to post"
    POSTING = "posting", "Posting"
    POSTED = "posted", "Posted to Fulfil"
    SETTLED = "settled", "Settled (in a tender batch)"
    BLOCKED = "blocked", "Blocked by an exception"
    RETRY_WAIT = "retry_wait", "Waiting to retry"
    OUTCOME_UNKNOWN = "outcome_unknown", "Outcome unknown"
    REJECTED = "rejected", "Rejected by Fulfil"
    EXCLUDED = "excluded", "Excluded (not posted by decision)"
    VOIDED = "voided", "Voided at the POS"


# States in which the transaction is somewhere between the till and Fulfil.
IN_FLIGHT_STATES = (
    TransactionState.RECEIVED,
    TransactionState.NORMALIZED,
    TransactionState.READY,
    TransactionState.POSTING,
    TransactionState.BLOCKED,
    TransactionState.RETRY_WAIT,
    TransactionState.OUTCOME_UNKNOWN,
    TransactionState.REJECTED,
)
DONE_STATES = (TransactionState.POSTED, TransactionState.SETTLED)


class PosTransaction(models.Model):
    """A sale, return or exchange as the till recorded it, in one platform-neutral shape."""

    class Kind(models.TextChoices):
        SALE = "sale", "Sale"
        RETURN = "return", "Return"
        EXCHANGE = "exchange", "Exchange"

    id = models.BigAutoField(primary_key=True)
    source = models.ForeignKey(PosSource, on_delete=models.PROTECT, related_name="transactions")
    pos_id = models.CharField(max_length=120, help_text="The POS's own id for this sale or refund.")
    pos_number = models.CharField(max_length=120, blank=True, help_text="Receipt / order number shown.")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SALE)
    state = models.CharField(
        max_length=16, choices=TransactionState.choices, default=TransactionState.RECEIVED
    )
    pos_location_id = models.CharField(max_length=120)
    pos_location_name = models.CharField(max_length=200, blank=True)
    register_id = models.CharField(max_length=120, blank=True)
    register_name = models.CharField(max_length=200, blank=True)
    staff_ref = models.CharField(max_length=120, blank=True)
    customer_ref = models.CharField(max_length=120, blank=True)
    occurred_at = models.DateTimeField()
    business_date = models.DateField(help_text="The store's local date of the sale.")
    currency = models.CharField(max_length=3)
    taxes_included = models.BooleanField(default=False)
    # Totals as the POS reported them (signed: returns are negative).
    subtotal = models.DecimalField(
        **MONEY, default=Decimal("0.00"), help_text="Lines after discounts, excl. tax"
    )
    discount_total = models.DecimalField(**MONEY, default=Decimal("0.00"))
    tax_total = models.DecimalField(**MONEY, default=Decimal("0.00"))
    total = models.DecimalField(
        **MONEY, default=Decimal("0.00"), help_text="What the customer paid (incl. tax)"
    )
    rounding_adjustment = models.DecimalField(**MONEY, default=Decimal("0.00"))
    # Returns: the original sale, once known. original_pos_id is what the POS told us.
    original = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="returns"
    )
    original_pos_id = models.CharField(max_length=120, blank=True)
    blind_return_approved = models.BooleanField(default=False)
    content_hash = models.CharField(max_length=64, help_text="Hash of the canonical content, to spot edits.")
    # The platform's own version (Square/X-Series counter, Shopify updated_at): newest wins.
    pos_version = models.CharField(max_length=64, blank=True)
    inbound_event = models.ForeignKey(
        InboundEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="transactions"
    )
    # Posting.
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    first_failed_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    fulfil_sale_id = models.BigIntegerField(null=True, blank=True)
    fulfil_sale_number = models.CharField(max_length=64, blank=True)
    fulfil_warehouse_id = models.BigIntegerField(null=True, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    posted_with = models.JSONField(default=dict, blank=True, help_text="Map versions used when posting.")
    settlement_batch = models.ForeignKey(
        "reconciliation.TenderBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "pos_id"], name="pos_transaction_unique_per_source"),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["source", "business_date"]),
            models.Index(fields=["source", "pos_location_id", "business_date"]),
            models.Index(fields=["business_date", "state"]),
            models.Index(fields=["-occurred_at", "-id"]),
            # A receipt number keyed into Fulfil by hand is matched back to its sale (reconciliation).
            models.Index(fields=["source", "pos_number"], name="txn_receipt_number"),
            models.Index(
                fields=["source", "original_pos_id"],
                condition=~Q(original_pos_id=""),
                name="txn_original_ref",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pos_number or self.pos_id}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("integration:transaction_detail", args=[self.pk])

    @property
    def channel_identifier(self) -> str:
        """The idempotency key Fulfil holds for this transaction."""
        return f"{self.source.code}:{self.pos_id}"


class PosTransactionLine(models.Model):
    transaction = models.ForeignKey(PosTransaction, on_delete=models.CASCADE, related_name="lines")
    line_id = models.CharField(max_length=120, help_text="The POS's own line id.")
    sequence = models.PositiveIntegerField(default=0)
    sku = models.CharField(max_length=120, blank=True)
    variant_ref = models.CharField(
        max_length=120, blank=True, help_text="POS variant / catalog / product id."
    )
    barcode = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=255, blank=True)
    quantity = models.DecimalField(**QUANTITY, help_text="Signed: negative for returned units.")
    unit_price = models.DecimalField(**MONEY, help_text="Before discount, excl. tax unless taxes_included.")
    discount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    net_amount = models.DecimalField(**MONEY, help_text="quantity × unit_price − discount (signed).")
    tax_amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    is_gift_card = models.BooleanField(default=False)
    is_custom = models.BooleanField(default=False, help_text="A custom-sale line with no product.")
    original_line_id = models.CharField(max_length=120, blank=True)
    fulfil_product_id = models.BigIntegerField(null=True, blank=True)
    fulfil_line_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["transaction", "sequence", "id"]
        constraints = [
            models.UniqueConstraint(fields=["transaction", "line_id"], name="txn_line_unique"),
        ]
        indexes = [models.Index(fields=["sku"])]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku or self.description}"


class LineTax(models.Model):
    """One jurisdiction's tax on one line, exactly as the POS computed it."""

    line = models.ForeignKey(PosTransactionLine, on_delete=models.CASCADE, related_name="taxes")
    title = models.CharField(max_length=120)
    rate = models.DecimalField(**RATE)
    amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["line", "title"]

    def __str__(self) -> str:
        return f"{self.title} {self.rate}: {self.amount}"


class Tender(models.Model):
    class Type(models.TextChoices):
        CARD = "card", "Card"
        CASH = "cash", "Cash"
        GIFT_CARD = "gift_card", "Gift card"
        STORE_CREDIT = "store_credit", "Store credit"
        OTHER = "other", "Other"

    transaction = models.ForeignKey(PosTransaction, on_delete=models.CASCADE, related_name="tenders")
    tender_type = models.CharField(max_length=16, choices=Type.choices)
    gateway = models.CharField(max_length=80, blank=True, help_text="POS gateway / payment type name.")
    amount = models.DecimalField(**MONEY, help_text="Signed: refunds are negative.")
    reference = models.CharField(max_length=120, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)

    class Meta:
        ordering = ["transaction", "id"]

    def __str__(self) -> str:
        return f"{self.get_tender_type_display()} {self.amount}"


class PostingAttempt(models.Model):
    """One call to Fulfil on behalf of one transaction: what was sent, what came back, how long."""

    class Outcome(models.TextChoices):
        OK = "ok", "Succeeded"
        REJECTED = "rejected", "Rejected (permanent)"
        TRANSIENT = "transient", "Failed (will retry)"
        UNKNOWN = "unknown", "Outcome unknown"

    id = models.BigAutoField(primary_key=True)
    transaction = models.ForeignKey(PosTransaction, on_delete=models.CASCADE, related_name="attempts_log")
    batch_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    lane = models.CharField(max_length=16, default="inventory")
    operation = models.CharField(max_length=40, help_text="create, quote, confirm, process, lookup…")
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    request_summary = models.JSONField(default=dict, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["transaction", "-started_at"]), models.Index(fields=["-started_at"])]

    def __str__(self) -> str:
        return f"{self.operation} {self.outcome}"
