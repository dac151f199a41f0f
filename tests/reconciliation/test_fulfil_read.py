"""Reading Fulfil on threads: the same rows and the same report as one serial read, and a failure on
any thread still fails the run. Over a loopback socket to the sandbox (the in-process transport
answers on the caller's own connection and is always read serially)."""

from decimal import Decimal

import pytest

from integration.fulfil.client import get_client
from integration.sandbox.services import sandbox_faults_set
from mappings.models import FulfilWarehouse, LocationMap
from reconciliation.fulfil_side import FulfilReader
from reconciliation.models import DayStatus, VarianceItem
from reconciliation.services import reconciliation_generate
from tests.factories import PosSourceFactory
from tests.reconciliation.conftest import DAY, MANCHESTER, OXFORD, post, till

Kind = VarianceItem.Kind


@pytest.fixture
def live_shop(live_sandbox):
    source = PosSourceFactory(code="shop-a", name="Shop A", region="North")
    for store, code, name in ((OXFORD, "ST-OXF", "Oxford Street"), (MANCHESTER, "ST-MAN", "Manchester")):
        warehouse = FulfilWarehouse.objects.create(
            fulfil_id=live_sandbox.warehouses[code], code=code, name=name
        )
        LocationMap.objects.create(
            source=source, pos_location_id=store, pos_location_name=name, warehouse=warehouse
        )
    return source


@pytest.fixture
def client(live_sandbox):
    client = get_client(read_timeout=10.0)
    yield client
    client.close()


def _day_with_every_fault(shop, estate, client):
    """Balanced sales at both stores, plus a missing sale, a duplicate, an edited amount and a sale
    posted to the other store's warehouse."""
    for n in range(5):
        post(client, estate, till(shop, store=OXFORD if n % 2 else MANCHESTER, net=f"{10 + n}.00"))
    faults = {
        "missing": till(shop, net="40.00"),
        "duplicate": till(shop, net="20.00"),
        "amount": till(shop, net="30.00"),
        "wrong_warehouse": till(shop, net="15.00"),
    }
    post(client, estate, faults["duplicate"])
    post(client, estate, faults["duplicate"], cid=f"{faults['duplicate'].channel_identifier}-2")
    sale_id = post(client, estate, faults["amount"])
    [line_id] = client.read("sale.sale", [sale_id], ["lines"])[0]["lines"]
    client.write("sale.line", [line_id], {"unit_price": Decimal("25.00")})
    post(client, estate, faults["wrong_warehouse"], warehouse="ST-MAN")
    return faults


def _report(result):
    return {
        run.pos_location_id: (
            run.status,
            run.figures,
            run.tenders,
            sorted(
                (i.kind, i.transaction_id, tuple(i.fulfil_sale_ids), i.difference) for i in run.items.all()
            ),
        )
        for run in result.runs
    }


def test_sharded_threads_read_exactly_the_rows_of_one_serial_read(live_shop, live_sandbox, client):
    for n in range(7):
        post(client, live_sandbox, till(live_shop, store=OXFORD if n % 2 else MANCHESTER, net=f"{n + 1}.00"))
    warehouses = [live_sandbox.warehouses[code] for code in ("ST-OXF", "ST-MAN", "DC-NTH")]

    def read(concurrency):
        reader = FulfilReader(client, page_size=2, concurrency=concurrency)
        parts = reader.start(reader.warehouse_jobs(warehouses, DAY)).results()
        return sorted((row for part in parts for row in part), key=lambda row: row["id"]), reader.calls

    serial, serial_calls = read(1)
    threaded, threaded_calls = read(3)

    assert len(serial) == 7
    assert threaded == serial
    assert serial_calls == 4  # pages of 2: 2 + 2 + 2 + 1
    assert threaded_calls >= serial_calls  # each shard ends on its own short page


def test_a_day_read_on_threads_reports_what_a_serial_read_does_planted_faults_included(
    live_shop, live_sandbox, client, settings
):
    faults = _day_with_every_fault(live_shop, live_sandbox, client)

    settings.RECONCILIATION_FULFIL_CONCURRENCY = 1
    serial = reconciliation_generate(source=live_shop, business_date=DAY, client=client)
    settings.RECONCILIATION_FULFIL_CONCURRENCY = 4
    threaded = reconciliation_generate(source=live_shop, business_date=DAY, client=client)

    assert _report(threaded) == _report(serial)
    found = {(item.kind, item.transaction_id) for run in threaded.runs for item in run.items.all()}
    assert {
        (Kind.MISSING, faults["missing"].id),
        (Kind.DUPLICATE, faults["duplicate"].id),
        (Kind.AMOUNT, faults["amount"].id),
        (Kind.WRONG_WAREHOUSE, faults["wrong_warehouse"].id),
        (Kind.FOREIGN, faults["wrong_warehouse"].id),
    } <= found
    assert {run.pos_location_id: run.status for run in threaded.runs}[OXFORD] == DayStatus.UNEXPLAINED


def test_a_failing_page_on_any_thread_fails_the_run_visibly(live_shop, live_sandbox, settings):
    till(live_shop)
    settings.RECONCILIATION_FULFIL_CONCURRENCY = 4
    sandbox_faults_set(server_error_share=1)

    with get_client(read_timeout=10.0, max_read_retries=0) as client:  # no waiting out the retries
        result = reconciliation_generate(source=live_shop, business_date=DAY, client=client)

    assert {run.status for run in result.runs} == {DayStatus.FAILED}
    assert all("Error" in run.error for run in result.runs)
    assert not VarianceItem.objects.filter(run__in=result.runs).exists()
