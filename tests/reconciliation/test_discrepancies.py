"""Each kind of discrepancy planted in the sandbox is found, against the right transaction."""

from decimal import Decimal

import pytest

from exceptions.models import ExceptionType
from exceptions.services import exception_raise
from integration.models import TransactionState
from integration.sandbox.services import sandbox_faults_set
from reconciliation.models import DayStatus, ReconciliationDay, VarianceItem
from reconciliation.services import reconciliation_generate
from tests.reconciliation.conftest import DAY, MANCHESTER, OXFORD, post, till

Kind = VarianceItem.Kind


def run_day(source, client, **kwargs):
    result = reconciliation_generate(source=source, business_date=DAY, client=client, **kwargs)
    return {run.pos_location_id: run for run in result.runs}, result


def items_of(run):
    return list(run.items.select_related("transaction").order_by("id"))


def test_clean_day_reports_balanced_with_fulfil_figures_read_back(shop, sandbox, fulfil_client):
    sales = [till(shop, net="10.00"), till(shop, net="25.50"), till(shop, net="-5.00", kind="return")]
    for txn in sales:
        post(fulfil_client, sandbox, txn)

    runs, result = run_day(shop, fulfil_client)

    oxford = runs[OXFORD]
    assert oxford.status == DayStatus.BALANCED
    assert items_of(oxford) == []
    assert (oxford.pos_count, oxford.fulfil_count) == (3, 3)
    assert oxford.fulfil_total == Decimal("36.60") == oxford.pos_total
    lines = {line["key"]: line for line in oxford.figures}
    assert lines["returns"]["fulfil"] == "-6.00"
    assert lines["tax_rate:0.2"]["pos"] == "6.10"
    assert runs[MANCHESTER].status == DayStatus.BALANCED  # a quiet store is balanced at zero
    assert result.api_calls >= 2  # the warehouses' page and the stray search
    assert ReconciliationDay.objects.get(pos_location_id=OXFORD).current_run == oxford


def test_sale_missing_in_fulfil_is_reported_against_its_transaction(shop, sandbox, fulfil_client):
    post(fulfil_client, sandbox, till(shop))
    missing = till(shop, net="40.00")  # the engine marked it posted, Fulfil has nothing

    runs, _ = run_day(shop, fulfil_client)

    [item] = items_of(runs[OXFORD])
    assert (item.kind, item.transaction, item.explained) == (Kind.MISSING, missing, False)
    assert item.difference == Decimal("48.00")
    assert runs[OXFORD].status == DayStatus.UNEXPLAINED
    assert runs[OXFORD].unexplained == Decimal("48.00")


def test_sale_deleted_in_fulfil_is_reported_missing(shop, sandbox, fulfil_client):
    kept, deleted = till(shop), till(shop, net="7.00")
    post(fulfil_client, sandbox, kept)
    fulfil_client.delete("sale.sale", [post(fulfil_client, sandbox, deleted)])

    runs, _ = run_day(shop, fulfil_client)

    assert [(i.kind, i.transaction) for i in items_of(runs[OXFORD])] == [(Kind.MISSING, deleted)]


def test_duplicate_sale_under_another_identifier_is_found_with_both_fulfil_ids(shop, sandbox, fulfil_client):
    txn = till(shop, net="20.00")
    first = post(fulfil_client, sandbox, txn)
    copy = post(fulfil_client, sandbox, txn, cid=f"{txn.channel_identifier}-2")  # same receipt, keyed again

    runs, _ = run_day(shop, fulfil_client)

    [item] = items_of(runs[OXFORD])
    assert (item.kind, item.transaction) == (Kind.DUPLICATE, txn)
    assert item.fulfil_sale_ids == [first, copy]
    assert item.fulfil_amount == Decimal("24.00")
    assert runs[OXFORD].fulfil_count == 2
    assert runs[OXFORD].variance == Decimal("-24.00")
    assert runs[OXFORD].status == DayStatus.UNEXPLAINED


def test_duplicate_found_by_reference_alone(shop, sandbox, fulfil_client):
    txn = till(shop, net="20.00")
    post(fulfil_client, sandbox, txn)
    post(fulfil_client, sandbox, txn, cid="manual-entry-77")  # a person re-keyed the receipt number

    runs, _ = run_day(shop, fulfil_client)

    assert [(i.kind, i.transaction) for i in items_of(runs[OXFORD])] == [(Kind.DUPLICATE, txn)]


def test_amount_edited_in_fulfil_is_reported_with_both_amounts(shop, sandbox, fulfil_client):
    txn = till(shop, net="30.00")
    sale_id = post(fulfil_client, sandbox, txn)
    [line_id] = fulfil_client.read("sale.sale", [sale_id], ["lines"])[0]["lines"]
    fulfil_client.write("sale.line", [line_id], {"unit_price": Decimal("25.00")})

    runs, _ = run_day(shop, fulfil_client)

    [item] = items_of(runs[OXFORD])
    assert (item.kind, item.transaction) == (Kind.AMOUNT, txn)
    assert (item.pos_amount, item.fulfil_amount, item.difference) == (
        Decimal("36.00"),
        Decimal("30.00"),
        Decimal("6.00"),
    )
    lines = {line["key"]: line for line in runs[OXFORD].figures}
    assert lines["net"]["variance"] == "5.00"
    assert lines["net"]["status"] == DayStatus.UNEXPLAINED


@pytest.mark.parametrize("single_store", [False, True], ids=["nightly-all-stores", "one-store-on-demand"])
def test_sale_posted_to_another_stores_warehouse_is_found(shop, sandbox, fulfil_client, single_store):
    txn = till(shop, net="15.00")
    sale_id = post(fulfil_client, sandbox, txn, warehouse="ST-MAN")
    only = {"pos_location_ids": [OXFORD]} if single_store else {}

    runs, _ = run_day(shop, fulfil_client, **only)

    [item] = items_of(runs[OXFORD])
    assert (item.kind, item.transaction) == (Kind.WRONG_WAREHOUSE, txn)
    assert item.fulfil_sale_ids == [sale_id]
    assert item.fulfil_warehouse_id == sandbox.warehouses["ST-MAN"]
    assert runs[OXFORD].fulfil_count == 0
    if not single_store:  # Manchester's report shows the sale it holds that its tills never took
        [foreign] = items_of(runs[MANCHESTER])
        assert (foreign.kind, foreign.transaction, foreign.fulfil_amount) == (
            Kind.FOREIGN,
            txn,
            Decimal("18.00"),
        )


def test_sale_posted_to_the_distribution_centre_is_found_by_identifier_prefix(shop, sandbox, fulfil_client):
    txn = till(shop, net="15.00")
    post(fulfil_client, sandbox, txn, warehouse="DC-NTH")

    runs, _ = run_day(shop, fulfil_client)

    [item] = items_of(runs[OXFORD])
    assert (item.kind, item.fulfil_warehouse_id) == (Kind.WRONG_WAREHOUSE, sandbox.warehouses["DC-NTH"])


def test_blocked_return_explains_the_variance_and_links_its_exception(shop, sandbox, fulfil_client):
    post(fulfil_client, sandbox, till(shop, net="50.00"))
    blocked = till(shop, net="-12.00", kind="return", state=TransactionState.BLOCKED, original_pos_id="999")
    occurrence = exception_raise(
        transaction_obj=blocked,
        exc_type=ExceptionType.UNLINKED_RETURN,
        subject="999",
        title="Return of an unknown sale 999",
    )

    runs, _ = run_day(shop, fulfil_client)

    oxford = runs[OXFORD]
    [item] = items_of(oxford)
    assert (item.kind, item.transaction, item.explained) == (Kind.BLOCKED, blocked, True)
    assert item.exception_group_id == occurrence.group_id
    assert oxford.status == DayStatus.EXPLAINED
    assert oxford.variance == oxford.in_flight_total == Decimal("-14.40")
    assert oxford.unexplained == 0
    lines = {line["key"]: line for line in oxford.figures}
    assert lines["returns"]["status"] == DayStatus.EXPLAINED


def test_queued_and_excluded_transactions_are_explained_not_missing(shop, sandbox, fulfil_client):
    queued = till(shop, state=TransactionState.RETRY_WAIT)
    excluded = till(shop, state=TransactionState.EXCLUDED)
    till(shop, state=TransactionState.VOIDED)  # never a sale: not in the POS column at all

    runs, _ = run_day(shop, fulfil_client)

    kinds = {(i.kind, i.transaction_id) for i in items_of(runs[OXFORD])}
    assert kinds == {(Kind.IN_FLIGHT, queued.id), (Kind.EXCLUDED, excluded.id)}
    assert runs[OXFORD].status == DayStatus.EXPLAINED
    assert runs[OXFORD].pos_count == 2


def test_fulfil_sale_with_no_till_transaction_is_unexplained(shop, sandbox, fulfil_client):
    ghost = till(shop)
    post(fulfil_client, sandbox, ghost, cid="shop-a:ghost-1", reference="ghost")
    ghost.delete()

    runs, _ = run_day(shop, fulfil_client)

    [item] = items_of(runs[OXFORD])
    assert (item.kind, item.channel_identifier, item.transaction) == (Kind.FOREIGN, "shop-a:ghost-1", None)


def test_fulfil_outage_records_a_failed_run_without_inventing_missing_sales(shop, sandbox, fulfil_client):
    till(shop)
    sandbox_faults_set(server_error_share=1)

    runs, _ = run_day(shop, fulfil_client)

    assert runs[OXFORD].status == DayStatus.FAILED
    assert "Error" in runs[OXFORD].error
    assert items_of(runs[OXFORD]) == []


def test_report_page_names_the_warehouse_a_stray_sale_went_to(shop, sandbox, fulfil_client, finance_client):
    from django.urls import reverse

    txn = till(shop, net="15.00", pos_number="R-STRAY")
    post(fulfil_client, sandbox, txn, warehouse="ST-MAN")
    run_day(shop, fulfil_client)

    day = ReconciliationDay.objects.get(pos_location_id=OXFORD)
    page = finance_client.get(reverse("reconciliation:report", args=[day.pk])).content.decode()
    assert "Posted to another store&#x27;s warehouse" in page
    assert "R-STRAY" in page
    assert "(Manchester)" in page
