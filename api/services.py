"""Triage actions on exception groups that the API offers and the exceptions app may not have yet.

The workbench issue owns `exceptions.services`; when it provides `exception_group_assign` or
`exception_group_snooze`, the API calls those by name instead (see `group_action`). These keep the
same contract: keyword-only, audit entry in the same transaction.
"""

import datetime as dt
import importlib

from django.db import transaction

from accounts.services import audit_record
from exceptions.models import ExceptionGroup


@transaction.atomic
def exception_group_assign(*, group: ExceptionGroup, assignee, actor) -> ExceptionGroup:
    before = {"assignee": group.assignee.get_username() if group.assignee else None}
    group.assignee = assignee
    group.save(update_fields=["assignee"])
    audit_record(
        actor=actor,
        action="exception_group.assigned",
        obj=group,
        before=before,
        after={"assignee": assignee.get_username() if assignee else None},
    )
    return group


@transaction.atomic
def exception_group_snooze(
    *, group: ExceptionGroup, until: dt.datetime, actor, note: str = ""
) -> ExceptionGroup:
    before = {
        "status": group.status,
        "snoozed_until": group.snoozed_until.isoformat() if group.snoozed_until else None,
    }
    group.status, group.snoozed_until = ExceptionGroup.Status.SNOOZED, until
    group.save(update_fields=["status", "snoozed_until"])
    audit_record(
        actor=actor,
        action="exception_group.snoozed",
        obj=group,
        before=before,
        after={"status": group.status, "snoozed_until": until.isoformat()},
        note=note,
    )
    return group


def group_action(name: str):
    """The exceptions app's own service if it has one, else ours."""
    own = getattr(importlib.import_module("exceptions.services"), name, None)
    return own or globals()[name]
