"""Absence in the report and the count tables: planted truth, and disclosure control."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ozamonitor.report.attendance import attendance_section, attendance_table
from test_attendance_cli import reg  # noqa: F401  (the 30-pupil register fixture)

D = dt.date


def test_planted_counts_without_suppression(reg: Path) -> None:  # noqa: F811
    # 3 pupils absent unauthorised every school day, 12 with 3 sick days, 15 never absent
    t = attendance_table(reg, asof=D(2024, 12, 20), by="gemeente", threshold=1)
    row = t.filter(t["region"] == "GM0001").to_dicts()[0]
    assert row["pupils"] == "30"
    assert row["report_16h_4w"] == "3" and row["lrv_4w"] == "3"
    assert row["chronic_total"] == "3" and row["severe"] == "3"
    assert row["chronic_total_rate"] == 0.1 and row["report_16h_4w_rate"] == 0.1


def test_small_counts_are_suppressed_in_the_section(reg: Path) -> None:  # noqa: F811
    t = attendance_table(reg, asof=D(2024, 12, 20), by="nation")
    row = t.to_dicts()[0]
    assert row["pupils"] == "30"
    assert row["report_16h_4w"] == "x" and row["report_16h_4w_rate"] is None
    sec = attendance_section(reg, asof=D(2024, 12, 20), lang="en")
    assert "16 hours in 4 weeks" in sec.html and "&lt;10" not in sec.html
    assert ">3<" not in sec.html


def test_section_shows_a_map_the_extremes_and_a_csv_not_a_long_table(reg: Path) -> None:  # noqa: F811
    sec = attendance_section(reg, asof=D(2024, 12, 20), lang="en", threshold=1)
    assert '<img' in sec.html and 'alt="Map of the gemeenten' in sec.html
    assert "The 10 gemeenten with the highest rate" in sec.html
    assert 'href="verzuim-gemeente.csv"' in sec.html
    csv = sec.files["verzuim-gemeente.csv"]
    assert csv.splitlines()[0].startswith("region,name,pupils,chronic_total")
    row = next(r for r in csv.splitlines() if r.startswith("GM0001,")).split(",")
    assert row[2] == "30" and row[3] == "3"  # planted: 30 pupils, 3 chronically absent
    # protected: with the default threshold the small counts read x in the CSV too
    hidden = attendance_section(reg, asof=D(2024, 12, 20), lang="en").files["verzuim-gemeente.csv"]
    assert ",3," not in hidden and ",x," in hidden
