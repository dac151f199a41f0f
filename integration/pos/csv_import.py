"""CSV / JSON import for any other POS. The column layout is documented in docs/connectors.md.

One CSV row per line (`record=line`) or per payment (`record=tender`); rows sharing a `pos_id` form
one transaction. Parsing never writes: it returns canonical transactions plus row-level errors, so
the upload page and the API can show a dry run before anything is committed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from integration.pos.canonical import (
    CanonicalLine,
    CanonicalTax,
    CanonicalTender,
    CanonicalTransaction,
    NormalizationError,
    money,
    quantity,
    rate,
)

COLUMNS = [
    "record",
    "pos_id",
    "pos_number",
    "kind",
    "occurred_at",
    "location_id",
    "location_name",
    "register_id",
    "currency",
    "taxes_included",
    "line_id",
    "sku",
    "barcode",
    "description",
    "quantity",
    "unit_price",
    "discount",
    "tax_title",
    "tax_rate",
    "tax_amount",
    "is_custom",
    "is_gift_card",
    "original_pos_id",
    "original_line_id",
    "tender_type",
    "tender_amount",
    "tender_reference",
]
REQUIRED = ("record", "pos_id", "occurred_at", "location_id")
HEADER_FIELDS = (
    "pos_number",
    "kind",
    "occurred_at",
    "location_id",
    "location_name",
    "register_id",
    "currency",
    "taxes_included",
    "original_pos_id",
)
TENDER_TYPES = {"card", "cash", "gift_card", "store_credit", "other"}
KINDS = {"sale", "return", "exchange", ""}


@dataclass
class RowError:
    row: int  # 1-based data row (the header is row 0)
    pos_id: str
    message: str


def _bool(value: str) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "y")


def _when(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise NormalizationError(f"occurred_at {value!r} is not an ISO-8601 time") from exc
    if parsed.tzinfo is None:
        raise NormalizationError("occurred_at needs a UTC offset, e.g. 2026-11-26T14:05:00+00:00")
    return parsed


def _rate(value: str) -> Decimal:
    text = str(value or "").strip().rstrip("%")
    r = rate(text)
    return rate(text, percent=True) if r > 1 else r


def _assemble(pos_id: str, header: dict, lines: list, tenders: list) -> CanonicalTransaction:
    if not lines:
        raise NormalizationError("no line rows")
    taxes_included = _bool(header.get("taxes_included"))
    subtotal = sum((line.net_amount for line in lines), Decimal("0.00"))
    tax_total = sum((line.tax_amount for line in lines), Decimal("0.00"))
    total = subtotal if taxes_included else subtotal + tax_total
    if tenders and sum((t.amount for t in tenders), Decimal("0.00")) != total:
        raise NormalizationError(
            f"tenders add up to {sum(t.amount for t in tenders)} but the lines come to {total}"
        )
    returned, sold = any(x.quantity < 0 for x in lines), any(x.quantity > 0 for x in lines)
    kind = header.get("kind") or ("exchange" if returned and sold else "return" if returned else "sale")
    return CanonicalTransaction(
        pos_id=pos_id,
        pos_number=header.get("pos_number", ""),
        kind=kind,
        occurred_at=_when(header["occurred_at"]),
        currency=(header.get("currency") or "").upper(),
        pos_location_id=header["location_id"],
        pos_location_name=header.get("location_name", ""),
        register_id=header.get("register_id", ""),
        taxes_included=taxes_included,
        lines=lines,
        tenders=tenders,
        subtotal=subtotal,
        discount_total=sum((line.discount for line in lines), Decimal("0.00")),
        tax_total=tax_total,
        total=total,
        original_pos_id=header.get("original_pos_id", ""),
    )


def parse_csv(text: str) -> tuple[list[CanonicalTransaction], list[RowError]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        return [], [RowError(0, "", f"missing column(s): {', '.join(missing)}")]
    groups: dict[str, dict] = {}
    errors: list[RowError] = []
    for n, row in enumerate(reader, start=1):
        row = {k: (v or "").strip() for k, v in row.items() if k}
        pos_id = row.get("pos_id", "")
        if not pos_id:
            errors.append(RowError(n, "", "pos_id is empty"))
            continue
        group = groups.setdefault(
            pos_id, {"header": {}, "lines": [], "tenders": [], "first_row": n, "bad": False}
        )
        try:
            for field in HEADER_FIELDS:
                value = row.get(field, "")
                if not value:
                    continue
                known = group["header"].setdefault(field, value)
                if known != value:
                    raise NormalizationError(f"{field} {value!r} differs from {known!r} on an earlier row")
            record = row.get("record", "").lower()
            if record == "line":
                qty = quantity(row.get("quantity") or "0")
                if qty == 0:
                    raise NormalizationError("quantity is zero or missing")
                price, discount = money(row.get("unit_price")), money(row.get("discount"))
                tax_amount = money(row.get("tax_amount"))
                taxes = []
                if row.get("tax_title") or row.get("tax_rate") or tax_amount:
                    taxes = [
                        CanonicalTax(row.get("tax_title") or "Tax", _rate(row.get("tax_rate")), tax_amount)
                    ]
                sku = row.get("sku", "")
                group["lines"].append(
                    CanonicalLine(
                        line_id=row.get("line_id") or f"{pos_id}-{len(group['lines']) + 1}",
                        sequence=len(group["lines"]),
                        quantity=qty,
                        unit_price=price,
                        discount=discount,
                        net_amount=(qty * price - discount).quantize(Decimal("0.01")),
                        tax_amount=tax_amount,
                        taxes=taxes,
                        sku=sku,
                        barcode=row.get("barcode", ""),
                        description=row.get("description", ""),
                        is_custom=_bool(row.get("is_custom")) or not (sku or row.get("barcode")),
                        is_gift_card=_bool(row.get("is_gift_card")),
                        original_line_id=row.get("original_line_id", ""),
                    )
                )
            elif record == "tender":
                kind = (row.get("tender_type") or "").lower()
                if kind not in TENDER_TYPES:
                    raise NormalizationError(f"tender_type must be one of {', '.join(sorted(TENDER_TYPES))}")
                group["tenders"].append(
                    CanonicalTender(
                        tender_type=kind,
                        gateway=kind,
                        amount=money(row.get("tender_amount")),
                        reference=row.get("tender_reference", ""),
                    )
                )
            else:
                raise NormalizationError("record must be 'line' or 'tender'")
            if row.get("kind", "").lower() not in KINDS:
                raise NormalizationError("kind must be sale, return or exchange")
        except NormalizationError as exc:
            errors.append(RowError(n, pos_id, str(exc)))
            group["bad"] = True
    transactions = []
    for pos_id, group in groups.items():
        if group["bad"]:
            continue
        try:
            transactions.append(_assemble(pos_id, group["header"], group["lines"], group["tenders"]))
        except (NormalizationError, KeyError) as exc:
            errors.append(RowError(group["first_row"], pos_id, str(exc)))
    return transactions, errors


def parse_json(data) -> tuple[list[CanonicalTransaction], list[RowError]]:
    """A JSON list of transactions in the canonical shape (see docs/connectors.md)."""
    if isinstance(data, dict):
        data = data.get("transactions")
    if not isinstance(data, list):
        return [], [RowError(0, "", 'expected a list of transactions (or {"transactions": [...]})')]
    out, errors = [], []
    for n, item in enumerate(data, start=1):
        try:
            out.append(canonical_from_dict(item))
        except (NormalizationError, KeyError, TypeError, ValueError, AttributeError) as exc:
            pos_id = str(item.get("pos_id", "")) if isinstance(item, dict) else ""
            errors.append(RowError(n, pos_id, f"{exc.__class__.__name__}: {exc}"))
    return out, errors


def canonical_from_dict(d: dict) -> CanonicalTransaction:
    if not isinstance(d, dict):
        raise NormalizationError("a transaction must be a JSON object")
    lines = [
        CanonicalLine(
            line_id=str(line.get("line_id") or n),
            sequence=int(line.get("sequence", n)),
            quantity=quantity(line["quantity"]),
            unit_price=money(line["unit_price"]),
            discount=money(line.get("discount")),
            net_amount=money(line["net_amount"])
            if "net_amount" in line
            else (
                quantity(line["quantity"]) * money(line["unit_price"]) - money(line.get("discount"))
            ).quantize(Decimal("0.01")),
            tax_amount=money(line.get("tax_amount")),
            taxes=[
                CanonicalTax(str(t.get("title") or "Tax"), _rate(t.get("rate")), money(t.get("amount")))
                for t in line.get("taxes") or []
            ],
            sku=str(line.get("sku") or ""),
            variant_ref=str(line.get("variant_ref") or ""),
            barcode=str(line.get("barcode") or ""),
            description=str(line.get("description") or ""),
            is_gift_card=bool(line.get("is_gift_card")),
            is_custom=bool(line.get("is_custom")),
            original_line_id=str(line.get("original_line_id") or ""),
        )
        for n, line in enumerate(d.get("lines") or [])
    ]
    tenders = [
        CanonicalTender(
            tender_type=str(t.get("tender_type") or "other"),
            amount=money(t["amount"]),
            gateway=str(t.get("gateway") or ""),
            reference=str(t.get("reference") or ""),
            card_last4=str(t.get("card_last4") or ""),
        )
        for t in d.get("tenders") or []
    ]
    for t in tenders:
        if t.tender_type not in TENDER_TYPES:
            raise NormalizationError(f"tender_type {t.tender_type!r} unknown")
    if not d.get("pos_id") or not d.get("pos_location_id"):
        raise NormalizationError("pos_id and pos_location_id are required")
    if not lines:
        raise NormalizationError("no lines")
    subtotal = sum((x.net_amount for x in lines), Decimal("0.00"))
    tax_total = sum((x.tax_amount for x in lines), Decimal("0.00"))
    taxes_included = bool(d.get("taxes_included"))
    kind = str(d.get("kind") or "sale")
    if kind not in ("sale", "return", "exchange"):
        raise NormalizationError("kind must be sale, return or exchange")
    return CanonicalTransaction(
        pos_id=str(d["pos_id"]),
        pos_number=str(d.get("pos_number") or ""),
        kind=kind,
        occurred_at=_when(d["occurred_at"]),
        currency=str(d.get("currency") or "").upper(),
        pos_location_id=str(d["pos_location_id"]),
        pos_location_name=str(d.get("pos_location_name") or ""),
        register_id=str(d.get("register_id") or ""),
        register_name=str(d.get("register_name") or ""),
        location_timezone=str(d.get("location_timezone") or ""),
        staff_ref=str(d.get("staff_ref") or ""),
        customer_ref=str(d.get("customer_ref") or ""),
        taxes_included=taxes_included,
        lines=lines,
        tenders=tenders,
        subtotal=money(d["subtotal"]) if "subtotal" in d else subtotal,
        discount_total=money(d["discount_total"])
        if "discount_total" in d
        else sum((x.discount for x in lines), Decimal("0.00")),
        tax_total=money(d["tax_total"]) if "tax_total" in d else tax_total,
        total=money(d["total"]) if "total" in d else (subtotal if taxes_included else subtotal + tax_total),
        rounding_adjustment=money(d.get("rounding_adjustment")),
        original_pos_id=str(d.get("original_pos_id") or ""),
        version=str(d.get("version") or ""),
    )
