"""`make bench`: runs every benchmark in bench/ and rewrites docs/performance.md.

Benchmarks register in BENCHMARKS; each returns rows of (figure, value, command). Needs PostgreSQL
(DATABASE_URL); the figures are only meaningful there.
"""

import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS: list[str] = []


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> int:
    if not BENCHMARKS:
        print("No benchmarks registered yet.")
        return 0
    out = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
    lines = [f"# Performance\n\nMeasured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}.\n"]
    out.write_text("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
