"""Shopify POS: orders/* (source_name "pos") and refunds/create → canonical transactions.

Orders carry their own tax lines per line and jurisdiction; we take Shopify's figures as they are.
Refunds are separate return transactions keyed `refund-<id>`, linked to the order through
`order_id` and to lines through `line_item_id`. The sale keeps its original `quantity` (not
`current_quantity`) because each refund is booked as its own return.
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
    split_amount,
)

API_VERSION = "2024-04"
ORDER_TOPICS = {"orders/create", "orders/updated", "orders/paid", "orders/edited"}
REFUND_TOPICS = {"refunds/create"}


def parse_time(value) -> datetime:
    if not value:
        raise NormalizationError("missing timestamp")
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise NormalizationError(f"bad timestamp {value!r}") from exc
    if parsed.tzinfo is None:
        raise NormalizationError(f"timestamp without offset {value!r}")
    return parsed


def tender_type(gateway: str) -> str:
    gateway = (gateway or "").lower()
    if gateway == "cash":
        return "cash"
    if gateway == "gift_card":
        return "gift_card"
    if gateway in ("store-credit", "store_credit"):
        return "store_credit"
    if gateway in ("manual", ""):
        return "other"
    return "card"


def _tenders(transactions: list, *, kinds: set[str], sign: int) -> list[CanonicalTender]:
    tenders = []
    for t in transactions or []:
        if t.get("kind") not in kinds or t.get("status", "success") != "success":
            continue
        number = ((t.get("payment_details") or {}).get("credit_card_number") or "").replace(" ", "")
        tenders.append(
            CanonicalTender(
                tender_type=tender_type(t.get("gateway", "")),
                gateway=str(t.get("gateway") or ""),
                amount=money(t.get("amount")) * sign,
                reference=str(t.get("id") or ""),
                card_last4=number[-4:] if number[-4:].isdigit() else "",
            )
        )
    return tenders


def _register(transactions: list, order: dict) -> str:
    for t in transactions or []:
        if t.get("device_id"):
            return str(t["device_id"])
    return str(order.get("device_id") or "")


def _location_name(client, location_id: str) -> str:
    if client is None or not location_id:
        return ""
    locations = client.cached(
        "locations", lambda: client.get(f"/admin/api/{API_VERSION}/locations.json").get("locations", [])
    )
    for loc in locations:
        if str(loc.get("id")) == location_id:
            return loc.get("name", "")
    return ""


def _line(item: dict, sequence: int) -> CanonicalLine:
    qty = quantity(item.get("quantity"))
    price = money(item.get("price"))
    discount = money(item.get("total_discount"))
    if not discount and item.get("discount_allocations"):
        discount = sum((money(d.get("amount")) for d in item["discount_allocations"]), Decimal("0.00"))
    taxes = [
        CanonicalTax(
            title=str(t.get("title") or "Tax"), rate=rate(t.get("rate")), amount=money(t.get("price"))
        )
        for t in item.get("tax_lines") or []
    ]
    variant = item.get("variant_id")
    return CanonicalLine(
        line_id=str(item["id"]),
        sequence=sequence,
        quantity=qty,
        unit_price=price,
        discount=discount,
        net_amount=(qty * price - discount).quantize(Decimal("0.01")),
        tax_amount=sum((t.amount for t in taxes), Decimal("0.00")),
        taxes=sorted(taxes, key=lambda t: (t.title, t.rate)),  # Shopify's order is not stable
        sku=str(item.get("sku") or ""),
        variant_ref=str(variant or ""),
        barcode=str(item.get("barcode") or ""),
        description=str(item.get("name") or item.get("title") or ""),
        is_gift_card=bool(item.get("gift_card")),
        is_custom=variant is None and not item.get("gift_card"),
    )


def normalize_order(order: dict, *, client=None) -> list[CanonicalTransaction]:
    """An order (webhook or poll) → its sale, plus a return per embedded refund."""
    if not isinstance(order, dict) or "id" not in order:
        raise NormalizationError("not a Shopify order: no id")
    if order.get("source_name") != "pos":
        raise Ignored(f"source_name is {order.get('source_name')!r}, not a POS sale")
    if order.get("cancelled_at"):
        raise Ignored("order cancelled")
    location_id = str(order.get("location_id") or "")
    if not location_id:
        raise NormalizationError("POS order without location_id")
    transactions = order.get("transactions")
    if transactions is None and client is not None:
        transactions = client.get(f"/admin/api/{API_VERSION}/orders/{order['id']}/transactions.json").get(
            "transactions", []
        )
    lines = [_line(item, n) for n, item in enumerate(order.get("line_items") or [])]
    if not lines:
        raise NormalizationError("order has no line items")
    tenders = _tenders(transactions or [], kinds={"sale", "capture"}, sign=1)
    if not tenders:  # no transaction detail anywhere: fall back to the order-level gateway
        gateway = (order.get("payment_gateway_names") or [order.get("gateway") or ""])[0]
        tenders = [
            CanonicalTender(
                tender_type=tender_type(gateway), gateway=gateway, amount=money(order.get("total_price"))
            )
        ]
    customer = order.get("customer") or {}
    sale = CanonicalTransaction(
        pos_id=str(order["id"]),
        pos_number=str(order.get("name") or order.get("order_number") or ""),
        kind="sale",
        occurred_at=parse_time(order.get("processed_at") or order.get("created_at")),
        currency=str(order.get("currency") or ""),
        pos_location_id=location_id,
        pos_location_name=_location_name(client, location_id),
        register_id=_register(transactions or [], order),
        staff_ref=str(order.get("user_id") or ""),
        customer_ref=str(customer.get("id") or ""),
        taxes_included=bool(order.get("taxes_included")),
        lines=lines,
        tenders=tenders,
        subtotal=money(order.get("subtotal_price")),
        discount_total=money(order.get("total_discounts")),
        tax_total=money(order.get("total_tax")),
        total=money(order.get("total_price")),
        rounding_adjustment=money(order.get("total_cash_rounding_adjustment")),
        version=str(order.get("updated_at") or ""),
    )
    if sale.register_id:
        sale.register_name = f"POS device {sale.register_id}"
    result = [sale]
    for refund in order.get("refunds") or []:
        result.append(normalize_refund(refund, order=order, client=client))
    return result


def normalize_refund(refund: dict, *, order: dict | None = None, client=None) -> CanonicalTransaction:
    if not isinstance(refund, dict) or "id" not in refund or "order_id" not in refund:
        raise NormalizationError("not a Shopify refund: no id/order_id")
    lines = []
    for n, rli in enumerate(refund.get("refund_line_items") or []):
        item = rli.get("line_item") or {}
        qty = quantity(rli.get("quantity"))
        price = money(item.get("price"))
        subtotal = money(rli.get("subtotal"))
        total_tax = money(rli.get("total_tax"))
        originals = item.get("tax_lines") or []
        shares = split_amount(total_tax, [money(t.get("price")) or Decimal("1") for t in originals])
        taxes = [
            CanonicalTax(title=str(t.get("title") or "Tax"), rate=rate(t.get("rate")), amount=-share)
            for t, share in zip(originals, shares, strict=True)
        ]
        if not taxes and total_tax:
            taxes = [CanonicalTax(title="Tax", rate=Decimal("0"), amount=-total_tax)]
        variant = item.get("variant_id")
        lines.append(
            CanonicalLine(
                line_id=str(rli.get("id") or f"{refund['id']}-{n}"),
                sequence=n,
                quantity=-qty,
                unit_price=price,
                discount=-(qty * price - subtotal).quantize(Decimal("0.01")),
                net_amount=-subtotal,
                tax_amount=-total_tax,
                taxes=sorted(taxes, key=lambda t: (t.title, t.rate)),
                sku=str(item.get("sku") or ""),
                variant_ref=str(variant or ""),
                description=str(item.get("name") or item.get("title") or ""),
                is_gift_card=bool(item.get("gift_card")),
                is_custom=bool(item) and variant is None and not item.get("gift_card"),
                original_line_id=str(rli.get("line_item_id") or ""),
            )
        )
    transactions = refund.get("transactions") or []
    tenders = _tenders(transactions, kinds={"refund"}, sign=-1)
    location_id = ""
    for t in transactions:
        if t.get("location_id"):
            location_id = str(t["location_id"])
            break
    if not location_id and order:
        location_id = str(order.get("location_id") or "")
    if not location_id:
        for rli in refund.get("refund_line_items") or []:
            if rli.get("location_id"):
                location_id = str(rli["location_id"])
                break
    subtotal = sum((line.net_amount for line in lines), Decimal("0.00"))
    tax_total = sum((line.tax_amount for line in lines), Decimal("0.00"))
    if order:
        taxes_included = bool(order.get("taxes_included"))
    else:
        # Refund before its order: no shop flag to read. The money refunded tells: when it equals the
        # lines' total, their tax was inside it.
        refunded = sum((t.amount for t in tenders), Decimal("0.00"))
        taxes_included = bool(tenders) and abs(refunded - subtotal) < abs(refunded - subtotal - tax_total)
    adjustments = sum(
        (money(a.get("amount")) for a in refund.get("order_adjustments") or []), Decimal("0.00")
    )
    total = (
        sum((t.amount for t in tenders), Decimal("0.00"))
        if tenders
        else (subtotal if taxes_included else subtotal + tax_total)
    )
    if not lines and not tenders:
        raise NormalizationError("refund with neither lines nor refund transactions")
    txn = CanonicalTransaction(
        pos_id=f"refund-{refund['id']}",
        pos_number=f"Refund {refund['id']}",
        kind="return",
        occurred_at=parse_time(refund.get("processed_at") or refund.get("created_at")),
        currency=str(
            (order or {}).get("currency") or (transactions[0].get("currency") if transactions else "") or ""
        ),
        pos_location_id=location_id,
        pos_location_name=_location_name(client, location_id),
        register_id=_register(transactions, {}),
        staff_ref=str(refund.get("user_id") or ""),
        taxes_included=taxes_included,
        lines=lines,
        tenders=tenders,
        subtotal=subtotal,
        discount_total=sum((line.discount for line in lines), Decimal("0.00")),
        tax_total=tax_total,
        total=total,
        rounding_adjustment=adjustments,
        original_pos_id=str(refund["order_id"]),
        version=str(refund.get("processed_at") or refund.get("created_at") or ""),
    )
    if txn.register_id:
        txn.register_name = f"POS device {txn.register_id}"
    return txn


def normalize_event(topic: str, body: dict, *, client=None) -> list[CanonicalTransaction]:
    if topic in ORDER_TOPICS:
        return normalize_order(body, client=client)
    if topic in REFUND_TOPICS:
        return [normalize_refund(body, client=client)]
    if topic == "orders/cancelled":
        raise Ignored("cancelled orders are not booked")
    raise NormalizationError(f"topic {topic!r} is not one we understand")
