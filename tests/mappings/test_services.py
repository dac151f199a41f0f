import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditEntry
from exceptions.models import ExceptionType
from exceptions.services import exception_raise
from integration.models import TransactionState
from mappings import services
from mappings.selectors import location_map_for, map_history, map_release_candidates
from tests.factories import PosSourceFactory, PosTransactionFactory, PosTransactionLineFactory
from tests.map_factories import FulfilProductFactory, FulfilWarehouseFactory

D = dt.date


@pytest.fixture
def source(db):
    return PosSourceFactory(code="shop-a")


def _blocked(source, *, exc_type, subject, **kwargs):
    txn = PosTransactionFactory(source=source, state=TransactionState.BLOCKED, **kwargs)
    exception_raise(transaction_obj=txn, exc_type=exc_type, subject=subject, title=f"{exc_type} {subject}")
    return txn


def test_creating_a_location_map_writes_its_history_and_is_used_by_the_lookup(source, admin_user):
    warehouse = FulfilWarehouseFactory()
    made = services.location_map_create(
        source=source, pos_location_id="loc-1", warehouse=warehouse, actor=admin_user
    )
    assert location_map_for(source=source, pos_location_id="loc-1", day=D(2026, 1, 1)) == made
    entry = map_history(map_obj=made).get()
    assert entry.action == "location_map.created"
    assert entry.actor == admin_user
    assert entry.before is None
    assert entry.after["warehouse"] == warehouse.pk
    assert made.updated_by == admin_user


def test_overlapping_dates_for_the_same_store_are_refused_with_a_clear_reason(source, admin_user):
    warehouse = FulfilWarehouseFactory()
    first = services.location_map_create(
        source=source,
        pos_location_id="loc-1",
        warehouse=warehouse,
        effective_from=D(2026, 1, 1),
        actor=admin_user,
    )
    with pytest.raises(ValidationError, match=f"overlap location map #{first.pk}"):
        services.location_map_create(
            source=source,
            pos_location_id="loc-1",
            warehouse=warehouse,
            effective_from=D(2026, 3, 1),
            actor=admin_user,
        )
    # After the first map ends, a new one may start the next day.
    services.location_map_end_date(location_map=first, effective_to=D(2026, 2, 28), actor=admin_user)
    second = services.location_map_create(
        source=source,
        pos_location_id="loc-1",
        warehouse=FulfilWarehouseFactory(),
        effective_from=D(2026, 3, 1),
        actor=admin_user,
    )
    assert location_map_for(source=source, pos_location_id="loc-1", day=D(2026, 2, 1)) == first
    assert location_map_for(source=source, pos_location_id="loc-1", day=D(2026, 3, 1)) == second
    # A different till of the same store is a different key.
    services.location_map_create(
        source=source, pos_location_id="loc-1", register_id="till-9", warehouse=warehouse, actor=admin_user
    )
    assert AuditEntry.objects.filter(action="location_map.ended").count() == 1


def test_end_date_before_start_is_refused(source, admin_user):
    with pytest.raises(ValidationError, match="before the start"):
        services.location_map_create(
            source=source,
            pos_location_id="x",
            warehouse=FulfilWarehouseFactory(),
            effective_from=D(2026, 2, 1),
            effective_to=D(2026, 1, 1),
            actor=admin_user,
        )


def test_updating_a_map_records_before_and_after(source, admin_user):
    old, new = FulfilWarehouseFactory(), FulfilWarehouseFactory()
    made = services.location_map_create(
        source=source, pos_location_id="loc-1", warehouse=old, actor=admin_user
    )
    services.location_map_update(location_map=made, warehouse=new, actor=admin_user, note="moved stock room")
    entry = map_history(map_obj=made).first()
    assert entry.action == "location_map.updated"
    assert entry.before["warehouse"] == old.pk
    assert entry.after["warehouse"] == new.pk
    assert entry.note == "moved stock room"


def test_location_map_selects_exactly_the_blocked_sales_it_can_release(source, admin_user):
    other_source = PosSourceFactory(code="shop-b")
    wanted = _blocked(
        source, exc_type=ExceptionType.UNMAPPED_LOCATION, subject="loc-1", pos_location_id="loc-1"
    )
    too_early = _blocked(
        source,
        exc_type=ExceptionType.UNMAPPED_LOCATION,
        subject="loc-1",
        pos_location_id="loc-1",
        business_date=D(2025, 12, 31),
    )
    _blocked(source, exc_type=ExceptionType.UNMAPPED_LOCATION, subject="loc-2", pos_location_id="loc-2")
    _blocked(other_source, exc_type=ExceptionType.UNMAPPED_LOCATION, subject="loc-1", pos_location_id="loc-1")
    _blocked(source, exc_type=ExceptionType.SKU_MISMATCH, subject="ABC", pos_location_id="loc-1")
    PosTransactionFactory(source=source, pos_location_id="loc-1", state=TransactionState.POSTED)

    made = services.location_map_create(
        source=source,
        pos_location_id="loc-1",
        warehouse=FulfilWarehouseFactory(),
        effective_from=D(2026, 1, 1),
        actor=admin_user,
    )
    assert list(map_release_candidates(map_obj=made)) == [wanted]
    assert too_early.pk not in {t.pk for t in map_release_candidates(map_obj=made)}


def test_register_map_releases_only_that_tills_sales(source, admin_user):
    till_1 = _blocked(
        source,
        exc_type=ExceptionType.UNMAPPED_LOCATION,
        subject="loc-1",
        pos_location_id="loc-1",
        register_id="till-1",
    )
    _blocked(
        source,
        exc_type=ExceptionType.UNMAPPED_LOCATION,
        subject="loc-1",
        pos_location_id="loc-1",
        register_id="till-2",
    )
    made = services.location_map_create(
        source=source,
        pos_location_id="loc-1",
        register_id="till-1",
        warehouse=FulfilWarehouseFactory(),
        actor=admin_user,
    )
    assert list(map_release_candidates(map_obj=made)) == [till_1]


def test_sku_map_selects_sales_blocked_on_that_sku_or_barcode(source, admin_user):
    by_sku = _blocked(source, exc_type=ExceptionType.SKU_MISMATCH, subject="ABC-1")
    PosTransactionLineFactory(transaction=by_sku, sku="ABC-1")
    by_barcode = _blocked(source, exc_type=ExceptionType.SKU_MISMATCH, subject="NOSKU")
    PosTransactionLineFactory(transaction=by_barcode, sku="NOSKU", barcode="5012345678900")
    other = _blocked(source, exc_type=ExceptionType.SKU_MISMATCH, subject="XYZ")
    PosTransactionLineFactory(transaction=other, sku="XYZ")

    sku_map = services.sku_map_create(
        source=source, key_type="sku", pos_key="ABC-1", product=FulfilProductFactory(), actor=admin_user
    )
    assert list(map_release_candidates(map_obj=sku_map)) == [by_sku]
    barcode_map = services.sku_map_create(
        source=source,
        key_type="barcode",
        pos_key="5012345678900",
        product=FulfilProductFactory(),
        actor=admin_user,
    )
    assert list(map_release_candidates(map_obj=barcode_map)) == [by_barcode]
    assert services.map_changed_release(map_obj=barcode_map, actor=admin_user) == 1


def test_sku_map_keeps_its_own_note_field_apart_from_the_audit_note(source, admin_user):
    made = services.sku_map_create(
        source=source,
        key_type="sku",
        pos_key="A",
        product=FulfilProductFactory(),
        note="seasonal",
        actor=admin_user,
    )
    services.sku_map_update(sku_map=made, note="all year", audit_note="why", actor=admin_user)
    made.refresh_from_db()
    assert made.note == "all year"
    assert map_history(map_obj=made).first().note == "why"


def test_a_new_location_map_releases_exactly_the_sales_it_unblocks_through_the_real_engine(
    admin_user, django_capture_on_commit_callbacks
):
    from integration.pipeline.validate import transactions_validate
    from tests.pipeline.builders import catalog, map_tax, sale

    estate = catalog()
    source = PosSourceFactory(code="release-shop")
    map_tax(source=source, tax=estate["tax"])
    wanted = sale(source=source, pos_location_id="loc-7")
    other_store = sale(source=source, pos_location_id="loc-8")
    transactions_validate(ids=[wanted.pk, other_store.pk])
    wanted.refresh_from_db()
    other_store.refresh_from_db()
    assert (wanted.state, other_store.state) == (TransactionState.BLOCKED, TransactionState.BLOCKED)

    with django_capture_on_commit_callbacks(execute=True):
        services.location_map_create(
            source=source, pos_location_id="loc-7", warehouse=estate["warehouse"], actor=admin_user
        )
    wanted.refresh_from_db()
    other_store.refresh_from_db()
    assert wanted.state == TransactionState.READY
    assert other_store.state == TransactionState.BLOCKED
