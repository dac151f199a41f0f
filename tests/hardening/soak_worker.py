"""A sync worker for the soak tests: what a django-q worker does with the inventory lane, in a loop.

    python -m tests.hardening.soak_worker <database url> <batch size> <idle rounds> [rate/s]

Like django-q it closes unusable connections before each run and survives a failed run (a database
restart, a network blip): the next round simply starts again. Prints one JSON line when idle.
"""

import json
import os
import sys
import time


def main() -> int:
    url, batch, idle_rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rate = sys.argv[4] if len(sys.argv) > 4 else "0"
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings",
        FULFIL_SANDBOX_INPROCESS="true",
        FULFIL_BASE_URL="",
        FULFIL_RATE_LIMIT_PER_SECOND=rate,
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.db import close_old_connections, connection
    from django.db.utils import DatabaseError, InterfaceError, OperationalError

    from bench.scaling import counting_client
    from integration.pipeline.post import inventory_lane_run

    client, counter = counting_client(rate_limit_per_second=float(rate))
    started, posted, errors, idle = time.time(), 0, 0, 0
    while idle < idle_rounds:
        close_old_connections()
        try:
            out = inventory_lane_run(client=client, batch_size=batch, time_budget=5)
        except (OperationalError, InterfaceError, DatabaseError) as exc:
            errors += 1
            print(f"round failed: {type(exc).__name__}: {str(exc)[:120]}", file=sys.stderr)
            connection.close()
            time.sleep(0.5)
            continue
        posted += out.get("posted", 0)
        idle = idle + 1 if not out.get("batches") else 0
        if idle:
            time.sleep(0.3)
    print(
        json.dumps(
            {
                "started": started,
                "ended": time.time(),
                "posted": posted,
                "calls": counter.calls,
                "failed_rounds": errors,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
