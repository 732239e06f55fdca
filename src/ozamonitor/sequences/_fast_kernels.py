"""Numba kernels for LCS, LCP/RLCP and HAM/DHD distances (internal).

* **LCS** uses the bit-parallel algorithm of Allison & Dix (1986) as written by
  Hyyrö (2004): the query ``a`` is a bit vector (64 positions per machine
  word), and each position of the target ``b`` updates it with three word
  operations and an addition with carry,
  ``V <- (V + (V & PM[b_j])) | (V & ~PM[b_j])``, where ``PM[s]`` marks the
  positions of ``a`` holding state ``s``. ``LCS(a, b)`` is the number of zero
  bits of ``V`` among the first ``len(a)`` positions. ``LCS_LANES`` targets are
  processed together so the word loop vectorises over pairs (AVX2/AVX-512);
  positions past a target's end use an all-zero mask, which leaves ``V``
  unchanged. The distance is ``len(a) + len(b) - 2 LCS``, integer-exact. OM
  with one indel cost ``c`` and every substitution costing at least ``2 c`` is
  the same distance times ``c`` (a substitution never beats a deletion plus an
  insertion), so it runs here too.
* **LCP/RLCP**: after sorting the (reversed, for RLCP) sequences
  lexicographically, the common prefix of two sequences is the minimum of the
  common prefixes of the neighbours between them, so each pair costs one
  ``min``.
* **HAM/DHD**: the query's cost *profile* ``P[t, s] = sm[t, a_t, s]`` turns
  each pair into ``sum_t P[t, b_t]``, run over ``LANES`` targets at once on
  position-major (transposed) target codes; with one constant off-diagonal
  cost it is a mismatch count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ozamonitor.sequences._kernels import cond_index, normalize

LANES = 8
#: LCS targets per block: a long lane loop that LLVM vectorises (4 words per AVX2 op)
LCS_LANES = 32
_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)


@njit(cache=True, inline="always")
def popcount(x: np.uint64) -> int:
    """Number of set bits of a 64-bit word (SWAR)."""
    x = x - ((x >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return int((x * _H01) >> np.uint64(56))


@njit(cache=True)
def match_masks(codes: np.ndarray, lens: np.ndarray, n_codes: int) -> np.ndarray:
    """Target masks in blocks of ``LCS_LANES``: ``pm[g, s, w, k]`` has bit ``i % 64`` of
    word ``w = i // 64`` set where target ``t = g * LCS_LANES + k`` has ``codes[t, i] == s``.

    ``s`` runs over ``0 .. n_codes - 1``; lanes past the last target stay zero.
    """
    n, width = codes.shape
    n_words = max(1, (width + 63) // 64)
    g_count = (n + LCS_LANES - 1) // LCS_LANES
    pm = np.zeros((g_count, n_codes, n_words, LCS_LANES), dtype=np.uint64)
    for t in range(n):
        g, k = t // LCS_LANES, t % LCS_LANES
        for i in range(lens[t]):
            pm[g, codes[t, i], i // 64, k] |= np.uint64(1) << np.uint64(i % 64)
    return pm


@njit(cache=True, inline="always")
def _lcs_block(q: np.ndarray, m: int, pm_g: np.ndarray, glen: np.ndarray, v: np.ndarray,
               carry: np.ndarray, res: np.ndarray) -> None:
    """LCS lengths of query ``q[:m]`` against the ``LCS_LANES`` targets of one block.

    The bit vectors run over the targets' positions; the query's states stream
    through, each loading one contiguous ``(W, LCS_LANES)`` row of masks.
    """
    n_words = pm_g.shape[1]
    ones = ~np.uint64(0)
    for w in range(n_words):
        for k in range(LCS_LANES):
            v[w, k] = ones
    sh = np.uint64(63)
    nl = v.shape[1]
    for i in range(m):
        a = q[i]
        carry[:] = 0
        for w in range(n_words):
            mrow = pm_g[a, w]
            vrow = v[w]
            for k in range(nl):
                # branch-free add with carry (vectorises): the carry out of x + u
                # is the top bit of (u | (x & ~t)), u being a subset of x
                mk = mrow[k]
                x = vrow[k]
                u = x & mk
                t = x + u
                s = t + carry[k]
                carry[k] = ((u | (x & ~t)) >> sh) | ((t & ~s) >> sh)
                vrow[k] = s | (x & ~mk)
    for k in range(LCS_LANES):
        zeros_ = 0
        left = glen[k]
        for w in range(n_words):
            if left <= 0:
                break
            word = ~v[w, k]
            if left < 64:
                word &= (np.uint64(1) << np.uint64(left)) - np.uint64(1)
            zeros_ += popcount(word)
            left -= 64
        res[k] = zeros_


@njit(cache=True, inline="always")
def _lcs_finish(lcs: int, m: int, n: int, unit: float, maxscost: float, norm: int) -> float:
    raw = float(m + n - 2 * lcs) * unit
    mx = abs(n - m) * unit + maxscost * min(m, n)
    return normalize(raw, mx, m * unit, n * unit, norm)


@njit(parallel=True, cache=True)
def lcs_condensed(codes: np.ndarray, lens: np.ndarray, pm: np.ndarray, unit: float,
                  maxscost: float, norm: int, out: np.ndarray) -> None:
    """LCS distances (``unit`` per unmatched position) between all distinct sequences."""
    n = lens.shape[0]
    n_words = pm.shape[2]
    half = (n + 1) // 2
    for w in prange(half):
        v = np.empty((n_words, LCS_LANES), dtype=np.uint64)
        carry = np.empty(LCS_LANES, dtype=np.uint64)
        res = np.empty(LCS_LANES, dtype=np.int64)
        glen = np.zeros(LCS_LANES, dtype=np.int64)
        for rep in range(2):
            r = np.int64(w)
            if rep == 1:
                r = np.int64(n) - 1 - np.int64(w)
                if r == w:
                    break
            for g in range((r + 1) // LCS_LANES, pm.shape[0]):
                for k in range(LCS_LANES):
                    c = g * LCS_LANES + k
                    glen[k] = lens[c] if c < n else 0
                _lcs_block(codes[r], lens[r], pm[g], glen, v, carry, res)
                for k in range(LCS_LANES):
                    c = g * LCS_LANES + k
                    if c > r and c < n:
                        out[cond_index(r, c, n)] = _lcs_finish(res[k], lens[r], lens[c], unit,
                                                               maxscost, norm)


@njit(parallel=True, cache=True)
def lcs_cross(acodes: np.ndarray, alens: np.ndarray, pm: np.ndarray, blens: np.ndarray,
              unit: float, maxscost: float, norm: int, out: np.ndarray) -> None:
    """LCS distances of every query to every target (masks ``pm``), into ``out (na, nb)``."""
    na = alens.shape[0]
    nb = blens.shape[0]
    n_words = pm.shape[2]
    for r in prange(na):
        v = np.empty((n_words, LCS_LANES), dtype=np.uint64)
        carry = np.empty(LCS_LANES, dtype=np.uint64)
        res = np.empty(LCS_LANES, dtype=np.int64)
        glen = np.zeros(LCS_LANES, dtype=np.int64)
        for g in range(pm.shape[0]):
            for k in range(LCS_LANES):
                c = g * LCS_LANES + k
                glen[k] = blens[c] if c < nb else 0
            _lcs_block(acodes[r], alens[r], pm[g], glen, v, carry, res)
            for k in range(LCS_LANES):
                c = g * LCS_LANES + k
                if c < nb:
                    out[r, c] = _lcs_finish(res[k], alens[r], blens[c], unit, maxscost, norm)


@njit(cache=True)
def lane_codes(codes: np.ndarray, lens: np.ndarray, pad: int) -> np.ndarray:
    """Targets in blocks of ``LANES``, position-major: ``tc[g, j, k]`` (``pad`` past the end)."""
    n, width = codes.shape
    g_count = (n + LANES - 1) // LANES
    tc = np.full((g_count, max(width, 1), LANES), pad, dtype=np.int32)
    for t in range(n):
        g, k = t // LANES, t % LANES
        for j in range(lens[t]):
            tc[g, j, k] = codes[t, j]
    return tc


# ---------------------------------------------------------------------------
# LCP / RLCP: sorted order, one min per pair
# ---------------------------------------------------------------------------


@njit(cache=True)
def _common_prefix(a: np.ndarray, m: int, b: np.ndarray, n: int) -> int:
    mn = min(m, n)
    i = 0
    while i < mn and a[i] == b[i]:
        i += 1
    return i


@njit(cache=True)
def neighbour_prefixes(keys: np.ndarray, lens: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Common prefix length of each pair of neighbours in ``order`` (``n - 1`` values)."""
    n = lens.shape[0]
    adj = np.zeros(max(n - 1, 0), dtype=np.int64)
    for p in range(n - 1):
        a, b = order[p], order[p + 1]
        adj[p] = _common_prefix(keys[a], lens[a], keys[b], lens[b])
    return adj


@njit(parallel=True, cache=True)
def lcp_condensed(keys: np.ndarray, lens: np.ndarray, order: np.ndarray, norm: int,
                  out: np.ndarray) -> None:
    """LCP distances from ``keys`` (sequences, reversed for RLCP) sorted by ``order``."""
    n = lens.shape[0]
    adj = neighbour_prefixes(keys, lens, order)  # common prefix of neighbours in order
    half = (n + 1) // 2
    for w in prange(half):
        for rep in range(2):
            p = np.int64(w)
            if rep == 1:
                p = np.int64(n) - 1 - np.int64(w)
                if p == w:
                    break
            i = order[p]
            m = lens[i]
            run = m
            for q in range(p + 1, n):
                run = min(run, adj[q - 1])
                j = order[q]
                ln = lens[j]
                raw = float(m + ln - 2 * run)
                v = normalize(raw, float(m + ln), m, ln, norm)
                if i < j:
                    out[cond_index(i, j, n)] = v
                else:
                    out[cond_index(j, i, n)] = v


# ---------------------------------------------------------------------------
# HAM / DHD: profile sums over LANES targets
# ---------------------------------------------------------------------------


@njit(parallel=True, cache=True)
def ham_condensed(codes: np.ndarray, tc: np.ndarray, sm3: np.ndarray, maxdist: float,
                  norm: int, out: np.ndarray) -> None:
    """HAM/DHD distances (equal lengths) between all distinct sequences, condensed."""
    n, width = codes.shape
    tv = sm3.shape[0] > 1
    n_st = sm3.shape[2]
    half = (n + 1) // 2
    for w in prange(half):
        prof = np.empty((width, n_st))
        acc = np.empty(LANES)
        for rep in range(2):
            r = np.int64(w)
            if rep == 1:
                r = np.int64(n) - 1 - np.int64(w)
                if r == w:
                    break
            for t in range(width):
                sm = sm3[t if tv else 0]
                for s in range(n_st):
                    prof[t, s] = sm[codes[r, t], s]
            for g in range((r + 1) // LANES, tc.shape[0]):
                for k in range(LANES):
                    acc[k] = 0.0
                for t in range(width):
                    row = tc[g, t]
                    pt = prof[t]
                    for k in range(LANES):
                        acc[k] += pt[row[k]]
                for k in range(LANES):
                    c = g * LANES + k
                    if c > r and c < n:
                        # TraMineR (DHDdistance.cpp): maxdist is also the length
                        out[cond_index(r, c, n)] = normalize(acc[k], maxdist, maxdist,
                                                             maxdist, norm)


@njit(parallel=True, cache=True)
def mismatch_condensed(codes8: np.ndarray, cost: float, maxdist: float, norm: int,
                       out: np.ndarray) -> None:
    """HAM with one off-diagonal cost: ``cost x`` mismatches, condensed (equal lengths)."""
    n, width = codes8.shape
    half = (n + 1) // 2
    for w in prange(half):
        for rep in range(2):
            r = np.int64(w)
            if rep == 1:
                r = np.int64(n) - 1 - np.int64(w)
                if r == w:
                    break
            a = codes8[r]
            for c in range(r + 1, n):
                b = codes8[c]
                diff = 0
                for t in range(width):
                    diff += a[t] != b[t]
                out[cond_index(r, c, n)] = normalize(diff * cost, maxdist, maxdist, maxdist, norm)


# ---------------------------------------------------------------------------
# square matrices from condensed distances (cache-friendly)
# ---------------------------------------------------------------------------

_TILE = 64


@njit(parallel=True, cache=True)
def square_unique(du: np.ndarray, nu: int, out: np.ndarray) -> None:
    """``out (nu, nu)``: the symmetric matrix of condensed ``du``, zero diagonal.

    Upper rows are contiguous copies of the condensed rows; the lower triangle is
    mirrored in ``_TILE x _TILE`` tiles so reads and writes stay in cache.
    """
    for i in prange(nu):
        out[i, i] = 0.0
        base = i * nu - (i * (i + 1)) // 2 - i - 1
        for j in range(i + 1, nu):
            out[i, j] = du[base + j]
    n_t = (nu + _TILE - 1) // _TILE
    for ti in prange(n_t):
        i0 = ti * _TILE
        for tj in range(ti + 1):
            j0 = tj * _TILE
            for i in range(i0, min(i0 + _TILE, nu)):
                for j in range(j0, min(j0 + _TILE, i)):
                    out[i, j] = out[j, i]


@njit(parallel=True, cache=True)
def gather_square(du_sq: np.ndarray, inv: np.ndarray, out: np.ndarray) -> None:
    """``out[i, j] = du_sq[inv[i], inv[j]]`` (duplicates expanded), rows in parallel."""
    n = inv.shape[0]
    for i in prange(n):
        row = du_sq[inv[i]]
        for j in range(n):
            out[i, j] = row[inv[j]]
