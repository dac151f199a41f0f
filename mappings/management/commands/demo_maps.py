"""Demo only: the maps a retailer would have set up before the trading day.

Every POS store whose name is a Fulfil warehouse's name is mapped to it, every POS tax title and
rate to the Fulfil tax with that rate, every tender to the gateway of its type — except the new
store (it exists nowhere in Fulfil), which the demo's workbench then shows as unmapped. One
product is made to fail in the sandbox so a "rejected by Fulfil" group appears too.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from integration.models import LineTax, PosSource, PosTransaction, Tender
from mappings import services
from mappings.models import FulfilGateway, FulfilTax, FulfilWarehouse, LocationMap, TaxMap, TenderMap

# POS tender types → the sandbox's gateway codes.
GATEWAY_FOR_TENDER = {
    "card": "card",
    "cash": "cash",
    "gift_card": "gift_card",
    "store_credit": "store_credit",
}
REJECTED_PRODUCT = "SEAT-CHILD"  # the sandbox refuses it: a "rejected by Fulfil" group for the demo


class Command(BaseCommand):
    help = "Create the demo's location, tax and tender maps from the simulated trading day (DEBUG only)."

    @transaction.atomic
    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("demo_maps is for the demo and never runs with DEBUG off.")
        sources = PosSource.objects.in_bulk()
        warehouses = {w.name: w for w in FulfilWarehouse.objects.filter(active=True)}
        stores = PosTransaction.objects.order_by().values_list(
            "source_id", "pos_location_id", "pos_location_name"
        )
        made = {"location": 0, "tax": 0, "tender": 0}
        for source_id, location_id, name in set(stores):
            warehouse = warehouses.get(name)
            if (
                warehouse is None
                or LocationMap.objects.filter(source_id=source_id, pos_location_id=location_id).exists()
            ):
                continue
            services.location_map_create(
                source=sources[source_id],
                pos_location_id=location_id,
                pos_location_name=name,
                warehouse=warehouse,
                actor=None,
                release=False,
            )
            made["location"] += 1
        taxes = {t.rate: t for t in FulfilTax.objects.filter(active=True)}
        rows = LineTax.objects.order_by().values_list("line__transaction__source", "title", "rate").distinct()
        for source_id, title, rate in rows:
            if (
                rate in taxes
                and not TaxMap.objects.filter(source_id=source_id, pos_tax_title=title, rate=rate).exists()
            ):
                services.tax_map_create(
                    source=sources[source_id], pos_tax_title=title, rate=rate, tax=taxes[rate], actor=None
                )
                made["tax"] += 1
        gateways = {g.code: g for g in FulfilGateway.objects.filter(active=True)}
        rows = (
            Tender.objects.order_by().values_list("transaction__source", "tender_type", "gateway").distinct()
        )
        for source_id, tender_type, gateway_name in rows:
            gateway = gateways.get(GATEWAY_FOR_TENDER.get(tender_type, ""))
            pos_tender = gateway_name or tender_type
            if gateway and not TenderMap.objects.filter(source_id=source_id, pos_tender=pos_tender).exists():
                services.tender_map_create(
                    source=sources[source_id], pos_tender=pos_tender, gateway=gateway, actor=None
                )
                made["tender"] += 1
        from integration.sandbox.services import sandbox_faults_set

        sandbox_faults_set(user_error_codes=[REJECTED_PRODUCT])
        self.stdout.write(
            f"Demo maps: {made['location']} stores, {made['tax']} tax titles, {made['tender']} tenders "
            f"(the new store is left unmapped; the sandbox rejects {REJECTED_PRODUCT})."
        )
