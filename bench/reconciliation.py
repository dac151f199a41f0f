"""Reconciliation bench: one business day for STORES x PER_STORE till transactions, PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tb_wt8 \\
        /work/main/.venv/bin/python -m bench.reconciliation --stores 500 --per-store 2000

What it measures: the whole `reconciliation_generate` for one source's day (POS side from the
database, Fulfil side through the real FulfilClient — encoding, paging, decoding — comparison, and
writing every run, item and matrix cell), and the number of Fulfil API calls it needed.

The Fulfil side is served by `FastFulfil`, an in-memory stand-in speaking Fulfil's wire format,
holding exactly the sales the day should have (plus a few planted faults). By default it serves
from a forked process over loopback HTTP (`--standin inprocess`: httpx's MockTransport in ours);
`--latency-ms` delays each answer. The project's sandbox is a faithful but deliberately simple store
that re-filters every record in Python per call; at a million sales it would measure the sandbox,
not reconciliation. Real Fulfil's time is its rate limit: the report projects it as calls ÷
requests per second. RECONCILIATION_FULFIL_CONCURRENCY sets the reading threads.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import heapq
import os
import random
import sys
import threading
import time
from decimal import Decimal

import django

DAY = dt.date(2026, 11, 20)
CODE = "bench"


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()


class FastFulfil:
    """sale.sale and payment_gateway.transaction search_read, for the domains reconciliation sends.

    Rows are indexed by warehouse and kept pre-encoded per field list (as a database keeps its pages
    ready), so a page costs a merge and a join: what is measured is the client's side, not this."""

    def __init__(self, sales: list[dict], payments: list[dict], *, latency_ms: float = 0) -> None:
        self.latency = latency_ms / 1000
        self.sales = sorted(sales, key=lambda s: s["id"])
        self.payments = payments
        self.calls = 0
        self.seconds = 0.0  # time spent playing Fulfil's server side, reported apart
        self._lock = threading.Lock()
        self._encoded: dict[tuple, dict[int, bytes]] = {}
        self.by_warehouse: dict[int, tuple[list[int], list[dict]]] = {}
        for sale in self.sales:
            ids, rows = self.by_warehouse.setdefault(sale["warehouse"], ([], []))
            ids.append(sale["id"])
            rows.append(sale)

    def prepare(self, fields: list[str]) -> None:
        """Encode every sale for this field list ahead of the run (Fulfil's side, not ours)."""
        from integration.fulfil import encoding

        self._encoded[tuple(fields)] = {
            row["id"]: encoding.dumps({f: row.get(f) for f in fields}).encode() for row in self.sales
        }

    def handler(self, request):
        """httpx.MockTransport's entry: the stand-in inside the benchmark's own process."""
        import httpx

        if self.latency:
            time.sleep(self.latency)
        body = self.answer(request.url.path, request.content)
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    def answer(self, path: str, content: bytes) -> bytes:
        started = time.monotonic()
        try:
            return self._answer(path, content)
        finally:
            with self._lock:
                self.calls += 1
                self.seconds += time.monotonic() - started

    def _answer(self, path: str, content: bytes) -> bytes:
        from integration.fulfil import encoding

        model, method = path.split("?")[0].split("/")[-2:]
        if method == "read":  # the few references asked for after the read
            ids, fields = encoding.loads(content)
            wanted = set(ids)
            rows = [row for row in self.sales if row["id"] in wanted]
            return encoding.dumps(
                [{"id": row["id"], **{f: row.get(f) for f in fields}} for row in rows]
            ).encode()
        domain, _offset, limit, _order, fields = encoding.loads(content)
        last = next((c[2] for c in domain if c[0] == "id" and c[1] == ">"), 0)
        if model == "sale.sale":
            out = self._sales(domain, last, limit)
            cache = self._encoded.get(tuple(fields))
            if cache is None:
                return encoding.dumps([{f: row.get(f) for f in fields} for row in out]).encode()
            return b"[" + b",".join([cache[row["id"]] for row in out]) + b"]"
        tests = [self._clause(c) for c in domain if c[0] != "id"]
        out = [row for row in self.payments if row["id"] > last and all(t(row) for t in tests)][:limit]
        return encoding.dumps([{f: row.get(f) for f in fields} for row in out]).encode()

    def _sales(self, domain, last, limit) -> list[dict]:
        where = next((c for c in domain if c[0] == "warehouse"), None)
        if where and where[1] == "in":
            warehouses = set(where[2]) & self.by_warehouse.keys()
        elif where and where[1] == "not in":
            warehouses = self.by_warehouse.keys() - set(where[2])
        else:
            warehouses = set(self.by_warehouse)
        tests = [self._clause(c) for c in domain if c[0] not in ("id", "warehouse")]
        # Merge the warehouses' id-ordered rows, a run at a time: take from the stream with the
        # lowest next id every row below the next stream's next id (one slice, not a heap step a row).
        heads = []
        for wh in warehouses:
            ids, _rows = self.by_warehouse[wh]
            at = bisect.bisect_right(ids, last)
            if at < len(ids):
                heads.append((ids[at], wh, at))
        heapq.heapify(heads)
        out: list[dict] = []
        while heads:
            _next, wh, at = heapq.heappop(heads)
            ids, rows = self.by_warehouse[wh]
            end = bisect.bisect_left(ids, heads[0][0], lo=at) if heads else len(ids)
            for row in rows[at:end]:
                if all(test(row) for test in tests):
                    out.append(row)
                    if len(out) == limit:
                        return out
            if end < len(ids):
                heapq.heappush(heads, (ids[end], wh, end))
        return out

    @staticmethod
    def _clause(clause):
        field, op, value = clause
        if op == "in":
            allowed = set(value)
            return lambda row: row.get(field) in allowed
        if op == "not in":
            barred = set(value)
            return lambda row: row.get(field) not in barred
        if op == "=":
            return lambda row: row.get(field) == value
        if op == "ilike":
            prefix = value.rstrip("%").lower()
            return lambda row: (row.get(field) or "").lower().startswith(prefix)
        raise ValueError(f"FastFulfil does not know {clause}")


def build(stores: int, per_store: int, *, seed: int = 1):
    """The day's till transactions in PostgreSQL, and what Fulfil should hold for them."""
    from django.db import connection

    from integration.models import LineTax, PosSource, PosTransaction, PosTransactionLine, Tender
    from mappings.models import FulfilWarehouse, LocationMap
    from reconciliation.models import ReconciliationDay, ReconciliationRun, TenderBatch, VarianceItem

    rng = random.Random(seed)
    VarianceItem.objects.filter(run__source__code=CODE).delete()
    ReconciliationDay.objects.filter(source__code=CODE).delete()
    ReconciliationRun.objects.filter(source__code=CODE).delete()
    TenderBatch.objects.filter(source__code=CODE).delete()
    txns = (
        "SELECT t.id FROM integration_postransaction t "
        "JOIN integration_possource s ON s.id = t.source_id WHERE s.code = %s"
    )
    lines = f"SELECT id FROM integration_postransactionline WHERE transaction_id IN ({txns})"
    with connection.cursor() as cursor:  # cascade by hand, in SQL: the ORM would load a million rows
        cursor.execute(f"DELETE FROM integration_linetax WHERE line_id IN ({lines})", [CODE])
        cursor.execute(f"DELETE FROM integration_postransactionline WHERE transaction_id IN ({txns})", [CODE])
        cursor.execute(f"DELETE FROM integration_tender WHERE transaction_id IN ({txns})", [CODE])
        cursor.execute(f"DELETE FROM integration_postransaction WHERE id IN ({txns})", [CODE])
    LocationMap.objects.filter(source__code=CODE).delete()
    FulfilWarehouse.objects.filter(code__startswith="BENCH-").delete()
    source, _ = PosSource.objects.get_or_create(code=CODE, defaults={"name": "Bench", "platform": "csv"})
    warehouses = FulfilWarehouse.objects.bulk_create(
        [
            FulfilWarehouse(fulfil_id=900000 + n, code=f"BENCH-{n}", name=f"Bench store {n}")
            for n in range(stores)
        ]
    )
    LocationMap.objects.bulk_create(
        [
            LocationMap(source=source, pos_location_id=f"st-{n}", warehouse=wh)
            for n, wh in enumerate(warehouses)
        ]
    )
    sales, payments, sale_id = [], [], 1
    now = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    for n in range(stores):
        txns = []
        for i in range(per_store):
            net = Decimal(rng.randint(100, 20000)) / 100
            if i % 25 == 0:
                net = -net
            tax = (net * Decimal("0.20")).quantize(Decimal("0.01"))
            txns.append(
                PosTransaction(
                    source=source,
                    pos_id=f"{n}-{i}",
                    pos_number=f"#{n}-{i}",
                    kind="return" if net < 0 else "sale",
                    state="posted",
                    pos_location_id=f"st-{n}",
                    occurred_at=now,
                    business_date=DAY,
                    currency="GBP",
                    subtotal=net,
                    tax_total=tax,
                    total=net + tax,
                    content_hash=f"{n}-{i}",
                )
            )
        PosTransaction.objects.bulk_create(txns, batch_size=2000)
        lines = PosTransactionLine.objects.bulk_create(
            [
                PosTransactionLine(
                    transaction=t,
                    line_id="1",
                    quantity=1,
                    unit_price=abs(t.subtotal),
                    net_amount=t.subtotal,
                    tax_amount=t.tax_total,
                )
                for t in txns
            ],
            batch_size=2000,
        )
        LineTax.objects.bulk_create(
            [LineTax(line=line, title="VAT", rate=Decimal("0.2"), amount=line.tax_amount) for line in lines],
            batch_size=2000,
        )
        Tender.objects.bulk_create(
            [
                Tender(transaction=t, tender_type="card" if i % 3 else "cash", amount=t.total)
                for i, t in enumerate(txns)
            ],
            batch_size=2000,
        )
        for t in txns:
            sales.append(
                {
                    "id": sale_id,
                    "channel_identifier": f"{CODE}:{t.pos_id}",
                    "reference": t.pos_number,
                    "sale_date": DAY,
                    "warehouse": 900000 + n,
                    "state": "processing",
                    "channel": 1,
                    "untaxed_amount": t.subtotal,
                    "tax_amount": t.tax_total,
                    "total_amount": t.total,
                }
            )
            sale_id += 1
        for tender in ("card", "cash"):
            amount = sum(
                (t.total for i, t in enumerate(txns) if (tender == "card") == bool(i % 3)), Decimal("0")
            )
            ref = f"BENCH-{n}-{tender}"
            TenderBatch.objects.create(
                source=source,
                pos_location_id=f"st-{n}",
                business_date=DAY,
                tender_type=tender,
                amount=amount,
                state="posted",
                fulfil_reference=ref,
            )
            payments.append(
                {
                    "id": len(payments) + 1,
                    "provider_reference": ref,
                    "amount": amount,
                    "state": "posted",
                    "type": "charge",
                }
            )
    _plant_faults(sales, stores)
    return source, FastFulfil(sales, payments)


def _plant_faults(sales: list[dict], stores: int) -> None:
    """A few planted faults, so the bench also finds and writes variance items: a missing sale, a
    duplicate keyed under another id (its reference is read afterwards), an edited amount and a sale at
    a warehouse of no store."""
    next_id = max(sale["id"] for sale in sales) + 1
    sales.pop(0)
    sales.append({**sales[10], "id": next_id, "channel_identifier": sales[10]["channel_identifier"] + "-2"})
    sales[20] = {**sales[20], "total_amount": sales[20]["total_amount"] + 1}
    sales[30] = {**sales[30], "warehouse": 900000 + stores + 1}


def reuse() -> tuple:
    """The day already built by an earlier run: rebuild only Fulfil's side, from the database."""
    from integration.models import PosSource, PosTransaction
    from reconciliation.models import TenderBatch

    source = PosSource.objects.get(code=CODE)
    rows = PosTransaction.objects.filter(source=source, business_date=DAY).order_by("id")
    sales = [
        {
            "id": n,
            "channel_identifier": f"{CODE}:{pos_id}",
            "reference": number,
            "sale_date": DAY,
            "warehouse": 900000 + int(loc.split("-")[1]),
            "state": "processing",
            "channel": 1,
            "untaxed_amount": sub,
            "tax_amount": tax,
            "total_amount": total,
        }
        for n, (pos_id, number, loc, sub, tax, total) in enumerate(
            rows.values_list(
                "pos_id", "pos_number", "pos_location_id", "subtotal", "tax_total", "total"
            ).iterator(),
            start=1,
        )
    ]
    payments = [
        {"id": n, "provider_reference": ref, "amount": amount, "state": "posted", "type": "charge"}
        for n, (ref, amount) in enumerate(
            TenderBatch.objects.filter(source=source).values_list("fulfil_reference", "amount"), start=1
        )
    ]
    _plant_faults(sales, stores=len({sale["warehouse"] for sale in sales}))
    return source, FastFulfil(sales, payments)


def serve(fast: FastFulfil) -> tuple:
    """The stand-in in a process of its own, over loopback HTTP: the real client then does everything
    it does against Fulfil (HTTP/1.1 keep-alive, headers, body), and the stand-in's work lands on its
    own interpreter instead of competing with ours for the GIL. Forked, so it inherits the prepared
    pages rather than pickling a million rows."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve_forever, args=(fast, theirs), daemon=True)
    process.start()
    return process, ours.recv(), ours


def _serve_forever(fast: FastFulfil, pipe) -> None:
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as httpx's pool expects

        def do_PUT(self):
            content = self.rfile.read(int(self.headers["Content-Length"]))
            if fast.latency:
                time.sleep(fast.latency)
            self._send(fast.answer(self.path, content))

        def do_GET(self):  # the stand-in's own counters, for the report
            self._send(json.dumps({"calls": fast.calls, "seconds": fast.seconds}).encode())

        def _send(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    pipe.send(server.server_address[1])
    server.serve_forever()


def run(
    stores: int,
    per_store: int,
    rate: float,
    *,
    reuse_day: bool = False,
    standin: str = "process",
    latency_ms: float = 0,
) -> dict:
    import httpx
    from django.conf import settings
    from django.db import connection

    from integration.fulfil.client import FulfilClient
    from reconciliation.fulfil_side import WAREHOUSE_SALE_FIELDS
    from reconciliation.services import reconciliation_generate

    started = time.monotonic()
    source, fast = reuse() if reuse_day else build(stores, per_store)
    with connection.cursor() as cursor:  # fresh statistics, as autovacuum would have after a bulk load
        cursor.execute(
            "ANALYZE integration_postransaction, integration_postransactionline, integration_linetax, "
            "integration_tender, reconciliation_tenderbatch"
        )
    fast.latency = latency_ms / 1000
    fast.prepare(WAREHOUSE_SALE_FIELDS)
    process = None
    if standin == "process":
        process, port, _pipe = serve(fast)
        base, transport = f"http://127.0.0.1:{port}/api/v2", None
    else:
        base, transport = "http://fulfil.bench/api/v2", httpx.MockTransport(fast.handler)
    built = time.monotonic() - started
    client = FulfilClient(base, transport=transport, rate_limit_per_second=0)
    try:
        cpu = time.process_time()
        result = reconciliation_generate(source=source, business_date=DAY, client=client, trigger="bench")
        cpu = time.process_time() - cpu
        server = httpx.get(base).json() if process else {"calls": fast.calls, "seconds": fast.seconds}
    finally:
        client.close()
        if process:
            process.terminate()
    statuses: dict[str, int] = {}
    for r in result.runs:
        status = getattr(r.status, "value", r.status)  # plain text: the printed line reads back as a literal
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "stores": stores,
        "per_store": per_store,
        "transactions": result.transactions,
        "standin": standin,
        "latency_ms": latency_ms,
        "concurrency": settings.RECONCILIATION_FULFIL_CONCURRENCY,
        "build_s": round(built, 1),
        "reconcile_s": round(result.seconds, 2),
        # CPU seconds of our process (every thread): what the run costs whatever else the machine runs.
        "our_cpu_s": round(cpu, 2),
        # In its own process the stand-in serves on another core, overlapping us: reported, not subtracted.
        "fulfil_server_s": round(server["seconds"], 2),
        "api_calls": result.api_calls,
        "calls_seen_by_fulfil": server["calls"],
        "projected_fulfil_s": round(result.api_calls / rate, 1) if rate else None,
        "statuses": statuses,
        "items": sum(r.items.count() for r in result.runs if r.status != "balanced"),
        "phases_s": {name: round(sec, 2) for name, sec in result.phases.items()},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=500)
    parser.add_argument("--per-store", type=int, default=2000)
    parser.add_argument("--reuse", action="store_true", help="Reuse the day an earlier run built.")
    parser.add_argument(
        "--fulfil-rate", type=float, default=8.0, help="req/s of real Fulfil, for the projection"
    )
    parser.add_argument(
        "--standin",
        choices=["process", "inprocess"],
        default="process",
        help="serve the Fulfil stand-in from its own process over loopback HTTP, or in ours (MockTransport)",
    )
    parser.add_argument("--latency-ms", type=float, default=0, help="added to each stand-in answer")
    parser.add_argument("--built-s", type=float, default=None, help=argparse.SUPPRESS)  # set by a build
    args = parser.parse_args(argv)
    setup()
    import logging

    logging.getLogger("integration.fulfil").setLevel(logging.WARNING)  # a log line per call would dominate
    if not args.reuse:
        # Build here, then reconcile in a fresh process image (exec): the nightly run happens in a
        # worker that has not just created a million ORM objects. Run in this process, it measured
        # about twice as long; run in a child while this process kept its gigabytes, 9.2 to 9.4 s
        # against 7.3 s for the next runs on the same data (everything slower, the stand-in too).
        from django.db import connection

        started = time.monotonic()
        build(args.stores, args.per_store)
        with connection.cursor() as cursor:
            # A live database's day was written over hours and vacuumed as it went (autovacuum also
            # runs on inserts); a bulk load is not, and the first read of a million fresh rows sets
            # their hint bits: measured 10.4 s against 8.5 s on the same data read again.
            cursor.execute(
                "VACUUM ANALYZE integration_postransaction, integration_postransactionline, "
                "integration_linetax, integration_tender, reconciliation_tenderbatch"
            )
            cursor.execute("CHECKPOINT")  # the load's dirty pages written now, not while measuring
        connection.close()
        rest = argv if argv is not None else sys.argv[1:]
        built = f"{time.monotonic() - started:.1f}"
        sys.stdout.flush()
        os.execv(
            sys.executable,
            [sys.executable, "-m", "bench.reconciliation", "--reuse", "--built-s", built, *rest],
        )
    result = run(
        args.stores,
        args.per_store,
        args.fulfil_rate,
        reuse_day=args.reuse,
        standin=args.standin,
        latency_ms=args.latency_ms,
    )
    if args.built_s is not None:  # this process was exec'd by the one that built the day
        result.update(build_s=args.built_s, built_by="the process this one replaced (exec), just before")
    print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
