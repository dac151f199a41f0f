"""Small builders for the engine's tests: a mapped store, catalog rows, a transaction with lines."""

from decimal import Decimal

from integration.models import PosTransaction, TransactionState
from integration.pipeline.money import money
from mappings.models import (
    FulfilChannel,
    FulfilProduct,
    FulfilTax,
    FulfilWarehouse,
    LocationMap,
    SkuMap,
    TaxMap,
)
from tests.factories import LineTaxFactory, PosSourceFactory, PosTransactionFactory, PosTransactionLineFactory


def catalog(*, warehouse_id=1001, channel_id=1, tax_id=11, products=(("TSHIRT-BLK-M", 501),)) -> dict:
    warehouse, _ = FulfilWarehouse.objects.get_or_create(
        fulfil_id=warehouse_id, defaults={"code": f"WH{warehouse_id}", "name": f"Store {warehouse_id}"}
    )
    channel, _ = FulfilChannel.objects.get_or_create(
        fulfil_id=channel_id, defaults={"code": "POS", "name": "POS", "source": "pos"}
    )
    tax, _ = FulfilTax.objects.get_or_create(
        fulfil_id=tax_id, defaults={"name": "VAT 20%", "rate": Decimal("0.2")}
    )
    made = {}
    for code, fid in products:
        made[code], _ = FulfilProduct.objects.get_or_create(
            fulfil_id=fid, defaults={"code": code, "name": code}
        )
    return {"warehouse": warehouse, "channel": channel, "tax": tax, "products": made}


def map_store(*, source, pos_location_id="loc-oxford", warehouse, channel=None) -> LocationMap:
    return LocationMap.objects.create(
        source=source, pos_location_id=pos_location_id, warehouse=warehouse, channel=channel
    )


def map_tax(*, source, tax, title="VAT", rate=Decimal("0.20")) -> TaxMap:
    return TaxMap.objects.create(source=source, pos_tax_title=title, rate=rate, tax=tax)


def map_sku(*, source, sku, product) -> SkuMap:
    return SkuMap.objects.create(source=source, pos_key=sku, product=product)


def mapped_estate(source=None, **kwargs) -> dict:
    source = source or PosSourceFactory(code="oxford-shopify")
    estate = catalog(**kwargs)
    map_store(source=source, warehouse=estate["warehouse"], channel=estate["channel"])
    map_tax(source=source, tax=estate["tax"])
    return {**estate, "source": source}


def sale(
    *,
    source,
    lines=(("TSHIRT-BLK-M", Decimal("1"), Decimal("10.00")),),
    state=TransactionState.NORMALIZED,
    vat=Decimal("0.20"),
    **fields,
) -> PosTransaction:
    """A sale (or, with negative quantities, a return) whose totals add up, VAT on every line.

    A line is (sku, quantity, unit price) or (sku, quantity, unit price, VAT rate).
    """
    lines = [(*ln[:3], ln[3] if len(ln) > 3 else vat) for ln in lines]
    subtotal = sum((qty * price for _sku, qty, price, _r in lines), Decimal("0.00"))
    taxes = [money(qty * price * rate) for _sku, qty, price, rate in lines]
    tax_total = sum(taxes, Decimal("0.00"))
    txn = PosTransactionFactory(
        source=source,
        state=state,
        subtotal=subtotal,
        tax_total=tax_total,
        total=subtotal + tax_total,
        **fields,
    )
    for index, ((sku, qty, price, rate), tax) in enumerate(zip(lines, taxes, strict=True)):
        line = PosTransactionLineFactory(
            transaction=txn,
            line_id=f"{txn.pos_id}-{index}",
            sequence=index,
            sku=sku,
            quantity=qty,
            unit_price=price,
            net_amount=(qty * price).quantize(Decimal("0.01")),
            tax_amount=tax,
        )
        if rate is not None:
            LineTaxFactory(line=line, title="VAT", rate=rate, amount=tax)
    return txn
