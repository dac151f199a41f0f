"""Tell people: one message per group (never per transaction), a daily digest, and a backlog alarm.

Channels: e-mail to ALERT_EMAILS and a Slack-compatible incoming webhook (ALERT_WEBHOOK_URL).
A group is announced once (notified_at); it is announced again only if it reopens.
"""

import datetime as dt
import logging

import httpx
from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db.models import Min, Sum
from django.utils import timezone

from exceptions.models import ExceptionGroup
from exceptions.selectors import groups_needing_alert
from integration.models import IN_FLIGHT_STATES, PosTransaction

logger = logging.getLogger(__name__)
BACKLOG_ALERT_KEY = "alert:oldest-unposted"


def _deliver(subject: str, text: str) -> int:
    sent = 0
    if settings.ALERT_EMAILS:
        send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, settings.ALERT_EMAILS, fail_silently=False)
        sent += 1
    if settings.ALERT_WEBHOOK_URL:
        try:
            httpx.post(
                settings.ALERT_WEBHOOK_URL, json={"text": f"*{subject}*\n{text}"}, timeout=5
            ).raise_for_status()
            sent += 1
        except httpx.HTTPError as exc:  # an alert channel being down must not stop the others
            logger.warning("alert webhook failed: %s", exc.__class__.__name__)
    return sent


def _group_text(group: ExceptionGroup) -> str:
    return (
        f"{group.title}\n{group.get_severity_display()} · {group.open_count} transaction(s) blocked · "
        f"{group.money_at_risk} at risk · stores: {', '.join(group.stores[:5]) or '—'}\n"
        f"First seen {timezone.localtime(group.first_seen):%d %b %H:%M}. "
        f"Open it in Tillbridge: /exceptions/{group.pk}/"
    )


def alerts_send(*, delay_age_minutes: int) -> dict:
    announced = 0
    for group in groups_needing_alert(delay_age_minutes=delay_age_minutes)[:50]:
        _deliver(
            f"[Tillbridge] {group.get_severity_display()}: {group.get_type_display()}", _group_text(group)
        )
        ExceptionGroup.objects.filter(pk=group.pk).update(notified_at=timezone.now())
        announced += 1
    return {"groups": announced, "backlog": backlog_alert_send()}


def backlog_alert_send() -> bool:
    """Alert when the oldest unposted transaction is older than the threshold; at most once an hour."""
    threshold = timezone.now() - dt.timedelta(minutes=settings.ALERT_OLDEST_UNPOSTED_MINUTES)
    oldest = PosTransaction.objects.filter(state__in=IN_FLIGHT_STATES).aggregate(t=Min("occurred_at"))["t"]
    if oldest is None or oldest > threshold or not cache.add(BACKLOG_ALERT_KEY, "1", 3600):
        return False
    waiting = PosTransaction.objects.filter(state__in=IN_FLIGHT_STATES, occurred_at__lte=threshold).count()
    _deliver(
        "[Tillbridge] Sales are waiting to reach Fulfil",
        f"{waiting} transaction(s) older than {settings.ALERT_OLDEST_UNPOSTED_MINUTES} minutes "
        "have not posted; "
        f"the oldest is from {timezone.localtime(oldest):%d %b %H:%M}. See Health and Exceptions.",
    )
    return True


def digest_send() -> int:
    groups = ExceptionGroup.objects.filter(status=ExceptionGroup.Status.OPEN).order_by("-money_at_risk")
    total = groups.count()
    if not total:
        return 0
    money = groups.aggregate(m=Sum("money_at_risk"))["m"]
    lines = [f"{total} open exception group(s), {money} at risk. Largest:"]
    lines += [f"- {g.title} ({g.open_count} blocked, {g.money_at_risk})" for g in groups[:10]]
    _deliver("[Tillbridge] Daily exceptions digest", "\n".join(lines))
    return total
