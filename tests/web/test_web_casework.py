"""The case chain's pages, API and exports: role isolation (a user of gemeente A gets
403/404 for everything of gemeente B), the read log, steps through the state machine,
consent, the ledger export, the signals import and the study team's counts."""

from __future__ import annotations

import io

import pytest
from django.urls import get_resolver, reverse

pytestmark = pytest.mark.django_db

B = "GM0002-2024-0001"
A = "GM0001-2024-0001"
#: every case route with gemeente B's case: name -> (kwargs, methods)
ROUTES = {
    "case": ({"code": B}, ("get",)),
    "event_add": ({"code": B}, ("post",)),
    "consent_add": ({"code": B}, ("post",)),
    "ledger_add": ({"code": B}, ("post",)),
    "director_set": ({"code": B}, ("post",)),
}
LISTS = {"list": {}, "due": {}, "ledger": {"fmt": "csv"}}
OTHER = {"new", "import", "oogo", "counts"}


def test_every_case_route_is_covered() -> None:
    names = {p.name for p in get_resolver().url_patterns
             if getattr(p, "namespace", None) == "casework" for p in p.url_patterns}
    assert names == set(ROUTES) | set(LISTS) | OTHER


@pytest.mark.parametrize("user", ["lpaA", "regieA"])
@pytest.mark.parametrize("name", sorted(ROUTES))
def test_gemeente_a_cannot_reach_gemeente_b(cases, client_for, name: str, user: str) -> None:
    client = client_for(cases.users[user])
    kwargs, methods = ROUTES[name]
    url = reverse(f"casework:{name}", kwargs=kwargs)
    for method in methods:
        resp = getattr(client, method)(url, {"date": "2024-10-01", "kind": "note"}
                                       if method == "post" else None)
        assert resp.status_code == 404, (name, method, resp.status_code)
    if "get" in methods:
        assert client_for(cases.users["lpaB"]).get(url).status_code == 200


@pytest.mark.parametrize("user", ["swvA", "schoolA", "provA", "study", "nobody"])
def test_other_roles_cannot_reach_gemeente_b(cases, client_for, user: str) -> None:
    client = client_for(cases.world.users[user])
    assert client.get(reverse("casework:case", args=[B])).status_code == 404
    for name in ("event_add", "consent_add", "ledger_add", "director_set"):
        assert client.post(reverse(f"casework:{name}", args=[B]), {}).status_code == 404


@pytest.mark.parametrize("name", sorted(LISTS))
def test_lists_and_exports_hide_gemeente_b(cases, client_for, name: str) -> None:
    resp = client_for(cases.users["lpaA"]).get(reverse(f"casework:{name}",
                                                       kwargs=LISTS[name]) + "?asof=2024-11-01")
    body = resp.content.decode()
    assert resp.status_code == 200
    assert A in body and B not in body and "pseudoB" not in body


def test_ledger_xlsx_hides_gemeente_b_and_keeps_totals(cases, client_for) -> None:
    from openpyxl import load_workbook

    resp = client_for(cases.users["lpaA"]).get(reverse("casework:ledger", args=["xlsx"]))
    wb = load_workbook(io.BytesIO(resp.content))
    assert set(wb.sheetnames) == {"entries", "totals"}
    text = " ".join(str(v) for ws in wb for row in ws.iter_rows(values_only=True)
                    for v in row)
    assert A in text and B not in text and "1250.5" in text


def test_api_isolation(cases, client) -> None:
    from ozamonitor.web.casework.models import CaseRead

    tok = client.post("/api/token", {"username": "lpaA", "password": "pw-lpaA"},
                      content_type="application/json").json()["token"]
    h = {"HTTP_AUTHORIZATION": f"Bearer {tok}"}
    listed = client.get("/api/cases?asof=2024-11-01", **h).json()
    assert [c["code"] for c in listed] == [A]
    assert listed[0]["state"] == "mdt"
    # the child's consent was due on the opening day (advice 5): the earliest overdue step
    assert listed[0]["next_step"]["step"] == "consent"
    assert listed[0]["next_step"]["status"] == "overdue"
    assert {s["case"] for s in client.get("/api/cases/due?asof=2024-11-01", **h).json()} == {A}
    assert client.get(f"/api/cases/{B}", **h).status_code == 404
    assert client.post(f"/api/cases/{B}/events", {"date": "2024-10-01", "kind": "note"},
                       content_type="application/json", **h).status_code == 404
    assert client.post(f"/api/cases/{B}/consents", {"party": "child", "given": True,
                                                    "date": "2024-10-01"},
                       content_type="application/json", **h).status_code == 404
    detail = client.get(f"/api/cases/{A}?asof=2024-11-01", **h).json()
    assert [s["step"] for s in detail["steps"]] == ["consent", "casusregie", "doorbraak",
                                                    "arbitration"]
    assert CaseRead.objects.filter(case__code=A, via="api", role="leerplichtambtenaar").exists()
    assert not CaseRead.objects.filter(case__code=B).exists()


def test_api_steps_through_the_state_machine(cases, client) -> None:
    tok = client.post("/api/token", {"username": "regieA", "password": "pw-regieA"},
                      content_type="application/json").json()["token"]
    h = {"HTTP_AUTHORIZATION": f"Bearer {tok}"}
    url = f"/api/cases/{A}/events"
    bad = client.post(url, {"date": "2024-10-02", "kind": "start_arbitration"},
                      content_type="application/json", **h)
    assert bad.status_code == 422 and bad.json()["field"] == "kind"
    assert "not allowed in state mdt" in bad.json()["detail"]
    ok = client.post(url, {"date": "2024-10-02", "kind": "appoint_case_director"},
                     content_type="application/json", **h)
    assert ok.status_code == 201 and ok.json()["state"] == "casusregie"
    steps = {s["step"]: s for s in client.get(f"/api/cases/{A}?asof=2024-11-01", **h)
             .json()["steps"]}
    assert steps["casusregie"]["status"] == "done_late"  # 2 Oct is after 30 Sep
    assert steps["doorbraak"]["status"] == "overdue"      # due 28 October
    assert steps["arbitration"]["due"] == "2024-11-25"    # the 3-month alarm


def test_school_sees_its_case_without_consent_and_ledger(cases, client_for) -> None:
    client = client_for(cases.world.users["schoolA"])
    body = client.get(reverse("casework:case", args=[A]) + "?asof=2024-11-01").content.decode()
    assert 'id="timers"' in body and 'id="ledger"' not in body and 'id="consents"' not in body
    assert 'id="event-form"' not in body  # read only
    assert client.post(reverse("casework:event_add", args=[A]),
                       {"date": "2024-10-01", "kind": "note"}).status_code == 403
    assert client.get(reverse("casework:ledger", args=["csv"])).content.decode().count(
        A) == 0


def test_swv_staff_read_only(cases, client_for) -> None:
    client = client_for(cases.world.users["swvA"])
    assert client.get(reverse("casework:case", args=[A])).status_code == 200
    assert client.post(reverse("casework:consent_add", args=[A]),
                       {"party": "child", "given": "true", "date": "2024-09-10",
                        "scope": "case"}).status_code == 403
    assert client.get(reverse("casework:new")).status_code == 403


def test_every_read_is_logged_with_its_legal_basis(cases, client_for) -> None:
    from ozamonitor.web.casework.models import CaseRead

    client_for(cases.world.users["swvA"]).get(reverse("casework:case", args=[A]))
    client_for(cases.users["regieA"]).get(reverse("casework:case", args=[A]))
    reads = {r.user.username: r for r in CaseRead.objects.filter(case__code=A)}
    assert reads["swvA"].role == "swv_staff" and "18a" in reads["swvA"].legal_basis
    assert reads["regieA"].role == "casusregisseur" and reads["regieA"].via == "page"
    # the officer sees the log on the case; the case director does not
    body = client_for(cases.users["lpaA"]).get(reverse("casework:case", args=[A])).content
    assert b'id="reads"' in body and b"swvA" in body
    body = client_for(cases.users["regieA"]).get(reverse("casework:case", args=[A])).content
    assert b'id="reads"' not in body


def test_record_step_consent_and_ledger_on_the_page(cases, client_for) -> None:
    client = client_for(cases.users["lpaA"])
    url = reverse("casework:case", args=[A])
    client.post(reverse("casework:event_add", args=[A]),
                {"date": "2024-10-02", "kind": "mobilise_breakthrough"})
    body = client.get(url + "?asof=2024-11-01").content.decode()
    assert 'data-state="mdt"' in body  # refused: not allowed from mdt
    client.post(reverse("casework:event_add", args=[A]),
                {"date": "2024-09-27", "kind": "appoint_case_director"})
    client.post(reverse("casework:consent_add", args=[A]),
                {"party": "child", "given": "true", "date": "2024-09-10", "scope": "case"})
    r = client.post(reverse("casework:ledger_add", args=[A]),
                    {"entry_id": "F2", "date": "2024-10-03", "amount": "99.99",
                     "payer": "zorgkantoor", "purpose": "x", "approved_by": "wethouder"})
    assert r.status_code == 302
    body = client.get(url + "?asof=2024-11-01").content.decode()
    assert 'data-state="casusregie"' in body
    assert '<tr data-step="casusregie">' in body and 'data-status="done"' in body
    assert '<tr data-step="consent">' in body
    assert "99.99" not in body  # approval without a date is refused (form field named)


def test_signals_import_opens_one_case_per_episode(cases, client_for) -> None:
    from ozamonitor.web.casework.models import Case

    csv = ("person_id,signal,date,detail\n"
           "p9,report_16h_4w,2024-09-05,20.0 h (episode from 2024-09-02)\n"
           "p9,lrv_4w,2024-09-30,every school day since 2024-09-02\n"
           "p9,alarm_3m,2024-11-25,episode from 2024-09-02 still open (84 days)\n"
           "p8,lrv_4w,2024-10-07,every school day since 2024-09-09\n")
    client = client_for(cases.users["lpaA"])
    f = io.BytesIO(csv.encode())
    f.name = "signals.csv"
    gem = cases.world.orgs["gemA"].pk
    r = client.post(reverse("casework:import"), {"file": f, "gemeente": gem,
                                                 "kinds": ["report_16h_4w", "lrv_4w"]})
    assert r.status_code == 302
    made = {c.person_id: c for c in Case.objects.filter(person_id__in=["p8", "p9"])}
    assert made["p9"].start.isoformat() == "2024-09-02" and made["p9"].source == "signal"
    assert made["p8"].start.isoformat() == "2024-09-09"  # the run's first day
    assert made["p9"].events.get().kind == "open"
    # gemeente B is refused (all or nothing), naming the row and field
    f2 = io.BytesIO(b"person_id,signal,date,detail,gemeente_code\n"
                    b"p7,lrv_4w,2024-10-07,x,GM0001\np6,lrv_4w,2024-10-07,x,GM0002\n")
    f2.name = "s2.csv"
    r = client.post(reverse("casework:import"), {"file": f2, "kinds": ["lrv_4w"]})
    assert r.status_code == 400 and "s2.csv:3: gemeente_code" in r.content.decode()
    assert not Case.objects.filter(person_id__in=["p6", "p7"]).exists()


def test_study_team_sees_counts_only(cases, client_for) -> None:
    client = client_for(cases.world.users["study"])
    assert client.get(reverse("casework:case", args=[A])).status_code == 404
    assert client.get(reverse("casework:list")).content.decode().count(A) == 0
    body = client.get(reverse("casework:counts") + "?asof=2024-11-01").content.decode()
    assert A not in body and "pseudoA" not in body
    assert "<td>x</td>" in body and "&lt;10" not in body  # one case per gemeente: hidden
    assert client_for(cases.users["lpaA"]).get(reverse("casework:counts")).status_code == 403


def test_oogo_agreements_shown_on_the_case(cases, client_for) -> None:
    client = client_for(cases.users["lpaA"])
    r = client.post(reverse("casework:oogo"), {
        "region": cases.world.orgs["gemA"].pk, "kind": "case_director",
        "title": "Casusregie A", "valid_from": "2024-01-01"})
    assert r.status_code == 302
    r = client.post(reverse("casework:oogo"), {
        "region": cases.world.orgs["gemB"].pk, "kind": "covenant", "title": "X",
        "valid_from": "2024-01-01"})
    assert r.status_code == 400  # not a region of this officer
    body = client.get(reverse("casework:case", args=[A])).content.decode()
    assert "Casusregie A" in body


def test_officer_changes_the_case_director_and_mandate(cases, client_for) -> None:
    """The director and the mandating bodies change on the case page; audited; B refused."""
    from ozamonitor.web.casework.models import Case

    client = client_for(cases.users["lpaA"])
    r = client.post(reverse("casework:director_set", args=[A]),
                    {"director": cases.users["regieB"].pk,
                     "mandated_by": "gemeente GM0001 en SWV PO01"})
    assert r.status_code == 302
    case = Case.objects.get(code=A)
    assert case.director == cases.users["regieB"]
    assert case.mandated_by == "gemeente GM0001 en SWV PO01"
    assert case.history.filter(director_id=cases.users["regieB"].pk).exists()
    body = client.get(reverse("casework:case", args=[A])).content.decode()
    assert 'id="director-form"' in body and "gemeente GM0001 en SWV PO01" in body
    # a user who is not a case director cannot be chosen (the form names the field)
    client.post(reverse("casework:director_set", args=[A]),
                {"director": cases.world.users["swvA"].pk, "mandated_by": ""})
    assert Case.objects.get(code=A).director == cases.users["regieB"]
    # the director reads the case now; the school cannot change it
    assert client_for(cases.users["regieB"]).get(
        reverse("casework:case", args=[A])).status_code == 200
    assert client_for(cases.world.users["schoolA"]).post(
        reverse("casework:director_set", args=[A]), {"mandated_by": "x"}).status_code in (403, 404)
