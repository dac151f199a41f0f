"""A validly signed delivery older than the platform's retry horizon is a replay: refused, recorded."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from integration.models import InboundEvent, Platform, SecurityEvent
from integration.possim import generator as g
from tests.pos.conftest import deliver

NOW = datetime.now(UTC)


def _shopify(pos, triggered_at: str | None, event_id: str):
    order = g.shopify_order(
        order_id=77, location_id="1", at=NOW, items=[(g.product_refs(0), 1, Decimal("0"))], gateways=["cash"]
    )
    d = g.shopify_delivery(pos[Platform.SHOPIFY], "orders/create", order, event_id=event_id)
    if triggered_at is None:
        del d.headers["X-Shopify-Triggered-At"]
    else:
        d.headers["X-Shopify-Triggered-At"] = triggered_at
    return d


def test_shopify_delivery_older_than_the_retry_horizon_is_refused_as_stale(pos, settings):
    horizon = settings.WEBHOOK_REPLAY_HORIZON_SHOPIFY_SECONDS
    assert horizon >= 4 * 3600  # Shopify retries for 4 hours: a genuine retry must still get in
    fresh = _shopify(pos, (NOW - timedelta(hours=3, minutes=59)).isoformat(), "fresh")
    assert deliver(fresh).status_code == 200
    old = _shopify(pos, (NOW - timedelta(seconds=horizon + 60)).isoformat(), "old")
    response = deliver(old)
    assert response.status_code == 409
    assert InboundEvent.objects.count() == 1
    event = SecurityEvent.objects.get()
    assert event.kind == SecurityEvent.Kind.STALE
    assert event.source == pos[Platform.SHOPIFY]


def test_the_same_old_body_is_still_refused_when_its_signature_is_wrong_first(pos):
    """Staleness is judged only after the signature: an unsigned probe learns nothing new."""
    old = _shopify(pos, "2020-01-01T00:00:00Z", "probe")
    old.headers["X-Shopify-Hmac-Sha256"] = "AAAA"
    assert deliver(old).status_code == 401
    assert SecurityEvent.objects.get().kind == SecurityEvent.Kind.BAD_SIGNATURE


def test_square_uses_the_initial_delivery_timestamp_then_created_at(pos, settings):
    src = pos[Platform.SQUARE]
    horizon = settings.WEBHOOK_REPLAY_HORIZON_SQUARE_SECONDS
    assert horizon >= 24 * 3600
    payment = {"id": "pay-1", "updated_at": NOW.isoformat(), "order_id": "o-1"}
    within = g.square_delivery(src, "payment.updated", "payment", payment)
    within.headers["square-initial-delivery-timestamp"] = (NOW - timedelta(hours=23)).isoformat()
    assert deliver(within).status_code == 200
    stale = g.square_delivery(src, "payment.updated", "payment", payment)
    stale.headers["square-initial-delivery-timestamp"] = (NOW - timedelta(seconds=horizon + 1)).isoformat()
    assert deliver(stale).status_code == 409
    # No header: the event's own created_at decides (the body is re-signed, as Square would sign it).
    body = g.json.loads(stale.body)
    body["created_at"] = "2026-01-01T00:00:00Z"
    body["event_id"] = "no-header-old"
    stale2 = g.Delivery(src.code, g.json.dumps(body).encode(), {}, "old")
    stale2.headers["x-square-hmacsha256-signature"] = g.signatures.sign_square(
        src.webhook_secret, src.webhook_url, stale2.body
    )
    assert deliver(stale2).status_code == 409
    assert InboundEvent.objects.count() == 1
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.STALE).count() == 2


def test_no_timestamp_or_an_unreadable_one_is_not_treated_as_a_replay(pos):
    """Lightspeed sends no event time, and a garbled header must not become a 500 or a refusal."""
    assert deliver(_shopify(pos, None, "none")).status_code == 200
    assert deliver(_shopify(pos, "yesterday-ish", "garbled")).status_code == 200
    assert SecurityEvent.objects.count() == 0


def test_a_quarantined_old_event_can_still_be_replayed_by_a_person(pos, ops_client):
    """Replay from quarantine works on the stored event, so the horizon does not apply to it."""
    from django.urls import reverse

    src = pos[Platform.SHOPIFY]
    d = g.shopify_delivery(src, "orders/create", {"id": 5})
    d.body = b'{"no": "id"}'  # unkeyable: quarantined
    d.headers["X-Shopify-Hmac-Sha256"] = g.signatures.sign_shopify(src.webhook_secret, d.body)
    assert deliver(d).status_code == 200
    event = InboundEvent.objects.get()
    assert event.status == "quarantined"
    # Days later (well past Shopify's horizon) a person fixes the source data and replays it.
    InboundEvent.objects.filter(pk=event.pk).update(received_at=NOW - timedelta(days=3))
    response = ops_client.post(reverse("integration:quarantine_replay", args=[event.pk]))
    assert response.status_code in (200, 302)
    assert SecurityEvent.objects.count() == 0
