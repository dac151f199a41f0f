"""Real worker processes on PostgreSQL: many workers post each transaction once; SIGKILL loses nothing."""

import random
import signal
import time
from collections import Counter

import pytest
from django.core.cache import cache
from django.db import connection

from integration.models import PosTransaction, TransactionState
from integration.pipeline.claims import claims_release_stale
from integration.pipeline.post import inventory_lane_run
from integration.sandbox.models import SandboxRecord
from integration.sandbox.services import sandbox_faults_reset, sandbox_faults_set
from tests.factories import PosSourceFactory
from tests.pipeline.builders import sale
from tests.pipeline.sandbox_catalog import VAT_TITLES, cache_catalog, map_source, product_facts
from tests.pipeline.workers import spawn

S = TransactionState
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="worker processes share a PostgreSQL database"
    ),
]
CODES = ["TEE-CRW-BLK-M", "TEE-CRW-BLK-L", "TEE-VNK-BLK-S", "HOOD-ZIP-BLK-M", "JUMP-MER-L"]


@pytest.fixture
def shop(sandbox_inprocess):
    from integration.sandbox.seed import estate_ensure

    cache.clear()  # walk-in party ids cached by an earlier test point at flushed sandbox rows
    sandbox_faults_reset(seed=99)
    estate = estate_ensure(store_count=2, template_count=4, seed=7)
    source = PosSourceFactory(code="kill-test")
    cache_catalog(estate)
    map_source(source=source, estate=estate, stores={"loc-oxf": "ST-OXF", "loc-man": "ST-MAN"})
    yield source
    cache.clear()


def _sell(source, n: int, rng: random.Random) -> list[PosTransaction]:
    txns = []
    for _ in range(n):
        code = rng.choice(CODES)
        price, vat = product_facts(code)
        txns.append(
            sale(
                source=source,
                lines=[(code, 1, price, VAT_TITLES[vat][1])],
                pos_location_id=rng.choice(["loc-oxf", "loc-man"]),
            )
        )
    return txns


def _sandbox_copies(txns) -> Counter:
    identifiers = [t.channel_identifier for t in txns]
    return Counter(
        SandboxRecord.objects.filter(model="sale.sale", channel_identifier__in=identifiers).values_list(
            "channel_identifier", flat=True
        )
    )


def _finish(txns) -> None:
    """After the workers: take back dead claims, then post whatever is left in this process."""
    claims_release_stale(older_than=__import__("datetime").timedelta(0))
    PosTransaction.objects.filter(state=S.RETRY_WAIT).update(next_attempt_at=None)
    for _ in range(5):
        inventory_lane_run(batch_size=50)
        if not PosTransaction.objects.filter(state__in=(S.READY, S.RETRY_WAIT, S.OUTCOME_UNKNOWN)).exists():
            break
        PosTransaction.objects.filter(state=S.RETRY_WAIT).update(next_attempt_at=None)


def _wait_for_claims(timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not PosTransaction.objects.filter(state=S.POSTING).exists():
        assert time.monotonic() < deadline, "the workers never started posting"
        time.sleep(0.05)


def _trial(source, rng: random.Random, *, sales: int, workers: int) -> None:
    from integration.pipeline.validate import transactions_validate

    txns = _sell(source, sales, rng)
    transactions_validate()
    sandbox_faults_set(latency_ms=rng.choice([40, 80, 120]))
    procs = [spawn(batch_size=rng.choice([3, 4, 5])) for _ in range(workers)]
    victim = rng.randrange(workers)
    _wait_for_claims()
    time.sleep(rng.uniform(0, 1.5))  # somewhere in a batch: before, during or after a Fulfil call
    procs[victim].send_signal(signal.SIGKILL)
    for proc in procs:
        proc.communicate(timeout=120)
    sandbox_faults_reset(seed=rng.randrange(1000))
    in_flight = PosTransaction.objects.filter(state=S.POSTING).count()
    posted_by_workers = PosTransaction.objects.filter(state=S.POSTED).count()
    print(f"kill trial: {posted_by_workers} posted by workers, {in_flight} claims left by the killed one")
    _finish(txns)
    copies = _sandbox_copies(txns)
    states = Counter(
        PosTransaction.objects.filter(pk__in=[t.pk for t in txns]).values_list("state", flat=True)
    )
    assert states == {S.POSTED: sales}, states
    assert set(copies.values()) == {1}, "a transaction was posted twice"
    assert len(copies) == sales, "a transaction was lost"


def test_two_workers_killed_at_a_random_point_never_duplicate_or_lose_a_sale(shop):
    rng = random.Random(5)
    for _ in range(2):
        _trial(shop, rng, sales=40, workers=2)


@pytest.mark.slow
def test_many_kill_trials(shop):
    rng = random.Random(11)
    for _ in range(10):
        _trial(shop, rng, sales=60, workers=3)
