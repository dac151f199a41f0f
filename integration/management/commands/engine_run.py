"""Run the sync engine's lanes once from the command line (ops, benchmarks, worker-process tests).

The schedules run the same services inside qcluster; this is for running them by hand:
`manage.py engine_run --lane inventory` posts until nothing is due.
"""

import json

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the sync engine once: validate, post (inventory lane), sweep claims, tender lane."

    def add_arguments(self, parser):
        parser.add_argument(
            "--lane", choices=["validate", "inventory", "sweep", "tender", "all"], default="all"
        )
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument("--time-budget", type=float, default=None, help="Seconds for the inventory lane.")

    def handle(self, *args, lane, batch_size, time_budget, **options):
        from integration.pipeline.claims import claims_release_stale
        from integration.pipeline.post import inventory_lane_run
        from integration.pipeline.tender import tender_lane_run
        from integration.pipeline.validate import transactions_validate

        out = {}
        if lane in ("sweep", "all"):
            out["released"] = claims_release_stale()
        if lane in ("validate", "all"):
            out["validated"] = transactions_validate()
        if lane in ("inventory", "all"):
            out["posted"] = inventory_lane_run(batch_size=batch_size, time_budget=time_budget)
        if lane in ("tender", "all"):
            out["tender"] = tender_lane_run()
        self.stdout.write(json.dumps(out, default=str))
