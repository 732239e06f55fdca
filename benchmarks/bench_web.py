"""Benchmark: the web application under 50 concurrent clients, on SQLite and PostgreSQL.

Prepares the demo (``ozamonitor web init --demo``: 62 initiatives, 76
arrangements, one account per role and organisation), starts ``ozamonitor
serve`` in a subprocess (gunicorn, one process per core, by default; ``--server
waitress`` for the one-process fallback), logs 50 clients in (study team and
SWV staff, so the access filters do real work), then loads it with requests
spread over the list, detail and API pages and ``/healthz``:

closed loop (``--mode closed``)
    50 keep-alive clients, each sending its next request as soon as the last is
    answered, ``--requests`` in all (default 5,000): the server's capacity; the
    latency is 50 / throughput.
open loop (``--mode open``)
    Poisson arrivals at ``--rate`` requests per second (default 25: 50 users who
    each click every 2 seconds) for ``--open-seconds``, over the same 50
    connections; latency counted from each request's scheduled arrival.

Prints p50/p95/p99 latency and errors per page and in total, the CPU seconds of
server and client (the client is an asyncio loop, benchmarks/httpload.py, so it
takes as little as possible of the CPU the server needs), and each page's p95
as a multiple of ``/healthz``'s in the same run (a bare request cycle: no
session, one ``SELECT 1``).

    python benchmarks/bench_web.py                       # SQLite and PostgreSQL
    python benchmarks/bench_web.py --db sqlite --requests 2000 --mode closed
    python benchmarks/bench_web.py --workdir bench-output/web --reuse   # keep the demo data

Target (issue 12): p95 < 100 ms on every page, zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import httpload

PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "ozamonitor.cli.main", *args], check=True,
                   stdout=subprocess.DEVNULL)


def _pg_database(name: str) -> str:
    import psycopg

    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG.rsplit("/", 1)[0] + f"/{name}"


KINDS = ("list", "detail", "initiative", "api-list", "api-detail", "healthz")


async def _login(port: int, username: str, password: str) -> httpload.Conn:
    """A connection logged in to the pages (session cookie) and the API (token)."""
    conn = httpload.Conn(port)
    _status, body = await conn.request("GET", "/accounts/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = urllib.parse.urlencode({"username": username, "password": password,
                                   "csrfmiddlewaretoken": token}).encode()
    status, _ = await conn.request("POST", "/accounts/login/", form, {
        "Content-Type": "application/x-www-form-urlencoded",
        "Referer": f"http://127.0.0.1:{port}/accounts/login/"})
    if status != 302:
        raise RuntimeError(f"login of {username} failed ({status})")
    _status, body = await conn.request("POST", "/api/token", json.dumps(
        {"username": username, "password": password}).encode(),
        {"Content-Type": "application/json"})
    conn.auth = {"Authorization": f"Bearer {json.loads(body)['token']}"}
    _status, body = await conn.request("GET", "/api/arrangements", headers=conn.auth)
    conn.codes = [a["code"] for a in json.loads(body)] or ["OZA001"]
    return conn


def _path_for(rng: random.Random) -> httpload.PathFor:
    def path_for(conn: httpload.Conn, kind: str) -> tuple[str, dict[str, str]]:
        code = rng.choice(conn.codes)
        return {
            "list": ("/registry/arrangements/", {}),
            "detail": (f"/registry/arrangements/{code}/", {}),
            "initiative": ("/registry/initiatives/", {}),
            "api-list": ("/api/arrangements", conn.auth),
            "api-detail": (f"/api/arrangements/{code}", conn.auth),
            "healthz": ("/healthz", {}),
        }[kind]

    return path_for


async def _load(port: int, pid: int, users: list[dict[str, str]], a: argparse.Namespace,
                db: str) -> dict[str, dict[str, dict[str, float]]]:
    # one login per account (a password hash costs ~0.5 s of CPU); the clients of one
    # account share its session cookie and token
    logged = [await _login(port, u["username"], u["password"]) for u in users[:a.clients]]
    pool = []
    for i in range(a.clients):
        c, src = httpload.Conn(port), logged[i % len(logged)]
        c.cookies, c.auth, c.codes = dict(src.cookies), src.auth, src.codes
        pool.append(c)
    for c in logged:
        c.close()
    rng = random.Random(1)
    path_for = _path_for(rng)
    out = await httpload.run_loops(pool, KINDS, path_for, pid, a, rng, db)
    for c in pool:
        c.close()
    return out


def run(db: str, a: argparse.Namespace, workdir: Path) -> dict[str, dict[str, dict[str, float]]]:
    """Prepare the demo on ``db``, serve it, load it; return the per-page numbers."""
    data = workdir / f"data-{db}"
    reuse = a.reuse and (data / "demo-accounts.csv").exists()
    db_url = None
    if db == "postgresql":
        db_url = PG.rsplit("/", 1)[0] + "/ozm_bench" if reuse else _pg_database("ozm_bench")
    if not reuse:
        args = ["web", "init", "--data-dir", str(data), "--demo"]
        if db_url:
            args += ["--db", db_url]
        t0 = time.perf_counter()
        _cli(*args)
        print(f"[{db}] demo ready in {time.perf_counter() - t0:.0f} s", flush=True)
    accounts = list(csv.DictReader((data / "demo-accounts.csv").open()))
    users = [x for x in accounts if x["role"] in ("study_team", "swv_staff")]
    port = httpload.free_port()
    server = httpload.start_server(["--data-dir", str(data)] + (["--db", db_url] if db_url
                                                                 else []),
                                   port, a.server, a.workers, a.threads)
    try:
        out = asyncio.run(_load(port, server.pid, users, a, db))
    finally:
        httpload.stop_server(server)
    for mode, r in out.items():
        worst = max(r[k]["p95"] for k in KINDS if k in r)
        ok = worst < 100 and r["all"]["errors"] == 0
        print(f"[{db}] {mode} loop: every page p95 < 100 ms, zero errors: "
              f"{'met' if ok else 'NOT met'} (worst p95 {worst:.0f} ms)")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--requests", type=int, default=5000, help="Closed loop: requests in all.")
    ap.add_argument("--workdir", type=Path, default=None,
                    help="Keep the data folders here (default: a temporary folder).")
    ap.add_argument("--reuse", action="store_true",
                    help="Reuse the demo already in --workdir (skip `web init --demo`).")
    httpload.add_server_options(ap)
    a = ap.parse_args()
    dbs = ("sqlite", "postgresql") if a.db == "both" else (a.db,)
    with tempfile.TemporaryDirectory(prefix="ozm-bench-web-") as tmp:
        work = a.workdir or Path(tmp)
        for db in dbs:
            run(db, a, work)


if __name__ == "__main__":
    main()
