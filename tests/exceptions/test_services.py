from decimal import Decimal

from exceptions.models import ExceptionGroup, ExceptionType
from exceptions.services import exception_raise, occurrences_close, transaction_open_blocking
from tests.factories import PosSourceFactory, PosTransactionFactory


def _raise(txn, subject="loc-new"):
    return exception_raise(
        transaction_obj=txn,
        exc_type=ExceptionType.UNMAPPED_LOCATION,
        subject=subject,
        title=f"Store '{subject}' is not mapped to a Fulfil warehouse",
    )


def test_one_group_per_root_cause_with_counters(db):
    source = PosSourceFactory()
    t1 = PosTransactionFactory(source=source, total=Decimal("12.50"))
    t2 = PosTransactionFactory(source=source, total=Decimal("-2.50"), pos_location_name="Leeds")
    _raise(t1)
    _raise(t2)
    _raise(t1)  # raising twice is idempotent
    group = ExceptionGroup.objects.get()
    assert group.open_count == 2
    assert group.money_at_risk == Decimal("15.00")
    assert group.stores == ["Leeds", "Oxford Street"]
    assert transaction_open_blocking(transaction_obj=t1)


def test_group_resolves_itself_when_its_last_occurrence_closes_and_reopens_on_recurrence(db):
    txn = PosTransactionFactory()
    _raise(txn)
    occurrences_close(transactions=[txn])
    group = ExceptionGroup.objects.get()
    assert (group.status, group.resolution, group.open_count) == ("resolved", "auto", 0)
    assert not transaction_open_blocking(transaction_obj=txn)
    _raise(PosTransactionFactory(source=txn.source))
    group.refresh_from_db()
    assert (group.status, group.open_count) == ("open", 1)
