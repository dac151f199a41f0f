"""Fulfil misbehaving while sales wait: an outage (5xx, then lost responses), and rate limiting
through a replay. Recovery needs no person: only the scheduled lanes run, and time passes."""

from collections import Counter

from django.core.cache import cache
from django.utils import timezone

from integration.fulfil.client import get_client
from integration.fulfil.ratelimit import NOT_BEFORE_KEY
from integration.models import PosTransaction, TransactionState
from integration.pipeline.claims import claims_release_stale
from integration.pipeline.post import inventory_lane_run
from integration.sandbox.models import SandboxRecord
from integration.sandbox.services import sandbox_faults_reset, sandbox_faults_set

S = TransactionState


def _time_passes() -> None:
    """Every retry is due now and Fulfil's Retry-After has expired (instead of sleeping)."""
    PosTransaction.objects.filter(state=S.RETRY_WAIT).update(next_attempt_at=timezone.now())
    cache.delete(NOT_BEFORE_KEY)


def _scheduler_tick(client) -> Counter:
    """What the schedules do every few minutes: take back stale claims, run the inventory lane."""
    claims_release_stale()
    return Counter(inventory_lane_run(client=client, batch_size=7))


def _sell(till, n: int) -> list[PosTransaction]:
    code = sorted(till.estate.products)[0]
    return [till.sell(location=("loc-oxf", "loc-man")[i % 2], items=[(code, 1)]) for i in range(n)]


def _sales_per_transaction(txns) -> dict[str, int]:
    ids = [t.channel_identifier for t in txns]
    counts = Counter(
        SandboxRecord.objects.filter(model="sale.sale", channel_identifier__in=ids).values_list(
            "channel_identifier", flat=True
        )
    )
    return {i: counts.get(i, 0) for i in ids}


def test_fulfil_down_with_5xx_then_lost_responses_then_back_posts_everything_once(till):
    client = get_client(read_timeout=2.0, max_read_retries=0)
    txns = _sell(till, 30)
    assert till.ready()["ready"] == 30

    sandbox_faults_set(server_error_share=1)  # the outage: every call is a 503/500
    for _ in range(3):
        tick = _scheduler_tick(client)
        assert tick["posted"] == 0
        _time_passes()
    assert set(PosTransaction.objects.values_list("state", flat=True)) == {S.RETRY_WAIT}

    sandbox_faults_set(server_error_share=0, commit_timeout_share=1)  # half back: commits, answers lost
    for _ in range(3):
        _scheduler_tick(client)
        _time_passes()
    # Fulfil committed writes whose answers were lost; the engine looks each one up before sending
    # again and adopts what it finds, so some or all may already be posted here, none twice.
    assert max(_sales_per_transaction(txns).values()) == 1

    sandbox_faults_reset()  # Fulfil is back
    cache.delete(NOT_BEFORE_KEY)
    for _ in range(6):
        _scheduler_tick(client)
        _time_passes()
        if not PosTransaction.objects.exclude(state=S.POSTED).exists():
            break
    assert Counter(PosTransaction.objects.values_list("state", flat=True)) == {S.POSTED: 30}
    assert set(_sales_per_transaction(txns).values()) == {1}, "a sale is missing or was created twice"


def test_rate_limited_through_a_replay_nothing_is_lost_or_doubled(till):
    """Half of all calls answered 429 with Retry-After: 1; the client and the lane's backoff cope."""
    client = get_client(read_timeout=2.0)
    txns = _sell(till, 20)
    till.ready()
    sandbox_faults_set(rate_limit_share=0.5, retry_after_seconds=1, seed=5)
    ticks = 0
    while PosTransaction.objects.exclude(state=S.POSTED).exists() and ticks < 40:
        _scheduler_tick(client)
        _time_passes()
        ticks += 1
    assert Counter(PosTransaction.objects.values_list("state", flat=True)) == {S.POSTED: 20}
    assert set(_sales_per_transaction(txns).values()) == {1}
