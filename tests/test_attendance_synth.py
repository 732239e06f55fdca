"""Synthetic absence days: consistent with the simulated register, own random stream."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from ozamonitor.attendance.signals import signals_from_register
from ozamonitor.attendance.tiers import attendance_per_pupil
from ozamonitor.register.school_calendar import SchoolCalendar
from ozamonitor.register.store import Register
from ozamonitor.synth import SynthParams, generate

D = dt.date
SEED = 11
EXTRACTION = D(2026, 7, 31)


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Register:
    out = tmp_path_factory.mktemp("synth_abs") / "reg"
    return Register(generate(out, scale=0.005, seed=SEED, extraction_date=EXTRACTION))


def test_other_tables_do_not_depend_on_the_absence_days(tmp_path: Path) -> None:
    p0 = SynthParams(oza_min_participants=40)
    p1 = SynthParams(oza_min_participants=40, absence_days_first_year=2025,
                     absence_late_rate=0.9, absence_early_warning_share=1.0)
    a = generate(tmp_path / "a", scale=0.002, seed=SEED, params=p0)
    b = generate(tmp_path / "b", scale=0.002, seed=SEED, params=p1)
    ta = json.loads((a / "manifest.json").read_text())["tables"]
    tb = json.loads((b / "manifest.json").read_text())["tables"]
    for name in ta:
        if name != "absence_days":
            assert ta[name]["sha256"] == tb[name]["sha256"], name
    assert ta["absence_days"]["rows"] > tb["absence_days"]["rows"] > 0
    first = pl.read_parquet(b / "absence_days.parquet")["date"].min()
    assert first >= D(2025, 8, 1)


def test_sparse_rows_in_the_period(reg: Register) -> None:
    ab = reg.read("absence_days")
    assert ab.height > 10_000
    assert ab["hours"].min() > 0
    assert ab["date"].min() >= D(2023, 8, 1) and ab["date"].max() <= EXTRACTION
    assert set(ab["kind"]) == {"unauthorised", "authorised", "illness", "suspension", "late"}
    late = ab.filter(pl.col("kind") == "late")
    assert (late["hours"] == 0.25).all() and (late["minutes"] == 15).all()
    info = reg.manifest["synth"]["absence_days"]
    assert info["rows"] == ab.height and info["first_school_year"] == "2023-2024"


def test_lrv_children_miss_most_school_days(reg: Register) -> None:
    cal = SchoolCalendar.default()
    schools = reg.read("schools")
    spells = (reg.read("absence_reports").filter(pl.col("kind") == "lrv")
              .with_columns(pl.col("absence_end").fill_null(EXTRACTION))
              .filter(pl.col("absence_end") >= D(2023, 8, 1))
              .join(schools.select("school_id", "gemeente_code"), on="school_id"))
    assert spells.height >= 10
    ab = reg.read("absence_days").filter(pl.col("kind") == "unauthorised")
    absent = total = 0
    for r in spells.iter_rows(named=True):
        region = cal.region_of([r["gemeente_code"]])[0]
        lo = max(r["absence_start"], D(2023, 8, 1))
        days = set(cal.school_days(region, lo, r["absence_end"]))
        got = set(ab.filter((pl.col("person_id") == r["person_id"])
                            & (pl.col("school_id") == r["school_id"])
                            & pl.col("date").is_between(lo, r["absence_end"]))["date"])
        total += len(days)
        absent += len(days & got)
    assert total > 100 and absent / total > 0.97


def test_rv_months_reach_the_16_hour_signal(reg: Register) -> None:
    ab_rep = reg.read("absence_reports")
    lrv_starts = ab_rep.filter(pl.col("kind") == "lrv").select("person_id", "absence_start")
    rv = (ab_rep.filter((pl.col("kind") == "rv_16h")
                        & (pl.col("absence_start") >= D(2023, 8, 1))
                        & (pl.col("absence_start") <= D(2026, 6, 30)))
          .join(lrv_starts, on=["person_id", "absence_start"], how="anti"))
    assert rv.height >= 10
    sig = signals_from_register(reg, asof=EXTRACTION).signals.filter(
        pl.col("signal") == "report_16h_4w")
    hit = rv.join(sig, on="person_id").filter(
        (pl.col("date") >= pl.col("absence_start"))
        & (pl.col("date") <= pl.col("absence_start") + pl.duration(days=40)))
    assert hit["person_id"].n_unique() / rv["person_id"].n_unique() > 0.8


def test_months_agree_with_the_attendance_table(reg: Register) -> None:
    ab = reg.read("absence_days").with_columns(month=pl.col("date").dt.month_start())
    m = ab.group_by("person_id", "school_id", "month").agg(
        U=pl.col("hours").filter(pl.col("kind") == "unauthorised").sum())
    att = reg.read("attendance").filter(pl.col("month") >= D(2023, 8, 1))
    spell_people = reg.read("absence_reports").filter(
        pl.col("kind").is_in(["lrv", "ill", "rv_16h"])).select("person_id").unique()
    j = (att.join(m, on=["person_id", "school_id", "month"], how="left")
         .with_columns(pl.col("U").fill_null(0.0))
         .join(spell_people, on="person_id", how="anti"))
    assert (j["U"] == j["unexcused_hours"]).mean() > 0.98
    # excused hours: equal for large amounts, equal in expectation for small ones
    e = ab.filter(pl.col("kind").is_in(["illness", "authorised", "suspension"]))
    assert e["hours"].sum() == pytest.approx(att["excused_hours"].sum(), rel=0.25)


def test_tiers_and_early_warning(reg: Register) -> None:
    pp = attendance_per_pupil(reg, asof=D(2024, 7, 15))
    share = pp.group_by("tier").len().with_columns(pl.col("len") / pp.height)
    tiers = dict(share.iter_rows())
    assert tiers["good"] > 0.6 and 0.01 < tiers["chronic"] < 0.25 and tiers["severe"] > 0
    chronic = pp.filter(pl.col("tier") == "chronic")["absent_share"]
    assert chronic.min() >= 0.10 and chronic.max() < 0.20
    # children aged 4-8 with more than 20% absence stay home later more often
    later = pl.concat([
        reg.read("absence_reports").filter(pl.col("kind").is_in(["lrv", "ill"]))
        .select("person_id", start="absence_start"),
        reg.read("exemptions").filter(pl.col("article") == "5a").select("person_id", "start"),
    ]).filter(pl.col("start") > D(2024, 7, 31)).select("person_id").unique()
    young = pp.filter(pl.col("age").is_between(4, 8)).with_columns(
        later=pl.col("person_id").is_in(later["person_id"].implode()))
    rates = dict(young.group_by("early_warning").agg(pl.col("later").mean()).iter_rows())
    assert young.filter(pl.col("early_warning")).height >= 5
    assert rates[True] > 3 * rates[False]
