"""Quality indices against independent brute-force implementations of WeightedCluster's
definitions (every ordered cell (i, j), diagonal included, weight w_i * w_j)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform
from sklearn.metrics import silhouette_score

from ozamonitor.sequences.quality import (
    INDEX_NAMES,
    QualityEvaluator,
    as_square,
    cluster_quality,
    silhouette,
)


def _cells(d: np.ndarray, lab: np.ndarray, w: np.ndarray):
    """All ordered cells: distance, same-cluster flag, weight."""
    n = d.shape[0]
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    x = d[ii, jj].ravel()
    y = (lab[ii] == lab[jj]).ravel().astype(float)
    ww = (w[ii] * w[jj]).ravel()
    return x, y, ww


def brute_force(d: np.ndarray, lab: np.ndarray, w: np.ndarray) -> dict[str, float]:
    """Direct O(N^2) / O(P^2) formulas, written from the WeightedCluster definitions."""
    n = d.shape[0]
    x, y, ww = _cells(d, lab, w)
    # PBC: minus the weighted Pearson correlation between distance and same-cluster
    c = np.cov(np.vstack([x, y]), aweights=ww, bias=True)
    pbc = -c[0, 1] / np.sqrt(c[0, 0] * c[1, 1])
    # Gamma over pairs of cells: one same-cluster cell p, one different-cluster cell q
    same = y == 1
    xs, ws = x[same], ww[same]
    xd, wd = x[~same], ww[~same]
    wprod = ws[:, None] * wd[None, :]
    conc = np.sum(wprod * (xs[:, None] < xd[None, :]))
    disc = np.sum(wprod * (xs[:, None] > xd[None, :]))
    ties = np.sum(wprod * (xs[:, None] == xd[None, :]))
    hg = (conc - disc) / (conc + disc)
    # WeightedCluster counts concordant/discordant pairs from both sides, ties once
    hgsd = (2 * conc - 2 * disc) / (2 * conc + 2 * disc + ties)
    # Hubert's C: within sum vs the sums of the lightest / heaviest cells of equal weight
    s_within = np.sum(ww[same] * x[same])
    wy = ws.sum()
    order = np.argsort(x, kind="stable")
    xo, wo = x[order], ww[order]
    cum = np.cumsum(wo)
    take_min = np.clip(wy - (cum - wo), 0, wo)
    s_min = np.sum(take_min * xo)
    xo2, wo2 = xo[::-1], wo[::-1]
    cum2 = np.cumsum(wo2)
    take_max = np.clip(wy - (cum2 - wo2), 0, wo2)
    s_max = np.sum(take_max * xo2)
    hc = (s_within - s_min) / (s_max - s_min)
    # Discrepancy (TraMineR): SS = sum_ij w_i w_j d_ij / (2 W)
    levels = np.unique(lab)
    k = len(levels)
    wt = w.sum()

    def ss(p: float) -> tuple[float, float]:
        tot = np.sum(np.outer(w, w) * d**p) / (2 * wt)
        res = 0.0
        for g in levels:
            m = lab == g
            res += np.sum(np.outer(w[m], w[m]) * d[np.ix_(m, m)] ** p) / (2 * w[m].sum())
        return tot, res

    tot1, res1 = ss(1)
    tot2, res2 = ss(2)
    ch = ((tot1 - res1) / (k - 1)) / (res1 / (wt - k))
    chsq = ((tot2 - res2) / (k - 1)) / (res2 / (wt - k))
    # Silhouettes, loop per observation
    asw = asww = 0.0
    for i in range(n):
        own = lab[i]
        wc = w[lab == own].sum()
        a_sum = sum(w[j] * d[i, j] for j in range(n) if j != i and lab[j] == own)
        b = min(
            sum(w[j] * d[i, j] for j in range(n) if lab[j] == g) / w[lab == g].sum()
            for g in levels
            if g != own
        )
        a = 0.0 if wc <= 1 else a_sum / (wc - 1)
        aw = a_sum / wc
        asw += w[i] * (b - a) / max(a, b)
        asww += w[i] * (b - aw) / max(aw, b)
    return {
        "PBC": pbc,
        "HG": hg,
        "HGSD": hgsd,
        "ASW": asw / wt,
        "ASWw": asww / wt,
        "CH": ch,
        "R2": (tot1 - res1) / tot1,
        "CHsq": chsq,
        "R2sq": (tot2 - res2) / tot2,
        "HC": hc,
    }


def _random_case(seed: int, n: int = 14, k: int = 3, integer: bool = True):
    rng = np.random.default_rng(seed)
    pts = rng.normal(size=(n, 2)) + np.repeat(rng.normal(scale=3, size=(k, 2)), n // k + 1, 0)[:n]
    d = squareform(pdist(pts))
    if integer:  # many tied distances, as with OM/HAM
        d = np.round(d)
    lab = np.repeat(np.arange(k), n // k + 1)[:n]
    rng.shuffle(lab[: n // 2])
    return d, lab


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("integer", [True, False])
def test_unweighted_matches_brute_force(seed: int, integer: bool) -> None:
    d, lab = _random_case(seed, integer=integer)
    got = cluster_quality(d, lab).stats
    ref = brute_force(d, lab, np.ones(len(lab)))
    assert list(got) == list(INDEX_NAMES)
    for name in INDEX_NAMES:
        assert got[name] == pytest.approx(ref[name], rel=1e-9, abs=1e-12), name


@pytest.mark.parametrize("seed", [3, 4])
def test_weighted_matches_brute_force(seed: int) -> None:
    d, lab = _random_case(seed)
    w = np.random.default_rng(seed).uniform(0.5, 3.0, size=len(lab))
    got = cluster_quality(d, lab, weights=w).stats
    ref = brute_force(d, lab, w)
    for name in INDEX_NAMES:
        assert got[name] == pytest.approx(ref[name], rel=1e-9, abs=1e-12), name


def test_integer_weights_equal_replication() -> None:
    d, lab = _random_case(5, n=12)
    w = np.array([1, 2, 3, 1, 1, 2, 4, 1, 1, 2, 1, 3])
    idx = np.repeat(np.arange(len(w)), w)
    rep = cluster_quality(d[np.ix_(idx, idx)], lab[idx]).stats
    got = cluster_quality(d, lab, weights=w.astype(float)).stats
    for name in INDEX_NAMES:
        if name == "ASWw":  # divides by W_c, not W_c - 1: differs by design
            continue
        assert got[name] == pytest.approx(rep[name], rel=1e-9), name


def test_asw_equals_sklearn_without_singletons() -> None:
    d, lab = _random_case(6, n=30, integer=False)
    got = cluster_quality(d, lab).stats["ASW"]
    assert got == pytest.approx(silhouette_score(d, lab, metric="precomputed"), rel=1e-10)
    per = silhouette(d, lab)
    assert per.mean() == pytest.approx(got, rel=1e-12)


def test_separated_clusters_closed_form() -> None:
    # two far-apart tight groups: within distance 1, between 100
    lab = np.array([0] * 5 + [1] * 5)
    d = np.where(lab[:, None] == lab[None, :], 1.0, 100.0)
    np.fill_diagonal(d, 0)
    q = cluster_quality(d, lab).stats
    assert q["ASW"] == pytest.approx(0.99)  # (100 - 1) / 100
    assert q["HG"] == pytest.approx(1.0)
    assert q["HC"] == pytest.approx(0.0)
    assert q["R2"] > 0.98
    assert q["PBC"] > 0.9


def test_condensed_float32_and_labels_of_any_type() -> None:
    d, lab = _random_case(7)
    names = np.array(["a", "b", "c"])[lab]
    full = cluster_quality(d, lab).stats
    cond = cluster_quality(squareform(d).astype(np.float32), names)
    for name in INDEX_NAMES:
        assert cond.stats[name] == pytest.approx(full[name], rel=1e-6), name
    assert set(cond.cluster_asw) == {"a", "b", "c"}


def test_evaluator_reuses_sort_across_partitions() -> None:
    d, lab = _random_case(8, n=20)
    ev = QualityEvaluator(d)
    lab2 = (lab + np.arange(20) % 2) % 3
    many = ev.evaluate_many([lab, lab2])
    for labs, res in zip([lab, lab2], many, strict=True):
        single = cluster_quality(d, labs).stats
        for name in INDEX_NAMES:
            assert res.stats[name] == pytest.approx(single[name], rel=1e-12)


def test_singleton_and_light_clusters() -> None:
    d, lab = _random_case(9, n=10)
    lab = lab.copy()
    lab[0] = 7  # a singleton cluster: WeightedCluster gives it s = 1
    s = silhouette(d, lab)
    assert s[0] == 1.0
    w = np.ones(10)
    w[0] = 0.5
    q = cluster_quality(d, lab, weights=w)
    assert np.isnan(q.stats["ASW"]) and np.isfinite(q.stats["ASWw"])
    with pytest.raises(ValueError, match="ASWw"):
        silhouette(d, lab, w)


def test_bad_input() -> None:
    d, lab = _random_case(10)
    with pytest.raises(ValueError, match="condensed"):
        as_square(np.ones(7))
    with pytest.raises(ValueError, match="at least two"):
        cluster_quality(d, np.zeros(len(lab)))
    with pytest.raises(ValueError, match="symmetric"):
        as_square(_asym())
    with pytest.raises(ValueError, match="weights"):
        cluster_quality(d, lab, weights=np.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        as_square(np.array([np.nan, 1.0, 1.0]))


def _asym() -> np.ndarray:
    a = np.zeros((3, 3))
    a[0, 1] = 1.0
    return a
