"""Every recurring job, in one place. `manage.py setup_schedules` makes the database match this.

Each entry: (schedule name, task path, interval in minutes). Intervals come from settings so they
can be tuned per deployment and are shown on the Health page.
"""

from django.conf import settings


def schedule_definitions() -> list[tuple[str, str, int]]:
    return [
        ("worker heartbeat", "integration.tasks.worker_heartbeat", 1),
        ("sweep unprocessed POS events", "integration.tasks.sweep_received_events", 1),
        (
            "catch-up poll of POS sources",
            "integration.tasks.poll_pos_sources",
            settings.SYNC_POLL_INTERVAL_MINUTES,
        ),
        ("Fulfil catalog sync", "mappings.tasks.catalog_sync_task", settings.CATALOG_SYNC_INTERVAL_MINUTES),
        *engine_schedules(settings),
    ]


def engine_schedules(settings) -> list[tuple[str, str, int]]:
    """The sync engine's lanes and sweeps (issue 5)."""
    return [
        ("validation sweep", "integration.tasks.engine_validation_sweep", 1),
        (
            "inventory lane",
            "integration.tasks.engine_inventory_lane",
            settings.SYNC_INVENTORY_INTERVAL_MINUTES,
        ),
        ("retry sweep", "integration.tasks.engine_retry_sweep", 1),
        ("unlinked-return grace sweep", "integration.tasks.engine_return_grace_sweep", 5),
        # Hourly: each source's day is batched once its own local close hour has passed.
        ("tender lane", "integration.tasks.engine_tender_lane", settings.SYNC_TENDER_INTERVAL_MINUTES),
    ]


def _interval_label(minutes: int) -> str:
    return f"every {minutes} min" if minutes != 1 else "every minute"


def describe() -> list[dict]:
    return [
        {"name": name, "func": func, "interval": _interval_label(minutes)}
        for name, func, minutes in schedule_definitions()
    ]
