"""A webhook storm: every version of every order delivered three times, shuffled, processed in
random slices, with stale retries of old versions arriving after newer ones were processed."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from integration.models import InboundEvent, Platform, PosTransaction
from integration.possim import generator as g
from tests.pos.conftest import deliver, process_all

AT = datetime.now(UTC) - timedelta(hours=2)


def _versions(order_id: int, location: str) -> list[dict]:
    """Three versions of one order: quantity 1, 2, 3 of the same line, updated a minute apart."""
    return [
        g.shopify_order(
            order_id=order_id,
            location_id=location,
            at=AT,
            items=[(g.product_refs(order_id % 5), qty, Decimal("0"))],
            gateways=["cash"],
            updated_at=AT + timedelta(minutes=qty),
        )
        for qty in (1, 2, 3)
    ]


def test_storm_of_triplicate_shuffled_deliveries_yields_one_transaction_each_at_the_newest_version(pos):
    src = pos[Platform.SHOPIFY]
    locations = [loc for loc, _name in g.store_ids(Platform.SHOPIFY, 12)]
    orders = {1000 + n: _versions(1000 + n, locations[n % len(locations)]) for n in range(15)}
    deliveries = []
    for versions in orders.values():
        for number, body in enumerate(versions):
            topic = "orders/create" if number == 0 else "orders/updated"
            event_id = f"{body['id']}-v{number}"  # a platform retry keeps its event id
            deliveries += [g.shopify_delivery(src, topic, body, event_id=event_id) for _ in range(3)]
    rng = random.Random(9)
    rng.shuffle(deliveries)
    # Deliver in slices and process between them, so some old versions are processed after new ones.
    while deliveries:
        cut = rng.randint(1, 20)
        for d in deliveries[:cut]:
            assert deliver(d).status_code == 200
        deliveries = deliveries[cut:]
        if rng.random() < 0.5:
            process_all()
    # Stale retries: the first version again under brand-new event ids, after everything else.
    for versions in orders.values():
        assert deliver(g.shopify_delivery(src, "orders/create", versions[0])).status_code == 200
    process_all()

    assert InboundEvent.objects.filter(source=src).count() == len(orders) * 4
    assert set(
        InboundEvent.objects.filter(source=src, dedupe_key__endswith="-v0").values_list(
            "delivery_count", flat=True
        )
    ) == {3}
    assert not InboundEvent.objects.filter(source=src, status="received").exists()
    assert PosTransaction.objects.filter(source=src).count() == len(orders)
    for order_id in orders:
        txn = PosTransaction.objects.get(source=src, pos_id=str(order_id))
        assert txn.lines.get().quantity == 3, f"order {order_id} did not end at its newest version"
