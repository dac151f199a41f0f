"""Writes for reconciliation: generate a day's reports, mark days stale, regenerate, close a month.

A run is never edited. Regenerating a day adds a run and moves the day's pointer; after a month is
signed off the pointer still moves (so finance sees what changed) but the signed-off run stays the
month's figure and the report shows the difference as a post-close adjustment.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import logging
import time
import zoneinfo
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from accounts.services import audit_record
from integration.models import PosSource
from reconciliation import pos_side
from reconciliation.compare import ZERO, Settler, StoreResult, compare_day, line_status
from reconciliation.fulfil_side import FulfilReader
from reconciliation.models import (
    DayStatus,
    MonthClose,
    ReconciliationDay,
    ReconciliationRun,
    TenderBatch,
    VarianceItem,
)

Trigger = ReconciliationRun.Trigger
logger = logging.getLogger("reconciliation")


@dataclasses.dataclass
class GenerationResult:
    runs: list[ReconciliationRun]
    api_calls: int
    seconds: float
    stores: int
    transactions: int
    phases: dict[str, float] = dataclasses.field(default_factory=dict)  # seconds per step, for the bench


def _client():
    from integration.fulfil.client import get_client

    return get_client()


def reconciliation_generate(
    *,
    source: PosSource,
    business_date: dt.date,
    pos_location_ids: list[str] | None = None,
    trigger: str = Trigger.NIGHTLY,
    actor=None,
    client=None,
) -> GenerationResult:
    """Compare the tills with Fulfil for one source's business day: every store, or the ones named.

    Reading Fulfil: every sale at the stores' warehouses on the day (in pages), plus the source's
    sales held anywhere else — by channel_identifier prefix when all stores are in the run, by the
    transactions' own ids when only a few are.
    """
    # A day of a large estate holds millions of short-lived rows that form no reference cycles; the
    # cyclic collector would re-walk all of them again and again (measured: most of the time at 1M).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _generate(source, business_date, pos_location_ids, trigger, actor, client)
    finally:
        if collecting:
            gc.enable()


def _generate(source, business_date, pos_location_ids, trigger, actor, client) -> GenerationResult:
    started = time.monotonic()
    started_at = timezone.now()
    partial = bool(pos_location_ids)
    stores = pos_side.stores_for(source=source, day=business_date, only=pos_location_ids)
    warehouses = {store: info.warehouse_id for store, info in stores.items()}
    # Fulfil is read on its own threads while this one reads the tills from the database; each page
    # of sales is settled against the tills' signatures on the thread that read it.
    settler = Settler(warehouses, business_date.isoformat())
    reader = FulfilReader(
        client or _client(),
        concurrency=settings.RECONCILIATION_FULFIL_CONCURRENCY,
        sales_sink=settler.offer,
    )
    reading = reader.start(_fulfil_jobs(reader, source, business_date, warehouses, partial=partial))
    phases = {"setup": time.monotonic() - started}
    try:
        pos = pos_side.load(
            source=source,
            day=business_date,
            stores=list(stores) if partial else None,
            on_signatures=settler.begin,
        )
    except BaseException:
        reading.cancel()  # no threads left reading for a run that will not happen
        raise
    phases["pos"] = time.monotonic() - started - sum(phases.values())
    error = ""
    try:
        payments = _fulfil_results(reader, reading, pos, warehouses, partial=partial)
        unsettled = settler.result()
        reader.fill_references(unsettled, known=pos.day.signatures)
    except Exception as exc:  # any failure reading Fulfil becomes a visible failed run
        logger.exception("reconciliation: reading Fulfil failed for %s %s", source.code, business_date)
        unsettled, payments, error = [], {}, f"{type(exc).__name__}: {exc}"
        # Pages read before the failure settled some transactions: a failed read settles none.
        pos.day.signatures = dict.fromkeys(pos.day.signatures, "")
    phases["fulfil_wait"] = time.monotonic() - started - sum(phases.values())
    phases["fulfil_read"] = reading.seconds  # overlaps "pos" when read on threads
    results = compare_day(
        pos=pos.day,
        unsettled=unsettled,
        store_warehouses=warehouses,
        business_date=business_date.isoformat(),
        blocked_ids=set(pos.group_of),
        pos_extra=pos.extra,
    )
    tenders = _tender_lines(source, business_date, list(stores), pos.tenders, payments)
    phases["compare"] = time.monotonic() - started - sum(v for k, v in phases.items() if k != "fulfil_read")
    runs = _persist(
        source=source,
        day=business_date,
        stores=stores,
        results=results,
        tenders=tenders,
        group_of=pos.group_of,
        meta={
            "trigger": trigger,
            "actor": actor,
            "calls": reader.calls,
            "started_at": started_at,
            "ms": int((time.monotonic() - started) * 1000),
            "error": error,
        },
    )
    phases["persist"] = time.monotonic() - started - sum(v for k, v in phases.items() if k != "fulfil_read")
    return GenerationResult(
        runs, reader.calls, time.monotonic() - started, len(stores), len(pos.day.signatures), phases=phases
    )


def _fulfil_jobs(reader, source, day, warehouses, *, partial: bool) -> list:
    """The reads that need nothing from the tills: the warehouses' sales (in shards), the strays by
    identifier prefix (a whole source's day), and the payments behind the day's tender batches."""
    warehouse_ids = [wh for wh in warehouses.values() if wh]
    refs = list(
        TenderBatch.objects.filter(source=source, business_date=day, pos_location_id__in=list(warehouses))
        .exclude(fulfil_reference="")
        .values_list("fulfil_reference", flat=True)
    )
    jobs = [*reader.warehouse_jobs(warehouse_ids, day)]
    if not partial:
        jobs.append(lambda: reader.strays_by_prefix(source.code, day, warehouse_ids))
    jobs.append(lambda: reader.payments_by_reference(refs) if refs else {})
    return jobs


def _fulfil_results(reader, reading, pos, warehouses, *, partial: bool) -> dict[str, list[dict]]:
    """Wait for the read (its sales went to the reader's sink); the payments it found."""
    *_sales, payments = reading.results()
    if partial:  # a few stores: their own transactions, wherever (and whenever) Fulfil holds them
        warehouse_ids = [wh for wh in warehouses.values() if wh]
        reader.strays_by_identifier(sorted(pos.day.signatures), warehouse_ids)
    return payments


def _tender_lines(source, day, stores, pos_tenders, payments) -> dict[str, list[dict]]:
    """Per store and tender: what the tills took, the engine's batches, and what Fulfil holds for them."""
    batches = defaultdict(list)
    for batch in TenderBatch.objects.filter(source=source, business_date=day, pos_location_id__in=stores):
        batches[(batch.pos_location_id, batch.tender_type)].append(batch)
    out: dict[str, list[dict]] = defaultdict(list)
    keys = set(pos_tenders) | set(batches)
    for store, tender in sorted(keys):
        taken, in_flight = pos_tenders.get((store, tender), (ZERO, ZERO))
        store_batches = sorted(batches.get((store, tender), []), key=lambda b: b.sequence)
        line = {
            "tender": tender,
            "pos": str(taken),
            "in_flight": str(in_flight),
            "batches": [],
            "fulfil": None,
            "variance": None,
            "status": "",
        }
        if store_batches:
            held = ZERO
            unposted = ZERO
            for batch in store_batches:
                found = sum((p["amount"] for p in payments.get(batch.fulfil_reference, [])), ZERO)
                held += found
                if batch.state != TenderBatch.State.POSTED:
                    unposted += batch.amount
                line["batches"].append(
                    {
                        "sequence": batch.sequence,
                        "amount": str(batch.amount),
                        "state": batch.state,
                        "fulfil_reference": batch.fulfil_reference,
                        "fulfil_amount": str(found),
                        "transactions": batch.transaction_count,
                    }
                )
            variance = taken - held
            line.update(
                fulfil=str(held), variance=str(variance), status=line_status(variance, in_flight + unposted)
            )
        out[store].append(line)
    return out


@transaction.atomic
def _persist(
    *, source, day, stores, results: dict[str, StoreResult], tenders, group_of, meta
) -> list[ReconciliationRun]:
    closed = MonthClose.objects.filter(month=day.replace(day=1)).exists()
    share = meta["calls"] // max(1, len(results))
    runs = []
    for store, result in results.items():
        status = result.status
        if any(line["status"] == DayStatus.UNEXPLAINED for line in tenders.get(store, [])):
            status = DayStatus.UNEXPLAINED
        if meta["error"]:
            status = DayStatus.FAILED
        runs.append(
            ReconciliationRun(
                source=source,
                pos_location_id=store,
                business_date=day,
                generated_at=meta["started_at"],
                trigger=meta["trigger"],
                generated_by=meta["actor"],
                status=status,
                fulfil_warehouse_id=result.warehouse_id,
                pos_count=result.pos_count,
                fulfil_count=result.fulfil_count,
                in_flight_count=result.in_flight_count,
                pos_total=result.pos_total,
                fulfil_total=result.fulfil_total,
                in_flight_total=result.in_flight_total,
                variance=result.variance,
                unexplained=result.unexplained,
                figures=result.lines,
                tenders=tenders.get(store, []),
                api_calls=share,
                duration_ms=meta["ms"],
                after_close=closed,
                error=meta["error"],
            )
        )
    ReconciliationRun.objects.bulk_create(runs, batch_size=500)
    VarianceItem.objects.bulk_create(
        [
            VarianceItem(
                run=run,
                kind=item.kind,
                explained=item.explained,
                transaction_id=item.txn.id if item.txn else None,
                channel_identifier=item.channel_identifier,
                fulfil_sale_ids=item.fulfil_sale_ids,
                fulfil_warehouse_id=item.fulfil_warehouse_id,
                pos_amount=item.pos_amount,
                fulfil_amount=item.fulfil_amount,
                difference=item.difference,
                exception_group_id=group_of.get(item.txn.id) if item.txn else None,
                detail=item.detail[:300],
            )
            for run in runs
            # A failed read would make every sale look missing: keep no items, only the error.
            for item in ([] if meta["error"] else results[run.pos_location_id].items)
        ],
        batch_size=2000,
    )
    _days_point_at(source, day, stores, runs, meta["started_at"])
    return runs


def _days_point_at(source, day, stores, runs, started_at) -> None:
    """Each day of these runs points at its newest run, in two statements whatever the number of
    stores: new days are inserted, existing ones take their figures from their newest run in one UPDATE
    (Django's bulk_update writes a CASE per row and field: a third of a second for 500 stores)."""
    names = {run.pos_location_id: stores[run.pos_location_id].name for run in runs}
    days = ReconciliationDay.objects.filter(source=source, business_date=day, pos_location_id__in=list(names))
    existing = dict(days.values_list("pos_location_id", "pos_location_name"))
    ReconciliationDay.objects.bulk_create(
        [
            ReconciliationDay(
                source=source,
                pos_location_id=run.pos_location_id,
                business_date=day,
                pos_location_name=names[run.pos_location_id],
                current_run=run,
                status=run.status,
                variance=run.variance,
                unexplained=run.unexplained,
            )
            for run in runs
            if run.pos_location_id not in existing
        ],
        batch_size=500,
    )
    newest = ReconciliationRun.objects.filter(
        source=OuterRef("source"),
        pos_location_id=OuterRef("pos_location_id"),
        business_date=OuterRef("business_date"),
    ).order_by("-generated_at", "-id")[:1]
    days.filter(pos_location_id__in=list(existing)).update(
        current_run=Subquery(newest.values("id")),
        status=Subquery(newest.values("status")),
        variance=Subquery(newest.values("variance")),
        unexplained=Subquery(newest.values("unexplained")),
        # A late post that arrived while this run was reading stays stale for the next pass.
        stale_since=Case(When(stale_since__lte=started_at, then=Value(None)), default=F("stale_since")),
    )
    for store, name in existing.items():  # a store renamed since its last report (rare)
        if name != names[store]:
            days.filter(pos_location_id=store).update(pos_location_name=names[store])


def days_mark_stale(*, keys: set[tuple[int, str, dt.date]]) -> int:
    """Mark already-reported days stale, in one statement: keys are (source id, store, day) of
    transactions that just posted. Days with no report yet are left alone (the nightly run covers
    them). Returns how many days will regenerate."""
    if not keys:
        return 0
    match = Q()
    for source_id, location, day in keys:
        match |= Q(source_id=source_id, pos_location_id=location, business_date=day)
    return ReconciliationDay.objects.filter(match, stale_since__isnull=True).update(
        stale_since=timezone.now()
    )


def day_mark_stale(*, source: PosSource, pos_location_id: str, business_date: dt.date) -> bool:
    """Called by the sync engine when a transaction of an already-reconciled day posts late.

    The next stale sweep regenerates the day. Returns False when the day has no report yet (the
    nightly run will include the transaction anyway).
    """
    return (
        bool(
            ReconciliationDay.objects.filter(
                source=source,
                pos_location_id=pos_location_id,
                business_date=business_date,
                stale_since__isnull=True,
            ).update(stale_since=timezone.now())
        )
        or ReconciliationDay.objects.filter(
            source=source, pos_location_id=pos_location_id, business_date=business_date
        ).exists()
    )


def stale_days_regenerate(*, client=None) -> int:
    """Regenerate every day marked stale, one Fulfil read per source and day."""
    todo = defaultdict(list)
    for day in ReconciliationDay.objects.filter(stale_since__isnull=False).select_related("source"):
        todo[(day.source, day.business_date)].append(day.pos_location_id)
    for (source, business_date), stores in todo.items():
        reconciliation_generate(
            source=source,
            business_date=business_date,
            pos_location_ids=stores,
            trigger=Trigger.LATE_POST,
            client=client,
        )
    return sum(len(stores) for stores in todo.values())


def previous_business_date(source: PosSource, now: dt.datetime | None = None) -> dt.date:
    """Yesterday in the stores' own timezone."""
    local = (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(source.timezone))
    return local.date() - dt.timedelta(days=1)


def nightly_generate(*, now: dt.datetime | None = None, client=None) -> list[tuple[str, dt.date]]:
    """For every active source whose previous business day has no nightly run yet, generate it.

    Runs hourly, so each source is reconciled soon after its own midnight wherever its stores are.
    """
    done = []
    for source in PosSource.objects.filter(active=True):
        day = previous_business_date(source, now)
        if ReconciliationRun.objects.filter(
            source=source, business_date=day, trigger=Trigger.NIGHTLY
        ).exists():
            continue
        if not pos_side.stores_for(source=source, day=day):
            continue  # no mapped store and no sales: nothing to reconcile yet
        reconciliation_generate(source=source, business_date=day, trigger=Trigger.NIGHTLY, client=client)
        done.append((source.code, day))
    return done


def month_close_sign_off(*, month: dt.date, actor, note: str, summary: dict) -> MonthClose:
    """Finance signs a month off: each day's current run becomes the locked figure."""
    month = month.replace(day=1)
    if not note.strip():
        raise ValueError("A sign-off needs a note.")
    with transaction.atomic():
        if MonthClose.objects.select_for_update().filter(month=month).exists():
            raise ValueError(f"{month:%B %Y} is already signed off.")
        close = MonthClose.objects.create(
            month=month, signed_off_by=actor, signed_off_at=timezone.now(), note=note.strip(), summary=summary
        )
        days = ReconciliationDay.objects.filter(
            business_date__gte=month, business_date__lt=_next_month(month)
        )
        locked = days.update(closed_run=F("current_run"))
        audit_record(
            actor=actor,
            action="reconciliation.month_close",
            obj=close,
            before={},
            after={"month": month.isoformat(), "days_locked": locked},
            note=note.strip(),
        )
    return close


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
