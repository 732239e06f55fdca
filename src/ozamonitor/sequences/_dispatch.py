"""Kernel dispatch of :mod:`ozamonitor.sequences.distances`: which compiled
kernel computes a method, with which inputs, on the CPU or a GPU.

:mod:`~ozamonitor.sequences.distances` is the API (options, costs, TraMineR's
rules); this private module turns a resolved
:class:`~ozamonitor.sequences.distances.DistanceSetup` into calls of the numba
kernels (:mod:`~ozamonitor.sequences._kernels`), the CUDA kernels
(:mod:`~ozamonitor.sequences.cuda`) or scipy (CHI2/EUCLID on feature rows), as
scikit-learn keeps ``_k_means_lloyd`` beside ``_kmeans.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np

from ozamonitor.errors import ConfigurationError
from ozamonitor.sequences import _fast_kernels as fast
from ozamonitor.sequences import _kernels as kern
from ozamonitor.sequences import _square_kernels as sq
from ozamonitor.sequences.chi2 import chi2_features
from ozamonitor.sequences.seqdata import SequenceData

if TYPE_CHECKING:
    from ozamonitor.sequences.distances import DistanceSetup

#: Methods with a CUDA kernel.
GPU_METHODS = ("OM", "LCS", "HAM", "DHD")


def chi2_rows(seqs: SequenceData, setup: DistanceSetup) -> np.ndarray:
    """CHI2/EUCLID feature rows of ``seqs`` with the margins fixed in ``setup``."""
    if setup.chi2_breaks is None or setup.chi2_pdot is None or setup.chi2_keep is None:
        raise ConfigurationError(f"{setup.method} is not CHI2 or EUCLID")
    return chi2_features(seqs, setup.chi2_breaks, setup.chi2_pdot, setup.chi2_keep,
                         with_missing=setup.with_missing, norm=setup.norm == "auto")


def maxscost(setup: DistanceSetup) -> float:
    sm, indel = setup.costs()
    imax = float(indel.max())
    if setup.norm == "YujianBo":
        return 2.0 * imax
    s = sm.shape[0]
    off = sm[~np.eye(s, dtype=bool)] if s > 1 else np.zeros(1)
    return float(min(max(float(off.max()), 0.0), 2.0 * imax))


def scalar_inputs(
    seqs: SequenceData, setup: DistanceSetup
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(codes, lengths, durations, original lengths) for the scalar kernels."""
    if setup.method == "OMspell":
        states, durs, nsp = seqs.spells(with_missing=True)
        durs = np.where(durs > 0, durs**setup.tpow - 1.0, 0.0)
        return states.astype(np.int64), nsp.astype(np.int64), durs, seqs.lengths.astype(np.int64)
    codes = seqs.codes.astype(np.int64)
    if codes.shape[1] == 0:
        codes = np.zeros((codes.shape[0], 1), dtype=np.int64)
    durs = np.zeros((codes.shape[0], 1))
    lens = seqs.lengths.astype(np.int64)
    return codes, lens, durs, lens


def scalar_params(
    setup: DistanceSetup, width: int
) -> tuple[int, np.ndarray, np.ndarray, float, float, float]:
    """(method code, sm3, indel, maxscost, indel_max, maxdist)."""
    m = setup.method
    if m in ("LCP", "RLCP"):
        code = kern.M_LCP if m == "LCP" else kern.M_RLCP
        return code, np.zeros((1, 1, 1)), np.ones(1), 0.0, 1.0, 0.0
    sm, indel = setup.costs()
    if m in ("HAM", "DHD"):
        sm3 = sm if sm.ndim == 3 else sm[None]
        if sm3.shape[0] > 1:
            maxdist = float(sum(sm3[t].max() for t in range(width)))
        else:
            maxdist = float(sm3[0].max()) * width
        return kern.M_HAM, np.ascontiguousarray(sm3), indel, 0.0, 1.0, maxdist
    code = kern.M_OMSPELL if m == "OMspell" else kern.M_OM
    return (
        code,
        np.ascontiguousarray(sm[None]),
        indel,
        maxscost(setup),
        float(indel.max()),
        0.0,
    )


def resolve_backend(backend: str, method: str) -> str:
    """``"cpu"``, ``"cuda"`` (error without a GPU) or ``"auto"`` (GPU when usable)."""
    if backend not in ("cpu", "cuda", "auto"):
        raise ConfigurationError("backend must be 'cpu', 'cuda' or 'auto'")
    if backend == "cpu":
        return "cpu"
    from ozamonitor.sequences.cuda import cuda_available

    usable = method in GPU_METHODS and cuda_available()
    if backend == "cuda" and not usable:
        if method not in GPU_METHODS:
            raise ConfigurationError(
                f"no CUDA kernel for {method}; GPU methods: {', '.join(GPU_METHODS)}")
        raise ConfigurationError("backend='cuda' but numba.cuda finds no usable GPU")
    return "cuda" if usable else "cpu"


def gpu_params(setup: DistanceSetup) -> tuple[str, float, float, float]:
    """(kernel kind, maxscost, indel max, maxdist) for the CUDA kernels."""
    if setup.method in ("HAM", "DHD"):
        _, _, _, _, _, maxdist = scalar_params(setup, setup.seq_len)
        return "ham", 0.0, 1.0, maxdist
    _, indel = setup.costs()
    return "om", maxscost(setup), float(indel.max()), 0.0


def lcs_unit(setup: DistanceSetup) -> float | None:
    """The indel cost ``c`` when the method is LCS, or OM where it equals ``c x`` LCS.

    OM with one indel cost ``c`` and all substitution costs ``>= 2 c`` never
    substitutes (a deletion and an insertion cost no more), so its distance is
    ``c (len(a) + len(b) - 2 LCS(a, b))`` exactly. ``None`` otherwise.
    """
    if setup.method == "LCS":
        return 1.0
    if setup.method != "OM":
        return None
    sm, indel = setup.costs()
    c = float(indel[0])
    s = sm.shape[0]
    off = sm[~np.eye(s, dtype=bool)]
    if c > 0 and np.all(indel == c) and (off.size == 0 or float(off.min()) >= 2.0 * c):
        return c
    return None


def set_threads(n_threads: int | None) -> int:
    old = numba.get_num_threads()
    if n_threads is not None:
        numba.set_num_threads(max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS)))
    return old


def unique_condensed(
    seqs: SequenceData, setup: DistanceSetup, dtype: np.dtype, backend: str = "cpu"
) -> np.ndarray:
    """Condensed distances between the rows of ``seqs`` (assumed distinct)."""
    n = seqs.n_sequences
    out = np.zeros(n * (n - 1) // 2, dtype=dtype)
    if n < 2:
        return out
    m = setup.method
    norm_code = kern.NORM_CODES.get(setup.norm, 0)
    if backend == "cuda":
        from ozamonitor.sequences import cuda as gpu

        kind, maxs, imax, maxdist = gpu_params(setup)
        sm, indel = setup.costs()
        return gpu.condensed(
            kind,
            seqs.codes,
            seqs.lengths,
            sm,
            indel,
            norm_code,
            maxs,
            imax,
            maxdist,
            dtype,
        )
    if m in ("CHI2", "EUCLID"):
        from scipy.spatial.distance import pdist

        out[:] = pdist(chi2_rows(seqs, setup))
        return out
    if m in ("LCS", "LCP", "RLCP", "HAM", "DHD") or lcs_unit(setup) is not None:
        fast_condensed(seqs, setup, norm_code, out)
        return out
    if m == "OM":
        sm, indel = setup.costs()
        codes = seqs.codes.astype(np.int64)
        lens = seqs.lengths.astype(np.int64)
        if codes.shape[1] == 0:
            return out
        prof, ttot, glen, gmax = kern.om_build_groups(codes, lens, sm, indel)
        kern.om_condensed(
            codes,
            lens,
            indel,
            prof,
            ttot,
            glen,
            gmax,
            norm_code,
            maxscost(setup),
            float(indel.max()),
            out,
        )
        return out
    codes, lens, durs, olens = scalar_inputs(seqs, setup)
    code, sm3, ind, maxs, imax, maxdist = scalar_params(setup, setup.seq_len)
    kern.scalar_condensed(
        code, codes, lens, durs, olens, sm3, ind, setup.expcost, maxs, imax, maxdist, norm_code, out
    )
    return out


def cross(
    a: SequenceData, b: SequenceData, setup: DistanceSetup, dtype: np.dtype, backend: str = "cpu"
) -> np.ndarray:
    """Distances of every row of ``a`` to every row of ``b`` (no deduplication)."""
    out = np.zeros((a.n_sequences, b.n_sequences), dtype=dtype)
    if out.size == 0:
        return out
    m = setup.method
    norm_code = kern.NORM_CODES.get(setup.norm, 0)
    if backend == "cuda":
        from ozamonitor.sequences import cuda as gpu

        kind, maxs, imax, maxdist = gpu_params(setup)
        sm, indel = setup.costs()
        return gpu.cross(
            kind,
            a.codes,
            a.lengths,
            b.codes,
            b.lengths,
            sm,
            indel,
            norm_code,
            maxs,
            imax,
            maxdist,
            dtype,
        )
    if m in ("CHI2", "EUCLID"):
        from scipy.spatial.distance import cdist

        out[:] = cdist(chi2_rows(a, setup), chi2_rows(b, setup))
        return out
    unit = lcs_unit(setup)
    if unit is not None:
        sm, _ = setup.costs()
        nst = sm.shape[0]
        pm = fast.match_masks(_codes(b), b.lengths.astype(np.int64), nst)
        fast.lcs_cross(_codes(a), a.lengths.astype(np.int64), pm, b.lengths.astype(np.int64),
                       unit, maxscost(setup), norm_code, out)
        return out
    if m == "OM":
        sm, indel = setup.costs()
        bcodes = b.codes.astype(np.int64)
        if bcodes.shape[1] == 0:
            bcodes = np.zeros((b.n_sequences, 1), dtype=np.int64)
        blens = b.lengths.astype(np.int64)
        acodes = a.codes.astype(np.int64)
        if acodes.shape[1] == 0:
            acodes = np.zeros((a.n_sequences, 1), dtype=np.int64)
        prof, ttot, glen, gmax = kern.om_build_groups(bcodes, blens, sm, indel)
        kern.om_cross(
            acodes,
            a.lengths.astype(np.int64),
            b.n_sequences,
            indel,
            prof,
            ttot,
            glen,
            gmax,
            norm_code,
            maxscost(setup),
            float(indel.max()),
            out,
        )
        return out
    ac, al, ad, ao = scalar_inputs(a, setup)
    bc, bl, bd, bo = scalar_inputs(b, setup)
    code, sm3, ind, maxs, imax, maxdist = scalar_params(setup, setup.seq_len)
    kern.scalar_cross(
        code,
        ac,
        al,
        ad,
        ao,
        bc,
        bl,
        bd,
        bo,
        sm3,
        ind,
        setup.expcost,
        maxs,
        imax,
        maxdist,
        norm_code,
        out,
    )
    return out


def _codes(seqs: SequenceData) -> np.ndarray:
    codes = seqs.codes.astype(np.int64)
    return codes if codes.shape[1] else np.zeros((codes.shape[0], 1), dtype=np.int64)


def fast_condensed(seqs: SequenceData, setup: DistanceSetup, norm_code: int,
                   out: np.ndarray) -> None:
    """LCS and OM reducible to it (bit-parallel), LCP/RLCP (sorted prefixes),
    HAM/DHD (lanes), into ``out``."""
    m = setup.method
    codes = _codes(seqs)
    lens = seqs.lengths.astype(np.int64)
    unit = lcs_unit(setup)
    if unit is not None:  # LCS, or OM equal to a multiple of it
        sm, _ = setup.costs()
        nst = sm.shape[0]
        pm = fast.match_masks(codes, lens, nst)
        fast.lcs_condensed(codes, lens, pm, unit, maxscost(setup), norm_code, out)
    elif m in ("LCP", "RLCP"):
        keys, order = _lcp_keys(codes, lens, m)
        fast.lcp_condensed(keys, lens, order, norm_code, out)
    else:  # HAM, DHD: all sequences have length setup.seq_len
        ln = setup.seq_len
        _, sm3, _, _, _, maxdist = scalar_params(setup, ln)
        c = codes[:, :ln]
        off = sm3[:, ~np.eye(sm3.shape[1], dtype=bool)]
        diag = np.stack([np.diag(x) for x in sm3])
        if off.size and np.all(off == off.flat[0]) and not diag.any():
            fast.mismatch_condensed(c.astype(np.int8), float(off.flat[0]), maxdist, norm_code,
                                    out)
        else:
            tc = fast.lane_codes(c, lens, 0)
            fast.ham_condensed(c, tc, np.ascontiguousarray(sm3), maxdist, norm_code, out)


def _lcp_keys(codes: np.ndarray, lens: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """(keys, lexicographic order): sequences (reversed for RLCP), -1 past the end."""
    keys = codes.copy()
    if method == "RLCP":
        for r in range(keys.shape[0]):
            keys[r, : lens[r]] = codes[r, : lens[r]][::-1]
    pos = np.arange(keys.shape[1])
    keys[pos[None, :] >= lens[:, None]] = -1  # shorter sorts first
    return keys, np.lexsort(keys.T[::-1]).astype(np.int64)


def square_direct(seqs: SequenceData, setup: DistanceSetup, dtype: np.dtype,
                  backend: str) -> np.ndarray | None:
    """The ``N x N`` matrix of all sequences in one pass (LCP/RLCP, HAM/DHD with one
    off-diagonal cost), or ``None``.

    Only for methods where duplicates need no special treatment: the formula
    gives 0 for identical sequences (HAM/DHD: when every diagonal cost is 0).
    """
    m = setup.method
    if backend != "cpu" or m not in ("LCP", "RLCP", "HAM", "DHD"):
        return None
    n = seqs.n_sequences
    codes = _codes(seqs)
    lens = seqs.lengths.astype(np.int64)
    norm_code = kern.NORM_CODES.get(setup.norm, 0)
    if m in ("LCP", "RLCP"):
        keys, order = _lcp_keys(codes, lens, m)
        out = np.empty((n, n), dtype=dtype)
        sq.lcp_square(keys, lens, order, norm_code, out)
        return out
    ln = setup.seq_len
    _, sm3, _, _, _, maxdist = scalar_params(setup, ln)
    diag = np.stack([np.diag(x) for x in sm3])
    if diag.any() or sm3.shape[1] > 255:
        return None
    c = np.ascontiguousarray(codes[:, :ln])
    off = sm3[:, ~np.eye(sm3.shape[1], dtype=bool)]
    if not (off.size and np.all(off == off.flat[0])):
        # cost profiles: compute-bound, so half the pairs (condensed) and a mirror pass win
        return None
    out = np.empty((n, n), dtype=dtype)
    sq.mismatch_square(c, sq.byte_lanes(c, ln), float(off.flat[0]), maxdist, norm_code, out)
    return out
