"""The tills' side of a day as the comparison reads it: signatures, whatever the ids hold."""

from decimal import Decimal

import pytest

from integration.models import PosTransaction, TransactionState
from reconciliation import pos_side
from tests.reconciliation.conftest import DAY, MANCHESTER, OXFORD, till

pytestmark = pytest.mark.django_db


def _signatures(source):
    """As money: PostgreSQL prints 12.00 where SQLite prints 12 (the comparison allows for both)."""
    txns = PosTransaction.objects.filter(pos_side._of_day(source, DAY, None))
    signatures = pos_side._signatures(txns, f"{source.code}:")
    return {cid: _money(signature) for cid, signature in signatures.items()}


def _money(signature: str) -> tuple:
    store, *amounts = signature.rsplit("|", 3)
    return (store, *(Decimal(amount) for amount in amounts))


def test_every_transaction_of_the_day_has_its_signature_and_nothing_else_does(shop):
    a = till(shop, net="10.00")
    b = till(shop, store=MANCHESTER, net="-4.50", kind="return")
    till(shop, net="3.00", state=TransactionState.VOIDED)  # never happened
    till(shop, net="5.00", day=DAY.replace(day=21))  # another day

    assert _signatures(shop) == {
        f"shop-a:{a.pos_id}": _money(f"{OXFORD}|12.00|10.00|2.00"),
        f"shop-a:{b.pos_id}": _money(f"{MANCHESTER}|-5.40|-4.50|-0.90"),
    }


def test_an_id_holding_a_line_break_still_gets_its_own_signature(shop):
    plain = till(shop, net="1.00")
    till(shop, net="2.00", pos_id="R-7\n2")  # one text per column would shift every line after it

    assert _signatures(shop) == {
        f"shop-a:{plain.pos_id}": _money(f"{OXFORD}|1.20|1.00|0.20"),
        "shop-a:R-7\n2": _money(f"{OXFORD}|2.40|2.00|0.40"),
    }


def test_a_day_without_transactions_has_no_signatures(shop):
    assert _signatures(shop) == {}
