"""The Health page tells ops what the engine is doing, in plain words."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from integration.models import PosTransaction, TransactionState
from integration.pipeline.post import inventory_lane_run
from integration.tasks import worker_heartbeat


def test_health_shows_backlog_retries_fulfil_calls_heartbeat_and_schedules(
    till, fulfil_client, ops_client, django_assert_max_num_queries
):
    till.sell()
    waiting = till.sell()
    till.ready()
    PosTransaction.objects.filter(pk=waiting.pk).update(
        state=TransactionState.RETRY_WAIT, next_attempt_at=timezone.now() + dt.timedelta(hours=1)
    )
    inventory_lane_run(client=fulfil_client, max_batches=1)
    worker_heartbeat()
    with django_assert_max_num_queries(20):
        response = ops_client.get(reverse("integration:health"))
    page = response.content.decode()
    summary = response.context["summary"]
    assert summary["attempts_last_hour"] >= 5
    assert summary["latency_avg_ms"] is not None
    assert summary["worker_alive"]
    assert summary["last_posted_at"] is not None
    assert "inventory lane" in page
    assert "Tax tolerance" in page
    assert "alive" in page
    assert summary["retry_queue"] == 1
