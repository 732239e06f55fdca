"""A light load generator for bench_web.py and bench_dashboard.py: asyncio, HTTP/1.1 keep-alive.

Why by hand: the load generator shares the machine's two cores with the server,
so every millisecond of client CPU is taken from the server, and the client's own
CPU must be reported beside the server's. One event loop, one socket per client,
raw request bytes, responses read by ``Content-Length`` (or chunked): about
0.15 ms of CPU per request under saturation, no thread per client competing with
the server's threads, and the open loop (which a thread per client cannot do
without a thread per in-flight request) comes for free. It speaks only what the
two benchmarks need (GET/POST, cookies, keep-alive) and nothing else.

Two ways to load the server:

closed loop
    ``clients`` connections, each sending its next request as soon as the last one
    is answered (no think time): the server is always saturated, throughput is
    its capacity, and latency = clients / throughput (Little's law).
open loop
    requests arrive at a fixed mean ``rate`` (Poisson arrivals, seeded) whether or
    not earlier ones are answered, sent over up to ``clients`` keep-alive
    connections; latency is measured from the *scheduled* arrival, so waiting
    for a free connection counts (no coordinated omission).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import psutil


class Conn:
    """One keep-alive HTTP/1.1 connection with its own cookie jar."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.cookies: dict[str, str] = {}
        self.headers: dict[str, str] = {}
        #: what a benchmark keeps per client (API headers, visible codes, ...)
        self.auth: dict[str, str] = {}
        self.codes: list[str] = []

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """Send one request; reconnect once when the server closed an idle connection."""
        for attempt in (0, 1):
            if self.writer is None:
                await self._open()
            try:
                return await self._exchange(method, path, body, headers or {})
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt:
                    raise
        raise ConnectionError("unreachable")

    async def _exchange(self, method: str, path: str, body: bytes,
                        headers: dict[str, str]) -> tuple[int, bytes]:
        h = {"Host": f"{self.host}:{self.port}", **self.headers, **headers}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body or method == "POST":
            h["Content-Length"] = str(len(body))
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items())
        self.writer.write(head.encode("latin-1") + b"\r\n" + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, chunked, close = None, False, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and value.lower() == "close":
                close = True
            elif name == "set-cookie":
                k, _, rest = value.partition("=")
                self.cookies[k.strip()] = rest.split(";", 1)[0]
        if chunked:
            data = await self._chunks()
        elif length is not None:
            data = await self.reader.readexactly(length)
        else:
            data, close = await self.reader.read(), True
        if close:
            self.close()
        return status, data

    async def _chunks(self) -> bytes:
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


@dataclass
class Result:
    """Latencies (ms) and errors per kind of request, with the CPU both sides used."""

    ms: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    wall: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0

    def add(self, kind: str, ms: float, ok: bool) -> None:
        self.ms.setdefault(kind, []).append(ms)
        self.errors[kind] = self.errors.get(kind, 0) + (not ok)


#: ``path_for(conn, kind) -> (path, extra headers)``: what a request of ``kind`` asks for
PathFor = Callable[[Conn, str], tuple[str, dict[str, str]]]


async def _send(conn: Conn, kind: str, path_for: PathFor, res: Result, t0: float) -> None:
    path, headers = path_for(conn, kind)
    try:
        status, _ = await conn.request("GET", path, headers=headers)
    except (OSError, asyncio.IncompleteReadError, ValueError):
        status = 0
    res.add(kind, (time.perf_counter() - t0) * 1000, status == 200)


async def closed_loop(conns: list[Conn], plans: list[list[str]], path_for: PathFor,
                      res: Result) -> None:
    """Each connection sends its plan (a list of kinds) back to back, no think time."""

    async def one(conn: Conn, plan: list[str]) -> None:
        for kind in plan:
            await _send(conn, kind, path_for, res, time.perf_counter())

    await asyncio.gather(*(one(c, p) for c, p in zip(conns, plans, strict=True)))


async def open_loop(conns: list[Conn], kinds: list[str], rate: float, path_for: PathFor,
                    res: Result, seed: int = 1) -> None:
    """Poisson arrivals at ``rate`` per second; each takes a free connection (waits if none)."""
    free: asyncio.Queue[Conn] = asyncio.Queue()
    rng = random.Random(seed)
    for c in rng.sample(conns, len(conns)):
        free.put_nowait(c)

    async def one(kind: str, due: float) -> None:
        conn = await free.get()
        try:
            await _send(conn, kind, path_for, res, due)  # latency from the scheduled arrival
        finally:
            free.put_nowait(conn)

    tasks = []
    due = time.perf_counter()
    for kind in kinds:
        due += rng.expovariate(rate)
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(kind, due)))
    await asyncio.gather(*tasks)


def _cpu(proc: psutil.Process) -> float:
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


async def measure(run: Callable[[Result], Awaitable[None]], server_pid: int) -> Result:
    """Await ``run(result)``; record wall time and both sides' CPU seconds."""
    res = Result()
    server = psutil.Process(server_pid)
    s0, c0 = _cpu(server), resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    await run(res)
    res.wall = time.perf_counter() - t0
    c1 = resource.getrusage(resource.RUSAGE_SELF)
    res.client_cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
    res.server_cpu = _cpu(server) - s0
    return res


def report(title: str, res: Result, reference: str = "healthz") -> dict[str, dict[str, float]]:
    """Print p50/p95/p99, errors and p95 as a multiple of the reference's; return them."""
    everything = [x for v in res.ms.values() for x in v]
    ref = statistics.quantiles(res.ms[reference], n=100)[94]
    out: dict[str, dict[str, float]] = {}
    for kind, vals in [*res.ms.items(), ("all", everything)]:
        q = statistics.quantiles(vals, n=100) if len(vals) > 1 else [vals[0]] * 99
        out[kind] = {"n": len(vals), "p50": q[49], "p95": q[94], "p99": q[98],
                     "errors": sum(res.errors.values()) if kind == "all" else res.errors[kind],
                     "x_healthz": q[94] / ref}
    n = len(everything)
    print(f"\n{title}: {n} requests in {res.wall:.1f} s ({n / res.wall:.0f} req/s); "
          f"CPU seconds: server {res.server_cpu:.1f} ({res.server_cpu / n * 1000:.1f} ms/req), "
          f"client {res.client_cpu:.1f} ({res.client_cpu / n * 1000:.2f} ms/req); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'page':<16}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
          f"{'p95/' + reference:>13}")
    for kind, r in out.items():
        print(f"{kind:<16}{r['n']:>6}{r['p50']:>9.1f}{r['p95']:>9.1f}{r['p99']:>9.1f}"
              f"{r['errors']:>8}{r['x_healthz']:>13.2f}")
    out["_run"] = {"rps": n / res.wall, "server_cpu_ms": res.server_cpu / n * 1000,
                   "client_cpu_ms": res.client_cpu / n * 1000}
    return out


async def run_loops(pool: list[Conn], kinds: Sequence[str], path_for: PathFor, pid: int,
                    a: argparse.Namespace, rng: random.Random, label: str
                    ) -> dict[str, dict[str, dict[str, float]]]:
    """The closed and/or open loop of ``a.mode`` over ``pool`` (random ``kinds``), reported."""
    out = {}
    if a.mode in ("closed", "both"):
        per = a.requests // a.clients
        plans = [[rng.choice(kinds) for _ in range(per)] for _ in pool]
        res = await measure(lambda r: closed_loop(pool, plans, path_for, r), pid)
        out["closed"] = report(f"[{label}] closed loop, {a.clients} clients", res)
    if a.mode in ("open", "both"):
        arrivals = [rng.choice(kinds) for _ in range(int(a.rate * a.open_seconds))]
        res = await measure(lambda r: open_loop(pool, arrivals, a.rate, path_for, r), pid)
        out["open"] = report(
            f"[{label}] open loop, {a.rate:g} req/s arriving over {a.clients} connections", res)
    return out


def free_port() -> int:
    """A free TCP port on the loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args: list[str], port: int, server: str, workers: int,
                 threads: int) -> subprocess.Popen:
    """``ozamonitor serve ARGS`` in a subprocess; returns once ``/healthz`` answers 200."""
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    cmd = [sys.executable, "-m", "ozamonitor.cli.main", "serve", *args, "--port", str(port),
           "--server", server, "--workers", str(workers), "--threads", str(threads)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    for _ in range(1200):
        if proc.poll() is not None:
            raise RuntimeError(f"the server stopped (exit {proc.returncode}): {cmd}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not answer /healthz")


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the server started by :func:`start_server`."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def add_server_options(ap: argparse.ArgumentParser) -> None:
    """The options both benchmarks share: server, processes, threads, load shape."""
    ap.add_argument("--server", choices=("auto", "gunicorn", "waitress"), default="auto")
    ap.add_argument("--workers", type=int, default=0,
                    help="gunicorn processes (default: one per core).")
    ap.add_argument("--threads", type=int, default=8, help="Threads per server process.")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--mode", choices=("closed", "open", "both"), default="both")
    ap.add_argument("--rate", type=float, default=25.0,
                    help="Open loop: mean arrivals per second (default 25: 50 users who "
                    "each click every 2 s).")
    ap.add_argument("--open-seconds", type=float, default=40.0,
                    help="Open loop: how long (requests = rate x seconds).")
