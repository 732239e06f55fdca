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

from dataclasses import dataclass
from typing import Any, Literal

import numba
import numpy as np

from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.sequences import _dispatch as dispatch
from ozamonitor.sequences import _fast_kernels as fast
from ozamonitor.sequences import _kernels as kern
from ozamonitor.sequences.chi2 import chi2_breaks, chi2_margins
from ozamonitor.sequences.costs import resolve_costs
from ozamonitor.sequences.define import as_seqdata
from ozamonitor.sequences.seqdata import SequenceData, unique_rows

METHODS = ("OM", "HAM", "DHD", "LCS", "LCP", "RLCP", "OMspell", "CHI2", "EUCLID")
#: Where the pairwise distances are computed (``"auto"``: a GPU when usable).
Backend = Literal["cpu", "cuda", "auto"]
NORMS = ("auto", "none", "maxlength", "gmean", "maxdist", "YujianBo")

__all__ = ["METHODS", "NORMS", "DistanceSetup", "seqdist", "seqdist_cross"]


def _canon_method(method: str) -> str:
    for m in METHODS:
        if method.upper() == m.upper():
            return m
    raise ConfigurationError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")


def _canon_norm(norm: str | bool) -> str:
    if isinstance(norm, bool):
        return "auto" if norm else "none"
    for n in NORMS:
        if str(norm).lower() == n.lower():
            return n
    raise ConfigurationError(f"unknown norm {norm!r}; choose one of {', '.join(NORMS)}")


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
            raise InputError("no sequences")
        has_missing = seqs.has_missing
        if with_missing and not has_missing:
            with_missing = False  # TraMineR: warning, then with.missing = FALSE
        if has_missing and not with_missing:
            raise InputError(
                "sequences contain missing values: use with_missing=True (missing as an "
                "extra state) or define them with left/gaps='DEL' in seqdef"
            )
        nst = seqs.n_states + (1 if with_missing else 0)
        if method in ("CHI2", "EUCLID") and norm not in ("auto", "none"):
            raise ConfigurationError(f"for {method} norm can only be 'none' or 'auto'")
        norm = _auto_norm(method, norm)
        if method in ("HAM", "DHD") and len(np.unique(seqs.lengths)) > 1:
            raise InputError(f"{method} is not defined for sequences of different length")
        if method == "OMspell" and expcost < 0:
            raise ConfigurationError("'expcost' must be positive")
        if not isinstance(step, (int, np.integer)) or step < 1:
            raise ConfigurationError("'step' must be a positive integer")
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
            brks = chi2_breaks(seqs.max_length, breaks, step, overlap)
            pdot, keep = chi2_margins(
                seqs,
                brks,
                with_missing=with_missing,
                norm=norm == "auto",
                weighted=weighted and method == "CHI2",
                euclid=method == "EUCLID",
                global_pdotj=global_pdotj,
            )
            return cls(**base, chi2_breaks=brks, chi2_pdot=pdot, chi2_keep=keep)
        if method in ("LCP", "RLCP"):
            return cls(**base)
        smat, ind = resolve_costs(seqs, method, sm, indel, with_missing=with_missing,
                                  weighted=weighted, nst=nst)
        return cls(**base, sm=smat, indel=ind)

    def costs(self) -> tuple[np.ndarray, np.ndarray]:
        """``(sm, indel)`` of a method with substitution costs (OM, OMspell, LCS, HAM, DHD)."""
        if self.sm is None or self.indel is None:
            raise ConfigurationError(f"{self.method} has no substitution or indel costs")
        return self.sm, self.indel


def _check_dtype(dtype: Any) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ConfigurationError("dtype must be float64 or float32")
    return dt


def seqdist(
    seqs: SequenceData | Any,
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
    backend: Backend = "cpu",
) -> np.ndarray:
    """All pairwise distances between sequences, as TraMineR's ``seqdist``.

    Parameters
    ----------
    seqs : SequenceData or array-like
        a :class:`SequenceData` or anything :func:`seqdef` accepts.
    method : str, default 'OM'
        ``OM``, ``HAM``, ``DHD``, ``LCS``, ``LCP``, ``RLCP``, ``OMspell``,
        ``CHI2`` or ``EUCLID``.
    sm : str or ndarray, optional
        ``"CONSTANT"``, ``"TRATE"``, a matrix (``S x S``), or for DHD an
        ``(L, S, S)`` array. Defaults as TraMineR: HAM -> CONSTANT cost 1,
        DHD -> time-varying TRATE (cval 4); OM/OMspell -> CONSTANT (cost 2).
    indel : float or ndarray or str, default 'auto'
        number, vector of state-dependent costs, or ``"auto"``
        (``max(sm)/2`` for a matrix; 1 for CONSTANT; ``max(sm)/2`` for TRATE).
    norm : str or bool, default 'none'
        ``"none"`` (default), ``"auto"``, ``"maxlength"``, ``"gmean"``,
        ``"maxdist"``, ``"YujianBo"`` (CHI2/EUCLID: ``"auto"`` or ``"none"``).
    with_missing : bool, default False
        treat the missing state as an extra state (required when
        sequences contain missing values).
    expcost, tpow : float, default 0.5, 1.0
        OMspell duration cost and transformation exponent.
    breaks : list of (int, int), optional
        CHI2/EUCLID intervals (1-based inclusive pairs).
    step : int, default 1
        CHI2/EUCLID interval length without ``breaks``: one interval per
        position, as TraMineR.
    overlap : bool, default False
        CHI2/EUCLID overlapping intervals (``step`` even).
    weighted : bool, default True
        use case weights (TRATE costs, CHI2 margins).
    global_pdotj : ndarray or str, optional
        CHI2 only: ``"obs"`` or a vector of global state proportions.
    dtype : object, default np.float64
        ``float64`` (default) or ``float32`` output.
    condensed : bool, default False
        return the condensed upper triangle (scipy ``squareform``
        order, length ``N (N - 1) / 2``) instead of an ``N x N`` matrix.
    n_threads : int, optional
        numba threads to use (default: all).
    backend : {"cpu", "cuda", "auto"}, default "cpu"
        ``"cpu"`` (default), ``"cuda"`` (OM/LCS/HAM/DHD on a GPU via
        numba.cuda) or ``"auto"`` (GPU when available and supported).

    Returns
    -------
    ndarray
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
    backend: Backend = "cpu",
) -> np.ndarray:
    """Pairwise distances with an already resolved :class:`DistanceSetup`."""
    dt = _check_dtype(dtype)
    _check_alphabet(seqs, setup)
    be = dispatch.resolve_backend(backend, setup.method)
    old = dispatch.set_threads(n_threads)
    try:
        if not condensed:
            direct = dispatch.square_direct(seqs, setup, dt, be)
            if direct is not None:
                return direct
        first, inv = unique_rows(seqs.codes)
        nu = len(first)
        identity = nu == seqs.n_sequences
        useqs = seqs if identity else seqs[first]
        du = dispatch.unique_condensed(useqs, setup, dt, be)
        n = seqs.n_sequences
        if condensed:
            if identity:
                return du
            out = np.empty(n * (n - 1) // 2, dtype=dt)
            kern.expand_condensed(du, inv.astype(np.int64), nu, out)
            return out
        if identity:
            out = np.empty((n, n), dtype=dt)
            fast.square_unique(du, nu, out)
            return out
        du_sq = np.empty((nu, nu), dtype=dt)
        fast.square_unique(du, nu, du_sq)
        out = np.empty((n, n), dtype=dt)
        fast.gather_square(du_sq, inv.astype(np.int64), out)
        return out
    finally:
        numba.set_num_threads(old)


def _check_alphabet(seqs: SequenceData, setup: DistanceSetup) -> None:
    if seqs.alphabet != setup.alphabet:
        raise ConfigurationError(
            f"alphabet {list(seqs.alphabet)} differs from the one the costs were built on "
            f"{list(setup.alphabet)}"
        )
    if seqs.has_missing and not setup.with_missing:
        raise InputError("sequences contain missing values: use with_missing=True")
    if setup.method in ("HAM", "DHD") and np.any(seqs.lengths != setup.seq_len):
        raise InputError(f"{setup.method} is not defined for sequences of different length")


def seqdist_cross(
    seqs_a: SequenceData | Any,
    seqs_b: SequenceData | Any,
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
    backend: Backend = "cpu",
) -> np.ndarray:
    """Distances from every sequence of ``seqs_a`` to every sequence of ``seqs_b``.

    Same options as :func:`seqdist`. Data-derived quantities (TRATE costs,
    DHD costs, CHI2 margins) are computed on ``cost_data`` (default: ``seqs_a``),
    so ``seqdist_cross(x, x[idx])`` equals ``seqdist(x)[:, idx]``. ``seqs_b`` may
    be raw data; it is then encoded with ``seqs_a``'s alphabet.

    Parameters
    ----------
    seqs_a, seqs_b : SequenceData or array-like
        The rows and the columns of the result.
    cost_data : SequenceData, optional
        The data the costs are estimated on (default ``seqs_a``).
    method, sm, indel, norm, with_missing, expcost, tpow, breaks, step, overlap, weighted, \
global_pdotj, dtype, n_threads, backend
        As :func:`seqdist`.

    Returns
    -------
    ndarray
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
    backend: Backend = "cpu",
) -> np.ndarray:
    """Cross distances with an already resolved :class:`DistanceSetup`."""
    dt = _check_dtype(dtype)
    be = dispatch.resolve_backend(backend, setup.method)
    _check_alphabet(a, setup)
    _check_alphabet(b, setup)
    if setup.method in ("CHI2", "EUCLID") and (
        a.max_length != setup.width or b.max_length != setup.width
    ):
        raise InputError("CHI2/EUCLID need sequences with the same number of positions")
    old = dispatch.set_threads(n_threads)
    try:
        fa, ia = unique_rows(a.codes)
        fb, ib = unique_rows(b.codes)
        ua = a if len(fa) == a.n_sequences else a[fa]
        ub = b if len(fb) == b.n_sequences else b[fb]
        du = dispatch.cross(ua, ub, setup, dt, be)
        if len(fa) == a.n_sequences and len(fb) == b.n_sequences:
            return du
        return du[np.ix_(ia, ib)]
    finally:
        numba.set_num_threads(old)
