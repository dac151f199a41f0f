"""Signed payloads in the reference's shapes become the right canonical transactions."""

import random
from datetime import UTC, datetime
from decimal import Decimal

from integration.models import InboundEvent, Platform, PosTransaction, SecurityEvent, TransactionState
from integration.possim import generator as g
from integration.possim.models import sim_put
from tests.pos.conftest import deliver, process_all

LATE = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # 00:30 on 1 July in London (BST)


def test_shopify_pos_order_and_linked_refund_become_sale_and_return(pos):
    src = pos[Platform.SHOPIFY]
    loc = g.store_ids(Platform.SHOPIFY, 12)[0]
    tee, book = g.product_refs(1), g.product_refs(17)
    custom = {
        "sku": "",
        "name": "Custom sale",
        "price": Decimal("7.50"),
        "vat_rate": Decimal("0.20"),
        "variant_id": None,
    }
    order = g.shopify_order(
        order_id=5001,
        location_id=loc[0],
        at=LATE,
        items=[(tee, 2, Decimal("2.00")), (book, 1, Decimal("0")), (custom, 1, Decimal("0"))],
        gateways=["shopify_payments", "cash"],
        device_id=3,
    )
    refund = g.shopify_refund(refund_id=7001, order=order, line_qty=[(0, 1)], at=LATE)
    # The refund overtakes the order on the wire.
    assert deliver(g.shopify_delivery(src, "refunds/create", refund)).status_code == 200
    process_all()
    ret = PosTransaction.objects.get(pos_id="refund-7001")
    assert ret.original is None
    assert ret.original_pos_id == "5001"
    assert deliver(g.shopify_delivery(src, "orders/create", order)).status_code == 200
    process_all()
    sale = PosTransaction.objects.get(source=src, pos_id="5001")
    assert sale.state == TransactionState.NORMALIZED
    assert sale.kind == "sale"
    assert sale.pos_location_name == loc[1]
    assert sale.register_id == "3"
    assert sale.business_date.isoformat() == "2026-07-01"
    lines = list(sale.lines.order_by("sequence"))
    assert [line.quantity for line in lines] == [2, 1, 1]
    assert lines[0].sku == tee["sku"]
    assert lines[0].discount == Decimal("2.00")
    assert lines[0].net_amount == Decimal("34.00")
    assert [(t.title, t.rate, t.amount) for t in lines[0].taxes.all()] == [
        ("GB VAT", Decimal("0.2"), Decimal("5.67"))
    ]
    assert lines[1].taxes.get().rate == 0
    assert lines[2].is_custom
    assert lines[2].sku == ""
    assert sorted(t.tender_type for t in sale.tenders.all()) == ["card", "cash"]
    # UK prices include VAT; the stored subtotal is always before tax, so the parts add up.
    assert sale.taxes_included
    assert sale.subtotal == sum(line.net_amount for line in lines) - sale.tax_total
    assert sale.subtotal + sale.tax_total + sale.rounding_adjustment == sale.total
    assert sum(t.amount for t in sale.tenders.all()) == sale.total == Decimal("58.49")
    assert sale.tax_total == sum(line.tax_amount for line in lines)
    ret.refresh_from_db()
    assert ret.original == sale
    assert ret.kind == "return"
    rline = ret.lines.get()
    assert rline.quantity == -1
    assert rline.original_line_id == str(lines[0].id if False else order["line_items"][0]["id"])
    assert rline.net_amount == Decimal("-17.00")
    assert rline.tax_amount == Decimal("-2.83")
    assert ret.tenders.get().amount == Decimal("-17.00")
    # It arrived before its order, so no shop flag said prices include VAT; the refunded money does.
    assert ret.taxes_included
    assert (ret.subtotal, ret.tax_total, ret.total) == (
        Decimal("-14.17"),
        Decimal("-2.83"),
        Decimal("-17.00"),
    )


def test_square_payment_event_fetches_order_with_catalog_skus_and_register(pos):
    src = pos[Platform.SQUARE]
    loc = g.store_ids(Platform.SQUARE, 12)[0]
    socks, seat = g.product_refs(11), g.product_refs(20)
    order, payments = g.square_sale(
        order_id="SQ1",
        location_id=loc[0],
        at=LATE,
        items=[(socks, "1.5", Decimal("0")), (seat, "1", Decimal("1.00"))],
        tenders=["CARD", "CASH"],
    )
    sim_put(platform="square", kind="order", object_id="SQ1", data=order, updated_at=LATE)
    for p in payments:
        assert deliver(g.square_delivery(src, "payment.updated", "payment", p)).status_code == 200
    process_all()
    sale = PosTransaction.objects.get(source=src, pos_id="SQ1")
    assert sale.pos_location_name == loc[1]
    assert sale.register_name == "Counter 1"
    assert sale.business_date.isoformat() == "2026-07-01"
    l0, l1 = sale.lines.order_by("sequence")
    assert l0.quantity == Decimal("1.5")
    assert l0.sku == "SOCK-3PK"
    assert l0.barcode == socks["barcode"]
    assert l1.taxes.get().rate == Decimal("0.05")
    assert l1.discount == Decimal("1.00")
    assert sale.tenders.count() == 2
    assert sale.total == Decimal("37.99")
    # The return order links through source_line_item_uid.
    ret, refund = g.square_return(
        order_id="RT1",
        source_order=order,
        location_id=loc[0],
        at=LATE,
        lines=[(order["line_items"][0], "1")],
        refund_id="RF1",
    )
    sim_put(platform="square", kind="order", object_id="RT1", data=ret, updated_at=LATE)
    deliver(g.square_delivery(src, "refund.updated", "refund", refund))
    process_all()
    r = PosTransaction.objects.get(source=src, pos_id="RT1")
    assert r.kind == "return"
    assert r.original == sale
    assert r.total == Decimal("-9.99")
    assert r.lines.get().original_line_id == "SQ1-L0"
    assert r.taxes_included  # from the return order's return_taxes
    assert r.subtotal + r.tax_total + r.rounding_adjustment == r.total


def test_xseries_form_payload_sale_return_exchange_and_void_after_posting(pos):
    src = pos[Platform.LIGHTSPEED]
    outlet = g.store_ids(Platform.LIGHTSPEED, 12)[0]
    import uuid

    reg = str(uuid.uuid5(uuid.NAMESPACE_URL, f"register-{outlet[0]}-1"))
    hood, kid = g.product_refs(4), g.product_refs(14)
    sale = g.xs_sale(
        sale_id="s-1",
        outlet_id=outlet[0],
        register_id=reg,
        at=LATE,
        items=[(hood, 2), (kid, 1)],
        payments=["Card", "Cash"],
        version=5,
    )
    parked = {**sale, "status": "SAVED", "version": 4}
    deliver(g.xs_delivery(src, parked))
    deliver(g.xs_delivery(src, sale))
    process_all()
    txn = PosTransaction.objects.get(source=src, pos_id="s-1")
    assert txn.register_name == f"{outlet[1]} till 1"
    assert txn.pos_location_name == outlet[1]
    assert txn.business_date.isoformat() == "2026-07-01"
    h = txn.lines.get(sku="HOOD-NVY-M")
    assert h.net_amount == Decimal("91.66")
    assert h.tax_amount == Decimal("18.34")
    assert h.taxes.get().rate == Decimal("0.2")
    assert txn.total == Decimal("118.00")
    assert txn.tenders.count() == 2
    ret = g.xs_sale(
        sale_id="s-2",
        outlet_id=outlet[0],
        register_id=reg,
        at=LATE,
        items=[(hood, -1), (g.product_refs(0), 1)],
        payments=["Cash"],
        return_for="s-1",
    )
    deliver(g.xs_delivery(src, ret))
    process_all()
    ex = PosTransaction.objects.get(pos_id="s-2")
    assert ex.kind == "exchange"
    assert ex.original == txn
    assert ex.lines.get(quantity__lt=0).original_line_id == h.line_id
    # Void after the sale was posted: a reversing return, linked to the original.
    PosTransaction.objects.filter(pk=txn.pk).update(state=TransactionState.POSTED)
    deliver(g.xs_delivery(src, {**sale, "status": "VOIDED", "version": 9}))
    process_all()
    rev = PosTransaction.objects.get(pos_id="s-1:void")
    assert rev.kind == "return"
    assert rev.original == txn
    assert rev.total == -txn.total
    assert PosTransaction.objects.get(pk=txn.pk).state == TransactionState.POSTED


def test_each_event_delivered_three_times_in_shuffled_order_yields_one_transaction(pos):
    day = g.generate_day(stores=6, sales_per_store=2, faults=(), base_url="http://testserver")
    triple = day.deliveries * 3
    random.Random(3).shuffle(triple)
    assert {deliver(d).status_code for d in triple} == {200}
    process_all()
    assert InboundEvent.objects.count() == len(day.deliveries)
    assert set(InboundEvent.objects.values_list("delivery_count", flat=True)) == {3}
    assert PosTransaction.objects.count() == len(day.deliveries) - sum(
        1 for d in day.deliveries if b"payment.updated" in d.body and b"P1" in d.body
    )


def test_wrong_or_missing_signature_is_401_and_nothing_is_stored(pos):
    src = pos[Platform.SHOPIFY]
    order = g.shopify_order(
        order_id=1, location_id="1", at=LATE, items=[(g.product_refs(0), 1, Decimal("0"))], gateways=["cash"]
    )
    d = g.shopify_delivery(src, "orders/create", order)
    d.headers["X-Shopify-Hmac-Sha256"] = g.signatures.sign_shopify("wrong-secret", d.body)
    assert deliver(d).status_code == 401
    del d.headers["X-Shopify-Hmac-Sha256"]
    assert deliver(d).status_code == 401
    sq = g.square_delivery(pos[Platform.SQUARE], "payment.updated", "payment", {"id": "p", "updated_at": ""})
    pos[
        Platform.SQUARE
    ].webhook_url = "http://testserver/webhooks/square-uk"  # no trailing slash: not what Square signed
    pos[Platform.SQUARE].save()
    assert deliver(sq).status_code == 401
    assert InboundEvent.objects.count() == 0
    assert PosTransaction.objects.count() == 0
    kinds = list(SecurityEvent.objects.values_list("kind", flat=True))
    assert sorted(kinds) == ["bad_signature", "bad_signature", "missing_signature"]


def test_oversized_body_is_413(pos, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 100
    d = g.shopify_delivery(pos[Platform.SHOPIFY], "orders/create", {"id": 1, "pad": "x" * 200})
    assert deliver(d).status_code == 413
    assert InboundEvent.objects.count() == 0


def test_newer_version_updates_in_place_stale_retry_ignored_and_posted_change_raises_duplicate(pos):
    from exceptions.models import ExceptionOccurrence

    src = pos[Platform.SHOPIFY]
    loc = g.store_ids(Platform.SHOPIFY, 12)[0][0]
    v1 = g.shopify_order(
        order_id=42, location_id=loc, at=LATE, items=[(g.product_refs(0), 1, Decimal("0"))], gateways=["cash"]
    )
    v2 = g.shopify_order(
        order_id=42,
        location_id=loc,
        at=LATE,
        items=[(g.product_refs(0), 2, Decimal("0"))],
        gateways=["cash"],
        updated_at=datetime(2026, 7, 1, 1, tzinfo=UTC),
    )
    deliver(g.shopify_delivery(src, "orders/create", v1))
    deliver(g.shopify_delivery(src, "orders/updated", v2))
    process_all()
    deliver(g.shopify_delivery(src, "orders/create", v1))  # a stale retry under a new event id
    process_all()
    txn = PosTransaction.objects.get(pos_id="42")
    assert txn.lines.get().quantity == 2
    assert txn.state == TransactionState.NORMALIZED
    PosTransaction.objects.filter(pk=txn.pk).update(state=TransactionState.POSTED)
    v3 = {**v2, "updated_at": "2026-07-01T03:00:00+00:00", "total_price": "1.00"}
    deliver(g.shopify_delivery(src, "orders/updated", v3))
    process_all()
    txn.refresh_from_db()
    assert txn.state == TransactionState.POSTED
    assert txn.total == Decimal("36.00")
    occ = ExceptionOccurrence.objects.get(transaction=txn)
    assert occ.group.type == "duplicate"
    assert occ.detail["diff"]["total"] == ["36.00", "1.00"]


def test_shopify_exchange_appending_items_to_a_posted_order_books_the_new_items_separately(pos):
    src = pos[Platform.SHOPIFY]
    loc = g.store_ids(Platform.SHOPIFY, 12)[0][0]
    order = g.shopify_order(
        order_id=61, location_id=loc, at=LATE, items=[(g.product_refs(0), 1, Decimal("0"))], gateways=["cash"]
    )
    deliver(g.shopify_delivery(src, "orders/create", order))
    process_all()
    sale = PosTransaction.objects.get(pos_id="61")
    PosTransaction.objects.filter(pk=sale.pk).update(state=TransactionState.POSTED)
    # Exchange: the M tee comes back (a refund) and an L tee is appended to the same order.
    bigger = g.shopify_order(
        order_id=61,
        location_id=loc,
        at=LATE,
        items=[(g.product_refs(0), 1, Decimal("0")), (g.product_refs(2), 1, Decimal("0"))],
        gateways=["cash", "shopify_payments"],
        updated_at=datetime(2026, 7, 2, tzinfo=UTC),
    )
    deliver(g.shopify_delivery(src, "orders/updated", bigger))
    process_all()
    added = PosTransaction.objects.get(pos_id="61:add:611")
    assert added.kind == "exchange"
    assert added.original == sale
    assert added.lines.get().sku == "TEE-BLK-L"
    assert added.total == Decimal("18.00")
    assert [t.reference for t in added.tenders.all()] == ["6101"]
    assert not sale.exceptions.exists()
    assert PosTransaction.objects.get(pk=sale.pk).lines.count() == 1


def test_ack_is_one_insert_and_a_repeat_is_one_conditional_update(pos, django_assert_max_num_queries):
    src = pos[Platform.SHOPIFY]
    order = g.shopify_order(
        order_id=71, location_id="1", at=LATE, items=[(g.product_refs(0), 1, Decimal("0"))], gateways=["cash"]
    )
    d = g.shopify_delivery(src, "orders/create", order)
    # source lookup + savepoint + INSERT + release; processing is not part of the acknowledgement
    with django_assert_max_num_queries(4):
        assert deliver(d).status_code == 200
    event = InboundEvent.objects.get()
    assert event.status == "received"
    assert bytes(event.body) == d.body
    assert event.headers["x-shopify-event-id"] == d.headers["X-Shopify-Event-Id"]
    with django_assert_max_num_queries(6):  # + failed INSERT, rollback to savepoint, UPDATE
        assert deliver(d).status_code == 200
    event.refresh_from_db()
    assert event.delivery_count == 2
    assert PosTransaction.objects.count() == 0
