"""Role isolation: a user of SWV A gets 403 or 404 for every page, API call, export and
file of SWV B; partners, the study team and anonymous visitors see what their role allows."""

from __future__ import annotations

import pytest
from django.urls import get_resolver, reverse

pytestmark = pytest.mark.django_db

#: every registry route with SWV B's objects: name -> (kwargs builder, methods)
ROUTES = {
    "initiative": (lambda w: {"code": "INIB"}, ("get",)),
    "initiative_edit": (lambda w: {"code": "INIB"}, ("get", "post")),
    "initiative_checks": (lambda w: {"code": "INIB"}, ("get",)),
    "initiative_delete": (lambda w: {"code": "INIB"}, ("post",)),
    "attachment_upload": (lambda w: {"code": "INIB"}, ("post",)),
    "initiative_history": (lambda w: {"code": "INIB"}, ("get",)),
    "attachment": (lambda w: {"pk": w.attachments["B"].pk}, ("get",)),
    "attachment_delete": (lambda w: {"pk": w.attachments["B"].pk}, ("post",)),
    "arrangement": (lambda w: {"code": "OZAB"}, ("get",)),
    "arrangement_edit": (lambda w: {"code": "OZAB"}, ("get", "post")),
    "arrangement_delete": (lambda w: {"code": "OZAB"}, ("post",)),
    "arrangement_history": (lambda w: {"code": "OZAB"}, ("get",)),
    "partner_edit": (lambda w: {"code": "OZAB", "pk": w.partners["schoolB"].pk},
                     ("get", "post")),
}
#: routes that list (filtered, never 403): name -> kwargs
LISTS = {"initiatives": {}, "arrangements": {}, "export": {"fmt": "csv"}}
#: routes without an object: creation forms and the redirect
OTHER = {"index", "initiative_new", "arrangement_new", "initiative_preview"}


def test_every_registry_route_is_covered() -> None:
    names = {p.name for p in get_resolver().url_patterns
             if getattr(p, "namespace", None) == "registry" for p in p.url_patterns}
    assert names == set(ROUTES) | set(LISTS) | OTHER


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_swv_a_cannot_reach_swv_b(world, client_for, name: str) -> None:
    client = client_for(world.users["swvA"])
    kwargs, methods = ROUTES[name]
    url = reverse(f"registry:{name}", kwargs=kwargs(world))
    for method in methods:
        resp = getattr(client, method)(url)
        assert resp.status_code in (403, 404), (name, method, resp.status_code)
    # and SWV B's own user reaches it (the route works)
    if "get" in methods:
        own = client_for(world.users["swvB"]).get(url)
        assert own.status_code == 200, (name, own.status_code)


@pytest.mark.parametrize("name", sorted(LISTS))
def test_lists_and_exports_hide_swv_b(world, client_for, name: str) -> None:
    resp = client_for(world.users["swvA"]).get(reverse(f"registry:{name}", kwargs=LISTS[name]))
    body = resp.content.decode()
    assert resp.status_code == 200
    assert ("INIA" in body or "OZAA" in body) and "INIB" not in body and "OZAB" not in body


def test_xlsx_export_hides_swv_b(world, client_for) -> None:
    import io

    from openpyxl import load_workbook

    resp = client_for(world.users["swvA"]).get(reverse("registry:export", args=["xlsx"]))
    ws = load_workbook(io.BytesIO(resp.content)).active
    codes = [r[0] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert codes == ["OZAA"]


def test_checklist_preview_of_another_swv_is_404(world, client_for) -> None:
    client = client_for(world.users["swvA"])
    url = reverse("registry:initiative_preview")
    assert client.post(url + "?code=INIB", {}).status_code == 404
    assert client.post(url + "?code=INIA", {"co-TOTAL_FORMS": "0",
                                            "co-INITIAL_FORMS": "0"}).status_code == 200
    assert client_for(world.users["study"]).post(url, {}).status_code == 403


def test_cannot_create_in_another_swv(world, client_for) -> None:
    client = client_for(world.users["swvA"])
    resp = client.post(reverse("registry:initiative_new"), {
        "code": "INIX", "name": "x", "applicant": world.orgs["B"].pk,
        "swv": world.orgs["B"].pk, "co-TOTAL_FORMS": "0", "co-INITIAL_FORMS": "0"})
    assert resp.status_code == 400
    assert "swv" in resp.context["form"].errors
    resp = client.post(reverse("registry:arrangement_new"), {
        "code": "OZAX", "name": "x", "initiative": world.initiatives["B"].pk, "sector": "po",
        "type": "opdc", "status": "planned", "pt-TOTAL_FORMS": "0", "pt-INITIAL_FORMS": "0"})
    assert resp.status_code == 400
    assert "initiative" in resp.context["form"].errors


def test_api_isolation(world, client) -> None:
    from ozamonitor.web.access import token_digest
    from ozamonitor.web.core.models import ApiToken

    ApiToken.objects.create(user=world.users["swvA"], digest=token_digest("tok-a"))
    h = {"HTTP_AUTHORIZATION": "Bearer tok-a"}
    listing = client.get("/api/arrangements", **h).json()
    assert [a["code"] for a in listing] == ["OZAA"]
    assert [i["code"] for i in client.get("/api/initiatives", **h).json()] == ["INIA"]
    assert client.get("/api/arrangements/OZAB", **h).status_code == 404
    assert client.get("/api/initiatives/INIB/checks", **h).status_code == 404
    r = client.patch("/api/arrangements/OZAB", {"name": "x"}, content_type="application/json",
                     **h)
    assert r.status_code == 404
    r = client.post("/api/arrangements", {"code": "OZAX", "name": "x", "initiative": "INIB",
                                          "sector": "po", "type": "opdc"},
                    content_type="application/json", **h)
    assert r.status_code == 404
    world.arrangements["B"].refresh_from_db()
    assert world.arrangements["B"].name == "Arrangement B"


def test_partner_staff_see_and_edit_only_their_part(world, client_for) -> None:
    client = client_for(world.users["provA"])
    assert client.get(reverse("registry:arrangement", args=["OZAA"])).status_code == 200
    assert client.get(reverse("registry:arrangement", args=["OZAB"])).status_code == 404
    assert client.get(reverse("registry:arrangement_edit", args=["OZAA"])).status_code == 403
    own = world.partners["care_providerA"]
    other = world.partners["schoolA"]
    url = reverse("registry:partner_edit", args=["OZAA", own.pk])
    resp = client.post(url, {"contribution": "therapy twice a week", "hours_per_week": "6",
                             "financier": "gemeente", "version": own.version})
    assert resp.status_code == 302
    own.refresh_from_db()
    assert own.contribution == "therapy twice a week" and own.version == 2
    assert client.get(reverse("registry:partner_edit", args=["OZAA", other.pk])).status_code \
        == 403
    # a school board's staff see their schools' arrangements
    board = client_for(world.users["boardA"])
    assert board.get(reverse("registry:arrangement", args=["OZAA"])).status_code == 200
    assert board.get(reverse("registry:arrangement", args=["OZAB"])).status_code == 404


def test_study_team_reads_everything_changes_nothing(world, client_for) -> None:
    client = client_for(world.users["study"])
    for code in ("OZAA", "OZAB"):
        assert client.get(reverse("registry:arrangement", args=[code])).status_code == 200
        assert client.get(reverse("registry:arrangement_edit", args=[code])).status_code == 403
    assert client.get(reverse("registry:attachment",
                              args=[world.attachments["B"].pk])).status_code == 200
    assert client.get(reverse("audit")).status_code == 200
    assert client.get(reverse("registry:initiative_new")).status_code == 403


def test_user_without_role_sees_nothing(world, client_for) -> None:
    client = client_for(world.users["nobody"])
    assert "OZA" not in client.get(reverse("registry:arrangements")).content.decode() \
        .split("<tbody>")[1]
    assert client.get(reverse("registry:arrangement", args=["OZAA"])).status_code == 404
    assert client.get(reverse("audit")).status_code == 403


def test_anonymous_gets_login_or_401(world, client) -> None:
    for url in (reverse("registry:arrangements"), reverse("registry:arrangement", args=["OZAA"]),
                reverse("registry:attachment", args=[world.attachments["A"].pk]),
                reverse("audit"), reverse("registry:export", args=["csv"]), "/"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/accounts/login/" in resp["Location"], url
    assert client.get("/api/arrangements").status_code == 401
    assert client.get("/api/arrangements",
                      HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 200


def test_swv_staff_cannot_read_the_audit_log(world, client_for) -> None:
    client = client_for(world.users["swvA"])
    assert client.get(reverse("audit")).status_code == 403
    assert client.get(reverse("audit_export", args=["csv"])).status_code == 403


def test_study_team_reads_a_pseudonymised_audit_log_without_case_files(world, client_for) -> None:
    """The study team's audit log: no usernames (as author or field value), no case models."""
    from fixtures_cases import build_cases

    from ozamonitor.web.audit import user_pseudonym

    cases = build_cases(world)
    arr = world.arrangements["A"]
    arr.name = "Renamed by swvA"
    arr._history_user = world.users["swvA"]
    arr.save()
    admin = client_for(world.users["admin"])
    page = admin.get(reverse("audit")).content.decode()
    assert "swvA" in page and "GM0001-2024-0001" in page and "regieA" in page

    client = client_for(world.users["study"])
    for body in (client.get(reverse("audit")).content.decode(),
                 client.get(reverse("audit_export", args=["csv"])).content.decode()):
        assert "Renamed by swvA" in body
        assert user_pseudonym(world.users["swvA"].pk) in body
        assert ">swvA<" not in body and ",swvA," not in body
        for case in cases.cases.values():
            assert case.code not in body and case.person_id not in body
        assert "regieA" not in body and "1250.50" not in body
    # the filter by user takes the pseudonym, and the case models are not offered
    page = client.get(reverse("audit"), {"user": user_pseudonym(world.users["swvA"].pk)})
    assert "Renamed by swvA" in page.content.decode()
    assert "casework.Case" not in page.content.decode()
