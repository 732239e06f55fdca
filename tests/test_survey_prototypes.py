"""Synthetic answers, prototype recovery (planted types), register link, tables with
disclosure control, the HTML report and the CLI."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import adjusted_rand_score
from typer.testing import CliRunner

from ozamonitor.survey.answers import evaluate_part
from ozamonitor.survey.frame import to_frame
from ozamonitor.survey.instrument import load_instrument
from ozamonitor.survey.prototypes import (
    arrangement_prototypes,
    describe_prototypes,
    find_prototypes,
    plot_prototypes,
    prototype_features,
    prototype_outcomes,
)
from ozamonitor.survey.synth import ARRANGEMENT_TYPES, assign_types, synthetic_answers
from ozamonitor.survey.tables import (
    changes_over_waves,
    distribution,
    numeric_summary,
    protect_outcomes,
    response_table,
)

IDS = [f"OZA{i:02d}" for i in range(76)]
#: Planted types found back: adjusted Rand index of the silhouette-chosen partition.
ARI_BOUND = 0.5


@pytest.fixture(scope="module")
def subs():
    return synthetic_answers(IDS, seed=0)


@pytest.fixture(scope="module")
def frame(subs):
    return to_frame(subs)


def test_synthetic_answers_are_valid_and_deterministic(subs):
    inst = load_instrument()
    for s in subs:
        assert evaluate_part(inst, s.part, s.answers, final=True).ok
    first = synthetic_answers(IDS[:6], seed=0)
    again = synthetic_answers(IDS[:6], seed=0)
    assert [s.to_dict() for s in again] == [s.to_dict() for s in first]
    other = synthetic_answers(IDS[:6], seed=1)
    assert [s.to_dict() for s in other] != [s.to_dict() for s in first]
    waves = {s.wave for s in subs}
    assert waves == {2023, 2024}
    later = [s for s in subs if s.wave == 2024]
    assert any(s.prefilled for s in later)  # the second wave starts prefilled
    assert any(s.status == "draft" for s in later)
    assert len(later) < len([s for s in subs if s.wave == 2023])  # some parts not started


def test_register_fields_override_the_profile():
    arr = pl.DataFrame({"arrangement_id": ["A", "B"], "type": ["opdc", "care_location"],
                        "deviations": ["time;funding", ""], "target_groups": ["exempt_5a", None],
                        "lead_kind": ["school", "swv"], "financiers": ["zorgkantoor", None]})
    subs = synthetic_answers(arr, waves=[2023], seed=2)
    a = {(s.arrangement_id, s.part): s.answers for s in subs}
    assert a[("A", "level4")]["l4_deviations"] == ["time", "funding"]
    assert a[("B", "level4")]["l4_deviations"] == ["none"]
    assert a[("A", "level4")]["l4_targets"] == ["exempt_5a"]
    assert a[("A", "level1")]["l1_lead"] == "school_board"
    assert a[("B", "level1")]["l1_lead"] == "swv"
    assert "zorgkantoor" in [f["f_kind"] for f in a[("A", "level2")]["financier"]]


def test_types_are_dealt_evenly():
    types = assign_types(IDS, seed=5)
    counts = pl.Series(list(types.values())).value_counts()
    assert set(types.values()) == set(ARRANGEMENT_TYPES)
    assert counts["count"].min() >= 7
    assert assign_types(IDS, seed=5) == types


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_prototypes_recover_the_planted_types(seed):
    subs = synthetic_answers(IDS, seed=seed)
    res = find_prototypes(subs)
    types = assign_types(IDS, seed)
    truth = [types[a] for a in res.arrangement_ids]
    assert adjusted_rand_score(truth, res.labels) > ARI_BOUND
    assert res.silhouette[res.k] == max(res.silhouette.values())
    assert res.silhouette[res.k] > 0.1


def test_prototype_result_shape(frame):
    res = find_prototypes(frame, ks=range(2, 8))
    assert sorted(res.silhouette) == list(range(2, 8))
    sizes = res.sizes()
    assert list(sizes.values()) == sorted(sizes.values(), reverse=True)  # numbered by size
    assert sum(sizes.values()) == len(res.arrangement_ids)
    mapping = res.mapping()
    assert set(mapping.values()) == set(range(1, res.k + 1))
    for p, medoid in enumerate(res.medoids, start=1):
        assert mapping[medoid] == p
    assert res.assignments().columns == ["arrangement_id", "wave", "prototype"]
    assert arrangement_prototypes(frame, ks=range(2, 8)) == mapping  # deterministic
    fixed = find_prototypes(frame, k=4, ks=range(2, 6))
    assert fixed.k == 4
    fig = plot_prototypes(res, lang="en")
    assert len(fig.axes) == 2


def test_features_weigh_every_part_equally(frame):
    f = prototype_features(frame)
    by_part: dict[str, float] = {}
    for name, w in f.weights.items():
        by_part[f.variables[name].part] = by_part.get(f.variables[name].part, 0.0) + w
    assert by_part == pytest.approx(dict.fromkeys(["level1", "level2", "level3", "level4"], 1.0))
    assert "l1_promise_txt" not in f.kinds and "l4_promise_small_groups" not in f.kinds
    assert f.kinds["l3_integration"] == "ordinal"
    assert f.ordinal_levels["l3_integration"] == ["side_by_side", "coordinated", "integrated"]
    only4 = prototype_features(frame, parts=["level4"])
    assert {only4.variables[n].part for n in only4.kinds} == {"level4"}


def test_description_names_the_planted_differences(frame):
    res = find_prototypes(frame, k=7)
    d = describe_prototypes(res, lang="en", top=50)
    assert set(d["part"]) <= {"level1", "level2", "level3", "level4"}
    assert (d["score"] > 0).all()
    # the care-location type: day activities as outflow should set one prototype apart
    hit = d.filter(pl.col("variable") == "l4_outflow_day_activities")
    assert hit.height >= 1 and hit["prototype_value"].max() > 0.7


def _register(tmp_path, ids):
    from ozamonitor.register.schema import TABLES
    from ozamonitor.register.store import write_register

    tables = {n: pl.DataFrame(schema=t.polars_schema) for n, t in TABLES.items()}
    arr_rows = [{"arrangement_id": a, "initiative_id": f"I{a}", "name": a, "lead_kind": "swv",
                 "lead_id": "PO01", "swv_id": "PO01", "gemeente_code": "GM0001",
                 "care_provider": "Zorg", "financiers": "gemeente",
                 "deviations": "time", "target_groups": "at_risk;exempt_5a" if i % 2 else
                 "long_term_absent", "start": dt.date(2023, 8, 1)} for i, a in enumerate(ids)]
    tables["arrangements"] = pl.DataFrame(arr_rows).cast(TABLES["arrangements"].polars_schema)
    part_rows = []
    for i, a in enumerate(ids):
        for j in range(12):
            ended = j % 3 != 0
            part_rows.append({"person_id": f"P{i:02d}{j:02d}", "arrangement_id": a,
                              "start": dt.date(2023, 9, 1),
                              "end": dt.date(2024, 3, 1) if ended else None,
                              "end_reason": ["regular_education", "care"][j % 2] if ended
                              else None})
    tables["oza_participation"] = pl.DataFrame(part_rows).cast(
        TABLES["oza_participation"].polars_schema)
    return write_register(tmp_path / "reg", tables, extraction_date=dt.date(2024, 7, 31))


def test_prototype_outcomes_from_the_register(tmp_path, frame):
    res = find_prototypes(frame, k=3)
    reg = _register(tmp_path, IDS)
    out = prototype_outcomes(res, reg)
    assert out["prototype"].to_list() == [1, 2, 3]
    sizes = res.sizes()
    assert out["arrangements"].to_list() == [sizes[p] for p in (1, 2, 3)]
    assert out["participants"].to_list() == [12 * sizes[p] for p in (1, 2, 3)]
    # two thirds of the participations ended, half of the ended ones to regular education
    assert out["ended"].to_list() == [8 * sizes[p] for p in (1, 2, 3)]
    assert (out["end_regular_education"] + out["end_care"]).to_list() == out["ended"].to_list()
    m = res.mapping()
    odd = np.mean([IDS.index(a) % 2 for a in res.arrangement_ids if m[a] == 1])
    assert out["target_exempt_5a"][0] == pytest.approx(odd)
    safe = protect_outcomes(out)
    assert safe["participants"].dtype == pl.String


def test_distributions_are_disclosure_controlled(frame):
    t = distribution(frame, "l4_sector")
    for r in t.filter(pl.col("suppression").is_null()).iter_rows(named=True):
        assert r["count"] == 0 or r["count"] >= 10
    # no single hidden cell in a group: it could be recovered from the published total
    groups = t.filter(pl.col("category") != "total").group_by("wave").agg(
        hidden=pl.col("suppression").is_not_null().sum())
    assert 1 not in groups["hidden"].to_list()
    internal = distribution(frame, "l4_sector", internal=True)
    assert internal["suppression"].null_count() == internal.height
    assert internal.filter(pl.col("category") == "total")["count"].to_list() == \
        t.filter(pl.col("category") == "total")["count"].to_list()
    m = distribution(frame, "l4_deviations", lang="en")
    for (_, _), g in m.group_by(["choice", "wave"]):
        visible = g.filter(pl.col("suppression").is_null() & (pl.col("category") != "total"))
        assert visible.height in (0, 2)  # selected and not selected shown or hidden together


def test_small_counts_by_brute_force(frame):
    """Every published category count equals the count of arrangements in the frame."""
    t = distribution(frame, "l3_integration", internal=True)
    for r in t.filter(pl.col("category") != "total").iter_rows(named=True):
        rows = frame.wide.filter((pl.col("wave") == r["wave"]) &
                                 (pl.col("l3_integration") == r["category"]))
        assert r["count"] == rows.height


def test_numeric_summary_withholds_small_groups(frame):
    t = numeric_summary(frame, "l4_hours")
    assert t["median"].null_count() == 0
    small = frame.wide.head(5)
    from ozamonitor.survey.frame import SurveyFrame

    f = SurveyFrame(small, frame.repeats, frame.variables, frame.instrument)
    s = numeric_summary(f, "l4_hours")
    assert s["median"].null_count() == s.height and s["n"].null_count() == s.height
    assert numeric_summary(f, "l4_hours", internal=True)["median"].null_count() == 0


def test_response_and_changes(subs, frame):
    r = response_table(subs)
    assert r.height == 8
    w1 = r.filter(pl.col("wave") == 2023)
    assert w1["submitted"].to_list() == [76] * 4 and w1["response"].to_list() == [1.0] * 4
    w2 = r.filter(pl.col("wave") == 2024)
    assert (w2["submitted"] + w2["draft"] + w2["not_started"]).to_list() == [76] * 4
    c = changes_over_waves(frame, from_wave=2023, to_wave=2024, internal=True)
    assert (c["changed"] + c["unchanged"] == c["both"]).all()
    assert c.filter(pl.col("question") == "l1_lead")["changed"][0] >= 0


def test_report_html(tmp_path, subs):
    from ozamonitor.report.survey import survey_report

    reg = _register(tmp_path, IDS)
    pub = survey_report(subs, tmp_path / "r.html", lang="en", register=reg)
    text = pub.read_text()
    assert "Response and completeness" in text and "Prototypes" in text
    assert "&lt;10" in text  # suppressed cells shown as <10
    assert "Korte lijnen" not in text  # no free text in the published report
    internal = survey_report(subs, tmp_path / "i.html", lang="nl", internal=True)
    assert "Korte lijnen" in internal.read_text()


def test_cli(tmp_path):
    from ozamonitor.cli.main import app

    run = CliRunner().invoke
    a = tmp_path / "a.json"
    r = run(app, ["survey", "synth", "--n", "24", "--out", str(a), "--seed", "4"])
    assert r.exit_code == 0, r.output
    r = run(app, ["survey", "check", "--answers", str(a)])
    assert r.exit_code == 0 and "0 problems" in r.output
    r = run(app, ["survey", "instrument", "--out", str(tmp_path / "f.xlsx"), "--lang", "en"])
    assert r.exit_code == 0 and (tmp_path / "f.xlsx").exists()
    r = run(app, ["survey", "export", "--answers", str(a), "--format", "dta", "--out",
                  str(tmp_path / "x" / "a.dta"), "--wave", "2023"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "x" / "a_partner.dta").exists()
    r = run(app, ["survey", "prototypes", "--answers", str(a), "--out", str(tmp_path / "p"),
                  "--k-range", "2..5"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "p" / "prototypes.csv").exists()
    r = run(app, ["survey", "prefill", "--answers", str(a), "--from", "2024", "--to", "2025",
                  "--out", str(tmp_path / "b.parquet")])
    assert r.exit_code == 0, r.output
    r = run(app, ["survey", "report", "--answers", str(tmp_path / "b.parquet"), "--out",
                  str(tmp_path / "r.html")])
    assert r.exit_code == 0, r.output
    # errors: no source, both sources, a bad file
    assert run(app, ["survey", "export", "--out", str(tmp_path / "e.csv")]).exit_code == 2
    r = run(app, ["survey", "report", "--data-dir", str(tmp_path), "--out",
                  str(tmp_path / "r.html")])
    assert r.exit_code == 2 and "web application" in r.output
    (tmp_path / "bad.json").write_text("[{}]")
    r = run(app, ["survey", "check", "--answers", str(tmp_path / "bad.json")])
    assert r.exit_code == 1 and "bad.json:1: arrangement_id" in r.output
