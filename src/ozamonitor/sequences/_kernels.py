"""Numba kernels for sequence distances (internal).

All kernels work on *distinct* sequences (duplicates are expanded afterwards)
and write either TraMineR-style condensed output (upper triangle, row major,
as ``scipy.spatial.distance.squareform``) or a rectangular cross matrix.

Optimal matching (OM, LCS) uses a *lane-blocked* dynamic programme: one query
sequence is aligned against ``LANES`` target sequences at once, with the DP
rows stored as ``(L + 1, LANES)`` so that the innermost loop runs over
independent pairs and is vectorised by LLVM (AVX2/AVX-512). The classical
row-by-row DP has a loop-carried dependency (insertion ``D[i, j-1]``) that makes
it latency-bound; interleaving independent pairs hides that latency. The
substitution costs of each target block are precomputed as a *profile*
``prof[s, j, k] = sm[s, target_k[j]]`` so that the inner loop only does
contiguous loads. Memory per pair stays O(L).

Rows are scheduled in mirrored pairs (``w`` and ``U - 1 - w``) so that every
``prange`` iteration has the same amount of upper-triangle work.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ozamonitor.sequences._vector_width import prefer_512_bit_vectors

prefer_512_bit_vectors()  # before numba builds its code generator (first compile or load)

LANES = 8
TILE = 16  # query rows per target block visit (profile reuse in cache)

NORM_CODES = {"none": 0, "maxlength": 1, "gmean": 2, "maxdist": 3, "YujianBo": 4}

M_HAM = 1
M_LCP = 2
M_RLCP = 3
M_OMSPELL = 4
M_OM = 5


@njit(cache=True, inline="always")
def normalize(raw: float, maxdist: float, l1: float, l2: float, norm: int) -> float:
    """TraMineR's ``DistanceCalculator::normalizeDistance``."""
    if raw == 0.0:
        return 0.0
    if norm == 0:
        return raw
    if norm == 1:
        if l1 > l2:
            return raw / l1
        if l2 > 0:
            return raw / l2
        return 0.0
    if norm == 2:
        if l1 * l2 == 0:
            if l1 != l2:
                return 1.0
            return 0.0
        return 1.0 - (maxdist - raw) / (2.0 * np.sqrt(l1) * np.sqrt(l2))
    if norm == 3:
        if maxdist == 0:
            return 1.0
        return raw / maxdist
    if norm == 4:
        if maxdist == 0:
            return 1.0
        return 2.0 * raw / (raw + maxdist)
    return raw


@njit(cache=True, inline="always")
def cond_index(i: int, j: int, n: int) -> int:
    """Index of pair ``i < j`` in a condensed distance vector of ``n`` items."""
    return i * n - (i * (i + 1)) // 2 + j - i - 1


# ---------------------------------------------------------------------------
# OM: lane-blocked DP
# ---------------------------------------------------------------------------


@njit(parallel=True, cache=True)
def om_build_groups(
    codes: np.ndarray, lens: np.ndarray, sm: np.ndarray, indel: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Target-block profiles for the reduced OM recursion (flat, lane-minor).

    Returns ``prof (G, S, L * K)`` with
    ``prof[g, s, j * K + k] = sm[s, t] - indel[s] - indel[t]`` for ``t = t_k[j]``
    (``sm`` taken as 0 when ``s == t``, as TraMineR), the total indel cost of
    each target ``(G, K)``, the lengths ``(G, K)`` and each block's longest length.
    """
    n, width = codes.shape
    s = sm.shape[0]
    g_count = (n + LANES - 1) // LANES
    prof = np.zeros((g_count, s, width * LANES))
    ttot = np.zeros((g_count, LANES))
    glen = np.zeros((g_count, LANES), dtype=np.int64)
    gmax = np.zeros(g_count, dtype=np.int64)
    for g in prange(g_count):
        mx = 0
        for k in range(LANES):
            t = g * LANES + k
            if t >= n:
                t = n - 1
            ln = lens[t]
            glen[g, k] = ln
            mx = max(mx, ln)
            tot = 0.0
            for j in range(ln):
                c = codes[t, j]
                tot += indel[c]
                for a in range(s):
                    sub = 0.0 if a == c else sm[a, c]
                    prof[g, a, j * LANES + k] = sub - indel[a] - indel[c]
            ttot[g, k] = tot
        gmax[g] = mx
    return prof, ttot, glen, gmax


@njit(cache=True)
def _om_block(
    q: np.ndarray,
    m: int,
    prof: np.ndarray,
    lb: int,
    prev: np.ndarray,
    curr: np.ndarray,
) -> np.ndarray:
    """Reduced OM DP of query ``q[:m]`` against the ``LANES`` targets of one block.

    With ``A_i`` / ``B_j`` the cumulated indel costs of the prefixes, the
    reduced value ``F[i, j] = D[i, j] - A_i - B_j`` obeys
    ``F[i, j] = min(F[i-1, j], F[i, j-1], F[i-1, j-1] + sm(a_i, b_j) - indel(a_i) - indel(b_j))``
    with ``F = 0`` on the borders: three operations per cell instead of five,
    exact up to floating-point rounding. Rows are flat ``(lb + 1) * LANES``
    vectors (cell ``(j, k)`` at ``j * LANES + k``): the loop over ``idx`` has a
    dependency distance of ``LANES`` and vectorises. Returns the last row.
    """
    n = (lb + 1) * LANES
    for idx in range(n):
        prev[idx] = 0.0
    for k in range(LANES):
        curr[k] = 0.0
    for i in range(m):
        p = prof[q[i]]
        for idx in range(LANES, n):
            # only one min on the loop-carried chain through curr[idx - LANES]
            curr[idx] = min(curr[idx - LANES], min(prev[idx], prev[idx - LANES] + p[idx - LANES]))
        prev, curr = curr, prev
    return prev


@njit(cache=True, inline="always")
def _om_finish(
    f: float,
    qtot: float,
    ttot: float,
    m: int,
    ln: int,
    indel_max: float,
    maxscost: float,
    norm: int,
) -> float:
    raw = f + qtot + ttot
    if raw < 1e-10 * (qtot + ttot):  # exact zero up to the rounding of the reduction
        raw = 0.0
    mx = abs(ln - m) * indel_max + maxscost * min(m, ln)
    return normalize(raw, mx, m * indel_max, ln * indel_max, norm)


@njit(parallel=True, cache=True)
def om_condensed(
    codes: np.ndarray,
    lens: np.ndarray,
    indel: np.ndarray,
    prof: np.ndarray,
    ttot: np.ndarray,
    glen: np.ndarray,
    gmax: np.ndarray,
    norm: int,
    maxscost: float,
    indel_max: float,
    out: np.ndarray,
) -> None:
    """OM distances between all distinct sequences, into condensed ``out``.

    Query rows are processed in tiles of ``TILE`` rows per target block, so a
    block's profile is reused from cache; tiles are scheduled in mirrored pairs
    (``w`` and ``T - 1 - w``) so every ``prange`` iteration has equal work.
    """
    n, width = codes.shape
    g_count = prof.shape[0]
    n_tiles = (n + TILE - 1) // TILE
    half = (n_tiles + 1) // 2
    for w in prange(half):
        prev = np.empty((width + 1) * LANES)
        curr = np.empty((width + 1) * LANES)
        qtot = np.zeros(TILE)
        for rep in range(2):
            t = np.int64(w)
            if rep == 1:
                t = np.int64(n_tiles) - 1 - np.int64(w)
                if t == w:
                    break
            r0 = t * TILE
            r1 = min(n, r0 + TILE)
            for r in range(r0, r1):
                acc = 0.0
                for i in range(lens[r]):
                    acc += indel[codes[r, i]]
                qtot[r - r0] = acc
            for g in range((r0 + 1) // LANES, g_count):
                for r in range(r0, r1):
                    if g * LANES + LANES - 1 <= r:
                        continue  # every target of this block is at or before r
                    m = lens[r]
                    last = _om_block(codes[r], m, prof[g], gmax[g], prev, curr)
                    for k in range(LANES):
                        c = g * LANES + k
                        if c > r and c < n:
                            ln = glen[g, k]
                            out[cond_index(r, c, n)] = _om_finish(
                                last[ln * LANES + k],
                                qtot[r - r0],
                                ttot[g, k],
                                m,
                                ln,
                                indel_max,
                                maxscost,
                                norm,
                            )


@njit(parallel=True, cache=True)
def om_cross(
    qcodes: np.ndarray,
    qlens: np.ndarray,
    n_targets: int,
    indel: np.ndarray,
    prof: np.ndarray,
    ttot: np.ndarray,
    glen: np.ndarray,
    gmax: np.ndarray,
    norm: int,
    maxscost: float,
    indel_max: float,
    out: np.ndarray,
) -> None:
    """OM distances of every query to every target, into ``out (nq, nt)`` (row tiles)."""
    nq = qcodes.shape[0]
    wmax = prof.shape[2] // LANES
    g_count = prof.shape[0]
    tile = TILE if nq >= 8 * TILE else 1  # few queries: keep all threads busy
    n_tiles = (nq + tile - 1) // tile
    for t in prange(n_tiles):
        prev = np.empty((wmax + 1) * LANES)
        curr = np.empty((wmax + 1) * LANES)
        qtot = np.zeros(tile)
        r0 = t * tile
        r1 = min(nq, r0 + tile)
        for r in range(r0, r1):
            acc = 0.0
            for i in range(qlens[r]):
                acc += indel[qcodes[r, i]]
            qtot[r - r0] = acc
        for g in range(g_count):
            for r in range(r0, r1):
                m = qlens[r]
                last = _om_block(qcodes[r], m, prof[g], gmax[g], prev, curr)
                for k in range(LANES):
                    c = g * LANES + k
                    if c < n_targets:
                        ln = glen[g, k]
                        out[r, c] = _om_finish(
                            last[ln * LANES + k],
                            qtot[r - r0],
                            ttot[g, k],
                            m,
                            ln,
                            indel_max,
                            maxscost,
                            norm,
                        )


# ---------------------------------------------------------------------------
# scalar pair kernels: HAM/DHD, LCP/RLCP, OMspell, OM (reference)
# ---------------------------------------------------------------------------


@njit(cache=True)
def _pair(
    method: int,
    a: np.ndarray,
    m: int,
    b: np.ndarray,
    n: int,
    adur: np.ndarray,
    bdur: np.ndarray,
    alen: int,
    blen: int,
    sm3: np.ndarray,
    indel: np.ndarray,
    timecost: float,
    maxscost: float,
    indel_max: float,
    maxdist: float,
    norm: int,
    prev: np.ndarray,
    curr: np.ndarray,
) -> float:
    """One distance between ``a[:m]`` and ``b[:n]`` (see module constants for ``method``)."""
    if method == M_HAM:
        mn = min(m, n)
        cost = 0.0
        tv = sm3.shape[0] > 1
        for t in range(mn):
            cost += sm3[t if tv else 0, a[t], b[t]]
        # TraMineR (DHDdistance.cpp, >= 2.2-0): maxdist, the sum of the largest cost per
        # position, is also the length for maxlength and gmean
        return normalize(cost, maxdist, maxdist, maxdist, norm)
    if method in (M_LCP, M_RLCP):
        mn = min(m, n)
        i = 0
        if method == M_LCP:
            while i < mn and a[i] == b[i]:
                i += 1
        else:
            while i < mn and a[m - 1 - i] == b[n - 1 - i]:
                i += 1
        return normalize(float(n + m - 2 * i), float(n + m), m, n, norm)
    sm = sm3[0]
    if method == M_OMSPELL:
        prev[0] = 0.0
        for j in range(1, n + 1):
            prev[j] = prev[j - 1] + indel[b[j - 1]] + timecost * bdur[j - 1]
        for i in range(1, m + 1):
            s = a[i - 1]
            da = adur[i - 1]
            dl = indel[s] + timecost * da
            curr[0] = prev[0] + dl
            for j in range(1, n + 1):
                t = b[j - 1]
                db = bdur[j - 1]
                x = prev[j] + dl
                y = curr[j - 1] + indel[t] + timecost * db
                if y < x:
                    x = y
                sub = timecost * abs(da - db) if s == t else sm[s, t] + timecost * (da + db)
                z = prev[j - 1] + sub
                if z < x:
                    x = z
                curr[j] = x
            prev, curr = curr, prev
        mx = abs(blen - alen) * indel_max + maxscost * min(alen, blen)
        return normalize(prev[n], mx, alen * indel_max, blen * indel_max, norm)
    # plain OM (scalar reference path)
    prev[0] = 0.0
    for j in range(1, n + 1):
        prev[j] = prev[j - 1] + indel[b[j - 1]]
    for i in range(1, m + 1):
        s = a[i - 1]
        dl = indel[s]
        curr[0] = prev[0] + dl
        for j in range(1, n + 1):
            t = b[j - 1]
            x = prev[j] + dl
            y = curr[j - 1] + indel[t]
            if y < x:
                x = y
            z = prev[j - 1] + (0.0 if s == t else sm[s, t])
            if z < x:
                x = z
            curr[j] = x
        prev, curr = curr, prev
    mx = abs(n - m) * indel_max + maxscost * min(m, n)
    # TraMineR (OMdistance.cpp): the lengths are weighted by the indel cost
    return normalize(prev[n], mx, m * indel_max, n * indel_max, norm)


@njit(parallel=True, cache=True)
def scalar_condensed(
    method: int,
    codes: np.ndarray,
    lens: np.ndarray,
    durs: np.ndarray,
    olens: np.ndarray,
    sm3: np.ndarray,
    indel: np.ndarray,
    timecost: float,
    maxscost: float,
    indel_max: float,
    maxdist: float,
    norm: int,
    out: np.ndarray,
) -> None:
    """Scalar-kernel distances between all distinct sequences, into condensed ``out``."""
    n, width = codes.shape
    half = (n + 1) // 2
    for w in prange(half):
        prev = np.empty(width + 1)
        curr = np.empty(width + 1)
        for rep in range(2):
            r = np.int64(w)
            if rep == 1:
                r = np.int64(n) - 1 - np.int64(w)
                if r == w:
                    break
            for c in range(r + 1, n):
                out[cond_index(r, c, n)] = _pair(
                    method,
                    codes[r],
                    lens[r],
                    codes[c],
                    lens[c],
                    durs[r],
                    durs[c],
                    olens[r],
                    olens[c],
                    sm3,
                    indel,
                    timecost,
                    maxscost,
                    indel_max,
                    maxdist,
                    norm,
                    prev,
                    curr,
                )


@njit(parallel=True, cache=True)
def scalar_cross(
    method: int,
    acodes: np.ndarray,
    alens: np.ndarray,
    adurs: np.ndarray,
    aolens: np.ndarray,
    bcodes: np.ndarray,
    blens: np.ndarray,
    bdurs: np.ndarray,
    bolens: np.ndarray,
    sm3: np.ndarray,
    indel: np.ndarray,
    timecost: float,
    maxscost: float,
    indel_max: float,
    maxdist: float,
    norm: int,
    out: np.ndarray,
) -> None:
    """Scalar-kernel distances of every ``a`` to every ``b``, into ``out (na, nb)``."""
    na = acodes.shape[0]
    nb = bcodes.shape[0]
    width = max(acodes.shape[1], bcodes.shape[1])
    for r in prange(na):
        prev = np.empty(width + 1)
        curr = np.empty(width + 1)
        for c in range(nb):
            out[r, c] = _pair(
                method,
                acodes[r],
                alens[r],
                bcodes[c],
                blens[c],
                adurs[r],
                bdurs[c],
                aolens[r],
                bolens[c],
                sm3,
                indel,
                timecost,
                maxscost,
                indel_max,
                maxdist,
                norm,
                prev,
                curr,
            )


# ---------------------------------------------------------------------------
# expansion of distinct-sequence results to all sequences
# ---------------------------------------------------------------------------


@njit(parallel=True, cache=True)
def expand_condensed(du: np.ndarray, inv: np.ndarray, nu: int, out: np.ndarray) -> None:
    """Condensed distances of all sequences from those of the distinct ones."""
    n = inv.shape[0]
    half = (n + 1) // 2
    for w in prange(half):
        for rep in range(2):
            i = np.int64(w)
            if rep == 1:
                i = np.int64(n) - 1 - np.int64(w)
                if i == w:
                    break
            ui = inv[i]
            for j in range(i + 1, n):
                uj = inv[j]
                if ui == uj:
                    v = 0.0
                elif ui < uj:
                    v = du[cond_index(ui, uj, nu)]
                else:
                    v = du[cond_index(uj, ui, nu)]
                out[cond_index(i, j, n)] = v


@njit(parallel=True, cache=True)
def expand_square(du: np.ndarray, inv: np.ndarray, nu: int, out: np.ndarray) -> None:
    """Square distance matrix of all sequences from condensed distinct distances."""
    n = inv.shape[0]
    for i in prange(n):
        ui = inv[i]
        for j in range(n):
            uj = inv[j]
            if ui == uj:
                v = 0.0
            elif ui < uj:
                v = du[cond_index(ui, uj, nu)]
            else:
                v = du[cond_index(uj, ui, nu)]
            out[i, j] = v
