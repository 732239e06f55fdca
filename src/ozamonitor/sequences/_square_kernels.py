"""Numba kernels writing the full ``N x N`` matrix directly (internal).

For the methods whose per-pair work is a few operations (LCP/RLCP, HAM with one cost)
the matrix is memory-bound: computing the condensed distances of the distinct
sequences, mirroring them into a square and expanding duplicates moves the
data three times. These kernels instead compute every ordered pair, duplicates
included (identical sequences are at distance 0 by the formula itself, as
TraMineR's expansion gives), each thread filling whole contiguous rows, so the
output is written once.

* **LCP/RLCP**: the sequences sorted lexicographically (reversed for RLCP);
  the common prefix of two is the minimum of the common prefixes of the
  neighbours between them, so a row is two running minima over the order.
* **HAM with one off-diagonal cost**: targets in blocks of ``BYTE_LANES``,
  position-major ``uint8`` codes, so the mismatch count of one query against
  the whole block is one byte compare and add per position across the lanes
  (64 pairs per AVX-512 instruction, 32 with AVX2).

HAM/DHD with a cost matrix stay on the condensed path: summing cost profiles
is compute-bound, so computing half the pairs and mirroring wins there.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ozamonitor.sequences._fast_kernels import neighbour_prefixes
from ozamonitor.sequences._kernels import normalize

#: targets per block of the mismatch kernel (one AVX-512 register of bytes)
BYTE_LANES = 64


@njit(parallel=True, cache=True)
def lcp_square(keys: np.ndarray, lens: np.ndarray, order: np.ndarray, norm: int,
               out: np.ndarray) -> None:
    """LCP distances of all sequences (``keys``, reversed for RLCP) into ``out (N, N)``."""
    n = lens.shape[0]
    adj = neighbour_prefixes(keys, lens, order)  # common prefix of neighbours in order
    for p in prange(n):
        i = order[p]
        m = lens[i]
        row = out[i]
        row[i] = 0.0
        run = m
        for q in range(p + 1, n):
            run = min(run, adj[q - 1])
            j = order[q]
            ln = lens[j]
            row[j] = normalize(float(m + ln - 2 * run), float(m + ln), m, ln, norm)
        run = m
        for q in range(p - 1, -1, -1):
            run = min(run, adj[q])
            j = order[q]
            ln = lens[j]
            row[j] = normalize(float(m + ln - 2 * run), float(m + ln), m, ln, norm)


@njit(cache=True)
def byte_lanes(codes: np.ndarray, width: int) -> np.ndarray:
    """Codes in blocks of ``BYTE_LANES`` targets, position-major: ``tc[g, t, k]``.

    Lanes past the last sequence hold 255 (they are never read back).
    """
    n = codes.shape[0]
    g_count = (n + BYTE_LANES - 1) // BYTE_LANES
    tc = np.full((g_count, max(width, 1), BYTE_LANES), 255, dtype=np.uint8)
    for s in range(n):
        g, k = s // BYTE_LANES, s % BYTE_LANES
        for t in range(width):
            tc[g, t, k] = codes[s, t]
    return tc


@njit(parallel=True, cache=True)
def mismatch_square(codes: np.ndarray, tc: np.ndarray, cost: float, maxdist: float,
                    norm: int, out: np.ndarray) -> None:
    """HAM with one off-diagonal cost (equal lengths): ``cost x`` mismatches, ``out (N, N)``.

    Mismatches are counted in ``uint16`` lanes (exact for widths below 65536).
    """
    n = codes.shape[0]
    width = tc.shape[1]
    for r in prange(n):
        acc = np.empty(BYTE_LANES, dtype=np.uint16)
        a = codes[r]
        row = out[r]
        for g in range(tc.shape[0]):
            acc[:] = 0
            for t in range(width):
                at = np.uint8(a[t])
                lane = tc[g, t]
                for k in range(BYTE_LANES):
                    acc[k] += np.uint16(lane[k] != at)
            c0 = g * BYTE_LANES
            for k in range(min(BYTE_LANES, n - c0)):
                row[c0 + k] = normalize(float(acc[k]) * cost, maxdist, maxdist, maxdist, norm)
