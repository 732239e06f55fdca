"""Tests of the synthetic register generator (tiny scale, seconds)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from ozamonitor.cli.main import app
from ozamonitor.register.calendar import age_expr
from ozamonitor.register.schema import TABLES
from ozamonitor.register.store import Register
from ozamonitor.register.validate import validate_register
from ozamonitor.synth import SynthParams, generate
from ozamonitor.synth.evaluate import ground_truth

SCALE = 0.01  # the OZA minimum of 300 participants is reached from this scale
SMALL = 0.002
SEED = 7
EXTRACTION = dt.date(2026, 7, 31)


@pytest.fixture(scope="module")
def reg_path(synthetic_register) -> Path:
    return synthetic_register(SCALE, SEED, extraction_date=EXTRACTION)


@pytest.fixture(scope="module")
def reg(reg_path: Path) -> Register:
    return Register(reg_path)


def test_deterministic_via_cli(tmp_path: Path) -> None:
    p = SynthParams(oza_min_participants=40)
    first = generate(tmp_path / "first", scale=SMALL, seed=SEED, params=p)
    (tmp_path / "params.json").write_text(json.dumps({"oza_min_participants": 40}))
    out = tmp_path / "again"
    res = CliRunner().invoke(app, ["synth", "--scale", str(SMALL), "--seed", str(SEED),
                                   "--out", str(out), "--quiet", "--params",
                                   str(tmp_path / "params.json")])
    assert res.exit_code == 0, res.output
    # at this scale the participant floor selects far above the national rate: said so
    assert "times the national monthly rate" in " ".join(res.output.split()), res.output
    a = json.loads((first / "manifest.json").read_text())
    assert a["synth"]["oza"]["selection_intensity"] > 2
    b = json.loads((out / "manifest.json").read_text())
    assert a["tables"] == b["tables"]  # sha256 of every file
    assert (first / "manifest.json").read_bytes() == (out / "manifest.json").read_bytes()
    other = generate(tmp_path / "other", scale=SMALL, seed=SEED + 1, params=p)
    c = json.loads((other / "manifest.json").read_text())
    assert c["tables"]["persons"]["sha256"] != a["tables"]["persons"]["sha256"]


def test_cli_rejects_bad_date(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["synth", "--out", str(tmp_path / "x"), "--quiet",
                                   "--extraction-date", "2026-13-40"])
    assert res.exit_code != 0
    assert not (tmp_path / "x").exists()


def test_validates_against_schema(reg: Register) -> None:
    report = validate_register(reg, max_problems=20)
    assert len(report) == 0, list(report)
    for name, t in TABLES.items():
        df = reg.read(name)
        assert df.columns == t.column_names
        assert dict(df.schema) == t.polars_schema, name
    for name in ("persons", "enrolments", "residences", "absence_reports", "attendance",
                 "exemptions", "care_spells", "waiting_lists", "oza_participation"):
        assert reg.rows(name) > 0, name


def test_structure_full_size(reg: Register) -> None:
    regions = reg.read("regions")
    kinds = dict(regions.group_by("kind").len().iter_rows())
    assert kinds == {"gemeente": 342, "swv_po": 77, "swv_vo": 75, "youth_care": 42,
                     "province": 12}
    gr = reg.read("gemeente_regions")
    sums = gr.group_by("gemeente_code", "kind").agg(pl.col("share").sum())
    assert (sums["share"] - 1).abs().max() < 1e-6
    multi = gr.filter(pl.col("kind") == "swv_po").group_by("gemeente_code").len()
    assert multi["len"].max() in (2, 3)
    schools = reg.read("schools")
    assert schools["school_id"].str.len_chars().unique().to_list() == [6]
    for kind, sectors in (("swv_po", ["po"]), ("swv_vo", ["vo"])):
        has = schools.filter(pl.col("sector").is_in(sectors))["swv_id"].n_unique()
        assert has == kinds[kind]
    arr = reg.read("arrangements")
    assert arr.height == 76 and arr["initiative_id"].n_unique() == 62


def test_spells_consistent(reg: Register) -> None:
    ext = reg.extraction_date
    for name, t in TABLES.items():
        if t.spell is None:
            continue
        s, e = t.spell
        df = reg.read(name)
        assert df.filter(pl.col(e) < pl.col(s)).height == 0, name
        assert df.filter(pl.col(s) > ext).height == 0, name
        assert df.filter(pl.col(e) > ext).height == 0, name
    enr = reg.read("enrolments").sort("person_id", "start")
    nxt = enr.with_columns(ns=pl.col("start").shift(-1).over("person_id"))
    assert nxt.filter(pl.col("end").is_null() & pl.col("ns").is_not_null()).height == 0
    assert nxt.filter(pl.col("end") >= pl.col("ns")).height == 0
    oza = reg.read("oza_participation").sort("person_id", "start")
    assert oza["person_id"].n_unique() == oza.height  # one participation per person
    # (v)so enrolments carry a TLV; LRV spells last more than 4 weeks
    sch = reg.read("schools").select("school_id", "sector")
    e2 = enr.join(sch, on="school_id")
    assert e2.filter(pl.col("sector").is_in(["so", "vso"]) & pl.col("tlv_category").is_null()
                     ).height == 0
    lrv = reg.read("absence_reports").filter((pl.col("kind") == "lrv")
                                             & pl.col("absence_end").is_not_null())
    days = (lrv["absence_end"] - lrv["absence_start"]).dt.total_days() + 1
    assert days.min() > 28


def test_participants_enrolled_at_host(reg: Register) -> None:
    oza = reg.read("oza_participation")
    enr = reg.read("enrolments")
    j = oza.join(enr, on="person_id", suffix="_e").filter(
        (pl.col("start_e") <= pl.col("start"))
        & (pl.col("end_e").is_null() | (pl.col("end_e") >= pl.col("start"))))
    assert j["person_id"].n_unique() == oza.height
    arr = reg.read("arrangements")
    assert (oza.join(arr.select("arrangement_id", pl.col("start").alias("a")),
                     on="arrangement_id").filter(pl.col("start") < pl.col("a")).height == 0)


def _rate(e: pl.DataFrame, d: dt.date, sector: str, clusters: list[int] | None,
          base: list[str]) -> float:
    a = e.filter((pl.col("start") <= d) & (pl.col("end").is_null() | (pl.col("end") >= d)))
    den = a.filter(pl.col("sector").is_in(base)).height
    num = a.filter(pl.col("sector") == sector)
    if clusters:
        num = num.filter(pl.col("wec_cluster").is_in(clusters))
    return num.height / den


def test_plausible_participation(reg: Register) -> None:
    e = reg.read("enrolments").join(reg.read("schools"), on="school_id")
    d = dt.date(2015, 10, 1)
    prim = ["po", "sbo", "so"]
    assert 0.015 < _rate(e, d, "sbo", None, prim) < 0.035
    assert 0.009 < _rate(e, d, "so", [3, 4], prim) < 0.025
    assert 0.02 < _rate(e, d, "vso", [3, 4], ["vo", "vso"]) < 0.055
    n_primary = e.filter((pl.col("start") <= d) & (pl.col("end").is_null() | (pl.col("end") >= d))
                         & pl.col("sector").is_in(prim)).height
    assert 1.2e6 < n_primary / SCALE < 1.7e6
    persons = reg.read("persons")
    assert 0.005 < persons["child_protection"].mean() < 0.03
    assert persons["newcomer_arrival_date"].is_not_null().mean() > 0.02


def _in_education(reg: Register, ids: pl.DataFrame, months: list[dt.date]) -> pl.DataFrame:
    """The documented outcome, computed from the register (month-end)."""
    enr = reg.read("enrolments").join(ids, on="person_id")
    ab = reg.read("absence_reports").filter(pl.col("kind").is_in(["lrv", "ill"])).join(
        ids, on="person_id")
    rows = []
    for me in months:
        cov = enr.filter((pl.col("start") <= me) & (pl.col("end").is_null()
                                                   | (pl.col("end") >= me)))
        absn = ab.filter((pl.col("absence_start") <= me) & (pl.col("absence_end").is_null()
                                                          | (pl.col("absence_end") >= me)))
        ok = cov.select("person_id").unique().join(absn.select("person_id").unique(),
                                                   on="person_id", how="anti")
        rows.append(ids.with_columns(me=pl.lit(me), y=pl.col("person_id").is_in(
            ok["person_id"].implode())))
    return pl.concat(rows)


def test_ground_truth_matches_register(reg: Register) -> None:
    gt = ground_truth(reg)
    assert gt is not None and gt["outcome"] == "in_education"
    synth = reg.manifest["synth"]
    assert synth["seed"] == SEED and synth["scale"] == SCALE
    assert gt["n_participants"] == reg.rows("oza_participation")
    assert gt["n_participants"] >= 0.9 * synth["oza"]["target_participants"]
    assert set(gt["model"]["lrv_onset_rate_ratio"]) == {"at_risk", "long_term_absent",
                                                        "not_enrolled", "exempt_5a"}
    # observed Y(1) recomputed from the register equals the recorded mean_y1
    oza = reg.read("oza_participation").select("person_id", "start")
    for e in (0, 3, 12):
        ev = oza.with_columns(me=pl.col("start").dt.offset_by(f"{e + 1}mo")
                              .dt.offset_by("-1d"))
        ev = ev.filter(pl.col("me") <= reg.extraction_date)
        months = sorted(set(ev["me"].to_list()))
        y = _in_education(reg, ev.select("person_id"), months).join(
            ev.select("person_id", "me"), on=["person_id", "me"])
        rec = gt["overall"]["by_event_time"][str(e)]
        assert y.height == rec["n"]
        assert abs(y["y"].mean() - rec["mean_y1"]) < 2e-6  # recorded with 6 decimals
    att = gt["overall"]["by_event_time"]["0"]["att"]
    assert att > 0.2  # access: enrolled at the start vs. mostly not in education without OZA
    assert np.isfinite(gt["overall"]["windows"]["0_23"]["att"])


def test_participant_truth_side_file(reg: Register) -> None:
    """Per-participant Y(1), Y(0) reproduce the manifest's truth and key the register."""
    from ozamonitor.synth.evaluate import PARTICIPANT_TRUTH_FILE, participant_truth

    gt = ground_truth(reg)
    assert gt["participants_file"]["file"] == PARTICIPANT_TRUTH_FILE
    pt = participant_truth(reg)
    assert pt is not None and pt.height == gt["participants_file"]["rows"]
    assert pt["y1"].is_in([0, 1]).all() and pt["y0"].is_in([0, 1]).all()
    # keyed like the register: one participation per (person_id, start)
    oza = reg.read("oza_participation").select("person_id", "start")
    keys = pt.select("person_id", "start").unique()
    assert keys.height == oza.height == keys.join(oza, on=["person_id", "start"]).height
    # event-time means equal the recorded aggregate truth, overall and by group
    by_e = pt.group_by("e").agg(att=(pl.col("y1") - pl.col("y0")).cast(pl.Float64).mean(),
                                n=pl.len())
    for e, att, n in by_e.iter_rows():
        rec = gt["overall"]["by_event_time"][str(e)]
        assert n == rec["n"] and abs(att - rec["att"]) < 2e-6
    for g, node in gt["by_target_group"].items():
        sub = pt.filter((pl.col("target_group") == g) & (pl.col("e") <= 23))
        diff = (sub["y1"].cast(pl.Int16) - sub["y0"].cast(pl.Int16)).cast(pl.Float64).mean()
        assert abs(diff - node["windows"]["0_23"]["att"]) < 2e-6


def test_replicates(reg: Register, tmp_path: Path) -> None:
    """E[Y(d) | simulated state] from independent untreated and treated copies: means of
    0/1 outcomes in steps of 1/R, centred on the single realisation (Y(0) copy, observed
    Y(1)), and the register itself does not depend on them (they draw from their own
    random streams)."""
    from ozamonitor.synth.evaluate import participant_truth

    pt = participant_truth(reg)
    assert pt is not None
    r = SynthParams().ground_truth_replicates
    for col, real in (("y0_mean", "y0"), ("y1_mean", "y1")):
        ym = pt[col].to_numpy().astype(float)
        assert np.all((ym >= 0) & (ym <= 1)), col
        assert np.allclose(ym * r, np.round(ym * r), atol=1e-4), col
        assert abs(ym.mean() - pt[real].cast(pl.Float64).mean()) < 0.03, col
    # the treated copies follow the observed world: the OZA start enrols every one
    first = pt.filter(pl.col("e") == 0)
    assert (first["y1_mean"] == 1).all() and (first["y1"] == 1).all()
    p0 = SynthParams(oza_min_participants=40, ground_truth_replicates=0)
    p20 = SynthParams(oza_min_participants=40)
    a = generate(tmp_path / "a", scale=SMALL, seed=SEED, params=p0)
    b = generate(tmp_path / "b", scale=SMALL, seed=SEED, params=p20)
    for name in TABLES:
        assert (a / f"{name}.parquet").read_bytes() == (b / f"{name}.parquet").read_bytes(), name
    pa, pb = participant_truth(a), participant_truth(b)
    assert pa is not None and pb is not None
    means = ["y0_mean", "y1_mean"]
    assert all(pa[c].is_nan().all() and not pb[c].is_nan().any() for c in means)
    assert pa.drop(means).equals(pb.drop(means))


def test_age_of_pupils(reg: Register) -> None:
    enr = reg.read("enrolments").join(reg.read("persons").select("person_id", "birth_date"),
                                      on="person_id")
    ages = enr.select(age_expr(pl.col("birth_date"), pl.col("start")).alias("a"))["a"]
    assert ages.min() >= 3 and ages.max() <= 22


def test_params_roundtrip() -> None:
    p = SynthParams(lrv_incidence=0.0002, lrv_trend={2000: 1.0, 2022: 2.0})
    d = json.loads(json.dumps(p.to_dict()))
    assert SynthParams.from_dict(d) == p
    with pytest.raises(TypeError):
        SynthParams.from_dict({"no_such_rate": 1})
    # a parameter file of an earlier version still reads
    assert SynthParams.from_dict({"ground_truth_y0_replicates": 5}).ground_truth_replicates == 5
