"""The comparison itself: POS rows against Fulfil rows for a set of stores on one business day.

Pure Python over plain rows, so it is the same whether the rows came from one store or five hundred,
and it can be read (and tested) without a database or an API. The services load the rows, call
`compare_day` and persist what it returns.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import defaultdict
from collections.abc import Collection
from decimal import Decimal
from typing import Protocol

from integration.models import IN_FLIGHT_STATES, PosTransaction, TransactionState
from reconciliation.models import DayStatus, VarianceItem

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
Kind = VarianceItem.Kind
RETURN_KINDS = (PosTransaction.Kind.RETURN,)


def money(value) -> Decimal:
    """Fulfil sends Decimal objects; tolerate plain numbers and strings, never floats in sums."""
    if value is None or value == "":
        return ZERO
    return Decimal(str(value)).quantize(CENT)


@dataclasses.dataclass
class PosRow:
    """The fields of one PosTransaction the comparison needs."""

    id: int
    pos_id: str
    pos_number: str
    kind: str
    state: str
    pos_location_id: str
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    channel_identifier: str


@dataclasses.dataclass
class FulfilSale:
    id: int
    channel_identifier: str
    reference: str
    warehouse: int | None
    sale_date: str
    state: str
    untaxed: Decimal
    tax: Decimal
    total: Decimal

    @classmethod
    def from_api(cls, row: dict) -> FulfilSale:
        warehouse = row.get("warehouse")
        if isinstance(warehouse, dict):  # a record reference, when the API sends one
            warehouse = warehouse.get("id")
        return cls(
            id=int(row["id"]),
            channel_identifier=row.get("channel_identifier") or "",
            reference=row.get("reference") or "",
            warehouse=int(warehouse) if warehouse else None,
            sale_date=str(row.get("sale_date") or ""),
            state=row.get("state") or "",
            untaxed=money(row.get("untaxed_amount")),
            tax=money(row.get("tax_amount")),
            total=money(row.get("total_amount")),
        )


@dataclasses.dataclass
class Item:
    kind: str
    txn: PosRow | None
    channel_identifier: str
    fulfil_sale_ids: list[int]
    fulfil_warehouse_id: int | None
    pos_amount: Decimal
    fulfil_amount: Decimal
    detail: str = ""

    @property
    def explained(self) -> bool:
        return self.kind in VarianceItem.EXPLAINED_KINDS

    @property
    def difference(self) -> Decimal:
        return self.pos_amount - self.fulfil_amount


@dataclasses.dataclass
class StoreResult:
    pos_location_id: str
    warehouse_id: int | None
    lines: list[dict]
    items: list[Item]
    status: str
    pos_count: int
    fulfil_count: int
    in_flight_count: int
    pos_total: Decimal
    fulfil_total: Decimal
    in_flight_total: Decimal

    @property
    def variance(self) -> Decimal:
        return self.pos_total - self.fulfil_total

    @property
    def unexplained(self) -> Decimal:
        return self.variance - self.in_flight_total


class _Totals:
    """Running sums for one column of one store."""

    def __init__(self) -> None:
        self.count = 0
        self.gross = ZERO
        self.discounts = ZERO
        self.returns = ZERO
        self.net = ZERO
        self.tax = ZERO
        self.total = ZERO

    def add_pos(self, row: PosRow) -> None:
        self.count += 1
        if row.kind in RETURN_KINDS:
            self.returns += row.total
        else:
            self.gross += row.subtotal + row.discount_total
            self.discounts += row.discount_total
        self.net += row.subtotal
        self.tax += row.tax_total
        self.total += row.total

    def take_out(self, row: PosRow) -> None:
        """Undo what a sale equal to this till transaction would have added with `add_fulfil`."""
        self.count -= 1
        if row.total < 0:
            self.returns -= row.total
        self.net -= row.subtotal
        self.tax -= row.tax_total
        self.total -= row.total

    def add_fulfil(self, sale: FulfilSale) -> None:
        self.count += 1
        if sale.total < 0:
            self.returns += sale.total
        self.net += sale.untaxed
        self.tax += sale.tax
        self.total += sale.total


def line_status(variance: Decimal, in_flight: Decimal) -> str:
    if variance == 0:
        return DayStatus.BALANCED
    if variance == in_flight:
        return DayStatus.EXPLAINED
    return DayStatus.UNEXPLAINED


def _line(key: str, label: str, pos, fulfil, in_flight, *, compared: bool = True) -> dict:
    line = {"key": key, "label": label, "pos": str(pos), "in_flight": str(in_flight)}
    if compared:
        variance = pos - fulfil
        line.update(fulfil=str(fulfil), variance=str(variance), status=line_status(variance, in_flight))
    else:
        line.update(fulfil=None, variance=None, status="")
    return line


def _lines(pos: _Totals, fulfil: _Totals, flight: _Totals, extra_pos: dict) -> list[dict]:
    lines = [
        _line("count", "Transactions", pos.count, fulfil.count, flight.count),
        _line(
            "gross",
            "Gross sales (before discounts, excl. tax)",
            pos.gross,
            None,
            flight.gross,
            compared=False,
        ),
        _line("discounts", "Discounts", pos.discounts, None, flight.discounts, compared=False),
        _line("returns", "Returns (incl. tax)", pos.returns, fulfil.returns, flight.returns),
        _line("net", "Net sales (excl. tax)", pos.net, fulfil.net, flight.net),
        _line("tax", "Tax", pos.tax, fulfil.tax, flight.tax),
        _line("total", "Total (incl. tax)", pos.total, fulfil.total, flight.total),
    ]
    for rate, (amount, in_flight) in sorted(extra_pos.get("tax_by_rate", {}).items()):
        label = f"Tax at {(Decimal(rate) * 100).normalize():f} %"
        lines.append(_line(f"tax_rate:{rate}", label, amount, None, in_flight, compared=False))
    return lines


def _in_flight_kind(row: PosRow, blocked_ids: set[int]) -> str | None:
    if row.state == TransactionState.EXCLUDED:
        return Kind.EXCLUDED
    if row.state == TransactionState.BLOCKED or row.id in blocked_ids:
        return Kind.BLOCKED
    if row.state in IN_FLIGHT_STATES:
        return Kind.IN_FLIGHT
    return None


class PosLookup(Protocol):
    """The till side, for the few transactions the fast path could not settle."""

    def rows(self, channel_identifiers: Collection[str]) -> list[PosRow]:
        """These transactions, in the day's order (newest first)."""

    def by_reference(self, references: Collection[str]) -> list[PosRow]:
        """Transactions whose pos_number, pos_id or channel_identifier is one of these, in the day's order."""


@dataclasses.dataclass
class PosDay:
    """One day of till transactions, as the comparison needs them.

    `signatures`: channel_identifier -> "store|total|subtotal|tax" for every transaction (amounts as the
    database prints them), until a Fulfil sale settles it: then the id of that sale (see
    `_settle_fast`); `totals`: each store's column sums; `negatives`: each store's sum of the
    totals below zero (what Fulfil's side calls returns).
    """

    signatures: dict[str, str | int]
    totals: dict[str, _Totals]
    negatives: dict[str, Decimal]
    lookup: PosLookup


def _link_aliases(sales: list[FulfilSale], known: Collection[str], lookup: PosLookup) -> dict[int, PosRow]:
    """Fulfil sales whose channel_identifier is unknown but whose reference or id names a till
    transaction: someone keyed it again, or it was posted under another id."""
    unknown = [sale for sale in sales if sale.channel_identifier not in known]
    if not unknown:
        return {}
    refs = {ref for sale in unknown for ref in _refs_of(sale) if ref}
    by_ref: dict[str, PosRow] = {}
    for row in lookup.by_reference(refs):
        for ref in (row.pos_number, row.pos_id, row.channel_identifier):
            if ref:
                by_ref.setdefault(ref, row)
    links = {}
    for sale in unknown:
        for ref in _refs_of(sale):
            if ref and ref in by_ref:
                links[sale.id] = by_ref[ref]
                break
    return links


def _refs_of(sale: FulfilSale) -> tuple[str, str, str]:
    return sale.reference, sale.channel_identifier, sale.channel_identifier.rsplit("-", 1)[0]


def _settle_fast(
    sales: list[dict],
    signatures: dict[str, str | int],
    store_of_warehouse: dict,
    business_date: str,
    odd: list[dict] | None = None,
) -> list[dict]:
    """Settle Fulfil's rows that match their till transaction exactly (one sale per id, at the store's
    warehouse, on the day, same three amounts: a dict lookup and a string compare each); return the
    rest (added to `odd`), which get the full comparison. Amounts are compared as text first (equal
    text is equal money), as numbers only when the text differs (5.5 against 5.50).

    A sale that settles takes its transaction's place in `signatures`: the signature text is replaced
    by the sale's id. A million settled rows then cost no second dict, and what is still text after the
    read is a transaction no sale settled. A second sale under a settled id finds an id, not text, and
    is odd."""
    odd = [] if odd is None else odd
    for sale in sales:
        cid = sale.get("channel_identifier")
        expected = signatures.get(cid)
        if type(expected) is str:
            warehouse, sale_id = sale.get("warehouse"), sale.get("id")
            store = store_of_warehouse.get(warehouse) if type(warehouse) is int else None
            day = sale.get("sale_date")
            if store is not None and type(sale_id) is int and (day is None or str(day) == business_date):
                total, tax = sale.get("total_amount"), sale.get("tax_amount")
                untaxed = sale.get("untaxed_amount")
                # An f-string prints each amount as str() would (text as it is, None as "None").
                if f"{store}|{total}|{untaxed}|{tax}" == expected or _same_money(
                    expected, store, (str(total), str(untaxed), str(tax))
                ):
                    signatures[cid] = sale_id
                    continue
        odd.append(sale)
    return odd


def _settled_sale(row: PosRow, sale_id: int, store_warehouses: dict) -> FulfilSale:
    """A sale settled fast, in full again: it was at its store's warehouse, on the day (or undated),
    with its transaction's amounts; its reference was not kept (only an unknown id is matched by it)."""
    return FulfilSale(
        id=sale_id,
        channel_identifier=row.channel_identifier,
        reference="",
        warehouse=store_warehouses.get(row.pos_location_id),
        sale_date="",
        state="",
        untaxed=row.subtotal,
        tax=row.tax_total,
        total=row.total,
    )


def _same_money(expected: str, store: str, amounts: tuple[str, str, str]) -> bool:
    """The text differed; the money may not ("123.4" and "123.40")."""
    their_store, *theirs = expected.rsplit("|", 3)
    if their_store != store or len(theirs) != 3:
        return False
    try:
        return all(Decimal(a) == Decimal(b) for a, b in zip(amounts, theirs, strict=True))
    except ArithmeticError:  # not a number at all ("None"): the full comparison will say what it is
        return False


class Settler:
    """`_settle_fast`, page by page as Fulfil's rows arrive (on the reading threads), once the tills'
    signatures are known: pages that come earlier wait in a backlog until `begin`. Pages settle one at
    a time (the GIL would run them one at a time anyway), so a second sale under an id another page
    settled is seen at once and stays unsettled: its transaction is then compared in full, the first
    sale with it."""

    def __init__(self, store_warehouses: dict[str, int | None], business_date: str) -> None:
        self.store_of_warehouse = {wh: store for store, wh in store_warehouses.items() if wh}
        self.business_date = business_date
        self.signatures: dict[str, str | int] | None = None
        self._backlog: list[list[dict]] = []
        self._odd: list[dict] = []
        self._lock = threading.Lock()

    def offer(self, rows: list[dict]) -> None:
        with self._lock:
            if self.signatures is None:
                self._backlog.append(rows)
            else:
                self._settle(rows)

    def begin(self, signatures: dict[str, str | int]) -> None:
        with self._lock:
            self.signatures = signatures
            backlog, self._backlog = self._backlog, []
            for rows in backlog:
                self._settle(rows)

    def _settle(self, rows: list[dict]) -> None:  # under the lock
        _settle_fast(rows, self.signatures, self.store_of_warehouse, self.business_date, self._odd)

    def result(self) -> list[dict]:
        """The rows that did not settle (the settled ones are ids in the signatures now)."""
        with self._lock:
            return self._odd


def compare_day(
    *,
    pos: PosDay,
    sales: list[dict] = (),
    store_warehouses: dict[str, int | None],
    business_date: str,
    blocked_ids: set[int] = frozenset(),
    pos_extra: dict[str, dict] | None = None,
    unsettled: list[dict] | None = None,
) -> dict[str, StoreResult]:
    """Compare each store's till transactions with what Fulfil holds at its warehouse.

    `sales` are every Fulfil sale read for these stores, as Fulfil sends them: those at their
    warehouses on the day, and those found elsewhere by channel_identifier; or, when a `Settler` has
    already settled them page by page into `pos.signatures`, `unsettled` is what it left. Settling
    changes `pos.signatures` (see `_settle_fast`): a PosDay is compared once. `blocked_ids`:
    transactions with an open exception.

    Most of a day balances sale by sale; those sales are settled by `_settle_fast` and counted into
    Fulfil's column as the till's own figures (they are equal). Every other sale, and every till
    transaction without exactly one such sale, is compared in full below.
    """
    pos_extra = pos_extra or {}
    store_of_warehouse = {wh: store for store, wh in store_warehouses.items() if wh}
    signatures = pos.signatures
    if unsettled is None:
        unsettled = _settle_fast(list(sales), signatures, store_of_warehouse, business_date)
    odd_sales = [FulfilSale.from_api(sale) for sale in unsettled]
    aliases = _link_aliases(odd_sales, signatures, pos.lookup)
    involved = {sale.channel_identifier for sale in odd_sales if sale.channel_identifier in signatures}
    involved.update(row.channel_identifier for row in aliases.values())
    involved.update([cid for cid, state in signatures.items() if type(state) is str])  # no sale settled it
    pos_rows = pos.lookup.rows(involved)
    # A transaction compared in full takes every sale of its own with it.
    odd_sales += [
        _settled_sale(row, signatures[row.channel_identifier], store_warehouses)
        for row in pos_rows
        if type(signatures.get(row.channel_identifier)) is int
    ]
    # One sale read twice counts once; the same order however many threads read them.
    odd_sales = sorted({sale.id: sale for sale in odd_sales}.values(), key=lambda sale: sale.id)
    return _compare_in_full(
        pos=pos,
        pos_rows=pos_rows,
        sales=odd_sales,
        aliases=aliases,
        store_warehouses=store_warehouses,
        store_of_warehouse=store_of_warehouse,
        business_date=business_date,
        blocked_ids=blocked_ids,
        pos_extra=pos_extra,
    )


def _compare_in_full(
    *,
    pos: PosDay,
    pos_rows: list[PosRow],
    sales: list[FulfilSale],
    aliases: dict[int, PosRow],
    store_warehouses,
    store_of_warehouse,
    business_date: str,
    blocked_ids,
    pos_extra,
) -> dict[str, StoreResult]:
    pos_by_cid = {row.channel_identifier: row for row in pos_rows}
    sales_of_txn: dict[int, list[FulfilSale]] = defaultdict(list)
    at_store: dict[str, list[FulfilSale]] = defaultdict(list)
    items: dict[str, list[Item]] = defaultdict(list)
    for sale in sales:
        owner = pos_by_cid.get(sale.channel_identifier) or aliases.get(sale.id)
        here = store_of_warehouse.get(sale.warehouse) if sale.sale_date in ("", business_date) else None
        if here:
            at_store[here].append(sale)
        if owner:
            sales_of_txn[owner.id].append(sale)
            if here and here != owner.pos_location_id:
                items[here].append(
                    Item(
                        Kind.FOREIGN,
                        owner,
                        owner.channel_identifier,
                        [sale.id],
                        sale.warehouse,
                        ZERO,
                        sale.total,
                        f"A sale of store {owner.pos_location_id}, posted to this warehouse",
                    )
                )
        elif here:
            items[here].append(
                Item(
                    Kind.FOREIGN,
                    None,
                    sale.channel_identifier,
                    [sale.id],
                    sale.warehouse,
                    ZERO,
                    sale.total,
                    f"Fulfil sale {sale.reference or sale.id} matches no till transaction",
                )
            )

    flight_t: dict[str, _Totals] = defaultdict(_Totals)
    settled = {store: _settled_totals(pos, store) for store in store_warehouses}
    for row in pos_rows:
        store = row.pos_location_id
        if store in settled:  # these were not settled fast: take their figures back out
            settled[store].take_out(row)
        found = sales_of_txn.get(row.id, [])
        item = _classify(row, found, store_warehouses.get(store), business_date, blocked_ids)
        if item:
            items[store].append(item)
            if item.explained:
                flight_t[store].add_pos(row)

    results = {}
    for store, warehouse in store_warehouses.items():
        fulfil = settled[store]
        for sale in at_store.get(store, []):
            fulfil.add_fulfil(sale)
        pos_totals, flight = pos.totals.get(store) or _Totals(), flight_t[store]
        lines = _lines(pos_totals, fulfil, flight, pos_extra.get(store, {}))
        store_items = items.get(store, [])
        results[store] = StoreResult(
            pos_location_id=store,
            warehouse_id=warehouse,
            lines=lines,
            items=store_items,
            status=_day_status(lines, store_items),
            pos_count=pos_totals.count,
            fulfil_count=fulfil.count,
            in_flight_count=flight.count,
            pos_total=pos_totals.total,
            fulfil_total=fulfil.total,
            in_flight_total=flight.total,
        )
    return results


def _settled_totals(pos: PosDay, store: str) -> _Totals:
    """Fulfil's column for the sales settled fast, before the rest are added: as they equal the till's
    figures, it is the store's till sums less the transactions compared in full (see `take_out`)."""
    till = pos.totals.get(store) or _Totals()
    settled = _Totals()
    settled.count = till.count
    settled.returns = pos.negatives.get(store, ZERO)
    settled.net, settled.tax, settled.total = till.net, till.tax, till.total
    return settled


def _classify(
    row: PosRow, found: list[FulfilSale], warehouse: int | None, business_date: str, blocked_ids: set[int]
) -> Item | None:
    cid = row.channel_identifier
    if not found:
        kind = _in_flight_kind(row, blocked_ids) or Kind.MISSING
        detail = "" if kind != Kind.MISSING else "Posted by us but Fulfil holds no sale with this id"
        return Item(kind, row, cid, [], None, row.total, ZERO, detail)
    # The sale posted under the exact id is the real one; any other is the copy.
    found = sorted(found, key=lambda s: (s.channel_identifier != cid, s.id))
    primary = found[0]
    ids = [sale.id for sale in found]
    if len(found) > 1:
        extra = sum((sale.total for sale in found[1:]), ZERO)
        return Item(
            Kind.DUPLICATE,
            row,
            cid,
            ids,
            primary.warehouse,
            ZERO,
            extra,
            f"Fulfil holds {len(found)} sales for this transaction",
        )
    if warehouse and primary.warehouse != warehouse:
        return Item(
            Kind.WRONG_WAREHOUSE,
            row,
            cid,
            ids,
            primary.warehouse,
            row.total,
            ZERO,
            f"Fulfil holds it at warehouse {primary.warehouse}",
        )
    if primary.sale_date and primary.sale_date != business_date:
        return Item(
            Kind.MISSING,
            row,
            cid,
            ids,
            primary.warehouse,
            row.total,
            ZERO,
            f"Fulfil holds it on {primary.sale_date}, not this day",
        )
    if (primary.total, primary.untaxed, primary.tax) != (row.total, row.subtotal, row.tax_total):
        return Item(
            Kind.AMOUNT,
            row,
            cid,
            ids,
            primary.warehouse,
            row.total,
            primary.total,
            f"Fulfil: {primary.untaxed} + tax {primary.tax}; till: {row.subtotal} + tax {row.tax_total}",
        )
    return None


def _day_status(lines: list[dict], items: list[Item]) -> str:
    if any(not item.explained for item in items):
        return DayStatus.UNEXPLAINED
    statuses = {line["status"] for line in lines if line["status"]}
    if DayStatus.UNEXPLAINED in statuses:
        return DayStatus.UNEXPLAINED
    if items or DayStatus.EXPLAINED in statuses:
        return DayStatus.EXPLAINED
    return DayStatus.BALANCED
