"""Soak results: each slow test records what it measured; `make soak` writes them into
docs/performance.md between the soak markers (bench/run.py keeps that section when it rewrites)."""

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
RESULTS = ROOT / "var" / "soak-results.json"
DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- soak:start -->", "<!-- soak:end -->"


def record(name: str, **figures) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[name] = {"at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), **figures}
    RESULTS.write_text(json.dumps(data, indent=1, default=str))


def write(outcome: str) -> None:
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    lines = [START, f"Last `make soak`: {outcome}.", ""]
    lines += [
        f"- **{name}** ({r.pop('at')}): " + "; ".join(f"{k} {v}" for k, v in r.items())
        for name, r in data.items()
    ]
    if not data:
        lines.append("- no soak test recorded a result (were they skipped? they need PostgreSQL)")
    lines.append(END)
    text = DOC.read_text() if DOC.exists() else "# Performance\n\n## Soak (`make soak`): last results\n\n"
    if START in text and END in text:
        text = text[: text.index(START)] + "\n".join(lines) + text[text.index(END) + len(END) :]
    else:
        text += "\n".join(lines) + "\n"
    DOC.write_text(text)


if __name__ == "__main__":
    if sys.argv[1:2] == ["reset"]:
        RESULTS.unlink(missing_ok=True)
    else:
        write(" ".join(sys.argv[1:]) or "finished")
