from datetime import timedelta

from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from integration.models import IN_FLIGHT_STATES, InboundEvent, PostingAttempt, PosTransaction


def transaction_list(*, filters: dict | None = None) -> QuerySet[PosTransaction]:
    return PosTransaction.objects.select_related("source").filter(**(filters or {}))


def transaction_get(*, pk: int) -> PosTransaction:
    return (
        PosTransaction.objects.select_related("source", "original", "inbound_event")
        .prefetch_related("lines__taxes", "tenders")
        .get(pk=pk)
    )


def health_summary() -> dict:
    """Backlog and recent Fulfil behaviour, for the Health page and /healthz."""
    now = timezone.now()
    backlog = dict(
        PosTransaction.objects.filter(state__in=IN_FLIGHT_STATES)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    oldest = (
        PosTransaction.objects.filter(state__in=IN_FLIGHT_STATES)
        .values("source__name", "pos_location_name", "pos_location_id")
        .annotate(oldest=Min("occurred_at"))
        .order_by("oldest")[:20]
    )
    hour_ago = now - timedelta(hours=1)
    attempts = PostingAttempt.objects.filter(started_at__gte=hour_ago)
    total_attempts = attempts.count()
    failed = attempts.exclude(outcome=PostingAttempt.Outcome.OK).count()
    last_post = PosTransaction.objects.filter(posted_at__isnull=False).order_by("-posted_at").first()
    return {
        "backlog": backlog,
        "backlog_total": sum(backlog.values()),
        "oldest_unposted": list(oldest),
        "quarantined": InboundEvent.objects.filter(status=InboundEvent.Status.QUARANTINED).count(),
        "attempts_last_hour": total_attempts,
        "failed_last_hour": failed,
        "error_rate_last_hour": (failed / total_attempts) if total_attempts else 0.0,
        "last_posted_at": last_post.posted_at if last_post else None,
    }


def quarantine_list(
    *, source_code: str = "", status: str = InboundEvent.Status.QUARANTINED
) -> QuerySet[InboundEvent]:
    qs = InboundEvent.objects.select_related("source").filter(status=status).defer("body")
    if source_code:
        qs = qs.filter(source__code=source_code)
    return qs.order_by("-received_at")


def transaction_related(*, txn: PosTransaction) -> dict:
    """Exceptions and posting attempts shown beside a transaction."""
    from exceptions.models import ExceptionOccurrence

    return {
        "occurrences": ExceptionOccurrence.objects.filter(transaction=txn)
        .select_related("group")
        .order_by("-id")[:50],
        "attempts": PostingAttempt.objects.filter(transaction=txn)[:50],
        "raw_body": _raw_text(txn.inbound_event),
    }


def _raw_text(event: InboundEvent | None) -> str:
    if event is None:
        return ""
    text = bytes(event.body).decode("utf-8", "replace")
    try:
        import json

        return json.dumps(json.loads(text), indent=2)[:50000]
    except ValueError:
        return text[:50000]
