from exceptions.models import ExceptionType
from exceptions.services import exception_raise
from tests.factories import PosTransactionFactory


def blocked_by_location(source, location="loc-new", n=3, name="New Street", **txn_kwargs):
    txns = [
        PosTransactionFactory(
            source=source, pos_location_id=location, pos_location_name=name, state="blocked", **txn_kwargs
        )
        for _ in range(n)
    ]
    for txn in txns:
        exception_raise(
            transaction_obj=txn,
            exc_type=ExceptionType.UNMAPPED_LOCATION,
            subject=location,
            title=f"Store '{name}' is not mapped to a Fulfil warehouse",
            context={"pos_location_id": location, "pos_location_name": name},
        )
    return txns


def blocked_by_sku(source, sku="MYSTERY-1", n=2):
    txns = [PosTransactionFactory(source=source, state="blocked") for _ in range(n)]
    for txn in txns:
        exception_raise(
            transaction_obj=txn,
            exc_type=ExceptionType.SKU_MISMATCH,
            subject=sku,
            title=f"SKU '{sku}' is not in the Fulfil catalog",
            context={"sku": sku},
        )
    return txns
