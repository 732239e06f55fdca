"""What keeps the pages fast (benchmarks/bench_web.py measures it; these lock it in).

- list pages and the API list cost the same number of queries for 1 or 21 rows (no N+1);
- a Bearer token is checked by its SHA-256, never by a password hash (PBKDF2 per API
  request would cost ~0.5 s of CPU);
- ``/healthz`` and other public views look up no session or user;
- SQLite connections persist across requests (opening one and running the PRAGMAs cost
  as much as a whole ``/healthz``), with WAL and a busy timeout for several processes.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

PAGES = ("/registry/arrangements/", "/registry/initiatives/", "/api/arrangements")


def _more_rows(world: Any, n: int) -> None:
    """``n`` more initiatives of SWV A, each with an arrangement and its partners."""
    from ozamonitor.web.registry.models import Arrangement, Initiative, Partner

    ini0, arr0 = world.initiatives["A"], world.arrangements["A"]
    partners = list(Partner.objects.filter(arrangement=arr0))
    for i in range(n):
        ini = Initiative.objects.get(pk=ini0.pk)
        ini.pk = ini.id = None
        ini._state.adding = True
        ini.code = f"INIX{i:02d}"
        ini.save()
        arr = Arrangement.objects.get(pk=arr0.pk)
        arr.pk = arr.id = None
        arr._state.adding = True
        arr.code, arr.initiative = f"OZAX{i:02d}", ini
        arr.save()
        for p in partners:
            Partner(arrangement=arr, organisation=p.organisation, role=p.role,
                    financier=p.financier).save()


def _queries(client: Any, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    client.get(path, **headers)  # warm: the first request may fill caches
    with CaptureQueriesContext(connection) as q:
        r = client.get(path, **headers)
    assert r.status_code == 200, (path, r.status_code)
    return len(q), r.content


def _token(client: Any, username: str) -> dict[str, str]:
    r = client.post("/api/token", {"username": username, "password": "pw-" + username},
                    content_type="application/json")
    assert r.status_code == 200
    return {"HTTP_AUTHORIZATION": f"Bearer {r.json()['token']}"}


@pytest.mark.parametrize("who", ["swvA", "study"])
def test_list_queries_do_not_grow_with_rows(world: Any, client: Any, who: str) -> None:
    user = world.users[who]
    client.force_login(user)
    api = _token(client, user.username)
    before = {p: _queries(client, p, api if p.startswith("/api/") else {}) for p in PAGES}
    _more_rows(world, 20)
    for p in PAGES:
        n, body = _queries(client, p, api if p.startswith("/api/") else {})
        assert b"OZAX19" in body or b"INIX19" in body, p  # the new rows are listed
        assert n == before[p][0], f"{p}: {before[p][0]} queries for 1 row, {n} for 21"


def test_detail_queries_are_few(world: Any, client: Any) -> None:
    client.force_login(world.users["swvA"])
    api = _token(client, "swvA")
    for path, h in (("/registry/arrangements/OZAA/", {}), ("/api/arrangements/OZAA", api)):
        n, _ = _queries(client, path, h)
        assert n <= 8, f"{path}: {n} queries"


def test_bearer_token_hashes_no_password(world: Any, client: Any,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from django.contrib.auth import hashers

    calls: list[str] = []
    for name in ("identify_hasher", "get_hasher"):
        real = getattr(hashers, name)

        def counting(*a: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            calls.append(_name)
            return _real(*a, **kw)

        monkeypatch.setattr(hashers, name, counting)
    api = _token(client, "swvA")
    assert calls, "the counter must see the password check of POST /api/token"
    calls.clear()
    for path in ("/api/arrangements", "/api/arrangements/OZAA") * 3:
        assert client.get(path, **api).status_code == 200
    assert calls == [], f"API requests hashed a password: {calls}"


def test_healthz_looks_up_no_session(world: Any, client: Any) -> None:
    client.force_login(world.users["swvA"])  # sends a session cookie
    with CaptureQueriesContext(connection) as q:
        r = client.get("/healthz")
    assert r.status_code == 200 and r.content == b"ok\n"
    assert [x["sql"] for x in q.captured_queries] == ["SELECT 1"]
    assert "Cookie" not in r.get("Vary", "")


def test_pages_still_need_a_login(world: Any, client: Any) -> None:
    r = client.get("/registry/arrangements/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]
    assert client.get("/api/arrangements").status_code == 401
    assert client.get("/accounts/login/").status_code == 200


def test_sqlite_connections_persist_with_wal_and_busy_timeout() -> None:
    from ozamonitor.web.dburl import database_from_url

    db = database_from_url("sqlite:////tmp/x.sqlite3")
    assert db["CONN_MAX_AGE"] > 0
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert "busy_timeout=" in db["OPTIONS"]["init_command"]
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_server_choice() -> None:
    from ozamonitor.web.server import choose_server, default_workers

    assert choose_server("waitress") == "waitress"
    assert default_workers() >= 2
    if sys.platform.startswith("linux"):
        assert choose_server("auto") == "gunicorn"
