"""Map look-ups for one validation run, memoised per distinct key.

A trading day has thousands of transactions but only tens of stores, hundreds of SKUs and a handful
of tax rates, so each distinct (store, day) or (SKU, day) costs one selector call per run instead of
one per line. The selectors in mappings/selectors.py stay the single source of the effective-dating
rules.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from integration.models import PosSource, PosTransaction, PosTransactionLine
from mappings.models import FulfilChannel, FulfilProduct, LocationMap, TaxMap
from mappings.selectors import catalog_product_exact, location_map_for, sku_map_for, tax_map_for


@dataclass(frozen=True)
class ProductResolution:
    product: FulfilProduct | None
    via: str  # "sku_map:<id>", "catalog", "custom_fallback" or "" when unresolved
    subject: str  # the POS key a person would recognise: the SKU, barcode or "custom sale"


class MapResolver:
    def __init__(self) -> None:
        self._locations: dict[tuple, LocationMap | None] = {}
        self._products: dict[tuple, ProductResolution] = {}
        self._taxes: dict[tuple, TaxMap | None] = {}
        self._default_channel: FulfilChannel | bool | None = False

    def location(self, txn: PosTransaction) -> LocationMap | None:
        key = (txn.source_id, txn.pos_location_id, txn.register_id, txn.business_date)
        if key not in self._locations:
            self._locations[key] = location_map_for(
                source=txn.source,
                pos_location_id=txn.pos_location_id,
                register_id=txn.register_id,
                day=txn.business_date,
            )
        return self._locations[key]

    def default_channel(self) -> FulfilChannel | None:
        """The POS channel from the catalog cache, used when a location map names none."""
        if self._default_channel is False:
            self._default_channel = (
                FulfilChannel.objects.filter(code=settings.FULFIL_CHANNEL_CODE, active=True).first()
                or FulfilChannel.objects.filter(source="pos", active=True).order_by("fulfil_id").first()
            )
        return self._default_channel

    def product(self, *, source: PosSource, line: PosTransactionLine, day: dt.date) -> ProductResolution:
        if line.is_custom and not line.sku:
            return self._custom_product()
        key = (source.pk, line.sku, line.variant_ref, line.barcode, day)
        if key not in self._products:
            self._products[key] = self._resolve_product(source=source, line=line, day=day)
        return self._products[key]

    def _resolve_product(self, *, source, line, day) -> ProductResolution:
        subject = line.sku or line.barcode or line.variant_ref or "(no SKU)"
        mapped = sku_map_for(
            source=source, sku=line.sku, variant_ref=line.variant_ref, barcode=line.barcode, day=day
        )
        if mapped:
            return ProductResolution(mapped.product, f"sku_map:{mapped.pk}", subject)
        exact = catalog_product_exact(sku=line.sku, barcode=line.barcode)
        if exact:
            return ProductResolution(exact, "catalog", subject)
        return ProductResolution(None, "", subject)

    def _custom_product(self) -> ProductResolution:
        key = ("custom",)
        if key not in self._products:
            code = settings.SYNC_CUSTOM_SALE_PRODUCT_CODE
            product = catalog_product_exact(sku=code) if code else None
            self._products[key] = ProductResolution(
                product, "custom_fallback" if product else "", "custom sale"
            )
        return self._products[key]

    def tax(self, *, source: PosSource, title: str, rate: Decimal, day: dt.date) -> TaxMap | None:
        key = (source.pk, title, rate, day)
        if key not in self._taxes:
            self._taxes[key] = tax_map_for(source=source, title=title, rate=rate, day=day)
        return self._taxes[key]
