"""Descriptive sequence statistics against brute force and TraMineR-documented cases."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import polars as pl
import pytest

from ozamonitor.sequences.alphabet import VOID_CODE as VOID
from ozamonitor.sequences.alphabet import Alphabet, State
from ozamonitor.sequences.describe import (
    mean_time,
    sequence_frequencies,
    spell_durations,
    spells,
    state_distribution,
    transition_rates,
    transversal_entropy,
)
from ozamonitor.sequences.indicators import n_subsequences, sequence_indicators, turbulence
from ozamonitor.sequences.seqdata import SequenceData

ABCD = Alphabet(tuple(State(c, c, c, "#000000") for c in "ABCD"))
MISSING = ABCD.missing_code


def _seq(rows: list[str]) -> SequenceData:
    """Rows as strings: letters = states, '*' missing, '%' void."""
    width = max(len(r) for r in rows)
    codes = np.full((len(rows), width), VOID, dtype=np.int16)
    for i, r in enumerate(rows):
        for j, ch in enumerate(r):
            codes[i, j] = MISSING if ch == "*" else VOID if ch == "%" else "ABCD".index(ch)
    return SequenceData(codes, ABCD, ids=[f"s{i}" for i in range(len(rows))],
                        columns=[f"t{j}" for j in range(width)])


ROWS = ["AABBBC", "AAAAAA", "ABABAB", "CCDD%%", "A*BBCD", "DDDDCC", "BBBBBB", "AABBBC"]


def _rand(n: int = 60, t: int = 15, seed: int = 0) -> SequenceData:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        r = []
        s = rng.integers(0, 4)
        for _ in range(t):
            if rng.random() < 0.3:
                s = rng.integers(0, 4)
            r.append("ABCD"[s] if rng.random() > 0.05 else "*")
        cut = rng.integers(t - 4, t + 1)
        rows.append("".join(r[:cut]) + "%" * (t - cut))
    return _seq(rows)


# ---------------------------------------------------------------- brute force
def _valid(row: str) -> list[str]:
    return [c for c in row if c in "ABCD"]


def _rows_of(seq: SequenceData) -> list[str]:
    lut = {i: c for i, c in enumerate("ABCD")} | {MISSING: "*", VOID: "%"}
    return ["".join(lut[int(v)] for v in r) for r in seq.codes]


def _brute_entropy(rows: list[str], t: int) -> float:
    col = [r[t] for r in rows if t < len(r) and r[t] in "ABCD"]
    c = Counter(col)
    n = len(col)
    return -sum(v / n * math.log(v / n) for v in c.values()) / math.log(4)


def _brute_distinct_subsequences(s: list[str]) -> int:
    subs = set()
    for k in range(len(s) + 1):
        for idx in itertools.combinations(range(len(s)), k):
            subs.add(tuple(s[i] for i in idx))
    return len(subs)


def _dss(row: list[str]) -> tuple[list[str], list[int]]:
    states, durs = [], []
    for c in row:
        if states and states[-1] == c:
            durs[-1] += 1
        else:
            states.append(c)
            durs.append(1)
    return states, durs


def _brute_turbulence(row: str) -> float:
    states, durs = _dss(_valid(row))
    phi = _brute_distinct_subsequences(states)
    d = len(durs)
    mean = sum(durs) / d
    var = sum((x - mean) ** 2 for x in durs) / d
    vmax = (d - 1) * (1 - mean) ** 2
    return math.log2(phi * (vmax + 1) / (var + 1))


# ---------------------------------------------------------------------- tests
def test_state_distribution_and_entropy() -> None:
    seq = _rand()
    rows = _rows_of(seq)
    d = state_distribution(seq)
    e = transversal_entropy(seq)
    for t in range(seq.max_length):
        col = [r[t] for r in rows if r[t] in "ABCD"]
        for s in "ABCD":
            got = d.filter((pl.col("position") == t) & (pl.col("state") == s))
            assert got["n"][0] == col.count(s)
            assert got["share"][0] == pytest.approx(col.count(s) / len(col))
        assert e["entropy"][t] == pytest.approx(_brute_entropy(rows, t))
        assert e["n_valid"][t] == len(col)


def test_entropy_extremes() -> None:
    e = transversal_entropy(_seq(["AB", "AC", "AD", "AA"]))["entropy"].to_list()
    assert e[0] == pytest.approx(0.0)
    assert e[1] == pytest.approx(1.0)  # uniform over the 4 states


def test_mean_time_matches_brute_force() -> None:
    seq = _rand(seed=1)
    rows = _rows_of(seq)
    mt = mean_time(seq)
    n = len(rows)
    for s in "ABCD":
        x = [r.count(s) for r in rows]
        m = sum(x) / n
        var = sum((v - m) ** 2 for v in x) / (n - 1)
        got = mt.filter(pl.col("state") == s)
        assert got["mean"][0] == pytest.approx(m)
        assert got["var"][0] == pytest.approx(var)
        assert got["se"][0] == pytest.approx(math.sqrt(var / n))
    assert mt["mean"].sum() == pytest.approx(sum(len(_valid(r)) for r in rows) / n)


def test_transition_rates_match_brute_force() -> None:
    seq = _rand(seed=2)
    rows = _rows_of(seq)
    tr = transition_rates(seq)
    pairs: Counter[tuple[str, str]] = Counter()
    for r in rows:
        for a, b in itertools.pairwise(r):
            if a in "ABCD" and b in "ABCD":
                pairs[(a, b)] += 1
    for a in "ABCD":
        tot = sum(pairs[(a, b)] for b in "ABCD")
        for b in "ABCD":
            got = tr.filter((pl.col("from") == a) & (pl.col("to") == b))["rate"][0]
            assert got == pytest.approx(pairs[(a, b)] / tot if tot else 0.0)
    tv = transition_rates(seq, time_varying=True)
    assert tv["position"].max() == seq.max_length - 2
    assert tv["n"].sum() == tr["n"].sum()


def test_spells_documented_example() -> None:
    # TraMineR seqST docs: with missing as a state, the DSS of A-A-*-*-*-B-B-C-C-D
    # is A-*-B-C-D with durations 2-3-2-2-1
    seq = _seq(["AA***BBCCD"])
    sp = spells(seq, with_missing=True)
    assert sp["state"].to_list() == ["A", "missing", "B", "C", "D"]
    assert sp["duration"].to_list() == [2, 3, 2, 2, 1]
    # without missing: missing positions are dropped
    sp2 = spells(seq)
    assert sp2["state"].to_list() == ["A", "B", "C", "D"]
    assert sp2["duration"].to_list() == [2, 2, 2, 1]
    # turbulence with missing: phi = 2^5, var = 0.4, vmax = 4
    t = turbulence(seq, with_missing=True)[0]
    assert t == pytest.approx(math.log2(32 * 5 / 1.4))


def test_turbulence_brute_force_and_known_values() -> None:
    seq = _seq(ROWS)
    got = turbulence(seq)
    for i, r in enumerate(ROWS):
        assert got[i] == pytest.approx(_brute_turbulence(r)), r
    assert got[1] == pytest.approx(1.0)  # one spell: phi = 2, T = log2(2) = 1
    phi = n_subsequences(_seq(["ABABAB"]))
    assert phi[0] == _brute_distinct_subsequences(list("ABABAB"))
    rnd = _rand(seed=4)
    for r, t in zip(_rows_of(rnd), turbulence(rnd), strict=True):
        if _valid(r):
            assert t == pytest.approx(_brute_turbulence(r))


def test_turbulence_normalised() -> None:
    seq = _seq(ROWS)
    raw = turbulence(seq)
    norm = turbulence(seq, norm=True)
    # TraMineR: maximum = turbulence of the alphabet repeated up to the max length (6)
    tmax = _brute_turbulence("ABCDAB")
    want = np.where(raw < 1, 0.0, (raw - 1) / (tmax - 1))
    np.testing.assert_allclose(norm, want)
    assert norm.max() <= 1.0 + 1e-12


def test_turbulence_type2() -> None:
    seq = _seq(["AABBBC"])
    # by hand (seqivardur type 2): d=3, durations 2,3,1, 1 non-visited state (D)
    dl, nnv, lg = 3, 1, 6
    meand = 6 / (dl + nnv)
    var = (sum((x - meand) ** 2 for x in (2, 3, 1)) + nnv * meand**2) / (dl + nnv)
    maxnnv = 4 - 2
    mdm = meand * (dl + nnv) / (dl + maxnnv)
    vmax = ((dl - 1) * (1 - mdm) ** 2 + (lg - dl + 1 - mdm) ** 2 + maxnnv * mdm**2) / (
        dl + maxnnv)
    phi = 8
    assert turbulence(seq, type=2)[0] == pytest.approx(math.log2(phi * (vmax + 1) / (var + 1)))


def test_sequence_frequencies() -> None:
    seq = _seq(ROWS)
    f = sequence_frequencies(seq, top=3)
    assert f["sequence"][0] == "A/2-B/3-C/1"
    assert f["n"][0] == 2
    assert f["pct"][0] == pytest.approx(25.0)
    assert f["cum_pct"][2] == pytest.approx(50.0)
    fg = sequence_frequencies(seq, top=2, group=["x"] * 4 + ["y"] * 4)
    assert set(fg["group"]) == {"x", "y"}


def test_spell_durations_by_group() -> None:
    seq = _seq(ROWS)
    grp = ["g1", "g1", "g1", "g1", "g2", "g2", "g2", "g2"]
    sd = spell_durations(seq, group=grp)
    # group g1, state B: spells AABBBC (3), ABABAB (1,1,1) -> mean 1.5
    row = sd.filter((pl.col("group") == "g1") & (pl.col("state") == "B"))
    assert row["n_spells"][0] == 4 and row["mean"][0] == pytest.approx(1.5)
    assert row["max"][0] == 3


def test_indicators_and_conversion() -> None:
    seq = _seq(ROWS)
    ind = sequence_indicators(seq)
    assert ind["n_spells"].to_list() == [3, 1, 6, 2, 4, 2, 1, 3]
    assert ind["length"][3] == 4
    # one container for distances and description; round trip through the tabular form
    assert seq.lengths.tolist() == [6, 6, 6, 4, 6, 6, 6, 6]
    back = SequenceData.from_polars(seq.to_polars(), seq.alphabet)
    np.testing.assert_array_equal(back.codes, seq.codes)
    tab = SequenceData.from_polars(seq.to_polars())
    np.testing.assert_array_equal(
        np.where(tab.codes == VOID, MISSING, tab.codes),
        np.where(seq.codes == VOID, MISSING, seq.codes))


def test_group_length_checked() -> None:
    with pytest.raises(ValueError, match="group has 2 values for 8 sequences"):
        mean_time(_seq(ROWS), group=["a", "b"])


def test_against_sequenzo_traminer_port() -> None:
    """sequenzo (a Python port of TraMineR, optional bench dependency) agrees."""
    sequenzo = pytest.importorskip("sequenzo")
    import pandas as pd
    from sequenzo.sequence_characteristics_indicators import (
        get_cross_sectional_entropy,
        get_mean_time_in_states,
        get_turbulence,
    )

    rng = np.random.default_rng(5)
    rows = []
    for _ in range(40):
        r, s = [], rng.integers(0, 4)
        for _ in range(12):
            if rng.random() < 0.25:
                s = rng.integers(0, 4)
            r.append("ABCD"[s])
        rows.append("".join(r))
    cols = [f"t{j}" for j in range(12)]
    df = pd.DataFrame([list(r) for r in rows], columns=cols)
    df.insert(0, "id", [f"s{i}" for i in range(len(rows))])
    sq = sequenzo.define_sequence_data.SequenceData(df, time=cols, states=list("ABCD"),
                                                    id_col="id")
    mine = _seq(rows)
    for kw in ({}, {"norm": True}, {"type": 2}):
        ref = get_turbulence(sq, **kw)["Turbulence"].to_numpy(dtype=float)
        np.testing.assert_allclose(turbulence(mine, **kw), ref, atol=1e-12)
    mt = get_mean_time_in_states(sq, serr=True)
    ours = mean_time(mine)
    np.testing.assert_allclose(ours["mean"].to_numpy(), mt["Mean"].to_numpy())
    np.testing.assert_allclose(ours["se"].to_numpy(), mt["SE"].to_numpy())
    ce = get_cross_sectional_entropy(sq, return_format="wide")
    np.testing.assert_allclose(transversal_entropy(mine)["entropy"].to_numpy(),
                               np.asarray(ce["per_time_entropy_norm"], dtype=float),
                               atol=1e-6)  # sequenzo rounds to 6 decimals
