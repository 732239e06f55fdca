"""The JSON API: tokens, listing, detail, create, patch, errors, OpenAPI."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _token(client, username: str) -> dict[str, str]:
    r = client.post("/api/token", {"username": username, "password": f"pw-{username}"},
                    content_type="application/json")
    assert r.status_code == 200, r.content
    return {"HTTP_AUTHORIZATION": f"Bearer {r.json()['token']}"}


def test_token_list_detail(world, client) -> None:
    h = _token(client, "study")
    rows = client.get("/api/arrangements", **h).json()
    assert [r["code"] for r in rows] == ["OZAA", "OZAB"]
    first = rows[0]
    assert {"code", "name", "swv", "type", "deviations"} <= set(first)
    assert first["swv"] == "PO01" and first["type"] == "class_at_school"
    assert first["deviations"] == ["time"]
    one = client.get("/api/arrangements/OZAB", **h).json()
    assert one["name"] == "Arrangement B" and one["partners"][0]["organisation"]
    checks = client.get("/api/initiatives/INIA/checks?lang=en", **h).json()
    assert checks["ok"] is True and {c["status"] for c in checks["conditions"]} == {"pass"}


def test_wrong_password_is_401(world, client) -> None:
    r = client.post("/api/token", {"username": "swvA", "password": "nope"},
                    content_type="application/json")
    assert r.status_code == 401 and "token" not in r.json()


def test_create_and_patch_with_audit(world, client) -> None:
    h = _token(client, "swvA")
    body = {"code": "OZA777", "name": "Nieuw", "initiative": "INIA", "sector": "po",
            "type": "opdc", "deviations": ["location"], "gemeente": "GM0001"}
    r = client.post("/api/arrangements", body, content_type="application/json", **h)
    assert r.status_code == 201, r.content
    assert r.json()["version"] == 1
    r = client.post("/api/arrangements", body, content_type="application/json", **h)
    assert r.status_code == 409 and r.json()["field"] == "code"
    r = client.patch("/api/arrangements/OZA777", {"name": "Nieuwer", "version": 1},
                     content_type="application/json", **h)
    assert r.status_code == 200 and r.json()["version"] == 2
    r = client.patch("/api/arrangements/OZA777", {"name": "Stale", "version": 1},
                     content_type="application/json", **h)
    assert r.status_code == 409 and r.json()["field"] == "version"
    from ozamonitor.web.registry.models import Arrangement

    rec = Arrangement.history.filter(code="OZA777").order_by("history_date")
    assert [x.history_user.username for x in rec] == ["swvA", "swvA"]
    assert [x.name for x in rec] == ["Nieuw", "Nieuwer"]


@pytest.mark.parametrize(("body", "field"), [
    ({"deviations": ["holidays"]}, "deviations"),
    ({"capacity": -1}, "capacity"),
    ({"start": "2024-13-01"}, "start"),
    ({"gemeente": "GM9999"}, "gemeente"),
    ({"teaching_hours_per_week": 60}, "teaching_hours_per_week"),
])
def test_bad_input_names_the_field(world, client, body: dict, field: str) -> None:
    h = _token(client, "swvA")
    r = client.patch("/api/arrangements/OZAA", body, content_type="application/json", **h)
    assert r.status_code == 422, r.content
    assert r.json()["field"] == field


def test_read_only_roles_cannot_write(world, client) -> None:
    for user in ("study", "provA"):
        h = _token(client, user)
        r = client.patch("/api/arrangements/OZAA", {"name": "x"},
                         content_type="application/json", **h)
        assert r.status_code == 403, user
        r = client.post("/api/arrangements", {"code": "OZAZ", "name": "x", "initiative": "INIA",
                                              "sector": "po", "type": "opdc"},
                        content_type="application/json", **h)
        assert r.status_code == 403, user


def test_openapi_document(client) -> None:
    doc = client.get("/api/openapi.json").json()
    paths = doc["paths"]
    for p in ("/api/token", "/api/arrangements", "/api/arrangements/{code}",
              "/api/initiatives/{code}/checks"):
        assert p in paths, p
    assert {"get", "post"} <= set(paths["/api/arrangements"])
    assert {"get", "patch"} <= set(paths["/api/arrangements/{code}"])
    assert "bearer" in str(doc["components"]["securitySchemes"]).lower()


def test_expired_tokens_are_refused(world, client) -> None:
    import datetime as dt

    from django.utils import timezone

    from ozamonitor.web.core.models import ApiToken

    h = _token(client, "swvA")
    assert client.get("/api/arrangements", **h).status_code == 200
    tok = ApiToken.objects.get(user=world.users["swvA"])
    assert tok.expires > timezone.now() + dt.timedelta(days=29)
    tok.expires = timezone.now() - dt.timedelta(seconds=1)
    tok.save()
    assert client.get("/api/arrangements", **h).status_code == 401
