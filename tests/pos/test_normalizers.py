"""Normalizer and signature details from the reference's pitfalls lists."""

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from integration.models import InboundEvent, Platform, PosTransaction, TransactionState
from integration.pos import lightspeed, shopify, signatures, square
from integration.pos.canonical import Ignored, NormalizationError
from integration.possim import generator as g
from tests.pos.conftest import deliver, process_all

AT = datetime(2026, 11, 26, 12, tzinfo=UTC)


def test_shopify_stacked_jurisdictions_string_rates_and_unstable_tax_order_hash_the_same():
    order = g.shopify_order(
        order_id=9, location_id="1", at=AT, items=[(g.product_refs(0), 1, Decimal("0"))], gateways=["cash"]
    )
    line = order["line_items"][0]
    line["price"] = "9.99"
    line["tax_lines"] = [
        {"title": "CA State Tax", "rate": "0.0725", "price": "0.72"},  # 2017 capture: rate as a string
        {"title": "Los Angeles County Tax", "rate": 0.005, "price": "0.05"},
        {"title": "Municipal", "rate": 0.0025, "price": 0.02},
    ]
    a = shopify.normalize_order(order)[0]
    order["line_items"][0]["tax_lines"].reverse()
    b = shopify.normalize_order(order)[0]
    assert [(t.title, t.rate, t.amount) for t in a.lines[0].taxes] == [
        ("CA State Tax", Decimal("0.0725"), Decimal("0.72")),
        ("Los Angeles County Tax", Decimal("0.005"), Decimal("0.05")),
        ("Municipal", Decimal("0.0025"), Decimal("0.02")),
    ]
    assert a.lines[0].tax_amount == Decimal("0.79")
    assert a.content_hash() == b.content_hash()


def test_shopify_gift_card_sale_and_tender_and_non_pos_orders():
    card = {
        "sku": "",
        "name": "Gift card £25",
        "price": Decimal("25.00"),
        "vat_rate": Decimal("0"),
        "variant_id": 5,
        "gift_card": True,
    }
    order = g.shopify_order(
        order_id=10, location_id="1", at=AT, items=[(card, 1, Decimal("0"))], gateways=["gift_card"]
    )
    sale = shopify.normalize_order(order)[0]
    assert sale.lines[0].is_gift_card
    assert not sale.lines[0].is_custom
    assert sale.tenders[0].tender_type == "gift_card"
    with pytest.raises(Ignored):
        shopify.normalize_order({**order, "source_name": "web"})
    with pytest.raises(NormalizationError):
        shopify.normalize_event(
            "orders/create",
            {
                "id": 1,
                "source_name": "pos",
                "location_id": 1,
                "line_items": [{"id": 1, "quantity": "x"}],
                "created_at": AT.isoformat(),
            },
        )


def test_square_blind_return_custom_amount_and_pending_payment():
    order, _ = g.square_sale(
        order_id="O1",
        location_id="L",
        at=AT,
        items=[(g.product_refs(0), "1", Decimal("0"))],
        tenders=["CARD"],
    )
    ret, _refund = g.square_return(
        order_id="R1",
        source_order=None,
        location_id="L",
        at=AT,
        lines=[(order["line_items"][0], "1")],
        refund_id="F1",
    )
    t = square.normalize_order(ret)
    assert t.kind == "return"
    assert t.original_pos_id == ""
    assert t.lines[0].original_line_id == ""
    assert t.lines[0].quantity == -1
    assert t.total == Decimal("-18.00")
    assert t.tax_total == Decimal("-3.00")
    order["line_items"][0].update(item_type="CUSTOM_AMOUNT", catalog_object_id=None)
    assert square.normalize_order(order).lines[0].is_custom
    pending = {
        "type": "payment.updated",
        "event_id": "e",
        "data": {"object": {"payment": {"status": "APPROVED", "order_id": "O1"}}},
    }
    with pytest.raises(Ignored):
        square.normalize_event(pending)
    with pytest.raises(Ignored):
        square.normalize_order({**order, "state": "OPEN"})


def test_xseries_parked_and_layby_ignored_and_void_before_posting_marks_voided(pos):
    src = pos[Platform.LIGHTSPEED]
    outlet = g.store_ids(Platform.LIGHTSPEED, 12)[0][0]
    sale = g.xs_sale(
        sale_id="v-1",
        outlet_id=outlet,
        register_id="",
        at=AT,
        items=[(g.product_refs(0), 1)],
        payments=["Cash"],
    )
    for status in ("SAVED", "LAYBY", "ONACCOUNT"):
        with pytest.raises(Ignored):
            lightspeed.normalize_sale({**sale, "status": status})
    deliver(g.xs_delivery(src, sale))
    process_all()
    deliver(g.xs_delivery(src, {**sale, "status": "VOIDED", "version": 99}))
    process_all()
    assert PosTransaction.objects.get(pos_id="v-1").state == TransactionState.VOIDED
    assert not PosTransaction.objects.filter(pos_id="v-1:void").exists()


def test_xseries_signature_is_tolerant_of_hex_base64_order_and_spacing():
    body = b"payload=%7B%7D"
    digest = signatures._digest("k", body)
    assert signatures.verify_lightspeed("k", body, f"signature={digest.hex()},algorithm=HMAC-SHA256")
    assert signatures.verify_lightspeed(
        "k", body, f"algorithm=HMAC-SHA256, signature={base64.b64encode(digest).decode()}"
    )
    assert signatures.verify_lightspeed("k", body, f"signature={digest.hex().upper()}")
    assert not signatures.verify_lightspeed("k", body, f"signature={digest.hex()},algorithm=HMAC-SHA1")
    assert not signatures.verify_lightspeed("other", body, f"signature={digest.hex()}")
    assert not signatures.verify_lightspeed("k", body, "garbage")


def test_square_signature_covers_the_exact_url_and_body():
    url, body = "https://example.com/webhooks/square-uk/", b'{"event_id":"1"}'
    sig = signatures.sign_square("key", url, body)
    assert signatures.verify_square("key", url, body, sig)
    assert not signatures.verify_square("key", url.rstrip("/"), body, sig)
    assert not signatures.verify_square("key", url, b'{"event_id": "1"}', sig)


def test_a_second_secret_is_accepted_for_rotation(pos):
    src = pos[Platform.SHOPIFY]
    order = g.shopify_order(
        order_id=11, location_id="1", at=AT, items=[(g.product_refs(0), 1, Decimal("0"))], gateways=["cash"]
    )
    d = g.shopify_delivery(src, "orders/create", order)
    src.webhook_secret = f"new-secret\n{src.webhook_secret}"
    src.save()
    assert deliver(d).status_code == 200


VALID_ORDER = g.shopify_order(
    order_id=12,
    location_id="1",
    at=AT,
    items=[(g.product_refs(0), 2, Decimal("1.00"))],
    gateways=["cash", "shopify_payments"],
)
JUNK = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=6),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@hsettings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(
        [
            "id",
            "location_id",
            "created_at",
            "line_items",
            "line_items.0.quantity",
            "line_items.0.price",
            "line_items.0.tax_lines",
            "line_items.0.tax_lines.0.rate",
            "transactions",
            "transactions.0.amount",
            "total_price",
        ]
    ),
    junk=JUNK,
)
def test_fuzz_mutated_valid_payloads_end_processed_ignored_or_quarantined_never_lost(pos, path, junk):
    body = json.loads(json.dumps(VALID_ORDER))
    target, *keys = path.split(".")
    node = body
    for k in [target, *keys][:-1]:
        node = node[int(k)] if k.isdigit() else node[k]
    last = [target, *keys][-1]
    node[int(last) if last.isdigit() else last] = junk
    raw = json.dumps(body, default=str).encode()
    src = pos[Platform.SHOPIFY]
    d = g.Delivery(
        src.code,
        raw,
        {
            "X-Shopify-Hmac-Sha256": signatures.sign_shopify(src.webhook_secret, raw),
            "X-Shopify-Topic": "orders/create",
        },
        "fuzz",
    )
    before = InboundEvent.objects.count()
    assert deliver(d).status_code == 200
    process_all()
    assert InboundEvent.objects.count() in (before, before + 1)
    # Nothing left in limbo: every event is final, or waits for the sweeper with its reason recorded
    # (e.g. the order's transactions had to be fetched and the POS API answered 404).
    waiting = InboundEvent.objects.filter(status="received")
    assert not waiting.filter(process_attempts=0).exists()
    assert not waiting.filter(error="").exists()


def test_nul_characters_never_reach_postgresql_text_columns(pos):
    src = pos[Platform.SHOPIFY]
    loc = g.store_ids(Platform.SHOPIFY, 12)[0][0]
    order = g.shopify_order(
        order_id=13, location_id=loc, at=AT, items=[(g.product_refs(0), 1, Decimal("0"))], gateways=["cash"]
    )
    order["line_items"][0]["name"] = "Tee\u0000 black"
    broken = {**order, "id": 14, "updated_at": "2026-11-26T12:00:00+00:00\u0000"}
    for body in (order, broken):
        raw = json.dumps(body).encode()
        headers = {
            "X-Shopify-Hmac-Sha256": signatures.sign_shopify(src.webhook_secret, raw),
            "X-Shopify-Topic": "orders/create",
        }
        assert deliver(g.Delivery(src.code, raw, headers, "nul")).status_code == 200
    process_all()
    good, bad = InboundEvent.objects.order_by("id")
    assert b"\\u0000" in bytes(good.body)  # the raw bytes are kept exactly
    assert good.status == "processed"
    assert PosTransaction.objects.get(pos_id="13").lines.get().description == "Tee black"
    assert bad.entity_version == "2026-11-26T12:00:00+00:00"
    assert bad.status in ("processed", "quarantined")
