"""Flows against brute force: the union of daily stocks over the school year.

Random hand-made registers (seeded): children with random enrolment gaps,
absence reports, exemptions, 24-hour care and waiting lists. A child is in a
definition's flow iff it meets the definition on some day of the year, and its
flow category is the first category (priority order) it meets on any day.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from ozamonitor.counting import Counter
from test_count_fixtures import Builder

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
