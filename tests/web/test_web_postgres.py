"""The web tests again, on PostgreSQL: one `pytest` run covers both databases.

This test reruns ``tests/web`` in a subprocess with ``OZAMONITOR_TEST_DB`` set
(the browser and server tests, which exercise the HTTP stack rather than the
database, run on SQLite only). PostgreSQL is expected at ``OZAMONITOR_TEST_PG``
(default ``postgresql://postgres@127.0.0.1:5432/postgres``; `.ci/run` starts it).
Without a reachable server the test fails in CI and is skipped elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PG = os.environ.get("OZAMONITOR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
HERE = Path(__file__).resolve().parent


def _reachable() -> str | None:
    import psycopg

    try:
        with psycopg.connect(PG, connect_timeout=3) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except psycopg.Error as e:
        return f"unreachable: {e}".splitlines()[0]


@pytest.mark.skipif(bool(os.environ.get("OZAMONITOR_TEST_DB")), reason="already the rerun")
def test_web_suite_on_postgresql() -> None:
    version = _reachable()
    if version is None or version.startswith("unreachable"):
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {PG} is {version}; .ci/run should have started it")
        pytest.skip(f"PostgreSQL {version}")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_XDIST", "DJANGO_SETTINGS", "OZAMONITOR_DATA",
                                 "OZAMONITOR_WEBTEST"))
           and k != "DATABASE_URL"}
    env["OZAMONITOR_TEST_DB"] = PG
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-m", "not browser and not server", str(HERE)],
        env=env, capture_output=True, text=True, timeout=900, cwd=HERE.parent.parent)
    tail = (r.stdout + r.stderr)[-4000:]
    assert r.returncode == 0, tail
    assert " passed" in tail and "failed" not in tail.splitlines()[-1], tail


@pytest.mark.django_db
def test_the_database_is_the_one_asked_for() -> None:
    from django.db import connection

    expected = "postgresql" if os.environ.get("OZAMONITOR_TEST_DB") else "sqlite"
    assert connection.vendor == expected
    if expected == "sqlite":
        assert connection.cursor().execute("PRAGMA journal_mode").fetchone()[0] in (
            "wal", "memory")
