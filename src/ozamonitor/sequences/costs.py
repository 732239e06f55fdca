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

import numpy as np

from ozamonitor.sequences.seqdata import SequenceData


@dataclass(frozen=True)
class Costs:
    """A substitution-cost matrix (or time-varying array) and its indel cost.

    Attributes:
        sm: ``(S, S)`` matrix, or ``(L, S, S)`` array for time-varying costs.
        indel: a number or a vector of ``S`` state-dependent indel costs.
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
        raise ValueError("lag must be a positive integer")
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
    raise ValueError(
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

    Raises ``ValueError`` unless square, of size ``n_states`` (alphabet size, plus
    one when the missing state is used), finite, non-negative, symmetric and
    with a zero diagonal.
    """
    a = np.asarray(sm, dtype=np.float64)
    mats = a[None] if a.ndim == 2 else a
    if a.ndim not in (2, 3) or mats.shape[1] != mats.shape[2]:
        raise ValueError(f"substitution-cost matrix must be square, got shape {a.shape}")
    if mats.shape[1] != n_states:
        raise ValueError(
            f"substitution-cost matrix must be {n_states}x{n_states} (one row and column "
            f"per state), got {mats.shape[1]}x{mats.shape[2]}"
        )
    if not np.all(np.isfinite(mats)):
        raise ValueError("substitution-cost matrix has non-finite values")
    if np.any(mats < 0):
        r = np.argwhere(mats < 0)[0]
        raise ValueError(
            f"substitution-cost matrix has a negative cost at row {r[-2] + 1}, column {r[-1] + 1}"
        )
    diag = np.diagonal(mats, axis1=1, axis2=2)
    if np.any(diag != 0):
        raise ValueError("substitution-cost matrix must have a zero diagonal")
    asym = np.abs(mats - np.transpose(mats, (0, 2, 1)))
    if np.any(asym > tol * max(1.0, float(mats.max()))):
        r = np.argwhere(asym > tol * max(1.0, float(mats.max())))[0]
        raise ValueError(
            f"substitution-cost matrix is not symmetric (row {r[-2] + 1}, column {r[-1] + 1})"
        )
    return a


def check_indel(indel: float | np.ndarray, n_states: int) -> float | np.ndarray:
    """Validate an indel cost: a positive number or a vector of ``n_states`` positive costs."""
    arr = np.asarray(indel, dtype=np.float64)
    if arr.ndim == 0:
        if not np.isfinite(arr) or arr <= 0:
            raise ValueError("indel cost must be a positive number")
        return float(arr)
    if arr.shape != (n_states,):
        raise ValueError(f"indel vector must have one cost per state ({n_states}), got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError("indel costs must be positive")
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
        raise ValueError(f"{p}: cost matrix file is empty")
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
        raise ValueError(f"{p}: non-numeric cost: {exc}") from None
    if mat.ndim != 2 or mat.shape[0] != mat.shape[1]:
        raise ValueError(f"{p}: cost matrix must be square, got {len(rows)} rows")
    if header is not None and alphabet is not None:
        labs = [h.removesuffix("->") for h in header]
        missing = [a for a in alphabet if a not in labs]
        if missing:
            raise ValueError(f"{p}: states missing from the header: {missing}")
        order = [labs.index(a) for a in alphabet]
        if len(labs) > len(alphabet):  # e.g. a missing-state column
            order += [i for i in range(len(labs)) if i not in order]
        mat = mat[np.ix_(order, order)]
        del row_labels
    return mat
