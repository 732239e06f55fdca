"""``ozamonitor publish``: one protected publication folder for the dashboard."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from ozamonitor.causal.monitor import monitor_tables
from ozamonitor.cli.main import app
from ozamonitor.counting.count import Counter
from ozamonitor.privacy.folder import audit_folder, read_folder
from ozamonitor.synth import SynthParams

FIRST, LAST = "2023-2024", "2024-2025"


@pytest.fixture(scope="module")
def reg(synthetic_register) -> Path:
    return synthetic_register(0.002, 5, params=SynthParams(oza_min_participants=60))


@pytest.fixture(scope="module")
def pub(publication) -> Path:
    """The session's publication of ``reg`` (conftest: the same register and years)."""
    return publication


def test_folder_contents(pub):
    manifest, tables, _ = read_folder(pub)
    assert manifest["format"] == "ozamonitor-publication/1"
    assert manifest["periods"] == {"stock": ["2023-10-01", "2024-10-01"],
                                   "flow": ["2023-2024", "2024-2025"]}
    names = set(tables)
    assert {"by_nation", "by_gemeente", "by_swv", "oza_flows", "oza_durations",
            "oza_end_reasons", "oza_destination", "oza_regions", "oza_comparison",
            "oza_outcomes", "oza_provinces", "waterfall", "overlap", "attendance_swv"} <= names
    defs = json.loads((pub / "definitions.json").read_text(encoding="utf-8"))
    assert {d["name"] for d in defs} >= {"ocw2016", "vws", "inspectie"}
    geo = json.loads((pub / "geometry.geojson").read_text(encoding="utf-8"))
    assert {f["properties"]["kind"] for f in geo["features"]} == {"gemeente", "swv_po",
                                                                  "swv_vo", "province"}
    assert (pub / "regions.csv").exists() and (pub / "tables" /
                                              "oza_durations_stats.csv").exists()


def test_no_small_cell_published_and_none_recoverable(pub):
    _, tables, _ = read_folder(pub)
    for name, df in tables.items():
        vals = df["count"].cast(pl.Int64, strict=False)
        small = df.filter(vals.is_between(1, 9))
        assert small.is_empty(), (name, small.head())
    audit = audit_folder(pub)
    assert audit.height > 0 and audit["ok"].all(), audit.filter(~pl.col("ok")).head()


def test_published_counts_equal_the_count_command(reg, pub):
    _, tables, _ = read_folder(pub)
    c = Counter(reg, "all")
    day = dt.date(2024, 10, 1)
    for by, name in (("nation", "by_nation"), ("gemeente", "by_gemeente"), ("swv", "by_swv")):
        truth = c.count(peildatum=day, by=by, threshold=None)
        got = tables[name].filter(pl.col("period") == day.isoformat()).join(
            truth.rename({"count": "true"}), on=["definition", "category", "region", "period"])
        assert got.height == truth.height
        shown = got.filter(pl.col("count") != "x")
        assert shown.height > 0
        assert (shown["count"].cast(pl.Int64) == shown["true"].cast(pl.Int64)).all(), name


def test_monitor_tables_published_unchanged_where_shown(reg, pub):
    _, tables, _ = read_folder(pub)
    for t in monitor_tables(reg, [2023, 2024, 2025, 2026]):
        truth = t.table()
        got = tables[t.name].join(truth.rename({"count": "true"}), on=list(t.dims))
        assert got.height == truth.height, t.name
        shown = got.filter(pl.col("count") != "x")
        assert (shown["count"].cast(pl.Int64) == shown["true"]).all(), t.name
    stats = pl.read_csv(pub / "tables" / "oza_durations_stats.csv", infer_schema=False)
    hidden = stats.filter(pl.col("count") == "x")
    assert (hidden["mean_days"] == "x").all()


def test_audit_disclosure_passes_on_the_publication(pub, tmp_path):
    """``ozamonitor audit-disclosure PUB/`` over every table (counts, waterfall, overlap,
    attendance, monitor) finds no suppressed cell with too narrow an interval."""
    out = tmp_path / "audit.csv"
    res = CliRunner().invoke(app, ["audit-disclosure", str(pub), "--out", str(out)])
    assert res.exit_code == 0, res.output
    audit = pl.read_csv(out)
    assert set(audit["table"].unique().to_list()) >= {"waterfall", "overlap",
                                                      "attendance_swv", "by_gemeente"}
    assert audit["ok"].all()


def test_reconciliation_is_the_counts(pub):
    """A definition's waterfall count and its national total are one figure: equal where
    shown, suppressed alike; overlap diagonals are the same figure too."""
    _, tables, _ = read_folder(pub)
    nat = tables["by_nation"].filter(pl.col("category") == "total").select(
        "period", "definition", total="count")
    wf = tables["waterfall"].filter(pl.col("measure") == "count").join(
        nat, on=["period", "definition"])
    assert wf.height > 0 and (wf["count"] == wf["total"]).all()
    ov = tables["overlap"].filter(pl.col("definition_a") == pl.col("definition_b")).join(
        nat.rename({"definition": "definition_a"}), on=["period", "definition_a"])
    assert ov.height > 0 and (ov["count"] == ov["total"]).all()


def test_attendance_tables_against_the_per_pupil_frame(reg, pub):
    from ozamonitor.attendance.tiers import attendance_per_pupil

    _, tables, _ = read_folder(pub)
    per = attendance_per_pupil(reg, asof=dt.date(2024, 7, 31))
    truth = {"pupils": per.height, "chronic_total": int(per["chronic"].sum()),
             **{t: int((per["tier"] == t).sum()) for t in ("good", "at_risk", "severe")}}
    nat = tables["attendance_swv"].filter((pl.col("period") == FIRST)
                                          & (pl.col("region") == "total"))
    got = dict(nat.select("measure", "count").iter_rows())
    shown = {k: v for k, v in truth.items() if got[k] != "x"}
    assert shown and all(int(got[k]) == v for k, v in shown.items())
    # every SWV cell against the per-pupil frame, where shown
    per_swv = per.group_by(region=pl.col("swv_id").fill_null("unknown")).agg(
        pupils=pl.len(), severe=(pl.col("tier") == "severe").sum())
    swv = tables["attendance_swv"].filter((pl.col("period") == FIRST)
                                          & pl.col("measure").is_in(["pupils", "severe"])
                                          & (pl.col("count") != "x")
                                          & (pl.col("region") != "total"))
    want = per_swv.unpivot(index="region", variable_name="measure", value_name="true")
    both = swv.join(want, on=["region", "measure"], how="left")
    assert both.height > 0
    assert (both["count"].cast(pl.Int64) == both["true"].fill_null(0).cast(pl.Int64)).all()


def test_second_run_keeps_the_first_runs_cells(reg, pub, tmp_path):
    """The command, run again into the folder: the ledger keeps every cell as it was."""
    import shutil

    again = tmp_path / "PUB"
    shutil.copytree(pub, again)
    res = CliRunner().invoke(app, ["publish", "--register", str(reg), "--out", str(again),
                                   "--from", FIRST, "--to", LAST])
    assert res.exit_code == 0, res.output
    _, first, _ = read_folder(pub)
    _, second, _ = read_folder(again)
    for name in first:
        assert first[name].equals(second[name]), name
    ledger = json.loads((again / "ledger.json").read_text(encoding="utf-8"))
    assert len(ledger["runs"]) == 2


def test_bad_options_are_clear_errors(reg, tmp_path):
    res = CliRunner().invoke(app, ["publish", "--register", str(reg), "--out",
                                   str(tmp_path / "P"), "--from", "2025-2026", "--to",
                                   "2024-2025"])
    assert res.exit_code != 0 and "lies before" in res.output
    bad = tmp_path / "g.json"
    bad.write_text("{}")
    res = CliRunner().invoke(app, ["publish", "--register", str(reg), "--out",
                                   str(tmp_path / "P"), "--from", LAST, "--to", LAST,
                                   "--geometry", str(bad)])
    assert res.exit_code != 0 and "FeatureCollection" in res.output
