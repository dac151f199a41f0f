"""Fetch Fulfil's catalog into the local cache now (the schedule does this every few minutes)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mappings.catalog_sync import CATALOG
from mappings.services import catalog_sync


class Command(BaseCommand):
    help = "Sync warehouses, products, taxes, channels and gateways from Fulfil into the local cache."

    def add_arguments(self, parser):
        parser.add_argument(
            "--model", action="append", choices=sorted(CATALOG), help="Only this part (repeatable)."
        )
        parser.add_argument(
            "--inprocess",
            action="store_true",
            help="Use the built-in sandbox in-process (no web server); ignored with a real Fulfil.",
        )

    def handle(self, *args, **options):
        client = None
        if options["inprocess"] and not settings.FULFIL_BASE_URL:
            from integration.fulfil.client import get_client
            from integration.fulfil.transport import SandboxWSGITransport

            client = get_client(base_url=SandboxWSGITransport.BASE_URL, transport=SandboxWSGITransport())
        runs = catalog_sync(client=client, models=options["model"])
        failed = [run for run in runs if run.error]
        for run in runs:
            outcome = f"FAILED: {run.error}" if run.error else f"{run.fetched} fetched, {run.created} new, "
            if not run.error:
                outcome += f"{run.updated} changed, {run.deactivated} deactivated"
            self.stdout.write(f"{run.model}: {outcome}")
        if failed:
            raise CommandError(f"{len(failed)} part(s) of the catalog failed to sync")
