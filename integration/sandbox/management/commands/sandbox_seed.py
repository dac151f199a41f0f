"""Build the Fulfil sandbox's demo estate. Safe to run again: existing records are kept as they are."""

from django.core.management.base import BaseCommand

from integration.sandbox.seed import STORES, TEMPLATES, estate_ensure


class Command(BaseCommand):
    help = "Create the sandbox Fulfil estate: DC + UK stores, products, VAT, gateways, POS channel, stock."

    def add_arguments(self, parser):
        parser.add_argument("--stores", type=int, default=len(STORES), help="How many stores (max 12).")
        parser.add_argument("--templates", type=int, default=len(TEMPLATES), help="Product templates.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed for prices and stock.")

    def handle(self, *args, **options):
        estate = estate_ensure(
            store_count=min(options["stores"], len(STORES)),
            template_count=min(options["templates"], len(TEMPLATES)),
            seed=options["seed"],
        )
        self.stdout.write(
            f"Sandbox estate: {len(estate.warehouses)} warehouses ({len(estate.store_codes)} stores), "
            f"{len(estate.products)} products, {len(estate.taxes)} taxes, {len(estate.gateways)} gateways, "
            f"POS channel id {estate.channel}."
        )
