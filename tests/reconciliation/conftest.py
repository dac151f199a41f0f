"""A source with two mapped stores on the sandbox, and a helper that posts a till transaction to
Fulfil the way the engine does (one sale.sale per transaction, channel_identifier = source:pos id)."""

import datetime as dt
from decimal import Decimal

import pytest

from integration.models import TransactionState
from mappings.models import FulfilWarehouse, LocationMap
from tests.factories import LineTaxFactory, PosSourceFactory, PosTransactionFactory, PosTransactionLineFactory

DAY = dt.date(2026, 11, 20)
OXFORD, MANCHESTER = "loc-oxford", "loc-manchester"


@pytest.fixture
def shop(sandbox):
    source = PosSourceFactory(code="shop-a", name="Shop A", region="North")
    for store, code, name in ((OXFORD, "ST-OXF", "Oxford Street"), (MANCHESTER, "ST-MAN", "Manchester")):
        warehouse = FulfilWarehouse.objects.create(fulfil_id=sandbox.warehouses[code], code=code, name=name)
        LocationMap.objects.create(
            source=source, pos_location_id=store, pos_location_name=name, warehouse=warehouse
        )
    return source


def till(source, *, store=OXFORD, net="10.00", state=TransactionState.POSTED, kind="sale", day=DAY, **extra):
    """A till transaction with one 20 % VAT line; negative `net` for a return."""
    net = Decimal(net)
    tax = (net * Decimal("0.20")).quantize(Decimal("0.01"))
    txn = PosTransactionFactory(
        source=source,
        pos_location_id=store,
        pos_location_name=store,
        business_date=day,
        state=state,
        kind=kind,
        subtotal=net,
        tax_total=tax,
        total=net + tax,
        **extra,
    )
    line = PosTransactionLineFactory(
        transaction=txn,
        quantity=Decimal("-1") if net < 0 else Decimal("1"),
        unit_price=abs(net),
        net_amount=net,
        tax_amount=tax,
    )
    LineTaxFactory(line=line, rate=Decimal("0.20"), amount=tax)
    return txn


def post(client, estate, txn, *, warehouse=None, cid=None, reference=None, day=DAY) -> int:
    """Create the Fulfil sale the engine would have created for `txn`, through the real client."""
    code = warehouse or ("ST-OXF" if txn.pos_location_id == OXFORD else "ST-MAN")
    quantity = -1.0 if txn.subtotal < 0 else 1.0
    sale_id = client.create(
        "sale.sale",
        [
            {
                "party": estate.walk_ins.get(code) or next(iter(estate.walk_ins.values())),
                "channel": estate.channel,
                "warehouse": estate.warehouses[code],
                "channel_identifier": cid or txn.channel_identifier,
                "reference": reference or txn.pos_number,
                "sale_date": day,
                "currency": estate.currency,
                "lines": [
                    [
                        "create",
                        [
                            {
                                "product": next(iter(estate.products.values())),
                                "quantity": quantity,
                                "unit_price": abs(txn.subtotal),
                                "taxes": [["add", [estate.taxes["standard"]]]],
                                "warehouse": estate.warehouses[code],
                            }
                        ],
                    ]
                ],
            }
        ],
    )[0]
    return sale_id
