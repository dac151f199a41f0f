"""The finance pages: who may see them, what they show, what they export, how many queries they cost."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reconciliation.models import ReconciliationDay, ReconciliationRun, TenderBatch
from reconciliation.services import reconciliation_generate
from tests.reconciliation.conftest import DAY, OXFORD, post, till


@pytest.fixture
def reported(shop, sandbox, fulfil_client):
    """One clean sale and one missing sale at Oxford, reconciled."""
    post(fulfil_client, sandbox, till(shop, net="10.00"))
    missing = till(shop, net="40.00", pos_number="R-MISSING")
    TenderBatch.objects.create(
        source=shop,
        pos_location_id=OXFORD,
        business_date=DAY,
        tender_type="card",
        amount=Decimal("60.00"),
        state=TenderBatch.State.POSTED,
        fulfil_reference="BATCH-OXF-1",
    )
    reconciliation_generate(source=shop, business_date=DAY, client=fulfil_client)
    return ReconciliationDay.objects.get(pos_location_id=OXFORD), missing


def page_urls(day):
    return [
        reverse("reconciliation:index") + "?month=2026-11",
        reverse("reconciliation:index") + "?month=2026-11&format=csv",
        reverse("reconciliation:report", args=[day.pk]),
        reverse("reconciliation:report_csv", args=[day.pk]),
        reverse("reconciliation:report_xlsx", args=[day.pk]),
        reverse("reconciliation:month", args=[2026, 11]),
        reverse("reconciliation:month_plot", args=[2026, 11]),
        reverse("reconciliation:batches"),
        reverse("reconciliation:batches") + "?format=csv",
    ]


@pytest.mark.parametrize(
    ("persona", "allowed"), [("finance", True), ("admin", True), ("ops", False), ("outsider", False)]
)
def test_every_reconciliation_page_is_for_finance_and_admin_only(reported, persona_clients, persona, allowed):
    day, _ = reported
    client = persona_clients[persona]
    for url in page_urls(day):
        assert client.get(url).status_code == (200 if allowed else 403), url
    regenerate = client.post(reverse("reconciliation:regenerate", args=[day.pk]))
    assert regenerate.status_code == (302 if allowed else 403)


def test_matrix_links_each_store_day_to_its_report_in_bounded_queries(
    reported, finance_client, django_assert_max_num_queries
):
    day, _ = reported
    with django_assert_max_num_queries(12):
        response = finance_client.get(reverse("reconciliation:index") + "?month=2026-11")
    page = response.content.decode()
    assert reverse("reconciliation:report", args=[day.pk]) in page
    assert "status-unexplained" in page
    assert "status-balanced" in page


def test_matrix_filters_by_source_and_region(reported, finance_client):
    url = reverse("reconciliation:index") + "?month=2026-11"
    assert "Oxford" in finance_client.get(url + "&region=North").content.decode()
    assert "No reports for" in finance_client.get(url + "&region=South").content.decode()
    assert "No reports for" in finance_client.get(url + "&source=other").content.decode()


def test_matrix_query_count_does_not_grow_with_stores(
    reported, shop, finance_client, django_assert_max_num_queries
):
    day, _ = reported
    for n in range(30):
        ReconciliationDay.objects.create(
            source=shop,
            pos_location_id=f"loc-{n}",
            business_date=DAY,
            status="balanced",
            current_run=day.current_run,
        )
    with django_assert_max_num_queries(12):
        finance_client.get(reverse("reconciliation:index") + "?month=2026-11")


def test_report_drills_down_to_the_missing_transaction_and_shows_tender_batches(reported, finance_client):
    day, missing = reported
    page = finance_client.get(reverse("reconciliation:report", args=[day.pk])).content.decode()
    assert "Missing in Fulfil" in page
    assert reverse("integration:transaction_detail", args=[missing.pk]) in page
    assert "BATCH-OXF-1" in page
    assert "Regenerate now" in page
    assert "window.print()" in page


def test_report_exports_as_csv_and_xlsx_with_the_items(reported, finance_client):
    day, _missing = reported
    body = finance_client.get(reverse("reconciliation:report_csv", args=[day.pk])).content.decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert ["Total (incl. tax)", "60.00", "12.00", "0.00", "48.00", "unexplained"] in rows
    assert any(row[:3] == ["Missing in Fulfil", "no", "R-MISSING"] for row in rows)

    xlsx = finance_client.get(reverse("reconciliation:report_xlsx", args=[day.pk]))
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["Report", "Figures", "Tenders", "Items"]
    items = list(book["Items"].iter_rows(values_only=True))
    assert items[1][2] == "R-MISSING"
    assert Decimal(str(items[1][7])) == Decimal("48.00")


def test_regenerate_button_adds_a_run_and_keeps_the_old_one(reported, finance_client):
    day, _ = reported
    finance_client.post(reverse("reconciliation:regenerate", args=[day.pk]))
    runs = ReconciliationRun.objects.filter(pos_location_id=OXFORD).order_by("id")
    assert [r.trigger for r in runs] == ["nightly", "on_demand"]
    assert runs[1].generated_by.username == "fred-finance"
    day.refresh_from_db()
    assert day.current_run == runs[1]
    old = finance_client.get(reverse("reconciliation:report", args=[day.pk]) + f"?run={runs[0].pk}")
    assert "an earlier run" in old.content.decode()


def test_month_page_summarises_the_close_checklist(reported, finance_client):
    page = finance_client.get(reverse("reconciliation:month", args=[2026, 11])).content.decode()
    assert "Open exceptions by age" in page
    assert "Sign off November 2026" in page
    assert "still unexplained" in page


def test_plot_is_a_png_drawn_on_the_server(reported, finance_client):
    response = finance_client.get(reverse("reconciliation:month_plot", args=[2026, 11]))
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")


def test_batches_page_lists_and_exports_tender_batches(
    reported, finance_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        page = finance_client.get(reverse("reconciliation:batches") + "?tender_type=card").content.decode()
    assert "BATCH-OXF-1" in page
    body = finance_client.get(reverse("reconciliation:batches") + "?format=csv").content.decode()
    assert "BATCH-OXF-1" in body


def test_empty_month_says_so(finance_client, db):
    page = finance_client.get(reverse("reconciliation:index") + "?month=2020-01").content.decode()
    assert "No reports for January 2020" in page
