"""Reads for the workbench: lists, the per-type summary strip, a group's page."""

import datetime as dt

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from exceptions.models import ExceptionGroup, ExceptionOccurrence, ExceptionType
from integration.models import PosTransaction


def group_list() -> QuerySet[ExceptionGroup]:
    return ExceptionGroup.objects.select_related("source", "assignee")


def group_summary(*, queryset: QuerySet[ExceptionGroup]) -> list[dict]:
    """Counts per type for the summary strip (over the status filter only, so every chip shows)."""
    rows = {
        r["type"]: r
        for r in queryset.order_by().values("type").annotate(groups=Count("id"), blocked=Sum("open_count"))
    }
    return [
        {
            "type": value,
            "label": label,
            "groups": rows.get(value, {}).get("groups", 0),
            "blocked": rows.get(value, {}).get("blocked") or 0,
        }
        for value, label in ExceptionType.choices
    ]


def group_transactions(*, group: ExceptionGroup, open_only: bool = True) -> QuerySet[PosTransaction]:
    occurrences = ExceptionOccurrence.objects.filter(group=group)
    if open_only:
        occurrences = occurrences.filter(is_open=True)
    return (
        PosTransaction.objects.filter(id__in=occurrences.values("transaction_id"))
        .select_related("source")
        .order_by("-occurred_at", "-id")
    )


def return_candidates(*, txn: PosTransaction, window_days: int = 60, limit: int = 10) -> list[dict]:
    """Sales that could be the original of an unlinked return, best first, with the evidence.

    Same source and store, within the window before the return, sharing SKUs; card last four
    digits and matching amounts raise the score.
    """
    skus = {line.sku for line in txn.lines.all() if line.sku}
    if not skus:
        return []
    card_last4 = {t.card_last4 for t in txn.tenders.all() if t.card_last4}
    since = txn.business_date - dt.timedelta(days=window_days)
    sales = (
        PosTransaction.objects.filter(
            source=txn.source,
            kind=PosTransaction.Kind.SALE,
            business_date__gte=since,
            business_date__lte=txn.business_date,
            lines__sku__in=skus,
        )
        .exclude(pk=txn.pk)
        .distinct()
        .prefetch_related("lines", "tenders")
        .order_by("-occurred_at")[:200]
    )
    returned = {(line.sku, abs(line.unit_price)) for line in txn.lines.all() if line.sku}
    results = []
    for sale in sales:
        evidence, score = [], 0
        sale_lines = {(line.sku, abs(line.unit_price)) for line in sale.lines.all()}
        shared = {sku for sku, _ in sale_lines} & skus
        evidence.append(f"{len(shared)} of {len(skus)} SKUs")
        score += 40 * len(shared) // len(skus)
        if returned <= sale_lines:
            evidence.append("same unit prices")
            score += 20
        if sale.pos_location_id == txn.pos_location_id:
            evidence.append("same store")
            score += 20
        if card_last4 and card_last4 & {t.card_last4 for t in sale.tenders.all()}:
            evidence.append("same card (last four digits)")
            score += 20
        results.append({"sale": sale, "score": score, "evidence": evidence})
    results.sort(key=lambda r: (-r["score"], -r["sale"].occurred_at.timestamp()))
    return results[:limit]


def groups_needing_alert(*, delay_age_minutes: int) -> QuerySet[ExceptionGroup]:
    """Open groups nobody has been told about: every new critical group, delay groups past an age."""
    cutoff = timezone.now() - dt.timedelta(minutes=delay_age_minutes)
    return ExceptionGroup.objects.filter(status=ExceptionGroup.Status.OPEN, notified_at__isnull=True).filter(
        Q(severity="critical") | Q(severity="delay", first_seen__lte=cutoff)
    )


def group_progress(*, group: ExceptionGroup) -> dict:
    """Counts by state of every transaction the group ever held (posted, on its way, blocked)."""
    from integration.models import DONE_STATES, TransactionState

    txns = PosTransaction.objects.filter(
        id__in=ExceptionOccurrence.objects.filter(group=group).values("transaction_id")
    )
    counts = dict(txns.order_by().values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    posted = sum(counts.get(s, 0) for s in DONE_STATES)
    moving = sum(
        counts.get(s, 0)
        for s in (
            TransactionState.READY,
            TransactionState.POSTING,
            TransactionState.RETRY_WAIT,
            TransactionState.OUTCOME_UNKNOWN,
            TransactionState.NORMALIZED,
        )
    )
    return {
        "posted": posted,
        "moving": moving,
        "blocked": counts.get(TransactionState.BLOCKED, 0),
        "total": sum(counts.values()),
    }


def group_subject(*, group: ExceptionGroup) -> dict:
    """What the root cause is about, read from the group's context or, failing that, from one of its
    transactions: the POS store (id, name) or the POS product (the key, its type, barcode, name)."""
    from integration.models import PosTransactionLine
    from mappings.models import SkuMap

    facts = dict(group.context)
    txn = group_transactions(group=group, open_only=False).first()
    if group.type == ExceptionType.UNMAPPED_LOCATION:
        facts.setdefault("pos_location_id", group.subject)
        facts.setdefault("pos_location_name", txn.pos_location_name if txn else "")
    elif group.type == ExceptionType.SKU_MISMATCH:
        line = (
            PosTransactionLine.objects.filter(transaction=txn)
            .filter(Q(sku=group.subject) | Q(barcode=group.subject) | Q(variant_ref=group.subject))
            .first()
            if txn
            else None
        )
        key_type = SkuMap.KeyType.SKU
        if line and not line.sku:
            key_type = SkuMap.KeyType.BARCODE if line.barcode == group.subject else SkuMap.KeyType.VARIANT
        facts.setdefault("sku", group.subject)
        facts.setdefault("key_type", key_type)
        facts.setdefault("barcode", line.barcode if line else "")
        facts.setdefault("description", line.description if line else "")
    return facts
