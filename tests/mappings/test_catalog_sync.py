"""Catalog sync: Fulfil's catalog (the sandbox, through the real client) into the local cache."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from integration.fulfil.client import get_client
from integration.sandbox.models import SandboxRecord
from integration.sandbox.services import sandbox_faults_set
from mappings.codes import normalize_code
from mappings.models import (
    CatalogSyncRun,
    FulfilChannel,
    FulfilGateway,
    FulfilProduct,
    FulfilTax,
    FulfilWarehouse,
)
from mappings.services import catalog_sync


def _by_model(runs):
    return {run.model: run for run in runs}


def test_the_first_sync_copies_the_whole_catalog(sandbox, fulfil_client):
    runs = _by_model(catalog_sync(client=fulfil_client))
    assert set(runs) == {"warehouses", "products", "taxes", "channels", "gateways"}
    assert all(run.full and not run.error and run.finished_at for run in runs.values())
    assert runs["products"].created == len(sandbox.products) == FulfilProduct.objects.count()
    oxf = FulfilWarehouse.objects.get(code="ST-OXF")
    assert oxf.fulfil_id == sandbox.warehouses["ST-OXF"]
    assert oxf.storage_location_id == sandbox.storage["ST-OXF"]
    product = FulfilProduct.objects.get(code="TEE-CRW-BLK-XS")
    assert product.barcode == sandbox.barcodes["TEE-CRW-BLK-XS"]
    assert product.list_price == Decimal("18.0000")
    assert product.normalized_code == "TEECRWBLKXS"
    assert FulfilTax.objects.get(fulfil_id=sandbox.taxes["standard"]).rate == Decimal("0.200000")
    assert FulfilChannel.objects.get().source == "pos"
    assert set(FulfilGateway.objects.values_list("code", flat=True)) == {
        "card",
        "cash",
        "gift_card",
        "store_credit",
    }


def test_the_next_sync_fetches_only_what_changed_and_records_the_change(sandbox, fulfil_client):
    catalog_sync(client=fulfil_client)
    # Age every record so "changed since the last run minus the overlap" excludes them.
    old = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    SandboxRecord.objects.update(write_date=old, create_date=old)
    CatalogSyncRun.objects.update(cursor=(old + dt.timedelta(days=1)).isoformat())
    pid = sandbox.products["TEE-CRW-BLK-XS"]
    fulfil_client.write("product.product", [pid], {"name": "Crew Neck Tee Black XS (organic)"})

    runs = _by_model(catalog_sync(client=fulfil_client, models=["products"]))

    run = runs["products"]
    assert not run.full
    assert run.fetched == 1
    assert (run.created, run.updated, run.deactivated) == (0, 1, 0)
    assert run.changes[0]["fields"]["name"] == ["Crew Neck Tee Black XS", "Crew Neck Tee Black XS (organic)"]
    assert FulfilProduct.objects.get(fulfil_id=pid).name == "Crew Neck Tee Black XS (organic)"


def test_archived_and_removed_records_are_deactivated_not_deleted(sandbox, fulfil_client):
    catalog_sync(client=fulfil_client)
    archived = sandbox.products["TEE-CRW-BLK-XS"]
    fulfil_client.write("product.product", [archived], {"active": False})
    removed = sandbox.products["TEE-CRW-BLK-S"]
    fulfil_client.delete("product.product", [removed])

    run = _by_model(catalog_sync(client=fulfil_client, models=["products"]))["products"]

    assert run.deactivated == 2
    assert FulfilProduct.objects.get(fulfil_id=archived).active is False
    assert FulfilProduct.objects.get(fulfil_id=removed).active is False
    assert {c["change"] for c in run.changes} == {"deactivated"}


def test_a_failed_run_is_recorded_and_keeps_the_last_good_cursor(sandbox, fulfil_client):
    catalog_sync(client=fulfil_client, models=["taxes"])
    good = CatalogSyncRun.objects.get(model="taxes").cursor
    sandbox_faults_set(server_error_share=1)
    client = get_client(max_read_retries=0)
    run = catalog_sync(client=client, models=["taxes"])[0]
    assert run.error.startswith("TransientError")
    sandbox_faults_set(server_error_share=0)
    later = catalog_sync(client=fulfil_client, models=["taxes"])[0]
    assert not later.full
    assert later.cursor >= good


def test_unknown_models_are_refused(db):
    with pytest.raises(ValueError, match="Unknown catalog"):
        catalog_sync(models=["planets"])


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        (" tee-crw_blk xs ", "TEECRWBLKXS"),
        ("000123", "123"),
        ("00-01/2.3", "123"),
        ("0", "0"),
        ("", ""),
        (None, ""),
    ],
)
def test_product_codes_are_normalized_for_matching(raw, normalized):
    assert normalize_code(raw) == normalized


def test_the_sync_page_shows_each_model_and_its_changes(
    ops_client, sandbox, fulfil_client, django_assert_max_num_queries
):
    catalog_sync(client=fulfil_client)
    url = reverse("mappings:catalog_sync")
    with django_assert_max_num_queries(30):
        page = ops_client.get(url)
    text = page.content.decode()
    assert page.status_code == 200
    for label in (
        "Warehouses and stock locations",
        "Products",
        "Taxes",
        "Sales channels",
        "Payment gateways",
    ):
        assert label in text
    products = CatalogSyncRun.objects.get(model="products")
    detail = ops_client.get(reverse("mappings:catalog_sync_run", args=[products.pk])).content.decode()
    assert "TEE-CRW-BLK-XS" in detail
    csv_text = ops_client.get(url, {"model": "taxes", "format": "csv"}).content.decode()
    assert csv_text.count("\n") == 2
    assert "taxes" in csv_text
    assert "No catalog sync has run matching" in ops_client.get(url, {"failed": "1"}).content.decode()


def test_the_sync_page_is_for_ops_and_admin(persona_clients):
    url = reverse("mappings:catalog_sync")
    for persona, client in persona_clients.items():
        assert client.get(url).status_code == (200 if persona in ("ops", "admin") else 403), persona


def test_sync_now_queues_the_task(ops_client, db, django_capture_on_commit_callbacks):
    from django_q.models import OrmQ

    with django_capture_on_commit_callbacks(execute=True):
        response = ops_client.post(reverse("mappings:catalog_sync"), {"model": "taxes"})
    assert response.status_code == 302
    assert OrmQ.objects.count() == 1


def test_the_maps_page_links_to_the_sync_page(ops_client):
    assert reverse("mappings:catalog_sync") in ops_client.get(reverse("mappings:index")).content.decode()


def test_catalog_sync_is_scheduled(settings):
    from integration.schedules import schedule_definitions

    assert (
        "Fulfil catalog sync",
        "mappings.tasks.catalog_sync_task",
        settings.CATALOG_SYNC_INTERVAL_MINUTES,
    ) in (schedule_definitions())


def test_the_catalog_sync_command_fills_the_cache_in_process(sandbox):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("catalog_sync", inprocess=True, model=["warehouses", "taxes"], stdout=out)
    assert "warehouses: 3 fetched, 3 new" in out.getvalue()
    assert FulfilTax.objects.count() == 3
