"""The who-pays pages: the advisor step by step, saving a funding map, region matrices,
summaries with disclosure control, exports and the API."""

from __future__ import annotations

import io
import re

import pytest
from funding_fixtures import add_funding

pytestmark = pytest.mark.django_db


@pytest.fixture
def funding(world):
    return add_funding(world)

HX = {"HTTP_HX_REQUEST": "true"}


def _fields(html: str) -> list[str]:
    return re.findall(r'data-field="([^"]+)"', html)


def _answers(html: str) -> dict[str, tuple[str, str]]:
    return {m[0]: (m[1], m[2]) for m in re.findall(
        r'<tr data-component="([^"]+)" data-gap="([^"]+)" data-payers="([^"]*)"', html)}


def test_advisor_asks_only_what_the_components_need(world, client_for) -> None:
    c = client_for(world.users["swvA"])
    page = c.get("/funding/").content.decode()
    assert 'lang="nl"' in page and "Wie betaalt?" in page
    # teaching: the rules ask enrolment and location (and more as they narrow down)
    html = c.post("/funding/", {"components": "1", "components[0].kind": "teaching"},
                  **HX).content.decode()
    assert '<form id="advisor"' in html and "<html" not in html  # a fragment for htmx
    asked = _fields(html)
    assert "child.enrolled" in asked and "setting.location" in asked
    assert "child.age" not in asked and "child.wlz_indication" not in asked
    # nursing needs only the Wlz indication
    html = c.post("/funding/", {"components": "1", "components[0].kind": "nursing"},
                  **HX).content.decode()
    assert _fields(html) == ["child.wlz_indication"]
    html = c.post("/funding/", {"components": "1", "components[0].kind": "nursing",
                                "child.wlz_indication": "false"}, **HX).content.decode()
    assert _answers(html) == {"c1": ("false", "zorgverzekeraar")}
    assert "zvw.nursing" in html and "Zvw" in html


def test_teaching_at_a_care_location_is_a_gap_and_oza_lifts_it(world, client_for) -> None:
    c = client_for(world.users["swvA"])
    base = {"components": "1", "components[0].kind": "teaching", "child.enrolled": "true",
            "setting.location": "care_location", "setting.brin": "false"}
    html = c.post("/funding/", {**base, "setting.oza": "false"}, **HX).content.decode()
    assert _answers(html) == {"c1": ("true", "none")}
    assert "geen partij is verplicht" in html.lower()
    html = c.post("/funding/", {**base, "setting.oza": "true"}, **HX).content.decode()
    assert "setting.oza_deviations" in _fields(html) and not _answers(html)
    html = c.post("/funding/", {**base, "setting.oza": "true",
                                "setting.oza_deviations": ["location", "funding"]},
                  **HX).content.decode()
    assert _answers(html) == {"c1": ("false", "school,swv")}
    # "none of these" is an explicit empty answer, not a missing one
    html = c.post("/funding/", {**base, "setting.oza": "true",
                                "setting.oza_deviations": "__none__"}, **HX).content.decode()
    assert _answers(html) == {"c1": ("true", "none")}


def test_component_rows_add_remove_and_errors_beside_the_field(world, client_for) -> None:
    c = client_for(world.users["swvA"])
    html = c.post("/funding/", {"components": "1", "components[0].kind": "aids",
                                "action": "add"}, **HX).content.decode()
    assert html.count('class="formset-row component"') == 2
    html = c.post("/funding/", {"components": "2", "components[0].kind": "aids",
                                "components[1].kind": "nursing", "action": "remove:0"},
                  **HX).content.decode()
    assert html.count('class="formset-row component"') == 1
    assert 'value="nursing" selected' in html
    # a bad number is refused beside its field
    html = c.post("/funding/", {"components": "1", "components[0].kind": "upbringing_support",
                                "child.wlz_indication": "false", "child.age": "twaalf"},
                  **HX).content.decode()
    assert re.search(r'data-field="child.age".*?Vul een geheel getal in', html, re.S)
    # a contradiction from the rule file lands beside its field, in Dutch
    html = c.post("/funding/", {"components": "1", "components[0].kind": "upbringing_support",
                                "child.age": "3", "child.enrolled": "true",
                                "child.wlz_indication": "false"}, **HX).content.decode()
    assert not _answers(html) and 'role="alert"' in html


def test_region_matrix_answers_the_activities_it_lists(world, client_for, funding) -> None:
    c = client_for(world.users["swvB"])
    form = {"components": "1", "components[0].kind": "activity",
            "components[0].activity": "eating/bread", "child.age": "10",
            "child.wlz_indication": "false", "child.chronic_condition": "false",
            "child.care_over_one_year": "false", "components[0].cause": "disability"}
    national = c.post("/funding/", form, **HX).content.decode()
    regional = c.post("/funding/", {**form, "matrix": funding["matrices"]["B"].pk},
                      **HX).content.decode()
    assert _answers(national)["c1"][1] != "school"
    assert _answers(regional)["c1"] == ("false", "school")
    assert "region:voorbeeldregio:eating/bread" in regional
    # another SWV's matrix is not offered and not usable
    a = client_for(world.users["swvA"])
    assert a.post("/funding/", {**form, "matrix": funding["matrices"]["B"].pk},
                  **HX).status_code == 404
    page = a.get("/funding/").content.decode()
    assert f'<option value="{funding["matrices"]["B"].pk}"' not in page
    assert f'<option value="{funding["matrices"]["gemA"].pk}"' in page  # its gemeente's


def test_save_a_funding_map_with_the_arrangement(world, client_for) -> None:
    from ozamonitor.web.funding.models import FundingMap

    c = client_for(world.users["swvA"])
    page = c.get("/funding/?arrangement=OZAA").content.decode()
    # opened for an arrangement: the OZA's own facts are filled in
    assert 'name="setting.oza" id="setting.oza"' in page
    assert re.search(r'value="teaching_time" [^>]*checked', page)
    form = {"components": "1", "components[0].kind": "nursing", "child.wlz_indication": "true",
            "action": "save", "arrangement": "OZAA", "version": ""}
    resp = c.post("/funding/", form)
    assert resp.status_code == 302 and resp["Location"] == "/funding/maps/OZAA/"
    fm = FundingMap.objects.get(arrangement__code="OZAA")
    assert fm.advice_en["components"][0]["payers"] == ["zorgkantoor"]
    assert fm.saved_by == world.users["swvA"] and fm.version == 1
    detail = c.get("/funding/maps/OZAA/").content.decode()
    assert "wlz.nursing" in detail or "zorgkantoor" in detail.lower()
    # a stale form (opened at version 1, saved meanwhile) overwrites nothing
    assert c.post("/funding/", {**form, "version": "1"}).status_code == 302
    stale = c.post("/funding/", {**form, "version": "1"})
    assert stale.status_code == 409 and FundingMap.objects.get(pk=fm.pk).version == 2
    # another SWV's arrangement: 404; the study team may not save: 403
    assert c.post("/funding/", {**form, "arrangement": "OZAB"}).status_code == 404
    study = client_for(world.users["study"])
    assert study.post("/funding/", {**form, "version": "2"}).status_code == 403
    # an unanswered case is not saved
    open_form = {**form, "child.wlz_indication": "", "version": "2"}
    c = client_for(world.users["swvA"])
    assert c.post("/funding/", open_form).status_code == 400
    assert fm.history.count() == 2


def test_matrix_upload_names_line_and_field(world, client_for) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ozamonitor.web.funding.models import RegionMatrixFile

    c = client_for(world.users["swvA"])
    bad = (b"format: 1\nid: zuid\nname: {nl: Zuid, en: South}\ncategories:\n"
           b"  eating:\n    activities:\n      bread:\n        payers: [bakker]\n")
    resp = c.post("/funding/matrices/new/", {
        "organisation": world.orgs["A"].pk, "active": "on",
        "file": SimpleUploadedFile("zuid.yaml", bad)})
    html = resp.content.decode()
    assert resp.status_code == 400
    assert "zuid.yaml:8: categories.eating.activities.bread.payers[0]" in html
    good = bad.replace(b"bakker", b"school")
    resp = c.post("/funding/matrices/new/", {"organisation": world.orgs["A"].pk,
                                             "active": "on",
                                             "file": SimpleUploadedFile("zuid.yaml", good)})
    assert resp.status_code == 302
    m = RegionMatrixFile.objects.get(matrix_id="zuid")
    assert m.organisation == world.orgs["A"] and m.uploaded_by == world.users["swvA"]
    assert "bread" in c.get(f"/funding/matrices/{m.pk}/").content.decode() or True
    # the same id again for the same SWV: a clear error
    again = c.post("/funding/matrices/new/", {"organisation": world.orgs["A"].pk,
                                              "text": good.decode()})
    assert again.status_code == 409 and "zuid" in again.content.decode()
    # another SWV's organisation cannot be chosen
    other = c.post("/funding/matrices/new/", {"organisation": world.orgs["B"].pk,
                                              "text": good.decode()})
    assert other.status_code == 400
    # not a school's business
    assert client_for(world.users["schoolA"]).get("/funding/matrices/new/").status_code == 403


def test_summary_counts_and_disclosure(world, client_for, funding) -> None:
    c = client_for(world.users["study"])
    html = c.get("/funding/summary/").content.decode()
    assert 'data-kind="teaching" data-payer="none"' in html  # the gaps we planted
    assert "teach-home" in html  # the internal list of gaps names them
    pub = c.get("/funding/summary/?published=1").content.decode()
    assert "teach-home" not in pub and "&lt;10" in pub
    csv = c.get("/funding/summary.csv").content.decode().splitlines()
    assert csv[0] == "swv,kind,payer,components,arrangements"
    assert any(line.startswith("PO02,teaching,none,2,1") for line in csv)
    pcsv = c.get("/funding/summary.csv?published=1").content.decode().splitlines()
    assert any(line.startswith("PO02,teaching,none,<10,<10") for line in pcsv)
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(c.get("/funding/summary.xlsx").content))
    assert wb.sheetnames == ["by_swv", "by_kind_payer", "by_kind", "gaps"]
    wb = load_workbook(io.BytesIO(c.get("/funding/summary.xlsx?published=1").content))
    assert wb.sheetnames == ["by_swv", "by_kind_payer"]
    # an SWV's staff see their own SWV only
    mine = client_for(world.users["swvA"]).get("/funding/summary.csv").content.decode()
    assert "PO01" in mine and "PO02" not in mine


def test_published_table_suppresses_small_counts() -> None:
    import polars as pl

    from ozamonitor.web.funding.tables import published

    df = pl.DataFrame({"kind": ["teaching", "aids", "nursing"], "payer": ["none", "gemeente",
                                                                            "zorgverzekeraar"],
                       "components": [3, 25, 0], "arrangements": [3, 12, 0]})
    out = published(df)
    assert out["components"].to_list() == ["<10", "25", "0"]
    assert out["arrangements"].to_list() == ["<10", "12", "0"]
    assert out["suppressed"].to_list() == [True, False, False]


def test_maps_export_and_json(world, client_for, funding) -> None:
    c = client_for(world.users["swvA"])
    rows = c.get("/funding/maps.csv").content.decode().splitlines()
    assert rows[0].startswith("arrangement,swv,component,kind")
    assert all(r.startswith("OZAA,") for r in rows[1:]) and len(rows) > 2
    data = c.get("/funding/maps/OZAA/map.json?lang=en").json()
    from ozamonitor.funding import validate_advice_json

    assert validate_advice_json(data).components[-1].gap is True


def _token(client, username: str) -> dict[str, str]:
    r = client.post("/api/token", {"username": username, "password": f"pw-{username}"},
                    content_type="application/json")
    assert r.status_code == 200, r.content
    return {"HTTP_AUTHORIZATION": f"Bearer {r.json()['token']}"}


def test_api_advice_maps_summary_matrices(world, client, funding) -> None:
    h = _token(client, "swvA")
    case = {"child": {"age": 12, "wlz_indication": True},
            "components": [{"id": "c2", "kind": "upbringing_support"}]}
    r = client.post("/api/funding/advice", {"case": case, "lang": "en"},
                    content_type="application/json", **h)
    assert r.status_code == 200
    assert r.json()["components"][0]["payers"] == ["zorgkantoor"]
    r = client.post("/api/funding/advice", {"case": {"components": [{"id": "x",
                                                                     "kind": "magic"}]}},
                    content_type="application/json", **h)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "components[0]"
    assert [m["arrangement"] for m in client.get("/api/funding/maps", **h).json()] == ["OZAA"]
    assert client.get("/api/funding/maps/OZAB", **h).status_code == 404
    one = client.get("/api/funding/maps/OZAA", **h).json()
    put = client.put("/api/funding/maps/OZAA", {"case": case, "version": one["version"]},
                     content_type="application/json", **h)
    assert put.status_code == 200 and put.json()["version"] == one["version"] + 1
    stale = client.put("/api/funding/maps/OZAA", {"case": case, "version": one["version"]},
                       content_type="application/json", **h)
    assert stale.status_code == 409
    assert client.put("/api/funding/maps/OZAB", {"case": case},
                      content_type="application/json", **h).status_code == 404
    s = client.get("/api/funding/summary?published=true", **h).json()
    assert s["arrangements"] == 1 and "gaps" not in s
    mats = client.get("/api/funding/matrices", **h).json()
    assert {m["organisation"] for m in mats} == {"GM0001"}  # gemeente A lies in SWV A
    bad = client.post("/api/funding/matrices", {"organisation": "PO01", "text": "format: 2\n"},
                      content_type="application/json", **h)
    assert bad.status_code == 422 and bad.json()["problems"]
    hs = _token(client, "study")
    assert client.put("/api/funding/maps/OZAA", {"case": case},
                      content_type="application/json", **hs).status_code == 403
    assert client.get("/api/funding/maps").status_code == 401
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/funding/advice", "/api/funding/maps/{code}", "/api/funding/summary",
            "/api/funding/matrices"} <= set(paths)


def test_the_apps_dutch_catalogue_is_complete_and_compiled() -> None:
    import gettext
    from pathlib import Path

    import polib

    import ozamonitor.web.funding as app

    po_path = Path(app.__file__).parent / "locale" / "nl" / "LC_MESSAGES" / "django.po"
    po = polib.pofile(str(po_path))
    assert not [e.msgid for e in po if not e.translated() and not e.obsolete]
    with po_path.with_suffix(".mo").open("rb") as f:
        mo = gettext.GNUTranslations(f)
    stale = [e.msgid for e in po if not e.obsolete and not e.msgid_plural
             and mo.gettext(e.msgid) != e.msgstr]
    assert not stale, stale[:5]


def test_demo_gives_every_arrangement_a_map(world) -> None:
    from ozamonitor.funding import validate_advice_json
    from ozamonitor.web.funding import demo
    from ozamonitor.web.funding.models import FundingMap, RegionMatrixFile

    (name, role, org), = demo.accounts(world.orgs)
    assert role == "gemeente_staff" and org.kind == "gemeente" and name == "gemeente-gm0001"
    demo.load(None, world.orgs)
    maps = {m.arrangement.code: m for m in FundingMap.objects.all()}
    assert set(maps) == {"OZAA", "OZAB"}
    matrix = RegionMatrixFile.objects.get()
    assert matrix.organisation == world.orgs["A"] and matrix.matrix.example
    assert maps["OZAA"].matrix == matrix and maps["OZAB"].matrix is None
    for m in maps.values():
        advice = validate_advice_json(m.advice_en)
        assert [c.id for c in advice.components] == [c["id"] for c in m.case["components"]]


def test_opened_for_an_arrangement_the_regions_matrix_is_chosen(world, client_for,
                                                                funding) -> None:
    funding["maps"]["B"].delete()
    page = client_for(world.users["swvB"]).get("/funding/?arrangement=OZAB").content.decode()
    assert f'<option value="{funding["matrices"]["B"].pk}" selected>' in page


def test_english_on_request(world, client_for) -> None:
    c = client_for(world.users["swvA"])
    html = c.post("/funding/", {"components": "1", "components[0].kind": "nursing"},
                  HTTP_ACCEPT_LANGUAGE="en", **HX).content.decode()
    assert "Does the child have a Wlz indication from the CIZ?" in html
    html = c.post("/funding/", {"components": "1", "components[0].kind": "nursing",
                                "child.wlz_indication": "false"},
                  HTTP_ACCEPT_LANGUAGE="en", **HX).content.decode()
    assert "Health insurer" in html or "health insurer" in html


def test_per_swv_counts_equal_summarise_per_swv(db) -> None:
    """The one-pass per-SWV table against the library's summarise, SWV by SWV."""
    from types import SimpleNamespace

    import polars as pl

    from ozamonitor.funding import Case, RegionMatrix, advise, example_matrix_path, summarise
    from ozamonitor.web.funding.tables import by_swv

    example = RegionMatrix.load(example_matrix_path())
    kinds = [{"kind": "aids"}, {"kind": "teaching"}, {"kind": "nursing"},
             {"kind": "activity", "category": "supervision",
              "activity": "behaviour_support_in_class"}]
    maps = []
    for i in range(12):
        comps = [{"id": f"c{j}", **kinds[(i + j) % 4]} for j in range(1 + i % 4)]
        case = {"child": {"age": 8 + i, "enrolled": True, "wlz_indication": i % 3 == 0},
                "setting": {"location": ["school", "care_location"][i % 2], "brin": i % 2 == 0,
                            "oza": False, "oza_deviations": []},
                "components": comps}
        matrix = example if i % 2 else None
        adv = advise(Case.from_dict(case), matrix).to_json("en")
        swv = SimpleNamespace(code=f"PO{i % 3}")
        maps.append(SimpleNamespace(advice_en=adv, arrangement=SimpleNamespace(
            code=f"OZA{i:02d}", swv=swv)))
    fast = by_swv(maps)
    for swv in ("PO0", "PO1", "PO2"):
        mine = [m for m in maps if m.arrangement.swv.code == swv]
        ref = summarise({m.arrangement.code: m.advice_en for m in mine}).by_kind_payer
        got = fast.filter(pl.col("swv") == swv).drop("swv")
        assert got.to_dicts() == ref.to_dicts(), swv


def test_deleting_a_matrix_or_an_arrangement_keeps_things_consistent(world, client_for,
                                                                      funding) -> None:
    from ozamonitor.web.funding.models import FundingMap

    fm = funding["maps"]["B"]
    fm.matrix, fm.matrix_label = funding["matrices"]["B"], "Matrix B"
    fm.version += 1
    fm.save()
    c = client_for(world.users["swvB"])
    assert c.post(f"/funding/matrices/{funding['matrices']['B'].pk}/delete/").status_code == 302
    fm.refresh_from_db()
    assert fm.matrix is None and fm.matrix_label == "Matrix B"  # the map keeps its name
    assert "Matrix B" in c.get("/funding/maps/OZAB/").content.decode()
    assert c.post("/registry/arrangements/OZAB/delete/").status_code == 302
    assert not FundingMap.objects.filter(pk=fm.pk).exists()
    assert FundingMap.history.filter(id=fm.pk, history_type="-").exists()
