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
_data = tempfile.mkdtemp(prefix="ozm-webtest-")
os.environ["OZAMONITOR_DATA_DIR"] = _data
os.environ["DJANGO_SETTINGS_MODULE"] = "web_test_settings"
if os.environ.get("OZAMONITOR_TEST_DB"):
    url = os.environ["OZAMONITOR_TEST_DB"]
    sep = "&" if "?" in url else "?"
    os.environ["DATABASE_URL"] = f"{url}{sep}test_name=test_ozm_{os.getpid()}"
else:
    os.environ.pop("DATABASE_URL", None)

import django  # noqa: E402

django.setup()

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
