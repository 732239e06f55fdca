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
                       targets: np.ndarray | None = None, integer: bool = True) -> Intervals:
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
    """
    values = np.asarray(values, float)
    n = values.size
    lower = np.where(hidden, -np.inf, values).astype(float)
    upper = lower.copy()
    want = hidden.copy() if targets is None else (targets & hidden)
    if not want.any():
        return Intervals(lower, upper)
    rel = sp.csr_matrix(relations, dtype=float)
    for cells, rels in _components(rel, hidden):
        goal = cells[want[cells]]
        if goal.size == 0:
            continue
        lo, hi = _solve_component(rel, values, hidden, cells, rels, goal)
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


def _solve_component(rel: sp.csr_matrix, values: np.ndarray, hidden: np.ndarray,
                     cells: np.ndarray, rels: np.ndarray, goal: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    sub = rel[rels]
    pub = ~hidden
    rhs = -(sub[:, pub] @ values[pub])
    a = sub[:, cells].tocsc()
    if a.shape[0] == 0:  # no relation: only non-negativity
        return np.zeros(goal.size), np.full(goal.size, np.inf)
    import highspy

    h = _quiet_highs()
    h.setOptionValue("presolve", "off")  # keeps the basis between objectives
    inf = highspy.kHighsInf
    nc = cells.size
    h.addVars(nc, np.zeros(nc), np.full(nc, inf))
    a = a.tocsr()
    h.addRows(a.shape[0], rhs, rhs, a.nnz, a.indptr[:-1].astype(np.int32),
              a.indices.astype(np.int32), a.data)
    pos = {int(c): i for i, c in enumerate(cells.tolist())}
    lo = np.empty(goal.size)
    hi = np.empty(goal.size)
    zero = np.zeros(nc)
    idx = np.arange(nc, dtype=np.int32)
    for t, c in enumerate(goal.tolist()):
        i = pos[c]
        for sense, store in ((1.0, lo), (-1.0, hi)):
            cost = zero.copy()
            cost[i] = sense
            h.changeColsCost(nc, idx, cost)
            h.run()
            status = h.getModelStatus()
            if status == highspy.HighsModelStatus.kOptimal:
                store[t] = h.getInfo().objective_function_value * sense
            elif status == highspy.HighsModelStatus.kUnbounded:
                store[t] = -np.inf * sense
            else:
                raise RuntimeError(f"attacker LP: unexpected status {h.modelStatusToString(status)}")
    return lo, hi
