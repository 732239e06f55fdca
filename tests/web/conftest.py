"""Fixtures of the web tests: Django configured for a temporary data folder.

The database is SQLite unless ``OZAMONITOR_TEST_DB`` holds a PostgreSQL URL;
``test_web_postgres.py`` reruns this folder's tests that way, so one
``pytest`` run covers both databases.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# The product's settings module (importable in every xdist worker, which inherits these
# variables), with the test-only changes made below once Django is set up.
# One temporary data folder per run (xdist workers inherit it), never the user's own.
_data = os.environ.get("OZAMONITOR_WEBTEST_DIR") or tempfile.mkdtemp(prefix="ozm-webtest-")
os.environ["OZAMONITOR_WEBTEST_DIR"] = os.environ["OZAMONITOR_DATA_DIR"] = _data
os.environ["DJANGO_SETTINGS_MODULE"] = "ozamonitor.web.settings"
if os.environ.get("OZAMONITOR_TEST_DB"):
    url = os.environ["OZAMONITOR_TEST_DB"]
    sep = "&" if "?" in url else "?"
    os.environ["DATABASE_URL"] = f"{url}{sep}test_name=test_ozm_{os.getpid()}"
else:
    os.environ.pop("DATABASE_URL", None)

import django  # noqa: E402
from django.conf import settings  # noqa: E402

django.setup()
# a fast hasher for the test accounts (the product keeps Django's default)
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# SQLite: a file, not an in-memory database, so the live server's threads use SQLite as
# the product does (WAL, immediate write transactions) and shared-cache locks cannot
# stall it; xdist adds a suffix per worker
if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = str(
        Path(settings.DATA_DIR) / "test.sqlite3")

from fixtures_web import World, build_world  # noqa: E402


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/web/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.web)


@pytest.fixture
def world(db: None) -> World:
    """Two SWVs (A and B), each with an initiative, an arrangement, partners and a
    document, and one user per role."""
    return build_world()


@pytest.fixture
def client_for(client):
    """``client_for(user)``: the test client logged in as ``user``."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def cases(world):
    """The world plus one case in gemeente A (SWV A) and one in gemeente B (SWV B)."""
    from fixtures_cases import build_cases

    return build_cases(world)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright (skipped here without it; a failure in CI)."""
    from fixtures_web import ARGS, CHROMIUM

    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs it")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs a loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
