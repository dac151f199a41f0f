"""The inventory lane: post claimed transactions to Fulfil as sales, in batches, exactly once.

One batch (up to SYNC_BATCH_SIZE transactions, ordered by warehouse and channel) costs a handful of
Fulfil calls whatever its size: look up (only for work that may already be there), create all sales
in one call, quote / read / confirm / process by id lists, one stock read. A record Fulfil refuses is
isolated by splitting the call in halves until it stands alone; the others carry on.

Failure handling, per transaction:
- UserError alone → `rejected` + a fulfil_rejected exception with Fulfil's words;
- 429 / 5xx / connection refused → `retry_wait`, exponential backoff with jitter, Retry-After honoured;
  after SYNC_MAX_ATTEMPTS_BEFORE_ALERT attempts (or SYNC_MAX_MINUTES_BEFORE_ALERT) a sync_timeout
  exception (severity delay) tells people, and retries continue;
- no answer after sending (OutcomeUnknown) → `outcome_unknown`: the next claim looks it up by
  channel_identifier before anything is sent again.
Fulfil's `channel_identifier` uniqueness is the last line of defence: even a blind re-send could not
create a second sale.
"""

import datetime as dt
import logging
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from exceptions.models import ExceptionType
from exceptions.services import exception_fingerprint, occurrences_close
from integration.fulfil.errors import FulfilError, OutcomeUnknown, RateLimited, UserError
from integration.models import PostingAttempt, PosTransaction, TransactionState
from integration.pipeline.claims import Claim, claims_release_stale, retry_delay, transactions_claim
from integration.pipeline.money import money
from integration.pipeline.payload import (
    expected_untaxed,
    sale_values,
    walk_in_code,
    walk_in_forget,
    walk_in_parties,
)
from integration.pipeline.raising import Problem, accepted_fingerprints, problems_open
from integration.pipeline.validate import QUOTED_TAX_MARKER
from mappings.models import FulfilProduct
from reconciliation.services import days_mark_stale

logger = logging.getLogger(__name__)
S = TransactionState
SALE_FIELDS = ["id", "channel_identifier", "state", "number", "tax_amount", "untaxed_amount"]
POSTED_SALE_STATES = ("processing", "done")
SAME_FIGURES = Decimal("0.01")


def _error_summary(exc: FulfilError) -> dict:
    body = exc.body if isinstance(exc.body, dict | list | str | type(None)) else str(exc.body)
    if isinstance(body, str):
        body = body[:500]
    return {"error": exc.message[:500], "body": body}


class BatchPoster:
    """Posts one claim. Every database write filters on the claim token."""

    def __init__(self, *, client, claim: Claim) -> None:
        self.client, self.claim = client, claim
        self.summary: Counter = Counter()
        self.sales: dict[int, dict] = {}  # txn id → Fulfil sale row (id, state, number, tax…)
        self.gone: set[int] = set()  # left this run: rejected, deferred, blocked
        self.attempts: list[PostingAttempt] = []
        self.txns: dict[int, PosTransaction] = {}

    # --- the recipe ---------------------------------------------------------------------------------

    def run(self) -> Counter:
        self._load()
        try:
            self._phase("lookup", [i for i in self.txns if i in self.claim.lookup_first], self._lookup)
            self._phase(
                "create", [i for i in self.txns if i not in self.sales and i not in self.gone], self._create
            )
            self._phase("quote", self._in_state("draft"), self._quote)
            self._phase("read", self._in_state("quotation"), self._read_quoted)
            self._phase("confirm", self._in_state("quotation"), self._confirm)
            self._stock_check(self._in_state("confirmed"))
            self._phase("process", self._in_state("confirmed"), self._process)
            self._mark_posted([i for i in self._alive() if self.sales[i]["state"] in POSTED_SALE_STATES])
        finally:
            PostingAttempt.objects.bulk_create(self.attempts)
        return self.summary

    def _load(self) -> None:
        qs = (
            PosTransaction.objects.filter(id__in=self.claim.ids, claim_token=self.claim.token)
            .select_related("source")
            .prefetch_related("lines")
        )
        loaded = list(qs)
        for txn in loaded:
            if "lines" not in txn.posted_with or "warehouse" not in txn.posted_with:
                # Never validated (put in a postable state by hand): validate first, post later.
                self._release(txn.pk, state=S.NORMALIZED)
                self.summary["sent_to_validation"] += 1
        ordered = sorted(
            (t for t in loaded if t.pk not in self.gone),
            key=lambda t: (t.posted_with.get("warehouse") or 0, t.posted_with.get("channel") or 0, t.pk),
        )
        self.txns = {t.pk: t for t in ordered}

    def _alive(self) -> list[int]:
        return [i for i in self.txns if i not in self.gone and i in self.sales]

    def _in_state(self, state: str) -> list[int]:
        return [i for i in self._alive() if self.sales[i]["state"] == state]

    # --- calls, attempts and bisection ---------------------------------------------------------------

    def _record(self, operation: str, ids: list[int], call: Callable[[], Any], summary: dict | None = None):
        """Make one Fulfil call on behalf of `ids`; log one PostingAttempt per transaction."""
        started, t0 = timezone.now(), time.monotonic()
        call_id = uuid.uuid4()
        outcome, status, response, error = PostingAttempt.Outcome.OK, 200, None, ""
        try:
            result = call()
            response = _response_summary(operation, result)
            return result
        except FulfilError as exc:
            status, response, error = exc.status_code, _error_summary(exc), str(exc)[:2000]
            outcome = (
                PostingAttempt.Outcome.UNKNOWN
                if isinstance(exc, OutcomeUnknown)
                else PostingAttempt.Outcome.REJECTED
                if isinstance(exc, UserError)
                else PostingAttempt.Outcome.TRANSIENT
            )
            raise
        finally:
            duration = int((time.monotonic() - t0) * 1000)
            for txn_id in ids:
                self.attempts.append(
                    PostingAttempt(
                        transaction_id=txn_id,
                        batch_id=call_id,  # one id per Fulfil call: the Health page counts calls by it
                        lane="inventory",
                        operation=operation,
                        started_at=started,
                        duration_ms=duration,
                        request_summary={"records": len(ids), **(summary or {})},
                        status_code=status,
                        response=response,
                        outcome=outcome,
                        error=error,
                    )
                )

    def record_call(self, operation: str, call: Callable[[], Any]):
        """For calls made on behalf of the whole batch (walk-in parties)."""
        return self._record(operation, list(self.txns), call)

    # Which transactions a failed phase leaves behind: those it had not yet carried through.
    _PENDING = {
        "lookup": lambda self, i: i not in self.sales,
        "create": lambda self, i: i not in self.sales,
        "quote": lambda self, i: self.sales[i]["state"] == "draft",
        "read": lambda self, i: not self.sales[i].get("read"),
        "confirm": lambda self, i: self.sales[i]["state"] == "quotation",
        "process": lambda self, i: self.sales[i]["state"] == "confirmed",
    }

    def _phase(self, name: str, ids: list[int], step: Callable[[list[int]], None]) -> None:
        """Run one step; a failure that is not a refusal defers whatever the step had not finished."""
        if not ids:
            return
        try:
            step(ids)
        except FulfilError as exc:  # transient, rate limited, unknown outcome, or auth/not-found
            pending = self._PENDING[name]
            self._defer([i for i in ids if i not in self.gone and pending(self, i)], exc)

    def _bisect(self, operation: str, ids: list[int], call: Callable[[list[int]], Any], on_ok, summary=None):
        """Call for all `ids`; when Fulfil refuses, split in halves until the refused record is alone."""
        try:
            result = self._record(operation, ids, lambda: call(ids), summary)
        except UserError as exc:
            if len(ids) == 1:
                self._refused(ids[0], operation, exc)
                return
            middle = len(ids) // 2
            self._bisect(operation, ids[:middle], call, on_ok, summary)
            self._bisect(operation, ids[middle:], call, on_ok, summary)
            return
        on_ok(ids, result)

    # --- phases ---------------------------------------------------------------------------------------

    def _lookup(self, ids: list[int]) -> None:
        by_ci = {self.txns[i].channel_identifier: i for i in ids}
        rows = self._record(
            "lookup",
            ids,
            lambda: self.client.search_read(
                "sale.sale", [["channel_identifier", "in", list(by_ci)]], fields=SALE_FIELDS
            ),
        )
        for row in rows:
            self._adopt(by_ci[row["channel_identifier"]], row)

    def _adopt(self, txn_id: int, row: dict) -> None:
        """A sale Fulfil already holds for this transaction: carry on from its state, or flag it."""
        txn = self.txns[txn_id]
        held = money(Decimal(str(row.get("untaxed_amount") or 0)))
        if row.get("state") in ("cancel", "cancelled"):
            self._reject(
                txn_id,
                "adopt",
                f"Fulfil holds sale {row.get('number') or row['id']} for this "
                "transaction, but it was cancelled there.",
                sale_id=row["id"],
            )
            return
        if abs(held - expected_untaxed(txn)) > SAME_FIGURES:
            self._block(
                txn_id,
                Problem(
                    exc_type=ExceptionType.DUPLICATE,
                    subject=txn.pos_id,
                    title=f"Fulfil already holds {txn.channel_identifier} with different figures",
                    fingerprint=exception_fingerprint(ExceptionType.DUPLICATE, txn.source.code, txn.pos_id),
                    detail={
                        "fulfil_sale": row["id"],
                        "fulfil_untaxed": str(held),
                        "pos_untaxed": str(expected_untaxed(txn)),
                    },
                ),
                sale_id=row["id"],
            )
            return
        self.sales[txn_id] = dict(row)
        self.summary["adopted"] += 1

    def _create(self, ids: list[int]) -> None:
        parties = walk_in_parties(
            client=self.client, txns=[self.txns[i] for i in ids], record_call=self.record_call
        )
        payloads = {i: sale_values(self.txns[i], party_id=parties[walk_in_code(self.txns[i])]) for i in ids}

        def on_ok(done: list[int], sale_ids: list[int]) -> None:
            for txn_id, sale_id in zip(done, sale_ids, strict=True):
                self.sales[txn_id] = {"id": sale_id, "state": "draft"}
            # Written at once: a crash from here on leaves the sale id known, not just findable.
            PosTransaction.objects.bulk_update(
                [_with_sale(self.txns[t], self.sales[t]["id"]) for t in done], ["fulfil_sale_id"]
            )

        self._bisect(
            "create",
            ids,
            lambda part: self.client.create("sale.sale", [payloads[i] for i in part]),
            on_ok,
            {"model": "sale.sale", "method": "create"},
        )

    def _workflow(self, method: str, ids: list[int], new_state: str) -> None:
        def on_ok(done: list[int], _result) -> None:
            for txn_id in done:
                self.sales[txn_id]["state"] = new_state

        self._bisect(
            method,
            ids,
            lambda part: self.client.call("sale.sale", method, [self.sales[i]["id"] for i in part]),
            on_ok,
            {"model": "sale.sale", "method": method},
        )

    def _quote(self, ids: list[int]) -> None:
        self._workflow("quote", ids, "quotation")

    def _confirm(self, ids: list[int]) -> None:
        self._workflow("confirm", ids, "confirmed")

    def _process(self, ids: list[int]) -> None:
        self._workflow("process", ids, "done")

    def _read_quoted(self, ids: list[int]) -> None:
        """Fulfil's own tax, after quoting and before confirming: wrong figures never get confirmed."""
        rows = self._record(
            "read",
            ids,
            lambda: self.client.read("sale.sale", [self.sales[i]["id"] for i in ids], SALE_FIELDS),
        )
        by_sale = {row["id"]: row for row in rows}
        accepted = accepted_fingerprints(transaction_ids=ids)
        for txn_id in ids:
            row = by_sale.get(self.sales[txn_id]["id"], {})
            self.sales[txn_id].update(row, read=True)
            txn = self.txns[txn_id]
            fulfil_tax = money(Decimal(str(row.get("tax_amount") or 0)))
            # An accepted difference travels as an untaxed adjustment line: tax plus it must match.
            difference = fulfil_tax + Decimal(txn.posted_with.get("tax_adjustment") or "0") - txn.tax_total
            if abs(difference) <= settings.SYNC_TAX_TOLERANCE:
                continue
            problem = _quoted_tax_problem(txn, fulfil_tax, difference)
            if (txn_id, problem.fingerprint) in accepted:
                continue
            self._block(txn_id, problem, sale_id=self.sales[txn_id]["id"])

    def _stock_check(self, ids: list[int]) -> None:
        """Warn when Fulfil shows less on hand at the store than the tills just sold. Never blocks."""
        sold: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
        sellers: dict[tuple[int, int], list[int]] = defaultdict(list)
        for txn_id in ids:
            txn = self.txns[txn_id]
            for line in txn.lines.all():
                if line.quantity > 0 and line.fulfil_product_id:
                    key = (txn.posted_with["warehouse"], line.fulfil_product_id)
                    sold[key] += line.quantity
                    sellers[key].append(txn_id)
        if not sold:
            return
        products = sorted({p for _w, p in sold})
        warehouses = sorted({w for w, _p in sold})
        try:
            levels = self._record(
                "stock_read", ids, lambda: self.client.get_product_inventory(products, warehouses)
            )
        except FulfilError:  # a warning check must not hold up posting; the attempt is logged
            logger.warning("Stock check skipped: Fulfil inventory read failed", exc_info=True)
            return
        codes = dict(FulfilProduct.objects.filter(fulfil_id__in=products).values_list("fulfil_id", "code"))
        items = []
        for (warehouse, product), quantity in sold.items():
            on_hand = _on_hand(levels, product, warehouse)
            if on_hand is None or on_hand >= quantity:
                continue
            for txn_id in set(sellers[(warehouse, product)]):
                txn = self.txns[txn_id]
                code = codes.get(product, str(product))
                store = txn.posted_with.get("warehouse_code") or warehouse
                items.append(
                    (
                        txn,
                        Problem(
                            exc_type=ExceptionType.STOCK_MISMATCH,
                            subject=f"{store}:{code}",
                            title=f"Fulfil shows less '{code}' on hand at {store} than the tills sold",
                            fingerprint=exception_fingerprint(
                                ExceptionType.STOCK_MISMATCH, txn.source.code, store, code
                            ),
                            detail={"on_hand": str(on_hand), "sold_in_batch": str(quantity)},
                        ),
                    )
                )
        if items:
            problems_open(items=items)
            self.summary["stock_mismatch"] += len(items)

    # --- outcomes ------------------------------------------------------------------------------------

    def _mark_posted(self, ids: list[int]) -> None:
        if not ids:
            return
        now = timezone.now()
        with transaction.atomic():
            owned = set(
                PosTransaction.objects.select_for_update()
                .filter(id__in=ids, claim_token=self.claim.token)
                .values_list("id", flat=True)
            )
            changed = []
            for txn_id in ids:
                if txn_id not in owned:
                    continue
                txn, sale = self.txns[txn_id], self.sales[txn_id]
                txn.state, txn.posted_at = S.POSTED, now
                txn.fulfil_sale_id, txn.fulfil_sale_number = sale["id"], sale.get("number") or ""
                txn.claim_token = txn.claimed_at = txn.next_attempt_at = None
                txn.attempts += 1
                txn.last_error = ""
                changed.append(txn)
            PosTransaction.objects.bulk_update(
                changed,
                [
                    "state",
                    "posted_at",
                    "fulfil_sale_id",
                    "fulfil_sale_number",
                    "claim_token",
                    "claimed_at",
                    "next_attempt_at",
                    "attempts",
                    "last_error",
                    "updated_at",
                ],
            )
            occurrences_close(transactions=changed, types=[ExceptionType.SYNC_TIMEOUT])
            # A late sale for a day finance already has a report for: that report regenerates.
            days_mark_stale(keys={(t.source_id, t.pos_location_id, t.business_date) for t in changed})
        self.summary["posted"] += len(changed)

    def _release(self, txn_id: int, **values) -> bool:
        """Write the outcome for one transaction if this worker still holds its claim."""
        self.gone.add(txn_id)
        values.setdefault("claim_token", None)
        values.setdefault("claimed_at", None)
        values["updated_at"] = timezone.now()
        return bool(PosTransaction.objects.filter(id=txn_id, claim_token=self.claim.token).update(**values))

    def _refused(self, txn_id: int, operation: str, exc: UserError) -> None:
        """Fulfil refused this one record. If it already holds the sale, that explains it."""
        if operation == "create" and "party.party" in exc.message:
            txn = self.txns[txn_id]
            if walk_in_forget(client=self.client, code=walk_in_code(txn)):
                # The walk-in party id we cached is gone from Fulfil: look it up afresh on the next run.
                self._release(
                    txn_id, state=S.RETRY_WAIT, next_attempt_at=timezone.now(), last_error=exc.message
                )
                self.summary["retry_wait"] += 1
                return
        if operation == "create":
            txn = self.txns[txn_id]
            try:
                rows = self._record(
                    "lookup",
                    [txn_id],
                    lambda: self.client.search_read(
                        "sale.sale", [["channel_identifier", "=", txn.channel_identifier]], fields=SALE_FIELDS
                    ),
                )
            except FulfilError:
                rows = []
            if rows:
                self._adopt(txn_id, rows[0])
                return
        self._reject(txn_id, operation, exc.message, sale_id=self.sales.get(txn_id, {}).get("id"))

    def _reject(self, txn_id: int, operation: str, message: str, *, sale_id=None) -> None:
        txn = self.txns[txn_id]
        problem = Problem(
            exc_type=ExceptionType.FULFIL_REJECTED,
            subject=_message_key(message),
            title=f"Fulfil refused the sale: {message}"[:300],
            fingerprint=exception_fingerprint(
                ExceptionType.FULFIL_REJECTED, txn.source.code, _message_key(message)
            ),
            detail={"operation": operation, "message": message[:1000], "fulfil_sale": sale_id},
        )
        values = {"state": S.REJECTED, "last_error": message[:2000], "attempts": txn.attempts + 1}
        if sale_id:
            values["fulfil_sale_id"] = sale_id
        if self._release(txn_id, **values):
            problems_open(items=[(txn, problem)])
        self.summary["rejected"] += 1

    def _block(self, txn_id: int, problem: Problem, *, sale_id=None) -> None:
        txn = self.txns[txn_id]
        values = {"state": S.BLOCKED, "last_error": problem.title, "attempts": txn.attempts + 1}
        if sale_id:
            values["fulfil_sale_id"] = sale_id
        if self._release(txn_id, **values):
            problems_open(items=[(txn, problem)])
        self.summary[f"blocked:{problem.exc_type}"] += 1

    def _defer(self, ids: list[int], exc: FulfilError) -> None:
        """Not refused, not done: wait and retry (or look up first, when the outcome is unknown)."""
        now = timezone.now()
        unknown = isinstance(exc, OutcomeUnknown)
        retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
        alerts = []
        for txn_id in ids:
            txn = self.txns[txn_id]
            attempts = txn.attempts + 1
            first_failed = txn.first_failed_at or now
            values = {
                "state": S.OUTCOME_UNKNOWN if unknown else S.RETRY_WAIT,
                "attempts": attempts,
                "first_failed_at": first_failed,
                "last_error": str(exc)[:2000],
                "next_attempt_at": None
                if unknown
                else now + retry_delay(attempts=attempts, retry_after=retry_after),
            }
            if self.sales.get(txn_id, {}).get("id"):
                values["fulfil_sale_id"] = self.sales[txn_id]["id"]
            if self._release(txn_id, **values) and _overdue(attempts, first_failed, now):
                alerts.append((txn, _timeout_problem(txn, exc)))
        if alerts:
            problems_open(items=alerts)
        self.summary["outcome_unknown" if unknown else "retry_wait"] += len(ids)


# --- helpers -----------------------------------------------------------------------------------------


def _with_sale(txn: PosTransaction, sale_id: int) -> PosTransaction:
    txn.fulfil_sale_id = sale_id
    return txn


def _response_summary(operation: str, result: Any) -> Any:
    if operation == "create" and isinstance(result, list):
        return {"ids": result[:500]}
    if isinstance(result, list):
        return {"rows": len(result)}
    return None if result is None else {"type": type(result).__name__}


def _on_hand(levels: Any, product: int, warehouse: int) -> Decimal | None:
    if not isinstance(levels, dict):
        return None
    per_product = levels.get(str(product), levels.get(product))
    if not isinstance(per_product, dict):
        return None
    level = per_product.get(str(warehouse), per_product.get(warehouse))
    if not isinstance(level, dict) or level.get("quantity_on_hand") is None:
        return None
    return Decimal(str(level["quantity_on_hand"]))


def _message_key(message: str) -> str:
    """Group refusals by what Fulfil said, without the ids that differ between records."""
    import re

    return re.sub(r"\d+", "#", message.strip())[:120] or "no message"


def _quoted_tax_problem(txn: PosTransaction, fulfil_tax: Decimal, difference: Decimal) -> Problem:
    tax_ids = sorted({t for line in txn.posted_with.get("lines", {}).values() for t in line.get("taxes", [])})
    key = "taxes-" + "-".join(str(t) for t in tax_ids) if tax_ids else "untaxed"
    return Problem(
        exc_type=ExceptionType.TAX_DISCREPANCY,
        subject=f"quoted:{key}",
        title="Fulfil computed different tax than the POS for these sales (checked after quoting)",
        fingerprint=exception_fingerprint(
            ExceptionType.TAX_DISCREPANCY, txn.source.code, f"{QUOTED_TAX_MARKER[1:]}{key}"
        ),
        detail={"pos_tax": str(txn.tax_total), "fulfil_tax": str(fulfil_tax), "difference": str(difference)},
    )


def _overdue(attempts: int, first_failed: dt.datetime, now: dt.datetime) -> bool:
    return attempts >= settings.SYNC_MAX_ATTEMPTS_BEFORE_ALERT or (
        now - first_failed >= dt.timedelta(minutes=settings.SYNC_MAX_MINUTES_BEFORE_ALERT)
    )


def _timeout_problem(txn: PosTransaction, exc: FulfilError) -> Problem:
    kind = type(exc).__name__
    return Problem(
        exc_type=ExceptionType.SYNC_TIMEOUT,
        subject=f"fulfil:{kind}",
        title=f"Fulfil keeps failing ({kind}); sales are waiting and retrying by themselves",
        fingerprint=exception_fingerprint(ExceptionType.SYNC_TIMEOUT, txn.source.code, f"fulfil:{kind}"),
        detail={"error": str(exc)[:500]},
    )


def inventory_lane_run(
    *,
    client=None,
    batch_size: int | None = None,
    time_budget: float | None = None,
    max_batches: int | None = None,
) -> dict:
    """Claim and post batches until nothing is due or the time budget is spent. Returns counts."""
    from integration.fulfil.client import get_client

    own_client = client is None
    client = client or get_client()
    batch_size = batch_size or settings.SYNC_BATCH_SIZE
    budget = time_budget if time_budget is not None else settings.SYNC_LANE_TIME_BUDGET_SECONDS
    deadline = time.monotonic() + budget
    total: Counter = Counter()
    batches = 0
    try:
        while time.monotonic() < deadline and (max_batches is None or batches < max_batches):
            claim = transactions_claim(limit=batch_size)
            if not claim.ids:
                break
            batches += 1
            total += BatchPoster(client=client, claim=claim).run()
    finally:
        if own_client and hasattr(client, "close"):
            client.close()
    return {"batches": batches, **total}


__all__ = ["BatchPoster", "claims_release_stale", "inventory_lane_run"]
