"""Claiming work so any number of workers post each transaction exactly once.

A claim moves rows to `posting` with a fresh `claim_token` and `claimed_at` in one statement. Every
later write by the claimant filters on its token, so a claim the stale-claim sweep has taken back
(its worker died or hung) can never be written over by the late worker.

PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED` lets concurrent workers take disjoint rows without
waiting on each other. Elsewhere (SQLite, the zero-setup demo): a conditional UPDATE that only
changes rows still in a claimable state, then a read-back by token; SQLite serialises writers, so the
UPDATE is the arbiter.
"""

import datetime as dt
import random
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from integration.models import PosTransaction, TransactionState

S = TransactionState


@dataclass(frozen=True)
class Claim:
    token: uuid.UUID
    ids: list[int]
    # Transactions that may already be in Fulfil (an earlier attempt, an unknown outcome, a dead
    # worker): the poster looks these up by channel_identifier before sending anything.
    lookup_first: frozenset[int]


def _claimable(now: dt.datetime) -> Q:
    return (
        Q(state=S.READY)
        | Q(state=S.RETRY_WAIT, next_attempt_at__lte=now)
        | Q(state=S.RETRY_WAIT, next_attempt_at__isnull=True)
        | Q(state=S.OUTCOME_UNKNOWN)
    )


def _needs_lookup(state: str, attempts: int, fulfil_sale_id) -> bool:
    return state == S.OUTCOME_UNKNOWN or attempts > 0 or fulfil_sale_id is not None


def transactions_claim(*, limit: int, now: dt.datetime | None = None) -> Claim:
    """Claim up to `limit` postable transactions (oldest first) for this worker."""
    now = now or timezone.now()
    token = uuid.uuid4()
    if connection.vendor == "postgresql":
        with transaction.atomic():
            rows = list(
                PosTransaction.objects.select_for_update(skip_locked=True)
                .filter(_claimable(now))
                .order_by("id")
                .values_list("id", "state", "attempts", "fulfil_sale_id")[:limit]
            )
            ids = [row[0] for row in rows]
            PosTransaction.objects.filter(id__in=ids).update(
                state=S.POSTING, claim_token=token, claimed_at=now, updated_at=now
            )
    else:
        candidates = list(
            PosTransaction.objects.filter(_claimable(now)).order_by("id").values_list("id", flat=True)[:limit]
        )
        with transaction.atomic():
            before = {
                row[0]: row
                for row in PosTransaction.objects.filter(id__in=candidates)
                .filter(_claimable(now))
                .values_list("id", "state", "attempts", "fulfil_sale_id")
            }
            PosTransaction.objects.filter(id__in=list(before)).filter(_claimable(now)).update(
                state=S.POSTING, claim_token=token, claimed_at=now, updated_at=now
            )
            ids = sorted(PosTransaction.objects.filter(claim_token=token).values_list("id", flat=True))
            rows = [before[i] for i in ids]
    lookup = frozenset(row[0] for row in rows if _needs_lookup(row[1], row[2], row[3]))
    return Claim(token=token, ids=ids, lookup_first=lookup)


def claims_release_stale(*, older_than: dt.timedelta | None = None, now: dt.datetime | None = None) -> int:
    """Take back claims whose worker died or hung: they become `outcome_unknown`.

    Not `ready`: the worker may have sent the sale before it died, so the next claim looks it up by
    channel_identifier before sending anything.
    """
    now = now or timezone.now()
    older_than = (
        older_than if older_than is not None else dt.timedelta(minutes=settings.SYNC_CLAIM_TIMEOUT_MINUTES)
    )
    return PosTransaction.objects.filter(state=S.POSTING, claimed_at__lte=now - older_than).update(
        state=S.OUTCOME_UNKNOWN,
        claim_token=None,
        claimed_at=None,
        last_error="The worker posting this stopped; it will be looked up in Fulfil and finished.",
        updated_at=now,
    )


def retry_delay(*, attempts: int, retry_after: float | None = None) -> dt.timedelta:
    """Exponential backoff with full jitter, never sooner than Fulfil's Retry-After.

    Jitter spreads the retries of many transactions (and workers) that failed together, so they do
    not hit a recovering Fulfil in one burst.
    """
    base = settings.SYNC_RETRY_BASE_SECONDS
    ceiling = min(settings.SYNC_RETRY_MAX_SECONDS, base * (2 ** max(attempts - 1, 0)))
    seconds = random.uniform(ceiling / 2, ceiling)
    if retry_after:
        seconds = max(seconds, float(retry_after))
    return dt.timedelta(seconds=seconds)
