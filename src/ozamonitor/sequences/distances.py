"""Pairwise dissimilarities between state sequences, matching TraMineR's ``seqdist``.

Methods: ``OM``, ``HAM``, ``DHD``, ``LCS``, ``LCP``, ``RLCP``, ``OMspell``,
``CHI2``, ``EUCLID``. Defaults, cost generation and normalisations follow
TraMineR 2.2 (``seqdist.R``, ``seqcost.R``, ``seqtrate.R``, ``CHI2.R`` and the
C++ distance calculators); see ``docs/sequences-distances.md`` for the exact
correspondences. One deliberate difference: ``OM``/``OMspell`` without ``sm``
use ``sm="CONSTANT"`` (TraMineR stops with an error).

Distances are computed on distinct sequences only and then expanded, as
TraMineR does; duplicates are at distance 0.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from scipy.spatial.distance import cdist, pdist

from ozamonitor.sequences import _kernels as kern
from ozamonitor.sequences.costs import (
    Costs,
    check_cost_matrix,
    check_indel,
    seqcost,
)
from ozamonitor.sequences.seqdata import SequenceData, as_seqdata, unique_rows

METHODS = ("OM", "HAM", "DHD", "LCS", "LCP", "RLCP", "OMspell", "CHI2", "EUCLID")
NORMS = ("auto", "none", "maxlength", "gmean", "maxdist", "YujianBo")

__all__ = ["METHODS", "NORMS", "DistanceSetup", "seqdist", "seqdist_cross"]


def _canon_method(method: str) -> str:
    for m in METHODS:
        if method.upper() == m.upper():
            return m
    raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")


def _canon_norm(norm: str | bool) -> str:
    if isinstance(norm, bool):
        return "auto" if norm else "none"
    for n in NORMS:
        if str(norm).lower() == n.lower():
            return n
    raise ValueError(f"unknown norm {norm!r}; choose one of {', '.join(NORMS)}")


def _auto_norm(method: str, norm: str) -> str:
    """TraMineR's per-method choice for ``norm="auto"``."""
    if norm != "auto":
        return norm
    if method in ("OM", "HAM", "DHD"):
        return "maxlength"
    if method in ("LCS", "LCP", "RLCP"):
        return "gmean"
    if method == "OMspell":
        return "YujianBo"
    return "auto"  # CHI2/EUCLID: boolean normalisation


@dataclass(frozen=True)
class DistanceSetup:
    """Resolved options of a distance computation (costs fixed on reference data).

    Build it with :meth:`DistanceSetup.create`; reuse it (e.g. for CLARA) so that
    data-derived costs (TRATE, DHD, CHI2 margins) come from one data set.
    """

    method: str
    norm: str
    with_missing: bool
    n_states: int
    alphabet: tuple[str, ...]
    sm: np.ndarray | None = None
    indel: np.ndarray | None = None
    expcost: float = 0.5
    tpow: float = 1.0
    chi2_breaks: tuple[tuple[int, int], ...] | None = None
    chi2_pdot: np.ndarray | None = None
    chi2_keep: np.ndarray | None = None
    width: int = 0
    seq_len: int = 0

    @classmethod
    def create(
        cls,
        seqs: SequenceData,
        method: str = "OM",
        *,
        sm: str | np.ndarray | None = None,
        indel: float | np.ndarray | str = "auto",
        norm: str | bool = "none",
        with_missing: bool = False,
        expcost: float = 0.5,
        tpow: float = 1.0,
        breaks: list[tuple[int, int]] | None = None,
        step: int = 1,
        overlap: bool = False,
        weighted: bool = True,
        global_pdotj: np.ndarray | str | None = None,
    ) -> DistanceSetup:
        """Resolve costs, indels and normalisation exactly as TraMineR's ``seqdist``."""
        method = _canon_method(method)
        norm = _canon_norm(norm)
        if seqs.n_sequences == 0:
            raise ValueError("no sequences")
        has_missing = seqs.has_missing
        if with_missing and not has_missing:
            with_missing = False  # TraMineR: warning, then with.missing = FALSE
        if has_missing and not with_missing:
            raise ValueError(
                "sequences contain missing values: use with_missing=True (missing as an "
                "extra state) or define them with left/gaps='DEL' in seqdef"
            )
        nst = seqs.n_states + (1 if with_missing else 0)
        if method in ("CHI2", "EUCLID") and norm not in ("auto", "none"):
            raise ValueError(f"for {method} norm can only be 'none' or 'auto'")
        norm = _auto_norm(method, norm)
        if method in ("HAM", "DHD") and len(np.unique(seqs.lengths)) > 1:
            raise ValueError(f"{method} is not defined for sequences of different length")
        if method == "OMspell" and expcost < 0:
            raise ValueError("'expcost' must be positive")
        if not isinstance(step, (int, np.integer)) or step < 1:
            raise ValueError("'step' must be a positive integer")
        base = {
            "method": method,
            "norm": norm,
            "with_missing": with_missing,
            "n_states": nst,
            "alphabet": seqs.alphabet,
            "expcost": float(expcost),
            "tpow": float(tpow),
            "width": seqs.max_length,
            "seq_len": int(seqs.lengths.max()),
        }
        if method in ("CHI2", "EUCLID"):
            brks = _chi2_breaks(seqs.max_length, breaks, step, overlap)
            pdot, keep = _chi2_margins(
                seqs,
                brks,
                with_missing,
                norm == "auto",
                weighted and method == "CHI2",
                method == "EUCLID",
                global_pdotj,
            )
            return cls(**base, chi2_breaks=brks, chi2_pdot=pdot, chi2_keep=keep)
        if method in ("LCP", "RLCP"):
            return cls(**base)
        smat, ind = _resolve_costs(seqs, method, sm, indel, with_missing, weighted, nst)
        return cls(**base, sm=smat, indel=ind)


def _resolve_costs(
    seqs: SequenceData,
    method: str,
    sm: Any,
    indel: Any,
    with_missing: bool,
    weighted: bool,
    nst: int,
) -> tuple[np.ndarray, np.ndarray]:
    """TraMineR's "Configure sm and indel" block; returns ``(sm, indel_vector)``."""
    auto = isinstance(indel, str)
    if auto and indel != "auto":
        raise ValueError(f"indel must be a number, a vector or 'auto', got {indel!r}")
    if isinstance(sm, str):
        sm_name = sm.upper()
        if sm_name not in ("CONSTANT", "TRATE", "INDELS", "INDELSLOG"):
            raise ValueError(
                f"unknown sm {sm!r}: use 'CONSTANT', 'TRATE', 'INDELS', 'INDELSLOG' or a matrix"
            )
    elif sm is None:
        sm_name = None
    else:
        sm_name = "matrix"
    indel_val: float | np.ndarray | None = None
    if not auto and method not in ("HAM", "DHD", "LCS"):  # TraMineR ignores indel there
        indel_val = check_indel(indel, nst)
    if method == "LCS":
        costs = seqcost(seqs, "CONSTANT", cval=2.0, with_missing=with_missing)
        return costs.sm, np.ones(nst)
    if sm_name == "matrix":
        arr = np.asarray(sm, dtype=np.float64)
        if arr.ndim == 3 and method != "DHD":
            raise ValueError("a time-varying (3-D) sm is only allowed with DHD")
        if arr.ndim == 2 and method == "DHD":
            raise ValueError("DHD needs a time-varying (L, S, S) sm array, 'TRATE' or None")
        smat = check_cost_matrix(arr, nst)
        if smat.ndim == 3 and smat.shape[0] != seqs.max_length:
            raise ValueError(
                f"time-varying sm must have one matrix per position ({seqs.max_length})"
            )
        if auto:
            indel_val = float(smat.max()) / 2.0
    else:
        if sm_name is None:
            if method == "HAM":
                sm_name, cval, tv = "CONSTANT", 1.0, False
            elif method == "DHD":
                sm_name, cval, tv = "TRATE", 4.0, True
            else:
                sm_name, cval, tv = "CONSTANT", 2.0, False
        elif sm_name == "TRATE":
            tv = method == "DHD"
            cval = 4.0 if tv else 2.0
        elif sm_name in ("INDELS", "INDELSLOG"):
            if method == "DHD":
                raise ValueError(f"sm={sm_name!r} is not relevant for DHD")
            cval, tv = None, False
        else:  # CONSTANT
            if method == "DHD":
                raise ValueError("sm='CONSTANT' is not relevant for DHD, consider HAM instead")
            cval, tv = (1.0 if method == "HAM" else 2.0), False
        costs: Costs = seqcost(
            seqs,
            sm_name,
            cval=cval,
            with_missing=with_missing,
            miss_cost=cval,
            time_varying=tv,
            weighted=weighted,
        )
        smat = costs.sm
        if auto or method in ("HAM", "DHD"):
            indel_val = costs.indel
    if indel_val is None:  # HAM/DHD with a user matrix: indel is not used
        indel_val = 1.0
    ivec = np.full(nst, float(indel_val)) if np.ndim(indel_val) == 0 else np.asarray(indel_val)
    # Derived ("auto") indels may be 0 when all substitution costs are 0 (e.g.
    # TRATE on perfectly alternating sequences): TraMineR then returns zero
    # distances, so only user-given indels must be positive.
    if method in ("OM", "OMspell") and not auto and np.any(ivec <= 0):
        raise ValueError("indel costs must be positive")
    return smat, ivec.astype(np.float64)


# ---------------------------------------------------------------------------
# CHI2 / EUCLID (TraMineR's CHI2.R)
# ---------------------------------------------------------------------------


def _chi2_breaks(
    width: int, breaks: list[tuple[int, int]] | None, step: int, overlap: bool
) -> tuple[tuple[int, int], ...]:
    """Intervals (1-based, inclusive) as TraMineR's ``CHI2()`` builds them."""
    if breaks is not None:
        out = []
        for b in breaks:
            if len(b) != 2:
                raise ValueError("breaks must be (start, end) pairs")
            s, e = int(b[0]), int(b[1])
            if not 1 <= s <= e <= width:
                raise ValueError(f"break {b} outside positions 1..{width}")
            out.append((s, e))
        if not out:
            raise ValueError("breaks is empty")
        return tuple(out)
    if overlap and step % 2 != 0:
        raise ValueError("'step' must be even when overlap=True")
    if step == 1:
        return tuple((i, i) for i in range(1, width + 1))
    if step == width:
        return ((1, width),)
    if step > width:
        # TraMineR: seq(1, ncol, by = step) is just 1, so one interval 1..ncol
        warnings.warn(
            f"'step' ({step}) is larger than the sequence length ({width}); using one interval",
            stacklevel=3,
        )
        return ((1, width),)
    bb = list(range(1, width + 1, step))
    if bb[-1] != 1 + width - step:
        warnings.warn(f"With step={step} last episode is shorter than the others", stacklevel=3)
    bb.append(width + 1)
    out = []
    half = step // 2
    if overlap:
        out.append((1, 1 + half))
    for i in range(1, len(bb)):
        out.append((bb[i - 1], bb[i] - 1))
        if overlap:
            s, e = out[-1]
            out.append((min(s + half, width), min(e + half, width)))
    return tuple(out)


def _chi2_counts(
    seqs: SequenceData, breaks: tuple[tuple[int, int], ...], with_missing: bool
) -> np.ndarray:
    """Per-interval state proportions ``(N, n_breaks * S)`` (rows with no state stay 0)."""
    k = seqs.n_states + (1 if with_missing else 0)
    codes = seqs.codes.astype(np.int64)
    n = codes.shape[0]
    onehot = np.zeros((n, codes.shape[1], k))
    valid = (codes >= 0) & (codes < k)
    r, c = np.nonzero(valid)
    onehot[r, c, codes[r, c]] = 1.0
    csum = np.concatenate([np.zeros((n, 1, k)), np.cumsum(onehot, axis=1)], axis=1)
    blocks = [csum[:, e, :] - csum[:, s - 1, :] for s, e in breaks]
    return np.stack(blocks, axis=1)  # (N, B, k) counts


def _chi2_margins(
    seqs: SequenceData,
    breaks: tuple[tuple[int, int], ...],
    with_missing: bool,
    norm: bool,
    weighted: bool,
    euclid: bool,
    global_pdotj: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Column weights ``pdot`` (already scaled as TraMineR) and the kept columns."""
    counts = _chi2_counts(seqs, breaks, with_missing)
    k = counts.shape[2]
    w = seqs.case_weights(weighted)
    gp = None
    if global_pdotj is not None and not euclid:
        if isinstance(global_pdotj, str):
            if global_pdotj != "obs":
                raise ValueError("global_pdotj must be 'obs' or a vector of proportions")
            tot = _chi2_counts(seqs, ((1, seqs.max_length),), with_missing)[:, 0, :]
            tot = tot / np.maximum(tot.sum(axis=1, keepdims=True), 1e-300)
            gp = (w[:, None] * tot).sum(axis=0) / w.sum()
        else:
            gp = np.asarray(global_pdotj, dtype=np.float64)
            if gp.shape != (k,) or np.any(gp < 0) or gp.sum() == 0:
                raise ValueError("global_pdotj must be non-negative, one value per state")
        gp = gp / gp.sum()
    pdots = []
    for b in range(counts.shape[1]):
        ndot = (w[:, None] * counts[:, b, :]).sum(axis=0)
        tot = ndot.sum()
        pdot = ndot / tot if tot > 0 else ndot.copy()
        if euclid:
            pdot = np.where(ndot == 0, 0.0, 2.0 if norm else 1.0)
        else:
            if gp is not None:
                pdot = np.where(ndot == 0, 0.0, gp)
            nz = pdot[ndot != 0]
            if len(nz) > 1:
                srt = np.sort(nz)
                maxd = (1.0 / srt[0] + 1.0 / srt[1]) if norm else 1.0
                pdot = pdot * maxd
        pdots.append(pdot)
    allp = np.concatenate(pdots)
    keep = allp > 0
    return allp[keep], keep


def _chi2_features(seqs: SequenceData, setup: DistanceSetup) -> np.ndarray:
    """Rows scaled so that Euclidean distance = TraMineR's CHI2/EUCLID distance."""
    assert setup.chi2_breaks is not None and setup.chi2_pdot is not None
    counts = _chi2_counts(seqs, setup.chi2_breaks, setup.with_missing)
    rs = counts.sum(axis=2, keepdims=True)
    props = np.where(rs > 0, counts / np.where(rs > 0, rs, 1.0), 0.0)
    x = props.reshape(props.shape[0], -1)[:, setup.chi2_keep]
    x = x / np.sqrt(setup.chi2_pdot)
    if setup.norm == "auto":
        x = x / np.sqrt(len(setup.chi2_breaks))
    return x


# ---------------------------------------------------------------------------
# kernel dispatch
# ---------------------------------------------------------------------------


def _maxscost(setup: DistanceSetup) -> float:
    assert setup.sm is not None and setup.indel is not None
    imax = float(setup.indel.max())
    if setup.norm == "YujianBo":
        return 2.0 * imax
    sm = setup.sm
    s = sm.shape[0]
    off = sm[~np.eye(s, dtype=bool)] if s > 1 else np.zeros(1)
    return float(min(max(float(off.max()), 0.0), 2.0 * imax))


def _scalar_inputs(
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


def _scalar_params(
    setup: DistanceSetup, width: int
) -> tuple[int, np.ndarray, np.ndarray, float, float, float]:
    """(method code, sm3, indel, maxscost, indel_max, maxdist)."""
    m = setup.method
    if m in ("LCP", "RLCP"):
        code = kern.M_LCP if m == "LCP" else kern.M_RLCP
        return code, np.zeros((1, 1, 1)), np.ones(1), 0.0, 1.0, 0.0
    assert setup.sm is not None and setup.indel is not None
    if m in ("HAM", "DHD"):
        sm3 = setup.sm if setup.sm.ndim == 3 else setup.sm[None]
        if sm3.shape[0] > 1:
            maxdist = float(sum(sm3[t].max() for t in range(width)))
        else:
            maxdist = float(sm3[0].max()) * width
        return kern.M_HAM, np.ascontiguousarray(sm3), setup.indel, 0.0, 1.0, maxdist
    code = kern.M_OMSPELL if m == "OMspell" else kern.M_OM
    return (
        code,
        np.ascontiguousarray(setup.sm[None]),
        setup.indel,
        _maxscost(setup),
        float(setup.indel.max()),
        0.0,
    )


GPU_METHODS = ("OM", "LCS", "HAM", "DHD")


def _resolve_backend(backend: str, method: str) -> str:
    """``"cpu"``, ``"cuda"`` (error without a GPU) or ``"auto"`` (GPU when usable)."""
    if backend not in ("cpu", "cuda", "auto"):
        raise ValueError("backend must be 'cpu', 'cuda' or 'auto'")
    if backend == "cpu":
        return "cpu"
    from ozamonitor.sequences.cuda import cuda_available

    usable = method in GPU_METHODS and cuda_available()
    if backend == "cuda" and not usable:
        if method not in GPU_METHODS:
            raise ValueError(f"no CUDA kernel for {method}; GPU methods: {', '.join(GPU_METHODS)}")
        raise ValueError("backend='cuda' but numba.cuda finds no usable GPU")
    return "cuda" if usable else "cpu"


def _gpu_params(setup: DistanceSetup) -> tuple[str, float, float, float]:
    """(kernel kind, maxscost, indel max, maxdist) for the CUDA kernels."""
    if setup.method in ("HAM", "DHD"):
        _, _, _, _, _, maxdist = _scalar_params(setup, setup.seq_len)
        return "ham", 0.0, 1.0, maxdist
    assert setup.indel is not None
    return "om", _maxscost(setup), float(setup.indel.max()), 0.0


def _set_threads(n_threads: int | None) -> int:
    old = numba.get_num_threads()
    if n_threads is not None:
        numba.set_num_threads(max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS)))
    return old


def _unique_condensed(
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

        kind, maxs, imax, maxdist = _gpu_params(setup)
        assert setup.sm is not None and setup.indel is not None
        return gpu.condensed(
            kind,
            seqs.codes,
            seqs.lengths,
            setup.sm,
            setup.indel,
            norm_code,
            maxs,
            imax,
            maxdist,
            dtype,
        )
    if m in ("CHI2", "EUCLID"):
        out[:] = pdist(_chi2_features(seqs, setup))
        return out
    if m in ("OM", "LCS"):
        assert setup.sm is not None and setup.indel is not None
        codes = seqs.codes.astype(np.int64)
        lens = seqs.lengths.astype(np.int64)
        if codes.shape[1] == 0:
            return out
        prof, ttot, glen, gmax = kern.om_build_groups(codes, lens, setup.sm, setup.indel)
        kern.om_condensed(
            codes,
            lens,
            setup.indel,
            prof,
            ttot,
            glen,
            gmax,
            norm_code,
            _maxscost(setup),
            float(setup.indel.max()),
            out,
        )
        return out
    codes, lens, durs, olens = _scalar_inputs(seqs, setup)
    code, sm3, ind, maxs, imax, maxdist = _scalar_params(setup, setup.seq_len)
    kern.scalar_condensed(
        code, codes, lens, durs, olens, sm3, ind, setup.expcost, maxs, imax, maxdist, norm_code, out
    )
    return out


def _cross(
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

        kind, maxs, imax, maxdist = _gpu_params(setup)
        assert setup.sm is not None and setup.indel is not None
        return gpu.cross(
            kind,
            a.codes,
            a.lengths,
            b.codes,
            b.lengths,
            setup.sm,
            setup.indel,
            norm_code,
            maxs,
            imax,
            maxdist,
            dtype,
        )
    if m in ("CHI2", "EUCLID"):
        out[:] = cdist(_chi2_features(a, setup), _chi2_features(b, setup))
        return out
    if m in ("OM", "LCS"):
        assert setup.sm is not None and setup.indel is not None
        bcodes = b.codes.astype(np.int64)
        if bcodes.shape[1] == 0:
            bcodes = np.zeros((b.n_sequences, 1), dtype=np.int64)
        blens = b.lengths.astype(np.int64)
        acodes = a.codes.astype(np.int64)
        if acodes.shape[1] == 0:
            acodes = np.zeros((a.n_sequences, 1), dtype=np.int64)
        prof, ttot, glen, gmax = kern.om_build_groups(bcodes, blens, setup.sm, setup.indel)
        kern.om_cross(
            acodes,
            a.lengths.astype(np.int64),
            b.n_sequences,
            setup.indel,
            prof,
            ttot,
            glen,
            gmax,
            norm_code,
            _maxscost(setup),
            float(setup.indel.max()),
            out,
        )
        return out
    ac, al, ad, ao = _scalar_inputs(a, setup)
    bc, bl, bd, bo = _scalar_inputs(b, setup)
    code, sm3, ind, maxs, imax, maxdist = _scalar_params(setup, setup.seq_len)
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


def _check_dtype(dtype: Any) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError("dtype must be float64 or float32")
    return dt


def seqdist(
    seqs: Any,
    method: str = "OM",
    *,
    sm: str | np.ndarray | None = None,
    indel: float | np.ndarray | str = "auto",
    norm: str | bool = "none",
    with_missing: bool = False,
    expcost: float = 0.5,
    tpow: float = 1.0,
    breaks: list[tuple[int, int]] | None = None,
    step: int = 1,
    overlap: bool = False,
    weighted: bool = True,
    global_pdotj: np.ndarray | str | None = None,
    dtype: Any = np.float64,
    condensed: bool = False,
    n_threads: int | None = None,
    backend: str = "cpu",
) -> np.ndarray:
    """All pairwise distances between sequences, as TraMineR's ``seqdist``.

    Args:
        seqs: a :class:`SequenceData` or anything :func:`seqdef` accepts.
        method: ``OM``, ``HAM``, ``DHD``, ``LCS``, ``LCP``, ``RLCP``, ``OMspell``,
            ``CHI2`` or ``EUCLID``.
        sm: ``"CONSTANT"``, ``"TRATE"``, a matrix (``S x S``), or for DHD an
            ``(L, S, S)`` array. Defaults as TraMineR: HAM -> CONSTANT cost 1,
            DHD -> time-varying TRATE (cval 4); OM/OMspell -> CONSTANT (cost 2).
        indel: number, vector of state-dependent costs, or ``"auto"``
            (``max(sm)/2`` for a matrix; 1 for CONSTANT; ``max(sm)/2`` for TRATE).
        norm: ``"none"`` (default), ``"auto"``, ``"maxlength"``, ``"gmean"``,
            ``"maxdist"``, ``"YujianBo"`` (CHI2/EUCLID: ``"auto"`` or ``"none"``).
        with_missing: treat the missing state as an extra state (required when
            sequences contain missing values).
        expcost, tpow: OMspell duration cost and transformation exponent.
        breaks, step, overlap: CHI2/EUCLID intervals (1-based inclusive pairs);
            default ``step=1``: one interval per position, as TraMineR.
        weighted: use case weights (TRATE costs, CHI2 margins).
        global_pdotj: CHI2 only: ``"obs"`` or a vector of global state proportions.
        dtype: ``float64`` (default) or ``float32`` output.
        condensed: return the condensed upper triangle (scipy ``squareform``
            order, length ``N (N - 1) / 2``) instead of an ``N x N`` matrix.
        n_threads: numba threads to use (default: all).
        backend: ``"cpu"`` (default), ``"cuda"`` (OM/LCS/HAM/DHD on a GPU via
            numba.cuda) or ``"auto"`` (GPU when available and supported).

    Returns:
        ``(N, N)`` symmetric matrix with zero diagonal, or the condensed vector.
    """
    seqs = as_seqdata(seqs)
    dt = _check_dtype(dtype)
    setup = DistanceSetup.create(
        seqs,
        method,
        sm=sm,
        indel=indel,
        norm=norm,
        with_missing=with_missing,
        expcost=expcost,
        tpow=tpow,
        breaks=breaks,
        step=step,
        overlap=overlap,
        weighted=weighted,
        global_pdotj=global_pdotj,
    )
    return seqdist_setup(
        seqs, setup, dtype=dt, condensed=condensed, n_threads=n_threads, backend=backend
    )


def seqdist_setup(
    seqs: SequenceData,
    setup: DistanceSetup,
    *,
    dtype: Any = np.float64,
    condensed: bool = False,
    n_threads: int | None = None,
    backend: str = "cpu",
) -> np.ndarray:
    """Pairwise distances with an already resolved :class:`DistanceSetup`."""
    dt = _check_dtype(dtype)
    _check_alphabet(seqs, setup)
    be = _resolve_backend(backend, setup.method)
    old = _set_threads(n_threads)
    try:
        first, inv = unique_rows(seqs.codes)
        nu = len(first)
        identity = nu == seqs.n_sequences
        useqs = seqs if identity else seqs[first]
        du = _unique_condensed(useqs, setup, dt, be)
        n = seqs.n_sequences
        if condensed:
            if identity:
                return du
            out = np.empty(n * (n - 1) // 2, dtype=dt)
            kern.expand_condensed(du, inv.astype(np.int64), nu, out)
            return out
        out = np.empty((n, n), dtype=dt)
        kern.expand_square(du, inv.astype(np.int64), nu, out)
        return out
    finally:
        numba.set_num_threads(old)


def _check_alphabet(seqs: SequenceData, setup: DistanceSetup) -> None:
    if seqs.alphabet != setup.alphabet:
        raise ValueError(
            f"alphabet {list(seqs.alphabet)} differs from the one the costs were built on "
            f"{list(setup.alphabet)}"
        )
    if seqs.has_missing and not setup.with_missing:
        raise ValueError("sequences contain missing values: use with_missing=True")
    if setup.method in ("HAM", "DHD") and np.any(seqs.lengths != setup.seq_len):
        raise ValueError(f"{setup.method} is not defined for sequences of different length")


def seqdist_cross(
    seqs_a: Any,
    seqs_b: Any,
    method: str = "OM",
    *,
    cost_data: SequenceData | None = None,
    sm: str | np.ndarray | None = None,
    indel: float | np.ndarray | str = "auto",
    norm: str | bool = "none",
    with_missing: bool = False,
    expcost: float = 0.5,
    tpow: float = 1.0,
    breaks: list[tuple[int, int]] | None = None,
    step: int = 1,
    overlap: bool = False,
    weighted: bool = True,
    global_pdotj: np.ndarray | str | None = None,
    dtype: Any = np.float64,
    n_threads: int | None = None,
    backend: str = "cpu",
) -> np.ndarray:
    """Distances from every sequence of ``seqs_a`` to every sequence of ``seqs_b``.

    Same options as :func:`seqdist`. Data-derived quantities (TRATE costs,
    DHD costs, CHI2 margins) are computed on ``cost_data`` (default: ``seqs_a``),
    so ``seqdist_cross(x, x[idx])`` equals ``seqdist(x)[:, idx]``. ``seqs_b`` may
    be raw data; it is then encoded with ``seqs_a``'s alphabet.

    Returns:
        ``(len(seqs_a), len(seqs_b))`` array.
    """
    a = as_seqdata(seqs_a)
    b = seqs_b if isinstance(seqs_b, SequenceData) else as_seqdata(seqs_b, alphabet=a.alphabet)
    ref = a if cost_data is None else cost_data
    setup = DistanceSetup.create(
        ref,
        method,
        sm=sm,
        indel=indel,
        norm=norm,
        with_missing=with_missing,
        expcost=expcost,
        tpow=tpow,
        breaks=breaks,
        step=step,
        overlap=overlap,
        weighted=weighted,
        global_pdotj=global_pdotj,
    )
    return seqdist_cross_setup(a, b, setup, dtype=dtype, n_threads=n_threads, backend=backend)


def seqdist_cross_setup(
    a: SequenceData,
    b: SequenceData,
    setup: DistanceSetup,
    *,
    dtype: Any = np.float64,
    n_threads: int | None = None,
    backend: str = "cpu",
) -> np.ndarray:
    """Cross distances with an already resolved :class:`DistanceSetup`."""
    dt = _check_dtype(dtype)
    be = _resolve_backend(backend, setup.method)
    _check_alphabet(a, setup)
    _check_alphabet(b, setup)
    if setup.method in ("CHI2", "EUCLID") and (
        a.max_length != setup.width or b.max_length != setup.width
    ):
        raise ValueError("CHI2/EUCLID need sequences with the same number of positions")
    old = _set_threads(n_threads)
    try:
        fa, ia = unique_rows(a.codes)
        fb, ib = unique_rows(b.codes)
        ua = a if len(fa) == a.n_sequences else a[fa]
        ub = b if len(fb) == b.n_sequences else b[fb]
        du = _cross(ua, ub, setup, dt, be)
        if len(fa) == a.n_sequences and len(fb) == b.n_sequences:
            return du
        return du[np.ix_(ia, ib)]
    finally:
        numba.set_num_threads(old)
