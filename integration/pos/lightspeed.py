"""Lightspeed X-Series: form-encoded `sale.update` with a JSON `payload` (API 1.0 shape), and
API 2.0 sales from the poller. Both shapes are read by one normalizer.

Only completed sales count (CLOSED, or on-account/layby once closed); parked and layby sales are
ignored until they close. VOIDED after close reverses the sale (the service decides how).
Money arrives as floats; we parse through str() into Decimal. Prices are tax-exclusive with a unit
tax; the line tax is the POS's own `tax_total` (or unit tax x quantity when absent).
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qs

from integration.pos.canonical import (
    CENT,
    CanonicalLine,
    CanonicalTax,
    CanonicalTender,
    CanonicalTransaction,
    Ignored,
    NormalizationError,
    money,
    quantity,
    rate,
)

COMPLETE = {"CLOSED", "ONACCOUNT_CLOSED", "LAYBY_CLOSED", "DISPATCHED_CLOSED", "PICKED_UP_CLOSED"}


def parse_form(body: bytes) -> dict:
    """The webhook body: urlencoded, field `payload` holds JSON. Never JSON-parse the raw body."""
    try:
        fields = parse_qs(body.decode("utf-8"), strict_parsing=True)
    except (UnicodeDecodeError, ValueError) as exc:
        raise NormalizationError("body is not a urlencoded form") from exc
    if "payload" not in fields:
        raise NormalizationError("form has no payload field")
    try:
        payload = json.loads(fields["payload"][0])
    except (ValueError, RecursionError) as exc:  # RecursionError: hostile nesting depth
        raise NormalizationError("payload is not JSON") from exc
    if not isinstance(payload, dict) or not payload.get("id"):
        raise NormalizationError("payload is not a sale (no id)")
    return payload


def parse_time(value) -> datetime:
    text = str(value or "").replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise NormalizationError(f"bad sale_date {value!r}") from exc
    if parsed.tzinfo is None:  # X-Series dates are UTC (reference §3.5); 1.0 omits the offset
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def tender_type(name: str) -> str:
    name = (name or "").lower()
    if "cash" in name:
        return "cash"
    if "gift" in name:
        return "gift_card"
    if "credit note" in name or "store credit" in name or "on account" in name:
        return "store_credit"
    if "card" in name or "eftpos" in name or "visa" in name or "amex" in name:
        return "card"
    return "other"


def _catalog(client, product_ids: list[str]) -> dict[str, dict]:
    if client is None:
        return {}
    out = {}
    for pid in sorted(set(product_ids)):
        out[pid] = client.cached(f"product:{pid}", lambda pid=pid: _product(client, pid), 3600)
    return out


def _product(client, pid: str) -> dict:
    from integration.pos.client import PosApiError

    try:
        return client.get(f"/api/2.0/products/{pid}").get("data") or {}
    except PosApiError:
        return {}  # unknown product: the line goes on with no SKU and the validator flags it


def _outlets(client) -> dict[str, dict]:
    if client is None:
        return {}
    data = client.cached("outlets", lambda: client.get("/api/2.0/outlets").get("data", []))
    return {o.get("id"): o for o in data}


def _registers(client) -> dict[str, dict]:
    if client is None:
        return {}
    data = client.cached("registers", lambda: client.get("/api/2.0/registers").get("data", []))
    return {r.get("id"): r for r in data}


def sale_status(sale: dict) -> str:
    return str(sale.get("status") or sale.get("state") or "").upper()


def normalize_sale(sale: dict, *, client=None) -> CanonicalTransaction:
    status = sale_status(sale)
    if status not in COMPLETE and status != "VOIDED":
        raise Ignored(f"sale status {status or 'missing'}: only completed sales are booked")
    items = sale.get("register_sale_products") or sale.get("line_items") or []
    if not items:
        raise NormalizationError("sale has no line items")
    tax_names = {}
    for t in sale.get("taxes") or []:
        if isinstance(t, dict) and t.get("id"):
            tax_names[t["id"]] = t
    products = _catalog(client, [str(i.get("product_id") or "") for i in items if i.get("product_id")])
    lines = []
    for n, item in enumerate(items):
        qty = quantity(item.get("quantity"))
        price = money(item.get("price"))  # unit price after discount, excl. tax
        unit_discount = money(item.get("discount"))
        tax_total = (
            money(item["tax_total"])
            if item.get("tax_total") is not None
            else (money(item.get("tax")) * qty).quantize(CENT)
        )
        tax_meta = tax_names.get(item.get("tax_id"), {})
        product = products.get(str(item.get("product_id") or ""), {})
        taxes = []
        if tax_total or tax_meta:
            taxes = [
                CanonicalTax(
                    title=str(tax_meta.get("name") or "Tax"),
                    rate=rate(tax_meta.get("rate")),
                    amount=tax_total,
                )
            ]
        lines.append(
            CanonicalLine(
                line_id=str(item.get("id") or n),
                sequence=int(item.get("sequence") or n) if str(item.get("sequence") or n).isdigit() else n,
                quantity=qty,
                unit_price=price + unit_discount,
                discount=(unit_discount * qty).quantize(CENT),
                net_amount=(price * qty).quantize(CENT),
                tax_amount=tax_total,
                taxes=taxes,
                sku=str(product.get("sku") or ""),
                barcode=str(product.get("barcode") or ""),
                variant_ref=str(item.get("product_id") or ""),
                description=str(product.get("name") or item.get("name") or ""),
                is_gift_card=bool(item.get("gift_card_number")) or product.get("type") == "gift_card",
                is_custom=not item.get("product_id"),
            )
        )
    payments = sale.get("register_sale_payments") or sale.get("payments") or []
    tenders = []
    for p in payments:
        name = (
            p.get("name")
            or p.get("payment_type")
            or ((p.get("type") or {}).get("name") if isinstance(p.get("type"), dict) else "")
        )
        tenders.append(
            CanonicalTender(
                tender_type=tender_type(name),
                gateway=str(name or p.get("retailer_payment_type_id") or ""),
                amount=money(p.get("amount")),
                reference=str(p.get("id") or ""),
            )
        )
    returned = any(line.quantity < 0 for line in lines)
    sold = any(line.quantity > 0 for line in lines)
    kind = "exchange" if returned and sold else "return" if returned else "sale"
    outlet_id = str(sale.get("outlet_id") or (sale.get("source") or {}).get("outlet_id") or "")
    register_id = str(sale.get("register_id") or (sale.get("source") or {}).get("register_id") or "")
    outlet = _outlets(client).get(outlet_id, {})
    register = _registers(client).get(register_id, {})
    if not outlet_id:
        outlet_id = str(register.get("outlet_id") or "")
    if not outlet_id:
        raise NormalizationError("sale has neither outlet_id nor a known register")
    subtotal = sum((line.net_amount for line in lines), Decimal("0.00"))
    tax_total = sum((line.tax_amount for line in lines), Decimal("0.00"))
    return CanonicalTransaction(
        pos_id=str(sale["id"]),
        pos_number=str(sale.get("invoice_number") or sale.get("receipt_number") or ""),
        kind=kind,
        occurred_at=parse_time(sale.get("sale_date") or sale.get("created_at")),
        currency=str(sale.get("currency") or ""),
        pos_location_id=outlet_id,
        pos_location_name=str(outlet.get("name") or sale.get("outlet_name") or ""),
        location_timezone=str(outlet.get("time_zone") or ""),
        register_id=register_id,
        register_name=str(register.get("name") or ""),
        staff_ref=str(sale.get("user_id") or ""),
        customer_ref=str(sale.get("customer_id") or ""),
        lines=lines,
        tenders=tenders,
        subtotal=subtotal,
        discount_total=sum((line.discount for line in lines), Decimal("0.00")),
        tax_total=money(sale["total_tax"]) if sale.get("total_tax") is not None else tax_total,
        total=subtotal + tax_total,
        original_pos_id=str(
            sale.get("return_for") or (sale.get("return") or {}).get("original_sale_id") or ""
        ),
        version=str(sale.get("version") or sale.get("updated_at") or ""),
        action="void" if status == "VOIDED" else "upsert",
    )


def dedupe_key(sale: dict) -> str:
    return f"{sale.get('id')}:{sale.get('version') or sale.get('updated_at') or ''}:{sale_status(sale)}"
