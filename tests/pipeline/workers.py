"""Real worker processes for the engine's tests: `manage.py engine_run` against the test database."""

import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def spawn(*, lane: str = "inventory", batch_size: int = 10, time_budget: float = 60) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "FULFIL_SANDBOX_INPROCESS": "true",
        "FULFIL_BASE_URL": "",
        "FULFIL_RATE_LIMIT_PER_SECOND": "0",
        "SYNC_BATCH_SIZE": str(batch_size),
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "engine_run", "--lane", lane, "--time-budget", str(time_budget)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
