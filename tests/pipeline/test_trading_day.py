"""End to end on PostgreSQL with real worker processes: a trading day across 20 stores, every fault.

Clean transactions post exactly once; faulty ones stop with the right exception; stock at every
sandbox warehouse moves by exactly what its store sold and took back, and no other warehouse moves.
After the maps are fixed and the groups requeued, the blocked ones post and stock converges.
"""

import datetime as dt
import random
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from exceptions.models import ExceptionOccurrence, ExceptionType
from integration.fulfil.client import get_client
from integration.models import PosTransaction, TransactionState
from integration.pipeline.claims import claims_release_stale
from integration.pipeline.validate import returns_recheck, transactions_requeue, transactions_validate
from integration.sandbox.models import SandboxRecord
from integration.sandbox.services import sandbox_faults_reset, sandbox_faults_set
from mappings.models import FulfilProduct, FulfilTax, FulfilWarehouse, LocationMap, SkuMap, TaxMap
from tests.factories import PosSourceFactory
from tests.pipeline.builders import sale
from tests.pipeline.sandbox_catalog import VAT_TITLES, cache_catalog, map_source, product_facts
from tests.pipeline.workers import spawn

S = TransactionState
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="worker processes share a PostgreSQL database"
    ),
]
CODES = [
    "TEE-CRW-BLK-S",
    "TEE-CRW-BLK-M",
    "TEE-VNK-BLK-L",
    "HOOD-ZIP-BLK-M",
    "JUMP-MER-S",
    "CHINO-SLM-M",
    "KIDS-TEE-S",
]
LOCATIONS = [f"loc-{n:02d}" for n in range(1, 21)]


def _estate():
    from integration.sandbox.seed import _warehouse, estate_ensure
    from integration.sandbox.store import Env

    estate = estate_ensure(store_count=12, template_count=6, seed=3)
    with transaction.atomic():
        env = Env({"active_test": False})
        for n in range(13, 21):  # the seed knows 12 stores; a growing chain opened 8 more
            code = f"ST-N{n:02d}"
            estate.warehouses[code], estate.storage[code] = _warehouse(env, code, f"New store {n}", None)
    return estate


def _levels(client, estate) -> dict[tuple[int, int], Decimal]:
    products = sorted(estate.products.values())
    warehouses = sorted(estate.warehouses.values())
    raw = client.get_product_inventory(products, warehouses)
    return {
        (w, p): Decimal(str(raw[str(p)][str(w)]["quantity_on_hand"])) for p in products for w in warehouses
    }


def _item(code, qty):
    price, vat = product_facts(code)
    return (code, Decimal(qty), price, VAT_TITLES[vat][1])


def _run_workers(rounds: int = 6, workers: int = 3) -> None:
    for _ in range(rounds):
        returns_recheck()
        transactions_validate()
        procs = [spawn(batch_size=25, time_budget=30) for _ in range(workers)]
        for proc in procs:
            proc.communicate(timeout=120)
        claims_release_stale(older_than=dt.timedelta(0))
        PosTransaction.objects.filter(state=S.RETRY_WAIT).update(next_attempt_at=timezone.now())
        postable = PosTransaction.objects.filter(state__in=(S.READY, S.RETRY_WAIT, S.OUTCOME_UNKNOWN))
        waiting = PosTransaction.objects.filter(state=S.NORMALIZED, original__state=S.POSTED)
        if not postable.exists() and not waiting.exists():
            return


def _open_type(txn) -> set[str]:
    return set(
        ExceptionOccurrence.objects.filter(transaction=txn, is_open=True).values_list(
            "group__type", flat=True
        )
    )


def test_a_trading_day_across_20_stores_with_every_fault(sandbox_inprocess):
    cache.clear()
    sandbox_faults_reset(seed=17)
    rng = random.Random(2026)
    estate = _estate()
    cache_catalog(estate)
    for code in estate.warehouses:
        FulfilWarehouse.objects.filter(code=code).update(name=code)
    source = PosSourceFactory(code="uk-tills")
    store_of = dict(zip(LOCATIONS, [c for c in estate.warehouses if c != "DC-NTH"], strict=True))
    map_source(
        source=source, estate=estate, stores={loc: wh for loc, wh in store_of.items() if loc != "loc-20"}
    )
    client = get_client()
    start = _levels(client, estate)

    clean, originals = [], []
    for loc in LOCATIONS[:19]:
        for _ in range(4):
            items = [_item(rng.choice(CODES), rng.randint(1, 3)) for _ in range(rng.randint(1, 3))]
            clean.append(sale(source=source, lines=items, pos_location_id=loc, pos_location_name=loc))
        originals.append(clean[-1])
    returns = []
    for original in originals[::3]:  # some stores take goods back the same day
        line = original.lines.first()
        returns.append(
            sale(
                source=source,
                lines=[_item(line.sku, -1)],
                kind=PosTransaction.Kind.RETURN,
                original_pos_id=original.pos_id,
                pos_location_id=original.pos_location_id,
                pos_location_name=original.pos_location_name,
            )
        )
    faulty = {
        ExceptionType.UNMAPPED_LOCATION: [
            sale(source=source, lines=[_item("TEE-CRW-BLK-M", 1)], pos_location_id="loc-20") for _ in range(3)
        ],
        ExceptionType.SKU_MISMATCH: [
            sale(
                source=source,
                lines=[("MYSTERY-1", Decimal(1), Decimal("9.00"), Decimal("0.20"))],
                pos_location_id="loc-01",
            )
        ],
        ExceptionType.TAX_DISCREPANCY: [
            sale(
                source=source,
                lines=[("TEE-CRW-BLK-M", Decimal(1), Decimal("18.00"), Decimal("0.175"))],
                pos_location_id="loc-02",
            )
        ],
        ExceptionType.MISSING_DATA: [sale(source=source, lines=[], pos_location_id="loc-03")],
        ExceptionType.UNLINKED_RETURN: [
            sale(
                source=source,
                lines=[_item("TEE-CRW-BLK-M", -1)],
                kind=PosTransaction.Kind.RETURN,
                original_pos_id="NEVER-SEEN",
                pos_location_id="loc-04",
            )
        ],
        ExceptionType.FULFIL_REJECTED: [
            sale(source=source, lines=[_item("TEE-VNK-BLK-S", 1)], pos_location_id="loc-05")
        ],
        ExceptionType.DUPLICATE: [
            sale(source=source, lines=[_item("TEE-CRW-BLK-L", 1)], pos_location_id="loc-06")
        ],
    }
    PosTransaction.objects.filter(original_pos_id="NEVER-SEEN").update(
        created_at=timezone.now() - dt.timedelta(days=1)
    )
    # Someone keyed this sale into Fulfil by hand, with other figures, before the integration ran.
    twin = faulty[ExceptionType.DUPLICATE][0]
    client.create(
        "sale.sale",
        [
            {
                "party": estate.walk_ins["ST-OXF"],
                "channel": estate.channel,
                "channel_identifier": twin.channel_identifier,
                "lines": [
                    [
                        "create",
                        [
                            {
                                "product": estate.products["TEE-CRW-BLK-L"],
                                "quantity": 5,
                                "unit_price": Decimal("1.00"),
                            }
                        ],
                    ]
                ],
            }
        ],
    )
    sandbox_faults_set(
        user_error_codes=["TEE-VNK-BLK-S"],
        rate_limit_share=0.05,
        retry_after_seconds=0,
        server_error_share=0.05,
        commit_timeout_share=0.03,
    )
    _run_workers()
    sandbox_faults_set(rate_limit_share=0, server_error_share=0, commit_timeout_share=0)

    for txn in clean + returns:
        txn.refresh_from_db()
        assert txn.state == S.POSTED, (txn.pk, txn.state, txn.last_error)
    copies = Counter(
        SandboxRecord.objects.filter(model="sale.sale")
        .exclude(channel_identifier=None)
        .values_list("channel_identifier", flat=True)
    )
    assert all(copies[t.channel_identifier] == 1 for t in clean + returns)
    for exc_type, txns in faulty.items():
        for txn in txns:
            txn.refresh_from_db()
            assert txn.state in (S.BLOCKED, S.REJECTED), (exc_type, txn.state)
            assert exc_type in _open_type(txn), (exc_type, _open_type(txn))
    _assert_stock(client, estate, start)

    # Fix the maps, requeue the groups: the blocked ones post and stock converges.
    LocationMap.objects.create(
        source=source,
        pos_location_id="loc-20",
        warehouse=FulfilWarehouse.objects.get(code=store_of["loc-20"]),
    )
    SkuMap.objects.create(
        source=source, pos_key="MYSTERY-1", product=FulfilProduct.objects.get(code="TEE-CRW-BLK-S")
    )
    tax_id = client.create(
        "account.tax", [{"name": "Old VAT 17.5%", "type": "percentage", "rate": Decimal("0.175")}]
    )[0]
    TaxMap.objects.create(
        source=source,
        pos_tax_title="VAT",
        rate=Decimal("0.175"),
        tax=FulfilTax.objects.create(fulfil_id=tax_id, name="Old VAT", rate=Decimal("0.175")),
    )
    fixed = (
        faulty[ExceptionType.UNMAPPED_LOCATION]
        + faulty[ExceptionType.SKU_MISMATCH]
        + faulty[ExceptionType.TAX_DISCREPANCY]
    )
    assert transactions_requeue(transactions=fixed)["ready"] == len(fixed)
    _run_workers()
    for txn in fixed:
        txn.refresh_from_db()
        assert txn.state == S.POSTED
    _assert_stock(client, estate, start)


def _assert_stock(client, estate, start) -> None:
    expected = dict(start)
    posted = PosTransaction.objects.filter(state=S.POSTED).prefetch_related("lines")
    for txn in posted:
        for line in txn.lines.all():
            expected[(txn.fulfil_warehouse_id, line.fulfil_product_id)] -= line.quantity
    now = _levels(client, estate)
    moved = defaultdict(list)
    for key, value in now.items():
        assert value == expected[key], (key, start[key], value, expected[key])
        if value != start[key]:
            moved[key[0]].append(key[1])
    assert estate.warehouses["DC-NTH"] not in moved  # no other warehouse touched
