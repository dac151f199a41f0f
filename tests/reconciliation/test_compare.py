"""The pure comparison, without a database or an API: the fast settling agrees with the full one."""

from decimal import Decimal

from reconciliation.compare import PosDay, PosRow, Settler, _Totals, compare_day
from reconciliation.models import DayStatus

DAY = "2026-11-20"


class Tills:
    """An in-memory till side (the real one reads PostgreSQL)."""

    def __init__(self, rows: list[PosRow]) -> None:
        self.rows_by_cid = {row.channel_identifier: row for row in rows}

    def rows(self, channel_identifiers):
        return [row for cid, row in self.rows_by_cid.items() if cid in channel_identifiers]

    def by_reference(self, references):
        return [row for row in self.rows_by_cid.values() if {row.pos_number, row.pos_id} & set(references)]


def _day(rows: list[PosRow]) -> PosDay:
    totals: dict[str, _Totals] = {}
    for row in rows:
        totals.setdefault(row.pos_location_id, _Totals()).add_pos(row)
    return PosDay(
        signatures={
            row.channel_identifier: f"{row.pos_location_id}|{row.total}|{row.subtotal}|{row.tax_total}"
            for row in rows
        },
        totals=totals,
        negatives={},
        lookup=Tills(rows),
    )


def _row(n: int, net: str) -> PosRow:
    net = Decimal(net)
    tax = (net * Decimal("0.2")).quantize(Decimal("0.01"))
    return PosRow(
        n, f"p{n}", f"#{n}", "sale", "posted", "st-1", net, Decimal("0.00"), tax, net + tax, f"s:p{n}"
    )


def _sale(row: PosRow, **changes) -> dict:
    sale = {
        "id": row.id + 100,
        "channel_identifier": row.channel_identifier,
        "reference": row.pos_number,
        "warehouse": 7,
        "untaxed_amount": str(row.subtotal),
        "tax_amount": str(row.tax_total),
        "total_amount": str(row.total),
    }
    return {**sale, **changes}


def test_amounts_fulfil_writes_with_fewer_decimals_still_settle_and_balance():
    rows = [_row(1, "10.00"), _row(2, "12.50")]
    sales = [_sale(rows[0], untaxed_amount="10", total_amount="12.0"), _sale(rows[1])]
    day = _day(rows)
    settler = Settler({"st-1": 7}, DAY)
    settler.begin(day.signatures)
    settler.offer(sales)

    odd = settler.result()
    result = compare_day(pos=day, unsettled=odd, store_warehouses={"st-1": 7}, business_date=DAY)

    assert (day.signatures, odd) == ({"s:p1": 101, "s:p2": 102}, [])
    assert result["st-1"].status == DayStatus.BALANCED
    assert result["st-1"].fulfil_total == result["st-1"].pos_total == Decimal("27.00")


def test_settled_in_pages_or_all_at_once_the_report_is_the_same():
    rows = [_row(n, f"{n}.25") for n in range(1, 9)]
    sales = [_sale(row) for row in rows[1:]]  # the first is missing
    sales[2] = _sale(rows[3], total_amount="99.99")  # an edited amount
    sales.append(_sale(rows[5], id=999, channel_identifier="s:p6-2"))  # a copy keyed again
    day = _day(rows)
    settler = Settler({"st-1": 7}, DAY)
    settler.offer(sales[:3])  # before the tills' signatures are in: waits in the backlog
    settler.begin(day.signatures)
    settler.offer(sales[3:6])
    settler.offer(sales[6:])

    paged = compare_day(pos=day, unsettled=settler.result(), store_warehouses={"st-1": 7}, business_date=DAY)
    whole = compare_day(pos=_day(rows), sales=sales, store_warehouses={"st-1": 7}, business_date=DAY)

    def report(result):
        store = result["st-1"]
        return (
            store.status,
            store.lines,
            sorted((i.kind, i.channel_identifier, tuple(i.fulfil_sale_ids)) for i in store.items),
        )

    assert report(paged) == report(whole)
    assert {kind for kind, _, _ in report(paged)[2]} == {"missing", "amount", "duplicate"}


def test_a_second_sale_under_a_settled_id_on_a_later_page_is_a_duplicate_naming_both_sales():
    rows = [_row(n, f"{n}.10") for n in range(1, 5)]
    day = _day(rows)
    settler = Settler({"st-1": 7}, DAY)
    settler.begin(day.signatures)
    settler.offer([_sale(row) for row in rows])  # all four settle on the first page
    settler.offer([_sale(rows[2], id=500)])  # Fulfil holds the third twice

    result = compare_day(pos=day, unsettled=settler.result(), store_warehouses={"st-1": 7}, business_date=DAY)

    store = result["st-1"]
    assert [(i.kind, i.channel_identifier, i.fulfil_sale_ids) for i in store.items] == [
        ("duplicate", "s:p3", [103, 500])
    ]
    assert store.fulfil_count == 5
    assert store.fulfil_total == store.pos_total + rows[2].total
    assert store.status == DayStatus.UNEXPLAINED


def test_a_sale_whose_id_is_not_a_number_is_compared_in_full_not_settled():
    rows = [_row(1, "3.00")]
    day = _day(rows)
    odd = Settler({"st-1": 7}, DAY)
    odd.begin(day.signatures)
    odd.offer([_sale(rows[0], id="101")])

    assert odd.result() == [_sale(rows[0], id="101")]
    result = compare_day(pos=day, unsettled=odd.result(), store_warehouses={"st-1": 7}, business_date=DAY)
    assert result["st-1"].status == DayStatus.BALANCED
