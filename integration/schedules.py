"""Every recurring job, in one place. `manage.py setup_schedules` makes the database match this.

Each entry: (schedule name, task path, interval in minutes). Intervals come from settings so they
can be tuned per deployment and are shown on the Health page.
"""


def schedule_definitions() -> list[tuple[str, str, int]]:
    from django.conf import settings

    return [
        ("worker heartbeat", "integration.tasks.worker_heartbeat", 1),
        ("Fulfil catalog sync", "mappings.tasks.catalog_sync_task", settings.CATALOG_SYNC_INTERVAL_MINUTES),
        ("sweep unprocessed POS events", "integration.tasks.sweep_received_events", 1),
        (
            "catch-up poll of POS sources",
            "integration.tasks.poll_pos_sources",
            settings.SYNC_POLL_INTERVAL_MINUTES,
        ),
        ("reconciliation nightly", "reconciliation.tasks.reconciliation_nightly", 60),
        ("reconciliation stale days", "reconciliation.tasks.reconciliation_regenerate_stale", 10),
        ("exceptions: wake snoozed groups", "exceptions.tasks.wake_snoozed_groups", 5),
        ("exceptions: alerts", "exceptions.tasks.send_alerts", 5),
        ("exceptions: daily digest", "exceptions.tasks.send_daily_digest", 24 * 60),
    ]


def _interval_label(minutes: int) -> str:
    return f"every {minutes} min" if minutes != 1 else "every minute"


def describe() -> list[dict]:
    return [
        {"name": name, "func": func, "interval": _interval_label(minutes)}
        for name, func, minutes in schedule_definitions()
    ]
