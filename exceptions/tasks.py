"""Thin background tasks for the workbench: ids in, service out."""

from django.conf import settings


def run_bulk_action(job_id: int) -> dict:
    from exceptions.bulk import bulk_action_run

    return bulk_action_run(job_id=job_id).outcome


def wake_snoozed_groups() -> int:
    from exceptions.services import exception_groups_wake

    return exception_groups_wake()


def send_alerts() -> dict:
    from exceptions.alerts import alerts_send

    return alerts_send(delay_age_minutes=settings.ALERT_DELAY_GROUP_AGE_MINUTES)


def send_daily_digest() -> int:
    from exceptions.alerts import digest_send

    return digest_send()
