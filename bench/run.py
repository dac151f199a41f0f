"""`make bench`: run every benchmark in bench/ (each in its own subprocess) and rewrite
docs/performance.md with each figure, its command, the machine, and the baselines measured in the
same run (raw PostgreSQL insert rate; the naive one-transaction-per-call poster).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<any> python -m bench.run [--quick]

Every benchmark builds its own scratch database (bench_*) on the server DATABASE_URL points at; the
database named in DATABASE_URL itself is never written. Sizes are set in SIZES (or --quick for a
smoke run); whatever was run is what the report says. A benchmark that fails is reported as failed
with its last error line, never with a number. A bench/*.py module this file does not know is still
run (`python -m bench.<name>`) and its output included verbatim.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
PLOT = ROOT / "docs" / "posting-throughput-by-workers.png"
PY = sys.executable
SOAK_START, SOAK_END = "<!-- soak:start -->", "<!-- soak:end -->"

SIZES = {
    "full": {
        "webhook_ack": ["--requests", "1500", "--concurrency", "8"],
        "scaling": [
            "--transactions",
            "600",
            "--workers",
            "1,2,4",
            "--batch-size",
            "50",
            "--naive",
            "100",
            "--events",
            "300",
        ],
        "workbench": [
            "--transactions",
            "1000000",
            "--occurrences",
            "100000",
            "--big-group",
            "10000",
            "--runs",
            "40",
        ],
        "reconciliation": ["--stores", "500", "--per-store", "200"],
        "raw_rows": 5000,
    },
    "quick": {
        "webhook_ack": ["--requests", "200", "--concurrency", "4"],
        "scaling": [
            "--transactions",
            "60",
            "--workers",
            "1,2",
            "--batch-size",
            "20",
            "--naive",
            "10",
            "--events",
            "40",
        ],
        "workbench": [
            "--transactions",
            "20000",
            "--occurrences",
            "2000",
            "--big-group",
            "500",
            "--runs",
            "10",
        ],
        "reconciliation": ["--stores", "10", "--per-store", "20"],
        "raw_rows": 500,
    },
}


def _pg():
    import dj_database_url

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("make bench needs PostgreSQL: set DATABASE_URL=postgres://user@host:port/db")
    base = dj_database_url.parse(url)
    return base["USER"], base["HOST"] or "127.0.0.1", base["PORT"] or 5432


def _scratch_url(name: str) -> str:
    user, host, port = _pg()
    return f"postgres://{user}@{host}:{port}/{name}"


def _admin_conn():
    import psycopg

    user, host, port = _pg()
    return psycopg.connect(f"host={host} port={port} user={user} dbname=postgres", autocommit=True)


def _recreate(name: str) -> None:
    with _admin_conn() as c:
        c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {name}")


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        ram = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    with _admin_conn() as c:
        pg = c.execute("SHOW server_version").fetchone()[0]
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "ram": ram,
        "postgres": pg,
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def raw_insert_rate(rows: int) -> dict:
    """The floor every figure is compared with: one-row INSERT + COMMIT per row, then COPY."""
    import psycopg

    _recreate("bench_raw")
    user, host, port = _pg()
    ddl = (
        "CREATE TABLE t (id bigserial PRIMARY KEY, source_id int, pos_id text, state text, "
        "total numeric(12,2), payload jsonb, created_at timestamptz DEFAULT now(), UNIQUE (source_id, pos_id))"
    )
    with psycopg.connect(f"host={host} port={port} user={user} dbname=bench_raw", autocommit=True) as c:
        c.execute(ddl)
        t0 = time.perf_counter()
        for i in range(rows):
            c.execute(
                "INSERT INTO t (source_id, pos_id, state, total, payload) VALUES (1, %s, 'received', %s, %s)",
                (f"r{i}", i % 997, '{"a": 1}'),
            )
        single = rows / (time.perf_counter() - t0)
        copy_rows = rows * 20
        t0 = time.perf_counter()
        with (
            c.cursor() as cur,
            cur.copy("COPY t (source_id, pos_id, state, total, payload) FROM STDIN") as cp,
        ):
            for i in range(copy_rows):
                cp.write_row((2, f"c{i}", "received", i % 997, '{"a": 1}'))
        copied = copy_rows / (time.perf_counter() - t0)
    with _admin_conn() as c:
        c.execute("DROP DATABASE IF EXISTS bench_raw WITH (FORCE)")
    return {"insert_commit_per_s": round(single), "copy_rows_per_s": round(copied), "rows": rows}


def _run(module: str, args: list[str], db: str | None, timeout: int) -> tuple[str, str | None, float]:
    """(stdout, error or None, seconds)."""
    env = {**os.environ}
    if db:
        env["DATABASE_URL"] = _scratch_url(db)
    t0 = time.perf_counter()
    try:
        done = subprocess.run(
            [PY, "-m", f"bench.{module}", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return "", f"did not finish within {timeout} s", time.perf_counter() - t0
    seconds = time.perf_counter() - t0
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return done.stdout, f"exit {done.returncode}: {last[:300]}", seconds
    return done.stdout, None, seconds


def _json_from(text: str):
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object in the output")
    chunk = text[start:]
    try:
        return json.loads(chunk)
    except ValueError:
        pass
    try:
        return ast.literal_eval(chunk.strip())
    except (ValueError, SyntaxError):
        # A printed dict holding enum members: keep its plain number fields, which are what we report.
        return {
            k: (None if v == "None" else float(v) if "." in v else int(v))
            for k, v in re.findall(r"'(\w+)': (-?[\d.]+|None)", chunk)
        }


def _cmd(module: str, args: list[str]) -> str:
    return f"`DATABASE_URL=postgres://… python -m bench.{module} {' '.join(args)}`".replace(" `", "`")


def plot(runs: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r["workers"] for r in runs]
    ys = [r["per_second"] or 0 for r in runs]
    fig, ax = plt.subplots(figsize=(5.5, 3.5), dpi=110)
    ax.plot(xs, ys, marker="o", label="measured")
    if ys and ys[0]:
        ax.plot(xs, [ys[0] * x for x in xs], linestyle="--", color="grey", label="linear from 1 worker")
    ax.set_xticks(xs)
    ax.set_xlabel("worker processes")
    ax.set_ylabel("transactions posted / s")
    ax.set_title(f"Posting throughput by worker count ({os.cpu_count()} cores)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(PLOT)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run of the machinery")
    parser.add_argument("--only", default="", help="comma-separated subset, e.g. scaling,webhook_ack")
    parser.add_argument("--timeout", type=int, default=1800, help="per benchmark, seconds")
    opts = parser.parse_args()
    sizes = SIZES["quick" if opts.quick else "full"]
    only = {x for x in opts.only.split(",") if x}
    want = lambda name: not only or name in only  # noqa: E731
    started = datetime.now(UTC)
    box = machine()
    rows: list[tuple[str, str, str, str]] = []  # figure, value, vs baseline, command
    notes: list[str] = []
    extra: list[str] = []
    raw = raw_insert_rate(sizes["raw_rows"])
    raw_cmd = "`python -m bench.run` (raw_insert_rate: psycopg, autocommit)"
    rows.append(
        (
            "PostgreSQL raw INSERT + COMMIT, one row each (baseline)",
            f"{raw['insert_commit_per_s']:,} rows/s",
            "1.00x",
            raw_cmd,
        )
    )
    rows.append(("PostgreSQL COPY (bulk ceiling)", f"{raw['copy_rows_per_s']:,} rows/s", "", raw_cmd))
    floor = raw["insert_commit_per_s"]

    def ratio(x: float | None) -> str:
        return f"{x / floor:.2f}x raw insert" if x else ""

    if want("webhook_ack"):
        args = sizes["webhook_ack"]
        _recreate("bench_webhook")
        out, err, _s = _run("webhook_ack", args, "bench_webhook", opts.timeout)
        cmd = _cmd("webhook_ack", args)
        if err:
            rows.append(("Webhook acks/s", f"FAILED ({err})", "", cmd))
        else:
            acks = float(re.search(r"webhook acks/s: ([\d.]+)", out).group(1))
            p = re.search(r"p50: ([\d.]+) ms\s+p99: ([\d.]+) ms", out)
            server = (re.search(r"server: ([^;]+)", out) or [None, "?"])[1]
            rows.append(
                (
                    f"Webhook acks/s ({server}; separate-process load generator, loopback)",
                    f"{acks:,.0f}/s",
                    ratio(acks),
                    cmd,
                )
            )
            rows.append(("Webhook ack latency p50 / p99", f"{p.group(1)} ms / {p.group(2)} ms", "", cmd))
            statuses = re.search(r"statuses: (.*)", out)
            notes.append(f"Webhook run statuses: {statuses.group(1) if statuses else '?'}.")
    if want("scaling"):
        args = sizes["scaling"]
        out, err, _s = _run("scaling", args, None, opts.timeout)
        cmd = _cmd("scaling", args)
        if err:
            rows.append(("Engine (normalize, validate, posting)", f"FAILED ({err})", "", cmd))
        else:
            data = _json_from(out)
            n = data["normalize"]
            rows.append(
                (
                    "Normalize (raw POS event → canonical transaction), 1 process",
                    f"{n['events_per_second']}/s ({n['events']} events)",
                    ratio(n["events_per_second"]),
                    cmd,
                )
            )
            v = data["validate"]
            rows.append(
                (
                    "Validate (maps, totals, returns → ready/blocked), 1 process",
                    f"{v['per_second']}/s ({v['transactions']} txns)",
                    ratio(v["per_second"]),
                    cmd,
                )
            )
            naive = data.get("naive") or {}
            for r in data["runs"]:
                vs = ratio(r["per_second"])
                if naive.get("per_second"):
                    vs += f"; {r['per_second'] / naive['per_second']:.1f}x naive"
                rows.append(
                    (
                        f"End-to-end posting, {r['workers']} worker(s), batch {r['batch_size']}",
                        f"{r['per_second']}/s ({r['posted']} txns)",
                        vs,
                        cmd,
                    )
                )
            one = data["runs"][0]
            rows.append(
                ("Fulfil calls per 1,000 transactions (batched)", f"{one['calls_per_1000']}", "", cmd)
            )
            if naive:
                rows.append(
                    (
                        "Naive poster: one transaction per batch (baseline)",
                        f"{naive['per_second']}/s ({naive['posted']} txns)",
                        ratio(naive["per_second"]),
                        cmd,
                    )
                )
                rows.append(
                    (
                        "Fulfil calls per 1,000 transactions (naive)",
                        f"{naive['calls_per_1000']}",
                        f"{naive['calls_per_1000'] / one['calls_per_1000']:.0f}x batched"
                        if one["calls_per_1000"]
                        else "",
                        cmd,
                    )
                )
            if data.get("left_unposted"):
                notes.append(f"Scaling run left {data['left_unposted']} bench transactions unposted.")
            plot(data["runs"])
            notes.append(
                "Posting runs against the project's Fulfil sandbox served in-process by each worker, so the "
                "sandbox's own CPU is on the same cores; with 2 cores, more than 2 workers only contend."
            )
    if want("workbench"):
        args = sizes["workbench"]
        out, err, _s = _run("workbench", args, None, opts.timeout)
        cmd = _cmd("workbench", args)
        if err:
            rows.append(("Workbench pages", f"FAILED ({err})", "", cmd))
        else:
            data = _json_from(out)
            for label, figures in data["pages"].items():
                rows.append(
                    (
                        f"Workbench {label}, {data['transactions']:,} txns / {data['open_occurrences']:,} open",
                        f"p95 {figures['p95_ms']} ms (p50 {figures['p50_ms']})",
                        "",
                        cmd,
                    )
                )
            req = data.get("fix_and_requeue_10k")
            if req:
                size = args[args.index("--big-group") + 1] if "--big-group" in args else "10000"
                rows.append(
                    (
                        f"Fix a store map and requeue its {int(size):,}-transaction group (median of runs)",
                        f"{req['seconds']} s (runs: {', '.join(f'{r} s' for r in req.get('runs_s', []))})",
                        "",
                        cmd,
                    )
                )
                notes.append(f"Requeue summary: {req.get('summary')}.")
    if want("reconciliation"):
        args = sizes["reconciliation"]
        _recreate("bench_reconciliation")
        subprocess.run(
            [PY, "manage.py", "migrate", "-v0"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": _scratch_url("bench_reconciliation")},
            check=True,
        )
        out, err, _s = _run("reconciliation", args, "bench_reconciliation", opts.timeout)
        cmd = _cmd("reconciliation", args)
        if err:
            rows.append(("Reconciliation day", f"FAILED ({err})", "", cmd))
        else:
            data = _json_from(out)
            rows.append(
                (
                    f"Reconciliation day: {data['stores']} stores, {data['transactions']:,} txns",
                    f"{data['reconcile_s']} s wall (our CPU {data['our_cpu_s']} s; Fulfil stand-in in its own "
                    f"process, {data['fulfil_server_s']} s serving)",
                    "",
                    cmd,
                )
            )
            rows.append(
                (
                    "Reconciliation Fulfil calls (projected at 8 req/s)",
                    f"{data['api_calls']} calls ≈ {data['projected_fulfil_s']} s",
                    "",
                    cmd,
                )
            )
    known = {"run", "webhook_ack", "scaling", "workbench", "reconciliation", "__init__"}
    for path in sorted((ROOT / "bench").glob("*.py")):
        if path.stem in known or (only and path.stem not in only):
            continue
        _recreate(f"bench_{path.stem}")
        out, err, seconds = _run(path.stem, [], f"bench_{path.stem}", opts.timeout)
        extra.append(
            f"#### bench/{path.name}\n\n`DATABASE_URL=postgres://… python -m bench.{path.stem}` ({seconds:.0f} s)\n"
        )
        extra.append(
            "```\n" + (out.strip() or "(no output)") + (f"\nFAILED: {err}" if err else "") + "\n```\n"
        )
    write(box, started, rows, notes, extra, opts.quick)
    print(DOC.read_text())
    return 0


BENCH_START, BENCH_END = "<!-- bench:start -->", "<!-- bench:end -->"


def _between(text: str, start: str, end: str) -> tuple[str, str, str] | None:
    if start in text and end in text:
        a, b = text.index(start), text.index(end) + len(end)
        return text[:a], text[a:b], text[b:]
    return None


def write(box: dict, started: datetime, rows, notes, extra, quick: bool) -> None:
    """Replace the generated block (and only it): hand-written sections other issues keep in
    docs/performance.md, and the soak block `make soak` writes, stay as they are."""
    old = DOC.read_text() if DOC.exists() else "# Performance\n"
    lines = [
        BENCH_START,
        "## `make bench`: one run",
        "",
        "Rewritten by `make bench` (`python -m bench.run`); every figure in this section comes from the",
        f"one run started {started:%Y-%m-%d %H:%M} UTC{' (--quick: smoke sizes, not representative)' if quick else ''}.",
        "",
        f"**Machine:** {box['cores']} cores, {box['cpu']}, {box['ram']} RAM; PostgreSQL {box['postgres']}; "
        f"Python {box['python']}; {box['os']}. The cores were shared with other work during the run.",
        "",
        "| Figure | Value | Against a baseline (same run) | Command |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    lines += ["", f"![Posting throughput by worker count]({PLOT.name})", ""] if PLOT.exists() else [""]
    if notes:
        lines += ["Notes:", ""] + [f"- {n}" for n in notes] + [""]
    if extra:
        lines += ["### Other benchmarks", "", *extra]
    lines.append(BENCH_END)
    block = "\n".join(lines)
    parts = _between(old, BENCH_START, BENCH_END)
    if parts:
        text = parts[0] + block + parts[2]
    else:  # first run: after the title, before whatever is there
        head, _sep, rest = old.partition("\n")
        text = f"{head}\n\n{block}\n{rest}"
    if SOAK_START not in text:
        text += (
            f"\n## Soak (`make soak`): last results\n\n{SOAK_START}\nNo soak run recorded yet.\n{SOAK_END}\n"
        )
    DOC.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
