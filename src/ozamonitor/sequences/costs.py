"""Substitution and indel costs for sequence distances (TraMineR ``seqcost``).

* ``CONSTANT``: every substitution costs ``cval`` (default 2), indel 1 -
  exactly ``seqcost(method="CONSTANT")``, whose indel is 1 whatever ``cval``.
* ``TRATE``: ``cval - p(i|j) - p(j|i)`` from the transition rates of the data
  (``seqtrate`` conventions: lag 1, transitions pooled over all time points,
  a transition counts only when the state at ``t+1`` is not void and, without
  ``with_missing``, not missing; case weights when ``weighted``), indel
  ``max(sm) / 2``. With ``time_varying=True`` (used by DHD) one matrix per time
  point, TraMineR's ``transition="both"`` formula, ``cval`` 4, floored at 0.
* With ``with_missing``, the missing state is an extra last state whose
  substitution costs are ``miss_cost`` (default ``cval``), as ``miss.cost.fixed``.
* A user matrix is validated by :func:`check_cost_matrix`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ozamonitor.errors import ConfigurationError
from ozamonitor.sequences.seqdata import SequenceData


@dataclass(frozen=True)
class Costs:
    """A substitution-cost matrix (or time-varying array) and its indel cost.

    Attributes
    ----------
    sm : ndarray
        ``(S, S)`` matrix, or ``(L, S, S)`` array for time-varying costs.
    indel : float or ndarray
        a number or a vector of ``S`` state-dependent indel costs.
    """

    sm: np.ndarray
    indel: float | np.ndarray


def transition_rates(
    seqs: SequenceData,
    *,
    with_missing: bool = False,
    weighted: bool = True,
    time_varying: bool = False,
    lag: int = 1,
) -> np.ndarray:
    """Transition rates ``p(j | i)`` as TraMineR's ``seqtrate``.

    Returns an ``(S, S)`` matrix (rows: from, columns: to), or ``(L - lag, S, S)``
    when ``time_varying``. ``S`` includes the missing state when ``with_missing``.
    Rows with no valid transition are 0.
    """
    if lag < 1:
        raise ConfigurationError("lag must be a positive integer")
    k = seqs.n_states
    s = k + 1 if with_missing else k
    w = seqs.case_weights(weighted)
    codes = seqs.codes.astype(np.int64)
    width = codes.shape[1]
    nt = max(width - lag, 0)
    counts = np.zeros((nt, s, s))
    if nt > 0:
        a = codes[:, :nt]
        b = codes[:, lag:]
        # destination must be a counted state (not void; not missing unless with_missing)
        ok = (a >= 0) & (a < s) & (b >= 0) & (b < s)
        tt, rr = np.nonzero(ok.T)
        np.add.at(counts, (tt, a[rr, tt], b[rr, tt]), w[rr])
    # TraMineR's denominator also counts transitions to a missing destination
    # only when with_missing; void destinations never count: same as ``ok``.
    if time_varying:
        denom = counts.sum(axis=2, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = np.where(denom > 0, counts / np.where(denom > 0, denom, 1), 0.0)
        return rates
    tot = counts.sum(axis=0)
    denom = tot.sum(axis=1, keepdims=True)
    return np.where(denom > 0, tot / np.where(denom > 0, denom, 1), 0.0)


def constant_costs(n_states: int, cval: float = 2.0) -> Costs:
    """CONSTANT substitution costs: ``cval`` off the diagonal, indel 1 (as TraMineR)."""
    sm = np.full((n_states, n_states), float(cval))
    np.fill_diagonal(sm, 0.0)
    return Costs(sm=sm, indel=1.0)


def trate_costs(
    seqs: SequenceData,
    *,
    cval: float | None = None,
    with_missing: bool = False,
    miss_cost: float | None = None,
    time_varying: bool = False,
    weighted: bool = True,
    lag: int = 1,
) -> Costs:
    """TRATE substitution costs as ``seqcost(method="TRATE")``.

    Non time-varying: ``sm[i, j] = cval - p(j|i) - p(i|j)`` (``cval`` default 2),
    indel ``max(sm) / 2`` (taken before the missing-state costs are set).
    Time-varying (``transition="both"``, ``cval`` default 4): at time ``t``
    ``cval - p_{t-1}(i,j) - p_{t-1}(j,i) - p_t(i,j) - p_t(j,i)`` with only the
    existing side doubled at the first and last time point, floored at 0.
    """
    tv = time_varying
    if cval is None:
        cval = 4.0 if tv else 2.0
    if miss_cost is None:
        miss_cost = cval
    k = seqs.n_states
    s = k + 1 if with_missing else k
    indel: float | np.ndarray
    if tv:
        tr = transition_rates(
            seqs, with_missing=with_missing, weighted=weighted, time_varying=True, lag=lag
        )
        width = seqs.max_length
        sym = tr + np.transpose(tr, (0, 2, 1)) if len(tr) else tr
        sm = np.zeros((width, s, s))
        for t in range(width):
            first, last = t == 0, t == width - 1
            cost = np.zeros((s, s))
            if not first:
                cost -= sym[t - 1]
            if not last:
                cost -= sym[t]
            sm[t] = cval + cost if (not first and not last) else cval + 2 * cost
            sm[t] = np.maximum(sm[t], 0.0)
            np.fill_diagonal(sm[t], 0.0)
        if with_missing:
            sm[:, k, :k] = miss_cost
            sm[:, :k, k] = miss_cost
        indel = 1.0
    else:
        tr = transition_rates(seqs, with_missing=with_missing, weighted=weighted, lag=lag)
        sm = cval - tr - tr.T
        np.fill_diagonal(sm, 0.0)
        indel = 0.5 * float(sm.max()) if sm.size else 0.5 * cval
        if with_missing:
            sm[k, :k] = miss_cost
            sm[:k, k] = miss_cost
    return Costs(sm=sm, indel=indel)


def seqcost(
    seqs: SequenceData,
    method: str,
    *,
    cval: float | None = None,
    with_missing: bool = False,
    miss_cost: float | None = None,
    time_varying: bool = False,
    weighted: bool = True,
) -> Costs:
    """Substitution costs by name, as TraMineR's ``seqcost``.

    ``"CONSTANT"``, ``"TRATE"`` (transition rates), ``"INDELS"`` or ``"INDELSLOG"``
    (state frequencies, see :func:`indel_costs`).
    """
    m = method.upper()
    k = seqs.n_states + (1 if with_missing else 0)
    if m == "CONSTANT":
        c = 2.0 if cval is None else float(cval)
        if time_varying:
            base = constant_costs(k, c)
            return Costs(sm=np.repeat(base.sm[None], seqs.max_length, axis=0), indel=1.0)
        return constant_costs(k, c)
    if m == "TRATE":
        return trate_costs(
            seqs,
            cval=cval,
            with_missing=with_missing,
            miss_cost=miss_cost,
            time_varying=time_varying,
            weighted=weighted,
        )
    if m in ("INDELS", "INDELSLOG"):
        return indel_costs(seqs, log=m == "INDELSLOG", with_missing=with_missing, weighted=weighted)
    raise ConfigurationError(
        f"unknown cost method {method!r}: use 'CONSTANT', 'TRATE', 'INDELS', 'INDELSLOG' "
        "or a matrix"
    )


def indel_costs(
    seqs: SequenceData, *, log: bool = False, with_missing: bool = False, weighted: bool = True
) -> Costs:
    """TraMineR's ``seqcost(method = "INDELS" / "INDELSLOG")``.

    Each state's indel cost comes from its share ``f`` of all (non-void) cells,
    weighted by case weights: ``1 / f`` (INDELS) or ``log(2 / (1 + f))``
    (INDELSLOG); the substitution cost of two states is the sum of their indels.
    A state that never occurs gets the largest finite cost (INDELS).
    """
    k = seqs.n_states + (1 if with_missing else 0)
    codes = seqs.codes
    w = seqs.weights if (weighted and seqs.weights is not None) else np.ones(codes.shape[0])
    counts = np.zeros(k)
    for st in range(k):
        counts[st] = float((np.count_nonzero(codes == st, axis=1) * w).sum())
    f = counts / counts.sum() if counts.sum() > 0 else counts
    with np.errstate(divide="ignore"):
        ind = np.log(2.0 / (1.0 + f)) if log else 1.0 / f
    ind = np.where(np.isfinite(ind), ind, np.finfo(np.float64).max / 4)
    sm = ind[:, None] + ind[None, :]
    np.fill_diagonal(sm, 0.0)
    return Costs(sm=sm, indel=ind)


def check_cost_matrix(sm: np.ndarray, n_states: int, *, tol: float = 1e-9) -> np.ndarray:
    """Validate a substitution-cost matrix (or ``(L, S, S)`` array); return it as float64.

    Raises ``ConfigurationError`` unless square, of size ``n_states`` (alphabet size, plus
    one when the missing state is used), finite, non-negative, symmetric and
    with a zero diagonal.
    """
    a = np.asarray(sm, dtype=np.float64)
    mats = a[None] if a.ndim == 2 else a
    if a.ndim not in (2, 3) or mats.shape[1] != mats.shape[2]:
        raise ConfigurationError(f"substitution-cost matrix must be square, got shape {a.shape}")
    if mats.shape[1] != n_states:
        raise ConfigurationError(
            f"substitution-cost matrix must be {n_states}x{n_states} (one row and column "
            f"per state), got {mats.shape[1]}x{mats.shape[2]}"
        )
    if not np.all(np.isfinite(mats)):
        raise ConfigurationError("substitution-cost matrix has non-finite values")
    if np.any(mats < 0):
        r = np.argwhere(mats < 0)[0]
        raise ConfigurationError(
            f"substitution-cost matrix has a negative cost at row {r[-2] + 1}, column {r[-1] + 1}"
        )
    diag = np.diagonal(mats, axis1=1, axis2=2)
    if np.any(diag != 0):
        raise ConfigurationError("substitution-cost matrix must have a zero diagonal")
    asym = np.abs(mats - np.transpose(mats, (0, 2, 1)))
    if np.any(asym > tol * max(1.0, float(mats.max()))):
        r = np.argwhere(asym > tol * max(1.0, float(mats.max())))[0]
        raise ConfigurationError(
            f"substitution-cost matrix is not symmetric (row {r[-2] + 1}, column {r[-1] + 1})"
        )
    return a


def check_indel(indel: float | np.ndarray, n_states: int) -> float | np.ndarray:
    """Validate an indel cost: a positive number or a vector of ``n_states`` positive costs."""
    arr = np.asarray(indel, dtype=np.float64)
    if arr.ndim == 0:
        if not np.isfinite(arr) or arr <= 0:
            raise ConfigurationError("indel cost must be a positive number")
        return float(arr)
    if arr.shape != (n_states,):
        raise ConfigurationError(
            f"indel vector must have one cost per state ({n_states}), got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ConfigurationError("indel costs must be positive")
    return arr


def read_cost_matrix(path: str | Path, alphabet: tuple[str, ...] | None = None) -> np.ndarray:
    """Read a square cost matrix from CSV.

    The file is either a plain numeric matrix, or has a header row of state
    labels (and optionally a first column of labels); with a header and an
    ``alphabet`` the matrix is reordered to the alphabet's order.
    """
    p = Path(path)
    text = p.read_text().strip()
    if not text:
        raise ConfigurationError(f"{p}: cost matrix file is empty")
    rows = [
        [c.strip().strip('"') for c in line.split(",")]
        for line in text.splitlines()
        if line.strip()
    ]

    def _isnum(x: str) -> bool:
        try:
            float(x)
        except ValueError:
            return False
        return True

    header: list[str] | None = None
    if not all(_isnum(c) for c in rows[0] if c != ""):
        header = rows[0]
        rows = rows[1:]
    row_labels: list[str] | None = None
    if rows and not _isnum(rows[0][0]):
        row_labels = [r[0] for r in rows]
        rows = [r[1:] for r in rows]
        if header is not None and len(header) == len(rows[0]) + 1:
            header = header[1:]
    try:
        mat = np.array([[float(c) for c in r] for r in rows], dtype=np.float64)
    except ValueError as exc:
        raise ConfigurationError(f"{p}: non-numeric cost: {exc}") from None
    if mat.ndim != 2 or mat.shape[0] != mat.shape[1]:
        raise ConfigurationError(f"{p}: cost matrix must be square, got {len(rows)} rows")
    if header is not None and alphabet is not None:
        labs = [h.removesuffix("->") for h in header]
        missing = [a for a in alphabet if a not in labs]
        if missing:
            raise ConfigurationError(f"{p}: states missing from the header: {missing}")
        order = [labs.index(a) for a in alphabet]
        if len(labs) > len(alphabet):  # e.g. a missing-state column
            order += [i for i in range(len(labs)) if i not in order]
        mat = mat[np.ix_(order, order)]
        del row_labels
    return mat


def resolve_costs(
    seqs: SequenceData,
    method: str,
    sm: Any,
    indel: Any,
    *,
    with_missing: bool,
    weighted: bool,
    nst: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Substitution and indel costs for ``method``: TraMineR ``seqdist``'s
    "Configure sm and indel" block.

    Parameters
    ----------
    seqs : SequenceData
        The reference data (TRATE and DHD costs are estimated on it).
    method : str
        A canonical method name of :data:`ozamonitor.sequences.distances.METHODS`.
    sm : str, ndarray or None
        ``"CONSTANT"``, ``"TRATE"``, ``"INDELS"``, ``"INDELSLOG"``, a matrix (a
        ``(L, S, S)`` array for DHD) or None (TraMineR's per-method default).
    indel : float, ndarray or "auto"
    with_missing : bool
        The missing state is an extra state.
    weighted : bool
        Use the case weights (TRATE).
    nst : int
        Number of states, with the missing state when ``with_missing``.

    Returns
    -------
    sm : ndarray
        ``(S, S)`` or ``(L, S, S)`` costs.
    indel : ndarray
        One indel cost per state.
    """
    auto = isinstance(indel, str)
    if auto and indel != "auto":
        raise ConfigurationError(f"indel must be a number, a vector or 'auto', got {indel!r}")
    if isinstance(sm, str):
        sm_name = sm.upper()
        if sm_name not in ("CONSTANT", "TRATE", "INDELS", "INDELSLOG"):
            raise ConfigurationError(
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
            raise ConfigurationError("a time-varying (3-D) sm is only allowed with DHD")
        if arr.ndim == 2 and method == "DHD":
            raise ConfigurationError("DHD needs a time-varying (L, S, S) sm array, 'TRATE' or None")
        smat = check_cost_matrix(arr, nst)
        if smat.ndim == 3 and smat.shape[0] != seqs.max_length:
            raise ConfigurationError(
                f"time-varying sm must have one matrix per position ({seqs.max_length})"
            )
        if auto:
            indel_val = float(smat.max()) / 2.0
    else:
        sm_name, cval, tv = _named_costs(method, sm_name)
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
        raise ConfigurationError("indel costs must be positive")
    return smat, ivec.astype(np.float64)


def _named_costs(method: str, sm_name: str | None) -> tuple[str, float | None, bool]:
    """``seqcost`` method, ``cval`` and time-varying flag for a named ``sm`` (None:
    TraMineR's default for ``method``)."""
    if sm_name is None:
        if method == "HAM":
            return "CONSTANT", 1.0, False
        if method == "DHD":
            return "TRATE", 4.0, True
        return "CONSTANT", 2.0, False
    if sm_name == "TRATE":
        tv = method == "DHD"
        return sm_name, 4.0 if tv else 2.0, tv
    if sm_name in ("INDELS", "INDELSLOG"):
        if method == "DHD":
            raise ConfigurationError(f"sm={sm_name!r} is not relevant for DHD")
        return sm_name, None, False
    if method == "DHD":  # CONSTANT
        raise ConfigurationError("sm='CONSTANT' is not relevant for DHD, consider HAM instead")
    return sm_name, (1.0 if method == "HAM" else 2.0), False
