import datetime as dt

import pytest
from django.urls import reverse

from accounts.models import AuditEntry
from exceptions.models import ExceptionType
from exceptions.services import exception_raise
from integration.models import TransactionState
from mappings.models import LocationMap, SkuMap, TenderMap
from tests.factories import PosSourceFactory, PosTransactionFactory, PosTransactionLineFactory
from tests.map_factories import (
    FulfilProductFactory,
    FulfilWarehouseFactory,
    LocationMapFactory,
    SkuMapFactory,
    TaxMapFactory,
    TenderMapFactory,
)

VIEWERS = {"ops", "admin"}
ADMINS = {"admin"}


@pytest.fixture
def maps(db):
    source = PosSourceFactory(code="shop")
    return {
        "locations": LocationMapFactory(source=source),
        "skus": SkuMapFactory(source=source),
        "taxes": TaxMapFactory(source=source),
        "tenders": TenderMapFactory(source=source),
    }


def _pages(maps):
    pages = [
        ("get", reverse("mappings:index"), VIEWERS),
        ("get", reverse("mappings:coverage"), VIEWERS),
        ("get", reverse("mappings:suggestions"), VIEWERS),
        ("post", reverse("mappings:suggestions_accept"), ADMINS),
    ]
    for slug, obj in maps.items():
        pages += [
            ("get", reverse("mappings:list", args=[slug]), VIEWERS),
            ("get", reverse("mappings:list", args=[slug]) + "?export=csv", VIEWERS),
            ("get", reverse("mappings:detail", args=[slug, obj.pk]), VIEWERS),
            (
                "get",
                reverse("mappings:create", args=[slug]),
                VIEWERS if slug in ("locations", "skus") else ADMINS,
            ),
            ("get", reverse("mappings:edit", args=[slug, obj.pk]), ADMINS),
            ("post", reverse("mappings:end", args=[slug, obj.pk]), ADMINS),
            ("get", reverse("mappings:import", args=[slug]), ADMINS),
        ]
    return pages


def test_role_matrix_for_every_map_page(persona_clients, maps):
    for method, url, allowed in _pages(maps):
        for persona, client in persona_clients.items():
            response = getattr(client, method)(url)
            if persona in allowed:
                assert response.status_code in (200, 302), f"{persona} {method} {url}: {response.status_code}"
            else:
                assert response.status_code == 403, f"{persona} {method} {url}: {response.status_code}"


@pytest.mark.parametrize("slug", ["locations", "skus", "taxes", "tenders"])
def test_map_lists_use_a_fixed_number_of_queries(admin_client_, slug, django_assert_max_num_queries):
    source = PosSourceFactory(code="shop")
    factory = {
        "locations": LocationMapFactory,
        "skus": SkuMapFactory,
        "taxes": TaxMapFactory,
        "tenders": TenderMapFactory,
    }[slug]
    factory.create_batch(30, source=source)
    with django_assert_max_num_queries(12):
        response = admin_client_.get(reverse("mappings:list", args=[slug]))
    assert response.status_code == 200
    with django_assert_max_num_queries(12):
        assert admin_client_.get(reverse("mappings:list", args=[slug]) + "?export=csv").status_code == 200


def test_list_filters_and_exports_only_what_matches(admin_client_, maps):
    TenderMapFactory(source=maps["tenders"].source, pos_tender="voucher")
    page = admin_client_.get(reverse("mappings:list", args=["tenders"]), {"q": "vouch"}).content.decode()
    assert "voucher" in page
    assert maps["tenders"].pos_tender not in page
    export = admin_client_.get(reverse("mappings:list", args=["tenders"]), {"q": "vouch", "export": "csv"})
    assert export["Content-Type"].startswith("text/csv")
    assert export.content.decode().splitlines()[1].startswith("shop,voucher,")
    xlsx = admin_client_.get(reverse("mappings:list", args=["tenders"]), {"export": "xlsx"})
    assert xlsx.content[:2] == b"PK"


def test_ops_adds_a_store_map_from_the_page_and_the_history_shows_it(ops_client, ops_user):
    source = PosSourceFactory(code="shop")
    warehouse = FulfilWarehouseFactory()
    txn = PosTransactionFactory(source=source, pos_location_id="loc-9", state=TransactionState.BLOCKED)
    exception_raise(transaction_obj=txn, exc_type=ExceptionType.UNMAPPED_LOCATION, subject="loc-9", title="x")
    response = ops_client.post(
        reverse("mappings:create", args=["locations"]),
        {"source": source.pk, "pos_location_id": "loc-9", "warehouse": warehouse.pk},
    )
    made = LocationMap.objects.get(pos_location_id="loc-9")
    assert response.status_code == 302
    detail = ops_client.get(response["Location"]).content.decode()
    assert "location_map.created" in detail
    assert "olivia-ops" in detail
    assert made.updated_by == ops_user


def test_overlapping_map_from_the_page_shows_the_reason_and_saves_nothing(admin_client_):
    existing = LocationMapFactory(pos_location_id="loc-1")
    response = admin_client_.post(
        reverse("mappings:create", args=["locations"]),
        {
            "source": existing.source.pk,
            "pos_location_id": "loc-1",
            "warehouse": existing.warehouse.pk,
            "effective_from": "2026-05-01",
        },
    )
    assert response.status_code == 200
    assert f"overlap location map #{existing.pk}" in response.content.decode()
    assert LocationMap.objects.count() == 1


def test_admin_edits_and_ends_a_map_with_history(admin_client_):
    sku_map = SkuMapFactory(pos_key="A-1")
    product = FulfilProductFactory(code="NEW-CODE")
    response = admin_client_.post(
        reverse("mappings:edit", args=["skus", sku_map.pk]),
        {"source": sku_map.source.pk, "key_type": "sku", "pos_key": "A-1", "product": "NEW-CODE"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    sku_map.refresh_from_db()
    assert sku_map.product == product
    admin_client_.post(reverse("mappings:end", args=["skus", sku_map.pk]), {"effective_to": "2026-12-31"})
    sku_map.refresh_from_db()
    assert sku_map.effective_to == dt.date(2026, 12, 31)
    actions = list(AuditEntry.objects.filter(object_id=str(sku_map.pk)).values_list("action", flat=True))
    assert actions == ["sku_map.ended", "sku_map.updated"]
    old_label = str(SkuMap._meta.get_field("product").related_model.objects.exclude(pk=product.pk).get())
    page = admin_client_.get(reverse("mappings:detail", args=["skus", sku_map.pk])).content.decode()
    assert f"<strong>product</strong>: {old_label} → {product}" in page.replace("&#x27;", "'")
    assert "<strong>effective_to</strong>: — → 2026-12-31" in page
    assert "ada-admin" in admin_client_.get(reverse("mappings:index")).content.decode()


def test_import_page_dry_runs_then_applies(admin_client_):
    from django.core.files.uploadedfile import SimpleUploadedFile

    PosSourceFactory(code="shop")
    gateway = TenderMapFactory().gateway
    header = "source,pos_tender,gateway_code,effective_from,effective_to"
    body = f"{header}\nshop,voucher,{gateway.code},,\n".encode()
    url = reverse("mappings:import", args=["tenders"])
    dry = admin_client_.post(url, {"file": SimpleUploadedFile("t.csv", body)})
    assert "Every row is good" in dry.content.decode()
    assert not TenderMap.objects.filter(pos_tender="voucher").exists()
    applied = admin_client_.post(url, {"file": SimpleUploadedFile("t.csv", body), "apply": "on"})
    assert applied.status_code == 302
    assert TenderMap.objects.filter(pos_tender="voucher").exists()
    bad = admin_client_.post(
        url,
        {
            "file": SimpleUploadedFile("t.csv", b"source,pos_tender,gateway_code\nshop,x,NOPE\n"),
            "apply": "on",
        },
    )
    assert "Unknown gateway code" in bad.content.decode()


def test_coverage_shows_unmapped_stores_and_shares(admin_client_):
    source = PosSourceFactory(code="shop")
    LocationMapFactory(source=source, pos_location_id="mapped")
    PosTransactionFactory(source=source, pos_location_id="mapped")
    PosTransactionFactory(source=source, pos_location_id="ghost", pos_location_name="Ghost Town")
    line = PosTransactionLineFactory(
        transaction__source=source, transaction__pos_location_id="mapped", sku="KNOWN"
    )
    SkuMapFactory(source=source, pos_key="KNOWN")
    PosTransactionLineFactory(transaction=line.transaction, sku="UNKNOWN")
    page = admin_client_.get(reverse("mappings:coverage")).content.decode()
    assert "Ghost Town" in page
    assert "50.0 %" in page  # one of two stores, one of two SKUs


def test_admin_accepts_suggestions_above_the_threshold(admin_client_, ops_client):
    source = PosSourceFactory(code="shop")
    product = FulfilProductFactory(code="ABC-1")
    FulfilProductFactory(code="ZZZ", name="Unrelated")
    txn = PosTransactionFactory(source=source, state=TransactionState.BLOCKED)
    PosTransactionLineFactory(transaction=txn, sku="abc 1")
    group = exception_raise(
        transaction_obj=txn, exc_type=ExceptionType.SKU_MISMATCH, subject="abc 1", title="x"
    ).group
    page = ops_client.get(reverse("mappings:suggestions"), {"threshold": 90}).content.decode()
    token = f"{group.pk}:{product.pk}"
    assert f'value="{token}"' in page
    assert "once normalised" in page
    response = admin_client_.post(reverse("mappings:suggestions_accept"), {"accept": [token]})
    assert response.status_code == 302
    made = SkuMap.objects.get(pos_key="abc 1")
    assert made.product == product


def test_new_sku_map_form_suggests_products_for_a_prefilled_key(ops_client):
    product = FulfilProductFactory(code="MUG-001", name="Blue mug")
    page = ops_client.get(reverse("mappings:create", args=["skus"]), {"pos_key": "mug 1"}).content.decode()
    assert str(product) in page
    assert "product=MUG-001" in page
    prefilled = ops_client.get(
        reverse("mappings:create", args=["skus"]), {"pos_key": "mug 1", "product": "MUG-001"}
    )
    assert 'value="MUG-001"' in prefilled.content.decode()


def test_sku_map_form_refuses_a_replacement_from_another_source(admin_client_):
    other = SkuMapFactory(source=PosSourceFactory(code="elsewhere"))
    mine = SkuMapFactory(source=PosSourceFactory(code="shop"))
    response = admin_client_.post(
        reverse("mappings:edit", args=["skus", mine.pk]),
        {
            "source": mine.source.pk,
            "key_type": "sku",
            "pos_key": mine.pos_key,
            "product": mine.product.code,
            "superseded_by": other.pk,
        },
    )
    assert "same POS source" in response.content.decode()
    mine.refresh_from_db()
    assert mine.superseded_by is None
