"""Background tasks: thin wrappers that take ids, re-fetch and call a service."""

from django.core.cache import cache
from django.utils import timezone

WORKER_HEARTBEAT_KEY = "worker-heartbeat"


def worker_heartbeat() -> str:
    """Proves a worker is alive and draining the queue; the Health page reads it."""
    now = timezone.now().isoformat()
    cache.set(WORKER_HEARTBEAT_KEY, now, 24 * 3600)
    return now
