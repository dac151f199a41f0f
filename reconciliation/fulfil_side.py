"""Reading what Fulfil actually holds: sales per warehouse and day, strays by channel_identifier,
and the payments behind tender batches. Through the project's Fulfil client, in pages of at most 500,
counting every call so a run can say what it cost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from reconciliation.compare import FulfilSale, money

if TYPE_CHECKING:
    from integration.fulfil.client import FulfilClient

MAX_PAGE = 500  # Fulfil's page cap; the client refuses more

SALE_FIELDS = [
    "id",
    "channel_identifier",
    "reference",
    "sale_date",
    "warehouse",
    "untaxed_amount",
    "tax_amount",
    "total_amount",
]
PAYMENT_FIELDS = ["id", "provider_reference", "amount", "state", "type"]
# A cancelled sale is not in the books; Fulfil's channel imports also leave failed/ignored ones.
NOT_IN_BOOKS = ["cancel", "cancelled", "failed", "ignored"]


class FulfilReader:
    def __init__(self, client: FulfilClient, *, page_size: int = MAX_PAGE) -> None:
        self.client = client
        self.page_size = page_size
        self.calls = 0

    def pages(self, model: str, domain: list, fields: list[str]) -> Iterator[dict]:
        """Keyset paging on id rather than offsets: deep offsets get slower page by page on a large
        day, and a record created mid-read cannot shift the pages under us."""
        last_id = 0
        while True:
            page = self.client.search_read(
                model, [*domain, ["id", ">", last_id]], fields, None, self.page_size, [["id", "ASC"]]
            )
            self.calls += 1
            yield from page
            if len(page) < self.page_size:
                return
            last_id = max(int(row["id"]) for row in page)

    def sales_at_warehouses(self, warehouse_ids: Iterable[int], day: dt.date) -> list[FulfilSale]:
        ids = sorted(set(warehouse_ids))
        if not ids:
            return []
        domain = [["warehouse", "in", ids], ["sale_date", "=", day], ["state", "not in", NOT_IN_BOOKS]]
        return [FulfilSale.from_api(row) for row in self.pages("sale.sale", domain, SALE_FIELDS)]

    def strays_by_prefix(
        self, source_code: str, day: dt.date, warehouse_ids: Iterable[int]
    ) -> list[FulfilSale]:
        """The source's sales of the day held anywhere but these warehouses (another store, the DC)."""
        domain = [
            ["channel_identifier", "ilike", f"{source_code}:%"],
            ["sale_date", "=", day],
            ["warehouse", "not in", sorted(set(warehouse_ids))],
            ["state", "not in", NOT_IN_BOOKS],
        ]
        return [FulfilSale.from_api(row) for row in self.pages("sale.sale", domain, SALE_FIELDS)]

    def strays_by_identifier(self, identifiers: list[str], warehouse_ids: Iterable[int]) -> list[FulfilSale]:
        """For a few stores: look their transactions up by id wherever (and whenever) Fulfil holds them."""
        found: list[FulfilSale] = []
        excluded = sorted(set(warehouse_ids))
        for start in range(0, len(identifiers), self.page_size):
            chunk = identifiers[start : start + self.page_size]
            domain = [
                ["channel_identifier", "in", chunk],
                ["warehouse", "not in", excluded],
                ["state", "not in", NOT_IN_BOOKS],
            ]
            found.extend(FulfilSale.from_api(row) for row in self.pages("sale.sale", domain, SALE_FIELDS))
        return found

    def payments_by_reference(self, references: list[str]) -> dict[str, list[dict]]:
        """Payment transactions Fulfil holds for tender batches, by provider_reference."""
        held: dict[str, list[dict]] = {}
        for start in range(0, len(references), self.page_size):
            chunk = references[start : start + self.page_size]
            domain = [["provider_reference", "in", chunk]]
            for row in self.pages("payment_gateway.transaction", domain, PAYMENT_FIELDS):
                row["amount"] = money(row.get("amount"))
                held.setdefault(row.get("provider_reference") or "", []).append(row)
        return held
