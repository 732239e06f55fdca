"""Numba kernels of greedy nearest-neighbour matching (MatchIt's ``nn_matchC``).

Private to :mod:`ozamonitor.causal.matching`, which checks the inputs and turns
the positions these kernels return into row indices. Written here because no
library implements MatchIt's greedy order, ties and caliper rules; see the
module docstring of ``matching`` for what is mirrored.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["mah_match", "vec_norep", "vec_rep"]


@nb.njit(cache=True)
def _find(parent: np.ndarray, i: int) -> int:
    """Union-find root with path halving (``parent[i] == i`` means available)."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@nb.njit(cache=True)
def vec_norep(
    cdist: np.ndarray,
    cstrat: np.ndarray,
    tdist: np.ndarray,
    tstrat: np.ndarray,
    tsplit: np.ndarray,
    order: np.ndarray,
    ratio: int,
    caliper: float,
    use_caliper: bool,
) -> np.ndarray:
    """Greedy matching without replacement on a 1-D distance.

    ``cdist``/``cstrat``: controls sorted by (stratum, distance, data order).
    ``tsplit[i]``: number of sorted controls that precede treated unit ``i``.
    Returns an ``(n_t, ratio)`` array of positions into the sorted controls
    (``-1`` where no match).
    """
    nc = cdist.shape[0]
    nt = tdist.shape[0]
    out = np.full((nt, ratio), -1, dtype=np.int64)
    # right[j]: smallest available index >= j (nc = none); left[j+1]: largest available <= j
    right = np.arange(nc + 1)
    left = np.arange(nc + 1)  # index shifted by one: left[0] is the "none" sentinel
    remaining = nc
    for r in range(ratio):
        for oi in range(order.shape[0]):
            if remaining == 0:
                return out
            i = order[oi]
            d = tdist[i]
            s = tstrat[i]
            p = tsplit[i]
            kl = _find(left, p) - 1  # largest available index <= p - 1
            kr = _find(right, p)  # smallest available index >= p
            okl = kl >= 0 and cstrat[kl] == s
            okr = kr < nc and cstrat[kr] == s
            if okl and use_caliper and abs(d - cdist[kl]) > caliper:
                okl = False
            if okr and use_caliper and abs(d - cdist[kr]) > caliper:
                okr = False
            if okl and okr:
                k = kl if abs(cdist[kl] - d) <= abs(cdist[kr] - d) else kr
            elif okl:
                k = kl
            elif okr:
                k = kr
            else:
                continue
            out[i, r] = k
            right[k] = k + 1
            left[k + 1] = k
            remaining -= 1
    return out


@nb.njit(cache=True)
def vec_rep(
    cdist: np.ndarray,
    cstrat: np.ndarray,
    tdist: np.ndarray,
    tstrat: np.ndarray,
    tsplit: np.ndarray,
    ratio: int,
    caliper: float,
    use_caliper: bool,
) -> np.ndarray:
    """Matching with replacement on a 1-D distance: the ``ratio`` nearest controls.

    Equivalent to MatchIt's rounds (each round the nearest control not yet
    matched to this treated unit, left preferred on ties).
    """
    nc = cdist.shape[0]
    nt = tdist.shape[0]
    out = np.full((nt, ratio), -1, dtype=np.int64)
    for i in range(nt):
        d = tdist[i]
        s = tstrat[i]
        kl = tsplit[i] - 1
        kr = tsplit[i]
        for r in range(ratio):
            okl = kl >= 0 and cstrat[kl] == s
            okr = kr < nc and cstrat[kr] == s
            if okl and use_caliper and abs(d - cdist[kl]) > caliper:
                okl = False
            if okr and use_caliper and abs(d - cdist[kr]) > caliper:
                okr = False
            if okl and okr:
                if abs(cdist[kl] - d) <= abs(cdist[kr] - d):
                    out[i, r] = kl
                    kl -= 1
                else:
                    out[i, r] = kr
                    kr += 1
            elif okl:
                out[i, r] = kl
                kl -= 1
            elif okr:
                out[i, r] = kr
                kr += 1
            else:
                break
    return out


@nb.njit(cache=True)
def mah_match(
    tcov: np.ndarray,
    ccov: np.ndarray,
    tstrat: np.ndarray,
    cstrat_start: np.ndarray,
    cstrat_end: np.ndarray,
    tps: np.ndarray,
    cps: np.ndarray,
    caliper: float,
    use_caliper: bool,
    order: np.ndarray,
    ratio: int,
    replace: bool,
) -> np.ndarray:
    """MatchIt's ``nn_matchC`` on Mahalanobis-transformed covariates.

    Controls are grouped by stratum (``cstrat_start/end`` index ranges, data
    order inside a stratum). Returns control positions, ``-1`` where none.
    """
    nt = tcov.shape[0]
    nc = ccov.shape[0]
    p = tcov.shape[1]
    out = np.full((nt, ratio), -1, dtype=np.int64)
    used = np.zeros(nc, dtype=np.bool_)
    n_used = 0
    rounds = 1 if replace else ratio
    for r in range(rounds):
        for oi in range(order.shape[0]):
            if not replace and n_used == nc:
                return out
            i = order[oi]
            s = tstrat[i]
            if s < 0:
                continue
            a = cstrat_start[s]
            b = cstrat_end[s]
            m = b - a
            dist = np.empty(m)
            ok = np.zeros(m, dtype=np.bool_)
            n_ok = 0
            for jj in range(m):
                j = a + jj
                if used[j]:
                    continue
                if use_caliper and abs(cps[j] - tps[i]) > caliper:
                    continue
                acc = 0.0
                for q in range(p):
                    diff = tcov[i, q] - ccov[j, q]
                    acc += diff * diff
                dist[jj] = np.sqrt(acc)
                ok[jj] = True
                n_ok += 1
            if n_ok == 0:
                continue
            if replace:
                idx = np.empty(n_ok, dtype=np.int64)
                dd = np.empty(n_ok)
                c = 0
                for jj in range(m):
                    if ok[jj]:
                        idx[c] = a + jj
                        dd[c] = dist[jj]
                        c += 1
                if n_ok <= ratio:
                    for c in range(n_ok):
                        out[i, c] = idx[c]
                else:
                    srt = np.argsort(dd, kind="mergesort")
                    for c in range(ratio):
                        out[i, c] = idx[srt[c]]
            else:
                best = -1
                bestd = np.inf
                for jj in range(m):
                    if ok[jj] and (best < 0 or dist[jj] < bestd):
                        best = jj
                        bestd = dist[jj]
                out[i, r] = a + best
                used[a + best] = True
                n_used += 1
    return out
