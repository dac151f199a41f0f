from datetime import datetime, timedelta

from django.db.models import Case, Count, Max, Min, Q, QuerySet, When
from django.utils import timezone

from integration.models import (
    IN_FLIGHT_STATES,
    InboundEvent,
    PostingAttempt,
    PosTransaction,
    TransactionState,
)


def transaction_list(*, filters: dict | None = None) -> QuerySet[PosTransaction]:
    return PosTransaction.objects.select_related("source").filter(**(filters or {}))


def transaction_get(*, pk: int) -> PosTransaction:
    return (
        PosTransaction.objects.select_related("source", "original", "inbound_event")
        .prefetch_related("lines__taxes", "tenders")
        .get(pk=pk)
    )


def health_summary() -> dict:
    """Backlog, retries and recent Fulfil behaviour, for the Health page."""
    from django.conf import settings
    from django.core.cache import cache

    from integration.schedules import describe
    from integration.tasks import WORKER_HEARTBEAT_KEY

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
        .annotate(oldest=Min("occurred_at"), waiting=Count("id"))
        .order_by("oldest")[:20]
    )
    retry = PosTransaction.objects.filter(state=TransactionState.RETRY_WAIT).aggregate(
        n=Count("id"), next_due=Min("next_attempt_at"), since=Min("first_failed_at")
    )
    last_post = PosTransaction.objects.filter(posted_at__isnull=False).order_by("-posted_at").first()
    heartbeat = cache.get(WORKER_HEARTBEAT_KEY)
    heartbeat_at = datetime.fromisoformat(heartbeat) if heartbeat else None
    return {
        "backlog": backlog,
        "backlog_total": sum(backlog.values()),
        "oldest_unposted": list(oldest),
        "quarantined": InboundEvent.objects.filter(status=InboundEvent.Status.QUARANTINED).count(),
        "retry_queue": retry["n"],
        "retry_next_due": retry["next_due"],
        "retry_failing_since": retry["since"],
        "last_posted_at": last_post.posted_at if last_post else None,
        "worker_heartbeat": heartbeat_at,
        "worker_alive": bool(heartbeat_at and now - heartbeat_at < timedelta(minutes=3)),
        "schedules": describe(),
        "tolerances": [
            ("Transactions per Fulfil create call", settings.SYNC_BATCH_SIZE),
            ("Tax tolerance (POS vs Fulfil)", settings.SYNC_TAX_TOLERANCE),
            ("Totals tolerance (POS totals vs parts)", settings.SYNC_TOTALS_TOLERANCE),
            ("Grace for a return's original to arrive (min)", settings.SYNC_RETURN_GRACE_MINUTES),
            ("Failures before a sync-timeout alert", settings.SYNC_MAX_ATTEMPTS_BEFORE_ALERT),
            ("…or minutes failing before the alert", settings.SYNC_MAX_MINUTES_BEFORE_ALERT),
            ("A claim is presumed dead after (min)", settings.SYNC_CLAIM_TIMEOUT_MINUTES),
            ("Tender batches close at (store time, next day)", f"{settings.SYNC_TENDER_CLOSE_HOUR_LOCAL}:00"),
        ],
        **fulfil_calls_last_hour(now=now),
    }


def fulfil_calls_last_hour(*, now) -> dict:
    """Fulfil calls (not per-transaction rows: one PostingAttempt batch_id is one call)."""
    calls = (
        PostingAttempt.objects.filter(started_at__gte=now - timedelta(hours=1))
        .values("batch_id")
        .annotate(duration=Max("duration_ms"), failed=Max(Case(When(~Q(outcome="ok"), then=1), default=0)))
    )
    rows = list(calls.values_list("duration", "failed"))
    durations = sorted(d for d, _ in rows)
    failed = sum(f for _, f in rows)
    return {
        "attempts_last_hour": len(rows),
        "failed_last_hour": failed,
        "error_rate_last_hour": (failed / len(rows)) if rows else 0.0,
        "latency_avg_ms": int(sum(durations) / len(durations)) if durations else None,
        "latency_p95_ms": durations[min(len(durations) - 1, int(len(durations) * 0.95))]
        if durations
        else None,
    }


def quarantine_list(
    *, source_code: str = "", status: str = InboundEvent.Status.QUARANTINED
) -> QuerySet[InboundEvent]:
    qs = InboundEvent.objects.select_related("source").filter(status=status).defer("body")
    if source_code:
        qs = qs.filter(source__code=source_code)
    return qs.order_by("-received_at")


def transaction_related(*, txn: PosTransaction) -> dict:
    """Exceptions, posting attempts and each line's Fulfil product, shown beside a transaction."""
    from exceptions.models import ExceptionOccurrence
    from mappings.models import FulfilProduct

    lines = list(txn.lines.all())
    products = FulfilProduct.objects.in_bulk(
        {line.fulfil_product_id for line in lines if line.fulfil_product_id}, field_name="fulfil_id"
    )
    return {
        "lines": [(line, products.get(line.fulfil_product_id)) for line in lines],
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
