"""Validation: every check a transaction must pass before anything is sent to Fulfil.

A run looks at `normalized` transactions (and, on requeue, `blocked`/`rejected` ones), computes the
set of problems each has *now*, and applies the difference to its exception occurrences: new problems
open, fixed ones close. Then the state follows:
- any open blocking occurrence (ours, or one a person has not resolved yet) → `blocked`;
- a return whose original has not posted yet, within the grace period → stays `normalized`, rechecked
  at `next_attempt_at`;
- otherwise → `ready`, with what it resolved to (warehouse, channel, products, taxes, original sale)
  frozen in `posted_with`, so the poster posts exactly what was validated.
"""

import datetime as dt
import functools
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.services import audit_record
from exceptions.models import ExceptionType
from exceptions.services import BLOCKING_TYPES, exception_fingerprint
from integration.models import PosSource, PosTransaction, PosTransactionLine, TransactionState
from integration.pipeline.money import (
    fulfil_line_amount,
    fulfil_line_tax,
    fulfil_unit_price,
    line_net_excl_tax,
)
from integration.pipeline.raising import (
    Problem,
    group_counters_deferred,
    occurrences_known,
    problems_apply,
)
from integration.pipeline.resolve import MapResolver
from integration.pipeline.sql import ids_in

S = TransactionState
# States validation may move a transaction out of. Nothing claimed or posted is touched.
VALIDATABLE_STATES = (S.NORMALIZED, S.BLOCKED, S.REJECTED, S.READY)
# Exception types this module raises and therefore may close when the problem has gone away.
VALIDATION_TYPES = frozenset(
    {
        ExceptionType.UNMAPPED_LOCATION,
        ExceptionType.SKU_MISMATCH,
        ExceptionType.UNLINKED_RETURN,
        ExceptionType.TAX_DISCREPANCY,
        ExceptionType.MISSING_DATA,
    }
)
# The tax check against Fulfil's own figures (after quoting) has this marker in its fingerprint;
# validation does not own it: a person accepts or resolves it.
QUOTED_TAX_MARKER = ":quoted:"

# ISO 4217 codes the stores could plausibly trade in; anything else is a data problem.
KNOWN_CURRENCIES = frozenset(
    [
        "AED",
        "AUD",
        "BRL",
        "CAD",
        "CHF",
        "CNY",
        "CZK",
        "DKK",
        "EUR",
        "GBP",
        "HKD",
        "HUF",
        "ILS",
        "INR",
        "ISK",
        "JPY",
        "KRW",
        "MXN",
        "NOK",
        "NZD",
        "PLN",
        "RON",
        "SEK",
        "SGD",
        "THB",
        "TRY",
        "TWD",
        "USD",
        "ZAR",
    ]
)
CHUNK = 500
CHUNK_IN_TRANSACTION = 2000


@dataclass(slots=True)
class LineRow:
    """The fields of a line validation reads, as a plain row: a 10,000-sale requeue reads 20,000+
    lines and their taxes, and a model instance (and a related-manager queryset) per line and tax was
    most of its Python time."""

    pk: int
    line_id: str
    sku: str
    variant_ref: str
    barcode: str
    quantity: Decimal
    net_amount: Decimal
    tax_amount: Decimal
    is_custom: bool
    fulfil_product_id: int | None
    taxes: list[tuple[str, Decimal]] = field(default_factory=list)  # (POS title, rate)


LINE_FIELDS = (
    "id",
    "line_id",
    "sku",
    "variant_ref",
    "barcode",
    "quantity",
    "net_amount",
    "tax_amount",
    "is_custom",
    "fulfil_product_id",
)


def lines_for(txn_ids: list[int]) -> dict[int, list[LineRow]]:
    """Per transaction, its lines in POS order with their taxes: one query whatever the count."""
    by_txn: dict[int, list[LineRow]] = {txn_id: [] for txn_id in txn_ids}
    last: LineRow | None = None
    rows = (
        PosTransactionLine.objects.filter(transaction_id__in=ids_in(txn_ids))
        .order_by("transaction_id", "sequence", "id", "taxes__title", "taxes__id")
        .values_list("transaction_id", *LINE_FIELDS, "taxes__title", "taxes__rate")
    )
    for txn_id, *values, tax_title, tax_rate in rows:  # one row per (line, tax); a line without tax once
        if last is None or last.pk != values[0]:
            last = LineRow(*values)
            by_txn[txn_id].append(last)
        if tax_title is not None:
            last.taxes.append((tax_title, tax_rate))
    return by_txn


@dataclass
class Verdict:
    problems: list[Problem] = field(default_factory=list)
    recheck_at: dt.datetime | None = None  # a return waiting for its original
    posted_with: dict = field(default_factory=dict)
    line_products: dict[int, int] = field(default_factory=dict)
    warehouse_id: int | None = None
    original_id: int | None = None


def _owned(fingerprint: str, exc_type: str) -> bool:
    return exc_type in VALIDATION_TYPES and QUOTED_TAX_MARKER not in fingerprint


def _problem(txn: PosTransaction, exc_type: str, subject: str, title: str, **detail) -> Problem:
    return Problem(
        exc_type=exc_type,
        subject=subject,
        title=title,
        fingerprint=exception_fingerprint(exc_type, txn.source.code, subject),
        detail=detail,
    )


def _store_label(txn: PosTransaction) -> str:
    store = txn.pos_location_name or txn.pos_location_id
    till = txn.register_name or txn.register_id
    return f"{store} — Till {till}" if till else store


# --- the checks ------------------------------------------------------------------------------------


def _check_data(txn: PosTransaction, lines: list[LineRow]) -> list[Problem]:
    found = []
    if not lines:
        found.append(_problem(txn, ExceptionType.MISSING_DATA, "no_lines", "Transactions with no lines"))
    if any(line.quantity == 0 for line in lines):
        found.append(
            _problem(
                txn, ExceptionType.MISSING_DATA, "zero_quantity", "Transactions with a zero-quantity line"
            )
        )
    if txn.currency not in KNOWN_CURRENCIES:
        found.append(
            _problem(
                txn,
                ExceptionType.MISSING_DATA,
                f"currency:{txn.currency or 'none'}",
                f"Unknown currency '{txn.currency}'",
                currency=txn.currency,
            )
        )
    if lines:
        off = _totals_gaps(txn, lines, settings.SYNC_TOTALS_TOLERANCE)
        if off:
            found.append(
                _problem(
                    txn, ExceptionType.MISSING_DATA, "totals", "Totals that do not add up", differences=off
                )
            )
    return found


def _totals_gaps(txn: PosTransaction, lines: list[LineRow], tolerance: Decimal) -> dict:
    """Differences beyond `tolerance` between the POS totals and their parts.

    Tax-inclusive platforms report the subtotal either before tax or, like the tills print it, with
    tax in it (then total = subtotal + rounding); either reading is accepted, the numbers must agree
    under one of them.
    """
    zero = Decimal("0.00")
    gross = sum((ln.net_amount for ln in lines), zero)
    net = sum(
        (
            line_net_excl_tax(
                net_amount=ln.net_amount, tax_amount=ln.tax_amount, taxes_included=txn.taxes_included
            )
            for ln in lines
        ),
        zero,
    )
    line_tax = sum((ln.tax_amount for ln in lines), zero)
    readings = [
        {
            "lines_vs_subtotal": net - txn.subtotal,
            "parts_vs_total": txn.subtotal + txn.tax_total + txn.rounding_adjustment - txn.total,
        }
    ]
    if txn.taxes_included:
        readings.append(
            {
                "lines_vs_subtotal": gross - txn.subtotal,
                "parts_vs_total": txn.subtotal + txn.rounding_adjustment - txn.total,
            }
        )
    best: dict = {}
    for gaps in readings:
        gaps["line_tax_vs_tax_total"] = line_tax - txn.tax_total
        off = {k: str(v) for k, v in gaps.items() if abs(v) > tolerance}
        if not off:
            return {}
        best = best or off
    return best


def _check_location(txn: PosTransaction, resolver: MapResolver, verdict: Verdict) -> list[Problem]:
    mapped = resolver.location(txn)
    if mapped is None or not mapped.warehouse.active:
        why = (
            "is not mapped to a Fulfil warehouse" if mapped is None else "is mapped to an archived warehouse"
        )
        return [
            _problem(
                txn,
                ExceptionType.UNMAPPED_LOCATION,
                txn.pos_location_id,
                f"Store '{_store_label(txn)}' {why}",
                register=txn.register_id,
            )
        ]
    channel = mapped.channel or resolver.default_channel()
    if channel is None:
        return [
            _problem(
                txn,
                ExceptionType.UNMAPPED_LOCATION,
                txn.pos_location_id,
                f"Store '{_store_label(txn)}' has no Fulfil sales channel (map one, or sync the catalog)",
            )
        ]
    verdict.warehouse_id = mapped.warehouse.fulfil_id
    verdict.posted_with.update(
        location_map=mapped.pk,
        warehouse=mapped.warehouse.fulfil_id,
        warehouse_code=mapped.warehouse.code,
        warehouse_name=mapped.warehouse.name,
        channel=channel.fulfil_id,
    )
    return []


def _check_lines(txn, lines, resolver: MapResolver, verdict: Verdict) -> list[Problem]:
    """SKU and tax checks, line by line; fills in what each line posts as."""
    found: list[Problem] = []
    expected_tax = Decimal("0.00")
    tax_labels: set[str] = set()
    lines_out: dict[str, dict] = {}
    source, day = txn.source, txn.business_date
    for line in lines:
        resolved = resolver.product(source=source, line=line, day=day)
        if resolved.product is None:
            title = (
                "Custom-sale lines have no fallback Fulfil product configured"
                if resolved.subject == "custom sale"
                else f"SKU '{resolved.subject}' is not in the Fulfil catalog or mapped"
            )
            found.append(
                _problem(txn, ExceptionType.SKU_MISMATCH, resolved.subject, title, line=line.line_id)
            )
        elif not resolved.product.active:
            found.append(
                _problem(
                    txn,
                    ExceptionType.SKU_MISMATCH,
                    resolved.subject,
                    f"SKU '{resolved.subject}' maps to an archived Fulfil product {resolved.product}",
                    line=line.line_id,
                )
            )
        rates, tax_ids = [], []
        for title, rate in line.taxes:
            label = _tax_label(title, rate)
            tax_labels.add(label)
            mapped = resolver.tax(source=source, title=title, rate=rate, day=day)
            if mapped is None:
                found.append(
                    _problem(
                        txn,
                        ExceptionType.TAX_DISCREPANCY,
                        f"unmapped:{title}:{rate}",
                        f"POS tax '{label}' has no Fulfil tax mapped",
                    )
                )
                continue
            rates.append(mapped.tax.rate or Decimal("0"))
            tax_ids.append(mapped.tax.fulfil_id)
        net = line_net_excl_tax(
            net_amount=line.net_amount, tax_amount=line.tax_amount, taxes_included=txn.taxes_included
        )
        unit_price = fulfil_unit_price(net_excl_tax=net, quantity=line.quantity)
        amount = fulfil_line_amount(quantity=line.quantity, unit_price=unit_price)
        expected_tax += fulfil_line_tax(amount=amount, rates=rates)
        if resolved.product is not None:
            verdict.line_products[line.pk] = resolved.product.fulfil_id
        lines_out[str(line.pk)] = {
            "product": resolved.product.fulfil_id if resolved.product else None,
            "via": resolved.via,
            "taxes": tax_ids,
            "unit_price": str(unit_price),
        }
    verdict.posted_with["lines"] = lines_out
    verdict.posted_with["expected_tax"] = str(expected_tax)
    difference = expected_tax - txn.tax_total
    if not any(p.exc_type == ExceptionType.TAX_DISCREPANCY for p in found) and (
        abs(difference) > settings.SYNC_TAX_TOLERANCE
    ):
        labels = ", ".join(sorted(tax_labels)) or "no tax"
        found.append(
            _problem(
                txn,
                ExceptionType.TAX_DISCREPANCY,
                f"rates:{labels}",
                f"POS tax ({labels}) differs from what Fulfil computes under the tax map",
                pos_tax=str(txn.tax_total),
                fulfil_tax=str(expected_tax),
                difference=str(difference),
            )
        )
    return found


@functools.lru_cache(maxsize=1024)
def _tax_label(title: str, rate: Decimal) -> str:
    """'VAT 20%': a handful of distinct (title, rate) pairs behind every line of a run."""
    return f"{title} {_percent(rate)}%"


def _percent(rate: Decimal) -> str:
    text = f"{rate * 100:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _is_return(lines: list[LineRow]) -> bool:
    return any(line.quantity < 0 for line in lines)


def _check_return(txn, lines, originals: dict, verdict: Verdict, now: dt.datetime) -> list[Problem]:
    if not _is_return(lines):
        return []
    original = txn.original or originals.get((txn.source_id, txn.original_pos_id))
    if original is not None:
        verdict.original_id = original.pk
    grace_ends = (txn.created_at or now) + dt.timedelta(minutes=settings.SYNC_RETURN_GRACE_MINUTES)
    if original is not None and original.state in (S.POSTED, S.SETTLED) and original.fulfil_sale_id:
        verdict.posted_with["origin_sale"] = original.fulfil_sale_id
        return []
    if original is None and txn.blind_return_approved:
        verdict.posted_with["origin_sale"] = None
        return []
    if original is not None and original.state in (S.EXCLUDED, S.VOIDED):
        reason = f"its original sale {original} was {original.get_state_display().lower()}"
    elif now < grace_ends:
        verdict.recheck_at = grace_ends
        return []
    elif original is None:
        reason = (
            f"its original sale '{txn.original_pos_id}' was never received"
            if txn.original_pos_id
            else ("the POS gave no original sale")
        )
    else:
        reason = f"its original sale {original} has not posted to Fulfil"
    store = txn.pos_location_name or txn.pos_location_id
    return [
        _problem(
            txn,
            ExceptionType.UNLINKED_RETURN,
            txn.pos_id,
            f"Return {txn.pos_number or txn.pos_id} at {store} cannot be linked: {reason}",
            original_pos_id=txn.original_pos_id,
        )
    ]


def transaction_check(
    *, txn: PosTransaction, lines: list[LineRow], resolver: MapResolver, originals: dict, now: dt.datetime
) -> Verdict:
    """Every check, without writing anything."""
    verdict = Verdict(posted_with={"validated_at": now.isoformat()})
    verdict.problems += _check_data(txn, lines)
    verdict.problems += _check_location(txn, resolver, verdict)
    verdict.problems += _check_lines(txn, lines, resolver, verdict)
    verdict.problems += _check_return(txn, lines, originals, verdict, now)
    return verdict


# --- applying verdicts ------------------------------------------------------------------------------


def _originals_for(txns: list[PosTransaction]) -> dict:
    """Originals the POS named that ingestion has not linked yet (it may have arrived later)."""
    wanted = {(t.source_id, t.original_pos_id) for t in txns if t.original_id is None and t.original_pos_id}
    if not wanted:
        return {}
    found = PosTransaction.objects.filter(
        source_id__in={s for s, _ in wanted}, pos_id__in={p for _, p in wanted}
    ).only("id", "source_id", "pos_id", "pos_number", "kind", "state", "fulfil_sale_id")
    return {(o.source_id, o.pos_id): o for o in found}


# The columns validation reads or writes: a 10,000-sale requeue builds 10,000 instances, and the
# rest of the row (claims, Fulfil references, hashes, timestamps) would only be parsed and dropped.
# `test_requeue_of_many_transactions_uses_a_bounded_number_of_queries` fails if a check starts
# reading a field left out here (each instance would fetch it with a query of its own).
VALIDATION_FIELDS = (
    "id",
    "source_id",
    "pos_id",
    "pos_number",
    "kind",
    "state",
    "pos_location_id",
    "pos_location_name",
    "register_id",
    "register_name",
    "business_date",
    "currency",
    "taxes_included",
    "subtotal",
    "tax_total",
    "total",
    "rounding_adjustment",
    "original_id",
    "original_pos_id",
    "blind_return_approved",
    "created_at",
    "next_attempt_at",
    "last_error",
    "fulfil_warehouse_id",
    "posted_with",
)


def _load(ids: list[int]) -> list[PosTransaction]:
    txns = list(
        PosTransaction.objects.select_for_update(of=("self",), skip_locked=True)
        .only(*VALIDATION_FIELDS)
        .filter(id__in=ids_in(ids), state__in=VALIDATABLE_STATES)
        .order_by("id")
    )
    # A handful of sources for thousands of transactions: one instance each, not one per row; and
    # the originals of the few returns that have one, in one query rather than a join for every row.
    sources = PosSource.objects.in_bulk({t.source_id for t in txns})
    originals = PosTransaction.objects.in_bulk({t.original_id for t in txns if t.original_id})
    for txn in txns:
        txn.source = sources[txn.source_id]
        if txn.original_id in originals:
            txn.original = originals[txn.original_id]
    return txns


def _record_tax_adjustment(txn: PosTransaction, verdict) -> None:
    """Finance accepted this sale's tax difference: it posts with an adjustment line for the
    difference, so Fulfil's total matches what the customer paid (see payload.sale_values)."""
    expected = Decimal(verdict.posted_with.get("expected_tax", "0"))
    verdict.posted_with["tax_adjustment"] = str(txn.tax_total - expected)


@transaction.atomic
def _validate_chunk(ids: list[int], *, now: dt.datetime, resolver: MapResolver, summary: Counter) -> None:
    txns = _load(ids)
    if not txns:
        return
    by_id = {t.pk: t for t in txns}
    lines = lines_for(list(by_id))
    originals = _originals_for(txns)
    verdicts = {
        t.pk: transaction_check(txn=t, lines=lines[t.pk], resolver=resolver, originals=originals, now=now)
        for t in txns
    }
    existing, accepted = occurrences_known(transaction_ids=list(by_id))
    for txn_id, verdict in verdicts.items():
        kept = [p for p in verdict.problems if (txn_id, p.fingerprint) not in accepted]
        if any(p.exc_type == ExceptionType.TAX_DISCREPANCY for p in verdict.problems if p not in kept):
            _record_tax_adjustment(by_id[txn_id], verdict)
        verdict.problems = kept
    problems_apply(
        problems={k: v.problems for k, v in verdicts.items()},
        transactions=by_id,
        owned=_owned,
        existing=existing,
    )
    still_blocking = _blocking_after(existing, verdicts)
    _write_states(txns, lines, verdicts, still_blocking, summary)


def _blocking_after(existing, verdicts: dict[int, Verdict]) -> dict[int, list[str]]:
    """Per transaction, the blocking types open once this run's changes are applied."""
    result: dict[int, list[str]] = {}
    for txn_id, verdict in verdicts.items():
        types = [p.exc_type for p in verdict.problems if p.exc_type in BLOCKING_TYPES]
        types += [
            occ.type
            for occ in existing.get(txn_id, [])
            if occ.type in BLOCKING_TYPES and not _owned(occ.fingerprint, occ.type)
        ]
        result[txn_id] = sorted(set(types))
    return result


def _write_states(txns, lines: dict[int, list[LineRow]], verdicts, still_blocking, summary: Counter) -> None:
    changed_lines: dict[int, int | None] = {}  # line id -> the Fulfil product it resolves to
    for txn in txns:
        verdict = verdicts[txn.pk]
        if verdict.original_id and txn.original_id is None:
            txn.original_id = verdict.original_id
        if still_blocking[txn.pk]:
            txn.state, txn.next_attempt_at = S.BLOCKED, None
            summary["blocked"] += 1
            for exc_type in still_blocking[txn.pk]:
                summary[f"blocked:{exc_type}"] += 1
        elif verdict.recheck_at:
            txn.state, txn.next_attempt_at = S.NORMALIZED, verdict.recheck_at
            summary["waiting"] += 1
        else:
            txn.state, txn.next_attempt_at = S.READY, None
            txn.posted_with, txn.fulfil_warehouse_id = verdict.posted_with, verdict.warehouse_id
            txn.last_error = ""
            summary["ready"] += 1
        # Every verdict records what each line resolves to, blocked or not: the transaction page
        # shows it while something else (the store, a tax) still blocks the sale, and fixing that
        # other thing later rewrites only the lines whose product changed meanwhile.
        for line in lines[txn.pk]:
            product = verdict.line_products.get(line.pk)
            if product != line.fulfil_product_id:
                line.fulfil_product_id = product
                changed_lines[line.pk] = product
    _states_write(txns)
    _line_products_write(changed_lines)


def _line_products_write(changed: dict[int, int | None]) -> None:
    """Each line's Fulfil product: one statement per 1,000 lines on PostgreSQL, else one per product."""
    if not changed:
        return
    if connection.vendor != "postgresql":
        by_product: dict[int | None, list[int]] = defaultdict(list)
        for line_id, product in changed.items():
            by_product[product].append(line_id)
        for product, line_ids in by_product.items():
            PosTransactionLine.objects.filter(pk__in=line_ids).update(fulfil_product_id=product)
        return
    table = PosTransactionLine._meta.db_table
    items = list(changed.items())
    with connection.cursor() as cursor:
        for start in range(0, len(items), 5000):
            chunk = items[start : start + 5000]
            cursor.execute(
                f"UPDATE {table} AS l SET fulfil_product_id = v.product "  # noqa: S608
                "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, product) WHERE l.id = v.id",
                [[line_id for line_id, _p in chunk], [product for _l, product in chunk]],
            )


def _states_write(txns: list[PosTransaction]) -> None:
    """Save the verdicts in a handful of statements, not one CASE expression per row and column.

    Django's bulk_update builds a CASE WHEN per row for every column; for a 10,000-sale requeue that
    was most of the time. Rows that end with the same state, warehouse, original, retry time and
    error share one UPDATE. Ready sales each carry their own `posted_with`: on PostgreSQL they are
    written with everything else in one statement per 2,000 rows (one row version per sale, no query
    text with thousands of placeholders to build and parse). The rows travel as one JSON document,
    which the driver quotes in C; an array of texts would be escaped element by element in Python.
    """
    now = timezone.now()
    on_pg = connection.vendor == "postgresql"
    ready = [t for t in txns if t.state == S.READY]
    groups: dict[tuple, list[int]] = defaultdict(list)
    for txn in txns:
        if on_pg and txn.state == S.READY:
            continue
        key = (txn.state, txn.next_attempt_at, txn.original_id, txn.fulfil_warehouse_id, txn.last_error)
        groups[key].append(txn.pk)
    for (state, next_at, original_id, warehouse_id, error), ids in groups.items():
        PosTransaction.objects.filter(pk__in=ids).update(
            state=state,
            next_attempt_at=next_at,
            original_id=original_id,
            fulfil_warehouse_id=warehouse_id,
            last_error=error,
            updated_at=now,
        )
    if not ready:
        return
    if not on_pg:
        PosTransaction.objects.bulk_update(ready, ["posted_with"])
        return
    table = PosTransaction._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(ready), 2000):
            rows = [
                {
                    "id": t.pk,
                    "original": t.original_id,
                    "warehouse": t.fulfil_warehouse_id,
                    "pw": t.posted_with,
                }
                for t in ready[start : start + 2000]
            ]
            cursor.execute(
                f"UPDATE {table} AS t SET state = %s, next_attempt_at = NULL, last_error = '', "  # noqa: S608
                "updated_at = %s, original_id = v.original, fulfil_warehouse_id = v.warehouse, "
                "posted_with = v.pw FROM jsonb_to_recordset(%s::jsonb) "
                "AS v(id bigint, original bigint, warehouse bigint, pw jsonb) "
                "WHERE t.id = v.id",
                [S.READY, now, json.dumps(rows, cls=DjangoJSONEncoder)],
            )


def transactions_validate(
    *, queryset: QuerySet[PosTransaction] | None = None, ids: Iterable[int] | None = None
) -> dict:
    """Validate the given transactions (default: every `normalized` one that is due). Returns counts."""
    now = timezone.now()
    if ids is None:
        queryset = queryset if queryset is not None else validation_due(now=now)
        ids = queryset.order_by("id").values_list("id", flat=True)
    ids = list(ids)
    resolver, summary = MapResolver(), Counter()
    # Inside a caller's transaction (a fix and its requeue) every chunk commits together anyway, so
    # each exception group touched is recounted once at the end, not once per chunk.
    one_transaction = connection.in_atomic_block
    # Chunks commit one by one when nobody holds a transaction (the engine's runs: short locks);
    # inside one, their size only trades memory for fewer round trips.
    size = CHUNK_IN_TRANSACTION if one_transaction else CHUNK
    with group_counters_deferred(enabled=one_transaction):
        for start in range(0, len(ids), size):
            _validate_chunk(ids[start : start + size], now=now, resolver=resolver, summary=summary)
    return _summary(summary)


def validation_due(*, now: dt.datetime) -> QuerySet[PosTransaction]:
    """`normalized` transactions never checked, or waiting returns whose recheck time has come."""
    return PosTransaction.objects.filter(state=S.NORMALIZED).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def _summary(counter: Counter) -> dict:
    blocked_by = {k.split(":", 1)[1]: v for k, v in counter.items() if k.startswith("blocked:")}
    return {
        "ready": counter["ready"],
        "blocked": counter["blocked"],
        "waiting": counter["waiting"],
        "blocked_by": blocked_by,
    }


def transactions_requeue(
    *,
    transactions: Iterable[PosTransaction] | None = None,
    queryset: QuerySet[PosTransaction] | None = None,
    actor=None,
) -> dict:
    """After a fix (a map created, a return linked, a variance accepted): revalidate, then ready.

    Returns {"ready": n, "blocked": n, "waiting": n, "blocked_by": {type: n}, "skipped": n}; a
    transaction already claimed, posted or settled is skipped, never re-sent.
    """
    if transactions is not None:
        requested = {t.pk for t in transactions}
        queryset = PosTransaction.objects.filter(id__in=ids_in(requested))
    else:
        # Ids straight from the database (a group's 10,000 transactions are never loaded as
        # objects), and the filter on state as part of the same query.
        queryset = (queryset if queryset is not None else PosTransaction.objects.none()).order_by()
        requested = set(queryset.values_list("id", flat=True))
    eligible = sorted(queryset.filter(state__in=VALIDATABLE_STATES).values_list("id", flat=True))
    summary = transactions_validate(ids=eligible)
    summary["skipped"] = len(requested) - len(eligible)
    if actor is not None and requested:
        audit_record(
            actor=actor,
            action="transactions.requeued",
            obj=PosTransaction.objects.get(pk=min(requested)),
            after={"requested": len(requested), **{k: v for k, v in summary.items() if k != "blocked_by"}},
            note=f"Requeued {len(requested)} transaction(s).",
        )
    return summary


def returns_recheck() -> dict:
    """Returns held back for their original: revalidate those whose original has since posted.

    Waiting returns are rechecked at the end of their grace period anyway (validation_due); this
    releases them sooner, and releases returns blocked as unlinked once the original posts.
    """
    candidates = PosTransaction.objects.filter(
        state__in=(S.NORMALIZED, S.BLOCKED),
        original__state__in=(S.POSTED, S.SETTLED),
    ).filter(
        Q(state=S.NORMALIZED, next_attempt_at__isnull=False)
        | Q(state=S.BLOCKED, exceptions__is_open=True, exceptions__group__type=ExceptionType.UNLINKED_RETURN)
    )
    return transactions_validate(ids=set(candidates.values_list("id", flat=True)))
