"""What the tills took: one source's business day, loaded in a handful of queries whatever its size."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Case, CharField, Q, Sum, Value, When

from exceptions.models import ExceptionOccurrence
from integration.models import IN_FLIGHT_STATES, LineTax, PosSource, PosTransaction, Tender, TransactionState
from mappings.models import LocationMap
from reconciliation.compare import ZERO, PosRow, money

# Not posted (yet, or by decision): the in-flight column. Voided sales never happened.
NOT_POSTED = (*IN_FLIGHT_STATES, TransactionState.EXCLUDED)


@dataclasses.dataclass
class StoreInfo:
    name: str
    warehouse_id: int | None


@dataclasses.dataclass
class PosData:
    rows: list[PosRow]
    group_of: dict[int, int]  # transaction id -> open exception group id
    extra: dict[str, dict]  # store -> {"tax_by_rate": {rate: (amount, in_flight)}}
    tenders: dict[tuple[str, str], tuple[Decimal, Decimal]]  # (store, tender) -> (taken, in flight)


def stores_for(*, source: PosSource, day: dt.date, only: list[str] | None = None) -> dict[str, StoreInfo]:
    """Stores with a store-level location map on the day, plus any store that traded without one."""
    maps = (
        LocationMap.objects.filter(source=source, register_id="")
        .filter(Q(effective_from__isnull=True) | Q(effective_from__lte=day))
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .order_by("pos_location_id", "effective_from")
        .values_list("pos_location_id", "pos_location_name", "warehouse__fulfil_id")
    )
    if only is not None:
        maps = maps.filter(pos_location_id__in=only)
    stores = {loc: StoreInfo(name or loc, wh) for loc, name, wh in maps}  # latest start wins
    traded = PosTransaction.objects.filter(source=source, business_date=day)
    if only is not None:
        traded = traded.filter(pos_location_id__in=only)
    for loc, name in traded.values_list("pos_location_id", "pos_location_name").distinct():
        stores.setdefault(loc, StoreInfo(name or loc, None))
    for loc in only or []:
        stores.setdefault(loc, StoreInfo(loc, None))
    return stores


def load(*, source: PosSource, day: dt.date, stores: list[str] | None) -> PosData:
    txns = PosTransaction.objects.filter(source=source, business_date=day).exclude(
        state=TransactionState.VOIDED
    )
    if stores is not None:
        txns = txns.filter(pos_location_id__in=stores)
    prefix = f"{source.code}:"
    rows = [
        PosRow(pk, pos_id, number, kind, state, loc, sub, disc, tax, total, prefix + pos_id)
        for pk, pos_id, number, kind, state, loc, sub, disc, tax, total in txns.values_list(
            "id",
            "pos_id",
            "pos_number",
            "kind",
            "state",
            "pos_location_id",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
        ).iterator(chunk_size=5000)
    ]
    not_posted = txns.filter(state__in=NOT_POSTED)
    group_of = dict(
        ExceptionOccurrence.objects.filter(is_open=True, transaction__in=not_posted)
        .order_by("transaction_id", "created_at")
        .values_list("transaction_id", "group_id")
    )
    extra: dict[str, dict] = defaultdict(lambda: {"tax_by_rate": {}})
    taxes = (
        LineTax.objects.filter(line__transaction__in=txns)
        .values("line__transaction__pos_location_id", "rate")
        .annotate(bucket=_bucket_on("line__transaction__state"), amount=Sum("amount"))
    )
    for row in taxes:
        rates = extra[row["line__transaction__pos_location_id"]]["tax_by_rate"]
        key = str(Decimal(row["rate"]).normalize())
        amount, in_flight = rates.get(key, (ZERO, ZERO))
        amount += money(row["amount"])  # SQLite sums decimals as floats: quantise back to cents
        in_flight += money(row["amount"]) if row["bucket"] == "f" else ZERO
        rates[key] = (amount, in_flight)
    tenders: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
    tender_rows = (
        Tender.objects.filter(transaction__in=txns)
        .values("transaction__pos_location_id", "tender_type")
        .annotate(bucket=_bucket_on("transaction__state"), amount=Sum("amount"))
    )
    for row in tender_rows:
        key = (row["transaction__pos_location_id"], row["tender_type"])
        taken, in_flight = tenders.get(key, (ZERO, ZERO))
        taken += money(row["amount"])
        in_flight += money(row["amount"]) if row["bucket"] == "f" else ZERO
        tenders[key] = (taken, in_flight)
    return PosData(rows=rows, group_of=group_of, extra=dict(extra), tenders=tenders)


def _bucket_on(state_path: str):
    return Case(
        When(**{f"{state_path}__in": NOT_POSTED}, then=Value("f")),
        default=Value("p"),
        output_field=CharField(),
    )
