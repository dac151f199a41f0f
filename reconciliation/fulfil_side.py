"""Reading what Fulfil actually holds: sales per warehouse and day, strays by channel_identifier,
and the payments behind tender batches. Through the project's Fulfil client, in pages of at most 500,
counting every call so a run can say what it cost.

Sales come back as the rows Fulfil sends (dicts, decoded by the client); `compare` turns only the few
that need a closer look into `FulfilSale`s. A large day is read on a few threads at once (the
warehouses split into shards, each paged on its own), all through the one client and so under its
shared rate limit: against real Fulfil the limit, not the thread count, sets the pace.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from django.db import connections

from reconciliation.compare import money

if TYPE_CHECKING:
    from integration.fulfil.client import FulfilClient

_ID = itemgetter("id")
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
# The warehouse read asks for the day in its domain, so its rows need not repeat it (a sale without a
# sale_date counts as on the day); a million dates less to send and decode. Nor does it ask for the
# reference: only a sale whose channel_identifier names no till transaction is matched by it, and
# those few are asked for it afterwards (`fill_references`).
WAREHOUSE_SALE_FIELDS = [field for field in SALE_FIELDS if field not in ("sale_date", "reference")]
PAYMENT_FIELDS = ["id", "provider_reference", "amount", "state", "type"]
# A cancelled sale is not in the books; Fulfil's channel imports also leave failed/ignored ones.
NOT_IN_BOOKS = ["cancel", "cancelled", "failed", "ignored"]


class ReadCancelled(Exception):
    """Another part of the same read failed; this one stopped at its next page."""


class FulfilReader:
    def __init__(
        self,
        client: FulfilClient,
        *,
        page_size: int = MAX_PAGE,
        concurrency: int = 1,
        sales_sink: Callable[[list[dict]], None] | None = None,
    ) -> None:
        """`sales_sink`: when given, each page of sales goes to it as it arrives (on the thread that
        read it) and the sales_* methods return nothing; otherwise they return the rows."""
        self.client = client
        self.sales_sink = sales_sink
        self.page_size = page_size
        # The in-process sandbox answers on the caller's own database connection (inside its
        # transaction, in tests): another thread would not see what it holds, so read it serially.
        self.serial = bool(getattr(client, "inprocess", False))
        self.concurrency = 1 if self.serial else max(1, concurrency)
        self.calls = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def pages(self, model: str, domain: list, fields: list[str]) -> Iterator[dict]:
        """Keyset paging on id rather than offsets: deep offsets get slower page by page on a large
        day, and a record created mid-read cannot shift the pages under us. Amounts come back as
        Fulfil's text ("39.90"): the comparison matches most of them as text against the till's."""
        last_id = 0
        while True:
            if self._stop.is_set():
                raise ReadCancelled("stopped: another part of this Fulfil read failed")
            page = self.client.search_read(
                model,
                [*domain, ["id", ">", last_id]],
                fields,
                None,
                self.page_size,
                [["id", "ASC"]],
                decimals_as_text=True,
            )
            with self._lock:
                self.calls += 1
            if model == "sale.sale" and self.sales_sink is not None:
                self.sales_sink(page)
            else:
                yield from page
            if len(page) < self.page_size:
                return
            last_id = int(max(map(_ID, page)))

    def start(self, jobs: list[Callable[[], Any]]) -> Reading:
        """Begin the jobs (on up to `concurrency` threads) and return at once, so the caller can read
        its own database meanwhile. Serially, nothing starts until `Reading.results()`."""
        return Reading(self, jobs)

    def warehouse_jobs(self, warehouse_ids: Iterable[int], day: dt.date) -> list[Callable[[], list[dict]]]:
        """One job per shard of the warehouses: each pages its own `warehouse in [...]` domain."""
        ids = sorted(set(warehouse_ids))
        if not ids:
            return []
        count = min(self.concurrency, len(ids))
        size = -(-len(ids) // count)
        return [
            lambda shard=ids[start : start + size]: self.sales_at_warehouses(shard, day)
            for start in range(0, len(ids), size)
        ]

    def sales_at_warehouses(self, warehouse_ids: Iterable[int], day: dt.date) -> list[dict]:
        ids = sorted(set(warehouse_ids))
        if not ids:
            return []
        domain = [["warehouse", "in", ids], ["sale_date", "=", day], ["state", "not in", NOT_IN_BOOKS]]
        return list(self.pages("sale.sale", domain, WAREHOUSE_SALE_FIELDS))

    def strays_by_prefix(self, source_code: str, day: dt.date, warehouse_ids: Iterable[int]) -> list[dict]:
        """The source's sales of the day held anywhere but these warehouses (another store, the DC)."""
        domain = [
            ["channel_identifier", "ilike", f"{source_code}:%"],
            ["sale_date", "=", day],
            ["warehouse", "not in", sorted(set(warehouse_ids))],
            ["state", "not in", NOT_IN_BOOKS],
        ]
        return list(self.pages("sale.sale", domain, SALE_FIELDS))

    def strays_by_identifier(self, identifiers: list[str], warehouse_ids: Iterable[int]) -> list[dict]:
        """For a few stores: look their transactions up by id wherever (and whenever) Fulfil holds them."""
        found: list[dict] = []
        excluded = sorted(set(warehouse_ids))
        for start in range(0, len(identifiers), self.page_size):
            chunk = identifiers[start : start + self.page_size]
            domain = [
                ["channel_identifier", "in", chunk],
                ["warehouse", "not in", excluded],
                ["state", "not in", NOT_IN_BOOKS],
            ]
            found.extend(self.pages("sale.sale", domain, SALE_FIELDS))
        return found

    def fill_references(self, rows: list[dict], known: Collection[str]) -> None:
        """Read the `reference` of the rows that came without one and whose channel_identifier is not
        in `known` (a till transaction of the day), in pages of ids."""
        wanted = {
            row["id"]: row
            for row in rows
            if "reference" not in row
            and row.get("channel_identifier") not in known
            and type(row.get("id")) is int
        }
        ids = sorted(wanted)
        for start in range(0, len(ids), self.page_size):
            found = self.client.read("sale.sale", ids[start : start + self.page_size], ["reference"])
            with self._lock:
                self.calls += 1
            for sale in found:
                if sale.get("id") in wanted:
                    wanted[sale["id"]]["reference"] = sale.get("reference")

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


class Reading:
    """Jobs of one Fulfil read under way. `results()` waits for all of them and gives their results in
    the order given, or raises the first failure (the others stop at their next page)."""

    def __init__(self, reader: FulfilReader, jobs: list[Callable[[], Any]]) -> None:
        self.reader = reader
        self.jobs = list(jobs)
        self.seconds = 0.0  # from start to the last job's end, whichever thread ran it
        self._started = 0.0
        self._pool: ThreadPoolExecutor | None = None
        self._futures: list = []
        if not reader.serial and self.jobs:
            self._started = time.monotonic()
            self._pool = ThreadPoolExecutor(reader.concurrency, thread_name_prefix="fulfil-read")
            self._futures = [self._pool.submit(self._run, job) for job in self.jobs]

    def _run(self, job: Callable[[], Any]) -> Any:
        try:
            return job()
        except BaseException:
            self.reader._stop.set()
            raise
        finally:
            self.seconds = max(self.seconds, time.monotonic() - self._started)
            # The shared rate limiter may have opened a database connection (database cache) here.
            connections.close_all()

    def cancel(self) -> None:
        """The caller gave up (its own side failed): stop the jobs at their next page and wait."""
        self.reader._stop.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def results(self) -> list[Any]:
        if self._pool is None:
            started = time.monotonic()
            try:
                return [job() for job in self.jobs]
            finally:
                self.seconds = time.monotonic() - started
        try:
            done, _ = wait(self._futures, return_when=FIRST_EXCEPTION)
            failed = [f for f in self._futures if f in done and f.exception() is not None]
            real = [f for f in failed if not isinstance(f.exception(), ReadCancelled)]
            if failed:
                self.reader._stop.set()  # the rest stop at their next page
                raise (real or failed)[0].exception()
            return [f.result() for f in self._futures]
        finally:
            self._pool.shutdown(wait=True)
