"""Engine throughput: normalize, validate, and end-to-end posting with 1, 2 and 4 worker processes,
Fulfil calls per 1,000 transactions, and the naive one-transaction-per-batch poster as the baseline.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything \\
        python -m bench.scaling [--transactions 2000] [--workers 1,2,4] [--naive 300] [--events 600]

It builds its own database (bench_scaling) and never touches the configured one. Fulfil is the
project's sandbox, served in-process inside each worker through the real httpx client
(SandboxWSGITransport), so every figure includes the sandbox's own work on the same cores: on a
small machine this understates what the engine does against real Fulfil, whose own time is its
rate limit (see the rate-limit soak). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DB = "bench_scaling"


def _env(db_name: str) -> None:
    import dj_database_url

    base = dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    )
    host = base["HOST"] or "127.0.0.1"
    os.environ["DATABASE_URL"] = f"postgres://{base['USER']}@{host}:{base['PORT'] or 5432}/{db_name}"
    os.environ.update(
        FULFIL_SANDBOX_INPROCESS="true",
        FULFIL_BASE_URL="",
        FULFIL_RATE_LIMIT_PER_SECOND="0",
        POS_SIMULATOR_INPROCESS="true",
        POS_PROCESS_INLINE="false",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    return base, host


def _create_db(db_name: str) -> None:
    import psycopg

    base, host = _env(db_name)
    with psycopg.connect(f"host={host} user={base['USER']} dbname=postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {db_name}")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class CountingTransport:
    """Wraps the in-process sandbox transport and counts HTTP requests (= Fulfil API calls)."""

    def __init__(self):
        from integration.fulfil.transport import SandboxWSGITransport

        self.inner = SandboxWSGITransport()
        self.calls = 0

    def handle_request(self, request):
        self.calls += 1
        return self.inner.handle_request(request)

    def close(self):
        self.inner.close()


def counting_client(**overrides):
    import httpx

    from integration.fulfil.client import get_client

    counter = CountingTransport()

    class _T(httpx.BaseTransport):
        def handle_request(self, request):
            return counter.handle_request(request)

    return get_client(transport=_T(), read_timeout=30.0, **overrides), counter


def worker(batch_size: int) -> None:
    """One worker process: post until nothing is claimable; print its own timing and call count."""
    _env(DB)
    import django

    django.setup()
    from integration.pipeline.post import inventory_lane_run

    client, counter = counting_client()
    started = time.time()
    total = {}
    idle = 0
    while idle < 2:  # twice empty: the others may still hold claims that end in retry
        out = inventory_lane_run(client=client, batch_size=batch_size, time_budget=3600)
        for k, v in out.items():
            total[k] = total.get(k, 0) + v
        idle = idle + 1 if not out.get("batches") else 0
        if idle:
            time.sleep(0.2)
    ended = time.time()
    print(json.dumps({"started": started, "ended": ended, "calls": counter.calls, **total}))


def seed():
    from integration.sandbox.seed import estate_ensure
    from integration.sandbox.services import sandbox_faults_reset
    from tests.factories import PosSourceFactory
    from tests.pipeline.sandbox_catalog import cache_catalog, map_source

    sandbox_faults_reset(seed=1)
    estate = estate_ensure(store_count=4, seed=7)
    cache_catalog(estate)
    source = PosSourceFactory(code="bench-src")
    stores = {f"loc-{code}": code for code in estate.warehouses if code.startswith("ST-")}
    map_source(source=source, estate=estate, stores=stores)
    codes = sorted(estate.products)
    return source, list(stores), [codes[0], codes[len(codes) // 2], codes[-1]]


def make_sales(source, locations, codes, n: int, prefix: str) -> list[int]:
    from decimal import Decimal

    from tests.pipeline.builders import sale
    from tests.pipeline.sandbox_catalog import VAT_TITLES, product_facts

    items = list(zip(codes, (1, 2, 1), strict=True))
    ids = []
    for i in range(n):
        lines = []
        for code, qty in items[: 1 + i % 3]:
            price, vat = product_facts(code)
            lines.append((code, Decimal(qty), price, VAT_TITLES[vat][1]))
        loc = locations[i % len(locations)]
        txn = sale(
            source=source, lines=lines, pos_id=f"{prefix}-{i}", pos_location_id=loc, pos_location_name=loc
        )
        ids.append(txn.pk)
    return ids


def run_workers(count: int, batch_size: int) -> dict:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.scaling", "--_worker", str(batch_size)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    outs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    posted = sum(o.get("posted", 0) for o in outs)
    calls = sum(o["calls"] for o in outs)
    seconds = max(o["ended"] for o in outs) - min(o["started"] for o in outs)
    return {
        "workers": count,
        "batch_size": batch_size,
        "posted": posted,
        "seconds": round(seconds, 2),
        "per_second": round(posted / seconds, 1) if seconds else None,
        "fulfil_calls": calls,
        "calls_per_1000": round(calls * 1000 / posted, 1) if posted else None,
    }


def normalize(events: int) -> dict:
    """Simulated POS deliveries stored as raw events (not timed), then normalized (timed)."""
    from django.test import Client

    from integration.models import InboundEvent, PosTransaction
    from integration.possim import generator as g
    from integration.services import inbound_events_sweep

    stores = 12
    day = g.generate_day(
        stores=stores, sales_per_store=max(1, events // stores), faults=(), base_url="http://testserver"
    )
    client = Client()
    for d in day.deliveries:
        headers = {k: v for k, v in d.headers.items() if k.lower() != "content-type"}
        client.post(f"/webhooks/{d.source_code}/", data=d.body, content_type=d.content_type, headers=headers)
    before = PosTransaction.objects.count()
    stored = InboundEvent.objects.filter(status="received").count()
    t0 = time.perf_counter()
    ran = 0
    while True:
        n = inbound_events_sweep(min_age_seconds=0, limit=500)
        ran += n
        if not n:
            break
    seconds = time.perf_counter() - t0
    return {
        "events": stored,
        "processed": ran,
        "transactions": PosTransaction.objects.count() - before,
        "seconds": round(seconds, 2),
        "events_per_second": round(ran / seconds, 1) if seconds else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=2000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--batch-size", type=int, default=0, help="0: SYNC_BATCH_SIZE")
    parser.add_argument("--naive", type=int, default=300)
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--_worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._worker is not None:
        worker(args._worker or None)
        return 0
    _create_db(DB)
    from django.conf import settings

    from integration.models import PosTransaction
    from integration.pipeline.validate import transactions_validate

    batch = args.batch_size or settings.SYNC_BATCH_SIZE
    source, locations, codes = seed()
    out = {"database": DB, "batch_size": batch, "runs": []}
    out["normalize"] = normalize(args.events)

    validated = 0
    validate_seconds = 0.0
    for count in [int(w) for w in args.workers.split(",")]:
        make_sales(source, locations, codes, args.transactions, f"w{count}")
        t0 = time.perf_counter()
        validated += transactions_validate()["ready"]
        validate_seconds += time.perf_counter() - t0
        out["runs"].append(run_workers(count, batch))
    out["validate"] = {
        "transactions": validated,
        "seconds": round(validate_seconds, 2),
        "per_second": round(validated / validate_seconds, 1),
    }
    if args.naive:
        make_sales(source, locations, codes, args.naive, "naive")
        transactions_validate()
        out["naive"] = run_workers(1, 1)
    out["left_unposted"] = (
        PosTransaction.objects.exclude(state="posted")
        .exclude(source__code__startswith="uk")
        .filter(source=source)
        .count()
    )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
