"""Square: payment.* / refund.* events → fetch the (return) order through the Orders API.

POS orders publish no order events (reference §2.1), so a COMPLETED payment or refund is the
trigger and the Order is the truth. Money is integer minor units; quantities are strings; SKUs and
barcodes live in the catalog (`catalog_object_id` → variation `sku`/`upc`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from integration.pos.canonical import (
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

TENDER_TYPES = {
    "CARD": "card",
    "THIRD_PARTY_CARD": "card",
    "WALLET": "card",
    "CASH": "cash",
    "SQUARE_GIFT_CARD": "gift_card",
}


def m(obj) -> Decimal:
    return money((obj or {}).get("amount"), minor_units=True)


def parse_time(value) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (TypeError, ValueError) as exc:
        raise NormalizationError(f"bad timestamp {value!r}") from exc
    if parsed.tzinfo is None:
        raise NormalizationError(f"timestamp without zone {value!r}")
    return parsed


def _catalog(client, ids: list[str]) -> dict[str, dict]:
    """variation id → item_variation_data (sku, upc, name)."""
    ids = sorted({i for i in ids if i})
    if not ids or client is None:
        return {}
    found = client.post("/v2/catalog/batch-retrieve", {"object_ids": ids}).get("objects", [])
    return {o["id"]: o.get("item_variation_data") or {} for o in found}


def _location(client, location_id: str) -> dict:
    if client is None:
        return {}
    locations = client.cached("locations", lambda: client.get("/v2/locations").get("locations", []))
    return next((loc for loc in locations if loc.get("id") == location_id), {})


def _taxes(applied: list, tax_index: dict) -> list[CanonicalTax]:
    out = []
    for a in applied or []:
        tax = tax_index.get(a.get("tax_uid"), {})
        out.append(
            CanonicalTax(
                title=str(tax.get("name") or "Tax"),
                rate=rate(tax.get("percentage"), percent=True),
                amount=m(a.get("applied_money")),
            )
        )
    return sorted(out, key=lambda t: (t.title, t.rate))


def _line(
    item: dict, seq: int, tax_index: dict, catalog: dict, sign: int, *, original_key: str = ""
) -> CanonicalLine:
    qty = quantity(item.get("quantity"))
    unit = m(item.get("base_price_money"))
    discount = m(item.get("total_discount_money"))
    gross_money = item.get("gross_sales_money") or item.get("gross_return_money")
    gross = m(gross_money) if gross_money else (qty * unit).quantize(Decimal("0.01"))
    taxes = _taxes(item.get("applied_taxes"), tax_index)
    variation = catalog.get(item.get("catalog_object_id") or "", {})
    item_type = item.get("item_type") or "ITEM"
    for t in taxes:
        t.amount = t.amount * sign
    return CanonicalLine(
        line_id=str(item.get("uid") or seq),
        sequence=seq,
        quantity=qty * sign,
        unit_price=unit,
        discount=discount * sign,
        net_amount=(gross - discount) * sign,
        tax_amount=m(item.get("total_tax_money")) * sign,
        taxes=taxes,
        sku=str(variation.get("sku") or ""),
        barcode=str(variation.get("upc") or ""),
        variant_ref=str(item.get("catalog_object_id") or ""),
        description=" ".join(filter(None, [item.get("name"), item.get("variation_name")])) or item_type,
        is_gift_card=item_type == "GIFT_CARD",
        is_custom=item_type == "CUSTOM_AMOUNT"
        or (not item.get("catalog_object_id") and item_type != "GIFT_CARD"),
        original_line_id=str(item.get(original_key) or "") if original_key else "",
    )


def normalize_order(order: dict, *, client=None, payment: dict | None = None) -> CanonicalTransaction:
    if not isinstance(order, dict) or not order.get("id") or not order.get("location_id"):
        raise NormalizationError("not a Square order: no id/location_id")
    if order.get("state") != "COMPLETED":
        raise Ignored(f"order state {order.get('state')!r}: only COMPLETED orders are booked")
    returns = order.get("returns") or []
    items = order.get("line_items") or []
    ids = [i.get("catalog_object_id") for i in items]
    for r in returns:
        ids += [i.get("catalog_object_id") for i in r.get("return_line_items") or []]
    catalog = _catalog(client, ids)
    tax_index = {t.get("uid"): t for t in order.get("taxes") or []}
    lines = [_line(i, n, tax_index, catalog, 1) for n, i in enumerate(items)]
    original = ""
    all_taxes = list(tax_index.values())
    for r in returns:
        r_index = {t.get("uid"): t for t in r.get("return_taxes") or []}
        all_taxes += r_index.values()
        original = original or str(r.get("source_order_id") or "")
        for i in r.get("return_line_items") or []:
            lines.append(_line(i, len(lines), r_index, catalog, -1, original_key="source_line_item_uid"))
    if not lines:
        raise NormalizationError("order has no line items and no returns")
    returned = any(line.quantity < 0 for line in lines)
    sold = any(line.quantity > 0 for line in lines)
    kind = "exchange" if returned and sold else "return" if returned else "sale"
    tenders = []
    for t in order.get("tenders") or []:
        card = (t.get("card_details") or {}).get("card") or {}
        tenders.append(
            CanonicalTender(
                tender_type=TENDER_TYPES.get(t.get("type"), "other"),
                gateway=str(t.get("type") or ""),
                amount=m(t.get("amount_money")),
                reference=str(t.get("payment_id") or t.get("id") or ""),
                card_last4=str(card.get("last_4") or ""),
            )
        )
    for r in order.get("refunds") or []:
        if r.get("status", "COMPLETED") in ("COMPLETED", "APPROVED"):
            tenders.append(
                CanonicalTender(
                    tender_type=TENDER_TYPES.get(r.get("destination_type") or "CARD", "card"),
                    gateway=str(r.get("destination_type") or "refund"),
                    amount=-m(r.get("amount_money")),
                    reference=str(r.get("id") or ""),
                )
            )
    if returned and not sold:
        amounts = order.get("return_amounts") or {}
        total, tax_total = -m(amounts.get("total_money")), -m(amounts.get("tax_money"))
        discount_total = -m(amounts.get("discount_money"))
    else:
        total, tax_total = m(order.get("total_money")), m(order.get("total_tax_money"))
        discount_total = m(order.get("total_discount_money"))
        if returned:  # exchange: the net of new and returned goods
            amounts = order.get("return_amounts") or {}
            total -= m(amounts.get("total_money"))
            tax_total -= m(amounts.get("tax_money"))
    location = _location(client, order["location_id"])
    payment = payment or {}
    device = payment.get("device_details") or {}
    # Return orders carry their taxes in returns[].return_taxes, not in taxes[].
    inclusive = any(t.get("type") == "INCLUSIVE" for t in all_taxes)
    return CanonicalTransaction(
        pos_id=str(order["id"]),
        pos_number=str(payment.get("receipt_number") or order.get("reference_id") or order["id"][:8]),
        kind=kind,
        occurred_at=parse_time(order.get("closed_at") or order.get("updated_at") or order.get("created_at")),
        currency=str((order.get("total_money") or {}).get("currency") or location.get("currency") or ""),
        pos_location_id=str(order["location_id"]),
        pos_location_name=str(location.get("name") or ""),
        location_timezone=str(location.get("timezone") or ""),
        register_id=str(device.get("device_id") or ""),
        register_name=str(device.get("device_name") or ""),
        staff_ref=str(payment.get("team_member_id") or ""),
        customer_ref=str(order.get("customer_id") or ""),
        taxes_included=inclusive,
        lines=lines,
        tenders=tenders,
        subtotal=sum((line.net_amount for line in lines), Decimal("0.00")),
        discount_total=discount_total,
        tax_total=tax_total,
        total=total,
        rounding_adjustment=m((order.get("rounding_adjustment") or {}).get("amount_money")),
        original_pos_id=original,
        version=str(order.get("version") or order.get("updated_at") or ""),
    )


def fetch_order(client, order_id: str) -> dict:
    if client is None:
        raise NormalizationError("no POS API client to fetch the order")
    orders = client.post("/v2/orders/batch-retrieve", {"order_ids": [order_id]}).get("orders") or []
    if not orders:
        raise NormalizationError(f"order {order_id} not found in the Orders API")
    return orders[0]


def normalize_event(body: dict, *, client=None) -> list[CanonicalTransaction]:
    event_type = body.get("type") if isinstance(body, dict) else None
    data = (body.get("data") or {}) if isinstance(body, dict) else {}
    obj = data.get("object") or {} if isinstance(data, dict) else {}
    if event_type in ("payment.created", "payment.updated"):
        payment = obj.get("payment") or {}
        if payment.get("status") != "COMPLETED":
            raise Ignored(f"payment status {payment.get('status')!r}: only COMPLETED is booked")
        if not payment.get("order_id"):
            raise NormalizationError("payment without order_id")
        return [normalize_order(fetch_order(client, payment["order_id"]), client=client, payment=payment)]
    if event_type in ("refund.created", "refund.updated"):
        refund = obj.get("refund") or {}
        if refund.get("status") != "COMPLETED":
            raise Ignored(f"refund status {refund.get('status')!r}: only COMPLETED is booked")
        if not refund.get("order_id"):
            raise NormalizationError("refund without a return order_id")
        return [normalize_order(fetch_order(client, refund["order_id"]), client=client, payment=refund)]
    if event_type == "order.polled":  # written by our poller: the body is the order itself
        return [normalize_order(obj.get("order") or {}, client=client)]
    if event_type and event_type.startswith("order."):
        raise Ignored("order events carry no lines; payments and polling drive ingestion")
    raise NormalizationError(f"event type {event_type!r} is not one we understand")
