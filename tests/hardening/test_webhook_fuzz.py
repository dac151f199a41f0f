"""Hostile bodies against every webhook endpoint, signed (so they get past the door) and unsigned:
never a 500, and every body that was acknowledged is kept — processed, ignored or quarantined."""

import json

import pytest

from integration.models import InboundEvent, Platform, PosTransaction
from integration.pos import signatures
from integration.possim import generator as g
from tests.pos.conftest import deliver, process_all

DEEP = 100_000  # far past Python's recursion limit for json.loads


def _hostile_json() -> list[tuple[str, bytes]]:
    return [
        ("empty", b""),
        ("truncated", b'{"id": 1, "line_items": ['),
        ("deeply nested array", b"[" * DEEP + b"]" * DEEP),
        ("deeply nested object", b'{"a":' * DEEP + b"1" + b"}" * DEEP),
        ("nested inside a valid id", b'{"id": 5, "x": ' + b"[" * DEEP + b"]" * DEEP + b"}"),
        ("utf-16 with BOM", '{"id": 7, "line_items": []}'.encode("utf-16")),
        ("latin-1", '{"id": 8, "note": "café"}'.encode("latin-1")),
        ("invalid utf-8", b'{"id": 9, "x": "\xff\xfe\xfa"}'),
        ("NUL inside strings", b'{"id": "1\\u0000 2", "location_id": "\\u0000"}'),
        ("NaN and Infinity literals", b'{"id": 10, "total_price": NaN, "subtotal_price": Infinity}'),
        ("huge exponent", b'{"id": 11, "total_price": 1e999999, "line_items": [{"price": "1e999999"}]}'),
        ("huge integer id", b'{"id": ' + b"9" * 5000 + b"}"),
        ("long string id", b'{"id": "' + b"x" * 20000 + b'"}'),
        ("duplicate keys", b'{"id": 12, "id": 13, "line_items": []}'),
        ("array not object", b"[1, 2, 3]"),
        ("scalar", b"42"),
        ("script injection", b'{"id": "<script>alert(1)</script>", "note": "\'; DROP TABLE x; --"}'),
        ("wrong types everywhere", b'{"id": {}, "line_items": "no", "transactions": 5, "created_at": []}'),
        (
            "NaN tax rate",
            b'{"id": 14, "line_items": [{"id": 1, "quantity": 1, "price": "1.00", '
            b'"tax_lines": [{"rate": "NaN", "price": "0.2", "title": "VAT"}]}]}',
        ),
    ]


def _square_bodies() -> list[tuple[str, bytes]]:
    base = [*_hostile_json()]
    base += [
        (
            "square event, hostile object",
            json.dumps(
                {"event_id": "e-1", "type": "payment.updated", "data": {"object": {"payment": "not a dict"}}}
            ).encode(),
        ),
        (
            "square event, nested junk",
            b'{"event_id": "e-2", "type": "x", "data": ' + b"[" * DEEP + b"]" * DEEP + b"}",
        ),
        (
            "square event, order id list",
            json.dumps(
                {
                    "event_id": "e-3",
                    "type": "payment.updated",
                    "data": {"object": {"payment": {"order_id": ["a"], "version": {}}}},
                }
            ).encode(),
        ),
    ]
    return base


def _lightspeed_bodies() -> list[tuple[str, bytes]]:
    return [
        *_hostile_json(),
        ("form without payload", b"a=1&b=2"),
        ("form, payload not JSON", b"payload=%7Bnope"),
        ("form, payload deeply nested", b"payload=" + b"%5B" * DEEP + b"%5D" * DEEP),
        (
            "form, payload hostile sale",
            b"payload="
            + json.dumps({"id": "s1", "version": {"x": 1}, "register_sale_products": "x"}).encode(),
        ),
        ("form, bad percent-encoding", b"payload=%ZZ%"),
    ]


BODIES = {
    Platform.SHOPIFY: _hostile_json,
    Platform.SQUARE: _square_bodies,
    Platform.LIGHTSPEED: _lightspeed_bodies,
}


def _signed(source, body: bytes, label: str) -> g.Delivery:
    if source.platform == Platform.SHOPIFY:
        headers = {
            "X-Shopify-Hmac-Sha256": signatures.sign_shopify(source.webhook_secret, body),
            "X-Shopify-Topic": "orders/create",
        }
        return g.Delivery(source.code, body, headers, label)
    if source.platform == Platform.SQUARE:
        headers = {
            "x-square-hmacsha256-signature": signatures.sign_square(
                source.webhook_secret, source.webhook_url, body
            )
        }
        return g.Delivery(source.code, body, headers, label)
    headers = {"X-Signature": signatures.sign_lightspeed(source.webhook_secret, body)}
    d = g.Delivery(source.code, body, headers, label)
    d.content_type = "application/x-www-form-urlencoded"
    return d


@pytest.mark.parametrize("platform", [Platform.SHOPIFY, Platform.SQUARE, Platform.LIGHTSPEED])
def test_hostile_bodies_never_cause_a_500_and_nothing_acknowledged_is_lost(pos, platform):
    source = pos[platform]
    acknowledged = 0
    for label, body in BODIES[platform]():
        signed = deliver(_signed(source, body, label))
        assert signed.status_code < 500, f"{platform} {label}: {signed.status_code}"
        if label == "empty":  # nothing to sign for: refused at the door, which loses nothing
            assert signed.status_code == 401
            continue
        assert signed.status_code in (200, 413), (
            f"{platform} {label}: signed body refused {signed.status_code}"
        )
        acknowledged += signed.content == b"ok"
        unsigned = g.Delivery(source.code, body, {}, label)
        assert deliver(unsigned).status_code == 401, f"{platform} {label} unsigned"
    process_all()
    # Every acknowledged body is a stored event, and none is left in limbo.
    assert InboundEvent.objects.filter(source=source).count() == acknowledged
    assert acknowledged >= len(BODIES[platform]()) - 4  # empty, and a few share one dedupe key
    waiting = InboundEvent.objects.filter(source=source, status="received")
    assert not waiting.filter(error="").exists(), list(waiting.values("id", "error"))
    # The raw bytes are stored unchanged: a person can always see what the POS sent.
    for event in InboundEvent.objects.filter(source=source):
        assert len(bytes(event.body)) > 0
        if event.status == "quarantined":
            assert event.error, "a quarantined event must say why"


def test_a_nan_tax_rate_is_quarantined_with_a_reason_not_stored_as_a_rate(pos):
    source = pos[Platform.SHOPIFY]
    order = g.shopify_order(
        order_id=4242,
        location_id="1",
        at=g.datetime.now(g.UTC),
        items=[(g.product_refs(0), 1, g.Decimal("0"))],
        gateways=["cash"],
    )
    order["line_items"][0]["tax_lines"][0]["rate"] = "NaN"
    d = g.shopify_delivery(source, "orders/create", order)
    assert deliver(d).status_code == 200
    process_all()
    event = InboundEvent.objects.get()
    assert event.status == "quarantined"
    assert "tax rate" in event.error
    assert not PosTransaction.objects.exists()


def test_a_body_one_byte_over_the_limit_is_413_and_at_the_limit_is_accepted(pos, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 2048
    source = pos[Platform.SHOPIFY]
    over = b'{"id": 1, "pad": "' + b"x" * 2048 + b'"}'
    assert deliver(_signed(source, over, "over")).status_code == 413
    at = b'{"id": 2, "pad": "' + b"x" * (2048 - 20) + b'"}'
    assert len(at) <= 2048
    assert deliver(_signed(source, at, "at")).status_code == 200
