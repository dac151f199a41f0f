"""CSV / JSON import: documented layout, dry run with row-level errors, commit through the pipeline."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from integration.models import InboundEvent, Platform, PosSource, PosTransaction, TransactionState
from integration.pos.csv_import import COLUMNS, parse_csv
from tests.pos.conftest import process_all

HEADER = ",".join(COLUMNS)


def row(**values):
    return ",".join(str(values.get(c, "")) for c in COLUMNS)


GOOD = "\n".join(
    [
        HEADER,
        row(
            record="line",
            pos_id="T1",
            pos_number="R-1",
            occurred_at="2026-06-30T23:30:00+00:00",
            location_id="york",
            location_name="York Coppergate",
            currency="gbp",
            sku="TEE-BLK-M",
            quantity="2",
            unit_price="15.00",
            discount="1.00",
            tax_title="VAT",
            tax_rate="20%",
            tax_amount="5.80",
        ),
        row(
            record="line",
            pos_id="T1",
            sku="BOOK-STYLE",
            quantity="1",
            unit_price="16.99",
            tax_title="VAT",
            tax_rate="0",
            tax_amount="0.00",
        ),
        row(record="tender", pos_id="T1", tender_type="card", tender_amount="40.00"),
        row(record="tender", pos_id="T1", tender_type="cash", tender_amount="11.79"),
        row(
            record="line",
            pos_id="T2",
            occurred_at="2026-07-01T10:00:00+00:00",
            location_id="york",
            sku="TEE-BLK-M",
            quantity="-1",
            unit_price="15.00",
            tax_rate="0.2",
            tax_amount="-3.00",
            original_pos_id="T1",
            original_line_id="T1-1",
        ),
        row(record="tender", pos_id="T2", tender_type="cash", tender_amount="-18.00"),
    ]
)


@pytest.fixture
def csv_source(db):
    return PosSource.objects.create(
        code="legacy-epos",
        name="Legacy EPOS",
        platform=Platform.CSV,
        api_credentials="import-token",
        timezone="Europe/London",
    )


def test_csv_layout_parses_into_canonical_transactions():
    txns, errors = parse_csv(GOOD)
    assert errors == []
    t1, t2 = txns
    assert t1.currency == "GBP"
    assert t1.subtotal == Decimal("45.99")
    assert t1.tax_total == Decimal("5.80")
    assert t1.total == Decimal("51.79")
    assert t1.lines[0].taxes[0].rate == Decimal("0.2")
    assert t2.kind == "return"
    assert t2.lines[0].original_line_id == "T1-1"


def test_dry_run_lists_row_level_errors_and_nothing_is_saved(csv_source, ops_client):
    bad = (
        GOOD.replace("quantity=", "")
        + "\n"
        + row(
            record="line",
            pos_id="T3",
            occurred_at="yesterday",
            location_id="york",
            quantity="1",
            unit_price="x",
        )
    )
    bad += "\n" + row(record="tender", pos_id="T1", tender_type="cheque", tender_amount="1")
    upload = SimpleUploadedFile("day.csv", bad.encode(), content_type="text/csv")
    page = ops_client.post("/imports/", {"source": csv_source.pk, "file": upload, "commit": "on"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "nothing was imported" in text
    assert "tender_type must be one of" in text
    assert "not a money amount" in text
    assert InboundEvent.objects.count() == 0
    assert PosTransaction.objects.count() == 0


def test_commit_creates_normalized_transactions_once_and_links_the_return(csv_source, ops_client):
    for _ in range(2):  # importing the same file twice changes nothing the second time
        upload = SimpleUploadedFile("day.csv", GOOD.encode(), content_type="text/csv")
        assert (
            ops_client.post(
                "/imports/", {"source": csv_source.pk, "file": upload, "commit": "on"}
            ).status_code
            == 200
        )
    process_all()
    assert InboundEvent.objects.filter(channel="import").count() == 2
    t1 = PosTransaction.objects.get(pos_id="T1")
    assert t1.state == TransactionState.NORMALIZED
    assert t1.business_date.isoformat() == "2026-07-01"
    assert PosTransaction.objects.get(pos_id="T2").original == t1


def test_api_requires_the_source_token_and_supports_dry_run(csv_source, client):
    url = "/api/pos/legacy-epos/import"
    assert client.post(url, GOOD, content_type="text/csv").status_code == 401
    auth = {"Authorization": "Bearer import-token"}
    dry = client.post(url + "?dry_run=1", GOOD, content_type="text/csv", headers=auth)
    assert dry.status_code == 200
    assert dry.json()["transactions"] == 2
    assert dry.json()["committed"] is None
    assert InboundEvent.objects.count() == 0
    body = [
        {
            "pos_id": "J1",
            "pos_location_id": "york",
            "occurred_at": "2026-07-01T09:00:00+01:00",
            "lines": [
                {
                    "quantity": "1",
                    "unit_price": "10.00",
                    "tax_amount": "2.00",
                    "sku": "MUG-LOGO",
                    "taxes": [{"title": "VAT", "rate": "0.2", "amount": "2.00"}],
                }
            ],
            "tenders": [{"tender_type": "card", "amount": "12.00"}],
        }
    ]
    r = client.post(url, body, content_type="application/json", headers=auth)
    assert r.status_code == 200
    assert r.json()["committed"] == {"new": 1, "repeats": 0}
    process_all()
    assert PosTransaction.objects.get(pos_id="J1").total == Decimal("12.00")
    bad = client.post(url, [{"pos_id": "J2"}], content_type="application/json", headers=auth)
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["pos_id"] == "J2"
