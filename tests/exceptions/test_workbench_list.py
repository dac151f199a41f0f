import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import AuditEntry
from exceptions.bulk import bulk_action_run, bulk_action_start
from exceptions.models import BulkAction, ExceptionGroup
from exceptions.selectors import return_candidates
from tests.exceptions.factories import blocked_by_location, blocked_by_sku
from tests.factories import PosSourceFactory, PosTransactionFactory, PosTransactionLineFactory, TenderFactory


@pytest.fixture
def groups(db):
    source = PosSourceFactory(code="shopify-uk")
    blocked_by_location(source, n=3, total=Decimal("20.00"))
    blocked_by_sku(source, n=2)
    return source


def test_list_shows_groups_sorted_by_money_at_risk_with_summary_strip(
    ops_client, groups, django_assert_max_num_queries
):
    with django_assert_max_num_queries(15):
        response = ops_client.get(reverse("exceptions:list"))
    page = response.content.decode()
    assert response.status_code == 200
    assert page.index("New Street") < page.index("MYSTERY-1")  # 60.00 at risk before 24.00
    assert "Unmapped location" in page and "SKU mismatch" in page


def test_summary_chip_filters_by_type(ops_client, groups):
    page = ops_client.get(reverse("exceptions:list"), {"type": "sku_mismatch"}).content.decode()
    assert "MYSTERY-1" in page
    assert "New Street" not in page.split("<table", 1)[1]


def test_filters_by_store_search_and_status(ops_client, groups):
    assert (
        "MYSTERY-1"
        not in ops_client.get(reverse("exceptions:list"), {"store": "New Street"}).content.decode()
    )
    assert "New Street" in ops_client.get(reverse("exceptions:list"), {"q": "not mapped"}).content.decode()
    resolved = ops_client.get(reverse("exceptions:list"), {"status": "resolved"}).content.decode()
    assert "No exception groups match" in resolved


def test_csv_export_has_every_filtered_group(ops_client, groups):
    response = ops_client.get(reverse("exceptions:list"), {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {r["type"] for r in rows} == {"unmapped_location", "sku_mismatch"}
    assert {r["blocked"] for r in rows} == {"3", "2"}


def test_assign_snooze_and_resolve_are_audited(ops_client, ops_user, groups):
    group = ExceptionGroup.objects.get(type="sku_mismatch")
    url = reverse("exceptions:status", args=[group.pk])
    ops_client.post(url, {"op": "assign", "assignee": ops_user.pk})
    ops_client.post(url, {"op": "snooze", "hours": "2", "note": "supplier asked"})
    group.refresh_from_db()
    assert group.assignee == ops_user and group.status == "snoozed"
    response = ops_client.post(url, {"op": "resolve", "note": ""})
    assert "Say why" in ops_client.get(reverse("exceptions:detail", args=[group.pk])).content.decode() or (
        response.status_code == 302
    )
    group.refresh_from_db()
    assert group.status == "snoozed"  # no note, no resolution
    ops_client.post(url, {"op": "resolve", "note": "Test SKU, never sold"})
    group.refresh_from_db()
    assert (group.status, group.resolution, group.open_count) == ("resolved", "manual", 0)
    actions = list(AuditEntry.objects.filter(object_id=str(group.pk)).values_list("action", flat=True))
    assert actions == ["exception_group.resolved", "exception_group.snoozed", "exception_group.assigned"]


def test_bulk_assign_applies_to_everything_the_filter_selects(ops_user, groups):
    job = bulk_action_start(
        groups=ExceptionGroup.objects.all(),
        action="assign",
        params={"assignee": str(ops_user.pk)},
        actor=ops_user,
    )
    job = bulk_action_run(job_id=job.pk)
    assert job.status == BulkAction.Status.DONE and job.done == job.total == 2
    assert set(ExceptionGroup.objects.values_list("assignee", flat=True)) == {ops_user.pk}


def test_bulk_resolve_needs_a_note(ops_user, groups):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        bulk_action_start(groups=ExceptionGroup.objects.all(), action="resolve", params={}, actor=ops_user)


@pytest.mark.parametrize(
    ("persona", "allowed"), [("ops", True), ("admin", True), ("finance", False), ("outsider", False)]
)
def test_only_ops_and_admin_fix_maps_from_the_workbench(persona_clients, groups, persona, allowed):
    group = ExceptionGroup.objects.get(type="unmapped_location")
    response = persona_clients[persona].post(
        reverse("exceptions:fix_location", args=[group.pk]), {"warehouse": 0}
    )
    assert (response.status_code != 403) == allowed


@pytest.mark.parametrize("persona", ["ops", "outsider"])
def test_only_finance_accepts_tax_or_blind_returns(persona_clients, groups, persona):
    group = ExceptionGroup.objects.first()
    for name in ("exceptions:fix_accept_tax", "exceptions:fix_blind_return"):
        assert persona_clients[persona].post(reverse(name, args=[group.pk]), {"note": "x"}).status_code == 403


def test_outsider_cannot_see_the_workbench(outsider_client, groups):
    assert outsider_client.get(reverse("exceptions:list")).status_code == 403
    group = ExceptionGroup.objects.first()
    assert outsider_client.get(reverse("exceptions:detail", args=[group.pk])).status_code == 403


def test_return_candidates_rank_same_store_sku_and_card_first(db):
    source = PosSourceFactory()
    ret = PosTransactionFactory(source=source, kind="return", total=Decimal("-10.00"))
    PosTransactionLineFactory(transaction=ret, sku="MUG-1", unit_price=Decimal("10.00"), quantity=-1)
    TenderFactory(transaction=ret, card_last4="4242", amount=Decimal("-10.00"))
    best = PosTransactionFactory(source=source)
    PosTransactionLineFactory(transaction=best, sku="MUG-1", unit_price=Decimal("10.00"))
    TenderFactory(transaction=best, card_last4="4242")
    other_store = PosTransactionFactory(source=source, pos_location_id="loc-leeds")
    PosTransactionLineFactory(transaction=other_store, sku="MUG-1", unit_price=Decimal("10.00"))
    unrelated = PosTransactionFactory(source=source)
    PosTransactionLineFactory(transaction=unrelated, sku="HAT-9")
    found = return_candidates(txn=ret)
    assert [c["sale"] for c in found] == [best, other_store]
    assert "same card (last four digits)" in found[0]["evidence"]
