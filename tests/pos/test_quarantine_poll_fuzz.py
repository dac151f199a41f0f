"""Quarantine + replay, catch-up polling, and a fuzz run: no 500s, no lost stored event."""

from decimal import Decimal

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from integration.models import InboundEvent, Platform, PosTransaction
from integration.pos import signatures
from integration.pos.pollers import poll_source
from integration.possim import generator as g
from tests.pos.conftest import deliver, process_all


def test_malformed_signed_body_is_quarantined_visible_and_replayable(pos, ops_client):
    src = pos[Platform.SHOPIFY]
    loc = g.store_ids(Platform.SHOPIFY, 12)[0][0]
    order = g.shopify_order(
        order_id=77,
        location_id=loc,
        at=g.datetime(2026, 7, 1, 9, tzinfo=g.UTC),
        items=[(g.product_refs(0), 1, Decimal("0"))],
        gateways=["cash"],
    )
    order["location_id"] = None  # the till forgot its location: signed but not understood
    assert deliver(g.shopify_delivery(src, "orders/create", order)).status_code == 200
    bad_xs = g.xs_delivery(pos[Platform.LIGHTSPEED], {}, raw=b"payload=%7Bbroken")
    assert deliver(bad_xs).status_code == 200
    process_all()
    events = InboundEvent.objects.filter(status="quarantined")
    assert events.count() == 2
    page = ops_client.get("/quarantine/")
    assert page.status_code == 200
    assert b"POS order without location_id" in page.content
    assert b"payload is not JSON" in page.content
    event = events.get(source=src)
    assert ops_client.get(f"/quarantine/{event.pk}/").status_code == 200
    # The cause is fixed (here: the stored bytes are replayed after a code/config fix).
    fixed = order | {"location_id": int(loc)}
    InboundEvent.objects.filter(pk=event.pk).update(body=g.json.dumps(fixed).encode())
    assert ops_client.post(f"/quarantine/{event.pk}/replay/").status_code == 302
    process_all()
    event.refresh_from_db()
    assert event.status == "processed"
    assert PosTransaction.objects.filter(pos_id="77").exists()


def test_finance_cannot_replay(pos, finance_client):
    d = g.xs_delivery(pos[Platform.LIGHTSPEED], {}, raw=b"payload=nope")
    deliver(d)
    event = InboundEvent.objects.get()
    assert finance_client.post(f"/quarantine/{event.pk}/replay/").status_code == 403


def test_webhook_suppressed_by_the_simulator_is_found_by_the_poller(pos):
    day = g.generate_day(
        stores=6, sales_per_store=2, faults=("late_poll_only",), base_url="http://testserver"
    )
    for d in day.deliveries:
        deliver(d)
    process_all()
    assert day.suppressed
    assert not PosTransaction.objects.filter(pos_id__in=day.suppressed).exists()
    before = InboundEvent.objects.count()
    for source in pos.values():
        poll_source(source)
    process_all()
    assert PosTransaction.objects.filter(pos_id__in=day.suppressed).count() == len(day.suppressed)
    # Everything the webhooks delivered was recognised: only the missing sale was stored again.
    assert InboundEvent.objects.count() - before == len(day.suppressed)
    pos[Platform.LIGHTSPEED].refresh_from_db()
    assert pos[Platform.LIGHTSPEED].poll_cursor["after"] > 0
    # A second poll finds nothing new.
    assert sum(poll_source(s) for s in pos.values()) == 0


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.dictionaries(
            st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=10), st.none()), max_size=5
        ).map(lambda d: g.json.dumps(d).encode()),
    ),
    platform=st.sampled_from([Platform.SHOPIFY, Platform.SQUARE, Platform.LIGHTSPEED]),
    signed=st.booleans(),
    topic=st.sampled_from(["orders/create", "refunds/create", "weird", ""]),
)
def test_fuzz_no_500_and_no_lost_stored_event(pos, body, platform, signed, topic):
    src = pos[platform]
    headers = {}
    if signed:
        headers = {
            Platform.SHOPIFY: {
                "X-Shopify-Hmac-Sha256": signatures.sign_shopify(src.webhook_secret, body),
                "X-Shopify-Topic": topic,
            },
            Platform.SQUARE: {
                "x-square-hmacsha256-signature": signatures.sign_square(
                    src.webhook_secret, src.webhook_url, body
                )
            },
            Platform.LIGHTSPEED: {
                "X-Signature": signatures.sign_lightspeed(src.webhook_secret, body, encoding="base64")
            },
        }[platform]
    before = InboundEvent.objects.count()
    r = deliver(g.Delivery(src.code, body, headers, "fuzz", content_type="application/octet-stream"))
    assert r.status_code in (200, 401)
    if r.status_code == 200:
        process_all()
        # Stored or counted as a repeat; never processed into limbo: every event ends in a final state.
        assert InboundEvent.objects.count() in (before, before + 1)
        waiting = InboundEvent.objects.filter(status="received")
        assert not waiting.filter(process_attempts=0).exists()
        assert not waiting.filter(error="").exists()
    else:
        assert not signed or not body


def test_a_refund_whose_webhook_never_came_is_found_inside_its_polled_order(pos):
    src = pos[Platform.SHOPIFY]
    loc = g.store_ids(Platform.SHOPIFY, 12)[0][0]
    at = g.datetime(2026, 11, 26, 10, tzinfo=g.UTC)
    order = g.shopify_order(
        order_id=808, location_id=loc, at=at, items=[(g.product_refs(2), 2, Decimal("0"))], gateways=["cash"]
    )
    g.sim_put(
        platform="shopify",
        kind="order",
        object_id="808",
        data=order,
        updated_at=g.datetime.now(g.UTC),
        location_id=loc,
    )
    deliver(g.shopify_delivery(src, "orders/create", order))
    process_all()
    refund = g.shopify_refund(refund_id=909, order=order, line_qty=[(0, 1)], at=at)
    g.sim_put(platform="shopify", kind="refund", object_id="909", data=refund, updated_at=at, parent_id="808")
    assert poll_source(src) == 1
    process_all()
    ret = PosTransaction.objects.get(pos_id="refund-909")
    assert ret.original.pos_id == "808"
    assert ret.total == Decimal("-18.00")
    assert poll_source(src) == 0


def test_pos_api_failure_keeps_the_event_for_the_sweeper_then_quarantines_it(pos, settings):
    settings.POS_MAX_PROCESS_ATTEMPTS = 2
    src = pos[Platform.SHOPIFY]
    loc = g.store_ids(Platform.SHOPIFY, 12)[0][0]
    at = g.datetime(2026, 11, 26, 10, tzinfo=g.UTC)
    order = g.shopify_order(
        order_id=31, location_id=loc, at=at, items=[(g.product_refs(2), 1, Decimal("0"))], gateways=["cash"]
    )
    del order["transactions"]  # as real order webhooks: tenders must be fetched, and the API says 404
    deliver(g.shopify_delivery(src, "orders/create", order))
    process_all()
    event = InboundEvent.objects.get()
    assert event.status == "received"
    assert event.process_attempts == 1
    assert "HTTP 404" in event.error
    process_all()
    event.refresh_from_db()
    assert event.status == "quarantined"
    assert "after 2 attempts" in event.error
    # Once the POS knows the order, a replay succeeds.
    g.sim_put(
        platform="shopify", kind="order", object_id="31", data={**order, "transactions": []}, updated_at=at
    )
    from integration.services import inbound_event_replay

    inbound_event_replay(event=event, actor=None)
    process_all()
    event.refresh_from_db()
    assert event.status == "processed"
    assert PosTransaction.objects.get(pos_id="31").tenders.get().tender_type == "cash"


def test_xseries_sale_only_the_change_feed_saw_is_read_in_the_2_0_shape(pos):
    import uuid

    src = pos[Platform.LIGHTSPEED]
    outlet = g.store_ids(Platform.LIGHTSPEED, 12)[0]
    register = str(uuid.uuid5(uuid.NAMESPACE_URL, f"register-{outlet[0]}-1"))
    at = g.datetime(2026, 11, 26, 15, tzinfo=g.UTC)
    sale = g.xs_sale(
        sale_id="feed-1",
        outlet_id=outlet[0],
        register_id=register,
        at=at,
        items=[(g.product_refs(8), 1)],
        payments=["Card"],
    )
    g.sim_put(
        platform="lightspeed",
        kind="sale",
        object_id="feed-1",
        data=sale,
        updated_at=at,
        location_id=outlet[0],
    )
    assert poll_source(src) == 1
    process_all()
    txn = PosTransaction.objects.get(pos_id="feed-1")
    assert txn.pos_location_name == outlet[1]
    assert txn.total == Decimal("149.00")
    assert txn.lines.get().sku == "JKT-WAX-M"
    assert txn.tenders.get().tender_type == "card"
    assert InboundEvent.objects.get(entity_ref="feed-1").channel == "poll"
