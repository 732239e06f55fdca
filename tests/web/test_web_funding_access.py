"""Role isolation of the who-pays app: every route with SWV B's records answers 403 or 404
to SWV A's staff and works for SWV B's; lists and exports hide them; partners, gemeenten,
the study team and anonymous visitors get what their role allows."""

from __future__ import annotations

import pytest
from django.urls import get_resolver, reverse
from funding_fixtures import add_funding

pytestmark = pytest.mark.django_db


@pytest.fixture
def funding(world):
    return add_funding(world)


#: every route with SWV B's records: name -> (kwargs builder, methods)
ROUTES = {
    "map": (lambda f: {"code": "OZAB"}, ("get",)),
    "map_json": (lambda f: {"code": "OZAB"}, ("get",)),
    "map_delete": (lambda f: {"code": "OZAB"}, ("post",)),
    "matrix": (lambda f: {"pk": f["matrices"]["B"].pk}, ("get",)),
    "matrix_edit": (lambda f: {"pk": f["matrices"]["B"].pk}, ("get", "post")),
    "matrix_yaml": (lambda f: {"pk": f["matrices"]["B"].pk}, ("get",)),
    "matrix_delete": (lambda f: {"pk": f["matrices"]["B"].pk}, ("post",)),
}
#: routes that list (filtered, never 403): name -> kwargs
LISTS = {"maps": {}, "maps_export": {"fmt": "csv"}, "summary": {},
         "summary_export": {"fmt": "csv"}, "matrices": {}}
#: the advisor and the upload form: checked on their own below
OTHER = {"advisor", "matrix_new"}


def test_every_funding_route_is_covered() -> None:
    names = {p.name for p in get_resolver().url_patterns
             if getattr(p, "namespace", None) == "funding" for p in p.url_patterns}
    assert names == set(ROUTES) | set(LISTS) | OTHER


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_swv_a_cannot_reach_swv_b(world, funding, client_for, name: str) -> None:
    client = client_for(world.users["swvA"])
    kwargs, methods = ROUTES[name]
    url = reverse(f"funding:{name}", kwargs=kwargs(funding))
    for method in methods:
        resp = getattr(client, method)(url)
        assert resp.status_code in (403, 404), (name, method, resp.status_code)
    if "get" in methods:
        own = client_for(world.users["swvB"]).get(url)
        assert own.status_code == 200, (name, own.status_code)


@pytest.mark.parametrize("name", sorted(LISTS))
def test_lists_and_exports_hide_swv_b(world, funding, client_for, name: str) -> None:
    resp = client_for(world.users["swvA"]).get(reverse(f"funding:{name}", kwargs=LISTS[name]))
    body = resp.content.decode()
    assert resp.status_code == 200
    assert "OZAB" not in body and "PO02" not in body and "Matrix B" not in body


def test_the_advisor_cannot_use_or_save_into_swv_b(world, funding, client_for) -> None:
    c = client_for(world.users["swvA"])
    form = {"components": "1", "components[0].kind": "aids"}
    assert c.post("/funding/", {**form, "matrix": funding["matrices"]["B"].pk}).status_code \
        == 404
    assert c.post("/funding/", {**form, "action": "save", "arrangement": "OZAB"}).status_code \
        == 404
    page = c.post("/funding/", form).content.decode()  # aids: answered at once
    assert 'value="OZAA"' in page and 'value="OZAB"' not in page
    assert c.get("/funding/?arrangement=OZAB").status_code == 404


def test_partners_read_their_arrangements_maps_only(world, funding, client_for) -> None:
    prov = client_for(world.users["provA"])
    assert prov.get("/funding/maps/OZAA/").status_code == 200
    assert prov.get("/funding/maps/OZAB/").status_code == 404
    assert prov.post("/funding/maps/OZAA/delete/").status_code == 403
    page = prov.post("/funding/", {"components": "1", "components[0].kind": "aids"})
    assert 'data-payers="gemeente"' in page.content.decode()
    assert 'id="arrangement"' not in page.content.decode()  # nothing to save into
    board = client_for(world.users["boardA"])
    assert board.get("/funding/maps/OZAA/").status_code == 200
    assert "OZAB" not in board.get("/funding/maps.csv").content.decode()


def test_gemeente_staff_keep_their_matrix(world, funding, client_for) -> None:
    gem = client_for(funding["gemA"])
    mine = funding["matrices"]["gemA"].pk
    assert gem.get(f"/funding/matrices/{mine}/edit/").status_code == 200
    assert gem.get(f"/funding/matrices/{funding['matrices']['B'].pk}/").status_code == 404
    assert gem.get("/funding/maps/OZAA/").status_code == 404  # no arrangement of theirs
    # SWV A reads the matrix of its gemeente but may not change it
    swv = client_for(world.users["swvA"])
    assert swv.get(f"/funding/matrices/{mine}/").status_code == 200
    assert swv.get(f"/funding/matrices/{mine}/edit/").status_code == 403
    assert swv.post(f"/funding/matrices/{mine}/delete/").status_code == 403


def test_study_team_reads_all_changes_nothing(world, funding, client_for) -> None:
    c = client_for(world.users["study"])
    body = c.get("/funding/summary/").content.decode()
    assert "PO01" in body and "PO02" in body
    assert c.get("/funding/maps/OZAB/").status_code == 200
    assert c.post("/funding/maps/OZAB/delete/").status_code == 403
    assert c.get("/funding/matrices/new/").status_code == 403
    m = funding["matrices"]["B"].pk
    assert c.get(f"/funding/matrices/{m}/").status_code == 200
    assert c.post(f"/funding/matrices/{m}/delete/").status_code == 403


def test_anonymous_is_sent_to_login(world, client) -> None:
    for url in ("/funding/", "/funding/maps/", "/funding/summary/", "/funding/matrices/",
                "/funding/summary.csv"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/accounts/login/" in resp["Location"], url
    assert client.get("/api/funding/summary").status_code == 401
