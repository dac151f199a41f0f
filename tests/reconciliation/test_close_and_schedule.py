"""Month-end close locks the reports; late posts regenerate days; the nightly run follows each timezone."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import AuditEntry
from reconciliation.models import MonthClose, ReconciliationDay, ReconciliationRun, TenderBatch
from reconciliation.services import (
    day_mark_stale,
    month_close_sign_off,
    nightly_generate,
    previous_business_date,
    reconciliation_generate,
    stale_days_regenerate,
)
from tests.factories import PosSourceFactory, TenderFactory
from tests.reconciliation.conftest import DAY, OXFORD, post, till


def oxford_day():
    return ReconciliationDay.objects.select_related("current_run", "closed_run").get(pos_location_id=OXFORD)


def test_late_post_after_close_shows_as_adjustment_and_never_edits_the_signed_run(
    shop, sandbox, fulfil_client, finance_user, finance_client
):
    post(fulfil_client, sandbox, till(shop, net="10.00"))
    reconciliation_generate(source=shop, business_date=DAY, client=fulfil_client)
    close = month_close_sign_off(month=DAY, actor=finance_user, note="November checked", summary={})
    signed = oxford_day().closed_run
    signed_figures = list(signed.figures)

    late = till(shop, net="5.00")  # a late sale for the closed day, posted by the engine
    post(fulfil_client, sandbox, late)
    assert day_mark_stale(source=shop, pos_location_id=OXFORD, business_date=DAY) is True
    assert stale_days_regenerate(client=fulfil_client) == 1

    day = oxford_day()
    assert day.closed_run == signed
    assert day.current_run != signed
    assert day.current_run.after_close
    assert day.current_run.trigger == ReconciliationRun.Trigger.LATE_POST
    assert day.current_run.pos_total == Decimal("18.00")
    assert day.stale_since is None
    signed.refresh_from_db()
    assert signed.figures == signed_figures
    assert signed.pos_total == Decimal("12.00")
    page = finance_client.get(reverse("reconciliation:report", args=[day.pk])).content.decode()
    assert "Post-close adjustments" in page
    assert "18.00" in page
    assert AuditEntry.objects.filter(action="reconciliation.month_close").count() == 1
    assert MonthClose.objects.get() == close


def test_month_cannot_be_signed_off_twice_or_without_a_note(shop, finance_user):
    with pytest.raises(ValueError, match="note"):
        month_close_sign_off(month=DAY, actor=finance_user, note="  ", summary={})
    month_close_sign_off(month=DAY, actor=finance_user, note="ok", summary={})
    with pytest.raises(ValueError, match="already"):
        month_close_sign_off(month=DAY, actor=finance_user, note="again", summary={})


def test_sign_off_page_locks_the_month(shop, sandbox, fulfil_client, finance_client):
    post(fulfil_client, sandbox, till(shop))
    reconciliation_generate(source=shop, business_date=DAY, client=fulfil_client)
    url = reverse("reconciliation:month", args=[DAY.year, DAY.month])

    finance_client.post(url, {"note": "All stores reviewed", "confirm": "on"})

    close = MonthClose.objects.get()
    assert close.signed_off_by.username == "fred-finance"
    assert close.summary["totals"]["days"] == 2
    assert oxford_day().closed_run_id == oxford_day().current_run_id
    assert "Signed off" in finance_client.get(url).content.decode()


def test_ops_cannot_sign_off_a_month(shop, ops_client):
    response = ops_client.post(
        reverse("reconciliation:month", args=[2026, 11]), {"note": "x", "confirm": "on"}
    )
    assert response.status_code == 403
    assert not MonthClose.objects.exists()


def test_marking_a_day_without_a_report_stale_leaves_it_to_the_nightly_run(shop):
    assert day_mark_stale(source=shop, pos_location_id=OXFORD, business_date=DAY) is False
    assert stale_days_regenerate() == 0


def test_nightly_run_reconciles_each_sources_previous_local_day_once(sandbox, fulfil_client, settings):
    sydney = PosSourceFactory(code="syd", timezone="Australia/Sydney")
    london = PosSourceFactory(code="ldn", timezone="Europe/London")
    now = dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC)  # 07:00 on the 21st in Sydney
    assert previous_business_date(sydney, now) == dt.date(2026, 11, 20)
    assert previous_business_date(london, now) == dt.date(2026, 11, 19)
    till(sydney, day=dt.date(2026, 11, 20))

    done = nightly_generate(now=now, client=fulfil_client)

    assert done == [("syd", dt.date(2026, 11, 20))]  # London has no store and took nothing
    assert ReconciliationRun.objects.filter(source=sydney, business_date=dt.date(2026, 11, 20)).count() == 1
    assert nightly_generate(now=now, client=fulfil_client) == []  # idempotent within the day


def test_tender_batches_are_compared_with_the_payments_fulfil_holds(shop, sandbox, fulfil_client):
    txn = till(shop, net="10.00")
    TenderFactory(transaction=txn, tender_type="card", amount=Decimal("12.00"))
    cash = till(shop, net="5.00")
    TenderFactory(transaction=cash, tender_type="cash", amount=Decimal("6.00"))
    for t in (txn, cash):
        post(fulfil_client, sandbox, t)
    TenderBatch.objects.create(
        source=shop,
        pos_location_id=OXFORD,
        business_date=DAY,
        tender_type="card",
        amount=Decimal("12.00"),
        transaction_count=1,
        state=TenderBatch.State.POSTED,
        fulfil_reference="BATCH-OXF-CARD-1",
    )
    TenderBatch.objects.create(
        source=shop,
        pos_location_id=OXFORD,
        business_date=DAY,
        tender_type="cash",
        amount=Decimal("6.00"),
        transaction_count=1,
        state=TenderBatch.State.POSTED,
        fulfil_reference="BATCH-OXF-CASH-1",
    )
    fulfil_client.create(
        "payment_gateway.transaction",
        [
            {
                "gateway": sandbox.gateways["card"],
                "amount": Decimal("12.00"),
                "provider_reference": "BATCH-OXF-CARD-1",
                "date": DAY,
                "currency": sandbox.currency,
            }
        ],
    )  # the cash batch's payment never reached Fulfil

    result = reconciliation_generate(source=shop, business_date=DAY, client=fulfil_client)

    run = next(r for r in result.runs if r.pos_location_id == OXFORD)
    tenders = {line["tender"]: line for line in run.tenders}
    assert (tenders["card"]["fulfil"], tenders["card"]["status"]) == ("12.00", "balanced")
    assert (tenders["cash"]["fulfil"], tenders["cash"]["status"]) == ("0.00", "unexplained")
    assert run.status == "unexplained"


def test_reconcile_command_reports_what_it_did(shop, sandbox, fulfil_client):
    from io import StringIO

    from django.core.management import call_command

    post(fulfil_client, sandbox, till(shop))
    out = StringIO()
    call_command("reconcile", source="shop-a", date=DAY, stdout=out)
    assert "shop-a 2026-11-20: 2 store(s), 1 transaction(s)" in out.getvalue()
    assert ReconciliationDay.objects.get(pos_location_id=OXFORD).status == "balanced"
