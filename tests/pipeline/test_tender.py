"""The financial lane: one payment per store, day and tender; adjustments, never edits."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from integration.models import PosTransaction, TransactionState
from integration.pipeline.post import inventory_lane_run
from integration.pipeline.tender import tender_lane_run
from integration.sandbox.models import SandboxRecord
from reconciliation.models import TenderBatch
from tests.factories import TenderFactory

S = TransactionState


def _payments() -> list[dict]:
    return [r.data for r in SandboxRecord.objects.filter(model="payment_gateway.transaction").order_by("pk")]


def _posted_sale(till, fulfil_client, day, tenders):
    txn = till.sell(business_date=day)
    for tender_type, amount in tenders:
        TenderFactory(transaction=txn, tender_type=tender_type, amount=Decimal(amount))
    till.ready()
    inventory_lane_run(client=fulfil_client)
    txn.refresh_from_db()
    assert txn.state == S.POSTED
    return txn


def test_a_closed_day_becomes_one_payment_per_tender_and_late_sales_an_adjustment(till, fulfil_client):
    yesterday = timezone.localdate() - dt.timedelta(days=2)
    first = _posted_sale(till, fulfil_client, yesterday, [("card", "12.00")])
    _posted_sale(till, fulfil_client, yesterday, [("card", "8.00"), ("cash", "4.00")])
    today = _posted_sale(till, fulfil_client, timezone.localdate(), [("card", "1.00")])
    summary = tender_lane_run(client=fulfil_client)
    assert summary == {"built": 2, "posted": 2}
    card = TenderBatch.objects.get(tender_type="card")
    assert (card.amount, card.transaction_count, card.sequence, card.state) == (
        Decimal("20.00"),
        2,
        0,
        "posted",
    )
    payments = _payments()
    assert [p["provider_reference"] for p in payments] == [
        f"tillbridge:uk-shopify:loc-oxf:{yesterday.isoformat()}:card:0",
        f"tillbridge:uk-shopify:loc-oxf:{yesterday.isoformat()}:cash:0",
    ]
    first.refresh_from_db()
    assert first.state == S.SETTLED
    assert first.settlement_batch == card
    assert PosTransaction.objects.get(pk=today.pk).state == S.POSTED  # its day is still open
    # Running again changes nothing.
    assert tender_lane_run(client=fulfil_client) == {"built": 0}
    # A late sale for the closed day: an adjustment batch, the posted one untouched.
    _posted_sale(till, fulfil_client, yesterday, [("card", "5.00")])
    assert tender_lane_run(client=fulfil_client) == {"built": 1, "posted": 1}
    card.refresh_from_db()
    assert card.amount == Decimal("20.00")
    adjustment = TenderBatch.objects.get(tender_type="card", sequence=1)
    assert adjustment.amount == Decimal("5.00")
    assert len(_payments()) == 3


def test_a_batch_whose_payment_fulfil_already_holds_is_not_paid_twice(till, fulfil_client):
    day = timezone.localdate() - dt.timedelta(days=2)
    _posted_sale(till, fulfil_client, day, [("card", "12.00")])
    tender_lane_run(client=fulfil_client)
    # As if the worker died after Fulfil created the payment but before we wrote it down.
    TenderBatch.objects.update(state=TenderBatch.State.POSTING, fulfil_id=None)
    assert tender_lane_run(client=fulfil_client) == {"built": 0, "posted": 1}
    assert len(_payments()) == 1
