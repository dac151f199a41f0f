"""Generate a trading day for N stores across Shopify POS, Square and X-Series and deliver its
signed webhooks — over HTTP to a running server (`--url`), or in-process through Django's test
client (`--in-process`, used by `make demo`, which seeds before the web server starts).
"""

import random
import time

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand
from django.test import Client, override_settings

from integration.possim.generator import FAULTS, generate_day


class Command(BaseCommand):
    help = "Simulate a POS trading day and send its webhooks."

    def add_arguments(self, parser):
        parser.add_argument("--stores", type=int, default=12)
        parser.add_argument("--sales-per-store", type=int, default=6)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--url", default=settings.SITE_URL, help="Server that receives webhooks.")
        parser.add_argument("--rate", type=float, default=20.0, help="Deliveries per second (0 = flat out).")
        parser.add_argument(
            "--faults", default=",".join(FAULTS), help=f"Comma list from: {', '.join(FAULTS)}; '' for none."
        )
        parser.add_argument("--in-process", action="store_true", help="Deliver through Django's test client.")

    def handle(self, *args, **opts):
        faults = tuple(f for f in opts["faults"].split(",") if f)
        unknown = set(faults) - set(FAULTS)
        if unknown:
            self.stderr.write(f"Unknown faults: {', '.join(sorted(unknown))}")
            return
        base = opts["url"]  # also in-process: the sources must point at the real server afterwards
        day = generate_day(
            stores=opts["stores"],
            sales_per_store=opts["sales_per_store"],
            seed=opts["seed"],
            faults=faults,
            base_url=base,
        )
        statuses: dict[int, int] = {}
        if opts["in_process"]:
            # No worker may be running yet: process right after each webhook commits, and let the
            # POS API client reach the simulator in-process.
            with override_settings(POS_PROCESS_INLINE=True, POS_SIMULATOR_INPROCESS=True):
                client = Client()
                for d in day.deliveries:
                    headers = {k: v for k, v in d.headers.items() if k.lower() != "content-type"}
                    r = client.post(
                        f"/webhooks/{d.source_code}/",
                        data=d.body,
                        content_type=d.content_type,
                        headers=headers,
                    )
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        else:
            interval = 1 / opts["rate"] if opts["rate"] > 0 else 0
            rng = random.Random(opts["seed"])
            with httpx.Client(base_url=opts["url"], timeout=10) as http:
                for d in day.deliveries:
                    r = http.post(
                        f"/webhooks/{d.source_code}/",
                        content=d.body,
                        headers={**d.headers, "Content-Type": d.content_type},
                    )
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    if interval:
                        time.sleep(interval * rng.uniform(0.5, 1.5))
        self.stdout.write(
            f"Sent {len(day.deliveries)} webhooks: "
            + ", ".join(f"{n}× HTTP {code}" for code, n in sorted(statuses.items()))
            + f". Held back for polling only: {', '.join(day.suppressed) or 'none'}."
        )
