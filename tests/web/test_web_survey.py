"""The questionnaire in the web application: pages, drafts, submit, prefill, roles, API,
exports, reminders and the CLI's loader. Runs on SQLite and (test_web_postgres) PostgreSQL."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.core import mail
from django.urls import get_resolver, reverse

pytestmark = pytest.mark.django_db

#: A complete, valid part 4 (education), as a respondent fills it in.
LEVEL4 = {
    "l4_sector": "po", "l4_targets": ["long_term_absent"], "l4_locations": ["separate_class"],
    "l4_hours": "12,5", "l4_deviations": ["location"], "l4_core_obj": ["dutch", "maths"],
    "l4_ref_level": "f1", "l4_curriculum": ["adapted"], "l4_teacher": "always",
    "l4_capacity": "12", "l4_outflow": ["mbo"], "om_measures": ["attendance"],
    "om_frequency": "monthly", "l4_promise": ["small_groups"],
}


@pytest.fixture
def wave(world):
    from ozamonitor.web.registry.models import Arrangement
    from ozamonitor.web.survey import service

    return service.open_wave(2024, Arrangement.objects.all())


def error_of(body: str, name: str) -> str:
    """The message shown next to field ``name`` ('' when none)."""
    m = re.search(rf'id="err-{re.escape(name)}"[^>]*>([^<]*)</p>', body)
    assert m, f"no message element for {name}"
    return m.group(1)


def url(code: str, part: str, year: int = 2024) -> str:
    return reverse("survey:answer", args=[year, code, part])


def post(client, target: str, answers: dict, action: str, **extra):
    from ozamonitor.web.survey.models import Response

    data = {k: v for k, v in answers.items()}
    row = Response.objects.filter(arrangement__code=target.split("/")[-3],
                                  part=target.split("/")[-2]).first()
    data.update({"action": action, "version": row.version if row else ""}, **extra)
    return client.post(target, data)


# ------------------------------------------------------------------- answering


def test_index_lists_the_parts_of_each_role(world, wave, client_for) -> None:
    body = client_for(world.users["swvA"]).get(reverse("survey:index")).content.decode()
    for part in ("level1", "level2", "level3", "level4"):
        assert url("OZAA", part) in body
    assert "OZAB" not in body
    body = client_for(world.users["provA"]).get(reverse("survey:index")).content.decode()
    assert url("OZAA", "level3") in body and url("OZAA", "level4") not in body
    body = client_for(world.users["provA"]).get(url("OZAA", "level3")).content.decode()
    assert url("OZAA", "level3") in body and url("OZAA", "level4") not in body  # parts nav
    body = client_for(world.users["schoolA"]).get(reverse("survey:index")).content.decode()
    assert url("OZAA", "level4") in body and url("OZAA", "level3") not in body


def test_constraint_message_names_the_field_and_nothing_is_lost(world, wave, client_for
                                                                 ) -> None:
    client = client_for(world.users["schoolA"])
    resp = post(client, url("OZAA", "level4"), {**LEVEL4, "l4_hours": "50"}, "check")
    body = resp.content.decode()
    assert resp.status_code == 200
    assert "tussen 0 en 40" in error_of(body, "l4_hours") and not error_of(body, "l4_sector")
    assert 'value="50"' in body  # the refused value stays in the field
    # a draft keeps every answer, the wrong one with its message
    resp = post(client, url("OZAA", "level4"), {**LEVEL4, "l4_hours": "50"}, "save")
    from ozamonitor.web.survey.models import Response

    r = Response.objects.get(arrangement__code="OZAA", part="level4")
    assert r.status == "draft" and r.answers["l4_sector"] == "po" and r.answers["l4_hours"] == 50
    assert r.respondent_role == "school_staff" and r.updated_by == world.users["schoolA"]


def test_skip_logic_clears_and_hides(world, wave, client_for) -> None:
    client = client_for(world.users["schoolA"])
    with_time = {**LEVEL4, "l4_deviations": ["time"], "l4_dev_time_why": "korter rooster"}
    body = post(client, url("OZAA", "level4"), with_time, "check").content.decode()
    assert 'id="vis-l4_dev_time_why" data-shown="1"' in body  # shown
    skipped = {**LEVEL4, "l4_deviations": ["location"], "l4_dev_time_why": "korter rooster"}
    body = post(client, url("OZAA", "level4"), skipped, "check").content.decode()
    assert 'id="vis-l4_dev_time_why" data-shown="0"' in body
    post(client, url("OZAA", "level4"), skipped, "save")
    from ozamonitor.web.survey.models import Response

    assert "l4_dev_time_why" not in Response.objects.get(part="level4").answers


def test_htmx_check_returns_the_form_only(world, wave, client_for) -> None:
    client = client_for(world.users["schoolA"])
    resp = client.post(url("OZAA", "level4"), {**LEVEL4, "l4_hours": "-1", "action": "check"},
                       HTTP_HX_REQUEST="true")
    body = resp.content.decode()
    # only what the rules decide, swapped in by id: nothing the respondent types is replaced
    assert "<html" not in body and "<input" not in body and 'hx-swap-oob="true"' in body
    assert error_of(body, "l4_hours") and 'id="vis-l4_dev_time_why" data-shown="0"' in body


def test_submit_needs_required_answers_then_passes(world, wave, client_for) -> None:
    from ozamonitor.web.survey.models import Response

    client = client_for(world.users["swvA"])
    partial = {k: v for k, v in LEVEL4.items() if k != "l4_capacity"}
    resp = post(client, url("OZAA", "level4"), partial, "submit")
    assert resp.status_code == 400 and error_of(resp.content.decode(), "l4_capacity")
    assert Response.objects.get(part="level4").status == "draft"
    resp = post(client, url("OZAA", "level4"), LEVEL4, "submit")
    assert resp.status_code == 302
    r = Response.objects.get(part="level4")
    assert r.status == "submitted" and r.answers["l4_hours"] == 12.5 and r.submitted_at
    assert r.shown >= r.answered >= len(LEVEL4)
    assert r.history.count() == 2  # the audit log has both saves
    body = client.get(url("OZAA", "level4")).content.decode()
    assert "<td>swvA</td>" in body and "<td>l4_capacity</td>" in body  # what the submit changed
    body = client_for(world.users["study"]).get(url("OZAA", "level4")).content.decode()
    assert "swvA" not in body and "l4_capacity" in body


def test_repeat_instances_are_added_and_named(world, wave, client_for) -> None:
    client = client_for(world.users["swvA"])
    body = post(client, url("OZAA", "level1"), {"partner-count": "1"}, "add:partner"
                ).content.decode()
    assert 'name="partner-2-p_name"' in body and 'name="partner-count" value="2"' in body
    resp = post(client, url("OZAA", "level1"),
                {"partner-count": "1", "partner-1-p_name": "x" * 130}, "check")
    assert "120" in error_of(resp.content.decode(), "partner-1-p_name")


def test_stale_form_is_refused(world, wave, client_for) -> None:
    client = client_for(world.users["swvA"])
    post(client, url("OZAA", "level4"), LEVEL4, "save")
    resp = client.post(url("OZAA", "level4"), {**LEVEL4, "action": "save", "version": "0"})
    assert resp.status_code == 409


def test_prefill_from_the_previous_wave(world, client_for) -> None:
    from ozamonitor.web.registry.models import Arrangement
    from ozamonitor.web.survey import service
    from ozamonitor.web.survey.models import Response

    service.open_wave(2023, Arrangement.objects.all())
    client = client_for(world.users["swvA"])
    assert post(client, url("OZAA", "level4", 2023), LEVEL4, "submit").status_code == 302
    service.open_wave(2024, Arrangement.objects.all())
    r = Response.objects.get(wave__year=2024, part="level4")
    assert r.status == "draft" and r.answers["l4_sector"] == "po"
    assert "l4_sector" in r.prefilled and "l4_hours" in r.prefilled
    assert not Response.objects.filter(wave__year=2024, arrangement__code="OZAB").exists()
    body = client.get(url("OZAA", "level4")).content.decode()
    assert "vorige ronde" in body or "voorlopig ingevuld" in body or "badge" in body
    post(client, url("OZAA", "level4"), {**LEVEL4, "l4_sector": "both"}, "save")
    r.refresh_from_db()
    assert "l4_sector" not in r.prefilled and "l4_hours" in r.prefilled


def test_closed_wave_is_read_only(world, wave, client_for) -> None:
    wave.is_open = False
    wave.save()
    client = client_for(world.users["swvA"])
    assert client.get(url("OZAA", "level4")).status_code == 200
    assert post(client, url("OZAA", "level4"), LEVEL4, "save").status_code == 403


# ------------------------------------------------------------------- roles

#: every survey route with SWV B's objects: name -> (args, methods)
ROUTES = {
    "answer": ([2024, "OZAB", "level1"], ("get", "post")),
}
STUDY_ONLY = {"wave_new": [], "wave_toggle": [2024], "wave_remind": [2024],
              "wave_export": [2024, "csv"]}
OTHER = {"index", "wave"}


def test_every_survey_route_is_covered() -> None:
    names = {p.name for p in get_resolver().url_patterns
             if getattr(p, "namespace", None) == "survey" for p in p.url_patterns}
    assert names == set(ROUTES) | set(STUDY_ONLY) | OTHER


@pytest.mark.parametrize("user,code,part,status", [
    ("swvB", "OZAA", "level1", 404), ("swvB", "OZAA", "level4", 404),
    ("provA", "OZAA", "level3", 200), ("provA", "OZAA", "level4", 404),
    ("provA", "OZAA", "level1", 404), ("provB", "OZAA", "level3", 404),
    ("schoolA", "OZAA", "level4", 200), ("schoolA", "OZAA", "level2", 404),
    ("boardA", "OZAA", "level4", 200), ("schoolA", "OZAB", "level4", 404),
    ("nobody", "OZAA", "level1", 404), ("study", "OZAB", "level2", 200),
])
def test_who_sees_which_part(world, wave, client_for, user, code, part, status) -> None:
    assert client_for(world.users[user]).get(url(code, part)).status_code == status


def test_swv_a_never_sees_swv_b_answers(world, wave, client_for) -> None:
    post(client_for(world.users["swvB"]), url("OZAB", "level4"),
         {**LEVEL4, "l4_dev_time_why": "", "l4_promise_txt": "GEHEIM-B"}, "save")
    client = client_for(world.users["swvA"])
    for method in ("get", "post"):
        assert getattr(client, method)(url("OZAB", "level4")).status_code == 404
    for page in (reverse("survey:index"), reverse("survey:wave", args=[2024])):
        body = client.get(page).content.decode()
        assert "OZAB" not in body and "GEHEIM-B" not in body
    assert client.get(reverse("survey:wave_export", args=[2024, "csv"])).status_code == 403


@pytest.mark.parametrize("name", sorted(STUDY_ONLY))
def test_study_team_routes_refuse_respondents(world, wave, client_for, name) -> None:
    target = reverse(f"survey:{name}", args=STUDY_ONLY[name])
    method = "get" if name in ("wave_new", "wave_export") else "post"
    for user in ("swvA", "schoolA", "provA"):
        assert getattr(client_for(world.users[user]), method)(target).status_code == 403


def test_study_team_reads_pseudonymised_and_answers_nothing(world, wave, client_for) -> None:
    post(client_for(world.users["swvB"]), url("OZAB", "level4"), LEVEL4, "save")
    client = client_for(world.users["study"])
    body = client.get(url("OZAB", "level4")).content.decode()
    assert "swvB" not in body and "Arrangement B" not in body and "R-" in body
    assert 'name="action"' not in body  # no buttons
    assert post(client, url("OZAB", "level4"), LEVEL4, "submit").status_code == 403


# ------------------------------------------------------------------- study team


def test_open_a_wave_and_see_the_response_rate(world, client_for) -> None:
    client = client_for(world.users["study"])
    resp = client.post(reverse("survey:wave_new"), {
        "year": "2025", "instrument_version": "2024.1", "deadline": "2025-11-30",
        "arrangements": [world.arrangements["A"].pk], "prefill": "on"})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    post(client_for(world.users["swvA"]), url("OZAA", "level4", 2025), LEVEL4, "submit")
    client = client_for(world.users["study"])
    body = client.get(reverse("survey:wave", args=[2025])).content.decode()
    assert "OZAB" not in body  # the wave is for arrangement A only
    assert "100%" in body and "OZAA · level1" in body  # part 4 submitted, 1 still open
    resp = client.post(reverse("survey:wave_new"), {"year": "2025",
                                                    "instrument_version": "2024.1"})
    assert resp.status_code == 400 and "2025" in resp.content.decode()


def test_reminders_go_to_the_respondents_of_open_parts(world, wave, client_for) -> None:
    for key in ("swvA", "provA", "schoolA", "swvB"):
        world.users[key].email = f"{key}@example.nl"
        world.users[key].save()
    post(client_for(world.users["swvA"]), url("OZAA", "level4"), LEVEL4, "submit")
    resp = client_for(world.users["study"]).post(reverse("survey:wave_remind", args=[2024]))
    assert resp.status_code == 302
    to = {m.to[0]: m.body for m in mail.outbox}
    # school A's only part (education) is submitted: no reminder for it
    assert set(to) == {"swvA@example.nl", "provA@example.nl", "swvB@example.nl"}
    assert "OZAA" in to["provA@example.nl"] and "Zorg" in to["provA@example.nl"]
    assert "OZAB" not in to["swvA@example.nl"]
    assert "Onderwijs" not in to["swvA@example.nl"]  # submitted


@pytest.mark.parametrize("fmt", ["sav", "dta", "csv", "xlsx"])
def test_export_round_trips_with_labels(world, wave, client_for, tmp_path, fmt) -> None:
    post(client_for(world.users["swvA"]), url("OZAA", "level4"), LEVEL4, "submit")
    post(client_for(world.users["swvB"]), url("OZAB", "level4"), LEVEL4, "save")  # draft
    resp = client_for(world.users["study"]).get(
        reverse("survey:wave_export", args=[2024, fmt]))
    assert resp.status_code == 200 and resp["Content-Type"] == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(resp.content))
    names = zf.namelist()
    assert f"oza-survey-2024.{fmt}" in names and "oza-survey-2024_codebook.md" in names
    zf.extractall(tmp_path)
    wide = tmp_path / f"oza-survey-2024.{fmt}"
    if fmt in ("sav", "dta"):
        import pyreadstat

        read = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
        df, meta = read(str(wide))
        assert list(df["arrangement_id"]) == ["OZAA"]  # drafts are not exported
        assert df["l4_hours"].iloc[0] == 12.5
        labels = meta.variable_value_labels["l4_sector"]
        assert labels[df["l4_sector"].iloc[0]].startswith("Primair")
        assert meta.column_names_to_labels["l4_hours"]
    elif fmt == "csv":
        import polars as pl

        df = pl.read_csv(wide)
        assert df["arrangement_id"].to_list() == ["OZAA"] and df["l4_sector"][0] == "po"


# ------------------------------------------------------------------- API


def _token(client, username: str) -> dict[str, str]:
    r = client.post("/api/token", {"username": username, "password": f"pw-{username}"},
                    content_type="application/json")
    return {"HTTP_AUTHORIZATION": f"Bearer {r.json()['token']}"}


def test_api_answers_with_field_errors_and_isolation(world, wave, client) -> None:
    h = _token(client, "schoolA")
    waves = client.get("/api/survey/waves", **h).json()
    assert waves == [{"year": 2024, "instrument_version": "2024.1", "deadline": None,
                      "is_open": True, "arrangements": ["OZAA"]}]
    path = "/api/survey/waves/2024/OZAA/level4"
    assert client.get(path, **h).json()["status"] == "not_started"
    r = client.put(path, {"answers": {**LEVEL4, "l4_hours": 50}, "submit": True},
                   content_type="application/json", **h)
    assert r.status_code == 400
    assert [e["field"] for e in r.json()["errors"]] == ["l4_hours"]
    assert r.json()["status"] == "draft"
    r = client.put(path, {"answers": LEVEL4, "submit": True, "version": r.json()["version"]},
                   content_type="application/json", **h)
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    assert client.put(path, {"answers": LEVEL4, "version": 1},
                      content_type="application/json", **h).status_code == 409
    for other in ("/api/survey/waves/2024/OZAB/level4", "/api/survey/waves/2024/OZAA/level1"):
        assert client.get(other, **h).status_code == 404
    hs = _token(client, "study")
    assert [r["arrangement"] for r in
            client.get("/api/survey/waves/2024/responses", **hs).json()] == ["OZAA"]
    assert client.put(path, {"answers": LEVEL4}, content_type="application/json",
                      **hs).status_code == 403
    hb = _token(client, "swvB")
    assert client.get("/api/survey/waves/2024/responses", **hb).json() == []
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/survey/waves/{year}/{code}/{part}" in paths


# ------------------------------------------------------------------- CLI loader


def test_load_submissions_for_the_cli(world, wave, client_for) -> None:
    from django.conf import settings

    from ozamonitor.survey.submissions import load_answers
    from ozamonitor.web.survey.answers import load_submissions

    post(client_for(world.users["swvA"]), url("OZAA", "level4"), LEVEL4, "submit")
    subs = load_answers(load_submissions(settings.DATA_DIR))
    assert [(s.arrangement_id, s.wave, s.part, s.status) for s in subs] == [
        ("OZAA", 2024, "level4", "submitted")]
    assert subs[0].answers["l4_capacity"] == 12
    post(client_for(world.users["provA"]), url("OZAA", "level3"), {}, "save")
    roles = {s.part: s.respondent_role for s in load_answers(load_submissions(settings.DATA_DIR))}
    assert roles == {"level3": "care_provider_staff", "level4": "swv_staff"}


def test_load_submissions_refuses_a_folder_that_is_not_the_web_applications(tmp_path) -> None:
    from ozamonitor.errors import ConfigurationError
    from ozamonitor.web.survey.answers import load_submissions

    with pytest.raises(ConfigurationError, match="web init"):
        load_submissions(tmp_path)
    assert not list(tmp_path.iterdir())  # nothing was created there


def test_the_survey_catalogue_is_complete_and_compiled() -> None:
    import gettext

    import polib

    from ozamonitor.web.i18n import APP_LOCALES

    po_path = next(p for p in APP_LOCALES if p.parent.name == "survey") / "nl" / \
        "LC_MESSAGES" / "django.po"
    po = polib.pofile(str(po_path))
    assert not [e.msgid for e in po if not e.obsolete and not (
        e.msgstr or any(e.msgstr_plural.values()))]
    with po_path.with_suffix(".mo").open("rb") as f:
        mo = gettext.GNUTranslations(f)
    stale = [e.msgid for e in po if not e.obsolete and not e.msgid_plural
             and mo.gettext(e.msgid) != e.msgstr]
    assert not stale, "run `python -m ozamonitor.web.i18n`"


# ------------------------------------------------------------------- demo


def test_demo_answers_two_waves_with_recoverable_types(tmp_path_factory) -> None:
    from sklearn.metrics import adjusted_rand_score

    from ozamonitor.survey.frame import to_frame
    from ozamonitor.survey.prototypes import find_prototypes
    from ozamonitor.web.demo import load_demo, synthetic_register
    from ozamonitor.web.registry.models import Arrangement
    from ozamonitor.web.survey.answers import DatabaseSource
    from ozamonitor.web.survey.models import Response, Wave

    load_demo(synthetic_register(tmp_path_factory.mktemp("reg") / "register"))
    assert [(w.year, w.is_open, w.arrangements.count()) for w in Wave.objects.order_by("year")
            ] == [(2023, False, 76), (2024, True, 76)]
    first = Response.objects.filter(wave__year=2023)
    assert first.count() == 4 * 76 and not first.exclude(status="submitted").exists()
    later = Response.objects.filter(wave__year=2024)
    assert later.filter(status="draft").exists() and later.exclude(prefilled=[]).exists()
    assert set(later.values_list("respondent_role", flat=True)) <= {"swv_staff",
                                                                    "provider_staff"}
    # the prototypes of the 2023 answers find the registry's arrangement types (ARI 0.60, k 5)
    res = find_prototypes(to_frame(DatabaseSource().submissions()), wave=2023)
    types = dict(Arrangement.objects.values_list("code", "type"))
    mapping = res.mapping()
    codes = sorted(mapping)
    ari = adjusted_rand_score([types[c] for c in codes], [mapping[c] for c in codes])
    assert ari > 0.4, (ari, res.k)
