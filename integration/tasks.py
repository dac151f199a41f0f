"""Background tasks: thin wrappers that take ids, re-fetch and call a service."""

from django.core.cache import cache
from django.utils import timezone

WORKER_HEARTBEAT_KEY = "worker-heartbeat"


def worker_heartbeat() -> str:
    """Proves a worker is alive and draining the queue; the Health page reads it."""
    now = timezone.now().isoformat()
    cache.set(WORKER_HEARTBEAT_KEY, now, 24 * 3600)
    return now


# --- the sync engine (issue 5): each task is one service call; the services own the logic ---------


def engine_validation_sweep() -> dict:
    """Validate every `normalized` transaction that is due (new ones, returns whose wait is over)."""
    from integration.pipeline.validate import transactions_validate

    return transactions_validate()


def engine_inventory_lane() -> dict:
    """Post ready and due-for-retry transactions until none are left or the time budget is spent."""
    from integration.pipeline.post import inventory_lane_run

    return inventory_lane_run()


def engine_retry_sweep() -> dict:
    """Take back claims of dead or hung workers (they become outcome_unknown: looked up first)."""
    from integration.pipeline.claims import claims_release_stale

    return {"released": claims_release_stale()}


def engine_return_grace_sweep() -> dict:
    """Returns waiting or blocked on their original: recheck the ones whose original has now posted."""
    from integration.pipeline.validate import returns_recheck

    return returns_recheck()


def engine_tender_lane() -> dict:
    """Batch closed store days' tenders and post them as payments."""
    from integration.pipeline.tender import tender_lane_run

    return tender_lane_run()


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
