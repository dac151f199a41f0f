"""Generates a trading day for the simulated POS estate, stores it in the simulator (so the POS read
APIs serve it) and returns the signed webhook deliveries to send, with the chosen faults mixed in.

Builders (`shopify_order`, `square_sale`, `xs_sale`, …) are also what the tests use to produce
payloads in the reference's shapes.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from integration.models import Platform, PosSource
from integration.pos import signatures
from integration.pos.catalog_fixture import DEMO_STORES, NEW_STORE, demo_products
from integration.possim.models import sim_put

CENT = Decimal("0.01")
SOURCES = {
    Platform.SHOPIFY: ("shopify-uk", "Shopify POS (UK)"),
    Platform.SQUARE: ("square-uk", "Square (UK)"),
    Platform.LIGHTSPEED: ("lightspeed-uk", "Lightspeed X-Series (UK)"),
}
FAULTS = (
    "unknown_sku",
    "custom_sale",
    "new_store",
    "refund_before_sale",
    "duplicates",
    "stale_retry",
    "malformed",
    "bad_signature",
    "tax_rounding",
    "late_poll_only",
)


@dataclass
class Delivery:
    source_code: str
    body: bytes
    headers: dict
    label: str
    fault: str = ""
    content_type: str = "application/json"


@dataclass
class Day:
    deliveries: list[Delivery] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)  # ids only polling can find


def q(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def vat_in(gross: Decimal, rate: Decimal) -> Decimal:
    """VAT contained in a VAT-inclusive amount, rounded per line (as the tills do)."""
    return q(gross * rate / (1 + rate))


# --- sources and reference data -------------------------------------------------------------------
def ensure_sources(base_url: str) -> dict[str, PosSource]:
    base_url = base_url.rstrip("/")
    out = {}
    for platform, (code, name) in SOURCES.items():
        source, _ = PosSource.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "platform": platform,
                "timezone": "Europe/London",
                "currency": "GBP",
                "region": "UK",
                "account_ref": f"tillbridge-{code}",
                "webhook_secret": f"demo-{code}-signing-key",
                "api_credentials": f"demo-{code}-api-token",
            },
        )
        source.api_base_url = f"{base_url}/sandbox/pos/{platform}"
        source.webhook_url = f"{base_url}/webhooks/{code}/"
        source.save(update_fields=["api_base_url", "webhook_url"])
        out[platform] = source
    return out


def store_ids(platform: str, n: int) -> list[tuple[str, str]]:
    """(POS location id, name) for this platform's share of the estate, in a platform-looking id."""
    stores = DEMO_STORES[:n]
    share = [s for i, s in enumerate(stores) if i % 3 == list(SOURCES).index(platform)]

    def ident(code):
        if platform == Platform.SHOPIFY:
            return str(60000000 + sum(ord(c) * 31**i for i, c in enumerate(code)) % 1000000)
        if platform == Platform.SQUARE:
            return f"L{code}SQ0001"
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"outlet-{code}"))

    return [(ident(code), name) for code, name in share]


def seed_reference(stores: int = 12) -> None:
    now = datetime.now(UTC)
    for platform in SOURCES:
        locations = store_ids(platform, stores)
        if platform == Platform.SHOPIFY:
            locations.append((str(69999999), NEW_STORE[1]))
        for loc_id, name in locations:
            if platform == Platform.SHOPIFY:
                data = {"id": int(loc_id), "name": name, "country_code": "GB", "deleted_at": None}
                sim_put(platform=platform, kind="location", object_id=loc_id, data=data, updated_at=now)
            elif platform == Platform.SQUARE:
                data = {
                    "id": loc_id,
                    "name": name,
                    "status": "ACTIVE",
                    "timezone": "Europe/London",
                    "currency": "GBP",
                    "country": "GB",
                }
                sim_put(platform=platform, kind="location", object_id=loc_id, data=data, updated_at=now)
            else:
                sim_put(
                    platform=platform,
                    kind="outlet",
                    object_id=loc_id,
                    updated_at=now,
                    data={"id": loc_id, "name": name, "time_zone": "Europe/London"},
                )
                for till in (1, 2):
                    rid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"register-{loc_id}-{till}"))
                    sim_put(
                        platform=platform,
                        kind="register",
                        object_id=rid,
                        updated_at=now,
                        data={"id": rid, "name": f"{name} till {till}", "outlet_id": loc_id},
                    )
    for n, p in enumerate(demo_products(), start=1):
        sim_put(
            platform="shopify",
            kind="variant",
            object_id=str(4000 + n),
            updated_at=now,
            data={
                "id": 4000 + n,
                "sku": p["sku"],
                "barcode": p["barcode"],
                "title": p["name"],
                "price": str(p["price"]),
            },
        )
        sim_put(
            platform="square",
            kind="catalog",
            object_id=f"VAR{n:04d}",
            updated_at=now,
            data={
                "id": f"VAR{n:04d}",
                "type": "ITEM_VARIATION",
                "item_variation_data": {"sku": p["sku"], "upc": p["barcode"], "name": p["name"]},
            },
        )
        pid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"product-{p['sku']}"))
        sim_put(
            platform="lightspeed",
            kind="product",
            object_id=pid,
            updated_at=now,
            data={"id": pid, "sku": p["sku"], "barcode": p["barcode"], "name": p["name"]},
        )


def product_refs(n: int) -> dict:
    p = demo_products()[n]
    return {
        **p,
        "variant_id": 4001 + n,
        "square_id": f"VAR{n + 1:04d}",
        "xs_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"product-{p['sku']}")),
    }


# --- Shopify ------------------------------------------------------------------------------------
def shopify_order(
    *,
    order_id: int,
    location_id: str,
    at: datetime,
    items: list[tuple[dict, int, Decimal]],
    gateways: list[str],
    device_id: int = 1,
    tax_rounding_fault: bool = False,
    updated_at: datetime | None = None,
) -> dict:
    lines, subtotal, tax_total, discounts = [], Decimal("0"), Decimal("0"), Decimal("0")
    for n, (p, qty, discount) in enumerate(items):
        gross = q(p["price"] * qty - discount)
        tax = vat_in(gross, p["vat_rate"])
        if tax_rounding_fault and n == 0 and tax:
            tax -= CENT  # the till rounded differently from a recompute; we must keep its figure
        lines.append(
            {
                "id": order_id * 10 + n,
                "variant_id": p.get("variant_id"),
                "product_id": p.get("variant_id"),
                "sku": p.get("sku") or "",
                "title": p["name"],
                "name": p["name"],
                "quantity": qty,
                "price": str(p["price"]),
                "total_discount": str(q(discount)),
                "gift_card": bool(p.get("gift_card")),
                "tax_lines": [
                    {
                        "title": "GB VAT",
                        "rate": float(p["vat_rate"]),
                        "price": str(tax),
                        "price_set": {"shop_money": {"amount": str(tax), "currency_code": "GBP"}},
                    }
                ],
            }
        )
        subtotal += gross
        tax_total += tax
        discounts += discount
    shares = _split(subtotal, len(gateways))
    transactions = [
        {
            "id": order_id * 100 + i,
            "kind": "sale",
            "status": "success",
            "gateway": g,
            "amount": str(a),
            "currency": "GBP",
            "location_id": int(location_id),
            "device_id": device_id,
            "payment_details": {"credit_card_number": "•••• •••• •••• 4242"}
            if g == "shopify_payments"
            else {},
        }
        for i, (g, a) in enumerate(zip(gateways, shares, strict=True))
    ]
    stamp = at.isoformat()
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{order_id % 100000}",
        "order_number": order_id % 100000,
        "source_name": "pos",
        "location_id": int(location_id),
        "user_id": 7001,
        "created_at": stamp,
        "processed_at": stamp,
        "updated_at": (updated_at or at).isoformat(),
        "currency": "GBP",
        "taxes_included": True,
        "subtotal_price": str(subtotal),
        "total_discounts": str(q(discounts)),
        "total_tax": str(tax_total),
        "total_price": str(subtotal),
        "line_items": lines,
        "transactions": transactions,
        "payment_gateway_names": gateways,
    }


def shopify_refund(
    *, refund_id: int, order: dict, line_qty: list[tuple[int, int]], at: datetime, gateway: str = "cash"
) -> dict:
    rlis, total = [], Decimal("0")
    for n, (line_index, qty) in enumerate(line_qty):
        item = order["line_items"][line_index]
        unit_gross = q(Decimal(item["price"]) - Decimal(item["total_discount"]) / item["quantity"])
        subtotal = q(unit_gross * qty)
        tax = vat_in(subtotal, Decimal(str(item["tax_lines"][0]["rate"])))
        rlis.append(
            {
                "id": refund_id * 10 + n,
                "line_item_id": item["id"],
                "line_item": item,
                "quantity": qty,
                "restock_type": "return",
                "location_id": order["location_id"],
                "subtotal": float(subtotal),
                "total_tax": float(tax),
            }
        )  # floats, as Shopify sends
        total += subtotal
    return {
        "id": refund_id,
        "order_id": order["id"],
        "created_at": at.isoformat(),
        "processed_at": at.isoformat(),
        "user_id": 7001,
        "restock": True,
        "refund_line_items": rlis,
        "order_adjustments": [],
        "transactions": [
            {
                "id": refund_id * 100,
                "kind": "refund",
                "status": "success",
                "gateway": gateway,
                "amount": str(total),
                "currency": "GBP",
                "location_id": order["location_id"],
                "device_id": 1,
                "parent_id": order["id"] * 100,
            }
        ],
    }


def _split(total: Decimal, n: int) -> list[Decimal]:
    if n <= 1:
        return [total]
    first = q(total * Decimal("0.6"))
    rest = _split(total - first, n - 1)
    return [first, *rest]


def shopify_delivery(
    source: PosSource, topic: str, body: dict, *, event_id: str | None = None, label: str = ""
) -> Delivery:
    raw = json.dumps(body).encode()
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": "tillbridge-demo.myshopify.com",
        "X-Shopify-API-Version": "2024-04",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        # When Shopify fired the webhook: now, not when the order changed (a replayed day is delivered
        # today); the receiver refuses deliveries older than Shopify's retry horizon as replays.
        "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
        "X-Shopify-Hmac-Sha256": signatures.sign_shopify(source.webhook_secret, raw),
    }
    return Delivery(source.code, raw, headers, label or f"{topic} {body['id']}")


# --- Square -------------------------------------------------------------------------------------
def _sq(amount: Decimal) -> dict:
    return {"amount": int((amount * 100).to_integral_value()), "currency": "GBP"}


def square_sale(
    *,
    order_id: str,
    location_id: str,
    at: datetime,
    items: list[tuple[dict, str, Decimal]],
    tenders: list[str],
    device: str = "DEV-1",
) -> tuple[dict, list[dict]]:
    """A COMPLETED POS order with INCLUSIVE UK VAT, and one COMPLETED payment per tender."""
    taxes, lines, total, tax_total = {}, [], Decimal("0"), Decimal("0")
    for n, (p, qty, discount) in enumerate(items):
        rate_pct = format((p["vat_rate"] * 100).normalize(), "f")  # "20", never "2E+1"
        uid = f"vat-{rate_pct}"
        taxes[uid] = {
            "uid": uid,
            "name": f"VAT {rate_pct}%",
            "percentage": rate_pct,
            "type": "INCLUSIVE",
            "scope": "LINE_ITEM",
        }
        gross = q(p["price"] * Decimal(qty))
        net = gross - discount
        tax = vat_in(net, p["vat_rate"])
        lines.append(
            {
                "uid": f"{order_id}-L{n}",
                "name": p["name"],
                "quantity": qty,
                "catalog_object_id": p.get("square_id"),
                "item_type": p.get("item_type", "ITEM"),
                "base_price_money": _sq(p["price"]),
                "gross_sales_money": _sq(gross),
                "total_discount_money": _sq(discount),
                "total_tax_money": _sq(tax),
                "total_money": _sq(net),
                "applied_taxes": [{"uid": f"at{n}", "tax_uid": uid, "applied_money": _sq(tax)}],
            }
        )
        total += net
        tax_total += tax
    shares = _split(total, len(tenders))
    payments, order_tenders = [], []
    for i, (kind, amount) in enumerate(zip(tenders, shares, strict=True)):
        pid = f"{order_id}P{i}"
        payments.append(
            {
                "id": pid,
                "order_id": order_id,
                "location_id": location_id,
                "status": "COMPLETED",
                "amount_money": _sq(amount),
                "source_type": kind,
                "receipt_number": order_id[:4],
                "device_details": {"device_id": device, "device_name": f"Counter {device[-1]}"},
                "team_member_id": "TM-ALEX",
                "created_at": at.isoformat(),
                "updated_at": at.isoformat(),
            }
        )
        order_tenders.append(
            {
                "id": pid,
                "payment_id": pid,
                "type": kind,
                "amount_money": _sq(amount),
                "card_details": {"card": {"last_4": "1111"}} if kind == "CARD" else None,
            }
        )
    order = {
        "id": order_id,
        "location_id": location_id,
        "state": "COMPLETED",
        "version": 3,
        "source": {"name": "Square Point of Sale"},
        "created_at": at.isoformat(),
        "updated_at": at.isoformat(),
        "closed_at": at.isoformat().replace("+00:00", "Z"),
        "line_items": lines,
        "taxes": list(taxes.values()),
        "tenders": order_tenders,
        "total_money": _sq(total),
        "total_tax_money": _sq(tax_total),
        "total_discount_money": _sq(sum((d for _, _, d in items), Decimal("0"))),
    }
    return order, payments


def square_return(
    *,
    order_id: str,
    source_order: dict | None,
    location_id: str,
    at: datetime,
    lines: list[tuple[dict, str]],
    refund_id: str,
) -> tuple[dict, dict]:
    """A return order (`returns[]`, linked through source_line_item_uid unless blind) and its refund."""
    rlis, taxes, total, tax_total = [], {}, Decimal("0"), Decimal("0")
    for n, (src_line, qty) in enumerate(lines):
        unit = Decimal(src_line["base_price_money"]["amount"]) / 100
        gross = q(unit * Decimal(qty))
        tax_uid = src_line["applied_taxes"][0]["tax_uid"]
        rate_pct = Decimal(tax_uid.split("-")[1])
        tax = vat_in(gross, rate_pct / 100)
        taxes[tax_uid] = {
            "uid": tax_uid,
            "name": f"VAT {rate_pct}%",
            "percentage": str(rate_pct),
            "type": "INCLUSIVE",
        }
        rlis.append(
            {
                "uid": f"{order_id}-R{n}",
                "source_line_item_uid": src_line["uid"] if source_order else None,
                "catalog_object_id": src_line.get("catalog_object_id"),
                "name": src_line["name"],
                "item_type": "ITEM",
                "quantity": qty,
                "base_price_money": src_line["base_price_money"],
                "gross_return_money": _sq(gross),
                "total_tax_money": _sq(tax),
                "total_money": _sq(gross),
                "applied_taxes": [{"tax_uid": tax_uid, "applied_money": _sq(tax)}],
            }
        )
        total += gross
        tax_total += tax
    ret = {"uid": "ret-1", "return_line_items": rlis, "return_taxes": list(taxes.values())}
    if source_order:
        ret["source_order_id"] = source_order["id"]
    order = {
        "id": order_id,
        "location_id": location_id,
        "state": "COMPLETED",
        "version": 2,
        "created_at": at.isoformat(),
        "updated_at": at.isoformat(),
        "closed_at": at.isoformat(),
        "returns": [ret],
        "return_amounts": {"total_money": _sq(total), "tax_money": _sq(tax_total)},
        "refunds": [
            {"id": refund_id, "status": "COMPLETED", "amount_money": _sq(total), "destination_type": "CASH"}
        ],
        "total_money": _sq(Decimal("0")),
        "total_tax_money": _sq(Decimal("0")),
    }
    refund = {
        "id": refund_id,
        "status": "COMPLETED",
        "order_id": order_id,
        "location_id": location_id,
        "payment_id": (source_order or {}).get("tenders", [{}])[0].get("payment_id", ""),
        "amount_money": _sq(total),
        "destination_type": "CASH",
        "created_at": at.isoformat(),
        "updated_at": at.isoformat(),
    }
    return order, refund


def square_delivery(
    source: PosSource, event_type: str, obj_key: str, obj: dict, *, event_id: str | None = None
) -> Delivery:
    body = {
        "merchant_id": "MLTILLBRIDGE",
        "type": event_type,
        "event_id": event_id or str(uuid.uuid4()),
        "created_at": datetime.now(UTC).isoformat(),  # the event's time, not the order's
        "data": {"type": obj_key, "id": obj["id"], "object": {obj_key: obj}},
    }
    raw = json.dumps(body).encode()
    headers = {
        "x-square-hmacsha256-signature": signatures.sign_square(
            source.webhook_secret, source.webhook_url, raw
        ),
        "square-environment": "Sandbox",
        "square-initial-delivery-timestamp": datetime.now(UTC).isoformat(),
    }
    return Delivery(source.code, raw, headers, f"{event_type} {obj['id']}")


# --- Lightspeed X-Series ---------------------------------------------------------------------------
def xs_sale(
    *,
    sale_id: str,
    outlet_id: str,
    register_id: str,
    at: datetime,
    items: list[tuple[dict, int]],
    payments: list[str],
    status: str = "CLOSED",
    version: int = 1,
    return_for: str | None = None,
) -> dict:
    """API 1.0 `register_sale` shape: tax-exclusive unit price + unit tax, floats for money."""
    taxes, products, total, tax_total = {}, [], Decimal("0"), Decimal("0")
    for n, (p, qty) in enumerate(items):
        rate = p["vat_rate"]
        tax_id = f"tax-{int(rate * 100)}"
        taxes[tax_id] = {"id": tax_id, "name": f"VAT {int(rate * 100)}%", "rate": float(rate)}
        unit_ex = q(p["price"] / (1 + rate))
        unit_tax = p["price"] - unit_ex
        products.append(
            {
                "id": f"{sale_id}-{n}",
                "product_id": p.get("xs_id"),
                "quantity": qty,
                "price": float(unit_ex),
                "discount": 0.0,
                "tax": float(unit_tax),
                "tax_total": float(q(unit_tax * qty)),
                "tax_id": tax_id,
                "sequence": n,
                "is_return": qty < 0,
            }
        )
        total += unit_ex * qty
        tax_total += q(unit_tax * qty)
    gross = total + tax_total
    shares = _split(gross, len(payments))
    return {
        "id": sale_id,
        "outlet_id": outlet_id,
        "register_id": register_id,
        "user_id": "staff-1",
        "invoice_number": f"XS-{sale_id[:6].upper()}",
        "status": status,
        "sale_date": at.strftime("%Y-%m-%d %H:%M:%S"),
        "updated_at": at.isoformat(),
        "version": version,
        "return_for": return_for,
        "register_sale_products": products,
        "register_sale_payments": [
            {"id": f"{sale_id}-p{i}", "name": name, "amount": float(a)}
            for i, (name, a) in enumerate(zip(payments, shares, strict=True))
        ],
        "taxes": list(taxes.values()),
        "totals": {"total_price": float(total), "total_tax": float(tax_total), "total_payment": float(gross)},
    }


def xs_delivery(source: PosSource, sale: dict, *, raw: bytes | None = None, label: str = "") -> Delivery:
    body = (
        raw
        if raw is not None
        else urlencode(
            {"payload": json.dumps(sale), "environment": "production", "domain_prefix": "tillbridge"}
        ).encode()
    )
    headers = {
        "X-Signature": signatures.sign_lightspeed(source.webhook_secret, body),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return Delivery(
        source.code,
        body,
        headers,
        label or f"sale.update {sale.get('id')}",
        content_type="application/x-www-form-urlencoded",
    )


# --- the day --------------------------------------------------------------------------------------
def generate_day(
    *,
    stores: int = 12,
    sales_per_store: int = 6,
    seed: int = 7,
    day: datetime | None = None,
    faults: tuple[str, ...] = FAULTS,
    base_url: str = "http://127.0.0.1:8000",
) -> Day:
    """Build the day in the simulator and return the deliveries (in sending order)."""
    rng = random.Random(seed)
    from django.db.models import Max
    from django.utils import timezone

    from integration.possim.models import SimRecord

    first_version = SimRecord.objects.aggregate(v=Max("version"))["v"] or 0
    sources = ensure_sources(base_url)
    seed_reference(stores)
    day = day or datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
    out = Day()
    catalog = [product_refs(i) for i in range(len(demo_products()))]
    base = int(day.strftime("%y%m%d")) * 10000

    def basket():
        return rng.sample(catalog, rng.randint(1, 3))

    # Shopify
    src = sources[Platform.SHOPIFY]
    orders = []
    for s, (loc, _name) in enumerate(store_ids(Platform.SHOPIFY, stores)):
        for k in range(sales_per_store):
            at = day + timedelta(minutes=rng.randint(0, 11 * 60))
            oid = base + s * 100 + k
            items = [
                (p, rng.randint(1, 2), Decimal("2.00") if rng.random() < 0.2 else Decimal("0"))
                for p in basket()
            ]
            if "unknown_sku" in faults and k == 0 and s == 0:
                items.append(
                    (
                        {
                            "sku": "ZZ-DISCONTINUED-9",
                            "name": "Old stock",
                            "price": Decimal("5.00"),
                            "vat_rate": Decimal("0.20"),
                            "variant_id": 99999,
                        },
                        1,
                        Decimal("0"),
                    )
                )
            if "custom_sale" in faults and k == 1 and s == 0:
                items.append(
                    (
                        {
                            "sku": "",
                            "name": "Custom sale",
                            "price": Decimal("7.50"),
                            "vat_rate": Decimal("0.20"),
                            "variant_id": None,
                        },
                        1,
                        Decimal("0"),
                    )
                )
            gateways = rng.choice(
                [
                    ["shopify_payments"],
                    ["cash"],
                    ["shopify_payments", "cash"],
                    ["gift_card", "shopify_payments"],
                ]
            )
            order = shopify_order(
                order_id=oid,
                location_id=loc,
                at=at,
                items=items,
                gateways=gateways,
                tax_rounding_fault="tax_rounding" in faults and k == 2,
            )
            sim_put(
                platform="shopify",
                kind="order",
                object_id=str(oid),
                data=order,
                updated_at=at,
                location_id=loc,
            )
            orders.append(order)
            out.deliveries.append(shopify_delivery(src, "orders/create", order))
    if "new_store" in faults:
        at = day + timedelta(hours=5)
        order = shopify_order(
            order_id=base + 9999,
            location_id="69999999",
            at=at,
            items=[(catalog[0], 1, Decimal("0"))],
            gateways=["cash"],
        )
        sim_put(
            platform="shopify",
            kind="order",
            object_id=str(order["id"]),
            data=order,
            updated_at=at,
            location_id="69999999",
        )
        out.deliveries.append(
            shopify_delivery(src, "orders/create", order, label="sale at a brand-new store")
        )
    if orders:
        order = orders[1 % len(orders)]
        refund = shopify_refund(
            refund_id=order["id"] + 500000, order=order, line_qty=[(0, 1)], at=day + timedelta(hours=10)
        )
        sim_put(
            platform="shopify",
            kind="refund",
            object_id=str(refund["id"]),
            data=refund,
            updated_at=day + timedelta(hours=10),
            parent_id=str(order["id"]),
        )
        d = shopify_delivery(src, "refunds/create", refund, label="linked return")
        if "refund_before_sale" in faults:  # the refund overtakes its order on the wire
            idx = next(i for i, x in enumerate(out.deliveries) if json.loads(x.body)["id"] == order["id"])
            out.deliveries.insert(idx, d)
            d.fault = "refund_before_sale"
        else:
            out.deliveries.append(d)

    # Square
    src = sources[Platform.SQUARE]
    sq_orders = []
    for s, (loc, _name) in enumerate(store_ids(Platform.SQUARE, stores)):
        for k in range(sales_per_store):
            at = day + timedelta(minutes=rng.randint(0, 11 * 60))
            oid = f"SQ{base + s * 100 + k}"
            items = [
                (
                    p,
                    rng.choice(["1", "2", "1.5"]) if p["sku"] == "SOCK-3PK" else rng.choice(["1", "2"]),
                    Decimal("0"),
                )
                for p in basket()
            ]
            order, payments = square_sale(
                order_id=oid,
                location_id=loc,
                at=at,
                items=items,
                tenders=rng.choice([["CARD"], ["CASH"], ["CARD", "CASH"]]),
            )
            sim_put(
                platform="square", kind="order", object_id=oid, data=order, updated_at=at, location_id=loc
            )
            for p in payments:
                sim_put(
                    platform="square",
                    kind="payment",
                    object_id=p["id"],
                    data=p,
                    updated_at=at,
                    location_id=loc,
                )
            sq_orders.append(order)
            if "late_poll_only" in faults and s == 0 and k == sales_per_store - 1:
                out.suppressed.append(oid)  # its webhook never arrives: only the poller can find it
                continue
            for p in payments:
                out.deliveries.append(square_delivery(src, "payment.updated", "payment", p))
        if s == 0 and sq_orders:
            original = sq_orders[0]
            ret, refund = square_return(
                order_id=f"RT{original['id']}",
                source_order=original,
                location_id=loc,
                at=day + timedelta(hours=11),
                lines=[(original["line_items"][0], "1")],
                refund_id=f"RF{original['id']}",
            )
            sim_put(
                platform="square",
                kind="order",
                object_id=ret["id"],
                data=ret,
                updated_at=day + timedelta(hours=11),
                location_id=loc,
            )
            sim_put(
                platform="square",
                kind="refund",
                object_id=refund["id"],
                data=refund,
                updated_at=day + timedelta(hours=11),
                location_id=loc,
            )
            out.deliveries.append(square_delivery(src, "refund.updated", "refund", refund))

    # Lightspeed X-Series
    src = sources[Platform.LIGHTSPEED]
    for s, (outlet, _name) in enumerate(store_ids(Platform.LIGHTSPEED, stores)):
        register = str(uuid.uuid5(uuid.NAMESPACE_URL, f"register-{outlet}-1"))
        sales = []
        for k in range(sales_per_store):
            at = day + timedelta(minutes=rng.randint(0, 11 * 60))
            sid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sale-{seed}-{base}-{s}-{k}"))
            sale = xs_sale(
                sale_id=sid,
                outlet_id=outlet,
                register_id=register,
                at=at,
                items=[(p, rng.randint(1, 2)) for p in basket()],
                payments=rng.choice([["Card"], ["Cash"], ["Card", "Cash"]]),
            )
            rec = sim_put(
                platform="lightspeed",
                kind="sale",
                object_id=sid,
                data=sale,
                updated_at=at,
                location_id=outlet,
            )
            sale["version"] = rec.version
            sales.append(sale)
            if "stale_retry" in faults and k == 0:
                parked = {**sale, "status": "SAVED", "version": rec.version - 1}
                out.deliveries.append(xs_delivery(src, sale))
                out.deliveries.append(xs_delivery(src, parked, label="stale retry (parked state)"))
                out.deliveries[-1].fault = "stale_retry"
                continue
            out.deliveries.append(xs_delivery(src, sale))
        if s == 0 and sales:  # a linked return and an exchange and a blind return
            orig = sales[0]
            p0 = next(p for p in catalog if p["xs_id"] == orig["register_sale_products"][0]["product_id"])
            for label, items, return_for in (
                ("linked return", [(p0, -1)], orig["id"]),
                ("exchange", [(p0, -1), (catalog[3], 1)], orig["id"]),
                ("blind return", [(catalog[5], -1)], None),
                # A receipt from last month whose sale predates Tillbridge: waits, then the engine
                # raises an unlinked-return exception after the grace period.
                ("late return", [(catalog[6], -1)], str(uuid.uuid5(uuid.NAMESPACE_URL, "sale-last-month"))),
            ):
                sid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{label}-{orig['id']}"))
                sale = xs_sale(
                    sale_id=sid,
                    outlet_id=outlet,
                    register_id=register,
                    at=day + timedelta(hours=10),
                    items=items,
                    payments=["Cash"],
                    return_for=return_for,
                )
                rec = sim_put(
                    platform="lightspeed",
                    kind="sale",
                    object_id=sid,
                    data=sale,
                    updated_at=day + timedelta(hours=10),
                    location_id=outlet,
                )
                sale["version"] = rec.version
                out.deliveries.append(xs_delivery(src, sale, label=label))
    if "malformed" in faults:
        out.deliveries.append(
            xs_delivery(src, {}, raw=b"payload=%7B%22id%22%3A%20broken", label="malformed body")
        )
        out.deliveries[-1].fault = "malformed"
    if "bad_signature" in faults and out.deliveries:
        good = out.deliveries[0]
        bad = Delivery(
            good.source_code,
            good.body,
            {
                **good.headers,
                "X-Shopify-Hmac-Sha256": "AAAA" + good.headers.get("X-Shopify-Hmac-Sha256", "")[4:],
            },
            "bad signature",
            "bad_signature",
            good.content_type,
        )
        out.deliveries.append(bad)
    # The POS wrote these records just now (we replay yesterday's trading today): the API's
    # updated_at, which the pollers' windows use, is the time of writing, not the sale time.
    SimRecord.objects.filter(version__gt=first_version).update(updated_at=timezone.now())
    if "duplicates" in faults:
        for d in rng.sample(out.deliveries, min(5, len(out.deliveries))):
            out.deliveries.append(
                Delivery(
                    d.source_code, d.body, d.headers, f"duplicate of {d.label}", "duplicates", d.content_type
                )
            )
    return out
