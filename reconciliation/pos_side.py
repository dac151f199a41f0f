"""What the tills took: one source's business day, loaded in a handful of queries whatever its size."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Case, CharField, Count, F, Q, Sum, TextField, Value, When
from django.db.models.functions import Cast, Concat

from exceptions.models import ExceptionOccurrence
from integration.models import IN_FLIGHT_STATES, LineTax, PosSource, PosTransaction, Tender, TransactionState
from mappings.models import LocationMap
from reconciliation.compare import RETURN_KINDS, ZERO, PosDay, PosRow, _Totals, money

# Not posted (yet, or by decision): the in-flight column. Voided sales never happened.
NOT_POSTED = (*IN_FLIGHT_STATES, TransactionState.EXCLUDED)


@dataclasses.dataclass
class StoreInfo:
    name: str
    warehouse_id: int | None


@dataclasses.dataclass
class PosData:
    day: PosDay
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
    # order_by(): the model's default ordering would otherwise join the DISTINCT (a row per sale).
    for loc, name in traded.order_by().values_list("pos_location_id", "pos_location_name").distinct():
        stores.setdefault(loc, StoreInfo(name or loc, None))
    for loc in only or []:
        stores.setdefault(loc, StoreInfo(loc, None))
    return stores


def load(
    *,
    source: PosSource,
    day: dt.date,
    stores: list[str] | None,
    on_signatures: Callable[[dict[str, str]], None] | None = None,
) -> PosData:
    """`on_signatures` hears the signatures as soon as they are read, before the sums (the Fulfil
    side can start settling while the database adds up)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # These reads run beside the Fulfil read, which takes longer: off the critical path, they
            # need not take every core of the database server (parallel workers) for themselves.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        return _load(source, day, stores, on_signatures)


def _load(source, day, stores, on_signatures) -> PosData:
    txns = PosTransaction.objects.filter(_of_day(source, day, stores))
    prefix = f"{source.code}:"
    signatures = _signatures(txns, prefix)
    if on_signatures:
        on_signatures(signatures)
    totals, negatives = _store_totals(txns)
    pos_day = PosDay(
        signatures=signatures, totals=totals, negatives=negatives, lookup=TillLookup(txns, prefix)
    )
    not_posted = txns.filter(state__in=NOT_POSTED)
    group_of = dict(
        ExceptionOccurrence.objects.filter(is_open=True, transaction__in=not_posted)
        .order_by("transaction_id", "created_at")
        .values_list("transaction_id", "group_id")
    )
    return PosData(
        day=pos_day,
        group_of=group_of,
        extra=_tax_by_rate(source, day, stores),
        tenders=_tenders(source, day, stores),
    )


def _of_day(source: PosSource, day: dt.date, stores: list[str] | None, path: str = "") -> Q:
    """The day's transactions (not voided), from any model that leads to them along `path`. The
    aggregates filter through a plain join rather than `transaction__in=<subquery>`: the subquery
    form joins the transactions twice, and at a million rows PostgreSQL picks nested loops for it."""
    match = Q(**{f"{path}source": source, f"{path}business_date": day}) & ~Q(
        **{f"{path}state": TransactionState.VOIDED}
    )
    if stores is not None:
        match &= Q(**{f"{path}pos_location_id__in": stores})
    return match


def _signatures(txns, prefix: str) -> dict[str, str]:
    """channel_identifier -> "store|total|subtotal|tax" for every transaction, built by the database:
    two short strings a row are the cheapest a million rows can cross into Python."""
    text = TextField()
    rows = (
        txns.order_by()
        .annotate(
            cid=Concat(Value(prefix), "pos_id", output_field=text),
            signature=Concat(
                "pos_location_id",
                Value("|"),
                Cast("total", text),
                Value("|"),
                Cast("subtotal", text),
                Value("|"),
                Cast("tax_total", text),
                output_field=text,
            ),
        )
        .values_list("cid", "signature")
    )
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:  # plain tuples: no per-row work in the ORM
        if connection.vendor == "postgresql":
            # Two texts, one line per transaction, split in C: no row of a million becomes a tuple.
            # Both aggregates read the same rows in the same order; a newline inside an id or a store
            # code would shift the lines, so the counts are checked and the rows read after all.
            cursor.execute(
                f"SELECT count(*), string_agg(cid, E'\\n'), string_agg(signature, E'\\n') FROM ({sql}) day",  # noqa: S608
                params,
            )
            count, cids, signatures = cursor.fetchone()
            if not count:
                return {}
            keys, values = cids.split("\n"), signatures.split("\n")
            if len(keys) == len(values) == count:
                return dict(zip(keys, values, strict=True))
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def _store_totals(txns) -> tuple[dict[str, _Totals], dict[str, Decimal]]:
    is_return = Q(kind__in=RETURN_KINDS)
    rows = (
        txns.order_by()
        .values("pos_location_id")
        .annotate(
            n=Count("id"),
            gross=Sum(F("subtotal") + F("discount_total"), filter=~is_return),
            discounts=Sum("discount_total", filter=~is_return),
            returns=Sum("total", filter=is_return),
            net=Sum("subtotal"),
            tax=Sum("tax_total"),
            all_total=Sum("total"),
            negatives=Sum("total", filter=Q(total__lt=0)),
        )
    )
    totals, negatives = {}, {}
    for row in rows:
        store = row["pos_location_id"]
        t = totals[store] = _Totals()
        t.count = row["n"]
        t.gross, t.discounts, t.returns = money(row["gross"]), money(row["discounts"]), money(row["returns"])
        t.net, t.tax, t.total = money(row["net"]), money(row["tax"]), money(row["all_total"])
        negatives[store] = money(row["negatives"])
    return totals, negatives


class TillLookup:
    """The day's transactions in full, for the few the comparison looks at closely."""

    FIELDS = ("occurred_at", "id", "pos_id", "pos_number", "kind", "state", "pos_location_id")
    AMOUNTS = ("subtotal", "discount_total", "tax_total", "total")

    def __init__(self, txns, prefix: str) -> None:
        self.txns = txns
        self.prefix = prefix

    def rows(self, channel_identifiers: Collection[str]) -> list[PosRow]:
        width = len(self.prefix)
        pos_ids = sorted(cid[width:] for cid in channel_identifiers if cid.startswith(self.prefix))
        if len(pos_ids) > 20_000:  # most of the day (say Fulfil could not be read): one pass, no IN lists
            wanted = set(pos_ids)
            return self._rows(row for row in self._fetch(self.txns) if row[2] in wanted)
        found = []
        for start in range(0, len(pos_ids), 2000):
            found.extend(self._fetch(self.txns.filter(pos_id__in=pos_ids[start : start + 2000])))
        return self._rows(found)

    def by_reference(self, references: Collection[str]) -> list[PosRow]:
        refs = sorted(references)
        if not refs:
            return []
        width = len(self.prefix)
        ids = sorted({*refs, *(ref[width:] for ref in refs if ref.startswith(self.prefix))})
        # Two index lookups (by id, by receipt number) rather than one OR, which scans the whole day.
        found = {row[1]: row for row in self._fetch(self.txns.filter(pos_id__in=ids))}
        found.update((row[1], row) for row in self._fetch(self.txns.filter(pos_number__in=refs)))
        return self._rows(found.values())

    def _fetch(self, txns):
        return txns.order_by().values_list(*self.FIELDS, *self.AMOUNTS).iterator(chunk_size=5000)

    def _rows(self, fetched) -> list[PosRow]:
        """Newest first, as the day's lists show them (and as the comparison has always seen them)."""
        ordered = sorted(fetched, key=lambda row: (row[0], row[1]), reverse=True)
        return [
            PosRow(pk, pos_id, number, kind, state, loc, *map(money, amounts), self.prefix + pos_id)
            for _at, pk, pos_id, number, kind, state, loc, *amounts in ordered
        ]


def _tax_by_rate(source, day, stores) -> dict[str, dict]:
    extra: dict[str, dict] = defaultdict(lambda: {"tax_by_rate": {}})
    taxes = (
        LineTax.objects.filter(_of_day(source, day, stores, "line__transaction__"))
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
    return dict(extra)


def _tenders(source, day, stores) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    tenders: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
    tender_rows = (
        Tender.objects.filter(_of_day(source, day, stores, "transaction__"))
        .values("transaction__pos_location_id", "tender_type")
        .annotate(bucket=_bucket_on("transaction__state"), amount=Sum("amount"))
    )
    for row in tender_rows:
        key = (row["transaction__pos_location_id"], row["tender_type"])
        taken, in_flight = tenders.get(key, (ZERO, ZERO))
        taken += money(row["amount"])
        in_flight += money(row["amount"]) if row["bucket"] == "f" else ZERO
        tenders[key] = (taken, in_flight)
    return tenders


def _bucket_on(state_path: str):
    return Case(
        When(**{f"{state_path}__in": NOT_POSTED}, then=Value("f")),
        default=Value("p"),
        output_field=CharField(),
    )
