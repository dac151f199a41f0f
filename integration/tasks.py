"""Background tasks: thin wrappers that take ids, re-fetch and call a service."""

from django.core.cache import cache
from django.utils import timezone

WORKER_HEARTBEAT_KEY = "worker-heartbeat"


def worker_heartbeat() -> str:
    """Proves a worker is alive and draining the queue; the Health page reads it."""
    now = timezone.now().isoformat()
    cache.set(WORKER_HEARTBEAT_KEY, now, 24 * 3600)
    return now


def process_inbound_event(event_id: int) -> str:
    """Normalize and ingest one stored POS event (enqueued by the webhook view after commit)."""
    from integration.services import inbound_event_process

    return inbound_event_process(event_id=event_id)


def sweep_received_events() -> int:
    """Safety net: process events still `received` a minute after arrival (lost enqueue, API outage)."""
    from integration.services import inbound_events_sweep

    return inbound_events_sweep(min_age_seconds=60)


def poll_pos_sources() -> dict:
    """Catch-up polling for every active source with an API base URL."""
    from integration.pos.pollers import poll_all

    return poll_all()
