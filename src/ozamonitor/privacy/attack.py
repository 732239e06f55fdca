"""The attacker's intervals: what the published cells and their relations allow.

An attacker knows every published value and every linear relation between
cells (:func:`ozamonitor.privacy.gauss.linear_relations`), and that counts are
non-negative integers. For a suppressed cell the *attacker interval* is
``[min, max]`` of that cell over all tables consistent with that knowledge.

The relations are split into connected components of suppressed cells (two
suppressed cells are linked when one relation holds both); each component is
one linear program (HiGHS via ``highspy``) whose objective is changed from cell
to cell and re-solved from the previous basis (warm start), never one LP per
cell over the whole system.

Integrality is handled by rounding the LP relaxation's bounds inward
(``ceil(min)``, ``floor(max)``). For relations with a totally unimodular
matrix (two-way tables, hierarchies) the LP bounds are the integer bounds; in
general the integer interval can be narrower than the rounded LP interval
(tau-ARGUS and sdcTable's ``attack()`` make the same approximation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

_TOL = 1e-6


@dataclass
class Intervals:
    """Attacker bounds per cell (``lower == upper == value`` for published cells)."""

    lower: np.ndarray
    upper: np.ndarray

    def width(self) -> np.ndarray:
        return self.upper - self.lower


def _components(rel: sp.csr_matrix, hidden: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(cells, relations) of every connected component of hidden cells."""
    from scipy.sparse.csgraph import connected_components

    h = rel[:, hidden]  # relations x hidden cells
    h.data[:] = 1
    nh = h.shape[1]
    link = (h.T @ h).tocsr()
    _, lab = connected_components(link, directed=False)
    hidden_idx = np.flatnonzero(hidden)
    rel_lab = np.full(rel.shape[0], -1, np.int64)
    hc = h.tocoo()
    rel_lab[hc.row] = lab[hc.col]
    out = []
    order = np.argsort(lab, kind="stable")
    bounds = np.searchsorted(lab[order], np.arange(lab.max() + 2 if nh else 1))
    rel_order = np.argsort(rel_lab, kind="stable")
    rel_sorted = rel_lab[rel_order]
    for c in range(len(bounds) - 1):
        cells = hidden_idx[order[bounds[c]:bounds[c + 1]]]
        lo, hi = np.searchsorted(rel_sorted, [c, c + 1])
        out.append((cells, rel_order[lo:hi]))
    return out


def attacker_intervals(relations: sp.csr_matrix, values: np.ndarray, hidden: np.ndarray,
                       targets: np.ndarray | None = None, integer: bool = True,
                       enough: float | None = None,
                       inequalities: sp.spmatrix | None = None) -> Intervals:
    """Bounds of every hidden cell (or of ``targets`` only) given the published cells.

    Parameters
    ----------
    relations:
        ``(n_relations, n_cells)`` sparse matrix, ``relations @ values == 0``.
    values:
        True values of all cells (only published ones are read).
    hidden:
        Boolean mask of suppressed cells.
    targets:
        Boolean mask of the cells whose bounds are wanted (default: all hidden).
    integer:
        Round the LP bounds inward to integers.
    enough:
        Stop solving for a cell once solutions found for other cells show that
        its interval is at least this wide (the bounds returned for it are then
        the range of those solutions: inside its interval, not the interval).
    inequalities:
        ``(n_inequalities, n_cells)`` sparse matrix, ``inequalities @ values <= 0``
        (e.g. one definition never counts more than another); they join the
        components like relations and are rows with an upper bound only.
    """
    values = np.asarray(values, float)
    n = values.size
    lower = np.where(hidden, -np.inf, values).astype(float)
    upper = lower.copy()
    want = hidden.copy() if targets is None else (targets & hidden)
    if not want.any():
        return Intervals(lower, upper)
    rel = sp.csr_matrix(relations, dtype=float)
    n_eq = rel.shape[0]
    if inequalities is not None and inequalities.shape[0]:
        rel = sp.vstack([rel, sp.csr_matrix(inequalities, dtype=float)], format="csr")
    for cells, rels in _components(rel, hidden):
        goal = cells[want[cells]]
        if goal.size == 0:
            continue
        lo, hi = _solve_component(rel, values, hidden, cells, rels, goal, enough, n_eq)
        lower[goal], upper[goal] = lo, hi
    if integer:
        lower = np.where(np.isfinite(lower), np.ceil(lower - _TOL), lower)
        upper = np.where(np.isfinite(upper), np.floor(upper + _TOL), upper)
    lower = lower + 0.0  # no -0.0
    lower[hidden & ~want] = np.nan
    upper[hidden & ~want] = np.nan
    assert lower.size == n
    return Intervals(lower, upper)


def _quiet_highs():  # type: ignore[no-untyped-def]
    """A HiGHS instance without its start-up banner on stdout."""
    import os
    import sys

    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return h


def _merge_identities(a: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
    """Representative column of every column: pure identities ``x_i - x_j == 0``
    (two unknowns, opposite unit coefficients, nothing published) merge i and j."""
    n = a.shape[1]
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    nnz = np.diff(a.indptr)
    for r in np.flatnonzero((nnz == 2) & (np.abs(rhs) < _TOL)).tolist():
        k = a.indptr[r]
        (i, j), (x, y) = a.indices[k:k + 2], a.data[k:k + 2]
        if abs(x + y) < _TOL and abs(abs(x) - 1) < _TOL:
            ri, rj = find(int(i)), find(int(j))
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    return np.array([find(i) for i in range(n)])


def _solve_component(rel: sp.csr_matrix, values: np.ndarray, hidden: np.ndarray,
                     cells: np.ndarray, rels: np.ndarray, goal: np.ndarray,
                     enough: float | None = None, n_eq: int | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """LP bounds of the ``goal`` cells of one component.

    Rows of ``rel`` from ``n_eq`` on are inequalities (``<= 0``).

    With ``enough``, a cell whose values in the solutions found so far already
    span ``enough`` is not solved for: its returned bounds are those values
    (an inner approximation of its interval, wide enough for the caller).
    """
    sub = rel[rels]
    pub = ~hidden
    rhs = -(sub[:, pub] @ values[pub])
    a = sp.csr_matrix(sub[:, cells])
    if a.shape[0] == 0:  # no relation: only non-negativity
        return np.zeros(goal.size), np.full(goal.size, np.inf)
    a.sort_indices()
    ub = rels >= (rel.shape[0] if n_eq is None else n_eq)
    rep = _merge_identities(a[~ub], rhs[~ub])
    reps, col_of = np.unique(rep, return_inverse=True)
    nc = reps.size
    a = sp.csr_matrix((a.data, col_of[a.indices], a.indptr), shape=(a.shape[0], nc))
    a.sum_duplicates()
    a.eliminate_zeros()
    keep = np.diff(a.indptr) > 0
    a, rhs, ub = a[keep], rhs[keep], ub[keep]
    import highspy

    h = _quiet_highs()
    h.setOptionValue("presolve", "off")  # keeps the basis between objectives
    inf = highspy.kHighsInf
    h.addVars(nc, np.zeros(nc), np.full(nc, inf))
    if a.shape[0]:
        h.addRows(a.shape[0], np.where(ub, -inf, rhs), rhs, a.nnz, a.indptr[:-1].astype(np.int32),
                  a.indices.astype(np.int32), a.data)
    pos = {int(c): int(col_of[i]) for i, c in enumerate(cells.tolist())}
    var_lo = np.full(nc, np.inf)
    var_hi = np.full(nc, -np.inf)
    lo_v = np.full(nc, np.nan)
    hi_v = np.full(nc, np.nan)
    idx = np.arange(nc, dtype=np.int32)
    zero = np.zeros(nc)
    for c in goal.tolist():
        i = pos[c]
        for sense, store in ((1.0, lo_v), (-1.0, hi_v)):
            if not np.isnan(store[i]):
                continue
            if enough is not None and var_hi[i] - var_lo[i] >= enough:
                continue
            cost = zero.copy()
            cost[i] = sense
            h.changeColsCost(nc, idx, cost)
            h.run()
            status = h.getModelStatus()
            if status == highspy.HighsModelStatus.kOptimal:
                store[i] = h.getInfo().objective_function_value * sense
                x = np.asarray(h.getSolution().col_value)
                np.minimum(var_lo, x, out=var_lo)
                np.maximum(var_hi, x, out=var_hi)
            elif status == highspy.HighsModelStatus.kUnbounded:
                store[i] = -np.inf * sense
                var_hi[i] = np.inf
            else:
                raise RuntimeError("attacker LP: unexpected status "
                                   f"{h.modelStatusToString(status)}")
    gi = np.array([pos[c] for c in goal.tolist()], np.int64)
    lo = np.where(np.isnan(lo_v[gi]), var_lo[gi], lo_v[gi])
    hi = np.where(np.isnan(hi_v[gi]), var_hi[gi], hi_v[gi])
    return lo, hi
