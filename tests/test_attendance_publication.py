"""Attendance counts through the joint disclosure control: every level together,
one symbol, the audit passes, shown counts are the true counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from ozamonitor.attendance.counts import attendance_counts, published
from ozamonitor.attendance.publication import LEVELS, protect_attendance, table_name
from ozamonitor.attendance.signals import signals_from_register
from ozamonitor.attendance.tiers import attendance_per_pupil, period_bounds
from ozamonitor.privacy.folder import audit_folder, write_folder
from ozamonitor.register.store import Register
from test_attendance_cli import reg  # noqa: F401  (the 30-pupil register fixture)

ASOF = dt.date(2024, 12, 20)


def _inputs(reg: Path):  # type: ignore[no-untyped-def]  # noqa: F811
    r = Register(reg)
    per = attendance_per_pupil(r, asof=ASOF, period="schoolyear")
    lo, _ = period_bounds(ASOF, "schoolyear")
    return per, signals_from_register(r, asof=ASOF, start=lo).signals


def test_joint_protection_audits_and_keeps_true_counts(reg: Path, tmp_path: Path) -> None:  # noqa: F811
    per, sig = _inputs(reg)
    res = protect_attendance(per, sig, threshold=10)
    assert res.table_names == [table_name(b) for b in LEVELS]
    write_folder(res, tmp_path / "pub")
    a = audit_folder(tmp_path / "pub")
    assert a.height == int(res.suppressed.sum()) > 0 and a["ok"].all()
    v = res.values
    small = (v > 0) & (v < 10)
    assert res.suppressed[small].all()
    for b in LEVELS:
        true = res.unprotected(table_name(b))
        shown = res.table(table_name(b)).filter(pl.col("suppression").is_null())
        both = shown.join(true, on=["region", "measure"], suffix="_true")
        assert (both["count"] == both["count_true"]).all()
    # the tidy tables of every level come from the one protection
    for b in ("school", "gemeente", "swv", "nation"):
        t = attendance_counts(per, b, signals=sig, protected=res)
        shown = published(t)
        assert set(shown.filter(pl.col("suppression").is_not_null())["count"]) <= {"x"}
        nl = t.filter(pl.col("region") == "NL")
        assert nl.height == len(nl["measure"].unique())
