"""Optional CUDA kernels (numba.cuda) for OM/LCS and HAM distances.

The CPU kernels in :mod:`ozamonitor.sequences._kernels` are the reference; this
module mirrors them one pair per GPU thread (classic O(L)-memory DP in thread
local memory) and is used by :func:`ozamonitor.sequences.distances.seqdist` with
``backend="cuda"`` (or ``"auto"`` when a GPU is present). ``numba.cuda`` is only
imported when a function here is called, so the package works without a GPU.
The kernels also run under numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``),
which the tests use to check them on machines without a GPU.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np

from ozamonitor.errors import InputError

cuda: Any = None  # numba.cuda, bound on first use (kernels look it up as a global)

MAX_LEN = 512  # longest sequence the GPU kernels accept (thread-local DP rows)
ROW_BLOCK = 2048  # query rows per launch for triangular output


def cuda_available() -> bool:
    """Whether numba.cuda can run kernels here (a GPU or the simulator)."""
    try:
        from numba import cuda
    except Exception:  # pragma: no cover - numba without cuda support
        return False
    try:
        return bool(cuda.is_available())
    except Exception:  # pragma: no cover
        return False


@cache
def _kernels() -> tuple[Any, Any]:
    """Compile (once) and return the OM and HAM pair kernels."""
    global cuda
    from numba import cuda as numba_cuda

    cuda = numba_cuda

    @cuda.jit(device=True)
    def normalize(raw: float, maxdist: float, l1: float, l2: float, norm: int) -> float:
        if raw == 0.0:
            return 0.0
        if norm == 1:
            if l1 > l2:
                return raw / l1
            if l2 > 0:
                return raw / l2
            return 0.0
        if norm == 2:
            if l1 * l2 == 0:
                return 1.0 if l1 != l2 else 0.0
            return 1.0 - (maxdist - raw) / (2.0 * math.sqrt(l1) * math.sqrt(l2))
        if norm == 3:
            return 1.0 if maxdist == 0 else raw / maxdist
        if norm == 4:
            return 1.0 if maxdist == 0 else 2.0 * raw / (raw + maxdist)
        return raw

    @cuda.jit
    def om_kernel(
        acodes, alens, bcodes, blens, row0, triangle, sm, indel, norm, maxscost, imax, out
    ):
        r, c = cuda.grid(2)
        if r >= out.shape[0] or c >= out.shape[1]:
            return
        i = row0 + r
        if i >= acodes.shape[0]:
            return
        if triangle and c <= i:
            return
        buf = cuda.local.array((2, MAX_LEN + 1), dtype=np.float64)
        m = alens[i]
        n = blens[c]
        cur = 0
        buf[cur, 0] = 0.0
        for j in range(1, n + 1):
            buf[cur, j] = buf[cur, j - 1] + indel[bcodes[c, j - 1]]
        for ii in range(1, m + 1):
            s = acodes[i, ii - 1]
            d = indel[s]
            nxt = 1 - cur
            buf[nxt, 0] = buf[cur, 0] + d
            for j in range(1, n + 1):
                t = bcodes[c, j - 1]
                x = buf[cur, j] + d
                y = buf[nxt, j - 1] + indel[t]
                if y < x:
                    x = y
                z = buf[cur, j - 1] + (0.0 if s == t else sm[s, t])
                if z < x:
                    x = z
                buf[nxt, j] = x
            cur = nxt
        mx = abs(n - m) * imax + maxscost * min(m, n)
        out[r, c] = normalize(buf[cur, n], mx, m * imax, n * imax, norm)

    @cuda.jit
    def ham_kernel(acodes, alens, bcodes, blens, row0, triangle, sm3, norm, maxdist, out):
        r, c = cuda.grid(2)
        if r >= out.shape[0] or c >= out.shape[1]:
            return
        i = row0 + r
        if i >= acodes.shape[0]:
            return
        if triangle and c <= i:
            return
        m = alens[i]
        n = blens[c]
        tv = sm3.shape[0] > 1
        cost = 0.0
        for t in range(min(m, n)):
            cost += sm3[t if tv else 0, acodes[i, t], bcodes[c, t]]
        out[r, c] = normalize(cost, maxdist, maxdist, maxdist, norm)

    return om_kernel, ham_kernel


def _launch(
    kind: str, a: tuple, b: tuple, row0: int, rows: int, triangle: bool, params: tuple
) -> np.ndarray:
    """Run one kernel launch for query rows ``row0 .. row0 + rows`` against all of ``b``."""
    from numba import cuda

    om_kernel, ham_kernel = _kernels()
    out = cuda.device_array((rows, b[0].shape[0]), dtype=np.float64)
    threads = (8, 32)
    grid = (math.ceil(rows / threads[0]), math.ceil(b[0].shape[0] / threads[1]))
    if kind == "om":
        om_kernel[grid, threads](a[0], a[1], b[0], b[1], row0, triangle, *params, out)
    else:
        ham_kernel[grid, threads](a[0], a[1], b[0], b[1], row0, triangle, *params, out)
    return out.copy_to_host()


def _prepare(codes: np.ndarray, lens: np.ndarray) -> tuple[Any, Any]:
    from numba import cuda

    if codes.shape[1] > MAX_LEN:
        raise InputError(f"CUDA kernels support sequences up to {MAX_LEN} positions")
    c = np.ascontiguousarray(np.where(codes < 0, 0, codes), dtype=np.int32)
    if c.shape[1] == 0:
        c = np.zeros((c.shape[0], 1), dtype=np.int32)
    return cuda.to_device(c), cuda.to_device(np.ascontiguousarray(lens, dtype=np.int32))


def _params(
    kind: str,
    sm: np.ndarray,
    indel: np.ndarray,
    norm: int,
    maxscost: float,
    imax: float,
    maxdist: float,
) -> tuple:
    from numba import cuda

    if kind == "om":
        return (
            cuda.to_device(np.ascontiguousarray(sm, dtype=np.float64)),
            cuda.to_device(np.ascontiguousarray(indel, dtype=np.float64)),
            norm,
            float(maxscost),
            float(imax),
        )
    sm3 = sm if sm.ndim == 3 else sm[None]
    return (cuda.to_device(np.ascontiguousarray(sm3, dtype=np.float64)), norm, float(maxdist))


def condensed(
    kind: str,
    codes: np.ndarray,
    lens: np.ndarray,
    sm: np.ndarray,
    indel: np.ndarray,
    norm: int,
    maxscost: float,
    imax: float,
    maxdist: float,
    dtype: np.dtype,
) -> np.ndarray:
    """Condensed distances between distinct sequences on the GPU (``kind`` "om" or "ham")."""
    n = codes.shape[0]
    out = np.zeros(n * (n - 1) // 2, dtype=dtype)
    if n < 2:
        return out
    dev = _prepare(codes, lens)
    params = _params(kind, sm, indel, norm, maxscost, imax, maxdist)
    for row0 in range(0, n - 1, ROW_BLOCK):
        rows = min(ROW_BLOCK, n - 1 - row0)
        block = _launch(kind, dev, dev, row0, rows, True, params)
        for r in range(rows):
            i = row0 + r
            start = i * n - i * (i + 1) // 2
            out[start : start + n - i - 1] = block[r, i + 1 :]
    return out


def cross(
    kind: str,
    acodes: np.ndarray,
    alens: np.ndarray,
    bcodes: np.ndarray,
    blens: np.ndarray,
    sm: np.ndarray,
    indel: np.ndarray,
    norm: int,
    maxscost: float,
    imax: float,
    maxdist: float,
    dtype: np.dtype,
) -> np.ndarray:
    """Distances of every ``a`` to every ``b`` on the GPU, ``(na, nb)``."""
    na = acodes.shape[0]
    out = np.zeros((na, bcodes.shape[0]), dtype=dtype)
    if out.size == 0:
        return out
    width = max(acodes.shape[1], bcodes.shape[1])
    pad_a = np.zeros((na, width), dtype=np.int64)
    pad_a[:, : acodes.shape[1]] = acodes
    pad_b = np.zeros((bcodes.shape[0], width), dtype=np.int64)
    pad_b[:, : bcodes.shape[1]] = bcodes
    da, db = _prepare(pad_a, alens), _prepare(pad_b, blens)
    params = _params(kind, sm, indel, norm, maxscost, imax, maxdist)
    for row0 in range(0, na, ROW_BLOCK):
        rows = min(ROW_BLOCK, na - row0)
        out[row0 : row0 + rows] = _launch(kind, da, db, row0, rows, False, params)
    return out
