"""The care channel against a day-by-day brute force, and the two-channel pipeline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from ozamonitor.register.store import write_register
from ozamonitor.sequences.multichannel import seqdistmc
from ozamonitor.trajectories.build import build_trajectories
from ozamonitor.trajectories.care import CARE_ALPHABET, build_care_channel, plot_channels

D = dt.date
LAWS = [("jeugdwet", "ambulant"), ("jeugdwet", "day_treatment"),
        ("jeugdwet", "residential_24h"), ("jeugdwet", "foster_care"), ("wlz", "nursing"),
        ("zvw", "nursing"), ("zvw", "personal_care"), ("wmo", "ambulant"),
        ("wfz", "residential_24h")]
STATE_OF = {("jeugdwet", "ambulant"): "ambulant", ("jeugdwet", "day_treatment"): "day",
            ("jeugdwet", "residential_24h"): "residential",
            ("jeugdwet", "foster_care"): "residential", ("wlz", "nursing"): "wlz",
            ("zvw", "nursing"): "zvw", ("zvw", "personal_care"): "zvw",
            ("wmo", "ambulant"): "ambulant", ("wfz", "residential_24h"): "residential"}
PRECEDENCE = ["wlz", "residential", "day", "zvw", "ambulant", "none"]
EXT = D(2023, 3, 10)


def _register(tmp: Path, n: int = 40, seed: int = 2) -> Path:
    rng = np.random.default_rng(seed)
    ids = [f"p{i:03d}" for i in range(n)]
    births = [D(2021, 6, 1) + dt.timedelta(days=int(x)) for x in rng.integers(0, 500, n)]
    persons = pl.DataFrame({
        "person_id": ids, "birth_date": births, "sex": ["F"] * n,
        "parent_education": ["middle"] * n, "income_decile": [5] * n,
        "migration_background": ["dutch"] * n, "household_type": ["two_parents"] * n,
        "newcomer_arrival_date": [None] * n, "child_protection": [False] * n})
    rows = []
    for pid in ids:
        for _ in range(int(rng.integers(0, 4))):
            law, kind = LAWS[int(rng.integers(len(LAWS)))]
            s = D(2022, 1, 1) + dt.timedelta(days=int(rng.integers(0, 420)))
            e = None if rng.random() < 0.3 else s + dt.timedelta(days=int(rng.integers(0, 80)))
            rows.append((pid, law, kind, "gemeente", s, e, None, None))
    care = pl.DataFrame(rows, schema={"person_id": pl.String, "law": pl.String,
                                      "kind": pl.String, "financier": pl.String,
                                      "start": pl.Date, "end": pl.Date, "delivery": pl.String,
                                      "decided_by": pl.String}, orient="row")
    care = care.unique(["person_id", "law", "kind", "start"], keep="first")
    return write_register(tmp / "reg", {"persons": persons, "care_spells": care},
                          extraction_date=EXT)


def _brute(path: Path, months: list[tuple[D, D]]) -> dict[str, list[str | None]]:
    persons = pl.read_parquet(path / "persons.parquet")
    care = pl.read_parquet(path / "care_spells.parquet")
    out: dict[str, list[str | None]] = {}
    for pid, birth in persons.select("person_id", "birth_date").iter_rows():
        mine = care.filter(pl.col("person_id") == pid).iter_rows(named=True)
        spells = [(r["start"], r["end"], STATE_OF[(r["law"], r["kind"])]) for r in mine]
        states: list[str | None] = []
        for m0, m1 in months:
            count: dict[str | None, int] = {}
            d = m0
            while d <= m1:
                if d < birth or d > EXT:
                    st = None
                else:
                    cov = [s for a, b, s in spells if a <= d and (b is None or d <= b)]
                    st = min(cov, key=PRECEDENCE.index) if cov else "none"
                count[st] = count.get(st, 0) + 1
                d += dt.timedelta(days=1)
            best = max(count.values())
            tied = [s for s, c in count.items() if c == best]
            states.append(min(tied, key=lambda s: PRECEDENCE.index(s) if s else 99))
        out[pid] = states
    return out


def test_care_channel_equals_brute_force(tmp_path: Path) -> None:
    path = _register(tmp_path)
    seq = build_care_channel(path, start="2022-01", end="2023-06", chunk_size=7)
    months = []
    for k in range(18):
        y, m = 2022 + (k // 12), k % 12 + 1
        nxt = D(y + (m == 12), m % 12 + 1, 1)
        months.append((D(y, m, 1), nxt - dt.timedelta(days=1)))
    want = _brute(path, months)
    codes = list(CARE_ALPHABET)
    for i, pid in enumerate(seq.ids):
        got = [codes[c] if c < len(codes) else None for c in seq.codes[i]]
        assert got == want[pid], pid


def test_two_channels_line_up_and_plot(tmp_path: Path) -> None:
    path = _register(tmp_path, n=25, seed=4)
    edu = build_trajectories(path, start="2022-01", end="2022-12")
    care = build_care_channel(path, start="2022-01", end="2022-12")
    assert list(edu.ids) == list(care.ids) and edu.max_length == care.max_length
    # persons born in the window have missing months in both channels, equally placed
    assert np.array_equal(edu.codes == edu.missing_code, care.codes == care.missing_code)
    alive = ~np.any(edu.codes == edu.missing_code, axis=1)
    d = seqdistmc([edu[alive], care[alive]], "HAM")
    assert d.shape == (int(alive.sum()),) * 2 and np.allclose(d, d.T)
    png = plot_channels([edu, care], ["onderwijs", "zorg"], tmp_path / "ch.png")
    assert png.stat().st_size > 1000
