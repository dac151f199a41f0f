"""The financial lane: each store's takings per business day and tender type, as one Fulfil payment.

Once a store's business day has closed (SYNC_TENDER_CLOSE_HOUR_LOCAL the next morning, in the
source's timezone), the tenders of its posted transactions are summed per tender type into a
TenderBatch, and each batch becomes one `payment_gateway.transaction` in Fulfil, so the bank deposit
matches one figure. The Fulfil `provider_reference` is
`tillbridge:<source>:<store>:<date>:<tender>:<sequence>`; it is searched before anything is created,
so re-running after a crash never pays twice. A transaction that turns up after its day was batched
goes into an adjustment batch with the next sequence: a posted batch is never edited.
"""

import datetime as dt
import zoneinfo
from collections import Counter, defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone

from integration.fulfil.errors import FulfilError
from integration.models import PosSource, PosTransaction, Tender, TransactionState
from mappings.selectors import tender_map_for
from reconciliation.models import TenderBatch

S = TransactionState


def provider_reference(batch: TenderBatch) -> str:
    return (
        f"tillbridge:{batch.source.code}:{batch.pos_location_id}:{batch.business_date.isoformat()}:"
        f"{batch.tender_type}:{batch.sequence}"
    )


def closed_before(*, source: PosSource, now: dt.datetime) -> dt.date:
    """Business dates before this one have closed for `source`'s stores."""
    local = now.astimezone(zoneinfo.ZoneInfo(source.timezone))
    today = local.date()
    return today if local.hour >= settings.SYNC_TENDER_CLOSE_HOUR_LOCAL else today - dt.timedelta(days=1)


@transaction.atomic
def tender_batches_build(*, now: dt.datetime | None = None) -> int:
    """Sum the tenders of posted, unsettled transactions of closed days into batches; mark them settled.

    Returns how many batches were made. Batches are frozen at birth: later arrivals make new ones.
    """
    now = now or timezone.now()
    made = 0
    for source in PosSource.objects.all():
        txns = PosTransaction.objects.select_for_update(skip_locked=True).filter(
            source=source, state=S.POSTED, business_date__lt=closed_before(source=source, now=now)
        )
        ids = list(txns.values_list("id", flat=True))
        if not ids:
            continue
        sums = (
            Tender.objects.filter(transaction_id__in=ids)
            .values("transaction__pos_location_id", "transaction__business_date", "tender_type")
            .annotate(amount=Sum("amount"))
        )
        members: dict[tuple, set[int]] = defaultdict(set)
        for txn_id, location, day, tender in Tender.objects.filter(transaction_id__in=ids).values_list(
            "transaction_id", "transaction__pos_location_id", "transaction__business_date", "tender_type"
        ):
            members[(location, day, tender)].add(txn_id)
        first_batch: dict[int, TenderBatch] = {}
        for row in sums:
            key = (row["transaction__pos_location_id"], row["transaction__business_date"], row["tender_type"])
            batch = _new_batch(source, *key, amount=row["amount"], count=len(members[key]))
            made += 1
            for txn_id in members[key]:
                first_batch.setdefault(txn_id, batch)
        # A transaction paid in two tenders sits in two batches; it points at the first.
        for txn_id, batch in first_batch.items():
            PosTransaction.objects.filter(pk=txn_id).update(
                state=S.SETTLED, settlement_batch=batch, updated_at=now
            )
        PosTransaction.objects.filter(id__in=ids).exclude(id__in=list(first_batch)).update(
            state=S.SETTLED, updated_at=now
        )  # no tenders at all (fully discounted): nothing to pay in, but the day is done
    return made


def _new_batch(source, location, day, tender, *, amount: Decimal, count: int) -> TenderBatch:
    last = TenderBatch.objects.filter(
        source=source, pos_location_id=location, business_date=day, tender_type=tender
    ).aggregate(seq=Max("sequence"))["seq"]
    return TenderBatch.objects.create(
        source=source,
        pos_location_id=location,
        business_date=day,
        tender_type=tender,
        sequence=0 if last is None else last + 1,
        amount=amount,
        transaction_count=count,
    )


def tender_batch_post(*, batch: TenderBatch, client) -> bool:
    """Post one batch as a payment transaction, unless Fulfil already holds it. True when posted."""
    reference = provider_reference(batch)
    mapped = tender_map_for(source=batch.source, pos_tender=batch.tender_type, day=batch.business_date)
    if mapped is None:
        _fail(batch, f"No Fulfil payment gateway is mapped for tender '{batch.tender_type}'.")
        return False
    try:
        found = client.search("payment_gateway.transaction", [["provider_reference", "=", reference]])
        if found:
            fulfil_id = found[0]
        else:
            TenderBatch.objects.filter(pk=batch.pk).update(state=TenderBatch.State.POSTING)
            fulfil_id = client.create(
                "payment_gateway.transaction",
                [
                    {
                        "gateway": mapped.gateway.fulfil_id,
                        "amount": abs(batch.amount),
                        "date": batch.business_date,
                        "provider_reference": reference,
                        "description": f"{batch.tender_type} takings, {batch.pos_location_id}, "
                        f"{batch.business_date:%d %b %Y}"
                        + (f" (adjustment {batch.sequence})" if batch.sequence else ""),
                        "type": "refund" if batch.amount < 0 else "charge",
                    }
                ],
            )[0]
    except FulfilError as exc:
        _fail(batch, str(exc))
        return False
    batch.state, batch.fulfil_id, batch.fulfil_reference = TenderBatch.State.POSTED, fulfil_id, reference
    batch.posted_at, batch.last_error = timezone.now(), ""
    batch.save(update_fields=["state", "fulfil_id", "fulfil_reference", "posted_at", "last_error"])
    return True


def _fail(batch: TenderBatch, message: str) -> None:
    TenderBatch.objects.filter(pk=batch.pk).update(state=TenderBatch.State.FAILED, last_error=message[:2000])


def tender_lane_run(*, client=None, now: dt.datetime | None = None) -> dict:
    """Build batches for closed days, then post every batch not yet in Fulfil."""
    from integration.fulfil.client import get_client

    own = client is None
    client = client or get_client()
    summary: Counter = Counter(built=tender_batches_build(now=now))
    try:
        pending = TenderBatch.objects.select_related("source").exclude(state=TenderBatch.State.POSTED)
        for batch in pending.order_by("business_date", "id"):
            summary["posted" if tender_batch_post(batch=batch, client=client) else "failed"] += 1
    finally:
        if own:
            client.close()
    return dict(summary)
