"""An admin turns a sandbox fault on in the browser, and the real client over loopback feels it;
then syncs the catalog and reads what changed."""

import pytest
from django.core.management import call_command

from integration.fulfil.errors import RateLimited
from mappings.models import CatalogSyncRun
from mappings.services import catalog_sync


@pytest.fixture
def demo_admin(transactional_db, settings):
    settings.DEBUG = True
    call_command("seed_demo", users_only=True)
    return ("admin", "admin-demo-pass")


def test_an_admin_sets_a_429_storm_in_the_browser_and_the_client_is_throttled(
    demo_admin, login, page, live_server, live_fulfil_client
):
    login(*demo_admin)
    page.goto(f"{live_server.url}/sandbox/faults/")
    page.get_by_label("Share of requests answered 429").fill("1")
    page.get_by_label("Retry-After sent with a 429 (seconds)").fill("0")
    page.get_by_role("button", name="Save faults").click()
    assert page.get_by_text("Sandbox faults saved").is_visible()
    with pytest.raises(RateLimited):
        live_fulfil_client.create("party.party", [{"name": "Throttled"}])
    page.get_by_role("button", name="Turn every fault off").click()
    assert live_fulfil_client.create("party.party", [{"name": "Welcome back"}])


def test_the_catalog_sync_page_shows_the_latest_run_and_its_changes(
    demo_admin, login, page, live_server, live_fulfil_client
):
    catalog_sync(client=live_fulfil_client)
    login(*demo_admin)
    page.goto(f"{live_server.url}/maps/")
    page.get_by_role("link", name="Fulfil catalog sync").click()
    row = page.get_by_role("row", name="Products").first
    assert row.is_visible()
    run = CatalogSyncRun.objects.get(model="products")
    page.get_by_role("link", name=f"+{run.created} new, 0 changed, 0 deactivated").first.click()
    assert page.get_by_role("cell", name="TEE-CRW-BLK-XS").is_visible()
