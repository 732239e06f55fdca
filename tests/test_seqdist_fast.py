"""The fast kernels (bit-parallel LCS, sorted LCP/RLCP, lane HAM/DHD) against brute force.

Long, ragged sequences: several 64-bit words per sequence, lengths across word
boundaries, blocks of targets only partly filled.
"""

from __future__ import annotations

import numpy as np
import pytest

from ozamonitor.sequences.define import seqdef
from ozamonitor.sequences.distances import seqdist, seqdist_cross


def _lcs(a: list[int], b: list[int]) -> int:
    d = np.zeros((len(a) + 1, len(b) + 1), dtype=int)
    for i, x in enumerate(a, 1):
        for j, y in enumerate(b, 1):
            d[i, j] = d[i - 1, j - 1] + 1 if x == y else max(d[i - 1, j], d[i, j - 1])
    return int(d[-1, -1])


def _prefix(a: list[int], b: list[int]) -> int:
    k = 0
    while k < min(len(a), len(b)) and a[k] == b[k]:
        k += 1
    return k


@pytest.fixture(scope="module")
def ragged() -> list[list[str]]:
    rng = np.random.default_rng(7)
    out = []
    for i in range(29):
        ln = [1, 63, 64, 65, 127, 128, 129, 150][i % 8] if i < 16 else int(rng.integers(1, 151))
        # few long spells, as trajectories: shared prefixes and many equal positions
        x = np.repeat(rng.integers(0, 4, size=8), 20)[:ln]
        flip = rng.random(ln) < 0.05
        x[flip] = rng.integers(0, 4, size=int(flip.sum()))
        out.append([str(v) for v in x])
    out.append(list(out[3]))  # a duplicate
    return out


def test_lcs_lcp_rlcp_equal_brute_force(ragged: list[list[str]]) -> None:
    width = max(len(r) for r in ragged)
    padded = [r + [None] * (width - len(r)) for r in ragged]
    seqs = seqdef(padded, alphabet=["0", "1", "2", "3"], right="DEL")
    rows = [[int(v) for v in r] for r in ragged]
    n = len(rows)
    lcs = np.array([[_lcs(a, b) for b in rows] for a in rows])
    lcp = np.array([[_prefix(a, b) for b in rows] for a in rows])
    rlcp = np.array([[_prefix(a[::-1], b[::-1]) for b in rows] for a in rows])
    lens = np.array([len(r) for r in rows])
    tot = lens[:, None] + lens[None, :]
    for method, common in (("LCS", lcs), ("LCP", lcp), ("RLCP", rlcp)):
        d = seqdist(seqs, method)
        np.testing.assert_array_equal(d, tot - 2 * common, err_msg=method)
        g = seqdist(seqs, method, norm="gmean")
        want = np.where(tot - 2 * common == 0, 0.0,
                        1.0 - 2 * common / (2 * np.sqrt(lens[:, None] * lens[None, :])))
        np.testing.assert_allclose(g, want, atol=1e-12, err_msg=method)
        c = seqdist(seqs, method, condensed=True, dtype=np.float32)
        assert c.shape == (n * (n - 1) // 2,)
    cross = seqdist_cross(seqs, seqs[np.arange(5, 20)], "LCS")
    np.testing.assert_array_equal(cross, (tot - 2 * lcs)[:, 5:20])


def test_ham_dhd_lanes_equal_brute_force() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 5, size=(37, 70))
    seqs = seqdef([[str(v) for v in r] for r in x], alphabet=[str(i) for i in range(5)])
    sm = rng.uniform(0.5, 3.0, size=(5, 5))
    sm = sm + sm.T
    np.fill_diagonal(sm, 0.0)
    want = np.array([[sm[a, b].sum() for b in x] for a in x])
    np.testing.assert_allclose(seqdist(seqs, "HAM", sm=sm), want, rtol=1e-13)
    mism = (x[:, None, :] != x[None, :, :]).sum(axis=2)
    np.testing.assert_array_equal(seqdist(seqs, "HAM"), mism)
    tv = rng.uniform(0.5, 3.0, size=(70, 5, 5))
    tv = tv + tv.transpose(0, 2, 1)
    for t in range(70):
        np.fill_diagonal(tv[t], 0.0)
    pos = np.arange(70)
    want = np.array([[tv[pos, a, b].sum() for b in x] for a in x])
    np.testing.assert_allclose(seqdist(seqs, "DHD", sm=tv), want, rtol=1e-13)


def _om(a: list[int], b: list[int], sub: np.ndarray, ind: float) -> float:
    d = np.zeros((len(a) + 1, len(b) + 1))
    d[:, 0] = np.arange(len(a) + 1) * ind
    d[0, :] = np.arange(len(b) + 1) * ind
    for i, x in enumerate(a, 1):
        for j, y in enumerate(b, 1):
            d[i, j] = min(d[i - 1, j] + ind, d[i, j - 1] + ind,
                          d[i - 1, j - 1] + (0.0 if x == y else sub[x, y]))
    return float(d[-1, -1])


@pytest.mark.parametrize(("sm", "indel"), [("CONSTANT", "auto"), ("matrix", 1.25)])
def test_om_reduced_to_lcs_equals_the_dp(ragged: list[list[str]], sm: str,
                                         indel: str | float) -> None:
    """OM with one indel c and substitutions >= 2c runs as c x LCS: same values as the DP."""
    rows = [[int(v) for v in r] for r in ragged[:14]]
    width = max(len(r) for r in rows)
    seqs = seqdef([[str(v) for v in r] + [None] * (width - len(r)) for r in rows],
                  alphabet=["0", "1", "2", "3"], right="DEL")
    sub = np.full((4, 4), 2.0)
    ind = 1.0
    if sm == "matrix":
        sub = np.array([[0, 2.5, 3, 4], [2.5, 0, 2.5, 3], [3, 2.5, 0, 5], [4, 3, 5, 0]])
        ind = float(indel)
    np.fill_diagonal(sub, 0.0)
    want = np.array([[_om(a, b, sub, ind) for b in rows] for a in rows])
    got = seqdist(seqs, "OM", sm=sub if sm == "matrix" else "CONSTANT", indel=indel)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    lens = np.array([len(r) for r in rows], dtype=float)
    norm = seqdist(seqs, "OM", sm=sub if sm == "matrix" else "CONSTANT", indel=indel,
                   norm="maxlength")
    # TraMineR's maxlength: the longer length times the indel cost (OMdistance.cpp)
    longer = np.maximum(lens[:, None], lens[None, :])
    np.testing.assert_allclose(norm, want / (ind * longer), rtol=1e-12)
    cross = seqdist_cross(seqs, seqs[np.arange(3, 9)], "OM",
                          sm=sub if sm == "matrix" else "CONSTANT", indel=indel)
    np.testing.assert_allclose(cross, want[:, 3:9], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method", ["LCP", "RLCP", "HAM", "DHD"])
@pytest.mark.parametrize("norm", ["none", "auto"])
def test_square_in_one_pass_equals_condensed(method: str, norm: str) -> None:
    """The one-pass N x N kernels (duplicates included) equal the distinct-sequence path."""
    from scipy.spatial.distance import squareform

    rng = np.random.default_rng(11)
    x = np.repeat(rng.integers(0, 6, size=(150, 6)), 12, axis=1)
    flip = rng.random(x.shape) < 0.1
    x[flip] = rng.integers(0, 6, size=int(flip.sum()))
    x = np.vstack([x, x[:20]])  # duplicates, 170 rows: blocks of 64 and 8 partly filled
    seqs = seqdef([[str(v) for v in r] for r in x], alphabet=[str(i) for i in range(6)])
    sq = seqdist(seqs, method, norm=norm)
    cond = seqdist(seqs, method, norm=norm, condensed=True)
    np.testing.assert_array_equal(sq, squareform(cond, checks=False))
    assert np.all(np.diag(sq) == 0.0)


def test_vector_width_opt_out_and_user_features(monkeypatch: pytest.MonkeyPatch) -> None:
    """512-bit code is asked for only when neither the user nor numba has chosen."""
    import numba

    from ozamonitor.sequences._vector_width import prefer_512_bit_vectors

    monkeypatch.setenv("OZAMONITOR_VECTOR_256", "1")
    assert prefer_512_bit_vectors() is False
    monkeypatch.delenv("OZAMONITOR_VECTOR_256")
    monkeypatch.setattr(numba.config, "CPU_FEATURES", "+avx2")
    assert prefer_512_bit_vectors() is False
    assert numba.config.CPU_FEATURES == "+avx2"
