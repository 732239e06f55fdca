"""Attendance per pupil (present share, tiers, improvement, early warning) and counts."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from ozamonitor.attendance.counts import attendance_counts, published
from ozamonitor.attendance.params import TierParams
from ozamonitor.attendance.tiers import attendance_per_pupil, period_bounds, previous_bounds
from ozamonitor.errors import ConfigurationError
from ozamonitor.privacy.disclosure import unsafe_groups
from ozamonitor.register.school_calendar import SchoolCalendar

D = dt.date
CAL = SchoolCalendar(holidays=pl.DataFrame(schema={
    "region": pl.String, "school_year": pl.String, "name": pl.String, "first": pl.Date,
    "last": pl.Date}))
ASOF = D(2024, 9, 27)  # 4 weeks: 31 Aug .. 27 Sep = 20 school days, 100 h at a po school


def register(absence: list[tuple], births: dict[str, dt.date] | None = None) -> dict:
    people = sorted({r[0] for r in absence} | set(births or {}) | {"a"})
    births = births or {}
    persons = pl.DataFrame({"person_id": people,
                            "birth_date": [births.get(p, D(2012, 1, 1)) for p in people]})
    schools = pl.DataFrame({"school_id": ["S1"], "sector": ["po"],
                            "gemeente_code": ["GM0001"], "swv_id": ["PO01"]})
    enrol = pl.DataFrame({"person_id": people, "school_id": "S1",
                          "start": D(2020, 8, 1), "end": None},
                         schema={"person_id": pl.String, "school_id": pl.String,
                                 "start": pl.Date, "end": pl.Date})
    res = pl.DataFrame({"person_id": people, "gemeente_code": "GM0002",
                        "start": D(2010, 1, 1), "end": None},
                       schema={"person_id": pl.String, "gemeente_code": pl.String,
                               "start": pl.Date, "end": pl.Date})
    ab = pl.DataFrame(absence, schema={"person_id": pl.String, "date": pl.Date,
                                       "hours": pl.Float64, "kind": pl.String,
                                       "scheduled_hours": pl.Float64}, orient="row"
                      ).with_columns(school_id=pl.lit("S1"))
    return {"persons": persons, "schools": schools, "enrolments": enrol,
            "residences": res, "absence_days": ab}


def spread(person: str, hours: float, kind: str = "illness",
           first: dt.date = D(2024, 9, 2)) -> list[tuple]:
    """``hours`` over whole 5-hour days from ``first``, the rest on the next day."""
    out, d = [], first
    while hours > 0:
        if d.weekday() < 5:
            h = min(5.0, hours)
            out.append((person, d, h, kind, None))
            hours -= h
        d += dt.timedelta(days=1)
    return out


def test_periods() -> None:
    assert period_bounds(ASOF, "4w") == (D(2024, 8, 31), ASOF)
    assert previous_bounds(ASOF, "4w") == (D(2024, 8, 3), D(2024, 8, 30))
    assert period_bounds(D(2025, 3, 1), "schoolyear") == (D(2024, 8, 1), D(2025, 3, 1))
    assert previous_bounds(D(2024, 2, 29), "schoolyear") == (D(2022, 8, 1), D(2023, 2, 28))
    with pytest.raises(ConfigurationError):
        period_bounds(ASOF, "month")


def test_tiers_at_their_boundaries() -> None:
    ab = [*spread("b", 5), *spread("c", 5.5), *spread("d", 10), *spread("e", 20, "suspension"),
          *spread("f", 9.9, "unauthorised")]
    pp = attendance_per_pupil(register(ab), asof=ASOF, period="4w", calendar=CAL)
    got = {r["person_id"]: r for r in pp.iter_rows(named=True)}
    assert got["a"]["scheduled_hours"] == 100.0 and got["a"]["present_share"] == 1.0
    assert got["b"]["tier"] == "good"  # exactly 95% present
    assert got["c"]["tier"] == "at_risk"  # 94.5%
    assert got["f"]["tier"] == "at_risk"  # 9.9% absent
    assert got["d"]["tier"] == "chronic" and got["d"]["chronic"] and not got["d"]["severe"]
    assert got["e"]["tier"] == "severe" and got["e"]["chronic"]  # suspension counts
    assert got["e"]["suspension_hours"] == 20.0
    assert got["a"]["gemeente_code"] == "GM0002"  # residence, not the school's gemeente
    assert got["a"]["swv_id"] == "PO01"


def test_improved_and_early_warning() -> None:
    ab = [*spread("c", 20, first=D(2024, 8, 5)), *spread("c", 2),
          *spread("y", 21), *spread("z", 20), *spread("o", 30)]
    births = {"y": D(2017, 5, 1), "z": D(2017, 5, 1), "o": D(2012, 5, 1)}
    pp = attendance_per_pupil(register(ab, births), asof=ASOF, period="4w", calendar=CAL)
    got = {r["person_id"]: r for r in pp.iter_rows(named=True)}
    assert got["c"]["previous_present_share"] == 0.8 and got["c"]["improved"]
    assert not got["y"]["improved"]  # 100% before, 79% now
    assert got["y"]["age"] == 7 and got["y"]["early_warning"]  # > 20%
    assert not got["z"]["early_warning"]  # exactly 20%
    assert not got["o"]["early_warning"]  # age 12
    strict = attendance_per_pupil(register(ab, births), asof=ASOF, period="4w",
                                  calendar=CAL, params=TierParams(improved_min_gain=0.5))
    assert not strict.filter(pl.col("person_id") == "c")["improved"][0]


def test_own_scheduled_hours_replace_the_default() -> None:
    ab = [("g", D(2024, 9, 4), 2.5, "illness", 2.5)]  # a half day on a reduced timetable
    pp = attendance_per_pupil(register(ab), asof=ASOF, period="4w", calendar=CAL)
    g = pp.filter(pl.col("person_id") == "g").row(0, named=True)
    assert g["scheduled_hours"] == 97.5 and g["absent_share"] == pytest.approx(2.5 / 97.5)


def test_enrolment_part_of_the_period_and_holidays() -> None:
    t = register([])
    t["enrolments"] = t["enrolments"].with_columns(start=pl.lit(D(2024, 9, 16)))
    pp = attendance_per_pupil(t, asof=ASOF, period="4w", calendar=CAL)
    assert pp["scheduled_hours"].to_list() == [50.0]
    hol = SchoolCalendar(holidays=pl.DataFrame(
        [("middle", "2024-2025", "h", D(2024, 9, 23), D(2024, 9, 27))],
        schema=dict(CAL.holidays.schema), orient="row"))
    pp = attendance_per_pupil(register([]), asof=ASOF, period="4w", calendar=hol)
    assert pp["scheduled_hours"].to_list() == [75.0]  # GM0001 is middle: one week off


def test_counts_are_disclosure_controlled() -> None:
    rows = []
    people = {}
    for i in range(60):
        p = f"p{i:02d}"
        people[p] = D(2012, 1, 1)
        rows += spread(p, 0 if i < 20 else 6 if i < 40 else 12 if i < 56 else 25)
    t = register(rows, people)
    pp = attendance_per_pupil(t, asof=ASOF, period="4w", calendar=CAL)
    c = attendance_counts(pp, "swv")
    assert set(c["measure"]) >= {"pupils", "good", "at_risk", "chronic", "severe",
                                 "chronic_total", "early_warning", "improved"}
    tiers = c.filter(pl.col("measure").is_in(["pupils", "good", "at_risk", "chronic",
                                              "severe"]))
    # nothing recoverable by subtraction; small cells hidden
    assert unsafe_groups(tiers, [["region"], ["measure"]]).height == 0
    hidden = c.filter(pl.col("suppression").is_not_null())
    assert hidden.height > 0
    shown = c.filter(pl.col("suppression").is_null() & (pl.col("count") > 0))
    assert shown["count"].min() >= 10
    pub = published(c)
    assert set(pub.filter(pl.col("suppression").is_not_null())["count"]) == {"x"}
    assert set(pub["suppression"].drop_nulls()) == {"suppressed"}
    nl = attendance_counts(pp, "nation", threshold=1)
    assert dict(nl.select("measure", "count").iter_rows())["pupils"] == 61
