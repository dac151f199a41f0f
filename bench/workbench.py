"""Workbench at scale: list and group page p95 with 1,000,000 transactions and 100,000 open
exception occurrences, and fix-and-requeue of a 10,000-transaction group.

    DATABASE_URL=postgres://… python -m bench.workbench [--transactions 1000000] [--occurrences 100000]

PostgreSQL only: the data is generated with generate_series (seconds, not hours). It builds its own
database (bench_workbench), so it never touches yours.
"""

import argparse
import json
import os
import statistics
import sys
import time


def _setup_django(db_name: str, *, fresh: bool = True) -> None:
    import dj_database_url

    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    base = dj_database_url.parse(url)
    os.environ["DATABASE_URL"] = (
        f"postgres://{base['USER']}@{base['HOST'] or '127.0.0.1'}:{base['PORT'] or 5432}/{db_name}"
    )
    import psycopg

    with psycopg.connect(
        f"host={base['HOST'] or '127.0.0.1'} user={base['USER']} dbname=postgres", autocommit=True
    ) as c:
        if fresh:
            c.execute(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
            c.execute(f"CREATE DATABASE {db_name}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


GENERATE_SQL = """
INSERT INTO integration_possource (code, name, platform, timezone, currency, region, active, account_ref,
    api_base_url, api_credentials, webhook_secret, webhook_url, poll_cursor, created_at)
VALUES ('bench', 'Bench source', 'shopify', 'Europe/London', 'GBP', '', true, '', '', '', '', '', '{}', now());

INSERT INTO integration_postransaction (source_id, pos_id, pos_number, kind, state, pos_location_id,
    pos_location_name, register_id, register_name, staff_ref, customer_ref, occurred_at, business_date, currency,
    taxes_included, subtotal, discount_total, tax_total, total, rounding_adjustment, original_pos_id,
    blind_return_approved, content_hash, attempts, last_error, fulfil_sale_number, posted_with, created_at,
    updated_at)
SELECT (SELECT id FROM integration_possource WHERE code = 'bench'), 'T' || g, '#' || g, 'sale',
    CASE WHEN g <= %(occ)s THEN 'blocked' ELSE 'posted' END,
    'loc-' || (g %% 500), 'Store ' || (g %% 500), 'till-' || (g %% 7), '', '', '',
    now() - (g || ' seconds')::interval, (now() - (g || ' seconds')::interval)::date, 'GBP', false,
    10.00, 0, 2.00, 12.00 + (g %% 100), 0, '', false, md5(g::text) || md5(g::text), 0, '', '', '{}', now(), now()
FROM generate_series(1, %(txns)s) AS g;
"""


_FILL = {
    "character varying": "''",
    "text": "''",
    "jsonb": "'{}'",
    "boolean": "false",
    "integer": "0",
    "smallint": "0",
    "bigint": "0",
    "numeric": "0",
    "timestamp with time zone": "now()",
    "date": "now()::date",
}


def _with_schema_defaults(sql: str, table: str = "integration_postransaction") -> str:
    """The schema grows (issue 9 found pos_version added NOT NULL after this bench was written): fill
    every NOT NULL column without a default that the INSERT does not name with a neutral value."""
    from django.db import connection

    head, rest = sql.split(f"INSERT INTO {table} (", 1)
    cols_text, rest = rest.split(")", 1)
    named = {c.strip() for c in cols_text.split(",")}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s "
            "AND is_nullable = 'NO' AND column_default IS NULL",
            [table],
        )
        missing = [(c, t) for c, t in cur.fetchall() if c not in named and c != "id" and t in _FILL]
    if not missing:
        return sql
    cols_text += "".join(f", {c}" for c, _t in missing)
    select, tail = rest.split("\nFROM ", 1)
    select = select.rstrip() + "".join(f", {_FILL[t]}" for _c, t in missing)
    return f"{head}INSERT INTO {table} ({cols_text}){select}\nFROM {tail}"


# The unmapped store's sales are otherwise sound: two lines each (SKUs in the catalog, VAT mapped),
# totals that add up, so once the store is mapped every one of them becomes ready to post — the
# issue's scenario, and the expensive path (each sale's posting snapshot is computed and written).
BIG_GROUP_LINES_SQL = """
INSERT INTO integration_postransactionline (transaction_id, line_id, sequence, sku, variant_ref, barcode,
    description, quantity, unit_price, discount, net_amount, tax_amount, is_gift_card, is_custom,
    original_line_id)
SELECT t.id, l.n::text, l.n, 'BENCH-SKU-' || ((t.id + l.n) % 50), '', '', 'Bench product', l.qty, l.price,
    0, l.qty * l.price, l.qty * l.price * 0.2, false, false, ''
FROM integration_postransaction t
CROSS JOIN (VALUES (1, 1, 6.00), (2, 2, 2.00)) AS l(n, qty, price)
WHERE t.pos_location_id = 'loc-new';
"""
BIG_GROUP_TAXES_SQL = """
INSERT INTO integration_linetax (line_id, title, rate, amount)
SELECT l.id, 'VAT', 0.2, l.tax_amount
FROM integration_postransactionline l JOIN integration_postransaction t ON t.id = l.transaction_id
WHERE t.pos_location_id = 'loc-new';
"""


def _big_group_sound(source_id: int) -> None:
    from django.conf import settings
    from django.db import connection

    from integration.models import PosTransaction
    from mappings.models import FulfilChannel, FulfilProduct, FulfilTax, TaxMap

    FulfilProduct.objects.bulk_create(
        [
            FulfilProduct(fulfil_id=800000 + i, code=f"BENCH-SKU-{i}", name=f"Bench product {i}")
            for i in range(50)
        ]
    )
    vat = FulfilTax.objects.create(fulfil_id=800100, name="VAT 20%", rate="0.2", type="percentage")
    TaxMap.objects.create(source_id=source_id, pos_tax_title="VAT", rate="0.2", tax=vat)
    FulfilChannel.objects.create(
        fulfil_id=800200, code=settings.FULFIL_CHANNEL_CODE, name="POS", source="pos"
    )
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE integration_postransaction SET subtotal = 10.00, tax_total = 2.00, total = 12.00, "
            "discount_total = 0, rounding_adjustment = 0, kind = 'sale', state = 'normalized' "
            "WHERE pos_location_id = 'loc-new'"
        )
        cur.execute(_with_schema_defaults(BIG_GROUP_LINES_SQL, "integration_postransactionline"))
        cur.execute(_with_schema_defaults(BIG_GROUP_TAXES_SQL, "integration_linetax"))
    # Blocked the way they would be in production: the engine's validation of the arriving sales
    # opens the group and its occurrences, and records what each line resolves to.
    from integration.pipeline.validate import transactions_validate

    verdict = transactions_validate(
        ids=PosTransaction.objects.filter(pos_location_id="loc-new").values_list("id", flat=True)
    )
    assert verdict["blocked"] == verdict["blocked_by"]["unmapped_location"], verdict


def generate(transactions: int, occurrences: int, big_group: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from exceptions.models import ExceptionGroup

    with connection.cursor() as cur:
        cur.execute(_with_schema_defaults(GENERATE_SQL), {"txns": transactions, "occ": occurrences})
    now = timezone.now()
    source_id = (
        connection.cursor().execute("SELECT id FROM integration_possource WHERE code='bench'").fetchone()[0]
    )
    # One large unmapped store (big_group transactions, blocked below by the real validator) and the
    # rest spread over 2,000 SKU groups.
    groups = []
    groups += [
        ExceptionGroup(
            fingerprint=f"sku_mismatch:bench:SKU-{i}",
            type="sku_mismatch",
            severity="critical",
            title=f"SKU 'SKU-{i}' is not in the Fulfil catalog",
            source_id=source_id,
            subject=f"SKU-{i}",
            context={"sku": f"SKU-{i}"},
            first_seen=now,
            last_seen=now,
        )
        for i in range(2000)
    ]
    ExceptionGroup.objects.bulk_create(groups, batch_size=1000)
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE integration_postransaction SET pos_location_id='loc-new', pos_location_name='New Street' "
            "WHERE pos_id IN (SELECT 'T' || g FROM generate_series(1, %s) g)",
            [big_group],
        )
    _big_group_sound(source_id)
    with connection.cursor() as cur:
        cur.execute(
            """INSERT INTO exceptions_exceptionoccurrence (group_id, transaction_id, created_at, is_open, detail)
               SELECT (SELECT id FROM exceptions_exceptiongroup WHERE subject = 'SKU-' || (t.id % 2000)),
                      t.id, now(), true, '{}'
               FROM integration_postransaction t WHERE t.state = 'blocked' AND t.pos_location_id <> 'loc-new'"""
        )
        cur.execute(
            """UPDATE exceptions_exceptiongroup g SET open_count = s.n, money_at_risk = s.m, stores = s.st
               FROM (SELECT o.group_id, count(*) n, sum(abs(t.total)) m,
                            jsonb_agg(DISTINCT t.pos_location_name) FILTER (WHERE true) st
                     FROM exceptions_exceptionoccurrence o JOIN integration_postransaction t ON t.id = o.transaction_id
                     WHERE o.is_open GROUP BY o.group_id) s
               WHERE g.id = s.group_id"""
        )
        cur.execute(
            "UPDATE exceptions_exceptiongroup SET stores = COALESCE((SELECT jsonb_agg(x) FROM "
            "(SELECT jsonb_array_elements(stores) x LIMIT 50) y), '[]'::jsonb)"
        )
        # Steady state, as autovacuum keeps a live database: without it the first statements to touch
        # a freshly bulk-loaded page also write it (hint bits), and the measurements would include
        # that one-off cost of the load rather than the workbench's.
        cur.execute("VACUUM ANALYZE")


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] if len(samples) >= 20 else max(samples)


def measure_pages(runs: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from exceptions.models import ExceptionGroup

    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-pass-123")
    client = Client()
    client.force_login(user)
    big = ExceptionGroup.objects.get(subject="loc-new")
    some = list(ExceptionGroup.objects.filter(type="sku_mismatch").values_list("pk", flat=True)[:runs])
    urls = {
        "list (default: open, by money at risk)": ["/exceptions/"] * runs,
        "list filtered (type + store + sort by count)": [
            "/exceptions/?type=sku_mismatch&store=Store+4&sort=-open_count"
        ]
        * runs,
        "group page (10,000-transaction group)": [f"/exceptions/{big.pk}/"] * runs,
        "group page (typical group)": [f"/exceptions/{pk}/" for pk in some],
    }
    results = {}
    for label, paths in urls.items():
        client.get(paths[0])  # warm
        samples = []
        for path in paths:
            t0 = time.perf_counter()
            response = client.get(path)
            samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        results[label] = {"p50_ms": round(statistics.median(samples), 1), "p95_ms": round(p95(samples), 1)}
    return results


def _reset_big_group() -> None:
    """Undo a committed fix of the big group (an earlier --reuse experiment that did commit)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("DELETE FROM mappings_locationmap WHERE pos_location_id = 'loc-new'")
        cur.execute(
            "UPDATE integration_postransaction SET state = 'blocked', posted_with = '{}', "
            "fulfil_warehouse_id = NULL WHERE pos_location_id = 'loc-new'"
        )
        cur.execute(
            "UPDATE exceptions_exceptionoccurrence SET is_open = true, resolved_at = NULL WHERE group_id = "
            "(SELECT id FROM exceptions_exceptiongroup WHERE subject = 'loc-new')"
        )
        cur.execute(
            "UPDATE exceptions_exceptiongroup SET status = 'open', resolution = '', resolved_at = NULL, "
            "open_count = (SELECT count(*) FROM integration_postransaction WHERE pos_location_id = 'loc-new') "
            "WHERE subject = 'loc-new'"
        )


def measure_requeue(*, rollback: bool = False) -> dict:
    """Fix the 10,000-transaction unmapped store and requeue it, as the workbench does.

    `rollback`: inside a transaction rolled back afterwards, so it can be measured again on the same
    data (`--reuse`); the reported figure comes from a committed run."""
    from django.db import transaction

    if rollback:
        with transaction.atomic():
            out = measure_requeue()
            transaction.set_rollback(True)
        return out
    from django.contrib.auth import get_user_model

    from exceptions.fixes import fix_unmapped_location
    from exceptions.models import ExceptionGroup
    from mappings.models import FulfilWarehouse

    warehouse, _ = FulfilWarehouse.objects.get_or_create(
        fulfil_id=999001, defaults={"code": "ST-NEW", "name": "New Street"}
    )
    group = ExceptionGroup.objects.get(subject="loc-new")
    actor = get_user_model().objects.get(username="bench")
    expected = group.open_count
    t0 = time.perf_counter()
    summary = fix_unmapped_location(group=group, warehouse=warehouse, actor=actor)
    seconds = time.perf_counter() - t0
    if summary.get("ready") != expected:
        raise SystemExit(f"the bench expects every sale of the group to become ready: {summary}")
    return {"seconds": round(seconds, 2), "summary": {k: v for k, v in summary.items() if isinstance(v, int)}}


def measure_requeues(runs: int) -> dict:
    """The fix, committed, `runs` times: on the generated data, then again after undoing it (and
    vacuuming what the undo left behind). One figure from one run would mostly measure what else the
    shared machine was doing; the median of a few says what the workbench does."""
    from django.db import connection

    results = []
    for n in range(runs):
        if n:
            _reset_big_group()
            with connection.cursor() as cur:
                cur.execute(
                    "VACUUM ANALYZE integration_postransaction, integration_postransactionline, "
                    "exceptions_exceptionoccurrence, exceptions_exceptiongroup"
                )
        results.append(measure_requeue())
    seconds = sorted(r["seconds"] for r in results)
    return {
        "seconds": statistics.median(seconds),
        "runs_s": [r["seconds"] for r in results],
        "summary": results[0]["summary"],
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--occurrences", type=int, default=100_000)
    parser.add_argument("--big-group", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--skip-requeue", action="store_true")
    parser.add_argument(
        "--requeue-runs", type=int, default=3, help="Committed fix runs; the median is reported."
    )
    parser.add_argument(
        "--reuse", action="store_true", help="Keep the data an earlier run built; measure the requeue only."
    )
    parser.add_argument("--repeat", type=int, default=1, help="With --reuse: requeue runs, each rolled back.")
    args = parser.parse_args()
    _setup_django("bench_workbench", fresh=not args.reuse)
    if args.reuse:
        _reset_big_group()
        runs = [measure_requeue(rollback=True) for _ in range(args.repeat)]
        print(json.dumps(runs, indent=2, default=str))
        return 0
    t0 = time.perf_counter()
    generate(args.transactions, args.occurrences, args.big_group)
    out = {
        "transactions": args.transactions,
        "open_occurrences": args.occurrences,
        "generate_seconds": round(time.perf_counter() - t0, 1),
        "pages": measure_pages(args.runs),
    }
    if not args.skip_requeue:
        out["fix_and_requeue_10k"] = measure_requeues(args.requeue_runs)
    print(json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
