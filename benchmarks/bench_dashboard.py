"""Benchmark: the public dashboard under 50 concurrent clients.

Serves a publication folder (``ozamonitor publish``; built here from a
synthetic register when ``--publication`` is not given) with ``ozamonitor
serve --publication`` in a subprocess (gunicorn, one process per core, by
default; ``--server waitress`` for the one-process fallback), then 50
anonymous keep-alive clients send requests spread over the dashboard with
random selections (definition, region level, region, period), the CSV
downloads, the OZA monitor tab, a definition page and the JSON API:

closed loop (``--mode closed``)
    each client sends its next request as soon as the last is answered,
    ``--requests`` in all: the server's capacity; latency = 50 / throughput.
open loop (``--mode open``)
    Poisson arrivals at ``--rate`` requests per second for ``--open-seconds``
    over the same 50 connections; latency from each scheduled arrival.

Prints p50/p95/p99 latency and errors per view, the CPU seconds of server and
client (an asyncio loop, benchmarks/httpload.py) and each view's p95 as a
multiple of ``GET /healthz``'s in the same run.

National scale: the synthetic geography has every gemeente and SWV of the
country whatever ``--scale`` (the scale sets the number of pupils and so the
counts, not the number of regions, definitions or periods the dashboard
tables hold); ``--publication`` serves any folder, e.g. one published from a
scale-1 register.

    python benchmarks/bench_dashboard.py --publication PUB/
    python benchmarks/bench_dashboard.py --scale 0.01 --requests 3000

Target (issue 16): every view under 300 ms p95 at national scale with 50
concurrent clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path

import httpload

KINDS = ("index", "index-gemeente", "download", "monitor", "definition", "api", "healthz")


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


async def _load(port: int, pid: int, paths: dict[str, list[str]], a: argparse.Namespace
                ) -> dict[str, dict[str, dict[str, float]]]:
    warm = httpload.Conn(port)
    await warm.request("GET", "/dashboard/")  # reads and indexes the publication once
    warm.close()
    rng = random.Random(2)

    def path_for(conn: httpload.Conn, kind: str) -> tuple[str, dict[str, str]]:
        return rng.choice(paths[kind]), {}

    pool = [httpload.Conn(port) for _ in range(a.clients)]
    out = await httpload.run_loops(pool, KINDS, path_for, pid, a, rng, "dashboard")
    for c in pool:
        c.close()
    return out


def run(pub: Path, a: argparse.Namespace, workdir: Path
        ) -> dict[str, dict[str, dict[str, float]]]:
    """Serve ``pub`` and load it; return the per-view numbers."""
    port = httpload.free_port()
    paths = _paths(pub, random.Random(1))
    server = httpload.start_server(["--data-dir", str(workdir / "data"), "--publication",
                                    str(pub)], port, a.server, a.workers, a.threads)
    try:
        out = asyncio.run(_load(port, server.pid, paths, a))
    finally:
        httpload.stop_server(server)
    for mode, r in out.items():
        worst = max(r[k]["p95"] for k in KINDS if k in r)
        ok = worst < 300 and r["all"]["errors"] == 0
        print(f"[dashboard] {mode} loop: every view p95 < 300 ms, zero errors: "
              f"{'met' if ok else 'NOT met'} (worst p95 {worst:.0f} ms)")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--publication", type=Path, help="Publication folder to serve.")
    ap.add_argument("--scale", type=float, default=0.01,
                    help="Scale of the synthetic register when no --publication is given.")
    ap.add_argument("--from", dest="first", default="2021-2022")
    ap.add_argument("--requests", type=int, default=3000, help="Closed loop: requests in all.")
    ap.add_argument("--workdir", type=Path, default=None)
    httpload.add_server_options(ap)
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
    run(pub, a, workdir)


if __name__ == "__main__":
    main()
