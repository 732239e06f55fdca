"""Clustering of sequences from a distance matrix: PAM (k-medoids), medoids, spells.

* :func:`pam` - k-medoids with the ``kmedoids`` package. Default ``method="fasterpam"``
  (FasterPAM, Schubert & Rousseeuw 2021: eager swaps, same local-optimum quality as
  PAM, much faster) started from the PAM BUILD medoids; ``method="pam"`` runs the
  original BUILD + SWAP of Kaufman & Rousseeuw (``cluster::pam``, and
  WeightedCluster's ``wcKMedoids`` ``PAMonce`` which finds the same result).
  Deterministic: BUILD has no randomness; ``init="random"`` draws from ``seed``.
* :func:`pam_range` - PAM for each k plus all quality indices
  (WeightedCluster's ``wcKMedoids`` + ``as.clustrange``).
* :func:`medoids_of`, :func:`spell_string`, :func:`describe_clusters` - medoid of
  each cluster rendered as a compact spell string (``"enrolled/24-absent/6"``).

Hierarchical Ward clustering (``hclust`` semantics) is in :mod:`~ozamonitor.sequences.ward`.

Case weights: quality indices, :func:`pam` (FasterPAM) and Ward accept them.
Weighted FasterPAM minimises ``sum_i w_i d(i, medoid(i))``: ``kmedoids`` reads the
matrix only as ``d[point, medoid]`` in FasterPAM, so it runs on the row-scaled matrix
``w_i * d_ij`` (the BUILD start is our own weighted BUILD). The original PAM SWAP
reads both orientations, so ``method="pam"`` refuses weights.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numba as nb
import numpy as np

from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.sequences.quality import (
    INDEX_NAMES,
    ClusterQuality,
    QualityEvaluator,
    as_square,
    check_weights,
)
from ozamonitor.sequences.seqdata import SequenceData

__all__ = [
    "ClusterRange",
    "PamResult",
    "check_ks",
    "describe_clusters",
    "medoids_of",
    "pam",
    "pam_build",
    "pam_range",
    "spell_string",
    "spells",
]

PamMethod = Literal["fasterpam", "pam"]


@dataclass(frozen=True)
class PamResult:
    """One k-medoids partition.

    Attributes
    ----------
    k : int
        number of clusters.
    labels : ndarray
        cluster of each observation, ``0..k-1`` (cluster ``c`` has medoid
        ``medoids[c]``; clusters are numbered by increasing medoid index).
    medoids : ndarray
        row index of each cluster's medoid.
    cost : float
        ``sum_i w_i d(i, medoid(i))`` (the PAM objective).
    method : str
        ``"fasterpam"`` or ``"pam"``.
    n_iter : int, default 0
        iterations of the swap phase.
    n_swap : int, default 0
        swaps performed.
    weights : ndarray, optional
        the case weights used (``None`` when unweighted).
    """

    k: int
    labels: np.ndarray
    medoids: np.ndarray
    cost: float
    method: str
    n_iter: int = 0
    n_swap: int = 0
    weights: np.ndarray | None = field(default=None, repr=False)

    @property
    def sizes(self) -> np.ndarray:
        """Weighted size of each cluster."""
        w = None if self.weights is None else self.weights
        return np.bincount(self.labels, weights=w, minlength=self.k)

    @property
    def mean_distance(self) -> float:
        """Weighted mean distance to the medoid (CLARA's objective)."""
        total = float(self.sizes.sum())
        return self.cost / total if total > 0 else float("nan")


@nb.njit(cache=True)
def pam_build(d: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:  # pragma: no cover - numba
    """Weighted PAM BUILD (greedy): each step adds the object that lowers
    ``sum_o w_o min_m d(o, m)`` most.

    Written here because ``kmedoids.pam_build`` has no case weights.

    Parameters
    ----------
    d : ndarray
        Square, symmetric distance matrix (rows are read).
    w : ndarray
        Case weights (float64, one per row).
    k : int
        Number of medoids.

    Returns
    -------
    ndarray
        The ``k`` medoid rows, in the order BUILD adds them (so the first ``j``
        are BUILD's start for ``j`` clusters).
    """
    n = d.shape[0]
    gain = np.empty(n)
    for j in range(n):
        s = 0.0
        for o in range(n):
            s += w[o] * d[j, o]
        gain[j] = s
    meds = np.empty(k, dtype=np.int64)
    first = 0
    for j in range(1, n):
        if gain[j] < gain[first]:
            first = j
    meds[0] = first
    near = np.empty(n)
    for o in range(n):
        near[o] = d[first, o]
    is_med = np.zeros(n, dtype=np.bool_)
    is_med[first] = True
    for step in range(1, k):
        for j in range(n):
            if is_med[j]:
                gain[j] = np.inf
                continue
            s = 0.0
            for o in range(n):
                diff = d[j, o] - near[o]
                if diff < 0.0:
                    s += w[o] * diff
            gain[j] = s
        best = -1
        for j in range(n):
            if not is_med[j] and (best < 0 or gain[j] < gain[best]):
                best = j
        meds[step] = best
        is_med[best] = True
        for o in range(n):
            if d[best, o] < near[o]:
                near[o] = d[best, o]
    return meds


def _canonical(
    d: np.ndarray, medoids: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """Sort medoids, assign every point to its nearest (ties: first), cost in float64."""
    meds = np.sort(np.asarray(medoids, dtype=np.int64))
    dm = d[:, meds].astype(np.float64)
    labels = np.argmin(dm, axis=1)
    labels[meds] = np.arange(meds.shape[0])  # a medoid is in its own cluster
    cost = float(np.sum(w * dm[np.arange(d.shape[0]), labels]))
    return labels.astype(np.int64), meds, cost


def _prepare(d: Any, weights: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    arr = np.asarray(d)
    dsq = as_square(arr, dtype=None if arr.dtype in (np.float32, np.float64) else np.float64)
    w = check_weights(weights, dsq.shape[0])
    weighted = weights is not None and not np.all(w == w[0])
    if weights is not None and not weighted and w.shape[0] and w[0] == 0:
        raise InputError("all weights are zero")
    return dsq, w, weighted


def pam(
    d: Any,
    k: int,
    *,
    weights: Any = None,
    method: PamMethod = "fasterpam",
    init: Literal["build", "random"] | Sequence[int] | np.ndarray = "build",
    seed: int = 0,
    max_iter: int = 100,
) -> PamResult:
    """k-medoids (PAM) clustering of a distance matrix.

    Parameters
    ----------
    d : array-like
        square distance matrix (float32/float64) or scipy condensed vector.
    k : int
        number of clusters (``1 <= k <= N``).
    weights : array-like, optional
        optional case weights (FasterPAM only).
    method : PamMethod, default 'fasterpam'
        ``"fasterpam"`` (default) or ``"pam"`` (original BUILD + SWAP).
    init : Literal['build', 'random'] or Sequence[int] or ndarray, default 'build'
        ``"build"`` (PAM BUILD, deterministic), ``"random"`` (``k`` objects drawn
        with ``seed``) or explicit initial medoid indices. ``method="pam"`` always
        starts from BUILD unless medoids are given.
    seed : int, default 0
        seed for ``init="random"``.
    max_iter : int, default 100
        maximum swap iterations.

    Returns
    -------
    PamResult
        A :class:`PamResult`.
    """
    import kmedoids

    dsq, w, weighted = _prepare(d, weights)
    n = dsq.shape[0]
    if not 1 <= k <= n:
        raise ConfigurationError(
            f"k must be between 1 and the number of observations ({n}), got {k}")
    if method not in ("fasterpam", "pam"):
        raise ConfigurationError(f"unknown PAM method {method!r}; use 'fasterpam' or 'pam'")
    if method == "pam" and weighted:
        raise ConfigurationError(
            "method='pam' does not support case weights; use method='fasterpam'")
    if isinstance(init, str):
        if init == "build":
            start = pam_build(dsq, w, k) if method == "fasterpam" else None
        elif init == "random":
            start = np.random.default_rng(seed).choice(n, size=k, replace=False)
        else:
            raise ConfigurationError(
                f"unknown init {init!r}; use 'build', 'random' or medoid indices")
    else:
        start = np.asarray(init, dtype=np.int64)
        if start.shape != (k,) or len(np.unique(start)) != k or start.min() < 0 or start.max() >= n:
            raise ConfigurationError(f"init must be {k} distinct row indices in 0..{n - 1}")
    mat = dsq * w[:, None].astype(dsq.dtype) if weighted else dsq
    mat = np.ascontiguousarray(mat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "fasterpam":
            res = kmedoids.fasterpam(mat, start.astype(np.uintp), max_iter=max_iter, n_cpu=1)
        elif start is None:
            res = kmedoids.pam(mat, k, max_iter=max_iter, init="build")
        else:
            res = kmedoids.pam(mat, start.astype(np.uintp), max_iter=max_iter)
    labels, meds, cost = _canonical(dsq, np.asarray(res.medoids), w)
    return PamResult(
        k=k,
        labels=labels,
        medoids=meds,
        cost=cost,
        method=method,
        n_iter=int(res.n_iter),
        n_swap=int(res.n_swap),
        weights=None if weights is None else w,
    )


@dataclass
class ClusterRange:
    """Partitions for a range of k with their quality (WeightedCluster's ``clustrange``).

    Attributes
    ----------
    ks : list[int]
        the numbers of clusters.
    method : str
        how the partitions were made (``"fasterpam"``, ``"pam"``, ``"ward.D"``...).
    labels : ndarray
        ``N x len(ks)`` matrix, column ``i`` the partition for ``ks[i]``.
    medoids : dict[int, ndarray]
        medoid row indices per k (cluster ``c`` has medoid ``medoids[k][c]``).
    quality : dict[int, ClusterQuality]
        :class:`~ozamonitor.sequences.quality.ClusterQuality` per k.
    weights : ndarray, optional
        case weights used, or ``None``.
    """

    ks: list[int]
    method: str
    labels: np.ndarray
    medoids: dict[int, np.ndarray]
    quality: dict[int, ClusterQuality]
    weights: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def evaluate(cls, dsq: np.ndarray, ks: list[int], method: str, labels: np.ndarray,
                 medoids: dict[int, np.ndarray], *, weights: Any = None,
                 kendall: bool = True) -> ClusterRange:
        """The range of partitions ``labels`` (one column per k of ``ks``) of the
        square distances ``dsq``, with all quality indices."""
        ev = QualityEvaluator(dsq, weights, kendall=kendall)
        quality = dict(
            zip(ks, ev.evaluate_many([labels[:, i] for i in range(len(ks))]), strict=True)
        )
        return cls(ks=ks, method=method, labels=labels, medoids=medoids, quality=quality,
                   weights=None if weights is None else check_weights(weights, dsq.shape[0]))

    def labels_for(self, k: int) -> np.ndarray:
        """The partition with ``k`` clusters."""
        return self.labels[:, self.ks.index(k)]

    def stats(self) -> dict[str, list[float]]:
        """Quality table as columns: ``k`` and each index of :data:`INDEX_NAMES`."""
        out: dict[str, list[float]] = {"k": [float(k) for k in self.ks]}
        for name in INDEX_NAMES:
            out[name] = [self.quality[k].stats[name] for k in self.ks]
        return out

    def to_polars(self) -> Any:
        """Quality table as a polars DataFrame (one row per k)."""
        import polars as pl

        table = self.stats()
        return pl.DataFrame({"k": self.ks, **{n: table[n] for n in INDEX_NAMES}})

    def best_k(self, index: str = "ASW") -> int:
        """k with the best value of ``index``: the largest, except for ``HC``
        (Hubert's C, 0 = perfect), where the smallest."""
        vals = np.array([self.quality[k].stats[index] for k in self.ks], dtype=float)
        if np.all(np.isnan(vals)):
            raise InputError(f"index {index} is undefined for every k")
        pick = np.nanargmin if index == "HC" else np.nanargmax
        return self.ks[int(pick(vals))]


def check_ks(ks: Iterable[int], n: int) -> list[int]:
    """The sorted distinct numbers of clusters, each between 2 and ``n - 1``."""
    out = sorted({int(k) for k in ks})
    if not out:
        raise ConfigurationError("ks is empty")
    if out[0] < 2 or out[-1] > n - 1:
        raise ConfigurationError(f"every k must be between 2 and N - 1 = {n - 1}, got {out}")
    return out


def pam_range(
    d: Any,
    ks: Iterable[int] = range(2, 11),
    *,
    weights: Any = None,
    method: PamMethod = "fasterpam",
    kendall: bool = True,
    max_iter: int = 100,
) -> ClusterRange:
    """PAM for every ``k`` in ``ks`` with all quality indices (``wcKMedoids`` +
    ``as.clustrange``). BUILD is greedy, so the BUILD start for each k is the prefix
    of the BUILD for the largest k (computed once)."""
    dsq, w, _ = _prepare(d, weights)
    klist = check_ks(ks, dsq.shape[0])
    starts = pam_build(dsq, w, klist[-1]) if method == "fasterpam" else None
    results = {}
    for k in klist:
        init = starts[:k] if starts is not None else "build"
        results[k] = pam(dsq, k, weights=weights, method=method, init=init, max_iter=max_iter)
    labels = np.column_stack([results[k].labels for k in klist])
    return ClusterRange.evaluate(dsq, klist, method, labels,
                                 {k: results[k].medoids for k in klist},
                                 weights=weights, kendall=kendall)


def medoids_of(d: Any, labels: Any, weights: Any = None) -> np.ndarray:
    """Medoid of each cluster ``0..k-1``: the member minimising the weighted sum of
    distances to the other members (ties: lowest index), as WeightedCluster's
    ``disscenter(..., medoids.index="first")``."""
    dsq = as_square(np.asarray(d))
    lab = np.asarray(labels, dtype=np.int64).ravel()
    w = check_weights(weights, dsq.shape[0])
    k = int(lab.max()) + 1
    out = np.empty(k, dtype=np.int64)
    for c in range(k):
        idx = np.flatnonzero(lab == c)
        if idx.size == 0:
            raise InputError(f"cluster {c} is empty")
        sub = dsq[np.ix_(idx, idx)].astype(np.float64)
        out[c] = idx[int(np.argmin(sub @ w[idx]))]
    return out


# -------------------------------------------------------------- medoid labels


def _codes_and_states(
    seqs: SequenceData | np.ndarray, states: Sequence[str] | None
) -> tuple[np.ndarray, list[str] | None]:
    """Integer code matrix and state names from the container or a 2-D code array."""
    if isinstance(seqs, SequenceData):
        codes = seqs.codes
        if states is None:
            states = seqs.alphabet.codes
    else:
        codes = np.asarray(seqs)
    if codes.ndim == 1:
        codes = codes[None, :]
    if codes.ndim != 2:
        raise InputError(f"sequences must be a 2-D code matrix, got shape {codes.shape}")
    return codes, None if states is None else list(states)


def spells(row: Sequence[int] | np.ndarray) -> list[tuple[int, int]]:
    """Run-length encoding of one sequence: ``[(code, duration), ...]``; void
    positions (negative codes) are dropped."""
    r = np.asarray(row).ravel().astype(np.int64)
    r = r[r >= 0]
    if r.size == 0:
        return []
    cut = np.flatnonzero(r[1:] != r[:-1]) + 1
    starts = np.concatenate([[0], cut])
    ends = np.concatenate([cut, [r.size]])
    return [(int(r[s]), int(e - s)) for s, e in zip(starts, ends, strict=True)]


def spell_string(
    row: Sequence[int] | np.ndarray,
    states: Sequence[str] | None = None,
    *,
    sep: str = "-",
    dur_sep: str = "/",
) -> str:
    """A sequence as compact spells, e.g. ``"enrolled/24-absent/6-oza/42"``.

    ``states`` names the codes (position = code); a code past them (the missing
    code ``len(alphabet)``) shows as ``*``, TraMineR's missing symbol. Without
    ``states`` the codes are printed.
    """
    parts = []
    for code, dur in spells(row):
        if states is not None and code >= len(states):
            name = "*"
        elif states is not None:
            name = str(states[code])
        else:
            name = str(code)
        parts.append(f"{name}{dur_sep}{dur}")
    return sep.join(parts)


def describe_clusters(
    seqs: Any,
    labels: Any,
    medoids: Sequence[int] | np.ndarray,
    *,
    states: Sequence[str] | None = None,
    weights: Any = None,
) -> Any:
    """One row per cluster: ``cluster``, ``size`` (weighted), ``share``, ``medoid``
    (row index) and ``medoid_spells`` (compact spell string of the medoid sequence).

    Parameters
    ----------
    seqs : array-like
        the sequence container or a 2-D code matrix.
    labels : array-like
        cluster ``0..k-1`` of each sequence.
    medoids : Sequence[int] or ndarray
        row index of each cluster's medoid.
    states : Sequence[str], optional
        names of the state codes (default: the container's alphabet codes).
    weights : array-like, optional
        optional case weights for the sizes.

    Returns
    -------
    Any
        A polars DataFrame.
    """
    import polars as pl

    codes, names = _codes_and_states(seqs, states)
    lab = np.asarray(labels, dtype=np.int64).ravel()
    if lab.shape[0] != codes.shape[0]:
        raise InputError(f"{lab.shape[0]} labels for {codes.shape[0]} sequences")
    meds = np.asarray(medoids, dtype=np.int64).ravel()
    k = meds.shape[0]
    w = check_weights(weights, lab.shape[0])
    sizes = np.bincount(lab, weights=w, minlength=k)
    return pl.DataFrame(
        {
            "cluster": np.arange(k, dtype=np.int64),
            "size": sizes if weights is not None else sizes.astype(np.int64),
            "share": sizes / sizes.sum(),
            "medoid": meds,
            "medoid_spells": [spell_string(codes[m], names) for m in meds],
        }
    )
