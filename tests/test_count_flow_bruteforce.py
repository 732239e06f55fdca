"""Brute force: flows = union of daily stocks; stocks = a day-by-day Python reference.

Random hand-made registers (seeded): children with random enrolment gaps,
absence reports, exemptions, 24-hour care and waiting lists. A child is in a
definition's flow iff it meets the definition on some day of the year, and its
flow category is the first category (priority order) it meets on any day.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from builders import Builder
from ozamonitor.counting import Counter

Y0, Y1 = dt.date(2022, 8, 1), dt.date(2023, 7, 31)


def _d(rng: np.random.Generator, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=int(rng.integers(0, (hi - lo).days + 1)))


def _random_register(path: Path, seed: int, n: int = 60) -> Counter:
    rng = np.random.default_rng(seed)
    b = Builder()
    lo, hi = dt.date(2021, 6, 1), dt.date(2024, 6, 30)
    for i in range(n):
        birth = _d(rng, dt.date(2005, 1, 1), dt.date(2018, 6, 30))
        school = "03CC00" if birth.year < 2011 else "01AA00"
        start = dt.date(birth.year + 5, 8, 1)
        enrol = []
        gap = rng.random() < 0.5
        if gap:
            e1 = _d(rng, lo, hi)
            s2 = e1 + dt.timedelta(days=int(rng.integers(1, 200)))
            enrol = [(school, start, e1, str(rng.choice(["moved", "removed", "exemption",
                                                        "care", "diploma"])))]
            if rng.random() < 0.6:
                enrol.append((school, s2, None))
        else:
            enrol = [(school, start, None)]
        absence = []
        for _ in range(int(rng.integers(0, 3))):
            a0 = _d(rng, lo, hi)
            a1 = a0 + dt.timedelta(days=int(rng.integers(5, 150)))
            absence.append((str(rng.choice(["lrv", "rv_16h", "ill"])), a0,
                            a1 if rng.random() < 0.7 else None))
        exempt = []
        if rng.random() < 0.2:
            x0 = _d(rng, lo, hi)
            exempt.append((str(rng.choice(["5a", "5b", "15"])), x0,
                           x0 + dt.timedelta(days=int(rng.integers(30, 400)))))
        care = [("residential_24h", _d(rng, lo, hi), None)] if rng.random() < 0.1 else []
        waiting = ([("so_place", _d(rng, lo, hi), None)] if rng.random() < 0.15 else [])
        b.child(f"c{i:02d}", birth, gemeente=str(rng.choice(["GM0001", "GM0002"])),
                enrol=enrol, absence=absence, exempt=exempt, care=care, waiting=waiting)
    return Counter(b.write(path / f"reg{seed}"), "all")


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_flow_equals_union_of_daily_stocks(tmp_path: Path, seed: int) -> None:
    c = _random_register(tmp_path, seed)
    days = [Y0 + dt.timedelta(days=k) for k in range((Y1 - Y0).days + 1)]
    daily = c.stock(days)
    order = {(d.name, k.name): i for d in c.definitions for i, k in enumerate(d.categories)}
    expected = (
        daily.with_columns(prio=pl.struct("definition", "category").map_elements(
            lambda s: order[(s["definition"], s["category"])], return_dtype=pl.Int64))
        .group_by("definition", "person_id").agg(pl.col("category").sort_by("prio").first())
        .sort("definition", "person_id")
    )
    flow = c.flow("2022-2023").select("definition", "person_id", "category").sort(
        "definition", "person_id")
    assert flow.equals(expected.select(flow.columns))
    assert flow.height > 20  # the random register does produce thuiszitters


# --------------------------------------------------------------------------
# Stocks against an independent day-by-day implementation in plain Python
# --------------------------------------------------------------------------


def _add_months(d: dt.date, m: int) -> dt.date:
    y, mo = divmod(d.month - 1 + m, 12)
    y, mo = d.year + y, mo + 1
    last = (dt.date(y + (mo == 12), mo % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(y, mo, min(d.day, last))


def _covers(spells: list[tuple[dt.date, dt.date | None]], d: dt.date, ext: dt.date) -> bool:
    return any(s <= d <= min(e or ext, ext) for s, e in spells)


def _reference(reg_rows: dict[str, list[tuple]], ext: dt.date, d: dt.date) -> dict[str, dict]:
    """definition -> {person: category} on day d, computed day by day."""
    from ozamonitor.register.calendar import with_compulsory_periods

    persons = pl.DataFrame({"person_id": [p[0] for p in reg_rows["persons"]],
                            "birth_date": [p[1] for p in reg_rows["persons"]]})
    per = with_compulsory_periods(persons).collect()
    out: dict[str, dict] = {"ocw2016": {}, "vsvkompas": {}, "balans": {}, "vws": {}}
    for pid, cs, ce, qe in per.select("person_id", "compulsory_start", "compulsory_end",
                                      "qualification_end").iter_rows():
        _one_child(pid, cs, ce, qe, reg_rows, ext, d, out)
    return out


def _one_child(pid: str, cs: dt.date, ce: dt.date, qe: dt.date,
               reg_rows: dict[str, list[tuple]], ext: dt.date, d: dt.date,
               out: dict[str, dict]) -> None:
    """Classify one child on day d (plain Python, day by day)."""
    enr = [(r[2], r[3]) for r in reg_rows["enrolments"] if r[0] == pid]
    sq = [r[3] for r in reg_rows["enrolments"] if r[0] == pid
          and r[4] == "start_qualification"]
    q_end = min([qe, *sq])
    res = [(r[2], r[3]) for r in reg_rows["residences"] if r[0] == pid]
    full = [(r[2], r[3]) for r in reg_rows["exemptions"] if r[0] == pid
            and r[1] in ("5a", "5b", "15")]
    ex5a = [(r[2], r[3]) for r in reg_rows["exemptions"] if r[0] == pid and r[1] == "5a"]
    care = [(r[4], r[5]) for r in reg_rows["care_spells"] if r[0] == pid]
    lrv = [(r[5], r[6]) for r in reg_rows["absence_reports"] if r[1] == pid
           and r[4] == "lrv"]

    def compulsory(x: dt.date) -> bool:
        return cs <= x <= ce

    def duty(x: dt.date) -> bool:
        return compulsory(x) or ce < x <= q_end

    @functools.cache
    def not_enrolled(x: dt.date) -> bool:
        return (_covers(res, x, ext) and duty(x) and not _covers(enr, x, ext)
                and not _covers(full, x, ext))

    def run_start(pred, x: dt.date) -> dt.date:  # type: ignore[no-untyped-def]
        while pred(x - dt.timedelta(days=1)):
            x -= dt.timedelta(days=1)
        return x

    @functools.cache
    def ne_start(x: dt.date) -> dt.date:
        return ne_start(x - dt.timedelta(days=1)) if not_enrolled(
            x - dt.timedelta(days=1)) else x

    def lapsed(x: dt.date) -> bool:
        r = ne_start(x)
        return _covers(full, r - dt.timedelta(days=1), ext)

    @functools.cache
    def av(x: dt.date) -> bool:
        return not_enrolled(x) and not lapsed(x) and not _covers(care, x, ext)

    def lrv_on(x: dt.date) -> bool:
        return _covers(lrv, x, ext)

    enrolled = _covers(enr, d, ext)
    a = av(d)
    a_start = run_start(av, d) if a else None
    l_start = run_start(lrv_on, d) if lrv_on(d) else None
    lrv28 = l_start is not None and (d - l_start).days + 1 > 28
    lrv3m = l_start is not None and d >= _add_months(l_start, 3)
    av3m = a_start is not None and d >= _add_months(a_start, 3)
    if a and compulsory(d):
        out["ocw2016"][pid] = "av"
        out["vws"][pid] = "av"
    elif enrolled and compulsory(d) and lrv28:
        out["ocw2016"][pid] = "lrv_4w"
        out["vws"][pid] = "lrv_4w"
    elif _covers(ex5a, d, ext) and compulsory(d):
        out["vws"][pid] = "exempt_5a"
    if a and av3m:
        out["vsvkompas"][pid] = "av_3m"
    elif enrolled and duty(d) and lrv3m:
        out["vsvkompas"][pid] = "lrv_3m"
    if enrolled and duty(d) and lrv3m:
        out["balans"][pid] = "enrolled_3m"
    elif a and av3m:
        out["balans"][pid] = "not_enrolled_3m"
    elif a:
        out["balans"][pid] = "not_enrolled_lt3m"
    elif enrolled and duty(d) and lrv28:
        out["balans"][pid] = "enrolled_4w_3m"
    elif _covers(ex5a, d, ext) and _covers(res, d, ext) and duty(d):  # population "duty"
        out["balans"][pid] = "exempt_5a"


@pytest.mark.parametrize("seed", [7, 8])
def test_stock_equals_day_by_day_reference(tmp_path: Path, seed: int) -> None:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    c = _random_register(tmp_path, seed)
    reg = c.register
    rows = {n: reg.read(n).rows() for n in ("persons", "enrolments", "residences",
                                             "exemptions", "care_spells", "absence_reports")}
    ext = reg.extraction_date
    rng = np.random.default_rng(seed)
    days = sorted({_d(rng, dt.date(2021, 9, 1), dt.date(2024, 7, 31)) for _ in range(12)})
    for d in days:
        got = c.stock(d)
        want = _reference(rows, ext, d)
        for name, members in want.items():
            sub = got.filter(pl.col("definition") == name)
            assert dict(zip(sub["person_id"], sub["category"], strict=True)) == members, (
                name, d)
