"""Open and close exception occurrences for many transactions at once.

`exception_raise` is right for one problem at a time; a validation run over thousands of
transactions instead computes, per transaction, the set of problems it has *now*, and this module
applies the difference: new problems open (one group look-up and one counter refresh per root
cause, not per transaction), problems that went away close.
"""

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from exceptions.models import ExceptionGroup, ExceptionOccurrence
from exceptions.services import exception_group_counters_refresh, exception_raise
from integration.models import PosTransaction
from integration.pipeline.sql import ids_in

# A person's decision that a problem is acceptable for the transactions it covered.
ACCEPTING_RESOLUTIONS = (ExceptionGroup.Resolution.ACCEPTED, ExceptionGroup.Resolution.IGNORED)

# Groups whose counters wait to be recounted at the end of a `group_counters_deferred` block.
_deferred_groups: ContextVar[set[int] | None] = ContextVar("deferred_group_recount", default=None)


@contextmanager
def group_counters_deferred(*, enabled: bool = True) -> Iterator[None]:
    """Recount each exception group touched inside the block once, when the block ends.

    For callers already inside one database transaction (a workbench fix and its requeue): nothing
    else can see the counters before the commit, so recounting a 10,000-transaction group after
    every 500-row chunk (twenty times, ~0.2 s each) only costs time. If the block raises, the
    caller's transaction rolls back with it and nothing is recounted.
    """
    if not enabled or _deferred_groups.get() is not None:
        yield
        return
    touched: set[int] = set()
    token = _deferred_groups.set(touched)
    try:
        yield
    finally:
        _deferred_groups.reset(token)
    _recount(touched)


def _recount(group_ids: set[int]) -> None:
    """Refresh these groups' counters now, or at the end of the `group_counters_deferred` block."""
    touched = _deferred_groups.get()
    if touched is not None:
        touched.update(group_ids)
        return
    for group in ExceptionGroup.objects.select_for_update().filter(id__in=group_ids).order_by("id"):
        exception_group_counters_refresh(group=group)


@dataclass
class Problem:
    exc_type: str
    subject: str
    title: str
    fingerprint: str
    detail: dict = field(default_factory=dict)
    context: dict = field(default_factory=dict)


def accepted_fingerprints(*, transaction_ids: list[int]) -> set[tuple[int, str]]:
    """(transaction, fingerprint) pairs a person accepted or ignored: never raised again for them."""
    return occurrences_known(transaction_ids=transaction_ids)[1]


class Open(NamedTuple):
    """An open occurrence, as validation sees it."""

    id: int
    fingerprint: str
    type: str
    group_id: int


def occurrences_known(*, transaction_ids: list[int]) -> tuple[dict[int, list[Open]], set[tuple[int, str]]]:
    """Per transaction, every open occurrence; and the (transaction, fingerprint) pairs a person
    accepted or ignored (closed occurrences of a group resolved that way) — one query."""
    found: dict[int, list[Open]] = defaultdict(list)
    accepted: set[tuple[int, str]] = set()
    rows = (
        ExceptionOccurrence.objects.filter(transaction_id__in=ids_in(transaction_ids))
        .filter(Q(is_open=True) | Q(group__resolution__in=ACCEPTING_RESOLUTIONS))
        .values_list("id", "transaction_id", "is_open", "group__fingerprint", "group__type", "group_id")
    )
    for occ_id, txn_id, is_open, fingerprint, exc_type, group_id in rows:
        if is_open:
            found[txn_id].append(Open(occ_id, fingerprint, exc_type, group_id))
        else:
            accepted.add((txn_id, fingerprint))
    return found, accepted


@transaction.atomic
def problems_apply(
    *,
    problems: dict[int, list[Problem]],
    transactions: dict[int, PosTransaction],
    owned: Callable[[str, str], bool],
    existing: dict[int, list[Open]],
) -> None:
    """Make each transaction's open occurrences that `owned(fingerprint, type)` equal `problems[txn_id]`.

    Occurrences the caller does not own (raised by the poster, or by ingestion) are left alone.
    """
    to_open: dict[str, list[tuple[int, Problem]]] = defaultdict(list)
    to_close: list[Open] = []
    for txn_id, found in problems.items():
        wanted = {p.fingerprint for p in found}
        already = {occ.fingerprint for occ in existing.get(txn_id, [])}
        for problem in found:
            if problem.fingerprint not in already:
                to_open[problem.fingerprint].append((txn_id, problem))
        to_close.extend(
            occ
            for occ in existing.get(txn_id, [])
            if owned(occ.fingerprint, occ.type) and occ.fingerprint not in wanted
        )
    for fingerprint, items in to_open.items():
        _open_many(fingerprint=fingerprint, items=items, transactions=transactions)
    if to_close:
        _close_many(to_close)


def _open_many(*, fingerprint: str, items: list[tuple[int, Problem]], transactions) -> None:
    first_id, first = items[0]
    # The first goes through the one-at-a-time service: it creates or reopens the group and audits.
    occurrence = exception_raise(
        transaction_obj=transactions[first_id],
        exc_type=first.exc_type,
        subject=first.subject,
        title=first.title,
        context=first.context,
        detail=first.detail,
        fingerprint=fingerprint,
    )
    rest = items[1:]
    if not rest:
        return
    group = occurrence.group
    ExceptionOccurrence.objects.bulk_create(
        [ExceptionOccurrence(group=group, transaction_id=txn_id, detail=p.detail) for txn_id, p in rest],
        ignore_conflicts=True,  # one open occurrence per (group, transaction): a racing worker won
    )
    ExceptionGroup.objects.filter(pk=group.pk).update(last_seen=timezone.now())
    _recount({group.pk})


def _close_many(occurrences: list[Open]) -> None:
    group_ids = {occ.group_id for occ in occurrences}
    ExceptionOccurrence.objects.filter(id__in=ids_in([occ.id for occ in occurrences]), is_open=True).update(
        is_open=False, resolved_at=timezone.now()
    )
    # A group left with nothing open resolves itself as "auto" inside the counter refresh.
    _recount(group_ids)


@transaction.atomic
def problems_open(*, items: list[tuple[PosTransaction, Problem]]) -> None:
    """Open occurrences for (transaction, problem) pairs, grouped by root cause."""
    by_fingerprint: dict[str, list[tuple[int, Problem]]] = defaultdict(list)
    transactions = {}
    for txn, problem in items:
        by_fingerprint[problem.fingerprint].append((txn.pk, problem))
        transactions[txn.pk] = txn
    for fingerprint, grouped in by_fingerprint.items():
        _open_many(fingerprint=fingerprint, items=grouped, transactions=transactions)
