"""Cluster quality indices on a distance matrix, as WeightedCluster's ``wcClusterQuality``.

The indices and their exact definitions follow WeightedCluster (Studer 2013,
``src/clusterqualitybody.cpp``); all of them are computed over the *full* ordered
``N x N`` table of cells ``(i, j)`` - the diagonal included - where cell ``(i, j)``
carries the weight ``w_i * w_j``. With integer weights this is the same as
replicating each observation ``w_i`` times, so every index except ``ASWw`` equals
its value on the replicated data (the tests check this).

=========  ==========================================================================
``PBC``    Point biserial correlation: ``-corr(d_ij, same_ij)`` over the weighted cells.
``HG``     Hubert's gamma: Goodman-Kruskal gamma between distance and the
           different-cluster indicator, ``(C - D) / (C + D)``.
``HGSD``   Somers' D variant, exactly as WeightedCluster computes it:
           ``(2C - 2D) / (2C + 2D + T)``; WeightedCluster counts every concordant and
           discordant pair of cells twice but the cells tied on distance (with a
           different same-cluster indicator) once, so ``T`` enters with half weight.
``ASW``    Average silhouette width; ``a_i`` divides by ``W_c - 1`` (the replication
           view of weights). ``NaN`` when a cluster weighs less than 1, as in R.
``ASWw``   Silhouette with ``a_i`` divided by ``W_c`` (for non-integer weights).
``CH``     Calinski-Harabasz pseudo F from the distance-based discrepancy
           (``(SS_B / (k - 1)) / (SS_W / (W - k))``).
``R2``     Pseudo R-squared ``SS_B / SS_T`` of the discrepancy.
``CHsq``   ``CH`` computed on squared distances.
``R2sq``   ``R2`` computed on squared distances.
``HC``     Hubert's C: ``(S - S_min) / (S_max - S_min)`` with ``S`` the weighted
           within-cluster sum of distances and ``S_min``/``S_max`` the sums of the
           smallest/largest cells of the same total weight.
=========  ==========================================================================

A silhouette follows WeightedCluster too: an observation alone in its cluster
(``W_c <= 1``) gets ``a_i = 0``, hence ``s_i = 1`` (``cluster::silhouette`` gives
0); ``b_i`` is the smallest weighted mean distance to another cluster. Where
``a_i = b_i = 0`` (duplicates spread over clusters) ``s_i`` is 0 instead of R's
``NaN``.

Speed: ``SS``/``ASW`` come from one matrix product ``D @ M`` (``M`` the weighted
one-hot cluster matrix, several partitions stacked), ``HG``/``HGSD``/``HC`` from the
pair distances sorted once (``O(P log P)``, ``P = N(N-1)/2``) and then one
``O(P)`` pass per partition. :class:`QualityEvaluator` keeps the sort between
partitions (as ``as.clustrange`` keeps its Kendall tree). The sort needs about
``20 * P`` bytes (1.2 GB at N = 10,000); pass ``kendall=False`` to skip
``HG``/``HGSD``/``HC`` on larger matrices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numba as nb
import numpy as np

from ozamonitor.errors import ConfigurationError, InputError

__all__ = [
    "INDEX_NAMES",
    "ClusterQuality",
    "QualityEvaluator",
    "adjusted_rand_index",
    "as_square",
    "check_weights",
    "cluster_quality",
    "jaccard_coefficient",
    "silhouette",
]

#: Names (and order) of the indices, as in ``wcClusterQuality(...)$stats``.
INDEX_NAMES: tuple[str, ...] = (
    "PBC",
    "HG",
    "HGSD",
    "ASW",
    "ASWw",
    "CH",
    "R2",
    "CHsq",
    "R2sq",
    "HC",
)
#: Rows of the distance matrix multiplied at a time (bounds temporary memory).
_ROW_CHUNK = 1024


def _check_condensed_size(m: int) -> int:
    n = round((1 + np.sqrt(1 + 8 * m)) / 2)
    if n * (n - 1) // 2 != m:
        raise InputError(
            f"distance vector of length {m} is not a condensed matrix (n(n-1)/2 for some n)"
        )
    return n


def as_square(d: Any, *, dtype: Any = None) -> np.ndarray:
    """Return ``d`` (square matrix or scipy-style condensed vector) as a square array.

    Checks the shape, finiteness and non-negativity; a square input must be symmetric
    with a zero diagonal (checked on the diagonal and a sample of cells).
    """
    arr = np.asarray(d)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"distances must be numeric, got dtype {arr.dtype}")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if arr.ndim == 1:
        from scipy.spatial.distance import squareform

        _check_condensed_size(arr.shape[0])
        _check_values(arr)
        return squareform(arr, checks=False)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise InputError(f"distance matrix must be square or condensed, got shape {arr.shape}")
    _check_values(arr)
    n = arr.shape[0]
    if n and np.any(np.diagonal(arr) != 0):
        i = int(np.flatnonzero(np.diagonal(arr) != 0)[0])
        raise InputError(f"distance matrix has a non-zero diagonal at row {i}")
    if n > 1:
        rng = np.random.default_rng(0)
        ii = rng.integers(0, n, size=min(4096, n * n))
        jj = rng.integers(0, n, size=ii.shape[0])
        bad = arr[ii, jj] != arr[jj, ii]
        if np.any(bad):
            b = int(np.flatnonzero(bad)[0])
            raise InputError(f"distance matrix is not symmetric at ({ii[b]}, {jj[b]})")
    return np.ascontiguousarray(arr)


def _check_values(arr: np.ndarray) -> None:
    if arr.size == 0:
        return
    if not np.all(np.isfinite(arr)):
        raise InputError("distances contain NaN or infinite values")
    if arr.min() < 0:
        raise InputError("distances must be non-negative")


def check_weights(weights: Any, n: int) -> np.ndarray:
    """Case weights as a float64 vector of ``n`` finite non-negative values (ones
    when ``weights`` is None).

    Raises
    ------
    InputError
        Wrong length, or a negative or non-finite weight.
    """
    if weights is None:
        return np.ones(n, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.shape[0] != n:
        raise InputError(f"weights has {w.shape[0]} values for {n} observations")
    if not np.all(np.isfinite(w)) or w.min() < 0:
        raise InputError("weights must be finite and non-negative")
    return w


def _factorize(labels: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    lab = np.asarray(labels).ravel()
    if lab.shape[0] != n:
        raise InputError(f"clustering has {lab.shape[0]} values for {n} observations")
    levels, codes = np.unique(lab, return_inverse=True)
    if levels.shape[0] < 2:
        raise InputError("the clustering should have at least two different values")
    return levels, codes.astype(np.int64)


@dataclass(frozen=True)
class ClusterQuality:
    """Quality of one partition: ``stats`` (index name -> value) and per-cluster ASW.

    ``cluster_asw`` maps each cluster label to its weighted mean silhouette
    (``ASW`` and ``ASWw``), as ``wcClusterQuality(...)$ASW``.
    """

    stats: dict[str, float]
    cluster_asw: dict[Any, tuple[float, float]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> float:
        return self.stats[name]


@nb.njit(cache=True)
def _condensed_ij(n: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - numba
    p = n * (n - 1) // 2
    ci = np.empty(p, dtype=np.int32)
    cj = np.empty(p, dtype=np.int32)
    k = 0
    for i in range(n):
        for j in range(i + 1, n):
            ci[k] = i
            cj[k] = j
            k += 1
    return ci, cj


@nb.njit(cache=True)
def _kendall_pass(
    vals: np.ndarray,
    si: np.ndarray,
    sj: np.ndarray,
    lab: np.ndarray,
    w: np.ndarray,
    weighted: bool,
    diag_w: float,
    wy: float,
    tot: float,
) -> tuple[float, float, float, float, float]:  # pragma: no cover - numba
    """One pass over the sorted pair distances for a partition.

    Returns ``(C, D, T, Smin, Smax)``: weighted concordant and discordant pairs of
    cells, cells tied on distance with different same-cluster status, and the
    sums of the lightest/heaviest cells of total weight ``wy``.
    """
    p_tot = vals.shape[0]
    cum0 = 0.0
    cum1 = 0.0
    cumw = 0.0
    nc = 0.0
    nd = 0.0
    ties = 0.0
    smin = 0.0
    smax = 0.0
    wsmax = tot - wy
    p = 0
    # The diagonal cells (distance 0, same cluster) join the group of zero distances.
    pending_diag = diag_w
    while p < p_tot or pending_diag > 0.0:
        x = vals[p] if p < p_tot else 0.0
        d0 = 0.0
        d1 = 0.0
        if pending_diag > 0.0 and (p >= p_tot or x > 0.0):
            # no zero distances among pairs: the diagonal forms its own group at 0
            x = 0.0
            d0 = pending_diag
            pending_diag = 0.0
        else:
            if pending_diag > 0.0 and x == 0.0:
                d0 = pending_diag
                pending_diag = 0.0
            q = p
            while q < p_tot and vals[q] == x:
                i = si[q]
                j = sj[q]
                ww = 2.0 * w[i] * w[j] if weighted else 2.0
                if lab[i] == lab[j]:
                    d0 += ww
                else:
                    d1 += ww
                q += 1
            p = q
        ww = d0 + d1
        if ww <= 0.0:
            continue
        if cumw <= wy:
            if cumw + ww > wy:
                smin += (wy - cumw) * x
            else:
                smin += ww * x
        cumw += ww
        if cumw > wsmax:
            if cumw - ww < wsmax:
                smax += (cumw - wsmax) * x
            else:
                smax += ww * x
        ties += d0 * d1
        nc += d1 * cum0
        nd += d0 * cum1
        cum0 += d0
        cum1 += d1
    return nc, nd, ties, smin, smax


class QualityEvaluator:
    """Quality indices of several partitions of the same distance matrix.

    Keeps the square matrix, the weights and (when ``kendall``) the pair distances
    sorted once, so evaluating a range of partitions costs one matrix product plus
    one ``O(P)`` pass per partition.

    Parameters
    ----------
    d : array-like
        square distance matrix or scipy condensed vector.
    weights : array-like, optional
        case weights (default 1 each).
    kendall : bool, default True
        compute ``HG``, ``HGSD`` and ``HC`` (needs the sorted pairs).
    """

    def __init__(self, d: Any, weights: Any = None, *, kendall: bool = True) -> None:
        arr = np.asarray(d)
        self.d = as_square(arr, dtype=np.float64 if arr.dtype != np.float32 else None)
        self.n = self.d.shape[0]
        self.w = check_weights(weights, self.n)
        self.weighted = weights is not None
        self.kendall = kendall
        self._sorted: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        # label-independent totals: sum w w d and sum w w d^2 over ordered cells
        self._dw = self._row_products(self.w[:, None])[:, 0, :]

    def _row_products(self, m: np.ndarray) -> np.ndarray:
        """``(D @ m, D**2 @ m)`` stacked on a last axis, computed in row chunks."""
        n = self.n
        out = np.empty((2, n, m.shape[1]), dtype=np.float64)
        for start in range(0, n, _ROW_CHUNK):
            block = self.d[start : start + _ROW_CHUNK].astype(np.float64, copy=False)
            out[0, start : start + block.shape[0]] = block @ m
            out[1, start : start + block.shape[0]] = (block * block) @ m
        return np.moveaxis(out, 0, -1)

    def _sorted_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._sorted is None:
            from scipy.spatial.distance import squareform

            cond = squareform(self.d, checks=False)
            order = np.argsort(cond)  # ties are grouped afterwards: no stable sort needed
            vals = np.ascontiguousarray(cond[order], dtype=np.float64)
            del cond
            ci, cj = _condensed_ij(self.n)
            si = ci[order]
            del ci
            sj = cj[order]
            del cj, order
            self._sorted = (vals, si, sj)
        return self._sorted

    def evaluate(self, labels: Any) -> ClusterQuality:
        """All indices of one partition (labels of any hashable type)."""
        return self.evaluate_many([labels])[0]

    def evaluate_many(self, labelings: Sequence[Any]) -> list[ClusterQuality]:
        """All indices for each partition in ``labelings``."""
        facts = [_factorize(lab, self.n) for lab in labelings]
        ks = [lv.shape[0] for lv, _ in facts]
        offs = np.concatenate([[0], np.cumsum(ks)])
        m = np.zeros((self.n, int(offs[-1])), dtype=np.float64)
        rows = np.arange(self.n)
        for (_, codes), off in zip(facts, offs[:-1], strict=True):
            m[rows, off + codes] = 1.0
        # S[i, c] = sum_{j in c} w_j d_ij (and with d^2)
        s = self._row_products(m * self.w[:, None])
        return [
            self._one(levels, codes, s[:, off : off + k])
            for (levels, codes), off, k in zip(facts, offs[:-1], ks, strict=True)
        ]

    def _one(self, levels: np.ndarray, codes: np.ndarray, s: np.ndarray) -> ClusterQuality:
        w = self.w
        k = levels.shape[0]
        sizes = np.bincount(codes, weights=w, minlength=k)
        total_w = float(sizes.sum())
        if np.any(sizes <= 0):
            raise InputError("every cluster needs a positive total weight")
        wx = float(w @ self._dw[:, 0])
        wx2 = float(w @ self._dw[:, 1])
        own = s[np.arange(self.n), codes]  # (n, 2): within-cluster sums per observation
        errors = np.bincount(codes, weights=w * own[:, 0], minlength=k)
        errors2 = np.bincount(codes, weights=w * own[:, 1], minlength=k)
        wxy = float(errors.sum())
        wy = float(np.sum(sizes * sizes))
        tot = total_w * total_w
        xb = wx / tot
        yb = wy / tot
        covx = wx2 / tot - xb * xb
        covy = wy / tot - yb * yb
        covxy = wxy / tot - yb * xb
        denom = np.sqrt(covx * covy)
        pbc = -covxy / denom if denom > 0 else np.nan

        ss_res = float(np.sum(errors / sizes))
        ss2_res = float(np.sum(errors2 / sizes))
        ss_expl = wx / total_w - ss_res
        ss2_expl = wx2 / total_w - ss2_res
        with np.errstate(divide="ignore", invalid="ignore"):
            ch = (ss_expl / (k - 1)) / (ss_res / (total_w - k))
            r2 = ss_expl / (ss_res + ss_expl)
            chsq = (ss2_expl / (k - 1)) / (ss2_res / (total_w - k))
            r2sq = ss2_expl / (ss2_res + ss2_expl)

        sil_i, sil_w = _silhouettes(s[..., 0], codes, sizes)
        pos = w > 0
        asw = float(np.sum(w[pos] * sil_i[pos]) / total_w)
        asww = float(np.sum(w[pos] * sil_w[pos]) / total_w)
        per_i = np.bincount(codes, weights=np.where(pos, w * sil_i, 0.0), minlength=k) / sizes
        per_w = np.bincount(codes, weights=np.where(pos, w * sil_w, 0.0), minlength=k) / sizes
        if np.any(sizes < 1):
            asw = np.nan
            per_i = np.full(k, np.nan)

        hg = hgsd = hc = np.nan
        if self.kendall:
            vals, si, sj = self._sorted_pairs()
            diag_w = float(np.sum(w * w))
            nc, nd, ties, smin, smax = _kendall_pass(
                vals, si, sj, codes, w, self.weighted, diag_w, wy, tot
            )
            hg = (nc - nd) / (nc + nd) if nc + nd > 0 else np.nan
            # WeightedCluster counts nc and nd twice, ties once
            hgsd = (2 * nc - 2 * nd) / (2 * nc + 2 * nd + ties) if nc + nd + ties > 0 else np.nan
            hc = (wxy - smin) / (smax - smin) if smax > smin else np.nan

        stats = {
            "PBC": float(pbc),
            "HG": float(hg),
            "HGSD": float(hgsd),
            "ASW": float(asw),
            "ASWw": float(asww),
            "CH": float(ch),
            "R2": float(r2),
            "CHsq": float(chsq),
            "R2sq": float(r2sq),
            "HC": float(hc),
        }
        cluster_asw = {_py(lv): (float(per_i[c]), float(per_w[c])) for c, lv in enumerate(levels)}
        return ClusterQuality(stats=stats, cluster_asw=cluster_asw)


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _silhouettes(
    s: np.ndarray, codes: np.ndarray, sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-observation silhouettes (ASW and ASWw definitions) from ``S = D @ (w * onehot)``."""
    n = codes.shape[0]
    rows = np.arange(n)
    aik = s[rows, codes]
    own_size = sizes[codes]
    mean_other = s / sizes[None, :]
    mean_other[rows, codes] = np.inf
    bik = mean_other.min(axis=1)
    aik_w = aik / own_size
    aik_i = np.where(own_size <= 1.0, 0.0, aik / np.maximum(own_size - 1.0, 1e-300))
    with np.errstate(divide="ignore", invalid="ignore"):
        sil_i = (bik - aik_i) / np.maximum(aik_i, bik)
        sil_w = (bik - aik_w) / np.maximum(aik_w, bik)
    sil_i = np.where(np.isfinite(sil_i), sil_i, 0.0)
    sil_w = np.where(np.isfinite(sil_w), sil_w, 0.0)
    return sil_i, sil_w


def cluster_quality(
    d: Any, labels: Any, weights: Any = None, *, kendall: bool = True
) -> ClusterQuality:
    """WeightedCluster's ``wcClusterQuality``: all indices of one partition.

    Parameters
    ----------
    d : array-like
        square distance matrix (float32/float64) or scipy condensed vector.
    labels : array-like
        cluster of each observation (any hashable labels, at least two).
    weights : array-like, optional
        optional non-negative case weights.
    kendall : bool, default True
        also compute ``HG``, ``HGSD`` and ``HC`` (sorting all pairs).

    Returns
    -------
    ClusterQuality
        A :class:`ClusterQuality` with ``stats`` keyed by :data:`INDEX_NAMES`.
    """
    return QualityEvaluator(d, weights, kendall=kendall).evaluate(labels)


def silhouette(d: Any, labels: Any, weights: Any = None, *, measure: str = "ASW") -> np.ndarray:
    """Per-observation silhouette widths, as WeightedCluster's ``wcSilhouetteObs``.

    ``measure="ASW"`` divides the within-cluster sum by ``W_c - 1`` (replication view
    of weights); ``"ASWw"`` by ``W_c``.
    """
    if measure not in ("ASW", "ASWw"):
        raise ConfigurationError("measure must be 'ASW' or 'ASWw'")
    ev = QualityEvaluator(d, weights, kendall=False)
    _, codes = _factorize(labels, ev.n)
    k = int(codes.max()) + 1
    sizes = np.bincount(codes, weights=ev.w, minlength=k)
    if measure == "ASW" and np.any(sizes < 1):
        raise InputError(
            "ASW can not be computed because a cluster weighs less than 1; use measure='ASWw'"
        )
    m = np.zeros((ev.n, k))
    m[np.arange(ev.n), codes] = ev.w
    s = ev._row_products(m)[..., 0]
    sil_i, sil_w = _silhouettes(s, codes, sizes)
    return sil_i if measure == "ASW" else sil_w


# --------------------------------------------- agreement of two partitions


def _contingency(a: Any, b: Any, weights: Any) -> np.ndarray:
    """Weighted cross-table of two partitions coded 0..k-1 (weights: counts)."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    w = np.ones(a.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    ka, kb = int(a.max()) + 1, int(b.max()) + 1
    return np.bincount(a * kb + b, weights=w, minlength=ka * kb).reshape(ka, kb)


def adjusted_rand_index(a: Any, b: Any, weights: Any = None) -> float:
    """Adjusted Rand index of two partitions, with case weights as counts
    (``seqclararange``'s ``adjustedRandIndex`` on a weighted table)."""
    tab = _contingency(a, b, weights)
    if tab.shape == (1, 1):
        return 1.0

    def c2(x: np.ndarray) -> float:
        return float(np.sum(x * (x - 1) / 2))

    s = float(tab.sum())
    sa = c2(tab)
    sr = c2(tab.sum(axis=1))
    sc = c2(tab.sum(axis=0))
    total = s * (s - 1) / 2
    expected = sr * sc / total
    denom = (sr + sc) / 2 - expected
    return (sa - expected) / denom if denom != 0 else 1.0


def jaccard_coefficient(a: Any, b: Any, weights: Any = None) -> float:
    """Jaccard coefficient of two partitions over pairs, as ``seqclararange``'s
    ``jaccardCoef``: ``sum n_ij^2 / (sum n_i.^2 + sum n_.j^2 - sum n_ij^2)``."""
    tab = _contingency(a, b, weights)
    if tab.shape == (1, 1):
        return 1.0
    n11 = float(np.sum(tab**2))
    return n11 / (float(np.sum(tab.sum(axis=0) ** 2)) + float(np.sum(tab.sum(axis=1) ** 2)) - n11)
