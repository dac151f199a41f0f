"""Demo only: map the simulated stores, their tax rates and tenders onto the sandbox's catalog.

What an admin does on the Maps pages on day one, done here so `make demo` shows sales flowing into
the sandbox at once. The simulator's newest store (Bath) is left unmapped on purpose, so the
workbench has an unmapped-location exception to fix. Idempotent.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from integration.models import LineTax, PosSource, Tender
from mappings.models import (
    FulfilGateway,
    FulfilProduct,
    FulfilTax,
    FulfilWarehouse,
    LocationMap,
    SkuMap,
    TaxMap,
    TenderMap,
)


class Command(BaseCommand):
    help = "Demo: map simulated POS stores, taxes and tenders to the sandbox catalog (not Bath)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("engine_demo_maps is for the demo and never runs with DEBUG off.")
        from integration.pos.catalog_fixture import DEMO_STORES
        from integration.possim.generator import SOURCES, store_ids

        made = 0
        for platform, (code, _name) in SOURCES.items():
            source = PosSource.objects.filter(code=code).first()
            if source is None:
                continue
            for location_id, name in store_ids(platform, len(DEMO_STORES)):
                warehouse = FulfilWarehouse.objects.filter(name=name).first()
                if warehouse:
                    _, created = LocationMap.objects.get_or_create(
                        source=source,
                        pos_location_id=location_id,
                        register_id="",
                        effective_from=None,
                        defaults={"warehouse": warehouse, "pos_location_name": name},
                    )
                    made += created
            made += _map_taxes(source) + _map_tenders(source) + _map_skus(source)
        self.stdout.write(f"demo maps: {made} created")


def _map_taxes(source: PosSource) -> int:
    made = 0
    seen = LineTax.objects.filter(line__transaction__source=source).values_list("title", "rate").distinct()
    for title, rate in seen:
        tax = FulfilTax.objects.filter(rate=rate, active=True).first()
        if tax:
            _, created = TaxMap.objects.get_or_create(
                source=source, pos_tax_title=title, rate=rate, effective_from=None, defaults={"tax": tax}
            )
            made += created
    return made


def _map_tenders(source: PosSource) -> int:
    made = 0
    for tender in (
        Tender.objects.filter(transaction__source=source).values_list("tender_type", flat=True).distinct()
    ):
        gateway = FulfilGateway.objects.filter(Q(code=tender) | Q(code="card")).order_by("-code").first()
        if gateway:
            _, created = TenderMap.objects.get_or_create(
                source=source, pos_tender=tender, effective_from=None, defaults={"gateway": gateway}
            )
            made += created
    return made


def _map_skus(source: PosSource) -> int:
    """The simulator's catalog and the sandbox's differ (as a real POS and ERP do): map the SKUs whose
    names clearly match, leave the rest as SKU exceptions for the workbench."""
    from rapidfuzz import fuzz, process

    from integration.pos.catalog_fixture import demo_products

    products = dict(FulfilProduct.objects.filter(active=True).values_list("name", "id"))
    made = 0
    for item in demo_products():
        if FulfilProduct.objects.filter(code=item["sku"]).exists():
            continue
        best = process.extractOne(item["name"], list(products), scorer=fuzz.token_set_ratio, score_cutoff=85)
        if best:
            _, created = SkuMap.objects.get_or_create(
                source=source,
                key_type=SkuMap.KeyType.SKU,
                pos_key=item["sku"],
                effective_from=None,
                defaults={"product_id": products[best[0]], "note": "demo: matched by name"},
            )
            made += created
    return made
