"""Bulk workbench actions over everything a filter selects, with a preview and background progress."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from exceptions import fixes
from exceptions.models import BulkAction, ExceptionGroup, ExceptionOccurrence
from exceptions.services import exception_group_assign, exception_group_snooze
from integration.models import PosTransaction

MAX_GROUPS = 5000


class _Rollback(Exception):
    pass


def bulk_requeue_preview(*, groups: QuerySet[ExceptionGroup]) -> dict:
    """What a requeue would do, found by doing it inside a transaction that is then rolled back.

    Exact by construction: the same validation decides, nothing is written.
    """
    group_ids = list(groups.values_list("id", flat=True)[:MAX_GROUPS])
    txn_ids = ExceptionOccurrence.objects.filter(group_id__in=group_ids, is_open=True).values(
        "transaction_id"
    )
    txns = list(PosTransaction.objects.filter(id__in=txn_ids))
    money = sum((abs(t.total) for t in txns), Decimal("0.00"))
    result = {}
    try:
        with transaction.atomic():
            result = fixes._requeue(txns, None)
            raise _Rollback
    except _Rollback:
        pass
    return {"groups": len(group_ids), "transactions": len(txns), "money": money, **result}


@transaction.atomic
def bulk_action_start(
    *, groups: QuerySet[ExceptionGroup], action: str, params: dict, actor, filter_query: str = ""
):
    if action not in BulkAction.Action.values:
        raise ValidationError("Choose an action.")
    if action in (BulkAction.Action.RESOLVE, BulkAction.Action.IGNORE) and not params.get("note", "").strip():
        raise ValidationError("Say why, so the next person knows.")
    group_ids = list(groups.values_list("id", flat=True)[:MAX_GROUPS])
    if not group_ids:
        raise ValidationError("The filter selects no groups.")
    clean = {k: v for k, v in params.items() if k in ("note", "assignee", "hours")}
    job = BulkAction.objects.create(
        created_by=actor,
        action=action,
        params=clean,
        group_ids=group_ids,
        total=len(group_ids),
        filter_query=filter_query[:1000],
    )
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from django_q.tasks import async_task

    async_task("exceptions.tasks.run_bulk_action", job_id, task_name=f"bulk-action-{job_id}")


def bulk_action_run(*, job_id: int) -> BulkAction:
    job = BulkAction.objects.select_related("created_by").get(pk=job_id)
    if job.status == BulkAction.Status.DONE:
        return job
    BulkAction.objects.filter(pk=job.pk).update(status=BulkAction.Status.RUNNING)
    outcome = {"groups": 0, "ready": 0, "blocked": 0, "errors": []}
    try:
        for group in ExceptionGroup.objects.filter(pk__in=job.group_ids).iterator():
            _apply(job, group, outcome)
            outcome["groups"] += 1
            BulkAction.objects.filter(pk=job.pk).update(done=outcome["groups"], outcome=outcome)
    except Exception as exc:  # recorded for the person watching the progress bar, then re-raised
        BulkAction.objects.filter(pk=job.pk).update(
            status=BulkAction.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    BulkAction.objects.filter(pk=job.pk).update(
        status=BulkAction.Status.DONE, outcome=outcome, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def _apply(job: BulkAction, group: ExceptionGroup, outcome: dict) -> None:
    actor, params = job.created_by, job.params
    try:
        if job.action == BulkAction.Action.REQUEUE:
            summary = fixes.group_requeue(group=group, actor=actor)
            outcome["ready"] += summary.get("ready", 0)
            outcome["blocked"] += summary.get("blocked", 0)
        elif job.action == BulkAction.Action.ASSIGN:
            from django.contrib.auth import get_user_model

            assignee = get_user_model().objects.filter(pk=params.get("assignee") or None).first()
            exception_group_assign(group=group, assignee=assignee, actor=actor)
        elif job.action == BulkAction.Action.SNOOZE:
            until = timezone.now() + dt.timedelta(hours=int(params.get("hours") or 4))
            exception_group_snooze(group=group, until=until, actor=actor, note=params.get("note", ""))
        else:
            fixes.group_resolve_with_note(
                group=group,
                actor=actor,
                note=params.get("note", ""),
                ignore=job.action == BulkAction.Action.IGNORE,
            )
    except ValidationError as exc:
        outcome["errors"].append({"group": group.pk, "error": " ".join(exc.messages)})
