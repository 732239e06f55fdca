"""Benchmark: the public dashboard under 50 concurrent clients.

Serves a publication folder (``ozamonitor publish``; built here from a
synthetic register when ``--publication`` is not given) with ``ozamonitor
serve --publication`` (waitress, 16 threads) in a subprocess, then 50
anonymous clients (keep-alive connections, as bench_web.py) send requests
spread over the dashboard with random selections (definition, region level,
region, period), the CSV downloads, the OZA monitor tab, a definition page
and the JSON API, and prints p50/p95/p99 latency and errors per page. The
reference measured in the same run is ``GET /healthz`` (one database round
trip): a page's p95 is also given as a multiple of it.

    python benchmarks/bench_dashboard.py --publication PUB/
    python benchmarks/bench_dashboard.py --scale 0.01 --requests 3000

Target (issue 16): every view under 300 ms p95 at national scale with 50
concurrent clients. The clients run on the same machine as the server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

KINDS = ("index", "index-gemeente", "download", "monitor", "definition", "api", "healthz")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(conn: http.client.HTTPConnection, path: str) -> int:
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
    except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
        conn.close()
        conn.request("GET", path)
        resp = conn.getresponse()
    resp.read()
    return resp.status


def _paths(pub: Path, rng: random.Random) -> dict[str, list[str]]:
    man = json.loads((pub / "manifest.json").read_text(encoding="utf-8"))
    defs = [d["name"] for d in json.loads((pub / "definitions.json").read_text("utf-8"))]
    periods = man["periods"]["stock"] + man["periods"]["flow"]
    regions = [line.split(",") for line in (pub / "regions.csv").read_text("utf-8").split(
        "\n")[1:] if line]
    gems = [r[0] for r in regions if r[1] == "gemeente"]
    swvs = [(r[0], r[1]) for r in regions if r[1].startswith("swv")]
    out: dict[str, list[str]] = {k: [] for k in KINDS}
    for _ in range(200):
        d, p = rng.choice(defs), rng.choice(periods)
        sid, kind = rng.choice(swvs)
        out["index"].append(f"/dashboard/?definition={d}&level={kind}&region={sid}&period={p}")
        out["index-gemeente"].append(
            f"/dashboard/?definition={d}&level=gemeente&region={rng.choice(gems)}&period={p}")
        view = rng.choice(["trend", "definitions", "categories", "map"])
        out["download"].append(f"/dashboard/download/{view}.csv?definition={d}&level=gemeente"
                               f"&region={rng.choice(gems)}&period={p}")
        out["definition"].append(f"/dashboard/definitions/{d}/")
        out["api"].append(f"/api/dashboard/view/map?definition={d}&level={kind}&period={p}")
    out["monitor"] = ["/dashboard/monitor/"]
    out["healthz"] = ["/healthz"]
    return out


def run(pub: Path, requests: int, clients: int, workdir: Path) -> dict[str, dict[str, float]]:
    port = _free_port()
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    cmd = [sys.executable, "-m", "ozamonitor.cli.main", "serve", "--data-dir",
           str(workdir / "data"), "--port", str(port), "--threads", "16",
           "--publication", str(pub)]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    rng = random.Random(1)
    paths = _paths(pub, rng)
    results: dict[str, list[float]] = {k: [] for k in KINDS}
    errors = dict.fromkeys(KINDS, 0)
    lock = threading.Lock()
    try:
        for _ in range(600):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                if _get(c, "/healthz") == 200:
                    break
            except OSError:
                time.sleep(0.2)
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        _get(warm, "/dashboard/")  # reads and indexes the publication once
        per_client = requests // clients
        plans = [[rng.choice(KINDS) for _ in range(per_client)] for _ in range(clients)]

        def work(plan: list[str], seed: int) -> None:
            r = random.Random(seed)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            for kind in plan:
                path = r.choice(paths[kind])
                t = time.perf_counter()
                try:
                    status = _get(conn, path)
                except (OSError, http.client.HTTPException):
                    status = 0
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    results[kind].append(ms)
                    errors[kind] += status != 200

        threads = [threading.Thread(target=work, args=(p, i)) for i, p in enumerate(plans)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(timeout=30)
    ref = statistics.quantiles(results["healthz"], n=100)[94]
    out: dict[str, dict[str, float]] = {}
    everything = [x for v in results.values() for x in v]
    for kind, vals in [*results.items(), ("all", everything)]:
        q = statistics.quantiles(vals, n=100)
        out[kind] = {"n": len(vals), "p50": q[49], "p95": q[94], "p99": q[98],
                     "errors": sum(errors.values()) if kind == "all" else errors[kind],
                     "x_healthz": q[94] / ref}
    print(f"\n{len(everything)} requests from {clients} clients in {wall:.1f} s "
          f"({len(everything) / wall:.0f} req/s); load {os.getloadavg()[0]:.1f}")
    print(f"{'page':<16}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
          f"{'p95/healthz':>13}")
    for kind, r in out.items():
        print(f"{kind:<16}{r['n']:>6}{r['p50']:>9.1f}{r['p95']:>9.1f}{r['p99']:>9.1f}"
              f"{r['errors']:>8}{r['x_healthz']:>13.1f}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--publication", type=Path, help="Publication folder to serve.")
    ap.add_argument("--scale", type=float, default=0.01,
                    help="Scale of the synthetic register when no --publication is given.")
    ap.add_argument("--from", dest="first", default="2021-2022")
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--workdir", type=Path, default=None)
    a = ap.parse_args()
    workdir = a.workdir or Path(tempfile.mkdtemp(prefix="ozm-bench-dash-"))
    workdir.mkdir(parents=True, exist_ok=True)
    pub = a.publication
    if pub is None:
        from ozamonitor.report.publication import publish
        from ozamonitor.synth import generate

        t0 = time.perf_counter()
        reg = generate(workdir / "register", scale=a.scale, seed=1)
        pub = publish(reg, workdir / "PUB", first=a.first)
        print(f"publication ready in {time.perf_counter() - t0:.0f} s", flush=True)
    run(pub, a.requests, a.clients, workdir)


if __name__ == "__main__":
    main()
