"""``ozamonitor signals`` and ``ozamonitor attendance``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from ozamonitor.cli.main import app
from ozamonitor.register.school_calendar import SchoolCalendar
from ozamonitor.register.store import write_register

D = dt.date
runner = CliRunner()


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 pupils at one po school in GM0001 (middle), absence in September 2024."""
    cal = SchoolCalendar.default()
    days = cal.school_days("middle", D(2024, 9, 2), D(2024, 12, 20))
    people = [f"p{i:02d}" for i in range(30)]
    rows = []
    for i, p in enumerate(people):
        if i < 3:  # long-term unauthorised absence
            rows += [(p, d, 5.0, "unauthorised") for d in days]
        elif i < 15:  # a few sick days
            rows += [(p, d, 5.0, "illness") for d in days[i:i + 3]]
    ab = pl.DataFrame(rows, schema={"person_id": pl.String, "date": pl.Date,
                                    "hours": pl.Float64, "kind": pl.String}, orient="row")
    ab = ab.with_columns(school_id=pl.lit("10AA00"), scheduled_hours=pl.lit(None, pl.Float64),
                         dagdelen=pl.lit(None, pl.Int32), minutes=pl.lit(None, pl.Int32))
    tables = {
        "regions": pl.DataFrame({"region_id": ["GM0001", "PO01"], "kind": ["gemeente",
                                                                         "swv_po"],
                                 "name": ["A", "B"]}),
        "schools": pl.DataFrame({"school_id": ["10AA00"], "brin": ["10AA"], "name": ["S"],
                                 "sector": ["po"], "wec_cluster": [None],
                                 "gemeente_code": ["GM0001"], "swv_id": ["PO01"]}),
        "persons": pl.DataFrame({"person_id": people, "birth_date": D(2016, 3, 1),
                                 "sex": "F", "parent_education": "middle",
                                 "income_decile": 5, "migration_background": "dutch",
                                 "household_type": "two_parents",
                                 "newcomer_arrival_date": None, "child_protection": False}),
        "residences": pl.DataFrame({"person_id": people, "gemeente_code": "GM0001",
                                    "start": D(2016, 3, 1), "end": None}),
        "enrolments": pl.DataFrame({"person_id": people, "school_id": "10AA00",
                                    "start": D(2020, 8, 1), "end": None, "end_reason": None,
                                    "tlv_category": None}),
        "absence_days": ab,
    }
    out = tmp_path_factory.mktemp("reg") / "reg"
    return write_register(out, tables, extraction_date=D(2025, 7, 31))


def test_signals_from_register_and_from_csv(reg: Path, tmp_path: Path) -> None:
    out = tmp_path / "s" / "signals.csv"
    res = runner.invoke(app, ["signals", "--register", str(reg), "--asof", "2024-12-20",
                              "--out", str(out), "--episodes", str(tmp_path / "s" / "ep.csv")])
    assert res.exit_code == 0, res.output
    assert "MICRODATA" in res.output
    assert (out.stat().st_mode & 0o777) == 0o600
    assert (out.parent.stat().st_mode & 0o777) == 0o700
    s = pl.read_csv(out, try_parse_dates=True)
    assert s.columns == ["person_id", "signal", "date", "detail"]
    lrv = s.filter(pl.col("signal") == "lrv_4w")
    assert lrv["person_id"].to_list() == ["p00", "p01", "p02"]
    assert lrv["date"].to_list() == [D(2024, 9, 30)] * 3
    # the same from a CSV with the absence_days columns only, from a date on
    csv = tmp_path / "absence.csv"
    pl.read_parquet(reg / "absence_days.parquet").select(
        "person_id", "school_id", "date", "hours", "kind").write_csv(csv)
    out2 = tmp_path / "s2.csv"
    res = runner.invoke(app, ["signals", "--absence", str(csv), "--asof", "2024-12-20",
                              "--from", "2024-10-01", "--out", str(out2)])
    assert res.exit_code == 0, res.output
    s2 = pl.read_csv(out2, try_parse_dates=True)
    assert s2.equals(s.filter(pl.col("date") >= D(2024, 10, 1)))


def test_signals_usage_errors(reg: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    res = runner.invoke(app, ["signals", "--asof", "2024-12-20", "--out", str(out)])
    assert res.exit_code == 2 and "exactly one of --register or --absence" in flat(res.output)
    bad = tmp_path / "bad.csv"
    bad.write_text("person_id,school_id,date,hours,kind\np,S,2024-09-02,5,absent\n")
    res = runner.invoke(app, ["signals", "--absence", str(bad), "--asof", "2024-12-20",
                              "--out", str(out)])
    assert res.exit_code == 1 and "bad.csv:1: kind: unknown kind" in flat(res.output)
    assert not out.exists()
    res = runner.invoke(app, ["signals", "--register", str(reg), "--asof", "2024-31-12",
                              "--out", str(out)])
    assert res.exit_code == 2
    p = tmp_path / "p.toml"
    p.write_text("[signals]\nreport_hourz = 10\n")
    res = runner.invoke(app, ["signals", "--register", str(reg), "--asof", "2024-12-20",
                              "--out", str(out), "--params", str(p)])
    assert res.exit_code == 2 and "report_hourz" in flat(res.output)
    p.write_text("[signals]\nreport_hours = 40\n")
    res = runner.invoke(app, ["signals", "--register", str(reg), "--asof", "2024-12-20",
                              "--out", str(out), "--params", str(p)])
    assert res.exit_code == 0
    s = pl.read_csv(out, try_parse_dates=True)
    assert s.filter(pl.col("signal") == "report_16h_4w")["date"].to_list() == [
        D(2024, 9, 12)] * 3  # 45 h > 40 on the 9th school day


def test_attendance_per_pupil_and_counts(reg: Path, tmp_path: Path) -> None:
    out, counts = tmp_path / "a" / "att.csv", tmp_path / "pub" / "counts.csv"
    res = runner.invoke(app, ["attendance", "--register", str(reg), "--asof", "2024-12-20",
                              "--out", str(out), "--counts", str(counts), "--by", "gemeente"])
    assert res.exit_code == 0, res.output
    assert (out.stat().st_mode & 0o777) == 0o600
    a = pl.read_csv(out)
    assert a.height == 30
    assert a.filter(pl.col("person_id") == "p00")["tier"][0] == "severe"
    assert a.filter(pl.col("person_id") == "p00")["early_warning"][0]  # age 8, all absent
    assert a.filter(pl.col("person_id") == "p29")["tier"][0] == "good"
    c = pl.read_csv(counts, infer_schema=False)
    assert c.columns == ["by", "region", "measure", "count", "rate", "suppression"]
    row = dict(c.filter(pl.col("region") == "GM0001").select("measure", "count").iter_rows())
    assert row["pupils"] == "30" and row["severe"] == "x"
    assert row["lrv_4w"] == "x" and row["report_16h_4w"] == "x"
    res = runner.invoke(app, ["attendance", "--register", str(reg), "--asof", "2024-12-20",
                              "--out", str(out), "--period", "month"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["attendance", "--register", str(reg), "--asof", "2024-12-20",
                              "--out", str(out), "--period", "4w", "--threshold", "3"])
    assert res.exit_code != 0 and "--unsafe-threshold" in flat(res.output)
