"""Trajectories: states from a hand-made register, precedence, periods, alignment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from ozamonitor.register.store import Register, write_register
from ozamonitor.sequences.alphabet import VOID_CODE as VOID
from ozamonitor.sequences.seqdata import SequenceData
from ozamonitor.trajectories.align import (
    align_age,
    align_calendar,
    align_event,
    event_dates,
    handle_missing,
)
from ozamonitor.trajectories.build import build_trajectories, period_grid, states_from_spells
from ozamonitor.trajectories.states import (
    DEFAULT_CONFIG,
    LAYERS,
    RuleError,
    TrajectoryConfig,
    config_to_toml,
    load_config,
)

D = dt.date
MISSING = DEFAULT_CONFIG.alphabet.missing_code
KID = D(2012, 1, 15)  # 10-11 years old in 2022-23: compulsory throughout
MONTHS = [f"2022-{m:02d}" for m in range(8, 13)] + [f"2023-{m:02d}" for m in range(1, 8)]


def _register(tmp_path: Path, extraction: dt.date = D(2024, 1, 1)) -> Path:
    people = {
        "p_reg": KID, "p_oza": KID, "p_lrv": KID, "p_ex": KID, "p_av": KID, "p_wait": KID,
        "p_abroad": KID, "p_young": D(2019, 6, 10), "p_old": D(2004, 5, 1),
        "p_special": KID, "p_care": KID, "p_ill": KID, "p_born": D(2023, 2, 20),
    }
    persons = pl.DataFrame({
        "person_id": list(people), "birth_date": list(people.values()),
        "sex": ["F"] * len(people), "parent_education": ["middle"] * len(people),
        "income_decile": [5] * len(people), "migration_background": ["dutch"] * len(people),
        "household_type": ["two_parents"] * len(people),
        "newcomer_arrival_date": [None] * len(people),
        "child_protection": [False] * len(people),
    })
    res = pl.DataFrame({
        "person_id": [p for p in people if p != "p_abroad"] + ["p_abroad"],
        "gemeente_code": ["GM0363"] * len(people),
        "start": [D(2000, 1, 1)] * (len(people) - 1) + [D(2023, 3, 1)],
        "end": [None] * len(people),
    })
    schools = pl.DataFrame({
        "school_id": ["00AA00", "00BB00", "00CC00", "00DD00"],
        "brin": ["00AA", "00BB", "00CC", "00DD"], "name": ["po", "vo", "so", "mbo"],
        "sector": ["po", "vo", "so", "mbo"], "wec_cluster": [None, None, 4, None],
        "gemeente_code": ["GM0363"] * 4, "swv_id": ["PO1", "VO1", "PO1", None],
    })
    enr = [
        ("p_reg", "00AA00", D(2016, 8, 1), None, None),
        ("p_oza", "00AA00", D(2016, 8, 1), None, None),
        ("p_lrv", "00BB00", D(2016, 8, 1), None, None),
        ("p_av", "00AA00", D(2016, 8, 1), D(2022, 12, 15), "removed"),
        ("p_abroad", "00AA00", D(2023, 3, 1), None, None),
        ("p_old", "00DD00", D(2020, 8, 1), None, None),
        ("p_special", "00CC00", D(2016, 8, 1), None, None),
        ("p_ill", "00AA00", D(2016, 8, 1), None, None),
    ]
    enrolments = pl.DataFrame(enr, schema=["person_id", "school_id", "start", "end",
                                           "end_reason"], orient="row").with_columns(
        tlv_category=pl.when(pl.col("school_id") == "00CC00").then(pl.lit("low")))
    oza = pl.DataFrame({"person_id": ["p_oza"], "arrangement_id": ["A1"],
                        "start": [D(2022, 10, 1)], "end": [D(2023, 3, 31)],
                        "end_reason": ["regular_education"]})
    absence = pl.DataFrame({
        "report_id": ["r1", "r2"], "person_id": ["p_lrv", "p_ill"],
        "school_id": ["00BB00", "00AA00"], "report_date": [D(2022, 11, 1)] * 2,
        "kind": ["lrv", "ill"], "absence_start": [D(2022, 11, 1), D(2023, 4, 1)],
        "absence_end": [D(2023, 1, 31), None],
    })
    exemptions = pl.DataFrame({"person_id": ["p_ex"], "article": ["5a"],
                               "start": [D(2022, 9, 1)], "end": [None],
                               "gemeente_code": ["GM0363"]})
    waiting = pl.DataFrame({"person_id": ["p_wait"], "waiting_for": ["so_place"],
                            "start": [D(2023, 2, 1)], "end": [None]})
    care = pl.DataFrame({"person_id": ["p_care"], "law": ["wlz"], "kind": ["residential_24h"],
                         "financier": ["zorgkantoor"], "start": [D(2020, 1, 1)],
                         "end": [None]})
    return write_register(tmp_path / "reg", {
        "persons": persons, "residences": res, "schools": schools, "enrolments": enrolments,
        "oza_participation": oza, "absence_reports": absence, "exemptions": exemptions,
        "waiting_lists": waiting, "care_spells": care,
    }, extraction_date=extraction)


EXPECTED = {
    "p_reg": ["regular"] * 12,
    "p_oza": ["regular"] * 2 + ["oza"] * 6 + ["regular"] * 4,
    "p_lrv": ["regular"] * 3 + ["lrv"] * 3 + ["regular"] * 6,
    "p_ex": ["av"] + ["ex5a"] * 11,
    # enrolled until 15 December: December has 15 enrolled and 16 not-enrolled days
    "p_av": ["regular"] * 4 + ["av"] * 8,
    "p_wait": ["av"] * 6 + ["wait"] * 6,
    "p_abroad": ["abroad"] * 7 + ["regular"] * 5,
    "p_young": ["notcomp"] * 12,
    "p_old": ["mbo"] * 12,
    "p_special": ["special"] * 12,
    "p_care": ["care24"] * 12,
    "p_ill": ["regular"] * 8 + ["ill"] * 4,
    # born 20 Feb: February is mostly before birth (missing), then not compulsory
    "p_born": [None] * 7 + ["notcomp"] * 5,
}


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _register(tmp_path_factory.mktemp("traj"))


def _as_dict(seq: SequenceData) -> dict[str, list[str | None]]:
    df = seq.to_polars()
    return {r[0]: list(r[1:]) for r in df.iter_rows()}


def test_monthly_states_by_construction(reg: Path) -> None:
    seq = build_trajectories(reg, start="2022-08", end="2023-07")
    assert list(seq.columns) == MONTHS
    got = _as_dict(seq)
    assert got == EXPECTED


def test_chunking_gives_same_result(reg: Path) -> None:
    a = build_trajectories(reg, start="2022-08", end="2023-07")
    b = build_trajectories(reg, start="2022-08", end="2023-07", chunk_size=3)
    np.testing.assert_array_equal(a.codes, b.codes)


def test_reference_day_rule(reg: Path) -> None:
    seq = build_trajectories(reg, start="2022-08", end="2023-07", rule="reference",
                             reference="first")
    got = _as_dict(seq)
    # on 1 December p_av is still enrolled
    assert got["p_av"] == ["regular"] * 5 + ["av"] * 7
    # on 1 February p_born is not yet born
    assert got["p_born"][6] is None and got["p_born"][7] == "notcomp"


def test_extraction_date_censors(tmp_path: Path) -> None:
    seq = build_trajectories(_register(tmp_path, D(2023, 5, 10)), start="2022-08",
                             end="2023-07")
    got = _as_dict(seq)
    assert got["p_reg"] == ["regular"] * 9 + [None] * 3  # May: 10 of 31 days observed
    trimmed = handle_missing(seq)
    assert (trimmed.lengths[seq.ids.tolist().index("p_reg")]) == 9


def test_other_periods(reg: Path) -> None:
    y = build_trajectories(reg, period="year", start="2022-08", end="2023-07")
    assert list(y.columns) == ["2022-2023"]
    yd = _as_dict(y)
    assert yd["p_oza"] == ["regular"]  # 6 oza months < 6 regular months + ties -> precedence
    assert yd["p_ex"] == ["ex5a"]
    q = build_trajectories(reg, period="quarter", start="2022-08", end="2023-07")
    assert q.columns[0] == "2022-Q3" and q.columns[-1] == "2023-Q3"
    assert _as_dict(q)["p_oza"][:4] == ["regular", "oza", "oza", "regular"]
    w = build_trajectories(reg, period="week", start="2022-10-03", end="2022-10-16")
    assert list(w.columns) == ["2022-W40", "2022-W41"]
    assert _as_dict(w)["p_oza"] == ["oza", "oza"]


def test_precedence_is_configurable(reg: Path) -> None:
    # enrolment above OZA: the OZA child stays 'regular'
    states = list(DEFAULT_CONFIG.states)
    oza = next(s for s in states if s.code == "oza")
    states.remove(oza)
    states.append(oza)
    cfg = TrajectoryConfig(tuple(states), DEFAULT_CONFIG.macros, DEFAULT_CONFIG.display_order)
    got = _as_dict(build_trajectories(reg, start="2022-08", end="2023-07", config=cfg))
    assert got["p_oza"] == ["regular"] * 12


def test_config_toml_roundtrip(tmp_path: Path) -> None:
    p = tmp_path / "alphabet.toml"
    p.write_text(config_to_toml(DEFAULT_CONFIG))
    cfg = load_config(p)
    assert cfg.alphabet.codes == DEFAULT_CONFIG.alphabet.codes
    np.testing.assert_array_equal(cfg.lookup_table(), DEFAULT_CONFIG.lookup_table())
    with pytest.raises(RuleError, match="unknown layer 'enroled'"):
        TrajectoryConfig((DEFAULT_CONFIG.states[0].__class__("x", "x", "x", "#000000",
                                                             "enroled"),))
    bad = tmp_path / "bad.toml"
    bad.write_text('[[state]]\ncode = "x"\nwhen = "alive and __import__"\n')
    with pytest.raises(ValueError, match=r"bad\.toml"):
        load_config(bad)


def test_lookup_table_precedence() -> None:
    lut = DEFAULT_CONFIG.lookup_table()
    alph = DEFAULT_CONFIG.alphabet
    bit = {n: 1 << i for i, n in enumerate(LAYERS)}

    def state(*layers: str) -> str | None:
        m = sum(bit[x] for x in layers)
        c = lut[m]
        return None if c == MISSING else alph.codes[c]

    base = ("alive", "resident", "compulsory")
    assert state(*base, "enrolled_regular", "oza") == "oza"
    assert state(*base, "enrolled_regular", "lrv") == "lrv"
    assert state(*base, "enrolled_regular", "lrv", "exempt_5a") == "ex5a"
    assert state(*base) == "av"
    assert state(*base, "waiting_care") == "wait"
    assert state(*base, "enrolled_regular", "waiting_care") == "regular"
    assert state(*base, "lrv") == "av"  # LRV only counts when enrolled
    assert state("alive", "resident") == "notcomp"
    assert state("alive", "resident", "qualification") == "av"
    assert state("alive", "resident", "enrolled_mbo") == "mbo"
    assert state("alive", "compulsory", "enrolled_regular") == "abroad"
    assert state("resident", "compulsory") is None  # not alive


def test_core_majority_brute_force() -> None:
    """Random spells: compare with a day-by-day brute force."""
    rng = np.random.default_rng(3)
    grid = period_grid("month", D(2020, 1, 1), D(2020, 12, 31))
    lut = DEFAULT_CONFIG.lookup_table()
    rank = DEFAULT_CONFIG.precedence_rank()
    n, m = 40, 400
    b0, bT = int(grid.bounds[0]), int(grid.bounds[-1])
    pidx = rng.integers(0, n, m)
    layer = rng.integers(0, len(LAYERS), m).astype(np.uint8)
    s = rng.integers(b0 - 30, bT, m)
    e = s + rng.integers(1, 120, m)
    # everybody alive, resident, compulsory for most of the year
    pidx = np.concatenate([pidx, np.repeat(np.arange(n), 3)])
    layer = np.concatenate([layer, np.tile(np.array([0, 1, 2], dtype=np.uint8), n)])
    s = np.concatenate([s, np.full(3 * n, b0 - 5)])
    e = np.concatenate([e, np.full(3 * n, bT - 40)])
    got = states_from_spells(pidx, layer, s, e, n, grid.bounds, lut, rank)
    # brute force
    days = np.arange(b0, bT)
    mask = np.zeros((n, len(days)), dtype=np.int64)
    for p_, l_, s_, e_ in zip(pidx, layer, s, e, strict=True):
        mask[p_, (days >= s_) & (days < e_)] |= 1 << int(l_)
    daystate = lut[mask]
    for i in range(n):
        for t in range(12):
            sel = daystate[i, (days >= grid.bounds[t]) & (days < grid.bounds[t + 1])]
            vals, counts = np.unique(sel, return_counts=True)
            best = vals[counts == counts.max()]
            want = best[np.argmin(rank[best])]
            assert got[i, t] == want, (i, t)
    ref = grid.reference_days("middle")
    got_ref = states_from_spells(pidx, layer, s, e, n, grid.bounds, lut, rank,
                                 rule="reference", ref_days=ref)
    np.testing.assert_array_equal(got_ref, daystate[:, ref - b0])


def test_seqdata_roundtrip(reg: Path, tmp_path: Path) -> None:
    seq = build_trajectories(reg, start="2022-08", end="2023-07")
    path = seq.write_parquet(tmp_path / "sequences.parquet")
    back = SequenceData.read_parquet(path)
    np.testing.assert_array_equal(back.codes, seq.codes)
    assert back.alphabet.codes == seq.alphabet.codes
    df = pl.read_parquet(path)
    assert df.columns[0] == "id" and df.columns[1:] == MONTHS
    assert df.schema["2022-08"] == pl.String
    dpath = seq.write_parquet(tmp_path / "dict.parquet", dictionary=True)
    back2 = SequenceData.read_parquet(dpath)
    np.testing.assert_array_equal(back2.codes, seq.codes)
    assert pl.read_parquet(dpath)["2022-08"].cast(pl.String).to_list() == df[
        "2022-08"].to_list()
    ws = seq.with_missing_state()
    assert ws.alphabet.codes[-1] == "missing"
    assert (ws.codes == ws.missing_code).sum() == 0


def test_align_age_and_event(reg: Path) -> None:
    seq = build_trajectories(reg, start="2022-08", end="2023-07")
    # KID born 2012-01: calendar 2022-08 is age 127 months
    aged = align_age(seq, ages=(126, 140))
    row = _as_dict(aged)["p_oza"]
    assert row[0] is None  # age 126 = 2022-07, before the window
    assert row[1:3] == ["regular", "regular"] and row[3] == "oza"
    assert aged.columns[0] == "age126m"
    ev = event_dates(reg, "oza")
    assert ev.to_dicts() == [{"person_id": "p_oza", "date": D(2022, 10, 1)}]
    al = align_event(seq, ev, window=(-3, 8))
    assert al.ids.tolist() == ["p_oza"]
    assert al.columns[3] == "t+0"
    assert _as_dict(al)["p_oza"] == [None, "regular", "regular"] + ["oza"] * 6 + [
        "regular"] * 3
    cal = align_calendar(seq, "2022-10", "2022-12")
    assert list(cal.columns) == ["2022-10", "2022-11", "2022-12"]


def test_handle_missing_modes() -> None:
    alph = DEFAULT_CONFIG.alphabet
    r, a = alph.index("regular"), alph.index("av")
    codes = np.array([[MISSING, r, MISSING, a, MISSING, MISSING]], dtype=np.int16)
    seq = SequenceData(codes, alph, ids=["x"], columns=list("abcdef"))
    right = handle_missing(seq)
    assert right.codes.tolist() == [[MISSING, r, MISSING, a, VOID, VOID]]
    assert right.lengths.tolist() == [4]
    left = handle_missing(seq, left="DEL")
    assert left.codes.tolist() == [[r, MISSING, a, VOID, VOID, VOID]]
    allg = handle_missing(seq, left="DEL", gaps="DEL")
    assert allg.codes.tolist() == [[r, a, VOID, VOID, VOID, VOID]]


def test_register_object_accepted(reg: Path) -> None:
    seq = build_trajectories(Register(reg), start="2022-08", end="2022-09",
                             person_ids=["p_reg", "p_ex"])
    assert seq.ids.tolist() == ["p_ex", "p_reg"]
    assert seq.birth_dates is not None
