"""The platform-neutral shape every normalizer produces (see docs/architecture.md, ingestion).

Money is Decimal quantised to 2 dp, quantities to 4 dp, tax rates are fractions (0.20). The
content hash covers everything that matters to Fulfil and nothing that merely changes on each
delivery (the platform's version counter), so the same sale re-sent hashes the same.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
QTY = Decimal("0.0001")
RATE = Decimal("0.000001")


class NormalizationError(ValueError):
    """The event is signed but we cannot understand it: it goes to quarantine with this reason."""


class Ignored(Exception):
    """The event is understood but is not a completed sale or return (parked sale, pending payment)."""


def money(value, *, minor_units: bool = False) -> Decimal:
    """Parse number-or-string money exactly (Shopify mixes both; X-Series sends floats)."""
    if value is None or value == "":
        return Decimal("0.00")
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise NormalizationError(f"not a money amount: {value!r}") from exc
    if not amount.is_finite():
        raise NormalizationError(f"not a money amount: {value!r}")
    if minor_units:
        amount = amount / 100
    try:
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # absurdly large: no till sells that
        raise NormalizationError(f"money amount out of range: {value!r}") from exc


def quantity(value) -> Decimal:
    try:
        qty = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise NormalizationError(f"not a quantity: {value!r}") from exc
    if not qty.is_finite():
        raise NormalizationError(f"not a quantity: {value!r}")
    try:
        return qty.quantize(QTY, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise NormalizationError(f"quantity out of range: {value!r}") from exc


def rate(value, *, percent: bool = False) -> Decimal:
    """A tax rate as a fraction. Shopify sends 0.2 (number or string); Square sends "20" (percent)."""
    if value is None or value == "":
        return Decimal("0")
    try:
        r = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise NormalizationError(f"not a tax rate: {value!r}") from exc
    # NaN/Infinity parse as Decimals and NaN survives quantize: refuse them like money does.
    if not r.is_finite():
        raise NormalizationError(f"not a tax rate: {value!r}")
    if percent:
        r = r / 100
    try:
        return r.quantize(RATE, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # absurdly large
        raise NormalizationError(f"tax rate out of range: {value!r}") from exc


@dataclass
class CanonicalTax:
    title: str
    rate: Decimal
    amount: Decimal


@dataclass
class CanonicalLine:
    line_id: str
    sequence: int
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    net_amount: Decimal
    tax_amount: Decimal
    taxes: list[CanonicalTax] = field(default_factory=list)
    sku: str = ""
    variant_ref: str = ""
    barcode: str = ""
    description: str = ""
    is_gift_card: bool = False
    is_custom: bool = False
    original_line_id: str = ""


@dataclass
class CanonicalTender:
    tender_type: str  # integration.models.Tender.Type values
    amount: Decimal
    gateway: str = ""
    reference: str = ""
    card_last4: str = ""


@dataclass
class CanonicalTransaction:
    pos_id: str
    kind: str  # sale | return | exchange
    occurred_at: datetime
    currency: str
    pos_location_id: str
    lines: list[CanonicalLine]
    tenders: list[CanonicalTender]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    rounding_adjustment: Decimal = Decimal("0.00")
    pos_number: str = ""
    pos_location_name: str = ""
    register_id: str = ""
    register_name: str = ""
    staff_ref: str = ""
    customer_ref: str = ""
    taxes_included: bool = False
    original_pos_id: str = ""
    # A location timezone from the platform (Square locations, X-Series outlets) beats the source's.
    location_timezone: str = ""
    # Not hashed: changes on every edit; used only for newest-wins ordering.
    version: str = ""
    # "void": X-Series sale voided after close; the service reverses or voids it.
    action: str = "upsert"

    def content(self) -> dict:
        data = asdict(self)
        for key in ("version", "action"):
            data.pop(key)
        return data

    def canonical_json(self) -> str:
        return json.dumps(self.content(), sort_keys=True, default=_json_default, separators=(",", ":"))

    def content_hash(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value))


def scrub(value):
    """Strip NUL characters from every string in a canonical record (PostgreSQL text refuses them;
    a till has no business sending them). Works in place on the dataclasses; returns the value."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            setattr(value, name, scrub(getattr(value, name)))
    return value


def compare_versions(a: str, b: str) -> int:
    """-1/0/1. Versions are integers (Square, X-Series) or ISO timestamps (Shopify updated_at)."""
    if not a or not b:
        return 0
    try:
        ia, ib = int(a), int(b)
        return (ia > ib) - (ia < ib)
    except ValueError:
        pass
    try:
        da, db = (
            datetime.fromisoformat(a.replace("Z", "+00:00")),
            datetime.fromisoformat(b.replace("Z", "+00:00")),
        )
        return (da > db) - (da < db)
    except ValueError:
        return (a > b) - (a < b)


def split_amount(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split `total` across weights, the last share taking the remainder so the parts sum exactly."""
    if not weights:
        return []
    wsum = sum(weights)
    parts = []
    for w in weights[:-1]:
        share = (total * w / wsum).quantize(CENT, rounding=ROUND_HALF_UP) if wsum else Decimal("0.00")
        parts.append(share)
    parts.append(total - sum(parts, Decimal("0.00")))
    return parts
