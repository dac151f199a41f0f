"""Reads for the finance pages: the matrix, one day's report, the month-end summary, the plot series."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from exceptions.models import ExceptionGroup, ExceptionOccurrence
from integration.models import IN_FLIGHT_STATES, PosSource, PosTransaction
from mappings.models import FulfilWarehouse
from reconciliation.models import (
    DayStatus,
    MonthClose,
    ReconciliationDay,
    ReconciliationRun,
    TenderBatch,
    VarianceItem,
)

ZERO = Decimal("0.00")


def month_days(month: dt.date) -> list[dt.date]:
    last = calendar.monthrange(month.year, month.month)[1]
    return [month.replace(day=d) for d in range(1, last + 1)]


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    days = month_days(month)
    return days[0], days[-1]


def parse_month(value: str | None) -> dt.date:
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        return timezone.localdate().replace(day=1)


@dataclasses.dataclass
class MatrixRow:
    source_code: str
    source_name: str
    store: str
    name: str
    cells: list[ReconciliationDay | None]
    unexplained: Decimal


def day_list(*, month: dt.date, source: str = "", region: str = "") -> QuerySet[ReconciliationDay]:
    first, last = month_bounds(month)
    days = ReconciliationDay.objects.filter(business_date__gte=first, business_date__lte=last)
    if source:
        days = days.filter(source__code=source)
    if region:
        days = days.filter(source__region=region)
    return days


def matrix(*, month: dt.date, source: str = "", region: str = "") -> list[MatrixRow]:
    """One row per store, one cell per day of the month: a single query however many stores."""
    dates = month_days(month)
    index = {d: i for i, d in enumerate(dates)}
    rows: dict[tuple[str, str], MatrixRow] = {}
    qs = (
        day_list(month=month, source=source, region=region)
        .select_related("source")
        .only(
            "id",
            "pos_location_id",
            "pos_location_name",
            "business_date",
            "status",
            "variance",
            "unexplained",
            "closed_run_id",
            "current_run_id",
            "stale_since",
            "source__code",
            "source__name",
        )
    )
    for day in qs.order_by("source__code", "pos_location_id", "business_date"):
        key = (day.source.code, day.pos_location_id)
        row = rows.get(key)
        if row is None:
            row = rows[key] = MatrixRow(
                day.source.code,
                day.source.name,
                day.pos_location_id,
                day.pos_location_name or day.pos_location_id,
                [None] * len(dates),
                ZERO,
            )
        row.cells[index[day.business_date]] = day
        row.unexplained += day.unexplained
    return list(rows.values())


def filter_choices() -> dict:
    return {
        "sources": list(PosSource.objects.order_by("code").values_list("code", "name")),
        "regions": sorted({r for r in PosSource.objects.values_list("region", flat=True) if r}),
    }


def day_get(*, pk: int) -> ReconciliationDay:
    return ReconciliationDay.objects.select_related("source", "current_run", "closed_run").get(pk=pk)


def run_items(*, run: ReconciliationRun) -> list[VarianceItem]:
    items = list(
        run.items.select_related("transaction", "exception_group").order_by("explained", "kind", "id")
    )
    names = dict(
        FulfilWarehouse.objects.filter(
            fulfil_id__in={i.fulfil_warehouse_id for i in items if i.fulfil_warehouse_id}
        ).values_list("fulfil_id", "name")
    )
    for item in items:
        item.group_url = _group_url(item.exception_group_id) if item.exception_group_id else ""
        item.warehouse_name = names.get(item.fulfil_warehouse_id, "")
    return items


def _group_url(group_id: int) -> str:
    # The workbench's group page, when the exceptions app has one; its list otherwise.
    try:
        return reverse("exceptions:detail", args=[group_id])
    except NoReverseMatch:
        return reverse("exceptions:list")


def runs_of_day(*, day: ReconciliationDay) -> QuerySet[ReconciliationRun]:
    return ReconciliationRun.objects.filter(
        source_id=day.source_id, pos_location_id=day.pos_location_id, business_date=day.business_date
    ).select_related("generated_by")


def post_close_adjustment(*, day: ReconciliationDay) -> list[dict] | None:
    """Lines whose figures moved since the month was signed off, as (at close → now) pairs."""
    if not day.closed_run_id or day.closed_run_id == day.current_run_id:
        return None
    before = {line["key"]: line for line in day.closed_run.figures}
    changes = []
    for line in day.current_run.figures:
        old = before.get(line["key"], {})
        if old.get("pos") != line["pos"] or old.get("fulfil") != line["fulfil"]:
            changes.append(
                {
                    "label": line["label"],
                    "pos_before": old.get("pos"),
                    "pos_now": line["pos"],
                    "fulfil_before": old.get("fulfil"),
                    "fulfil_now": line["fulfil"],
                }
            )
    return changes


def batch_list() -> QuerySet[TenderBatch]:
    return TenderBatch.objects.select_related("source")


def month_summary(*, month: dt.date) -> dict:
    """Everything the month-end checklist asks, in a fixed number of queries."""
    first, last = month_bounds(month)
    days = ReconciliationDay.objects.filter(business_date__gte=first, business_date__lte=last)
    per_store = list(
        days.values("source__code", "pos_location_id", "pos_location_name")
        .annotate(
            days=Count("id"),
            balanced=Count("id", filter=Q(status=DayStatus.BALANCED)),
            explained=Count("id", filter=Q(status=DayStatus.EXPLAINED)),
            unexplained_days=Count("id", filter=Q(status__in=[DayStatus.UNEXPLAINED, DayStatus.FAILED])),
            unexplained_amount=Sum("unexplained"),
        )
        .order_by("-unexplained_days", "source__code", "pos_location_id")
    )
    unposted = PosTransaction.objects.filter(
        business_date__gte=first, business_date__lte=last, state__in=IN_FLIGHT_STATES
    ).aggregate(count=Count("id"), amount=Sum("total"))
    duplicates = VarianceItem.objects.filter(
        kind=VarianceItem.Kind.DUPLICATE, run__in=days.values("current_run")
    ).aggregate(count=Count("id"), amount=Sum("fulfil_amount"))
    return {
        "month": month,
        "per_store": per_store,
        "totals": days.aggregate(
            days=Count("id"),
            balanced=Count("id", filter=Q(status=DayStatus.BALANCED)),
            explained=Count("id", filter=Q(status=DayStatus.EXPLAINED)),
            unexplained=Count("id", filter=Q(status__in=[DayStatus.UNEXPLAINED, DayStatus.FAILED])),
            stale=Count("id", filter=Q(stale_since__isnull=False)),
        ),
        "exceptions_by_age": exceptions_by_age(first=first, last=last),
        "unposted": {"count": unposted["count"] or 0, "amount": unposted["amount"] or ZERO},
        "duplicates": {"count": duplicates["count"] or 0, "amount": duplicates["amount"] or ZERO},
        "close": MonthClose.objects.select_related("signed_off_by").filter(month=first).first(),
    }


AGE_BUCKETS = ((1, "Under a day"), (7, "1–7 days"), (30, "8–30 days"), (None, "Over 30 days"))


def exceptions_by_age(*, first: dt.date, last: dt.date) -> list[dict]:
    """Open exception groups holding this month's transactions, by how long they have been open."""
    group_ids = ExceptionOccurrence.objects.filter(
        is_open=True, transaction__business_date__gte=first, transaction__business_date__lte=last
    ).values("group_id")
    now = timezone.now()
    buckets = {label: {"label": label, "count": 0, "money": ZERO} for _, label in AGE_BUCKETS}
    groups = ExceptionGroup.objects.filter(id__in=group_ids, status=ExceptionGroup.Status.OPEN)
    for first_seen, money in groups.values_list("first_seen", "money_at_risk"):
        age = (now - first_seen).days
        label = next(lbl for limit, lbl in AGE_BUCKETS if limit is None or age < limit)
        buckets[label]["count"] += 1
        buckets[label]["money"] += money or ZERO
    return list(buckets.values())


def month_series(*, month: dt.date) -> dict:
    """Per day of the month: total absolute variance, unexplained variance, blocked items."""
    first, last = month_bounds(month)
    variance: dict[dt.date, Decimal] = defaultdict(lambda: ZERO)
    unexplained: dict[dt.date, Decimal] = defaultdict(lambda: ZERO)
    days = ReconciliationDay.objects.filter(business_date__gte=first, business_date__lte=last)
    for date, var, unexp in days.values_list("business_date", "variance", "unexplained"):
        variance[date] += abs(var)
        unexplained[date] += abs(unexp)
    exceptions = dict(
        VarianceItem.objects.filter(run__in=days.values("current_run"), explained=False)
        .values("run__business_date")
        .annotate(n=Count("id"))
        .values_list("run__business_date", "n")
    )
    blocked = dict(
        VarianceItem.objects.filter(run__in=days.values("current_run"), kind=VarianceItem.Kind.BLOCKED)
        .values("run__business_date")
        .annotate(n=Count("id"))
        .values_list("run__business_date", "n")
    )
    dates = month_days(month)
    return {
        "dates": dates,
        "variance": [variance[d] for d in dates],
        "unexplained": [unexplained[d] for d in dates],
        "unexplained_items": [exceptions.get(d, 0) for d in dates],
        "blocked": [blocked.get(d, 0) for d in dates],
    }
