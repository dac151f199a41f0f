"""Generate reconciliation reports by hand: `manage.py reconcile --days 3` or
`manage.py reconcile --source shop-a --date 2026-11-20 --store loc-oxford`."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from integration.models import PosSource
from reconciliation.models import ReconciliationRun
from reconciliation.services import previous_business_date, reconciliation_generate


class Command(BaseCommand):
    help = "Reconcile POS against Fulfil for business days (default: each source's previous day)."

    def add_arguments(self, parser):
        parser.add_argument("--source", help="Source code (default: every active source).")
        parser.add_argument("--date", type=dt.date.fromisoformat, help="Business date YYYY-MM-DD.")
        parser.add_argument("--days", type=int, default=1, help="Reconcile this many days back from --date.")
        parser.add_argument("--store", action="append", help="Only this POS location id (repeatable).")

    def handle(self, *args, source=None, date=None, days=1, store=None, **options):
        sources = PosSource.objects.filter(active=True)
        if source:
            sources = PosSource.objects.filter(code=source)
            if not sources:
                raise CommandError(f"No source {source!r}")
        for src in sources:
            last = date or previous_business_date(src)
            for back in range(days):
                day = last - dt.timedelta(days=back)
                result = reconciliation_generate(
                    source=src,
                    business_date=day,
                    pos_location_ids=store,
                    trigger=ReconciliationRun.Trigger.ON_DEMAND,
                )
                statuses = ", ".join(sorted({run.status for run in result.runs})) or "—"
                self.stdout.write(
                    f"{src.code} {day}: {result.stores} store(s), {result.transactions} transaction(s), "
                    f"{result.api_calls} Fulfil call(s), {result.seconds:.2f}s, statuses {statuses}"
                )
