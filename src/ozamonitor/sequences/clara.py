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

from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.sequences._clara_scores import Data, DistFn, Scores, better, score_partitions
from ozamonitor.sequences.cluster import medoids_of, pam, pam_build
from ozamonitor.sequences.define import as_seqdata
from ozamonitor.sequences.quality import (
    INDEX_NAMES,
    ClusterQuality,
    QualityEvaluator,
    adjusted_rand_index,
    as_square,
    jaccard_coefficient,
)
from ozamonitor.sequences.seqdata import SequenceData
from ozamonitor.sequences.ward import cutree, ward

__all__ = ["ClaraRange", "ClaraResult", "clara", "hamming_cross"]

Criterion = Literal["distance", "db", "xb", "pbm", "ams"]
#: progress(stage, done, total): stage is "iterations", "assign" or "quality".
ProgressFn = Callable[[str, int, int], None]
#: Smallest default sample size: ``seqclararange``'s manual recommends 1,000-10,000.
DEFAULT_MIN_SAMPLE = 1000
#: Agreement with the best partition above which an iteration counts as stable
#: (``seqclararange``'s ``ARI>0.8`` and ``JC>0.8``).
STABLE_AGREEMENT = 0.8


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


def hamming_cross(a: SequenceData | np.ndarray, b: SequenceData | np.ndarray) -> np.ndarray:
    """Plain Hamming distances (unit substitution cost) between the rows of two
    equal-length integer code matrices: a fast fallback ``dist`` for CLARA and the
    tests. For TraMineR's ``HAM``/``OM`` with costs use ``distances.seqdist_cross``."""
    ca = np.ascontiguousarray(a.codes if isinstance(a, SequenceData) else a)
    cb = np.ascontiguousarray(b.codes if isinstance(b, SequenceData) else b)
    if ca.ndim != 2 or cb.ndim != 2 or ca.shape[1] != cb.shape[1]:
        raise InputError(
            f"need two 2-D code matrices of equal length, got {ca.shape}, {cb.shape}")
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

    sd = as_seqdata(seqs)
    call_kw = {k: dist_kwargs[k] for k in ("dtype", "n_threads") if k in dist_kwargs}
    setup_kw = {k: v for k, v in dist_kwargs.items() if k not in call_kw}
    setup = distances.DistanceSetup.create(sd, **{"method": "OM", **setup_kw})

    def cross(a: Any, b: Any) -> np.ndarray:
        return distances.seqdist_cross_setup(a, b, setup, **call_kw)

    def square(a: Any) -> np.ndarray:
        return distances.seqdist_setup(a, setup, **call_kw)

    return sd, cross, square


# ------------------------------------------------------------------- the data


# ------------------------------------------------------------------ results


@dataclass
class ClaraResult:
    """The best CLARA partition for one k.

    Attributes
    ----------
    k : int
        number of clusters.
    labels : ndarray
        cluster ``0..k-1`` of every case (cluster ``c`` has medoid ``medoids[c]``).
    medoids : ndarray
        row index (in the input) of each medoid.
    criterion : str
        the criterion that chose the iteration.
    iteration : int
        index of the best iteration.
    iter_objective : ndarray
        criterion value of every iteration.
    avg_dist : float
        weighted mean distance to the medoid (on all cases).
    pbm, db, xb, ams : float
        ``seqclararange``'s PBM, Davies-Bouldin, XB and average
        medoid silhouette of the best partition (on all cases).
    sizes : ndarray
        weighted size of each cluster.
    ari, jc : ndarray, optional
        agreement of every iteration with the best (``stability=True``).
    quality : ClusterQuality, optional
        WeightedCluster indices on the quality subsample, or ``None``.
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
        return float(np.sum(self.ari >= STABLE_AGREEMENT)) if self.ari is not None else float("nan")

    @property
    def jc08(self) -> float:
        """Iterations whose partition has Jaccard >= 0.8 with the best (``JC>0.8``)."""
        return float(np.sum(self.jc >= STABLE_AGREEMENT)) if self.jc is not None else float("nan")


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


def clara(
    seqs: SequenceData | np.ndarray,
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

    Parameters
    ----------
    seqs : SequenceData or ndarray
        the sequence container or a 2-D integer code array, one row per case.
    ks : int or Iterable[int], default range(2, 11)
        the number(s) of clusters.
    dist : DistFn, optional
        ``dist(A, B) -> (len(A), len(B))`` distances between two subsets of
        ``seqs`` (row subsets of the array / container). Default:
        ``sequences.distances`` (``seqdist_cross``/``seqdist`` semantics,
        ``method="OM"`` unless given) with the costs resolved once on all of
        ``seqs``; a raw array is first turned into a ``SequenceData`` by ``seqdef``.
    dist_self : Callable[[Any], ndarray], optional
        optional ``dist_self(A) -> square matrix``; default ``dist(A, A)``
        (or ``distances.seqdist`` with the default ``dist``).
    dist_kwargs : dict[str, Any], optional
        keyword arguments of the default distance (``method``, ``sm``,
        ``indel``, ``norm``, ... and ``dtype``, ``n_threads``).
    weights : array-like, optional
        case weights (default: the container's ``weights`` if any, else 1).
    R : int, default 100
        number of iterations (samples).
    sample_size : int, optional
        cases drawn per iteration (see the module docstring for the
        default).
    criterion : Criterion, default 'distance'
        ``"distance"`` (mean distance to medoid), ``"db"``, ``"xb"``,
        ``"pbm"`` or ``"ams"``.
    stability : bool, default False
        compute ARI / Jaccard between the best and every iteration
        (keeps every iteration's partition in memory: ``R x distinct`` int16 per k).
    quality_sample : int, default 2000
        cases on which all WeightedCluster indices are computed from
        a full distance matrix (0 to skip).
    start : Literal['build', 'ward'], default 'build'
        PAM start on each sample: ``"build"`` (PAM BUILD) or ``"ward"``
        (medoids of the weighted Ward.D tree cut at k, as ``seqclararange``).
    eval_sample : int, optional
        score iterations on this many distinct sequences only (drawn
        once, proportional to weight), then assign all cases for the winners.
    chunk_size : int, default 50000
        rows per ``dist`` call when assigning cases to medoids.
    seed : int, default 0
        seed of every random draw (the result is deterministic).
    progress : ProgressFn, optional
        ``progress(stage, done, total)`` callback, e.g. for a rich bar.

    Returns
    -------
    ClaraRange
        A :class:`ClaraRange`.
    """
    # Long only for the docstring of its many options; the steps are _Run's methods.
    t0 = time.perf_counter()
    klist = _check_options(ks, criterion, R, start)
    if dist is None:
        seqs, dist, default_self = _default_dist(seqs, dist_kwargs or {})
        dist_self = dist_self or default_self
    elif dist_kwargs:
        raise ConfigurationError("dist_kwargs only applies to the default distance")
    data = Data(seqs)
    cross = dist

    def square(a: Any) -> np.ndarray:
        return np.asarray(dist_self(a) if dist_self is not None else cross(a, a))

    if weights is None and isinstance(seqs, SequenceData):
        weights = seqs.weights
    w = np.ones(data.n) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if w.shape[0] != data.n or not np.all(np.isfinite(w)) or w.min() < 0 or w.sum() <= 0:
        raise InputError("weights must be finite, non-negative, one per case, not all zero")

    first, unit_of = data.aggregate()
    n_u = first.shape[0]
    agg_w = np.bincount(unit_of, weights=w, minlength=n_u)
    if klist[-1] > n_u:
        raise InputError(f"k = {klist[-1]} exceeds the {n_u} distinct sequences")
    if sample_size is None:
        sample_size = max(40 + 2 * klist[-1], DEFAULT_MIN_SAMPLE)
    if sample_size < klist[-1]:
        raise ConfigurationError("more clusters than the size of the sample requested")
    whole = sample_size >= n_u
    run = _Run(data=data, cross=cross, square=square, first=first, agg_w=agg_w,
               klist=klist, criterion=criterion, start=start, chunk_size=chunk_size,
               rng=np.random.default_rng(seed), progress=progress,
               n_iter=1 if whole else R, sample_size=None if whole else sample_size)
    run.choose_scored(eval_sample)
    best, objectives, all_labels = run.iterate(stability)

    # final scores on every distinct sequence
    if not run.scored_all:
        final = score_partitions(data, first, agg_w, {k: first[best[k][2]] for k in klist},
                                 cross, chunk_size, run.ticker("assign", n_u))
    else:
        final = {k: best[k][1] for k in klist}
    results = {k: run.result(k, best[k], final[k], objectives[k], all_labels.get(k), unit_of)
               for k in klist}
    if quality_sample and quality_sample > 0:
        run.add_quality(results, quality_sample, None if weights is None else w)

    return ClaraRange(
        ks=klist,
        results=results,
        n=data.n,
        n_distinct=n_u,
        R=run.n_iter,
        sample_size=int(min(sample_size, n_u)) if whole else int(sample_size),
        criterion=criterion,
        seconds=time.perf_counter() - t0,
        params={"seed": seed, "eval_sample": eval_sample, "quality_sample": quality_sample},
    )


def _check_options(ks: int | Iterable[int], criterion: str, R: int, start: str) -> list[int]:
    """The sorted numbers of clusters, after checking the options."""
    klist = sorted({int(ks)} if isinstance(ks, int | np.integer) else {int(k) for k in ks})
    if not klist or klist[0] < 2:
        raise ConfigurationError(f"every k must be at least 2, got {klist}")
    if criterion not in ("distance", "db", "xb", "pbm", "ams"):
        raise ConfigurationError(f"unknown criterion {criterion!r}")
    if R < 1:
        raise ConfigurationError("R must be at least 1")
    if start not in ("build", "ward"):
        raise ConfigurationError(f"unknown start {start!r}; use 'build' or 'ward'")
    return klist


#: The best iteration of one k: (iteration, its scores, its medoids as distinct units).
_Best = tuple[int, Scores, np.ndarray]


@dataclass
class _Run:
    """The state one :func:`clara` call shares between its steps.

    ``sample_size`` None: one iteration on every distinct sequence. All random
    draws come from ``rng`` in a fixed order (scored subsample, one sample per
    iteration, quality subsample), so a seed gives one result.
    """

    data: Data
    cross: DistFn
    square: Callable[[Any], np.ndarray]
    first: np.ndarray
    agg_w: np.ndarray
    klist: list[int]
    criterion: str
    start: str
    chunk_size: int
    rng: np.random.Generator
    progress: ProgressFn | None
    n_iter: int
    sample_size: int | None
    ev_units: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ev_w: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scored_all: bool = True

    @property
    def n_u(self) -> int:
        return int(self.first.shape[0])

    @property
    def probs(self) -> np.ndarray:
        return self.agg_w / self.agg_w.sum()

    def choose_scored(self, eval_sample: int | None) -> None:
        """The distinct sequences the iterations are scored on (all, or a weighted draw)."""
        if eval_sample is not None and eval_sample < self.n_u and self.sample_size is not None:
            # drawn like a CLARA sample: with replacement, proportional to weight
            draw = self.rng.choice(self.n_u, size=eval_sample, replace=True, p=self.probs)
            self.ev_units, ev_counts = np.unique(draw, return_counts=True)
            self.ev_w = ev_counts.astype(np.float64)
            self.scored_all = False
        else:
            self.ev_units = np.arange(self.n_u)
            self.ev_w = self.agg_w
            self.scored_all = True

    def ticker(self, stage: str, total: int) -> Callable[[int], None]:
        """A callback adding ``m`` done cases to ``stage``'s progress."""
        done = [0]

        def tick(m: int) -> None:
            done[0] += m
            if self.progress is not None:
                self.progress(stage, done[0], total)

        return tick

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        """One iteration's distinct units and their weights (draw counts)."""
        if self.sample_size is None:
            return np.arange(self.n_u), self.agg_w.copy()
        draw = self.rng.choice(self.n_u, size=self.sample_size, replace=True, p=self.probs)
        units, counts = np.unique(draw, return_counts=True)
        if units.shape[0] < self.klist[-1]:
            raise InputError(
                f"a sample holds only {units.shape[0]} distinct sequences for "
                f"k = {self.klist[-1]}; increase sample_size"
            )
        return units, counts.astype(np.float64)

    def medoids(self, s_units: np.ndarray, s_w: np.ndarray) -> dict[int, np.ndarray]:
        """Weighted PAM on the sample for every k: the medoids as distinct units."""
        ds = as_square(self.square(self.data.take(self.first[s_units])), dtype=np.float64)
        if self.start == "ward":
            tree = ward(ds, method="ward.D", weights=s_w)
        else:
            starts = pam_build(np.ascontiguousarray(ds), s_w, self.klist[-1])
        meds = {}
        for k in self.klist:
            init = medoids_of(ds, cutree(tree, k), s_w) if self.start == "ward" else starts[:k]
            res = pam(ds, k, weights=s_w, init=init)
            meds[k] = s_units[res.medoids]
        return meds

    def iterate(self, stability: bool
                ) -> tuple[dict[int, _Best], dict[int, np.ndarray], dict[int, np.ndarray]]:
        """All iterations: the best per k, every iteration's objective and (with
        ``stability``) every iteration's labels of the scored units."""
        best: dict[int, _Best] = {}
        objectives = {k: np.full(self.n_iter, np.nan) for k in self.klist}
        all_labels: dict[int, np.ndarray] = {}
        if stability:
            all_labels = {k: np.empty((self.n_iter, self.ev_units.shape[0]), dtype=np.int16)
                          for k in self.klist}
        if self.progress is not None:
            self.progress("iterations", 0, self.n_iter)
        for it in range(self.n_iter):
            meds = self.medoids(*self.sample())
            # medoids as row indices of the data: first row of each distinct sequence
            med_rows = {k: self.first[m] for k, m in meds.items()}
            scores = score_partitions(self.data, self.first[self.ev_units], self.ev_w, med_rows,
                                      self.cross, self.chunk_size)
            for k in self.klist:
                sc = scores[k]
                objectives[k][it] = sc.value(self.criterion)
                if stability:
                    all_labels[k][it] = sc.labels
                if k not in best or better(sc.value(self.criterion),
                                           best[k][1].value(self.criterion), self.criterion):
                    best[k] = (it, sc, meds[k])
            if self.progress is not None:
                self.progress("iterations", it + 1, self.n_iter)
        return best, objectives, all_labels

    def result(self, k: int, best: _Best, sc: Scores, objective: np.ndarray,
               labels: np.ndarray | None, unit_of: np.ndarray) -> ClaraResult:
        """The :class:`ClaraResult` of ``k``: clusters numbered by increasing medoid
        row (as :func:`~ozamonitor.sequences.cluster.pam`), agreement if kept."""
        it, _, med_units = best
        ari = jc = None
        if labels is not None:
            ref = labels[it].astype(np.int64)
            ari = np.array([adjusted_rand_index(ref, labels[j].astype(np.int64), self.ev_w)
                            for j in range(self.n_iter)])
            jc = np.array([jaccard_coefficient(ref, labels[j].astype(np.int64), self.ev_w)
                           for j in range(self.n_iter)])
        med_rows = self.first[med_units]
        order = np.argsort(med_rows, kind="stable")
        relabel = np.empty(k, dtype=np.int64)
        relabel[order] = np.arange(k)
        labels_u = relabel[sc.labels.astype(np.int64)]
        return ClaraResult(
            k=k, labels=labels_u[unit_of], medoids=med_rows[order], criterion=self.criterion,
            iteration=it, iter_objective=objective, avg_dist=sc.avg_dist, pbm=sc.pbm,
            db=sc.db, xb=sc.xb, ams=sc.ams, sizes=sc.sizes[order], ari=ari, jc=jc,
        )

    def add_quality(self, results: dict[int, ClaraResult], quality_sample: int,
                    w: np.ndarray | None) -> None:
        """WeightedCluster's indices of every final partition on a subsample."""
        n = self.data.n
        rows = np.sort(self.rng.choice(n, size=min(quality_sample, n), replace=False))
        if self.progress is not None:
            self.progress("quality", 0, 1)
        dq = as_square(self.square(self.data.take(rows)))
        ev = QualityEvaluator(dq, None if w is None else w[rows])
        labs = [results[k].labels[rows] for k in self.klist]
        ok = [np.unique(lab).shape[0] >= 2 for lab in labs]
        quals = iter(ev.evaluate_many([lab for lab, good in zip(labs, ok, strict=True) if good]))
        for k, good in zip(self.klist, ok, strict=True):
            results[k].quality = next(quals) if good else None
        if self.progress is not None:
            self.progress("quality", 1, 1)
