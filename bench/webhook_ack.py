"""Webhook acknowledgement throughput and latency (issue 4).

Starts the web server (gunicorn if installed, else runserver) on loopback against DATABASE_URL,
then a load generator in a *separate process* POSTs signed Shopify orders/create webhooks with
unique event ids over N concurrent connections, and reports acks/s, p50 and p99. Each ack is the
full receive path: signature check + one INSERT of the raw event + commit (processing is queued).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tb_wt4 \
        .venv/bin/python bench/webhook_ack.py --requests 2000 --concurrency 8
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def load(url: str, secret: str, n: int, concurrency: int) -> None:
    """Runs in its own process: prints JSON {latencies_ms, seconds, statuses}."""
    import base64
    import hashlib
    import hmac
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    body = json.dumps({"id": 1, "source_name": "pos", "location_id": 1, "line_items": []}).encode()
    sig = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    client = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=concurrency))

    def one(_):
        headers = {
            "X-Shopify-Hmac-Sha256": sig,
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "Content-Type": "application/json",
        }
        t0 = time.perf_counter()
        r = client.post(url, content=body, headers=headers)
        return (time.perf_counter() - t0) * 1000, r.status_code

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, range(n)))
    seconds = time.perf_counter() - start
    statuses = {}
    for _, s in results:
        statuses[s] = statuses.get(s, 0) + 1
    print(json.dumps({"latencies": [r[0] for r in results], "seconds": seconds, "statuses": statuses}))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--_load", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._load:
        url, secret, n, c = args._load
        load(url, secret, int(n), int(c))
        return 0
    env = {**os.environ, "DEBUG": "true", "POS_PROCESS_INLINE": "false", "LOG_LEVEL": "WARNING"}
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    setup = (
        "from integration.models import PosSource;"
        "PosSource.objects.update_or_create(code='bench-shopify', defaults={'name':'Bench',"
        "'platform':'shopify',"
        "'webhook_secret':'bench-secret'})"
    )
    subprocess.run([PY, "manage.py", "shell", "-c", setup], cwd=ROOT, env=env, check=True)
    gunicorn = shutil.which("gunicorn", path=str(Path(PY).parent))
    if gunicorn:
        server_cmd = [
            gunicorn,
            "config.wsgi",
            "-b",
            f"127.0.0.1:{args.port}",
            "-w",
            str(args.workers),
            "--log-level",
            "warning",
        ]
        label = f"gunicorn, {args.workers} workers"
    else:
        server_cmd = [PY, "manage.py", "runserver", f"127.0.0.1:{args.port}", "--noreload", "--nothreading"]
        label = "runserver (single-threaded)"
    server = subprocess.Popen(
        server_cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        import httpx

        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{args.port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        url = f"http://127.0.0.1:{args.port}/webhooks/bench-shopify/"
        # warm-up, then the measured run, each in its own process
        subprocess.run(
            [PY, __file__, "--_load", url, "bench-secret", "50", str(args.concurrency)],
            capture_output=True,
            check=True,
        )
        out = subprocess.run(
            [PY, __file__, "--_load", url, "bench-secret", str(args.requests), str(args.concurrency)],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    finally:
        server.terminate()
        server.wait(10)
    result = json.loads(out)
    lat = sorted(result["latencies"])
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]  # noqa: E731
    db = env.get("DATABASE_URL", "sqlite").split("@")[-1]
    print(f"server: {label}; database: {db}; requests {args.requests}, concurrency {args.concurrency}")
    print(f"statuses: {result['statuses']}")
    print(f"webhook acks/s: {args.requests / result['seconds']:.0f}")
    print(f"p50: {statistics.median(lat):.1f} ms  p99: {p(0.99):.1f} ms  max: {lat[-1]:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
