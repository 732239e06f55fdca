"""absence_days in the register: school calendar, import conversions, validation, CSV reading."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from ozamonitor.attendance.data import read_absence_csv
from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.register.example import EXAMPLE_EXTRACTION_DATE
from ozamonitor.register.importer import import_tables
from ozamonitor.register.school_calendar import (
    HOLIDAYS_FILE,
    SchoolCalendar,
    rule_holidays,
)
from ozamonitor.register.template import export_template

D = dt.date
KEY = b"attendance-test-key-0123456789abcdefgh"


# ---------------------------------------------------------------- calendar


def test_packaged_holidays_are_the_rule() -> None:
    packaged = SchoolCalendar.default().holidays
    assert packaged.equals(rule_holidays().select(packaged.columns))
    assert HOLIDAYS_FILE.is_file()


def test_rule_pattern() -> None:
    h = rule_holidays()
    xmas = h.filter(pl.col("name") == "christmas")
    assert (xmas["first"].dt.weekday() == 6).all() and (xmas["last"].dt.weekday() == 7).all()
    assert ((xmas["last"] - xmas["first"]).dt.total_days() == 15).all()
    assert (xmas["first"].dt.day() >= 18).all() and (xmas["first"].dt.day() <= 24).all()
    summer = h.filter(pl.col("name") == "summer")
    assert ((summer["last"] - summer["first"]).dt.total_days() == 43).all()
    # every year the three regions take the three slots (weeks 27, 28, 29)
    slots = summer.group_by("school_year").agg(pl.col("first").dt.week().sort())
    assert all(w.to_list() == [27, 28, 29] for w in slots["first"])
    assert (h.filter(pl.col("name") == "may")["first"].dt.week() == 17).all()  # Sat before 18
    spring = h.filter(pl.col("name") == "spring")
    assert spring.select((pl.col("first") + pl.duration(days=2)).dt.week()
                         .is_between(7, 9)).to_series().all()


def test_school_days() -> None:
    cal = SchoolCalendar.default()
    assert cal.is_school_day("north", D(2024, 9, 2))
    assert not cal.is_school_day("north", D(2024, 9, 7))  # Saturday
    assert not cal.is_school_day("middle", D(2025, 1, 2))  # Christmas
    assert not cal.is_school_day("south", D(2025, 4, 21))  # Easter Monday
    assert not cal.is_school_day("south", D(2025, 5, 29))  # Ascension Day
    # the south's autumn week is 42, the middle's 43 (rule)
    assert not cal.is_school_day("south", D(2024, 10, 14))
    assert cal.is_school_day("middle", D(2024, 10, 14))
    days = cal.school_days("middle", D(2024, 8, 1), D(2025, 7, 31))
    assert 180 <= len(days) <= 215
    with pytest.raises(ConfigurationError, match="outside the school calendar"):
        cal.day_index([D(2013, 1, 1)])


def test_calendar_file(tmp_path: Path) -> None:
    (tmp_path / "hol.csv").write_text(
        "region,school_year,name,first,last\nmiddle,2024-2025,study day,2024-09-04,2024-09-04\n")
    (tmp_path / "cal.toml").write_text(
        'holidays = "hol.csv"\ndefault_region = "middle"\n'
        '[day_hours]\npo = [5.5, 5.5, 3.5, 5.5, 5.5]\n[gemeente_regions]\nGM0363 = "north"\n')
    cal = SchoolCalendar.from_file(tmp_path / "cal.toml")
    assert not cal.is_school_day("middle", D(2024, 9, 4))
    assert cal.is_school_day("middle", D(2024, 12, 25))  # this file has no Christmas
    assert cal.hours_for("po")[2] == 3.5 and cal.hours_for("vo") == (6.0,) * 5
    assert cal.region_of(["GM0363", "GM0344"]).to_list() == ["north", "middle"]
    assert SchoolCalendar.default().region_of(["GM0363", "GM0344", "X"]).to_list() == [
        "north", "south", "middle"]
    (tmp_path / "bad.toml").write_text("[day_hours]\nvwo = 6\n")
    with pytest.raises(ConfigurationError, match="unknown sector"):
        SchoolCalendar.from_file(tmp_path / "bad.toml")
    (tmp_path / "bad2.toml").write_text("colour = 1\n")
    with pytest.raises(ConfigurationError, match="unknown key"):
        SchoolCalendar.from_file(tmp_path / "bad2.toml")
    (tmp_path / "bad.csv").write_text(
        "region,school_year,name,first,last\nmiddle,x,y,2024-09-04,2024-09-04\n"
        "east,x,y,2024-09-04,2024-09-05\n")
    with pytest.raises(InputError) as e:
        SchoolCalendar.from_file(tmp_path / "bad.csv")
    assert "bad.csv:2: region" in str(e.value)


# ---------------------------------------------------------------- import + validation


def delivery(tmp_path: Path, rows: str) -> Path:
    out = tmp_path / f"delivery{len(list(tmp_path.glob('delivery*')))}"
    export_template(out, "csv", example=True)
    head = (out / "absence_days.csv").read_text().splitlines()[0]
    (out / "absence_days.csv").write_text(head + "\n" + rows)
    return out


def problems(tmp_path: Path, rows: str) -> list[str]:
    res = import_tables(delivery(tmp_path, rows), key=KEY,
                        extraction_date=EXAMPLE_EXTRACTION_DATE)
    return [str(p) for p in res.report if p.file == "absence_days.csv"]


def test_example_with_absence_days_imports_cleanly(tmp_path: Path) -> None:
    res = import_tables(delivery(tmp_path, ""), key=KEY,
                        extraction_date=EXAMPLE_EXTRACTION_DATE)
    assert res.report.ok
    out = tmp_path / "ex"
    export_template(out, "csv", example=True)
    res = import_tables(out, key=KEY, extraction_date=EXAMPLE_EXTRACTION_DATE)
    assert res.report.ok, res.report.lines()
    assert res.tables["absence_days"].height == 5


def test_half_days_and_minutes_become_hours(tmp_path: Path) -> None:
    # columns: bsn,school_id,date,hours,kind,scheduled_hours,dagdelen,minutes
    rows = ("012345672,10AA00,2024-11-05,,illness,,1,\n"
            "012345672,10AA00,2024-11-06,,illness,4,2,\n"
            "111222333,20BB00,2024-09-12,,late,,,20\n")
    res = import_tables(delivery(tmp_path, rows), key=KEY,
                        extraction_date=EXAMPLE_EXTRACTION_DATE)
    assert res.report.ok, res.report.lines()
    hours = res.tables["absence_days"].sort("date")["hours"].to_list()
    assert hours == [pytest.approx(1 / 3), 2.5, 4.0]  # late 20 min; po 5 h / 2; 4 h day


def test_validation_names_file_row_and_field(tmp_path: Path) -> None:
    rows = ("111222333,20BB00,2024-09-14,2,unauthorised,,,\n"   # 1 Saturday
            "111222333,20BB00,2024-12-27,2,unauthorised,,,\n"   # 2 Christmas
            "111222333,20BB00,2024-09-16,4,unauthorised,,,\n"   # 3 + 4: 7 h > 6 h
            "111222333,20BB00,2024-09-16,3,illness,,,\n"
            "111222333,20BB00,2024-09-17,,illness,,1,\n"        # 5 half day at a vo school
            "111222333,10AA00,2024-09-18,2,illness,,,\n"        # 6 not enrolled there
            "111222333,20BB00,2024-09-19,2,truant,,,\n"         # 7 unknown kind
            "012345672,10AA00,2024-09-20,1,illness,,,\n"
            "012345672,10AA00,2024-09-20,1,illness,,,\n")       # 9 duplicate key
    got = problems(tmp_path, rows)
    text = "\n".join(got)
    assert "absence_days.csv:1:date: 2024-09-14 is not a school day" in text
    assert "weekend" in text and "holiday in region north" in text
    assert "absence_days.csv:2:date: 2024-12-27 is not a school day" in text
    assert "absence_days.csv:4:hours: absence on 2024-09-16 adds up to 7.0 hours" in text
    assert "absence_days.csv:5:dagdelen: half days (dagdelen) are for primary" in text
    assert "absence_days.csv:6:date: no enrolment of this person at school '10AA00'" in text
    assert any(g.startswith("absence_days.csv:7:kind:") for g in got)
    assert any(g.startswith("absence_days.csv:9:") and "duplicate" in g for g in got)
    assert "111222333" not in text  # never echo a BSN


def test_validation_own_scheduled_hours(tmp_path: Path) -> None:
    ok = "012345672,10AA00,2024-11-05,6,illness,6,,\n"  # a longer day stated in the row
    assert problems(tmp_path, ok) == []
    too_much = "012345672,10AA00,2024-11-05,6,illness,,,\n"  # po default 5 h
    assert any("more than the 5.0 scheduled" in p for p in problems(tmp_path, too_much))


# ---------------------------------------------------------------- absence CSV


def test_read_absence_csv(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text("person_id;school_id;date;hours;kind;dagdelen\n"
                 "p1;S1;2024-09-02;5;unauthorised;\np1;S1;2024-09-03;;illness;1\n"
                 "p2;S1;2024-09-03;2,5;Late;\n")
    df = read_absence_csv(f, fallback_day_hours=6.0)
    assert df["hours"].to_list() == [5.0, 3.0, 2.5]
    assert df["kind"].to_list() == ["unauthorised", "illness", "late"]
    cases = {
        "person_id,school_id,date,hours\np,S,2024-09-02,1\n": "a.csv:0: kind: missing column",
        "bsn,school_id,date,hours,kind\n1,S,2024-09-02,1,late\n": "never a BSN",
        "person_id,school_id,date,hours,kind\np,S,2024-09-02,1,late\np,S,02-09-2024,1,late\n":
            "a.csv:2: date: cannot read '02-09-2024' as date",
        "person_id,school_id,date,hours,kind\np,S,2024-09-02,1,truancy\n":
            "a.csv:1: kind: unknown kind 'truancy'",
        "person_id,school_id,date,hours,kind\np,S,2024-09-02,,late\n": "a.csv:1: hours: no hours",
        "person_id,school_id,date,hours,kind\np,S,2024-09-02,30,late\n":
            "a.csv:1: hours: 30.0 is outside 0..24",
    }
    for text, message in cases.items():
        f.write_text(text)
        with pytest.raises(InputError) as e:
            read_absence_csv(f)
        assert message in str(e.value), (text, str(e.value))
