"""An admin maps a blocked store in the browser, then sees the change in the map's history."""

from django.core.management import call_command

from exceptions.models import ExceptionType
from exceptions.services import exception_raise
from integration.models import TransactionState
from tests.factories import PosSourceFactory, PosTransactionFactory
from tests.map_factories import FulfilWarehouseFactory

from .conftest import SCREENSHOT_DIR


def test_admin_maps_an_unmapped_store_from_coverage_and_sees_the_history(
    transactional_db, settings, login, page
):
    settings.DEBUG = True
    call_command("seed_demo", users_only=True)
    source = PosSourceFactory(code="shop", name="Shopify UK")
    FulfilWarehouseFactory(code="OXF", name="Oxford Street store")
    FulfilWarehouseFactory(code="DC", name="Distribution centre")
    txn = PosTransactionFactory(
        source=source,
        pos_location_id="loc-oxf",
        pos_location_name="Oxford St",
        state=TransactionState.BLOCKED,
    )
    exception_raise(
        transaction_obj=txn,
        exc_type=ExceptionType.UNMAPPED_LOCATION,
        subject="loc-oxf",
        title="Unmapped store",
    )

    login("admin", "admin-demo-pass")
    page.get_by_role("link", name="Maps").click()
    page.get_by_role("link", name="Coverage").click()
    page.get_by_role("link", name="Map it").first.click()
    # The form is prefilled and suggests the Oxford warehouse by name.
    assert page.get_by_label("POS location id").input_value() == "loc-oxf"
    page.get_by_role("link", name="Use this").first.click()
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / "maps-new-location.png"), full_page=True)
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")

    assert page.get_by_text("location_map.created").is_visible()
    assert page.get_by_text("Oxford Street store").first.is_visible()
    page.screenshot(path=str(SCREENSHOT_DIR / "maps-location-detail.png"), full_page=True)
