"""Transactions list/detail/CSV and quarantine pages, with query budgets."""

from integration.models import InboundEvent, Platform, PosTransaction
from integration.possim import generator as g
from tests.pos.conftest import deliver, process_all


def _day(pos):
    day = g.generate_day(
        stores=6, sales_per_store=3, faults=("malformed", "custom_sale"), base_url="http://testserver"
    )
    for d in day.deliveries:
        deliver(d)
    process_all()


def test_transaction_list_filters_and_exports_within_a_query_budget(
    pos, ops_client, django_assert_max_num_queries
):
    _day(pos)
    with django_assert_max_num_queries(12):
        page = ops_client.get("/transactions/", {"source": pos[Platform.SQUARE].pk, "kind": "sale"})
    assert page.status_code == 200
    csv_text = ops_client.get(
        "/transactions/export.csv", {"source": pos[Platform.SQUARE].pk}
    ).content.decode()
    rows = csv_text.strip().splitlines()
    assert rows[0].startswith("source,pos_id")
    assert len(rows) - 1 == PosTransaction.objects.filter(source=pos[Platform.SQUARE]).count()
    assert all(r.startswith("square-uk,") for r in rows[1:])
    some = PosTransaction.objects.filter(source=pos[Platform.SHOPIFY]).first()
    found = ops_client.get("/transactions/", {"q": some.pos_id})
    assert some.pos_id.encode() in found.content


def test_transaction_page_shows_raw_event_beside_lines_taxes_and_tenders(pos, finance_client):
    _day(pos)
    txn = PosTransaction.objects.filter(lines__is_custom=True).first()
    page = finance_client.get(f"/transactions/{txn.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "What the POS sent" in text
    assert "&quot;source_name&quot;: &quot;pos&quot;" in text
    assert "custom sale" in text
    assert "GB VAT (20%)" in text
    assert "Not sent to Fulfil yet" in text
    assert str(txn.tenders.first().amount) in text


def test_quarantine_list_within_a_query_budget_and_csv(pos, ops_client, django_assert_max_num_queries):
    _day(pos)
    with django_assert_max_num_queries(8):
        page = ops_client.get("/quarantine/")
    assert page.status_code == 200
    assert b"payload is not JSON" in page.content
    csv_rows = ops_client.get("/quarantine/", {"format": "csv"}).content.decode().strip().splitlines()
    assert len(csv_rows) == 1 + InboundEvent.objects.filter(status="quarantined").count()
    ignored = ops_client.get("/quarantine/", {"status": "ignored"})
    assert ignored.status_code == 200


def test_outsider_sees_no_pos_pages(pos, outsider_client):
    for url in ("/transactions/", "/quarantine/", "/imports/", "/transactions/export.csv"):
        assert outsider_client.get(url).status_code == 403


def test_simulator_api_refuses_a_wrong_token(pos, client):
    assert client.get("/sandbox/pos/shopify/admin/api/2024-04/locations.json").status_code == 401
    ok = client.get(
        "/sandbox/pos/shopify/admin/api/2024-04/locations.json",
        headers={"X-Shopify-Access-Token": pos[Platform.SHOPIFY].api_credentials},
    )
    assert ok.status_code == 200
    assert any(loc["name"] == "Oxford Street" for loc in ok.json()["locations"])


def test_store_filter_matches_a_name_fragment(pos, ops_client):
    _day(pos)
    page = ops_client.get("/transactions/", {"store": "oxford"})
    oxford = PosTransaction.objects.filter(pos_location_name="Oxford Street").first()
    assert oxford.pos_number.encode() in page.content or oxford.pos_id.encode() in page.content
    assert b"Manchester Arndale" not in page.content.split(b"</form>")[1]
