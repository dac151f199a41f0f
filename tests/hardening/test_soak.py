"""Long fault runs for `make soak` (marked slow; CI's `make test` skips them). PostgreSQL only: the
workers are separate processes sharing the test database.

- SIGKILL: worker processes killed at random points, many trials → no duplicate, none lost, none
  left in `posting` after the retry sweep and one more lane run.
- Database restart mid-run: every connection to the (dedicated) test database is cut while workers
  post (SOAK_DB_RESTART=cluster restarts the whole local cluster instead — only on a machine you own).
- Rate limited peak: client limit N req/s plus Fulfil answering 429 some of the time → nothing lost,
  calls/s settles at the limit.
"""

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from integration.fulfil.client import get_client
from integration.models import PosTransaction, TransactionState
from integration.pipeline.claims import claims_release_stale
from integration.pipeline.post import inventory_lane_run
from integration.sandbox.models import SandboxRecord
from integration.sandbox.services import sandbox_faults_reset, sandbox_faults_set
from tests.hardening import soak_report

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
S = TransactionState
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("soak tests need PostgreSQL (separate worker processes share the database)")
    # The database cache table survives the flush between tests; a walk-in party id cached by the
    # previous test's sandbox would not exist in this one (see the report: a real-world hazard too).
    from django.core.cache import cache

    cache.clear()


def _db_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _workers(n: int, batch: int, idle_rounds: int = 2, rate: str = "0") -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.hardening.soak_worker",
                _db_url(),
                str(batch),
                str(idle_rounds),
                rate,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]


def _sell(till, n: int, prefix: str) -> list[int]:
    codes = sorted(till.estate.products)
    return [
        till.sell(
            location=("loc-oxf", "loc-man")[i % 2], items=[(codes[i % 3], 1)], pos_id=f"{prefix}-{i}"
        ).pk
        for i in range(n)
    ]


def _recover() -> None:
    """What the schedules do after a crash: the retry sweep takes back dead claims, the lane runs."""
    client = get_client(read_timeout=5.0)
    for _ in range(20):
        claims_release_stale(older_than=timezone.timedelta(0))
        PosTransaction.objects.filter(state=S.RETRY_WAIT).update(next_attempt_at=timezone.now())
        inventory_lane_run(client=client, batch_size=25)
        if not PosTransaction.objects.exclude(state=S.POSTED).exists():
            break
    client.close()


def _assert_each_posted_exactly_once() -> int:
    txns = list(PosTransaction.objects.all())
    states = Counter(t.state for t in txns)
    errors = Counter(str(t.last_error)[:200] for t in txns if t.state != S.POSTED)
    assert states == {S.POSTED: len(txns)}, f"not all posted: {states} {errors.most_common(3)}"
    sales = Counter(
        SandboxRecord.objects.filter(model="sale.sale").values_list("channel_identifier", flat=True)
    )
    missing = [t.channel_identifier for t in txns if sales[t.channel_identifier] == 0]
    doubled = [c for c, n in sales.items() if n > 1]
    assert not missing, f"lost in Fulfil: {missing[:5]}"
    assert not doubled, f"created twice in Fulfil: {doubled[:5]}"
    return len(txns)


def test_sigkill_at_random_points_over_many_trials_loses_and_doubles_nothing(till):
    trials = int(os.environ.get("SOAK_KILL_TRIALS", "25"))
    rng = random.Random(int(os.environ.get("SOAK_SEED", "11")))
    kills = in_flight = posted_by_workers = 0
    for trial in range(trials):
        _sell(till, 15, f"k{trial}")
        till.ready()
        procs = _workers(2, batch=rng.choice([1, 3, 5]), idle_rounds=1)
        time.sleep(rng.uniform(1.0, 4.0))  # django start-up is ~1 s: kill before, during or after posting
        for p in procs:
            time.sleep(rng.uniform(0, 0.3))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
        for p in procs:
            p.communicate(timeout=60)
        # Killed holding a claim, mid-batch: the worst moment (counted, so the record shows it happened).
        in_flight += PosTransaction.objects.filter(state=S.POSTING).exists()
        posted_by_workers += PosTransaction.objects.filter(
            state=S.POSTED, pos_id__startswith=f"k{trial}-"
        ).count()
        _recover()
        assert not PosTransaction.objects.filter(state=S.POSTING).exists()
    total = _assert_each_posted_exactly_once()
    soak_report.record(
        "SIGKILL trials",
        trials=trials,
        workers_killed=kills,
        trials_killed_mid_batch=in_flight,
        posted_before_the_kill=posted_by_workers,
        transactions=total,
        duplicates=0,
        lost=0,
        stuck_in_posting=0,
    )


def test_database_connections_cut_mid_run_workers_reconnect_and_carry_on(till):
    n = int(os.environ.get("SOAK_DB_TXNS", "300"))
    _sell(till, n, "db")
    till.ready()
    procs = _workers(2, batch=5, idle_rounds=3)
    for _ in range(300):  # cut while they are posting, not before they start
        if PosTransaction.objects.filter(state=S.POSTED).exists():
            break
        time.sleep(0.1)
    mode = os.environ.get("SOAK_DB_RESTART", "terminate")
    if mode == "cluster":  # the real thing; restarts every database on the cluster: own machine only
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)
        connection.close()
    else:  # every backend of this test database (and nothing else) is killed, as a restart would
        name = connection.settings_dict["NAME"]
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            cut = cur.fetchone()[0]
    posted_before = PosTransaction.objects.filter(state=S.POSTED).count()
    outs = [p.communicate(timeout=900) for p in procs]
    failed_rounds = sum(err.count("round failed") for _out, err in outs)
    assert all(p.returncode == 0 for p in procs), [err[-500:] for _o, err in outs]
    _recover()  # only claims cut mid-call need the sweep; the workers did the rest
    total = _assert_each_posted_exactly_once()
    soak_report.record(
        "Database restart mid-run",
        mode=mode,
        connections_cut=cut if mode != "cluster" else "all",
        posted_before_cut=posted_before,
        transactions=total,
        worker_rounds_failed_then_retried=failed_rounds,
    )


def test_rate_limited_peak_settles_at_the_limit_and_loses_nothing(till):
    n = int(os.environ.get("SOAK_RATE_TXNS", "200"))
    limit = os.environ.get("SOAK_RATE_LIMIT", "4")
    _sell(till, n, "rl")
    till.ready()
    sandbox_faults_set(rate_limit_share=0.2, retry_after_seconds=1, seed=3)
    procs = _workers(2, batch=2, idle_rounds=2, rate=limit)  # small batches: demand above the limit
    import json

    outs = [json.loads(p.communicate(timeout=1800)[0].strip().splitlines()[-1]) for p in procs]
    sandbox_faults_reset()
    _recover()
    total = _assert_each_posted_exactly_once()
    calls = sum(o["calls"] for o in outs)
    seconds = max(o["ended"] for o in outs) - min(o["started"] for o in outs)
    rate = calls / seconds
    # The limiter is shared (cache), so two workers together stay at the limit, not twice it.
    assert rate <= float(limit) * 1.15, f"{rate:.2f} calls/s over a {limit}/s limit"
    soak_report.record(
        "Rate-limited peak",
        limit_per_s=limit,
        fulfil_429_share=0.2,
        calls=calls,
        seconds=round(seconds, 1),
        calls_per_s=round(rate, 2),
        transactions=total,
        lost=0,
        duplicates=0,
    )
