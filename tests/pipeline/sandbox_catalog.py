"""Mirror the sandbox estate into our catalog cache and maps, as the catalog sync and an admin would.

Tests use it to set up stores whose transactions can post for real through the client.
"""

from decimal import Decimal

from integration.sandbox.seed import GATEWAYS, STORES, TAXES, TEMPLATES, Estate
from mappings.models import (
    FulfilChannel,
    FulfilGateway,
    FulfilProduct,
    FulfilTax,
    FulfilWarehouse,
    LocationMap,
    TaxMap,
    TenderMap,
)

STORE_NAMES = dict(STORES)
VAT_TITLES = {
    "standard": ("VAT", Decimal("0.20")),
    "reduced": ("VAT", Decimal("0.05")),
    "zero": ("VAT", Decimal("0")),
}


def product_facts(code: str) -> tuple[Decimal, str]:
    """(list price, VAT class) of a sandbox product code."""
    for stem, _name, price, vat, _axis in TEMPLATES:
        if code == stem or code.startswith(f"{stem}-"):
            return Decimal(price), vat
    raise KeyError(code)


def cache_catalog(estate: Estate) -> None:
    for code, fid in estate.warehouses.items():
        FulfilWarehouse.objects.update_or_create(
            fulfil_id=fid, defaults={"code": code, "name": STORE_NAMES.get(code, code)}
        )
    for code, fid in estate.products.items():
        FulfilProduct.objects.update_or_create(
            fulfil_id=fid, defaults={"code": code, "name": code, "barcode": estate.barcodes.get(code, "")}
        )
    for key, name, rate in TAXES:
        FulfilTax.objects.update_or_create(fulfil_id=estate.taxes[key], defaults={"name": name, "rate": rate})
    for key, name, method in GATEWAYS:
        FulfilGateway.objects.update_or_create(
            fulfil_id=estate.gateways[key], defaults={"code": key, "name": name, "method": method}
        )
    FulfilChannel.objects.update_or_create(
        fulfil_id=estate.channel, defaults={"code": "POS", "name": "Stores POS", "source": "pos"}
    )


def map_source(*, source, estate: Estate, stores: dict[str, str], taxes=True, tenders=True) -> None:
    """`stores`: POS location id → sandbox warehouse code."""
    for location, code in stores.items():
        LocationMap.objects.get_or_create(
            source=source,
            pos_location_id=location,
            register_id="",
            effective_from=None,
            defaults={"warehouse": FulfilWarehouse.objects.get(code=code), "pos_location_name": location},
        )
    if taxes:
        for key, _name, rate in TAXES:
            TaxMap.objects.get_or_create(
                source=source,
                pos_tax_title="VAT",
                rate=rate,
                effective_from=None,
                defaults={"tax": FulfilTax.objects.get(fulfil_id=estate.taxes[key])},
            )
    if tenders:
        for key, _name, _method in GATEWAYS:
            TenderMap.objects.get_or_create(
                source=source,
                pos_tender=key,
                effective_from=None,
                defaults={"gateway": FulfilGateway.objects.get(fulfil_id=estate.gateways[key])},
            )
