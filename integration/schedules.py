"""Every recurring job, in one place. `manage.py setup_schedules` makes the database match this.

Each entry: (schedule name, task path, interval in minutes). Intervals come from settings so they
can be tuned per deployment and are shown on the Health page.
"""


def schedule_definitions() -> list[tuple[str, str, int]]:
    return [
        ("worker heartbeat", "integration.tasks.worker_heartbeat", 1),
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
