"""`ozamonitor serve` in a real subprocess: health check, and `kill -9` during writes loses
no committed record and leaves the SQLite database consistent."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.server

SETUP = """
from ozamonitor.web.core.models import Organisation
from ozamonitor.web.registry.models import Initiative
swv = Organisation(code="PO01", name="SWV", kind="swv_po"); swv.save()
Initiative(code="INI1", name="i", applicant=swv, swv=swv).save()
"""


def _cli(*args: str, data: Path, stdin: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "OZAMONITOR_DATA_DIR", "DJANGO_SETTINGS_MODULE")}
    r = subprocess.run([sys.executable, "-m", "ozamonitor.cli.main", *args, "--data-dir",
                        str(data)], input=stdin, capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(data: Path, port: int, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "OZAMONITOR_DATA_DIR", "DJANGO_SETTINGS_MODULE")}
    proc = subprocess.Popen([sys.executable, "-m", "ozamonitor.cli.main", "serve", "--data-dir",
                             str(data), "--port", str(port), *extra], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not start")


def _post(url: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json",
                                          **({"Authorization": f"Bearer {token}"}
                                             if token else {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, {}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("srv") / "data"
    _cli("web", "init", data=data)
    _cli("web", "user", "writer", "--superuser", "--password-stdin", data=data,
         stdin="correct horse battery staple\n")
    _cli("web", "manage", "shell", "-c", SETUP, data=data)
    assert (data / "secret_key").stat().st_mode & 0o777 == 0o600
    return data


def test_kill_9_during_writes_loses_no_committed_record(data_dir: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(data_dir, port)
    status, body = _post(f"{base}/api/token", {"username": "writer",
                                                "password": "correct horse battery staple"})
    assert status == 200
    token = body["token"]
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        i = 0
        while not stop.is_set() and i < 2000:
            code = f"K{n}{i:04d}"
            try:
                s, _ = _post(f"{base}/api/arrangements", {
                    "code": code, "name": "kill test", "initiative": "INI1", "sector": "po",
                    "type": "opdc", "deviations": ["time"]}, token)
            except OSError:
                return  # the server is gone
            if s == 201:
                with lock:
                    acked.append(code)
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(acked) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)  # in the middle of the writes
    proc.wait()
    stop.set()
    for t in threads:
        t.join()
    assert len(acked) >= 40
    db = sqlite3.connect(data_dir / "ozamonitor.sqlite3")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        stored = {r[0] for r in db.execute("SELECT code FROM registry_arrangement")}
        history = {r[0] for r in db.execute("SELECT code FROM registry_historicalarrangement")}
    finally:
        db.close()
    missing = set(acked) - stored
    assert not missing, f"{len(missing)} acknowledged records lost"
    assert stored <= history  # every stored record has its audit row (same transaction)
    # the server comes back on the same data
    proc = _start(data_dir, port)
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as r:
            assert r.read() == b"ok\n"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_wal_mode(data_dir: Path) -> None:
    db = sqlite3.connect(data_dir / "ozamonitor.sqlite3")
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()


def test_cli_export_and_import(data_dir: Path, tmp_path: Path) -> None:
    csv_path = tmp_path / "arr.csv"
    _cli("arrangements", "export", "--format", "csv", "--out", str(csv_path), data=data_dir)
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("code,name,initiative") and len(lines) > 1
    # (xlsx and register exports are tested in-process in test_web_exchange.py)
    out = _cli("arrangements", "import", str(csv_path), "--as", "writer", data=data_dir)
    assert f"0 created, {len(lines) - 1} updated" in out


@pytest.mark.parametrize("server", ["gunicorn", "waitress"])
def test_both_servers_serve_the_app(data_dir: Path, server: str) -> None:
    """gunicorn (several processes, the default on Linux) and waitress (the portable
    fallback) serve the same application; gunicorn's workers die with their master."""
    import psutil

    if server == "gunicorn" and sys.platform == "win32":
        pytest.skip("gunicorn does not run on Windows")
    port = _free_port()
    proc = _start(data_dir, port, "--server", server, "--workers", "2", "--threads", "2")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            assert r.read() == b"ok\n"
            # waitress announces itself as "ozamonitor" (server.py sets its ident)
            assert r.headers["Server"].startswith(
                {"gunicorn": "gunicorn", "waitress": "ozamonitor"}[server])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/",
                                    timeout=5) as r:
            assert b"csrfmiddlewaretoken" in r.read()
        children = psutil.Process(proc.pid).children()
        assert len(children) == (2 if server == "gunicorn" else 0)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    if server == "gunicorn" and sys.platform.startswith("linux"):
        _gone, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, "workers outlived a master killed with kill -9"


def test_gunicorn_workers_serve_the_dashboard(tmp_path: Path, publication: Path) -> None:
    """Each gunicorn worker reads the publication itself: read in the master before the
    fork, polars' thread pool hung the workers' first dashboard request."""
    if sys.platform == "win32":
        pytest.skip("gunicorn does not run on Windows")
    port = _free_port()
    proc = _start(tmp_path / "data", port, "--server", "gunicorn", "--workers", "2",
                  "--publication", str(publication))
    try:
        for _ in range(6):  # several connections, so both workers answer
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/dashboard/",
                                        timeout=60) as r:
                assert r.status == 200 and b"<svg" in r.read()
    finally:
        proc.kill()
        proc.wait(timeout=10)
