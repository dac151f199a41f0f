"""The inventory lane against the Fulfil sandbox, through the real httpx client."""

import datetime as dt
from decimal import Decimal

from django.core.cache import cache
from django.utils import timezone

from exceptions.models import ExceptionGroup, ExceptionOccurrence, ExceptionType
from exceptions.services import exception_group_resolve
from integration.fulfil.client import get_client
from integration.fulfil.ratelimit import NOT_BEFORE_KEY
from integration.models import PostingAttempt, PosTransaction, TransactionState
from integration.pipeline.claims import claims_release_stale, transactions_claim
from integration.pipeline.post import inventory_lane_run
from integration.pipeline.validate import transactions_requeue
from integration.sandbox.models import SandboxRecord
from integration.sandbox.services import sandbox_faults_reset, sandbox_faults_set
from tests.pipeline.builders import sale

S = TransactionState


def _stock(client, estate, code, warehouse="ST-OXF") -> Decimal:
    levels = client.get_product_inventory([estate.products[code]], [estate.warehouses[warehouse]])
    return Decimal(
        str(levels[str(estate.products[code])][str(estate.warehouses[warehouse])]["quantity_on_hand"])
    )


def _sales_in_sandbox(channel_identifier: str) -> list[SandboxRecord]:
    return list(SandboxRecord.objects.filter(model="sale.sale", channel_identifier=channel_identifier))


def test_a_batch_of_sales_posts_once_each_in_a_handful_of_calls(till, fulfil_client):
    before = _stock(fulfil_client, till.estate, "TEE-CRW-BLK-M")
    txns = [till.sell(items=[("TEE-CRW-BLK-M", 1), ("TEE-CRW-BLK-S", 2)]) for _ in range(12)]
    till.sell(location="loc-man", items=[("TEE-CRW-BLK-M", 1)])
    assert till.ready()["ready"] == 13
    summary = inventory_lane_run(client=fulfil_client)
    assert summary["posted"] == 13
    for txn in txns:
        txn.refresh_from_db()
        assert txn.state == S.POSTED
        assert txn.fulfil_sale_number
        (sale,) = _sales_in_sandbox(txn.channel_identifier)
        assert sale.data["state"] == "done"
        assert sale.data["warehouse"] == till.estate.warehouses["ST-OXF"]
    assert _stock(fulfil_client, till.estate, "TEE-CRW-BLK-M") == before - 12
    # party look-up, create, quote, read, confirm, stock read, process: whatever the batch size.
    calls = PostingAttempt.objects.values("batch_id").distinct().count()
    assert calls <= 7
    attempt = PostingAttempt.objects.filter(transaction=txns[0], operation="create").get()
    assert attempt.outcome == "ok"
    assert attempt.request_summary["records"] == 13


def test_a_return_posts_negative_lines_linked_to_the_original_at_the_same_store(till, fulfil_client):
    original = till.sell(items=[("HOOD-ZIP-BLK-L", 2)], pos_id="S-100")
    till.ready()
    inventory_lane_run(client=fulfil_client)
    after_sale = _stock(fulfil_client, till.estate, "HOOD-ZIP-BLK-L")
    ret = till.sell(items=[("HOOD-ZIP-BLK-L", -1)], kind=PosTransaction.Kind.RETURN, original_pos_id="S-100")
    assert till.ready()["ready"] == 1
    inventory_lane_run(client=fulfil_client)
    ret.refresh_from_db()
    original.refresh_from_db()
    assert ret.state == S.POSTED
    (sale,) = _sales_in_sandbox(ret.channel_identifier)
    assert sale.data["origin"] == f"sale.sale,{original.fulfil_sale_id}"
    assert _stock(fulfil_client, till.estate, "HOOD-ZIP-BLK-L") == after_sale + 1


def test_a_refused_record_is_isolated_and_the_rest_of_the_batch_posts(till, fulfil_client):
    good = [till.sell(items=[("TEE-CRW-BLK-M", 1)]) for _ in range(6)]
    bad = till.sell(items=[("TEE-VNK-BLK-L", 1)])
    till.ready()
    sandbox_faults_set(user_error_codes=["TEE-VNK-BLK-L"])
    summary = inventory_lane_run(client=fulfil_client)
    assert summary["posted"] == 6
    assert summary["rejected"] == 1
    bad.refresh_from_db()
    assert bad.state == S.REJECTED
    assert not _sales_in_sandbox(bad.channel_identifier)
    group = ExceptionGroup.objects.get(type=ExceptionType.FULFIL_REJECTED)
    assert "cannot be sold" in group.title
    assert group.open_count == 1
    assert all(PosTransaction.objects.get(pk=t.pk).state == S.POSTED for t in good)


def test_rate_limits_wait_with_backoff_then_alert_then_post_when_fulfil_recovers(till, settings):
    # No in-client retries: this test is about the engine's own retry schedule.
    fulfil_client = get_client(read_timeout=2.0, max_read_retries=0)
    settings.SYNC_MAX_ATTEMPTS_BEFORE_ALERT = 2
    settings.SYNC_RETRY_BASE_SECONDS = 1  # our own backoff is shorter than Fulfil's Retry-After here
    txn = till.sell()
    till.ready()
    sandbox_faults_set(rate_limit_share=1, retry_after_seconds=90)
    for attempt in (1, 2):
        assert inventory_lane_run(client=fulfil_client)["retry_wait"] == 1
        txn.refresh_from_db()
        assert txn.state == S.RETRY_WAIT
        assert txn.attempts == attempt
        assert txn.next_attempt_at >= timezone.now() + dt.timedelta(seconds=85)
        # Nothing is due yet: the lane leaves it alone.
        assert inventory_lane_run(client=fulfil_client)["batches"] == 0
        # Time passes: the retry is due and the shared "not before" from Retry-After has expired.
        PosTransaction.objects.filter(pk=txn.pk).update(next_attempt_at=timezone.now())
        cache.delete(NOT_BEFORE_KEY)
    group = ExceptionGroup.objects.get(type=ExceptionType.SYNC_TIMEOUT)
    assert group.severity == "delay"
    sandbox_faults_reset()
    cache.delete(NOT_BEFORE_KEY)
    assert inventory_lane_run(client=fulfil_client)["posted"] == 1
    assert len(_sales_in_sandbox(txn.channel_identifier)) == 1
    group.refresh_from_db()
    assert group.status == "resolved"


def test_an_unknown_outcome_is_looked_up_before_anything_is_sent_again(till, fulfil_client):
    txn = till.sell()
    till.ready()
    sandbox_faults_set(commit_timeout_share=1)
    inventory_lane_run(client=fulfil_client, max_batches=1)
    txn.refresh_from_db()
    assert txn.state == S.OUTCOME_UNKNOWN
    assert len(_sales_in_sandbox(txn.channel_identifier)) == 1  # Fulfil did commit it
    sandbox_faults_reset()
    summary = inventory_lane_run(client=fulfil_client)
    assert summary["adopted"] == 1
    assert summary["posted"] == 1
    assert len(_sales_in_sandbox(txn.channel_identifier)) == 1
    assert (
        not PosTransaction.objects.get(pk=txn.pk)
        .attempts_log.filter(operation="create", outcome="ok")
        .exists()
    )


def test_a_dead_workers_claim_is_swept_then_finished_without_a_duplicate(till, fulfil_client):
    txn = till.sell()
    till.ready()
    claim = transactions_claim(limit=10)
    # The worker sends the sale, then dies before writing anything down.
    from integration.pipeline.post import BatchPoster

    poster = BatchPoster(client=fulfil_client, claim=claim)
    poster._load()
    poster._create(list(poster.txns))
    assert claims_release_stale(older_than=dt.timedelta(0)) == 1
    txn.refresh_from_db()
    assert txn.state == S.OUTCOME_UNKNOWN
    assert inventory_lane_run(client=fulfil_client)["posted"] == 1
    assert len(_sales_in_sandbox(txn.channel_identifier)) == 1
    txn.refresh_from_db()
    assert txn.state == S.POSTED


def test_a_late_write_from_a_swept_claim_changes_nothing(till, fulfil_client):
    txn = till.sell()
    till.ready()
    stale = transactions_claim(limit=10)
    claims_release_stale(older_than=dt.timedelta(0))
    inventory_lane_run(client=fulfil_client)
    from integration.pipeline.post import BatchPoster

    # The old worker wakes up: its token no longer matches, so it loads nothing and writes nothing.
    assert BatchPoster(client=fulfil_client, claim=stale).run() == {}
    assert len(_sales_in_sandbox(txn.channel_identifier)) == 1


def test_selling_more_than_fulfil_has_on_hand_posts_and_warns(till, fulfil_client):
    on_hand = _stock(fulfil_client, till.estate, "JUMP-MER-S")
    txn = till.sell(items=[("JUMP-MER-S", int(on_hand) + 3)])
    till.ready()
    assert inventory_lane_run(client=fulfil_client)["posted"] == 1
    occurrence = ExceptionOccurrence.objects.get(transaction=txn, is_open=True)
    assert occurrence.group.type == ExceptionType.STOCK_MISMATCH
    assert occurrence.group.severity == "warning"
    assert _stock(fulfil_client, till.estate, "JUMP-MER-S") == -3


def test_fulfils_own_tax_is_checked_after_quoting_and_a_difference_is_never_confirmed(till, fulfil_client):
    # Three 10p lines at 5 %: per line (half-even) 0.005 rounds to 0.00; over the order 0.015 → 0.02.
    tiny = ("TEE-CRW-BLK-M", Decimal("1"), Decimal("0.10"), Decimal("0.05"))
    txn = sale(source=till.source, lines=[tiny, tiny, tiny], pos_location_id="loc-oxf")
    assert txn.tax_total == Decimal("0.00")
    sandbox_faults_set(tax_rounding="order")
    assert till.ready()["ready"] == 1
    summary = inventory_lane_run(client=fulfil_client)
    assert summary[f"blocked:{ExceptionType.TAX_DISCREPANCY}"] == 1
    txn.refresh_from_db()
    assert txn.state == S.BLOCKED
    (held,) = _sales_in_sandbox(txn.channel_identifier)
    assert held.data["state"] == "quotation"
    occurrence = ExceptionOccurrence.objects.get(transaction=txn, is_open=True)
    assert occurrence.detail["fulfil_tax"] == "0.02"
    # Finance accepts the variance; requeue confirms the quoted sale Fulfil already holds.
    exception_group_resolve(
        group=occurrence.group, actor=finance_user_for_test(), resolution=ExceptionGroup.Resolution.ACCEPTED
    )
    assert transactions_requeue(transactions=[txn])["ready"] == 1
    summary = inventory_lane_run(client=fulfil_client)
    assert summary["adopted"] == 1
    assert summary["posted"] == 1
    assert len(_sales_in_sandbox(txn.channel_identifier)) == 1


def finance_user_for_test():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username="fin-accepts")


def test_a_late_sale_posting_for_an_already_reported_day_makes_that_report_regenerate(till, fulfil_client):
    from reconciliation.models import ReconciliationDay
    from reconciliation.services import reconciliation_generate, stale_days_regenerate

    txn = till.sell(items=[("TEE-CRW-BLK-M", 1)])
    till.ready()
    # Finance's report for the day already exists, with the sale still in flight.
    reconciliation_generate(source=till.source, business_date=txn.business_date, client=fulfil_client)
    day = ReconciliationDay.objects.get(source=till.source, pos_location_id=txn.pos_location_id)
    assert day.stale_since is None

    assert inventory_lane_run(client=fulfil_client)["posted"] == 1
    day.refresh_from_db()
    assert day.stale_since is not None
    stale_days_regenerate(client=fulfil_client)
    day.refresh_from_db()
    assert day.stale_since is None
    assert day.status == "balanced"


def test_a_cached_walk_in_party_fulfil_no_longer_has_is_looked_up_again_not_left_rejecting_sales(
    till, fulfil_client
):
    from integration.pipeline.payload import _cache_key

    # Fulfil's walk-in party for Oxford Street was deleted or renumbered since we cached its id.
    cache.set(_cache_key(fulfil_client, "WALKIN-ST-OXF"), 999_999, 3600)
    txn = till.sell(items=[("TEE-CRW-BLK-M", 1)])
    till.ready()
    summary = inventory_lane_run(client=fulfil_client)
    txn.refresh_from_db()
    # Fulfil refused the stale party; the id was forgotten, looked up afresh and the sale posted.
    assert summary.get("rejected", 0) == 0
    assert summary["retry_wait"] == 1
    assert txn.state == S.POSTED
    assert PostingAttempt.objects.filter(transaction=txn, error__contains="party.party").exists()
    assert not ExceptionGroup.objects.filter(type=ExceptionType.FULFIL_REJECTED).exists()
