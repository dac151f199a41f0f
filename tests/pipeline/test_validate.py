"""Validation turns `normalized` into `ready` or `blocked` with the right exception, and back again."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from exceptions.models import ExceptionGroup, ExceptionOccurrence, ExceptionType
from exceptions.services import exception_group_resolve
from integration.models import PosTransaction, TransactionState
from integration.pipeline.validate import transactions_requeue, transactions_validate
from mappings.models import FulfilProduct, LocationMap
from tests.pipeline.builders import map_sku, map_store, mapped_estate, sale

S = TransactionState


def _open_types(txn) -> set[str]:
    return set(
        ExceptionOccurrence.objects.filter(transaction=txn, is_open=True).values_list(
            "group__type", flat=True
        )
    )


def test_a_clean_sale_becomes_ready_with_what_it_will_post_as(db):
    estate = mapped_estate()
    txn = sale(source=estate["source"])
    summary = transactions_validate()
    txn.refresh_from_db()
    assert summary["ready"] == 1
    assert txn.state == S.READY
    assert txn.fulfil_warehouse_id == estate["warehouse"].fulfil_id
    line = txn.lines.get()
    assert line.fulfil_product_id == 501
    assert txn.posted_with["lines"][str(line.pk)]["taxes"] == [estate["tax"].fulfil_id]
    assert txn.posted_with["location_map"] == LocationMap.objects.get().pk
    assert not _open_types(txn)


def test_an_unmapped_store_blocks_every_sale_there_under_one_root_cause(db):
    estate = mapped_estate()
    first = sale(
        source=estate["source"], pos_location_id="loc-leeds", pos_location_name="Leeds", register_id="3"
    )
    second = sale(source=estate["source"], pos_location_id="loc-leeds", pos_location_name="Leeds")
    summary = transactions_validate()
    assert summary["blocked_by"] == {ExceptionType.UNMAPPED_LOCATION: 2}
    group = ExceptionGroup.objects.get()
    assert group.fingerprint == "unmapped_location:oxford-shopify:loc-leeds"
    assert group.title == "Store 'Leeds — Till 3' is not mapped to a Fulfil warehouse"
    assert group.open_count == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == (S.BLOCKED, S.BLOCKED)


def test_requeue_after_mapping_the_store_releases_the_group(db, ops_user):
    estate = mapped_estate()
    txns = [sale(source=estate["source"], pos_location_id="loc-leeds") for _ in range(3)]
    transactions_validate()
    map_store(source=estate["source"], pos_location_id="loc-leeds", warehouse=estate["warehouse"])
    summary = transactions_requeue(transactions=txns, actor=ops_user)
    assert summary["ready"] == 3
    assert summary["blocked"] == 0
    assert set(PosTransaction.objects.values_list("state", flat=True)) == {S.READY}
    group = ExceptionGroup.objects.get()
    assert (group.status, group.resolution, group.open_count) == ("resolved", "auto", 0)


def _unmapped_sale_with_a_sku_off_catalog(estate):
    """At an unmapped store: one line in the catalog, one not."""
    return sale(
        source=estate["source"],
        pos_location_id="loc-leeds",
        lines=(
            ("TSHIRT-BLK-M", Decimal("1"), Decimal("10.00")),
            ("NOT-IN-CATALOG", Decimal("1"), Decimal("5")),
        ),
    )


def test_a_blocked_sale_still_records_what_its_lines_resolve_to(db, ops_user):
    estate = mapped_estate()
    txn = _unmapped_sale_with_a_sku_off_catalog(estate)
    transactions_validate()
    products = dict(txn.lines.values_list("sku", "fulfil_product_id"))
    assert products == {"TSHIRT-BLK-M": 501, "NOT-IN-CATALOG": None}
    assert _open_types(txn) == {ExceptionType.UNMAPPED_LOCATION, ExceptionType.SKU_MISMATCH}


def test_the_transaction_page_shows_what_each_line_resolves_to(db, ops_client):
    estate = mapped_estate()
    txn = _unmapped_sale_with_a_sku_off_catalog(estate)
    transactions_validate()
    page = ops_client.get(f"/transactions/{txn.pk}/").content.decode()
    product = FulfilProduct.objects.get(fulfil_id=501)
    assert f"<code>{product.code}</code> {product.name}" in page
    assert "not resolved" in page


def test_a_requeue_inside_one_transaction_recounts_each_group_once_and_right(db, ops_user, monkeypatch):
    """The workbench's fix runs the requeue inside its own transaction: counters are recounted at
    the end, over several chunks, and must come out as if they had been kept up chunk by chunk."""
    from django.db import transaction

    from integration.pipeline import validate

    monkeypatch.setattr(validate, "CHUNK_IN_TRANSACTION", 4)
    estate = mapped_estate()
    clean = [sale(source=estate["source"], pos_location_id="loc-leeds") for _ in range(7)]
    stuck = [
        sale(
            source=estate["source"],
            pos_location_id="loc-leeds",
            lines=(("NOPE", Decimal("1"), Decimal("3")),),
        )
        for _ in range(3)
    ]
    transactions_validate()
    store = ExceptionGroup.objects.get(type=ExceptionType.UNMAPPED_LOCATION)
    sku = ExceptionGroup.objects.get(type=ExceptionType.SKU_MISMATCH)
    assert (store.open_count, sku.open_count) == (10, 3)
    map_store(source=estate["source"], pos_location_id="loc-leeds", warehouse=estate["warehouse"])
    with transaction.atomic():
        summary = transactions_requeue(transactions=clean + stuck, actor=ops_user)
    assert (summary["ready"], summary["blocked"]) == (7, 3)
    store.refresh_from_db()
    sku.refresh_from_db()
    assert (store.status, store.resolution, store.open_count, store.stores) == ("resolved", "auto", 0, [])
    assert (sku.status, sku.open_count) == ("open", 3)
    assert sku.money_at_risk == sum(t.total for t in stuck)


def test_unknown_sku_inactive_product_and_custom_sale_lines_are_sku_mismatches(db, settings):
    estate = mapped_estate()
    unknown = sale(source=estate["source"], lines=[("NOPE-1", Decimal("1"), Decimal("5.00"))])
    FulfilProduct.objects.create(fulfil_id=777, code="OLD-1", name="Old", active=False)
    archived = sale(source=estate["source"], lines=[("OLD-1", Decimal("1"), Decimal("5.00"))])
    custom = sale(source=estate["source"], lines=[("", Decimal("1"), Decimal("5.00"))])
    custom.lines.update(is_custom=True)
    transactions_validate()
    fingerprints = set(ExceptionGroup.objects.values_list("fingerprint", flat=True))
    assert fingerprints == {
        "sku_mismatch:oxford-shopify:NOPE-1",
        "sku_mismatch:oxford-shopify:OLD-1",
        "sku_mismatch:oxford-shopify:custom sale",
    }
    for txn in (unknown, archived, custom):
        txn.refresh_from_db()
        assert txn.state == S.BLOCKED
    # A configured fallback product lets custom-sale lines post.
    FulfilProduct.objects.create(fulfil_id=900, code="CUSTOM", name="Custom sale")
    settings.SYNC_CUSTOM_SALE_PRODUCT_CODE = "CUSTOM"
    assert transactions_requeue(transactions=[custom])["ready"] == 1
    assert custom.lines.get().fulfil_product_id == 900


def test_a_sku_map_wins_over_the_catalog_and_releases_the_group(db):
    estate = mapped_estate()
    txn = sale(source=estate["source"], lines=[("POS-SKU-9", Decimal("2"), Decimal("3.00"))])
    transactions_validate()
    assert _open_types(txn) == {ExceptionType.SKU_MISMATCH}
    map_sku(source=estate["source"], sku="POS-SKU-9", product=estate["products"]["TSHIRT-BLK-M"])
    transactions_requeue(transactions=[txn])
    txn.refresh_from_db()
    assert txn.state == S.READY
    assert not _open_types(txn)
    assert txn.posted_with["lines"][str(txn.lines.get().pk)]["via"].startswith("sku_map:")


def test_missing_data_no_lines_zero_quantity_currency_and_totals(db):
    estate = mapped_estate()
    no_lines = sale(source=estate["source"], lines=[])
    zero = sale(source=estate["source"], lines=[("TSHIRT-BLK-M", Decimal("0"), Decimal("10.00"))])
    currency = sale(source=estate["source"], currency="XXQ")
    off = sale(source=estate["source"])
    PosTransaction.objects.filter(pk=off.pk).update(total=Decimal("99.00"))
    transactions_validate()
    subjects = dict(ExceptionGroup.objects.values_list("subject", "open_count"))
    assert subjects["no_lines"] == 1
    assert subjects["zero_quantity"] == 1
    assert subjects["currency:XXQ"] == 1
    assert subjects["totals"] == 1
    for txn in (no_lines, zero, currency, off):
        txn.refresh_from_db()
        assert txn.state == S.BLOCKED


def test_unmapped_tax_and_wrong_rate_are_tax_discrepancies_and_acceptance_sticks(db, finance_user):
    estate = mapped_estate()
    unmapped = sale(source=estate["source"], vat=Decimal("0.05"))
    estate["tax"].rate = Decimal("0.25")  # Fulfil's rate differs from the POS's 20 %
    estate["tax"].save()
    wrong_rate = sale(source=estate["source"])
    transactions_validate()
    assert _open_types(unmapped) == {ExceptionType.TAX_DISCREPANCY}
    assert _open_types(wrong_rate) == {ExceptionType.TAX_DISCREPANCY}
    group = ExceptionGroup.objects.get(fingerprint__contains="rates:")
    assert group.title == "POS tax (VAT 20%) differs from what Fulfil computes under the tax map"
    occurrence = group.occurrences.get()
    assert occurrence.detail == {"pos_tax": "2.00", "fulfil_tax": "2.50", "difference": "0.50"}
    # Finance accepts the variance: requeue posts it and does not raise it again.
    exception_group_resolve(group=group, actor=finance_user, resolution=ExceptionGroup.Resolution.ACCEPTED)
    assert transactions_requeue(transactions=[wrong_rate])["ready"] == 1
    group.refresh_from_db()
    assert group.status == "resolved"


def test_tax_within_tolerance_passes(db, settings):
    settings.SYNC_TAX_TOLERANCE = Decimal("0.05")
    estate = mapped_estate()
    txn = sale(source=estate["source"])
    PosTransaction.objects.filter(pk=txn.pk).update(tax_total=Decimal("2.03"), total=Decimal("12.03"))
    txn.lines.update(tax_amount=Decimal("2.03"))
    assert transactions_validate()["ready"] == 1


def _return(estate, original_pos_id, **fields):
    return sale(
        source=estate["source"],
        lines=[("TSHIRT-BLK-M", Decimal("-1"), Decimal("10.00"))],
        kind=PosTransaction.Kind.RETURN,
        original_pos_id=original_pos_id,
        **fields,
    )


def test_a_return_waits_for_its_unposted_original_then_blocks_after_the_grace_period(db, settings):
    estate = mapped_estate()
    original = sale(source=estate["source"], pos_id="S-1", state=S.READY)
    ret = _return(estate, "S-1")
    assert transactions_validate()["waiting"] == 1
    ret.refresh_from_db()
    assert ret.state == S.NORMALIZED
    assert ret.original_id == original.pk
    assert ret.next_attempt_at > timezone.now()
    # The grace period ends with the original still not in Fulfil: a person must look.
    PosTransaction.objects.filter(pk=ret.pk).update(created_at=timezone.now() - dt.timedelta(hours=3))
    settings.SYNC_RETURN_GRACE_MINUTES = 60
    transactions_validate(ids=[ret.pk])
    ret.refresh_from_db()
    assert ret.state == S.BLOCKED
    group = ExceptionGroup.objects.get(type=ExceptionType.UNLINKED_RETURN)
    assert "has not posted to Fulfil" in group.title
    # The original posts; requeue links the return to its Fulfil sale.
    PosTransaction.objects.filter(pk=original.pk).update(state=S.POSTED, fulfil_sale_id=4242)
    assert transactions_requeue(transactions=[ret])["ready"] == 1
    ret.refresh_from_db()
    assert ret.posted_with["origin_sale"] == 4242


def test_a_return_with_no_original_blocks_after_grace_unless_approved_blind(db):
    estate = mapped_estate()
    old = timezone.now() - dt.timedelta(days=1)
    ret = _return(estate, "NEVER-SEEN")
    blind = _return(estate, "", blind_return_approved=True)
    PosTransaction.objects.update(created_at=old)
    summary = transactions_validate()
    assert summary["blocked_by"] == {ExceptionType.UNLINKED_RETURN: 1}
    ret.refresh_from_db()
    blind.refresh_from_db()
    assert ret.state == S.BLOCKED
    assert blind.state == S.READY
    assert blind.posted_with["origin_sale"] is None


def test_occurrences_raised_elsewhere_keep_blocking_until_a_person_resolves_them(db, ops_user):
    from exceptions.services import exception_raise

    estate = mapped_estate()
    txn = sale(source=estate["source"], state=S.REJECTED)
    exception_raise(
        transaction_obj=txn, exc_type=ExceptionType.FULFIL_REJECTED, subject="msg", title="Fulfil said no"
    )
    assert transactions_requeue(transactions=[txn])["blocked_by"] == {ExceptionType.FULFIL_REJECTED: 1}
    group = ExceptionGroup.objects.get()
    exception_group_resolve(group=group, actor=ops_user, resolution=ExceptionGroup.Resolution.MANUAL)
    assert transactions_requeue(transactions=[txn])["ready"] == 1


def test_requeue_never_touches_posted_or_claimed_work(db):
    estate = mapped_estate()
    posted = sale(source=estate["source"], state=S.POSTED)
    posting = sale(source=estate["source"], state=S.POSTING)
    summary = transactions_requeue(queryset=PosTransaction.objects.all())
    assert summary["skipped"] == 2
    assert set(PosTransaction.objects.values_list("state", flat=True)) == {S.POSTED, S.POSTING}
    del posted, posting


def test_requeue_of_many_transactions_uses_a_bounded_number_of_queries(db, django_assert_max_num_queries):
    estate = mapped_estate()
    txns = [sale(source=estate["source"], pos_location_id="loc-leeds") for _ in range(60)]
    transactions_validate()
    map_store(source=estate["source"], pos_location_id="loc-leeds", warehouse=estate["warehouse"])
    # Independent of the number of transactions: per chunk, not per row.
    with django_assert_max_num_queries(40):
        summary = transactions_requeue(queryset=PosTransaction.objects.filter(pk__in=[t.pk for t in txns]))
    assert summary["ready"] == 60


def test_tax_inclusive_totals_add_up_whether_the_subtotal_includes_tax_or_not(db):
    estate = mapped_estate()
    gross = sale(source=estate["source"], taxes_included=True)
    # Tills that print tax-inclusive prices: line net 12.00 includes 2.00 VAT; subtotal = total.
    gross.lines.update(unit_price=Decimal("12.00"), net_amount=Decimal("12.00"))
    PosTransaction.objects.filter(pk=gross.pk).update(subtotal=Decimal("12.00"), total=Decimal("12.00"))
    net = sale(source=estate["source"], taxes_included=True)
    net.lines.update(unit_price=Decimal("12.00"), net_amount=Decimal("12.00"))  # subtotal 10.00 + 2.00
    broken = sale(source=estate["source"], taxes_included=True)
    broken.lines.update(net_amount=Decimal("12.00"))
    PosTransaction.objects.filter(pk=broken.pk).update(subtotal=Decimal("12.00"), total=Decimal("14.00"))
    summary = transactions_validate()
    assert summary["ready"] == 2
    assert summary["blocked_by"] == {ExceptionType.MISSING_DATA: 1}
    gross.refresh_from_db()
    assert gross.posted_with["lines"][str(gross.lines.get().pk)]["unit_price"] == "10.0000"
