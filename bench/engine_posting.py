"""Sync engine posting benchmark (issue 5): Fulfil calls per 1,000 transactions and throughput,
batched engine vs a naive one-transaction-at-a-time baseline, in one run on the same data shape.

Both post through the real httpx client to the Fulfil sandbox (in-process WSGI transport, with
`--latency-ms` of simulated network round trip per call), into a throw-away database
`bench_<name>` created from DATABASE_URL and dropped afterwards.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tb_wt5 \
        .venv/bin/python -m bench.engine_posting --transactions 1000 --baseline 100 --latency-ms 50

Writes the figures into docs/performance.md (section "Sync engine posting").
"""

import argparse
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["FULFIL_SANDBOX_INPROCESS"] = "true"
os.environ["FULFIL_BASE_URL"] = ""
os.environ["FULFIL_RATE_LIMIT_PER_SECOND"] = "0"
os.environ.setdefault("LOG_LEVEL", "WARNING")


def _make(source, n: int, rng: random.Random, locations: list[str]) -> list[int]:
    from tests.pipeline.builders import sale
    from tests.pipeline.sandbox_catalog import VAT_TITLES, product_facts

    codes = ["TEE-CRW-BLK-S", "TEE-CRW-BLK-M", "TEE-VNK-BLK-L", "HOOD-ZIP-BLK-M", "JUMP-MER-S", "CHINO-SLM-M"]
    ids = []
    for _ in range(n):
        lines = []
        for _ in range(rng.randint(1, 3)):
            code = rng.choice(codes)
            price, vat = product_facts(code)
            lines.append((code, Decimal(rng.randint(1, 2)), price, VAT_TITLES[vat][1]))
        ids.append(sale(source=source, lines=lines, pos_location_id=rng.choice(locations)).pk)
    return ids


def _post(ids: list[int], *, batch_size: int) -> tuple[int, float]:
    from integration.models import PostingAttempt, PosTransaction, TransactionState
    from integration.pipeline.post import inventory_lane_run
    from integration.pipeline.validate import transactions_validate

    PostingAttempt.objects.all().delete()
    started = time.perf_counter()
    transactions_validate(ids=ids)
    inventory_lane_run(batch_size=batch_size, time_budget=3600)
    seconds = time.perf_counter() - started
    posted = PosTransaction.objects.filter(pk__in=ids, state=TransactionState.POSTED).count()
    assert posted == len(ids), f"only {posted} of {len(ids)} posted"
    calls = PostingAttempt.objects.values("batch_id").distinct().count()
    return calls, seconds


def run(*, transactions: int, baseline: int, latency_ms: int) -> list[tuple[str, str]]:
    from django.core.cache import cache

    from integration.sandbox.seed import STORES, estate_ensure
    from integration.sandbox.services import sandbox_faults_reset, sandbox_faults_set
    from tests.factories import PosSourceFactory
    from tests.pipeline.sandbox_catalog import cache_catalog, map_source

    cache.clear()
    sandbox_faults_reset(seed=1)
    estate = estate_ensure(store_count=12, template_count=6, seed=3)
    cache_catalog(estate)
    stores = {f"loc-{code.lower()}": code for code, _name in STORES[:12]}
    rng = random.Random(42)
    engine_source = PosSourceFactory(code="bench-engine")
    naive_source = PosSourceFactory(code="bench-naive")
    for source in (engine_source, naive_source):
        map_source(source=source, estate=estate, stores=stores)
    sandbox_faults_set(latency_ms=latency_ms)
    engine_ids = _make(engine_source, transactions, rng, list(stores))
    naive_ids = _make(naive_source, baseline, rng, list(stores))
    from django.conf import settings

    engine_calls, engine_s = _post(engine_ids, batch_size=settings.SYNC_BATCH_SIZE)
    naive_calls, naive_s = _post(naive_ids, batch_size=1)
    per_k = lambda calls, n: calls * 1000 / n  # noqa: E731
    return [
        ("Transactions posted (engine / naive)", f"{transactions} / {baseline}"),
        ("Simulated network latency per Fulfil call", f"{latency_ms} ms"),
        (
            f"Fulfil API calls per 1,000 transactions — engine (batches of {settings.SYNC_BATCH_SIZE})",
            f"{per_k(engine_calls, transactions):.1f}",
        ),
        (
            "Fulfil API calls per 1,000 transactions — naive, one at a time",
            f"{per_k(naive_calls, baseline):.0f}",
        ),
        ("End-to-end throughput (validate + post) — engine", f"{transactions / engine_s:.1f} transactions/s"),
        ("End-to-end throughput (validate + post) — naive", f"{baseline / naive_s:.1f} transactions/s"),
        ("Wall time — engine", f"{engine_s:.1f} s for {transactions}"),
        ("Wall time — naive", f"{naive_s:.1f} s for {baseline}"),
    ]


def write(rows, command: str) -> None:
    from bench.run import machine

    path = ROOT / "docs" / "performance.md"
    text = path.read_text() if path.exists() else "# Performance\n"
    marker = "\n## Sync engine posting\n"
    head = text.split(marker)[0].rstrip() + "\n"
    rest = ""
    if marker in text:
        after = text.split(marker, 1)[1]
        rest = ("\n## " + after.split("\n## ", 1)[1]) if "\n## " in after else ""
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    section = (
        f"{marker}\nMeasured {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC on {machine()}, "
        f"PostgreSQL, single worker process, Fulfil sandbox in-process through the real httpx client.\n\n"
        f"Command: `{command}`\n\n| Figure | Value |\n|---|---|\n{table}\n"
    )
    path.write_text(head + section + rest)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=100)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()
    import django
    from django.conf import settings

    django.setup()
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        print("Set DATABASE_URL to a PostgreSQL database: the figures are only meaningful there.")
        return 2
    from django.db import connection

    db = settings.DATABASES["default"]
    db["TEST"] = {**db.get("TEST", {}), "NAME": f"bench_{db['NAME']}"}
    original = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        rows = run(transactions=args.transactions, baseline=args.baseline, latency_ms=args.latency_ms)
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)
    for key, value in rows:
        print(f"{key}: {value}")
    command = (
        "DATABASE_URL=postgres://… .venv/bin/python -m bench.engine_posting "
        f"--transactions {args.transactions} --baseline {args.baseline} --latency-ms {args.latency_ms}"
    )
    write(rows, command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
