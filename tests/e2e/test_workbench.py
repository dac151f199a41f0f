"""The workbench as ops and finance use it: a real Chromium against the live server, the real engine,
the real Fulfil client talking to the sandbox (in-process), stock checked in the sandbox afterwards."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import call_command

from exceptions.models import ExceptionGroup
from integration.fulfil.client import get_client
from integration.models import PosTransaction
from integration.pipeline.post import inventory_lane_run
from integration.pipeline.validate import transactions_validate
from mappings.models import FulfilTax, FulfilWarehouse, LocationMap, TaxMap
from tests.e2e.conftest import SCREENSHOT_DIR
from tests.factories import PosSourceFactory
from tests.pipeline.builders import sale

SKU = "TEE-CRW-BLK-XS"  # in the sandbox's small estate, £18.00 + 20 % VAT


@pytest.fixture
def estate(transactional_db, settings):
    from integration.sandbox.seed import estate_ensure
    from integration.sandbox.services import sandbox_faults_reset
    from mappings.services import catalog_sync

    settings.DEBUG = True
    settings.FULFIL_SANDBOX_INPROCESS = True
    settings.FULFIL_BASE_URL = ""
    settings.FULFIL_RATE_LIMIT_PER_SECOND = 0
    # Cached Fulfil ids (walk-in parties, the rate limiter's clock) belong to the previous test's sandbox.
    cache.clear()
    sandbox_faults_reset(seed=1234)
    built = estate_ensure(store_count=2, template_count=4, seed=7)
    catalog_sync()
    call_command("seed_demo", users_only=True)
    source = PosSourceFactory(code="e2e-shop", name="E2E Shopify")
    TaxMap.objects.create(
        source=source,
        pos_tax_title="VAT",
        rate=Decimal("0.20"),
        tax=FulfilTax.objects.get(rate=Decimal("0.2")),
    )
    return {"estate": built, "source": source}


def _on_hand(client, estate, code: str) -> float:
    return client.read(
        "product.product",
        [estate.products[SKU]],
        ["quantity_on_hand"],
        context={"locations": [estate.warehouses[code]]},
    )[0]["quantity_on_hand"]


def _sales(source, n, sku=SKU, **kwargs):
    return [sale(source=source, lines=((sku, Decimal("1"), Decimal("18.00")),), **kwargs) for _ in range(n)]


def test_ops_maps_a_new_store_from_the_workbench_and_its_sales_post_at_that_warehouse(estate, login, page):
    source, built = estate["source"], estate["estate"]
    client = get_client()
    before = {code: _on_hand(client, built, code) for code in built.warehouses}
    txns = _sales(source, 5, pos_location_id="shop-oxf-1", pos_location_name="Oxford St")
    transactions_validate(ids=[t.pk for t in txns])
    group = ExceptionGroup.objects.get(type="unmapped_location")
    assert group.open_count == 5

    login("ops", "ops-demo-pass")
    page.get_by_role("link", name="Exceptions").click()
    page.screenshot(path=SCREENSHOT_DIR / "workbench-list.png", full_page=True)
    page.get_by_role("link", name=group.title).click()
    page.screenshot(path=SCREENSHOT_DIR / "workbench-group-unmapped-store.png", full_page=True)
    suggestion = page.get_by_role("radio", name="Oxford Street (ST-OXF)", exact=False)
    assert suggestion.is_checked()  # the best suggestion is preselected
    page.get_by_role("button", name="Save map and requeue 5 transactions").click()
    page.get_by_text("5 transactions released to post").wait_for()

    # The fix queued an immediate lane run; no worker runs in this test, so run the lane here.
    result = inventory_lane_run()
    assert result.get("posted", 0) == 5
    page.reload()
    assert page.get_by_test_id("posted-count").inner_text() == "5"
    assert "resolved" in page.locator(".page-head").inner_text().lower()

    mapped = LocationMap.objects.get(source=source, pos_location_id="shop-oxf-1")
    assert mapped.warehouse == FulfilWarehouse.objects.get(code="ST-OXF")
    assert client.search_count("sale.sale", [["channel_identifier", "ilike", "e2e-shop:%"]]) == 5
    after = {code: _on_hand(client, built, code) for code in built.warehouses}
    assert after["ST-OXF"] == before["ST-OXF"] - 5
    assert {c: after[c] for c in after if c != "ST-OXF"} == {c: before[c] for c in before if c != "ST-OXF"}
    assert set(
        PosTransaction.objects.filter(pk__in=[t.pk for t in txns]).values_list("state", flat=True)
    ) == {"posted"}


def test_ops_fixes_a_sku_mismatch_with_a_suggestion(estate, login, page):
    source = estate["source"]
    LocationMap.objects.create(
        source=source, pos_location_id="loc-oxford", warehouse=FulfilWarehouse.objects.get(code="ST-OXF")
    )
    txns = _sales(source, 3, sku="tee crw blk xs")  # the till's spelling of TEE-CRW-BLK-XS
    transactions_validate(ids=[t.pk for t in txns])
    group = ExceptionGroup.objects.get(type="sku_mismatch")

    login("ops", "ops-demo-pass")
    page.goto(page.url.split("/exceptions")[0] + f"/exceptions/{group.pk}/")
    first = page.get_by_role("radio").first
    assert first.is_checked()
    assert SKU in page.locator("fieldset").inner_text()
    page.screenshot(path=SCREENSHOT_DIR / "workbench-group-sku.png", full_page=True)
    page.get_by_role("button", name="Save map and requeue 3 transactions").click()
    page.get_by_text("3 transactions released to post").wait_for()
    result = inventory_lane_run()
    from integration.models import PostingAttempt

    assert result.get("posted", 0) == 3, list(PostingAttempt.objects.values_list("error", flat=True))
    assert get_client().search_count("sale.sale", [["channel_identifier", "ilike", "e2e-shop:%"]]) == 3


def test_finance_accepts_a_tax_variance_and_the_sale_posts(estate, login, page):
    source = estate["source"]
    LocationMap.objects.create(
        source=source, pos_location_id="loc-oxford", warehouse=FulfilWarehouse.objects.get(code="ST-OXF")
    )
    txn = _sales(source, 1)[0]
    # The till charged 3.63 VAT where 20 % of 18.00 is 3.60: beyond the 0.01 tolerance.
    line = txn.lines.get()
    line.tax_amount = Decimal("3.63")
    line.save()
    line.taxes.update(amount=Decimal("3.63"))
    PosTransaction.objects.filter(pk=txn.pk).update(tax_total=Decimal("3.63"), total=Decimal("21.63"))
    transactions_validate(ids=[txn.pk])
    group = ExceptionGroup.objects.get(type="tax_discrepancy")

    login("finance", "finance-demo-pass")
    page.goto(page.url.split("/exceptions")[0] + f"/exceptions/{group.pk}/")
    page.screenshot(path=SCREENSHOT_DIR / "workbench-group-tax.png", full_page=True)
    page.get_by_label("Finance: accept the variance").fill("Per-line rounding at the till")
    page.get_by_role("button", name="Accept and requeue").click()
    page.get_by_text("1 transaction released to post").wait_for()
    assert inventory_lane_run().get("posted", 0) == 1
    txn.refresh_from_db()
    assert txn.state == "posted"
    group.refresh_from_db()
    assert (group.status, group.resolution) == ("resolved", "accepted")
    # Fulfil holds what the customer paid: its own 3.60 VAT plus a 0.03 adjustment line.
    sale = get_client().read("sale.sale", [txn.fulfil_sale_id], ["tax_amount", "total_amount"])[0]
    assert (sale["tax_amount"], sale["total_amount"]) == (Decimal("3.60"), Decimal("21.63"))
