"""CLARA for large numbers of sequences, after WeightedCluster's ``seqclararange``.

Never builds the ``N x N`` matrix. For each of ``R`` iterations:

1. draw ``sample_size`` cases with replacement, with probability proportional to
   their (aggregated) weight, and re-aggregate the draws (a case drawn 3 times
   weighs 3), exactly as ``seqclararange``;
2. compute the sample's distance matrix and run weighted PAM (FasterPAM from the
   BUILD medoids, or with ``start="ward"`` from the medoids of a weighted Ward.D tree
   as ``seqclararange``) for every k;
3. assign every case to its nearest medoid with ``dist(cases, medoids)`` in chunks
   and score the partition: mean (weighted) distance to the medoid (``"distance"``,
   the default criterion), Davies-Bouldin ``"db"``, Xie-Beni-like ``"xb"``, ``"pbm"``
   and the average medoid silhouette ``"ams"``, with ``seqclararange``'s formulas.

The best iteration per k (smallest distance / DB / XB, largest PBM / AMS) is kept.
Identical sequences are aggregated first (``wcAggregateCases``), so a population
where most children share a few trajectories costs far less than ``N`` suggests.

Diagnostics: ``stability=True`` gives the (weighted) adjusted Rand index and
Jaccard coefficient between the best partition and every other iteration's
(``ARI>0.8`` / ``JC>0.8`` count the iterations that agree); ``quality_sample``
cases (default 2,000) get a full distance matrix on which all
WeightedCluster indices (ASW, PBC, HG, ...) of the final partitions are computed.

Defaults: ``R=100`` as ``seqclararange``. Its ``sample.size`` default is Kaufman and
Rousseeuw's ``40 + 2 * max(k)`` but its manual recommends 1,000-10,000; ours is
``max(40 + 2 * max(k), 1000)`` (capped at the number of distinct sequences). When the
sample covers every distinct sequence, one iteration is run on the whole data and
the result is PAM on the full matrix. ``eval_sample`` (off by default) scores the
iterations on a fixed weighted subsample of that many distinct sequences and assigns
all ``N`` only for the winners: a large saving for costly distances such as OM.

Cost: ``R * sample_size**2 / 2`` distances for the samples plus
``R * n_distinct * sum(ks)`` distances to medoids (``eval_sample`` replaces
``n_distinct`` by ``eval_sample`` and adds one ``n_distinct * sum(ks)`` pass).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numba as nb
import numpy as np

from ozamonitor.sequences.cluster import _build, cutree, medoids_of, pam, ward
from ozamonitor.sequences.quality import INDEX_NAMES, ClusterQuality, QualityEvaluator, as_square

__all__ = [
    "ClaraRange",
    "ClaraResult",
    "adjusted_rand_index",
    "clara",
    "hamming_cross",
    "jaccard_coefficient",
]

Criterion = Literal["distance", "db", "xb", "pbm", "ams"]
DistFn = Callable[[Any, Any], np.ndarray]
#: progress(stage, done, total): stage is "iterations", "assign" or "quality".
ProgressFn = Callable[[str, int, int], None]
_MAXIMISE = {"pbm", "ams"}
_STAT_NAMES = ("avg_dist", "PBM", "DB", "XB", "AMS")


# ------------------------------------------------------------------ distances


@nb.njit(cache=True, parallel=True)
def _hamming_kernel(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    na, length = a.shape
    nb_ = b.shape[0]
    for i in nb.prange(na):
        for j in range(nb_):
            s = 0
            for t in range(length):
                s += a[i, t] != b[j, t]
            out[i, j] = s


def hamming_cross(a: Any, b: Any) -> np.ndarray:
    """Plain Hamming distances (unit substitution cost) between the rows of two
    equal-length integer code matrices: a fast fallback ``dist`` for CLARA and the
    tests. For TraMineR's ``HAM``/``OM`` with costs use ``distances.seqdist_cross``."""
    ca = np.ascontiguousarray(getattr(a, "codes", a))
    cb = np.ascontiguousarray(getattr(b, "codes", b))
    if ca.ndim != 2 or cb.ndim != 2 or ca.shape[1] != cb.shape[1]:
        raise ValueError(f"need two 2-D code matrices of equal length, got {ca.shape}, {cb.shape}")
    if ca.dtype != cb.dtype:
        ca = ca.astype(np.int16)
        cb = cb.astype(np.int16)
    out = np.empty((ca.shape[0], cb.shape[0]), dtype=np.float64)
    _hamming_kernel(ca, cb, out)
    return out


def _default_dist(
    seqs: Any, dist_kwargs: dict[str, Any]
) -> tuple[Any, DistFn, Callable[[Any], np.ndarray]]:
    """``sequences.distances`` with costs resolved once on the whole data (TRATE rates,
    indels, normalisation), so every sample and chunk uses the same costs.

    Returns the data as a ``SequenceData`` (raw arrays go through ``seqdef``) and
    the cross / square distance functions."""
    from ozamonitor.sequences import distances

    sd = distances.as_seqdata(seqs)
    call_kw = {k: dist_kwargs[k] for k in ("dtype", "n_threads") if k in dist_kwargs}
    setup_kw = {k: v for k, v in dist_kwargs.items() if k not in call_kw}
    setup = distances.DistanceSetup.create(sd, **{"method": "OM", **setup_kw})

    def cross(a: Any, b: Any) -> np.ndarray:
        return distances.seqdist_cross_setup(a, b, setup, **call_kw)

    def square(a: Any) -> np.ndarray:
        return distances.seqdist_setup(a, setup, **call_kw)

    return sd, cross, square


# ------------------------------------------------------------------- the data


class _Data:
    """Uniform access to a sequence container or a 2-D code array."""

    def __init__(self, seqs: Any) -> None:
        self.obj = seqs
        codes = getattr(seqs, "codes", seqs)
        self.codes = np.ascontiguousarray(np.asarray(codes))
        if self.codes.ndim != 2:
            raise ValueError(f"sequences must be 2-D (cases x positions), got {self.codes.shape}")
        self.n = self.codes.shape[0]
        self.is_array = not hasattr(seqs, "codes")

    def take(self, idx: np.ndarray) -> Any:
        idx = np.asarray(idx, dtype=np.int64)
        if self.is_array:
            return self.codes[idx]
        if hasattr(self.obj, "subset"):
            return self.obj.subset(idx)
        return self.obj[idx]

    def aggregate(self) -> tuple[np.ndarray, np.ndarray]:
        """First row of each distinct sequence and the distinct id of every row."""
        rows = self.codes
        extra = getattr(self.obj, "lengths", None)
        if extra is not None and not callable(extra):
            lens = np.asarray(extra).astype(rows.dtype)[:, None]
            rows = np.ascontiguousarray(np.hstack([rows, lens]))
        view = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
        _, first, inverse = np.unique(view, return_index=True, return_inverse=True)
        # keep the distinct sequences in order of first appearance
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.shape[0])
        return first[order], rank[inverse.ravel()]


# --------------------------------------------------------------- agreement


def _contingency(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    ka, kb = int(a.max()) + 1, int(b.max()) + 1
    return np.bincount(a * kb + b, weights=w, minlength=ka * kb).reshape(ka, kb)


def adjusted_rand_index(a: Any, b: Any, weights: Any = None) -> float:
    """Adjusted Rand index of two partitions, with case weights as counts
    (``seqclararange``'s ``adjustedRandIndex`` on a weighted table)."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    w = np.ones(a.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    tab = _contingency(a, b, w)
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
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    w = np.ones(a.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    tab = _contingency(a, b, w)
    if tab.shape == (1, 1):
        return 1.0
    n11 = float(np.sum(tab**2))
    return n11 / (float(np.sum(tab.sum(axis=0) ** 2)) + float(np.sum(tab.sum(axis=1) ** 2)) - n11)


# ------------------------------------------------------------------ results


@dataclass
class ClaraResult:
    """The best CLARA partition for one k.

    Attributes:
        k: number of clusters.
        labels: cluster ``0..k-1`` of every case (cluster ``c`` has medoid ``medoids[c]``).
        medoids: row index (in the input) of each medoid.
        criterion: the criterion that chose the iteration.
        iteration: index of the best iteration.
        iter_objective: criterion value of every iteration.
        avg_dist: weighted mean distance to the medoid (on all cases).
        pbm, db, xb, ams: ``seqclararange``'s PBM, Davies-Bouldin, XB and average
            medoid silhouette of the best partition (on all cases).
        sizes: weighted size of each cluster.
        ari, jc: agreement of every iteration with the best (``stability=True``).
        quality: WeightedCluster indices on the quality subsample, or ``None``.
    """

    k: int
    labels: np.ndarray
    medoids: np.ndarray
    criterion: str
    iteration: int
    iter_objective: np.ndarray
    avg_dist: float
    pbm: float
    db: float
    xb: float
    ams: float
    sizes: np.ndarray
    ari: np.ndarray | None = None
    jc: np.ndarray | None = None
    quality: ClusterQuality | None = None

    @property
    def ari08(self) -> float:
        """Iterations whose partition has ARI >= 0.8 with the best (``ARI>0.8``)."""
        return float(np.sum(self.ari >= 0.8)) if self.ari is not None else float("nan")

    @property
    def jc08(self) -> float:
        """Iterations whose partition has Jaccard >= 0.8 with the best (``JC>0.8``)."""
        return float(np.sum(self.jc >= 0.8)) if self.jc is not None else float("nan")


@dataclass
class ClaraRange:
    """CLARA results for a range of k (``seqclararange``'s object).

    ``stats()`` has per k: ``avg_dist``, ``PBM``, ``DB``, ``XB``, ``AMS``, ``ARI>0.8``,
    ``JC>0.8``, ``best_iter`` (as ``seqclararange``'s ``stats``) and the
    WeightedCluster indices on the quality subsample (prefixed ``sample_``).
    """

    ks: list[int]
    results: dict[int, ClaraResult]
    n: int
    n_distinct: int
    R: int
    sample_size: int
    criterion: str
    seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> np.ndarray:
        """``N x len(ks)`` matrix of partitions."""
        return np.column_stack([self.results[k].labels for k in self.ks])

    def labels_for(self, k: int) -> np.ndarray:
        """Partition with ``k`` clusters."""
        return self.results[k].labels

    def stats(self) -> dict[str, list[float]]:
        """Quality table as columns (one entry per k)."""
        out: dict[str, list[float]] = {"k": [float(k) for k in self.ks]}
        rows = [self.results[k] for k in self.ks]
        out["avg_dist"] = [r.avg_dist for r in rows]
        out["PBM"] = [r.pbm for r in rows]
        out["DB"] = [r.db for r in rows]
        out["XB"] = [r.xb for r in rows]
        out["AMS"] = [r.ams for r in rows]
        out["ARI>0.8"] = [r.ari08 for r in rows]
        out["JC>0.8"] = [r.jc08 for r in rows]
        out["best_iter"] = [float(r.iteration) for r in rows]
        if all(r.quality is not None for r in rows):
            for name in INDEX_NAMES:
                out[f"sample_{name}"] = [r.quality.stats[name] for r in rows]  # type: ignore[union-attr]
        return out

    def to_polars(self) -> Any:
        """:meth:`stats` as a polars DataFrame."""
        import polars as pl

        table = self.stats()
        table["k"] = [int(k) for k in self.ks]  # type: ignore[misc]
        return pl.DataFrame(table)


# --------------------------------------------------------------- internals


@dataclass
class _Scores:
    labels: np.ndarray
    avg_dist: float
    pbm: float
    db: float
    xb: float
    ams: float
    sizes: np.ndarray

    def value(self, criterion: str) -> float:
        return {
            "distance": self.avg_dist,
            "db": self.db,
            "xb": self.xb,
            "pbm": self.pbm,
            "ams": self.ams,
        }[criterion]


@nb.njit(cache=True)
def _score_chunk(
    dc: np.ndarray,
    w: np.ndarray,
    cols: np.ndarray,
    offs: np.ndarray,
    labels: np.ndarray,
    start: int,
    d1sum: np.ndarray,
    silsum: np.ndarray,
    diam: np.ndarray,
    size: np.ndarray,
) -> None:  # pragma: no cover - numba
    """Nearest and second-nearest medoid of every row for every medoid set; adds the
    weighted sums of the criteria (``seqclararange``'s crisp branch)."""
    m = dc.shape[0]
    for s in range(offs.shape[0] - 1):
        a, b = offs[s], offs[s + 1]
        for r in range(m):
            best = 0
            d1 = np.inf
            d2 = np.inf
            for c in range(a, b):
                v = dc[r, cols[c]]
                if v < d1:
                    d2 = d1
                    d1 = v
                    best = c - a
                elif v < d2:
                    d2 = v
            wr = w[r]
            labels[s, start + r] = best
            d1sum[s] += wr * d1
            hi = d2 if d2 > d1 else d1
            if hi > 0:
                silsum[s] += wr * (d2 - d1) / hi
            diam[s, best] += wr * d1
            size[s, best] += wr


def _score_partitions(
    data: _Data,
    units: np.ndarray,
    unit_w: np.ndarray,
    medoid_sets: dict[int, np.ndarray],
    dist: DistFn,
    chunk_size: int,
    tick: Callable[[int], None] | None = None,
) -> dict[int, _Scores]:
    """Assign ``units`` to each medoid set in chunks and compute the criteria."""
    keys = list(medoid_sets)
    cand, inv = np.unique(np.concatenate([medoid_sets[k] for k in keys]), return_inverse=True)
    cols = inv.astype(np.int64)
    offs = np.concatenate([[0], np.cumsum([medoid_sets[k].shape[0] for k in keys])])
    cand_obj = data.take(cand)
    n_u = units.shape[0]
    nk, kmax = len(keys), max(medoid_sets[k].shape[0] for k in keys)
    labels = np.empty((nk, n_u), dtype=np.int16 if kmax < 32000 else np.int32)
    d1sum = np.zeros(nk)
    silsum = np.zeros(nk)
    diam_a = np.zeros((nk, kmax))
    size_a = np.zeros((nk, kmax))
    w_all = np.ascontiguousarray(unit_w, dtype=np.float64)
    for start in range(0, n_u, chunk_size):
        idx = units[start : start + chunk_size]
        dc = np.ascontiguousarray(dist(data.take(idx), cand_obj), dtype=np.float64)
        if dc.shape != (idx.shape[0], cand.shape[0]):
            raise ValueError(
                f"dist returned shape {dc.shape}, expected {(idx.shape[0], cand.shape[0])}"
            )
        _score_chunk(
            dc,
            w_all[start : start + idx.shape[0]],
            cols,
            offs,
            labels,
            start,
            d1sum,
            silsum,
            diam_a,
            size_a,
        )
        if tick is not None:
            tick(idx.shape[0])
    pos = {k: i for i, k in enumerate(keys)}
    diam = {k: diam_a[pos[k], :k] for k in keys}
    size = {k: size_a[pos[k], :k] for k in keys}
    total = float(unit_w.sum())
    out = {}
    for k, meds in medoid_sets.items():
        mm = np.asarray(dist(data.take(meds), data.take(meds)), dtype=np.float64)
        mean_d = d1sum[pos[k]] / total
        off = mm[~np.eye(k, dtype=bool)]
        with np.errstate(divide="ignore", invalid="ignore"):
            # Davies-Bouldin: diameters = weighted mean distance to the medoid;
            # per cluster the largest (diam_i + diam_j) / d(m_i, m_j) over finite ratios
            dm = np.where(size[k] > 0, diam[k] / size[k], 0.0)
            ratio = (dm[:, None] + dm[None, :]) / mm
            ratio[~np.isfinite(ratio)] = -np.inf
            per = ratio.max(axis=1)
            db = float(np.mean(per[np.isfinite(per)])) if np.any(np.isfinite(per)) else np.nan
            pbm = float(((1.0 / k) * (mm.max() / mean_d)) ** 2) if mean_d > 0 else np.inf
            xb = float(mean_d / off.min()) if off.min() > 0 else np.inf
        out[k] = _Scores(
            labels=labels[pos[k]],
            avg_dist=mean_d,
            pbm=pbm,
            db=db,
            xb=xb,
            ams=silsum[pos[k]] / total,
            sizes=size[k],
        )
    return out


def _better(new: float, old: float, criterion: str) -> bool:
    if np.isnan(old):
        return not np.isnan(new)
    return new > old if criterion in _MAXIMISE else new < old


def clara(
    seqs: Any,
    ks: int | Iterable[int] = range(2, 11),
    *,
    dist: DistFn | None = None,
    dist_self: Callable[[Any], np.ndarray] | None = None,
    dist_kwargs: dict[str, Any] | None = None,
    weights: Any = None,
    R: int = 100,
    sample_size: int | None = None,
    criterion: Criterion = "distance",
    stability: bool = False,
    quality_sample: int = 2000,
    eval_sample: int | None = None,
    start: Literal["build", "ward"] = "build",
    chunk_size: int = 50_000,
    seed: int = 0,
    progress: ProgressFn | None = None,
) -> ClaraRange:
    """CLARA clustering of many sequences for one or several k (``seqclararange``).

    Args:
        seqs: the sequence container (``sequences.seqdata.SequenceData`` or the
            trajectories one) or a 2-D integer code array, one row per case.
        ks: the number(s) of clusters.
        dist: ``dist(A, B) -> (len(A), len(B))`` distances between two subsets of
            ``seqs`` (row subsets of the array / container). Default:
            ``sequences.distances`` (``seqdist_cross``/``seqdist`` semantics,
            ``method="OM"`` unless given) with the costs resolved once on all of
            ``seqs``; a raw array is first turned into a ``SequenceData`` by ``seqdef``.
        dist_self: optional ``dist_self(A) -> square matrix``; default ``dist(A, A)``
            (or ``distances.seqdist`` with the default ``dist``).
        dist_kwargs: keyword arguments of the default distance (``method``, ``sm``,
            ``indel``, ``norm``, ... and ``dtype``, ``n_threads``).
        weights: case weights (default: the container's ``weights`` if any, else 1).
        R: number of iterations (samples).
        sample_size: cases drawn per iteration (see the module docstring for the
            default).
        criterion: ``"distance"`` (mean distance to medoid), ``"db"``, ``"xb"``,
            ``"pbm"`` or ``"ams"``.
        stability: compute ARI / Jaccard between the best and every iteration
            (keeps every iteration's partition in memory: ``R x distinct`` int16 per k).
        quality_sample: cases on which all WeightedCluster indices are computed from
            a full distance matrix (0 to skip).
        start: PAM start on each sample: ``"build"`` (PAM BUILD) or ``"ward"``
            (medoids of the weighted Ward.D tree cut at k, as ``seqclararange``).
        eval_sample: score iterations on this many distinct sequences only (drawn
            once, proportional to weight), then assign all cases for the winners.
        chunk_size: rows per ``dist`` call when assigning cases to medoids.
        seed: seed of every random draw (the result is deterministic).
        progress: ``progress(stage, done, total)`` callback, e.g. for a rich bar.

    Returns:
        A :class:`ClaraRange`.
    """
    t0 = time.perf_counter()
    klist = sorted({int(ks)} if isinstance(ks, int | np.integer) else {int(k) for k in ks})
    if not klist or klist[0] < 2:
        raise ValueError(f"every k must be at least 2, got {klist}")
    if criterion not in ("distance", "db", "xb", "pbm", "ams"):
        raise ValueError(f"unknown criterion {criterion!r}")
    if R < 1:
        raise ValueError("R must be at least 1")
    if start not in ("build", "ward"):
        raise ValueError(f"unknown start {start!r}; use 'build' or 'ward'")
    if dist is None:
        seqs, dist, default_self = _default_dist(seqs, dist_kwargs or {})
        dist_self = dist_self or default_self
    elif dist_kwargs:
        raise ValueError("dist_kwargs only applies to the default distance")
    data = _Data(seqs)
    cross = dist

    def square(a: Any) -> np.ndarray:
        return np.asarray(dist_self(a) if dist_self is not None else cross(a, a))

    if weights is None:
        weights = getattr(seqs, "weights", None)
    w = np.ones(data.n) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if w.shape[0] != data.n or not np.all(np.isfinite(w)) or w.min() < 0 or w.sum() <= 0:
        raise ValueError("weights must be finite, non-negative, one per case, not all zero")

    first, unit_of = data.aggregate()
    n_u = first.shape[0]
    agg_w = np.bincount(unit_of, weights=w, minlength=n_u)
    if klist[-1] > n_u:
        raise ValueError(f"k = {klist[-1]} exceeds the {n_u} distinct sequences")
    probs = agg_w / agg_w.sum()
    if sample_size is None:
        sample_size = max(40 + 2 * klist[-1], 1000)
    if sample_size < klist[-1]:
        raise ValueError("more clusters than the size of the sample requested")
    whole = sample_size >= n_u
    n_iter = 1 if whole else R
    rng = np.random.default_rng(seed)

    # cases scored in the iterations
    if eval_sample is not None and eval_sample < n_u and not whole:
        # drawn like a CLARA sample: with replacement, proportional to weight
        draw = rng.choice(n_u, size=eval_sample, replace=True, p=probs)
        ev_units, ev_counts = np.unique(draw, return_counts=True)
        ev_w = ev_counts.astype(np.float64)
    else:
        ev_units = np.arange(n_u)
        ev_w = agg_w
    scored_all = ev_units.shape[0] == n_u and ev_w is agg_w

    def tick_factory(stage: str, total: int) -> Callable[[int], None]:
        done = [0]

        def tick(m: int) -> None:
            done[0] += m
            if progress is not None:
                progress(stage, done[0], total)

        return tick

    best: dict[int, tuple[int, _Scores, np.ndarray]] = {}
    objectives = {k: np.full(n_iter, np.nan) for k in klist}
    all_labels: dict[int, np.ndarray] = {}
    if stability:
        all_labels = {k: np.empty((n_iter, ev_units.shape[0]), dtype=np.int16) for k in klist}
    if progress is not None:
        progress("iterations", 0, n_iter)
    for it in range(n_iter):
        if whole:
            s_units = np.arange(n_u)
            s_w = agg_w.copy()
        else:
            draw = rng.choice(n_u, size=sample_size, replace=True, p=probs)
            s_units, s_w = np.unique(draw, return_counts=True)
            s_w = s_w.astype(np.float64)
        if s_units.shape[0] < klist[-1]:
            raise ValueError(
                f"a sample holds only {s_units.shape[0]} distinct sequences for "
                f"k = {klist[-1]}; increase sample_size"
            )
        ds = as_square(square(data.take(first[s_units])), dtype=np.float64)
        if start == "ward":
            tree = ward(ds, method="ward.D", weights=s_w)
        else:
            starts = _build(np.ascontiguousarray(ds), s_w, klist[-1])
        meds = {}
        for k in klist:
            init = medoids_of(ds, cutree(tree, k), s_w) if start == "ward" else starts[:k]
            res = pam(ds, k, weights=s_w, init=init)
            meds[k] = s_units[res.medoids]
        # medoids as row indices of the data: first row of each distinct sequence
        med_rows = {k: first[m] for k, m in meds.items()}
        scores = _score_partitions(data, first[ev_units], ev_w, med_rows, cross, chunk_size)
        for k in klist:
            sc = scores[k]
            objectives[k][it] = sc.value(criterion)
            if stability:
                all_labels[k][it] = sc.labels
            if k not in best or _better(
                sc.value(criterion), best[k][1].value(criterion), criterion
            ):
                best[k] = (it, sc, meds[k])
        if progress is not None:
            progress("iterations", it + 1, n_iter)

    # final scores on every distinct sequence
    if not scored_all:
        final = _score_partitions(
            data,
            first,
            agg_w,
            {k: first[best[k][2]] for k in klist},
            cross,
            chunk_size,
            tick_factory("assign", n_u),
        )
    else:
        final = {k: best[k][1] for k in klist}

    results: dict[int, ClaraResult] = {}
    for k in klist:
        it, _, med_units = best[k]
        sc = final[k]
        ari = jc = None
        if stability:
            ref = all_labels[k][it].astype(np.int64)
            ari = np.array(
                [
                    adjusted_rand_index(ref, all_labels[k][j].astype(np.int64), ev_w)
                    for j in range(n_iter)
                ]
            )
            jc = np.array(
                [
                    jaccard_coefficient(ref, all_labels[k][j].astype(np.int64), ev_w)
                    for j in range(n_iter)
                ]
            )
        # number clusters by increasing medoid row, as pam()
        med_rows = first[med_units]
        order = np.argsort(med_rows, kind="stable")
        relabel = np.empty(k, dtype=np.int64)
        relabel[order] = np.arange(k)
        labels_u = relabel[sc.labels.astype(np.int64)]
        results[k] = ClaraResult(
            k=k,
            labels=labels_u[unit_of],
            medoids=med_rows[order],
            criterion=criterion,
            iteration=it,
            iter_objective=objectives[k],
            avg_dist=sc.avg_dist,
            pbm=sc.pbm,
            db=sc.db,
            xb=sc.xb,
            ams=sc.ams,
            sizes=sc.sizes[order],
            ari=ari,
            jc=jc,
        )

    if quality_sample and quality_sample > 0:
        m = min(quality_sample, data.n)
        rows = np.sort(rng.choice(data.n, size=m, replace=False))
        if progress is not None:
            progress("quality", 0, 1)
        dq = as_square(square(data.take(rows)))
        ev = QualityEvaluator(dq, None if weights is None else w[rows])
        labs = [results[k].labels[rows] for k in klist]
        ok = [np.unique(lab).shape[0] >= 2 for lab in labs]
        quals = ev.evaluate_many([lab for lab, good in zip(labs, ok, strict=True) if good])
        qi = iter(quals)
        for k, good in zip(klist, ok, strict=True):
            results[k].quality = next(qi) if good else None
        if progress is not None:
            progress("quality", 1, 1)

    return ClaraRange(
        ks=klist,
        results=results,
        n=data.n,
        n_distinct=n_u,
        R=n_iter,
        sample_size=int(min(sample_size, n_u)) if whole else int(sample_size),
        criterion=criterion,
        seconds=time.perf_counter() - t0,
        params={"seed": seed, "eval_sample": eval_sample, "quality_sample": quality_sample},
    )
