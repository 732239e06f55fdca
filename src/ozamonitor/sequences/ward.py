"""Hierarchical Ward clustering of a distance matrix with R ``hclust`` semantics.

* :func:`ward` / :func:`cutree` / :func:`ward_range` - ``"ward.D"`` by default, as
  in the WeightedCluster/TraMineR tutorials on OM distances; ``"ward.D2"``
  available; case weights as R's ``members``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import numba as nb
import numpy as np

from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.sequences.cluster import ClusterRange, check_ks, medoids_of
from ozamonitor.sequences.quality import as_square, check_weights

__all__ = ["cutree", "ward", "ward_range"]

WardMethod = Literal["ward.D", "ward.D2"]


@nb.njit(cache=True)
def _ward_nn_chain(dist: np.ndarray, size: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Ward.D agglomeration with initial cluster masses (R's ``members``), by the
    nearest-neighbour chain on a square matrix of Lance-Williams values.

    scipy's ``linkage`` has no ``members`` argument, hence this routine; without
    weights :func:`ward` uses scipy. Returns scipy-format ``Z`` with the merge
    values (not yet sorted)."""
    n = dist.shape[0]
    active = np.ones(n, dtype=np.bool_)
    node = np.arange(n)
    z = np.empty((n - 1, 4))
    chain = np.empty(n, dtype=np.int64)
    clen = 0
    for step in range(n - 1):
        if clen == 0:
            for i in range(n):
                if active[i]:
                    chain[0] = i
                    clen = 1
                    break
        while True:
            a = chain[clen - 1]
            prev = chain[clen - 2] if clen >= 2 else -1
            best = -1
            bd = np.inf
            if prev >= 0:
                best = prev
                bd = dist[a, prev]
            for j in range(n):
                if active[j] and j != a and dist[a, j] < bd:
                    bd = dist[a, j]
                    best = j
            if best == prev and prev >= 0:
                break
            chain[clen] = best
            clen += 1
        a = chain[clen - 1]
        b = chain[clen - 2]
        clen -= 2
        if a > b:
            a, b = b, a
        h = dist[a, b]
        na, nb_ = size[a], size[b]
        for j in range(n):
            if active[j] and j != a and j != b:
                nj = size[j]
                t = na + nb_ + nj
                v = ((na + nj) * dist[a, j] + (nb_ + nj) * dist[b, j] - nj * h) / t
                dist[a, j] = v
                dist[j, a] = v
        active[b] = False
        z[step, 0] = min(node[a], node[b])
        z[step, 1] = max(node[a], node[b])
        z[step, 2] = h
        size[a] = na + nb_
        z[step, 3] = size[a]
        node[a] = n + step
    return z


def _sort_nn_chain(z: np.ndarray, n: int) -> np.ndarray:
    """Order NN-chain merges by height and renumber the nodes (as scipy does)."""
    order = np.argsort(z[:, 2], kind="stable")
    old_to_new = {}
    out = np.empty_like(z)
    for new_pos, old_pos in enumerate(order):
        a, b = int(z[old_pos, 0]), int(z[old_pos, 1])
        a = old_to_new.get(a, a) if a >= n else a
        b = old_to_new.get(b, b) if b >= n else b
        old_to_new[n + old_pos] = n + new_pos
        out[new_pos] = (min(a, b), max(a, b), z[old_pos, 2], 0.0)
    # member counts (number of observations, as scipy) in column 3
    cnt = np.concatenate([np.ones(n), np.zeros(n - 1)])
    for i in range(n - 1):
        cnt[n + i] = cnt[int(out[i, 0])] + cnt[int(out[i, 1])]
        out[i, 3] = cnt[n + i]
    return out


def ward(d: Any, *, method: WardMethod = "ward.D", weights: Any = None) -> np.ndarray:
    """Hierarchical Ward clustering with R ``hclust`` semantics.

    ``"ward.D"`` (default, R's historical ``"ward"``) applies the Lance-Williams Ward
    update to the dissimilarities as given; ``"ward.D2"`` applies it to their squares
    and reports square roots (= scipy's ``"ward"``). ``ward.D`` on ``D`` is computed
    as scipy Ward on ``sqrt(D)`` with squared merge heights, which is the same
    recursion. ``weights`` are R's ``members`` (initial cluster masses, as
    ``fastcluster::hclust(..., members=)`` used by WeightedCluster).

    Returns
    -------
    ndarray
        scipy-format linkage matrix ``Z`` (heights on the ``hclust`` scale).
    """
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    if method not in ("ward.D", "ward.D2"):
        raise ConfigurationError(f"unknown Ward method {method!r}; use 'ward.D' or 'ward.D2'")
    dsq = as_square(np.asarray(d), dtype=np.float64)
    n = dsq.shape[0]
    if n < 2:
        raise InputError("Ward clustering needs at least two observations")
    if weights is None:
        cond = squareform(dsq, checks=False)
        if method == "ward.D":
            z = linkage(np.sqrt(cond), method="ward")
            z[:, 2] = z[:, 2] ** 2
        else:
            z = linkage(cond, method="ward")
        return z
    w = check_weights(weights, n)
    if np.any(w <= 0):
        raise InputError("Ward members (weights) must be positive")
    work = dsq.copy() if method == "ward.D" else dsq * dsq
    z = _sort_nn_chain(_ward_nn_chain(work, w.copy()), n)
    if method == "ward.D2":
        z[:, 2] = np.sqrt(np.maximum(z[:, 2], 0.0))
    return z


def cutree(z: np.ndarray, k: int) -> np.ndarray:
    """Cut a linkage into ``k`` clusters, numbered ``0..k-1`` in order of first
    appearance (as R's ``cutree``, minus one)."""
    from scipy.cluster.hierarchy import cut_tree

    n = z.shape[0] + 1
    if not 1 <= k <= n:
        raise ConfigurationError(f"k must be between 1 and {n}")
    raw = cut_tree(z, n_clusters=k).ravel()
    if np.unique(raw).shape[0] != k:
        raise InputError(f"the tree can not be cut into {k} clusters")
    _, first = np.unique(raw, return_index=True)
    order = np.argsort(np.argsort(first))
    return order[raw].astype(np.int64)


def ward_range(
    d: Any,
    ks: Iterable[int] = range(2, 11),
    *,
    method: WardMethod = "ward.D",
    weights: Any = None,
    kendall: bool = True,
) -> ClusterRange:
    """Ward tree cut at every ``k`` in ``ks``, with medoids and all quality indices
    (``as.clustrange(hclust(...), diss, ncluster)``)."""
    dsq = as_square(np.asarray(d))
    klist = check_ks(ks, dsq.shape[0])
    z = ward(dsq, method=method, weights=weights)
    labels = np.column_stack([cutree(z, k) for k in klist])
    return ClusterRange.evaluate(
        dsq, klist, method, labels,
        {k: medoids_of(dsq, labels[:, i], weights) for i, k in enumerate(klist)},
        weights=weights, kendall=kendall)
