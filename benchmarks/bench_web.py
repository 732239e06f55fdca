"""Benchmark: the web application under 50 concurrent clients, on SQLite and PostgreSQL.

Prepares the demo (``ozamonitor web init --demo``: 62 initiatives, 76
arrangements, one account per role and organisation), starts ``ozamonitor
serve`` (waitress) in a subprocess, logs 50 clients in (study team and SWV
staff, so the access filters do real work), then sends 5,000 requests spread
over the list, detail and API pages, and prints p50/p95/p99 latency and the
errors per page and in total. The reference measured in the same run is
``GET /healthz`` under the same load (one database round trip): a page's p95
is also given as a multiple of it.

    python benchmarks/bench_web.py                       # SQLite and PostgreSQL
    python benchmarks/bench_web.py --db sqlite --requests 2000
    python benchmarks/bench_web.py --workdir bench-output/web --reuse   # keep the demo data

Target (2 cores): p95 < 100 ms on every page, zero errors. The clients run in
the same machine as the server, so their own CPU use is part of the latency.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "ozamonitor.cli.main", *args], check=True,
                   stdout=subprocess.DEVNULL)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_database(name: str) -> str:
    import psycopg

    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG.rsplit("/", 1)[0] + f"/{name}"


class Client:
    """One keep-alive connection with a session cookie and an API token."""

    def __init__(self, port: int, username: str, password: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        body = self._request("GET", "/accounts/login/")[1].decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
        form = urllib.parse.urlencode({"username": username, "password": password,
                                       "csrfmiddlewaretoken": token})
        status, _ = self._request("POST", "/accounts/login/", form,
                                  {"Content-Type": "application/x-www-form-urlencoded",
                                   "Referer": f"http://127.0.0.1:{port}/accounts/login/"})
        if status != 302:
            raise RuntimeError(f"login of {username} failed ({status})")
        status, body = self._request("POST", "/api/token", json.dumps(
            {"username": username, "password": password}), {"Content-Type": "application/json"})
        self.token = json.loads(body)["token"]

    def _request(self, method: str, path: str, body: str | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(method, path, body=body, headers=h)
            resp = self.conn.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # the server closed an idle keep-alive connection: reconnect once
            self.conn.close()
            self.conn.request(method, path, body=body, headers=h)
            resp = self.conn.getresponse()
        data = resp.read()
        for k, v in resp.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return resp.status, data

    def get(self, path: str, api: bool = False) -> int:
        headers = {"Authorization": f"Bearer {self.token}"} if api else None
        return self._request("GET", path, headers=headers)[0]


def run(db: str, requests: int, clients: int, workdir: Path,
        reuse: bool = False) -> dict[str, dict[str, float]]:
    data = workdir / f"data-{db}"
    reuse = reuse and (data / "demo-accounts.csv").exists()
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
    users = [a for a in accounts if a["role"] in ("study_team", "swv_staff")]
    port = _free_port()
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    cmd = [sys.executable, "-m", "ozamonitor.cli.main", "serve", "--data-dir", str(data),
           "--port", str(port), "--threads", "16"] + (["--db", db_url] if db_url else [])
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        pool = [Client(port, u["username"], u["password"])
                for u in (users * (clients // len(users) + 1))[:clients]]
        # what each client may see decides its detail pages
        codes = {}
        for c in pool:
            _status, body = c._request("GET", "/api/arrangements",
                                       headers={"Authorization": f"Bearer {c.token}"})
            codes[id(c)] = [a["code"] for a in json.loads(body)] or ["OZA001"]
        kinds = ("list", "detail", "initiative", "api-list", "api-detail", "healthz")
        results: dict[str, list[float]] = {k: [] for k in kinds}
        errors: dict[str, int] = dict.fromkeys(kinds, 0)
        lock = threading.Lock()
        per_client = requests // clients
        rng = random.Random(1)
        plans = [[rng.choice(kinds) for _ in range(per_client)] for _ in pool]

        def work(c: Client, plan: list[str]) -> None:
            mine = codes[id(c)]
            for kind in plan:
                code = random.choice(mine)
                path, api = {
                    "list": ("/registry/arrangements/", False),
                    "detail": (f"/registry/arrangements/{code}/", False),
                    "initiative": ("/registry/initiatives/", False),
                    "api-list": ("/api/arrangements", True),
                    "api-detail": (f"/api/arrangements/{code}", True),
                    "healthz": ("/healthz", False),
                }[kind]
                t = time.perf_counter()
                try:
                    status = c.get(path, api)
                except (OSError, http.client.HTTPException):
                    status = 0
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    results[kind].append(ms)
                    if status != 200:
                        errors[kind] += 1

        threads = [threading.Thread(target=work, args=(c, p))
                   for c, p in zip(pool, plans, strict=True)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(timeout=30)
    out: dict[str, dict[str, float]] = {}
    ref = statistics.quantiles(results["healthz"], n=100)[94]
    everything = [x for v in results.values() for x in v]
    for kind, vals in [*results.items(), ("all", everything)]:
        q = statistics.quantiles(vals, n=100)
        out[kind] = {"n": len(vals), "p50": q[49], "p95": q[94], "p99": q[98],
                     "errors": sum(errors.values()) if kind == "all" else errors[kind],
                     "x_healthz": q[94] / ref}
    print(f"\n[{db}] {len(everything)} requests from {clients} clients in {wall:.1f} s "
          f"({len(everything) / wall:.0f} req/s)")
    print(f"{'page':<12}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
          f"{'p95/healthz':>13}")
    for kind, r in out.items():
        print(f"{kind:<12}{r['n']:>6}{r['p50']:>9.1f}{r['p95']:>9.1f}{r['p99']:>9.1f}"
              f"{r['errors']:>8}{r['x_healthz']:>13.2f}")
    ok = out["all"]["p95"] < 100 and out["all"]["errors"] == 0
    print(f"target p95 < 100 ms and zero errors: {'met' if ok else 'NOT met'}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--workdir", type=Path, default=None,
                    help="Keep the data folders here (default: a temporary folder).")
    ap.add_argument("--reuse", action="store_true",
                    help="Reuse the demo already in --workdir (skip `web init --demo`).")
    a = ap.parse_args()
    dbs = ("sqlite", "postgresql") if a.db == "both" else (a.db,)
    with tempfile.TemporaryDirectory(prefix="ozm-bench-web-") as tmp:
        work = a.workdir or Path(tmp)
        for db in dbs:
            run(db, a.requests, a.clients, work, reuse=a.reuse)


if __name__ == "__main__":
    main()
