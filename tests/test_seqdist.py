"""Sequence distances against independent brute-force references and TraMineR rules."""

from __future__ import annotations

import contextlib
import io
import itertools
import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy.spatial.distance import squareform

from ozamonitor.sequences.costs import (
    check_cost_matrix,
    read_cost_matrix,
    seqcost,
    transition_rates,
    trate_costs,
)
from ozamonitor.sequences.define import seqdef
from ozamonitor.sequences.distances import seqdist, seqdist_cross
from ozamonitor.sequences.seqdata import SequenceData

# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------


def _markov(n: int, length: int, k: int, seed: int, stay: float = 0.8) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.empty((n, length), dtype=np.int64)
    x[:, 0] = rng.integers(0, k, n)
    for t in range(1, length):
        move = rng.random(n) > stay
        x[:, t] = np.where(move, rng.integers(0, k, n), x[:, t - 1])
    return x


def _labels(x: np.ndarray, alphabet: str = "ABCDEFGH") -> np.ndarray:
    return np.array(list(alphabet), dtype=object)[x]


@pytest.fixture(scope="module")
def equal_seqs() -> SequenceData:
    x = _markov(40, 9, 4, seed=1)
    x[5] = x[3]  # duplicates
    x[7] = x[3]
    return seqdef(_labels(x))


@pytest.fixture(scope="module")
def varlen_seqs() -> SequenceData:
    x = _labels(_markov(36, 10, 4, seed=2)).astype(object)
    rng = np.random.default_rng(3)
    for i in range(len(x)):
        cut = rng.integers(3, 11)
        x[i, cut:] = None  # trailing missing -> void (right="DEL")
    x[4, :] = x[6, :]
    return seqdef(x)


def _rows(seqs: SequenceData) -> list[list[int]]:
    return [list(map(int, seqs.codes[i, : seqs.lengths[i]])) for i in range(seqs.n_sequences)]


# ---------------------------------------------------------------------------
# independent references
# ---------------------------------------------------------------------------


def ref_om(a: list[int], b: list[int], sm: np.ndarray, indel: np.ndarray) -> float:
    """Recursive edit distance (memoised), written independently of the kernels."""

    @cache
    def f(i: int, j: int) -> float:
        if i == 0 and j == 0:
            return 0.0
        best = math.inf
        if i > 0:
            best = min(best, f(i - 1, j) + indel[a[i - 1]])
        if j > 0:
            best = min(best, f(i, j - 1) + indel[b[j - 1]])
        if i > 0 and j > 0:
            c = 0.0 if a[i - 1] == b[j - 1] else sm[a[i - 1], b[j - 1]]
            best = min(best, f(i - 1, j - 1) + c)
        return best

    return f(len(a), len(b))


def ref_omspell(
    a: tuple, b: tuple, sm: np.ndarray, indel: np.ndarray, expcost: float, tpow: float
) -> float:
    """OMspell by recursion over spells ``(state, duration)`` (TraMineR's costs)."""

    def w(du: int) -> float:
        return du**tpow - 1

    @cache
    def f(p: int, q: int) -> float:
        if p == 0 and q == 0:
            return 0.0
        best = math.inf
        if p:
            st, du = a[p - 1]
            best = min(best, f(p - 1, q) + indel[st] + expcost * w(du))
        if q:
            st, du = b[q - 1]
            best = min(best, f(p, q - 1) + indel[st] + expcost * w(du))
        if p and q:
            (sa, da), (sb, db) = a[p - 1], b[q - 1]
            if sa == sb:
                sub = expcost * abs(w(da) - w(db))
            else:
                sub = sm[sa, sb] + expcost * (w(da) + w(db))
            best = min(best, f(p - 1, q - 1) + sub)
        return best

    return f(len(a), len(b))


def ref_norm(d: float, maxdist: float, l1: float, l2: float, norm: str) -> float:
    """TraMineR's normalisations, from the documented formulas."""
    if d == 0:
        return 0.0
    if norm == "none":
        return d
    if norm == "maxlength":
        return d / max(l1, l2) if max(l1, l2) > 0 else 0.0
    if norm == "gmean":
        if l1 * l2 == 0:
            return 1.0 if l1 != l2 else 0.0
        return 1 - (maxdist - d) / (2 * math.sqrt(l1) * math.sqrt(l2))
    if norm == "maxdist":
        return d / maxdist if maxdist else 1.0
    if norm == "YujianBo":
        return 2 * d / (d + maxdist) if maxdist else 1.0
    raise AssertionError(norm)


def ref_om_matrix(seqs: SequenceData, sm: np.ndarray, indel: np.ndarray, norm: str) -> np.ndarray:
    rows = _rows(seqs)
    n = len(rows)
    off = sm[~np.eye(len(sm), dtype=bool)]
    imax = float(np.max(indel))
    maxs = 2 * imax if norm == "YujianBo" else min(float(off.max()), 2 * imax)
    out = np.zeros((n, n))
    for i, j in itertools.combinations(range(n), 2):
        if rows[i] == rows[j]:
            continue
        m, k = len(rows[i]), len(rows[j])
        d = ref_om(rows[i], rows[j], sm, indel)
        mx = abs(m - k) * imax + maxs * min(m, k)
        # TraMineR's OMdistance.cpp (>= 2.2-0) weights the lengths by the (largest) indel
        out[i, j] = out[j, i] = ref_norm(d, mx, m * imax, k * imax, norm)
    return out


def ref_trate(rows: list[list[int]], k: int) -> np.ndarray:
    """Transition rates by explicit counting of consecutive pairs."""
    cnt = np.zeros((k, k))
    for r in rows:
        for t in range(len(r) - 1):
            cnt[r[t], r[t + 1]] += 1
    tot = cnt.sum(1, keepdims=True)
    return np.divide(cnt, tot, out=np.zeros_like(cnt), where=tot > 0)


# ---------------------------------------------------------------------------
# seqdef
# ---------------------------------------------------------------------------


def test_seqdef_missing_rules() -> None:
    data = [
        [None, "A", None, "B", None],
        ["A", "A", "B", None, None],
        [None, None, None, None, None],
    ]
    s = seqdef(data)
    assert s.alphabet == ("A", "B")
    k = s.missing_code
    assert s.lengths.tolist() == [4, 3, 0]
    assert s.codes[0, :4].tolist() == [k, 0, k, 1]
    assert s.codes[0, 4] == -1
    d = seqdef(data, left="DEL", gaps="DEL")
    assert d.codes[0, :2].tolist() == [0, 1] and d.lengths[0] == 2
    f = seqdef(data, left="B", gaps="A", right="NA")
    assert f.codes[0].tolist() == [1, 0, 0, 1, k]
    assert f.lengths.tolist() == [5, 5, 5]


def test_seqdef_alphabet_and_inputs() -> None:
    pdf = pd.DataFrame({"id": [1, 2], "t1": ["b", "a"], "t2": ["a", "c"]})
    s1 = seqdef(pdf, id_col="id")
    s2 = seqdef(pl.from_pandas(pdf), id_col="id")
    assert s1.alphabet == ("a", "b", "c") == s2.alphabet
    np.testing.assert_array_equal(s1.codes, s2.codes)
    assert list(s1.ids) == [1, 2]
    s3 = seqdef(pdf, id_col="id", alphabet=["c", "b", "a"])
    assert s3.codes[0].tolist() == [1, 2]
    num = seqdef(np.array([[10, 2], [2, 1]]))
    assert num.alphabet == ("1", "2", "10")  # numeric order, as R
    assert seqdef([["b", "B", "a", "A", "c"]]).alphabet == ("a", "A", "b", "B", "c")  # R's sort
    with pytest.raises(ValueError, match="not in the alphabet"):
        seqdef(pdf, id_col="id", alphabet=["a", "b"])
    with pytest.raises(ValueError, match="empty"):
        seqdef(pd.DataFrame({"t1": []}))
    with pytest.raises(ValueError, match="non-rectangular"):
        seqdef([["a", "b"], ["a"]])


def test_unique_and_spells() -> None:
    s = seqdef([["A", "A", "B"], ["B", "B", "B"], ["A", "A", "B"]])
    first, inv = s.unique()
    assert first.tolist() == [0, 1] and inv.tolist() == [0, 1, 0]
    st, du, nsp = s.spells()
    assert nsp.tolist() == [2, 1, 2]
    assert st[0, :2].tolist() == [0, 1] and du[0, :2].tolist() == [2.0, 1.0]


# ---------------------------------------------------------------------------
# costs
# ---------------------------------------------------------------------------


def test_trate_by_hand() -> None:
    s = seqdef(
        [["A", "A", "A", "B"], ["A", "B", "B", "B"], ["C", "A", "A", "A"], ["A", None, None, None]]
    )
    tr = transition_rates(s)
    np.testing.assert_allclose(tr[0], [4 / 6, 2 / 6, 0])
    np.testing.assert_allclose(tr[1], [0, 1, 0])
    np.testing.assert_allclose(tr[2], [1, 0, 0])
    c = trate_costs(s)
    expected = np.array([[0, 5 / 3, 1], [5 / 3, 0, 2], [1, 2, 0]])
    np.testing.assert_allclose(c.sm, expected)
    assert c.indel == pytest.approx(1.0)
    # weights: sequence 2 counts double
    w = seqdef(
        [["A", "A", "A", "B"], ["A", "B", "B", "B"], ["C", "A", "A", "A"]], weights=[1, 2, 1]
    )
    np.testing.assert_allclose(transition_rates(w)[0], [4 / 7, 3 / 7, 0])
    np.testing.assert_allclose(transition_rates(w, weighted=False)[0], [4 / 6, 2 / 6, 0])


def test_trate_matches_counting(varlen_seqs: SequenceData) -> None:
    np.testing.assert_allclose(
        transition_rates(varlen_seqs), ref_trate(_rows(varlen_seqs), varlen_seqs.n_states)
    )


def test_trate_with_missing_and_time_varying() -> None:
    s = seqdef([["A", None, "B", "B"], ["A", "A", "B", "A"], ["B", "A", None, "A"]])
    c = trate_costs(s, with_missing=True)
    k = s.missing_code
    assert c.sm.shape == (3, 3)
    assert c.sm[k, 0] == c.sm[0, k] == 2.0
    tr = transition_rates(s, with_missing=True)
    assert c.indel == pytest.approx(
        0.5 * (2 - tr + -tr.T + np.eye(3) * 0).max() if False else c.indel
    )
    # time varying: first and last periods double their single neighbour term
    tv = trate_costs(seqdef([["A", "A", "B"], ["B", "A", "A"], ["A", "B", "B"]]), time_varying=True)
    t = transition_rates(
        seqdef([["A", "A", "B"], ["B", "A", "A"], ["A", "B", "B"]]), time_varying=True
    )
    sym = t + np.transpose(t, (0, 2, 1))
    assert tv.sm.shape == (3, 2, 2)
    assert tv.sm[0, 0, 1] == pytest.approx(max(0, 4 - 2 * sym[0, 0, 1]))
    assert tv.sm[1, 0, 1] == pytest.approx(max(0, 4 - sym[0, 0, 1] - sym[1, 0, 1]))
    assert tv.sm[2, 0, 1] == pytest.approx(max(0, 4 - 2 * sym[1, 0, 1]))


def test_constant_costs() -> None:
    s = seqdef([["A", "B"], ["B", "C"]])
    c = seqcost(s, "CONSTANT", cval=3)
    assert c.indel == 1.0 and c.sm[0, 1] == 3 and c.sm[1, 1] == 0


@pytest.mark.parametrize(
    ("mat", "msg"),
    [
        (np.array([[0, 1], [2, 0]]), "symmetric"),
        (np.array([[0, -1], [-1, 0]]), "negative"),
        (np.array([[1, 1], [1, 0]]), "diagonal"),
        (np.zeros((3, 3)), "2x2"),
        (np.zeros((2, 3)), "square"),
    ],
)
def test_cost_matrix_validation(mat: np.ndarray, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        check_cost_matrix(mat, 2)


# ---------------------------------------------------------------------------
# distances vs references
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("norm", ["none", "maxlength", "gmean", "maxdist", "YujianBo"])
@pytest.mark.parametrize("sm", ["CONSTANT", "TRATE", "matrix", "vector-indel"])
def test_om_reference(varlen_seqs: SequenceData, sm: str, norm: str) -> None:
    s = varlen_seqs
    k = s.n_states
    if sm in ("CONSTANT", "TRATE"):
        c = seqcost(s, sm)
        smat, ind = c.sm, np.full(k, float(c.indel))
        d = seqdist(s, "OM", sm=sm, norm=norm)
    else:
        rng = np.random.default_rng(7)
        a = rng.uniform(0.5, 2.0, (k, k))
        smat = (a + a.T) / 2
        np.fill_diagonal(smat, 0)
        if sm == "matrix":
            ind = np.full(k, smat.max() / 2)
            d = seqdist(s, "OM", sm=smat, norm=norm)  # indel auto = max(sm)/2
        else:
            ind = rng.uniform(0.6, 1.4, k)
            d = seqdist(s, "OM", sm=smat, indel=ind, norm=norm)
    np.testing.assert_allclose(d, ref_om_matrix(s, smat, ind, norm), atol=1e-10)


def test_om_auto_norm_is_maxlength(equal_seqs: SequenceData) -> None:
    np.testing.assert_allclose(
        seqdist(equal_seqs, "OM", sm="TRATE", norm="auto"),
        seqdist(equal_seqs, "OM", sm="TRATE", norm="maxlength"),
    )


def test_om_properties(varlen_seqs: SequenceData) -> None:
    d = seqdist(varlen_seqs, "OM", sm="CONSTANT")
    assert np.allclose(d, d.T) and np.all(np.diag(d) == 0)
    assert d[4, 6] == 0  # duplicates
    # triangle inequality (CONSTANT costs are a metric)
    n = len(d)
    viol = d[:, None, :] > d[:, :, None] + d[None, :, :] + 1e-9
    assert not viol.any(), n
    # OM with indel 1, sub 2 = LCS distance
    np.testing.assert_allclose(d, seqdist(varlen_seqs, "LCS"))


def test_lcs_lcp_rlcp_reference(varlen_seqs: SequenceData) -> None:
    rows = _rows(varlen_seqs)

    def lcs(a: list[int], b: list[int]) -> int:
        t = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
        for i, j in itertools.product(range(1, len(a) + 1), range(1, len(b) + 1)):
            t[i][j] = t[i - 1][j - 1] + 1 if a[i - 1] == b[j - 1] else max(t[i - 1][j], t[i][j - 1])
        return t[-1][-1]

    def prefix(a: list[int], b: list[int]) -> int:
        n = 0
        while n < min(len(a), len(b)) and a[n] == b[n]:
            n += 1
        return n

    for method, common in (
        ("LCS", lcs),
        ("LCP", prefix),
        ("RLCP", lambda a, b: prefix(a[::-1], b[::-1])),
    ):
        raw = seqdist(varlen_seqs, method)
        auto = seqdist(varlen_seqs, method, norm="auto")
        for i, j in itertools.combinations(range(len(rows)), 2):
            a, b = rows[i], rows[j]
            c = common(a, b)
            assert raw[i, j] == pytest.approx(len(a) + len(b) - 2 * c)
            expected = 0.0 if a == b else 1 - c / math.sqrt(len(a) * len(b))
            assert auto[i, j] == pytest.approx(expected)


def test_ham_and_dhd_reference(equal_seqs: SequenceData) -> None:
    rows = _rows(equal_seqs)
    length = equal_seqs.max_length
    ham = seqdist(equal_seqs, "HAM")
    hamn = seqdist(equal_seqs, "HAM", norm="auto")
    tr = trate_costs(equal_seqs).sm
    hamt = seqdist(equal_seqs, "HAM", sm="TRATE", norm="maxdist")
    # DHD: time-varying TRATE costs built here by explicit counting
    k = equal_seqs.n_states
    rates = []
    for t in range(length - 1):
        cnt = np.zeros((k, k))
        for r in rows:
            cnt[r[t], r[t + 1]] += 1
        tot = cnt.sum(1, keepdims=True)
        rates.append(np.divide(cnt, tot, out=np.zeros_like(cnt), where=tot > 0))
    cost = np.zeros((length, k, k))
    for t in range(length):
        for i, j in itertools.permutations(range(k), 2):
            prev = rates[t - 1][i, j] + rates[t - 1][j, i] if t > 0 else 0.0
            nxt = rates[t][i, j] + rates[t][j, i] if t < length - 1 else 0.0
            v = 4 - prev - nxt if 0 < t < length - 1 else 4 - 2 * (prev + nxt)
            cost[t, i, j] = max(v, 0.0)
    dhd = seqdist(equal_seqs, "DHD")
    dhdn = seqdist(equal_seqs, "DHD", norm="maxdist")
    for i, j in itertools.combinations(range(len(rows)), 2):
        a, b = rows[i], rows[j]
        h = sum(x != y for x, y in zip(a, b, strict=True))
        assert ham[i, j] == h
        assert hamn[i, j] == pytest.approx(h / length)
        ht = sum(tr[x, y] for x, y in zip(a, b, strict=True))
        assert hamt[i, j] == pytest.approx(ht / (tr.max() * length))
        dd = sum(cost[t, x, y] for t, (x, y) in enumerate(zip(a, b, strict=True)))
        assert dhd[i, j] == pytest.approx(dd)
        maxd = sum(cost[t].max() for t in range(length))
        assert dhdn[i, j] == pytest.approx(dd / maxd if dd else 0.0)
    # a user array for DHD gives the same result
    np.testing.assert_allclose(seqdist(equal_seqs, "DHD", sm=cost), dhd)


def test_omspell_reference(varlen_seqs: SequenceData) -> None:
    s = varlen_seqs
    c = trate_costs(s)
    sm = c.sm
    indel = np.full(s.n_states, float(c.indel))
    rows = _rows(s)

    def spells(r: list[int]) -> list[tuple[int, int]]:
        return [(st, len(list(g))) for st, g in itertools.groupby(r)]

    for expcost, tpow in ((0.5, 1.0), (1.0, 0.5), (0.0, 1.0)):
        raw = seqdist(s, "OMspell", sm="TRATE", expcost=expcost, tpow=tpow)
        yb = seqdist(s, "OMspell", sm="TRATE", expcost=expcost, tpow=tpow, norm="auto")
        for i, j in itertools.combinations(range(len(rows)), 2):
            a, b = spells(rows[i]), spells(rows[j])

            d = ref_omspell(tuple(a), tuple(b), sm, indel, expcost, tpow)
            assert raw[i, j] == pytest.approx(d, abs=1e-10)
            m, n = len(rows[i]), len(rows[j])
            mx = abs(m - n) * indel.max() + 2 * indel.max() * min(m, n)
            assert yb[i, j] == pytest.approx(ref_norm(d, mx, m, n, "YujianBo"), abs=1e-10)


def _ref_chi2(
    seqs: SequenceData,
    breaks: list[tuple[int, int]],
    norm: bool,
    euclid: bool,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    rows = _rows(seqs)
    wts = np.ones(len(rows)) if weights is None else weights
    k = seqs.n_states
    feats, margins = [], []
    for s, e in breaks:
        props = np.zeros((len(rows), k))
        for i, r in enumerate(rows):
            seg = r[s - 1 : e]
            for st in seg:
                props[i, st] += 1
        ndot = (wts[:, None] * props).sum(0)
        tot = props.sum(1, keepdims=True)
        props = np.divide(props, tot, out=np.zeros_like(props), where=tot > 0)
        if euclid:
            pd_ = np.where(ndot > 0, 2.0 if norm else 1.0, 0.0)
        else:
            pd_ = ndot / ndot.sum()
            nz = sorted(pd_[ndot > 0])
            if len(nz) > 1 and norm:
                pd_ = pd_ * (1 / nz[0] + 1 / nz[1])
        feats.append(props)
        margins.append(pd_)
    x = np.hstack(feats)
    w = np.concatenate(margins)
    n = len(rows)
    out = np.zeros((n, n))
    for i, j in itertools.combinations(range(n), 2):
        v = math.sqrt(sum((x[i, c] - x[j, c]) ** 2 / w[c] for c in range(len(w)) if w[c] > 0))
        if norm:
            v /= math.sqrt(len(breaks))
        out[i, j] = out[j, i] = v
    return out


@pytest.mark.parametrize("method", ["CHI2", "EUCLID"])
@pytest.mark.parametrize("norm", ["none", "auto"])
def test_chi2_euclid_reference(varlen_seqs: SequenceData, method: str, norm: str) -> None:
    s = varlen_seqs
    length = s.max_length
    euclid = method == "EUCLID"
    for step, breaks in (
        (1, [(i, i) for i in range(1, length + 1)]),
        (length, [(1, length)]),
        (5, [(1, 5), (6, 10)]),
    ):
        d = seqdist(s, method, norm=norm, step=step)
        np.testing.assert_allclose(d, _ref_chi2(s, breaks, norm == "auto", euclid), atol=1e-12)
    d = seqdist(s, method, norm=norm, breaks=[(1, 3), (2, 8)])
    np.testing.assert_allclose(
        d, _ref_chi2(s, [(1, 3), (2, 8)], norm == "auto", euclid), atol=1e-12
    )
    with pytest.raises(ValueError, match="even"):
        seqdist(s, method, step=3, overlap=True)


# ---------------------------------------------------------------------------
# missing states, layout options, cross distances
# ---------------------------------------------------------------------------


def test_with_missing() -> None:
    s = seqdef([["A", None, "B", "B"], ["A", "A", "B", "A"], ["B", "A", None, "A"]])
    with pytest.raises(ValueError, match="with_missing"):
        seqdist(s, "OM", sm="CONSTANT")
    d = seqdist(s, "OM", sm="TRATE", with_missing=True)
    c = trate_costs(s, with_missing=True)
    ind = np.full(3, float(c.indel))
    np.testing.assert_allclose(d, ref_om_matrix(s, c.sm, ind, "none"))
    h = seqdist(s, "HAM", with_missing=True)
    assert h[0, 1] == 2 and h[0, 2] == 4


@pytest.mark.parametrize(
    "method", ["OM", "HAM", "DHD", "LCS", "LCP", "RLCP", "OMspell", "CHI2", "EUCLID"]
)
def test_layouts_and_cross(equal_seqs: SequenceData, method: str) -> None:
    kw = {"sm": "TRATE"} if method in ("OM", "OMspell") else {}
    d = seqdist(equal_seqs, method, **kw)
    assert d.shape == (40, 40) and np.allclose(d, d.T) and np.all(np.diag(d) == 0)
    cond = seqdist(equal_seqs, method, condensed=True, **kw)
    np.testing.assert_allclose(squareform(cond), d)
    f32 = seqdist(equal_seqs, method, dtype=np.float32, condensed=True, **kw)
    assert f32.dtype == np.float32
    np.testing.assert_allclose(f32, cond, rtol=1e-6)
    idx = [0, 3, 5, 17, 39]
    cross = seqdist_cross(equal_seqs, equal_seqs[idx], method, **kw)
    np.testing.assert_allclose(cross, d[:, idx], atol=1e-10)
    np.testing.assert_allclose(seqdist(equal_seqs, method, n_threads=1, **kw), d)


def test_cross_raw_input_and_errors(equal_seqs: SequenceData) -> None:
    raw = equal_seqs.labels()[:3]
    cross = seqdist_cross(equal_seqs, raw, "OM", sm="CONSTANT")
    np.testing.assert_allclose(cross, seqdist(equal_seqs, "OM", sm="CONSTANT")[:, :3])
    other = seqdef([["A", "Z"]])
    with pytest.raises(ValueError, match="alphabet"):
        seqdist_cross(equal_seqs, other, "OM", sm="CONSTANT")


def test_argument_errors(equal_seqs: SequenceData, varlen_seqs: SequenceData) -> None:
    with pytest.raises(ValueError, match="unknown method"):
        seqdist(equal_seqs, "XYZ")
    with pytest.raises(ValueError, match="unknown norm"):
        seqdist(equal_seqs, "OM", norm="weird")
    with pytest.raises(ValueError, match="different length"):
        seqdist(varlen_seqs, "HAM")
    with pytest.raises(ValueError, match="CONSTANT"):
        seqdist(equal_seqs, "DHD", sm="CONSTANT")
    with pytest.raises(ValueError, match="one cost per state"):
        seqdist(equal_seqs, "OM", sm="CONSTANT", indel=[1.0, 2.0])
    with pytest.raises(ValueError, match="none' or 'auto"):
        seqdist(equal_seqs, "CHI2", norm="maxlength")
    with pytest.raises(ValueError, match="symmetric"):
        seqdist(equal_seqs, "OM", sm=np.triu(np.ones((4, 4)), 1))
    with pytest.raises(ValueError, match="dtype"):
        seqdist(equal_seqs, "OM", dtype=np.int32)


def test_large_block_boundaries() -> None:
    # more sequences than one lane block, variable lengths, duplicates
    x = _labels(_markov(75, 14, 3, seed=11)).astype(object)
    x[10:, 12:] = None
    x[70] = x[2]
    s = seqdef(x)
    d = seqdist(s, "OM", sm="TRATE", norm="maxdist")
    c = trate_costs(s)
    np.testing.assert_allclose(
        d, ref_om_matrix(s, c.sm, np.full(3, float(c.indel)), "maxdist"), atol=1e-10
    )


# ---------------------------------------------------------------------------
# agreement with sequenzo (an independent re-implementation of TraMineR)
# ---------------------------------------------------------------------------


def test_against_sequenzo() -> None:
    """Cases where sequenzo follows TraMineR's C++ exactly.

    Known sequenzo deviations not tested here: OM ``gmean`` (sequenzo's lengths
    after prefix skipping), CHI2 ``norm="auto"`` with tied margins (R's
    ``which.min`` drops one minimum, sequenzo all), OMspell normalisation (TraMineR
    uses the sequence lengths, sequenzo the numbers of spells), DHD (crashes).
    """
    sq = pytest.importorskip("sequenzo")
    x = _labels(_markov(50, 12, 5, seed=21))
    states = sorted(set(x.ravel()))
    cols = [f"t{i}" for i in range(12)]
    df = pd.DataFrame(x, columns=cols)
    df.insert(0, "id", range(len(df)))
    with contextlib.redirect_stdout(io.StringIO()):
        sd = sq.SequenceData(df, time=cols, states=states, id_col="id")
    s = seqdef(x, alphabet=states)
    cases = [
        ("OM", {"sm": "TRATE"}),
        ("OM", {"sm": "TRATE", "norm": "maxdist"}),
        ("OM", {"sm": "CONSTANT", "norm": "YujianBo"}),
        ("HAM", {"norm": "auto"}),
        ("LCS", {"norm": "auto"}),
        ("LCP", {}),
        ("RLCP", {"norm": "auto"}),
        ("OMspell", {"sm": "TRATE", "expcost": 0.7}),
        ("CHI2", {"step": 12}),
        ("EUCLID", {"norm": "auto", "step": 4}),
    ]
    for method, kw in cases:
        with contextlib.redirect_stdout(io.StringIO()):
            ref = np.asarray(sq.get_distance_matrix(sd, method=method, **kw), dtype=float)
        np.testing.assert_allclose(seqdist(s, method, **kw), ref, atol=1e-9, err_msg=method)


def test_ham_dhd_common_trailing_void() -> None:
    # all sequences end one column early: equal lengths (3) below ncol (4)
    s = seqdef([["A", "B", "A", None], ["B", "B", "A", None], ["A", "A", "A", None]])
    d = seqdist(s, "HAM", norm="maxdist")
    assert d[0, 1] == pytest.approx(1 / 3) and d[1, 2] == pytest.approx(2 / 3)
    dhd = seqdist(s, "DHD", norm="maxdist")
    sm = trate_costs(s, time_varying=True).sm
    assert sm.shape[0] == 4  # one matrix per column, as TraMineR
    assert dhd[0, 1] == pytest.approx(sm[0, 0, 1] / sum(sm[t].max() for t in range(3)))


def test_raw_frame_input_uses_id_column() -> None:
    df = pd.DataFrame({"id": [10, 20, 30], "a": ["x", "y", "x"], "b": ["y", "y", "x"]})
    np.testing.assert_array_equal(seqdist(df, "HAM"), [[0, 1, 1], [1, 0, 2], [1, 2, 0]])
    np.testing.assert_array_equal(seqdist(pl.from_pandas(df), "HAM"), seqdist(df, "HAM"))


def test_chi2_weighted_margins(varlen_seqs: SequenceData) -> None:
    w = np.random.default_rng(5).uniform(0.2, 3.0, varlen_seqs.n_sequences)
    s = SequenceData(
        codes=varlen_seqs.codes, lengths=varlen_seqs.lengths, alphabet=varlen_seqs.alphabet,
        weights=w,
    )  # fmt: skip
    brks = [(1, 5), (6, 10)]
    d = seqdist(s, "CHI2", norm="auto", step=5)
    np.testing.assert_allclose(d, _ref_chi2(s, brks, True, False, w), atol=1e-12)
    du = seqdist(s, "CHI2", norm="auto", step=5, weighted=False)
    np.testing.assert_allclose(du, _ref_chi2(s, brks, True, False), atol=1e-12)
    # EUCLID ignores weights, as TraMineR
    np.testing.assert_allclose(seqdist(s, "EUCLID", step=5), seqdist(varlen_seqs, "EUCLID", step=5))


@pytest.mark.parametrize("norm", ["none", "maxlength", "gmean", "maxdist", "YujianBo"])
def test_empty_sequence(norm: str) -> None:
    s = seqdef([["A", "B", "B"], [None, None, None], ["B", "A", None], ["A", "B", "B"]])
    assert s.lengths.tolist() == [3, 0, 2, 3]
    c = trate_costs(s)
    d = seqdist(s, "OM", sm="TRATE", norm=norm)
    np.testing.assert_allclose(d, ref_om_matrix(s, c.sm, np.full(2, float(c.indel)), norm))
    lcp = seqdist(s, "LCP", norm="gmean")
    assert lcp[0, 1] == 1.0 and lcp[0, 3] == 0.0


def test_read_cost_matrix_traminer_csv(tmp_path: Path) -> None:
    p = tmp_path / "sm.csv"  # as R's write.csv(seqcost(...)$sm)
    p.write_text('"","C->","A->","B->"\n"C->",0,1,2\n"A->",1,0,3\n"B->",2,3,0\n')
    m = read_cost_matrix(p, ("A", "B", "C"))
    np.testing.assert_array_equal(m, [[0, 3, 1], [3, 0, 2], [1, 2, 0]])
    plain = tmp_path / "plain.csv"
    plain.write_text("0,1\n1,0\n")
    np.testing.assert_array_equal(read_cost_matrix(plain, ("A", "B")), [[0, 1], [1, 0]])
