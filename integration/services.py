"""Writes for ingestion: store what a POS sent, turn it into canonical transactions, replay.

Flow (docs/architecture.md, "Ingestion"): the webhook view calls `inbound_event_store` (one insert,
or a conditional counter update for a duplicate delivery) and acknowledges; `inbound_event_process`
runs in the background, normalizes, and `transaction_ingest` writes the PosTransaction in state
`normalized`. Anything signed that we cannot read is quarantined, never dropped.
"""

from __future__ import annotations

import dataclasses
import logging
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.services import audit_record
from exceptions.models import ExceptionType
from exceptions.services import exception_raise
from integration.models import (
    InboundEvent,
    LineTax,
    PosSource,
    PosTransaction,
    PosTransactionLine,
    Tender,
    TransactionState,
)
from integration.pos.canonical import (
    CanonicalTransaction,
    Ignored,
    NormalizationError,
    compare_versions,
    scrub,
)

logger = logging.getLogger(__name__)

LOCKED_STATES = (TransactionState.POSTING, TransactionState.POSTED, TransactionState.SETTLED)


# --- storing -----------------------------------------------------------------------------------
def inbound_event_store(
    *,
    source: PosSource,
    dedupe_key: str,
    body: bytes,
    headers: dict,
    topic: str = "",
    entity_ref: str = "",
    entity_version: str = "",
    content_type: str = "",
    remote_addr: str | None = None,
    channel: str = InboundEvent.Channel.WEBHOOK,
    quarantine_reason: str = "",
) -> tuple[InboundEvent | None, bool]:
    """Insert the event, or count a repeat delivery of one we already hold. Returns (event, created).

    The insert runs in a savepoint so a duplicate's IntegrityError does not spoil the caller's
    transaction; the repeat is then a single conditional UPDATE (no read-modify-write race).
    """
    now = timezone.now()
    # PostgreSQL text and jsonb refuse NUL characters; the raw bytes keep them (bytea).
    topic, dedupe_key, entity_ref, entity_version, content_type, quarantine_reason = (
        _no_nul(v) for v in (topic, dedupe_key, entity_ref, entity_version, content_type, quarantine_reason)
    )
    headers = {_no_nul(str(k)): _no_nul(str(v)) for k, v in headers.items()}
    try:
        with transaction.atomic():
            event = InboundEvent.objects.create(
                source=source,
                channel=channel,
                topic=topic[:80],
                dedupe_key=dedupe_key[:255],
                entity_ref=entity_ref[:255],
                entity_version=entity_version[:64],
                body=body,
                headers=headers,
                content_type=content_type[:120],
                remote_addr=remote_addr,
                received_at=now,
                last_delivery_at=now,
                status=InboundEvent.Status.QUARANTINED if quarantine_reason else InboundEvent.Status.RECEIVED,
                error=quarantine_reason,
            )
    except IntegrityError:
        InboundEvent.objects.filter(source=source, dedupe_key=dedupe_key[:255]).update(
            delivery_count=F("delivery_count") + 1, last_delivery_at=now
        )
        return None, False
    if not quarantine_reason:
        inbound_event_enqueue(event_id=event.pk)
    return event, True


def inbound_event_enqueue(*, event_id: int) -> None:
    """Hand the event to a worker once the insert has committed (the sweeper catches any loss)."""

    def _enqueue():
        if settings.POS_PROCESS_INLINE:
            inbound_event_process(event_id=event_id)
            return
        from django_q.tasks import async_task

        try:
            async_task("integration.tasks.process_inbound_event", event_id)
        except Exception:  # broker down: the event is stored; the sweeper will pick it up
            logger.exception("could not enqueue inbound event %s", event_id)

    transaction.on_commit(_enqueue)


# --- processing --------------------------------------------------------------------------------
def _api_client(source: PosSource):
    if not source.api_base_url:
        return None
    from integration.pos.client import PosApiClient

    return PosApiClient(source)


def _no_nul(value: str) -> str:
    return value.replace("\x00", "") if value else value


def _quarantine(event_id: int, reason: str) -> None:
    InboundEvent.objects.filter(pk=event_id).update(
        status=InboundEvent.Status.QUARANTINED, error=_no_nul(reason)[:2000], processed_at=timezone.now()
    )


def inbound_event_process(*, event_id: int) -> str:
    """Normalize and ingest one stored event. Safe to call twice: only a `received` event is worked."""
    from integration.pos.adapters import normalize_event
    from integration.pos.client import PosApiError

    event = InboundEvent.objects.select_related("source").filter(pk=event_id).first()
    if event is None or event.status != InboundEvent.Status.RECEIVED:
        return event.status if event else "missing"
    client = _api_client(event.source)
    try:
        canonicals = [scrub(c) for c in normalize_event(event, client=client)]
    except Ignored as exc:
        InboundEvent.objects.filter(pk=event_id, status=InboundEvent.Status.RECEIVED).update(
            status=InboundEvent.Status.IGNORED, error=_no_nul(str(exc))[:2000], processed_at=timezone.now()
        )
        return InboundEvent.Status.IGNORED
    except NormalizationError as exc:
        _quarantine(event_id, str(exc))
        return InboundEvent.Status.QUARANTINED
    except PosApiError as exc:
        # The POS API is down or slow: keep the event `received` for the sweeper, up to a limit.
        attempts = event.process_attempts + 1
        if attempts >= settings.POS_MAX_PROCESS_ATTEMPTS:
            _quarantine(event_id, f"POS API unavailable after {attempts} attempts: {exc}")
            return InboundEvent.Status.QUARANTINED
        InboundEvent.objects.filter(pk=event_id).update(
            process_attempts=attempts, error=_no_nul(str(exc))[:2000]
        )
        return InboundEvent.Status.RECEIVED
    except Exception as exc:  # a payload shape we never anticipated: keep it, show it, allow replay
        logger.exception("normalizing inbound event %s failed", event_id)
        _quarantine(event_id, f"Could not read this event ({exc.__class__.__name__}: {exc})")
        return InboundEvent.Status.QUARANTINED
    finally:
        if client is not None:
            client.close()
    for attempt in range(3):
        try:
            return _apply(event_id, event.source, canonicals)
        except IntegrityError:
            # Another worker created the same POS transaction in parallel (Square sends one event
            # per payment of a split-tender sale). Run again: this time we update/skip its row.
            if attempt == 2:
                logger.exception("ingesting inbound event %s kept colliding", event_id)
                _quarantine(event_id, "Could not store the transaction: concurrent writers kept colliding")
                return InboundEvent.Status.QUARANTINED
        except Exception as exc:
            logger.exception("ingesting inbound event %s failed", event_id)
            _quarantine(event_id, f"Could not store the transaction ({exc.__class__.__name__}: {exc})")
            return InboundEvent.Status.QUARANTINED
    return InboundEvent.Status.RECEIVED  # not reached


def _apply(event_id: int, source: PosSource, canonicals: list[CanonicalTransaction]) -> str:
    with transaction.atomic():
        locked = InboundEvent.objects.select_for_update().get(pk=event_id)
        if locked.status != InboundEvent.Status.RECEIVED:
            return locked.status
        outcomes = [transaction_ingest(source=source, canonical=c, event=locked) for c in canonicals]
        locked.status = InboundEvent.Status.PROCESSED
        if all(o == "ignored" for _, o in outcomes):
            locked.status = InboundEvent.Status.IGNORED
        locked.error = ", ".join(o for _, o in outcomes)[:2000]
        locked.processed_at = timezone.now()
        locked.process_attempts = F("process_attempts") + 1
        locked.save(update_fields=["status", "error", "processed_at", "process_attempts"])
        return locked.status


def inbound_events_sweep(*, min_age_seconds: int = 60, limit: int = 500) -> int:
    """Process events still `received` (a lost enqueue, a POS API outage). Returns how many ran."""
    cutoff = timezone.now() - timezone.timedelta(seconds=min_age_seconds)
    ids = list(
        InboundEvent.objects.filter(status=InboundEvent.Status.RECEIVED, received_at__lte=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    for event_id in ids:
        inbound_event_process(event_id=event_id)
    return len(ids)


def inbound_event_replay(*, event: InboundEvent, actor) -> InboundEvent:
    """Run a quarantined or ignored event again from its stored bytes (after the cause is fixed)."""
    before = {"status": event.status, "error": event.error}
    InboundEvent.objects.filter(pk=event.pk).update(
        status=InboundEvent.Status.RECEIVED, error="", process_attempts=0, processed_at=None
    )
    audit_record(
        actor=actor, action="inbound_event.replayed", obj=event, before=before, after={"status": "received"}
    )
    inbound_event_enqueue(event_id=event.pk)
    event.refresh_from_db()
    return event


# --- canonical → PosTransaction -------------------------------------------------------------------
def _business_date(canonical: CanonicalTransaction, source: PosSource):
    for name in (canonical.location_timezone, source.timezone, settings.TIME_ZONE):
        if not name:
            continue
        try:
            return canonical.occurred_at.astimezone(ZoneInfo(name)).date()
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return canonical.occurred_at.date()


def _fields(canonical: CanonicalTransaction, source: PosSource) -> dict:
    return {
        "pos_number": canonical.pos_number[:120],
        "kind": canonical.kind,
        "pos_location_id": canonical.pos_location_id[:120],
        "pos_location_name": canonical.pos_location_name[:200],
        "register_id": canonical.register_id[:120],
        "register_name": canonical.register_name[:200],
        "staff_ref": canonical.staff_ref[:120],
        "customer_ref": canonical.customer_ref[:120],
        "occurred_at": canonical.occurred_at,
        "business_date": _business_date(canonical, source),
        "currency": (canonical.currency or source.currency)[:3],
        "taxes_included": canonical.taxes_included,
        "subtotal": subtotal_excl_tax(canonical),
        "discount_total": canonical.discount_total,
        "tax_total": canonical.tax_total,
        "total": canonical.total,
        "rounding_adjustment": canonical.rounding_adjustment,
        "original_pos_id": canonical.original_pos_id[:120],
        "content_hash": canonical.content_hash(),
        "pos_version": canonical.version[:64],
    }


def _write_children(txn: PosTransaction, canonical: CanonicalTransaction) -> None:
    txn.lines.all().delete()
    txn.tenders.all().delete()
    seen: set[str] = set()
    lines = []
    for cl in canonical.lines:
        line_id = cl.line_id[:120]
        while line_id in seen:  # a POS that repeats line ids must not break the unique constraint
            line_id = f"{line_id}~"
        seen.add(line_id)
        lines.append(
            PosTransactionLine(
                transaction=txn,
                line_id=line_id,
                sequence=cl.sequence,
                sku=cl.sku[:120],
                variant_ref=cl.variant_ref[:120],
                barcode=cl.barcode[:64],
                description=cl.description[:255],
                quantity=cl.quantity,
                unit_price=cl.unit_price,
                discount=cl.discount,
                net_amount=cl.net_amount,
                tax_amount=cl.tax_amount,
                is_gift_card=cl.is_gift_card,
                is_custom=cl.is_custom,
                original_line_id=cl.original_line_id[:120],
            )
        )
    created = PosTransactionLine.objects.bulk_create(lines)
    LineTax.objects.bulk_create(
        LineTax(line=line, title=t.title[:120], rate=t.rate, amount=t.amount)
        for line, cl in zip(created, canonical.lines, strict=True)
        for t in cl.taxes
    )
    Tender.objects.bulk_create(
        Tender(
            transaction=txn,
            tender_type=t.tender_type,
            gateway=t.gateway[:80],
            amount=t.amount,
            reference=t.reference[:120],
            card_last4=t.card_last4[:4],
        )
        for t in canonical.tenders
    )


def _match_original_lines(ret: PosTransaction, original: PosTransaction) -> None:
    """X-Series returns carry no line pointer: match by product and unit price, first come first."""
    pool = list(original.lines.filter(quantity__gt=0).values_list("line_id", "variant_ref", "unit_price"))
    for line in ret.lines.filter(quantity__lt=0, original_line_id=""):
        for i, (line_id, variant, price) in enumerate(pool):
            if variant == line.variant_ref and price == line.unit_price:
                line.original_line_id = line_id
                line.save(update_fields=["original_line_id"])
                pool.pop(i)
                break


def returns_link_waiting(*, sale: PosTransaction) -> int:
    """An original sale has arrived: attach the returns that were waiting for it."""
    waiting = list(
        PosTransaction.objects.filter(
            source=sale.source_id, original_pos_id=sale.pos_id, original__isnull=True
        )
    )
    for ret in waiting:
        ret.original = sale
        if not ret.pos_location_id:
            ret.pos_location_id = sale.pos_location_id
        ret.save(update_fields=["original", "pos_location_id", "updated_at"])
        _match_original_lines(ret, sale)
    return len(waiting)


def subtotal_excl_tax(canonical: CanonicalTransaction) -> Decimal:
    """PosTransaction.subtotal is always before tax. Platforms report it with tax included when the
    shop's prices include tax (Shopify `taxes_included`, Square INCLUSIVE taxes, CSV); take it out."""
    return canonical.subtotal - canonical.tax_total if canonical.taxes_included else canonical.subtotal


def _diff(txn: PosTransaction, canonical: CanonicalTransaction) -> dict:
    diff = {}
    stored = {"subtotal": subtotal_excl_tax(canonical)}
    for field in ("subtotal", "discount_total", "tax_total", "total", "pos_location_id"):
        old, new = getattr(txn, field), stored.get(field, getattr(canonical, field))
        if str(old) != str(new):
            diff[field] = [str(old), str(new)]
    if txn.lines.count() != len(canonical.lines):
        diff["lines"] = [txn.lines.count(), len(canonical.lines)]
    diff["version"] = [txn.pos_version, canonical.version]
    return diff


def _appended_lines(txn: PosTransaction, canonical: CanonicalTransaction) -> CanonicalTransaction | None:
    """A posted sale that grew new lines and nothing else (a Shopify POS exchange appends the new
    items to the original order, reference §1.3) becomes its own transaction for the new lines,
    `<pos id>:add:<first new line id>`, linked to the sale. Any other change returns None."""
    held = {
        line.line_id: (line.quantity, line.unit_price, line.net_amount, line.tax_amount)
        for line in txn.lines.all()
    }
    new_lines = []
    for line in canonical.lines:
        if line.line_id in held:
            if held.pop(line.line_id) != (line.quantity, line.unit_price, line.net_amount, line.tax_amount):
                return None
        else:
            new_lines.append(line)
    if held or not new_lines:
        return None
    old_refs = set(txn.tenders.values_list("reference", flat=True))
    tenders = [t for t in canonical.tenders if t.reference not in old_refs]
    subtotal = sum((x.net_amount for x in new_lines), Decimal("0.00"))
    tax_total = sum((x.tax_amount for x in new_lines), Decimal("0.00"))
    return dataclasses.replace(
        canonical,
        pos_id=f"{txn.pos_id}:add:{new_lines[0].line_id}"[:120],
        pos_number=f"{txn.pos_number or txn.pos_id} (added items)",
        kind="exchange",
        lines=new_lines,
        tenders=tenders,
        subtotal=subtotal,
        discount_total=sum((x.discount for x in new_lines), Decimal("0.00")),
        tax_total=tax_total,
        total=subtotal if canonical.taxes_included else subtotal + tax_total,
        rounding_adjustment=Decimal("0.00"),
        original_pos_id=txn.pos_id,
    )


def _void(source: PosSource, canonical: CanonicalTransaction, event) -> tuple[PosTransaction | None, str]:
    txn = PosTransaction.objects.select_for_update().filter(source=source, pos_id=canonical.pos_id).first()
    if txn is None:
        return None, "ignored"  # voided before we ever saw it completed: nothing to undo
    if txn.state not in LOCKED_STATES:
        txn.state = TransactionState.VOIDED
        txn.save(update_fields=["state", "updated_at"])
        return txn, "voided"
    reversal_id = f"{txn.pos_id}:void"
    if PosTransaction.objects.filter(source=source, pos_id=reversal_id).exists():
        return txn, "unchanged"
    neg = dataclasses.replace(
        canonical,
        pos_id=reversal_id,
        pos_number=f"Void {txn.pos_number or txn.pos_id}",
        kind="return",
        original_pos_id=txn.pos_id,
        action="upsert",
        lines=[
            dataclasses.replace(
                line,
                line_id=f"{line.line_id}:void",
                quantity=-line.quantity,
                discount=-line.discount,
                net_amount=-line.net_amount,
                tax_amount=-line.tax_amount,
                taxes=[dataclasses.replace(t, amount=-t.amount) for t in line.taxes],
                original_line_id=line.line_id,
            )
            for line in canonical.lines
        ],
        tenders=[dataclasses.replace(t, amount=-t.amount) for t in canonical.tenders],
        subtotal=-canonical.subtotal,
        discount_total=-canonical.discount_total,
        tax_total=-canonical.tax_total,
        total=-canonical.total,
        rounding_adjustment=-canonical.rounding_adjustment,
    )
    reversal, _ = transaction_ingest(source=source, canonical=neg, event=event)
    return reversal, "reversed"


@transaction.atomic
def transaction_ingest(
    *, source: PosSource, canonical: CanonicalTransaction, event: InboundEvent | None = None
) -> tuple[PosTransaction | None, str]:
    """Create or update the PosTransaction for `canonical`. Returns (txn, outcome).

    Outcomes: created, unchanged (same content), stale (an older version than we hold), updated
    (newer content, not yet posted: back to `normalized`), duplicate (different content after
    posting: kept as posted, DUPLICATE exception raised), voided / reversed / ignored (X-Series voids).
    """
    if canonical.action == "void":
        return _void(source, canonical, event)
    fields = _fields(canonical, source)
    txn = PosTransaction.objects.select_for_update().filter(source=source, pos_id=canonical.pos_id).first()
    original = None
    if canonical.original_pos_id:
        original = PosTransaction.objects.filter(source=source, pos_id=canonical.original_pos_id).first()
        if original and not fields["pos_location_id"]:
            fields["pos_location_id"] = original.pos_location_id
            fields["pos_location_name"] = fields["pos_location_name"] or original.pos_location_name
    if txn is None:
        txn = PosTransaction.objects.create(
            source=source,
            pos_id=canonical.pos_id[:120],
            state=TransactionState.NORMALIZED,
            original=original,
            inbound_event=event,
            **fields,
        )
        _write_children(txn, canonical)
        if original is not None:
            _match_original_lines(txn, original)
        if txn.kind != PosTransaction.Kind.RETURN:
            returns_link_waiting(sale=txn)
        return txn, "created"
    if txn.content_hash == fields["content_hash"]:
        return txn, "unchanged"
    if compare_versions(canonical.version, txn.pos_version) < 0:
        return txn, "stale"  # a retry carrying an older state than we already hold
    if txn.state in LOCKED_STATES:
        addition = _appended_lines(txn, canonical)
        if addition is not None:
            return transaction_ingest(source=source, canonical=addition, event=event)[0], "appended"
        exception_raise(
            transaction_obj=txn,
            exc_type=ExceptionType.DUPLICATE,
            subject=txn.pos_id,
            title=f"{txn} changed at the POS after it was posted to Fulfil",
            detail={"diff": _diff(txn, canonical), "event_id": event.pk if event else None},
        )
        return txn, "duplicate"
    for name, value in fields.items():
        setattr(txn, name, value)
    txn.state = TransactionState.NORMALIZED
    txn.original = original or txn.original
    txn.inbound_event = event or txn.inbound_event
    txn.save()
    _write_children(txn, canonical)
    if original is not None:
        _match_original_lines(txn, original)
    return txn, "updated"


def money_sum(values) -> Decimal:
    return sum(values, Decimal("0.00"))


def import_commit(*, source: PosSource, transactions: list[CanonicalTransaction], actor=None) -> dict:
    """Store each imported transaction as an `import` InboundEvent and process it like a webhook.

    The body is the canonical JSON, so the transaction page shows what was imported and a replay
    works the same way. Re-importing the same file stores nothing new (dedupe on content hash).
    """
    created = repeats = 0
    for canonical in transactions:
        body = canonical.canonical_json().encode()
        _event, is_new = inbound_event_store(
            source=source,
            channel=InboundEvent.Channel.IMPORT,
            dedupe_key=f"import:{canonical.pos_id}:{canonical.content_hash()}",
            topic="import",
            entity_ref=canonical.pos_id,
            body=body,
            headers={},
            content_type="application/json",
        )
        created += is_new
        repeats += not is_new
    audit_record(
        actor=actor, action="pos_import.committed", obj=source, after={"new": created, "repeats": repeats}
    )
    return {"new": created, "repeats": repeats}
