"""The exact audit: which suppressed cells do the published totals still determine?

A table with sum groups publishes one linear equation per group: its cells add
up to a total (a cell of the group with coefficient -1, or a figure published
elsewhere). Written in the hidden cells only, these equations form a matrix
``A`` (relations x hidden cells). A hidden cell is determined exactly when its
unit vector lies in the row space of ``A``; otherwise some change of the hidden
values keeps every published figure.

Two routes give the same answer:

* **Graphic** (the common case: two-way tables with their margins). When every
  hidden cell is in at most two equations, all coefficients are +-1, and the
  equations can be negated so that each cell has +1 in one and -1 in the other
  (the signed graph is *balanced*), ``A`` is the incidence matrix of a graph:
  equations are nodes, hidden cells are edges (a cell in one equation joins a
  shared ground node; adding the ground row, minus the sum of all rows, leaves
  the row space unchanged). The unit vector of an edge lies in the row space of
  an incidence matrix exactly when the edge is a *bridge* (on no cycle), found
  in linear time by Tarjan's algorithm.
* **Dense** (anything else, e.g. three-way tables): per connected component,
  an economical SVD; the row-space projector ``V_r V_r^T`` has a 1 on its
  diagonal exactly for determined cells.

Written by hand (with numba for the bridge search) because the graph libraries
at hand either lack bridges on multigraphs (scipy) or run in pure Python
(networkx), and a national table has hundreds of thousands of hidden cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["SumSystem", "determined_cells"]


@dataclass(frozen=True)
class SumSystem:
    """Sum relations of a table as memberships sorted by relation.

    ``rel[i]`` is the relation of membership ``i``, ``cell[i]`` the table row and
    ``coef[i]`` its coefficient (+1, or -1 for a group's own total cell).
    Relations are numbered group by group: those of sum group ``k`` are
    ``group_start[k] <= rel < group_start[k + 1]``. ``rel_start`` indexes the
    memberships of each relation (so those of sum group ``k`` are
    ``rel_start[group_start[k]]:rel_start[group_start[k + 1]]``);
    ``by_cell[cell_start[j]:cell_start[j + 1]]`` are those of cell ``j``.
    """

    rel: np.ndarray
    cell: np.ndarray
    coef: np.ndarray
    n_rel: int
    n_cell: int
    group_start: np.ndarray
    rel_start: np.ndarray
    by_cell: np.ndarray
    cell_start: np.ndarray

    @classmethod
    def build(cls, rel: np.ndarray, cell: np.ndarray, coef: np.ndarray, n_rel: int,
              n_cell: int, group_start: np.ndarray) -> SumSystem:
        """Assemble the system from memberships already sorted by relation."""
        by_cell = np.argsort(cell, kind="stable")
        return cls(rel=rel, cell=cell, coef=coef, n_rel=n_rel, n_cell=n_cell,
                   group_start=group_start,
                   rel_start=np.searchsorted(rel, np.arange(n_rel + 1)), by_cell=by_cell,
                   cell_start=np.searchsorted(cell[by_cell], np.arange(n_cell + 1)))


def determined_cells(
    system: SumSystem, hidden: np.ndarray, dirty: np.ndarray | None = None, *, dense: bool = False
) -> np.ndarray:
    """Rows of hidden cells that the published totals determine exactly (sorted).

    ``hidden`` is a boolean mask over the table's rows. ``dirty`` (a mask, or
    None for all) limits the dense route to components holding a dirty cell:
    components without one are unchanged since the last audit. ``dense=True``
    forces the dense route everywhere (for tests).
    """
    keep = hidden[system.cell]
    rel, cell, coef = system.rel[keep], system.cell[keep], system.coef[keep]
    if rel.size == 0:
        return np.zeros(0, np.int64)
    rels, r = np.unique(rel, return_inverse=True)
    cells, c = np.unique(cell, return_inverse=True)
    n_r, n_c = rels.size, cells.size
    # connected components of the bipartite relation-cell graph
    graph = coo_matrix((np.ones(r.size), (r, c + n_r)), shape=(n_r + n_c, n_r + n_c))
    _, comp = connected_components(graph, directed=False)
    rel_comp, cell_comp = comp[:n_r], comp[n_r:]
    n_comp = int(comp.max()) + 1

    graphic = np.ones(n_comp, bool)
    if not dense:
        deg = np.bincount(c, minlength=n_c)
        graphic[cell_comp[deg > 2]] = False
        graphic[rel_comp[r[np.abs(coef) != 1.0]]] = False
        graphic &= _balanced(r, c, coef, deg, rel_comp, n_r, n_comp)
    else:
        graphic[:] = False

    out = []
    if graphic.any():
        sel = graphic[cell_comp[c]]
        out.append(cells[_bridge_cells(r[sel], c[sel], n_r, n_c)])
    todo = ~graphic
    if dirty is not None:
        touched = np.zeros(n_comp, bool)
        touched[cell_comp[dirty[cells]]] = True
        todo &= touched
    if todo.any():
        out.append(cells[_dense_determined(r, c, coef, rel_comp, cell_comp, todo)])
    return np.sort(np.concatenate(out)) if out else np.zeros(0, np.int64)


def _pairs(r: np.ndarray, c: np.ndarray, deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For cells in two relations: indices of their first and second membership."""
    order = np.argsort(c, kind="stable")
    two = deg[c[order]] == 2
    idx = order[two]
    return idx[0::2], idx[1::2]


def _balanced(r: np.ndarray, c: np.ndarray, coef: np.ndarray, deg: np.ndarray,
              rel_comp: np.ndarray, n_r: int, n_comp: int) -> np.ndarray:
    """Per component: can the relations be negated so each cell has +1 and -1?

    Signed double cover: relation ``u`` becomes nodes ``u+`` and ``u-``; a cell
    in ``u`` (coefficient a) and ``v`` (b) needs ``s_u s_v = -a b``. The signs
    exist exactly when no ``u+`` is connected to its own ``u-``.
    """
    first, second = _pairs(r, c, deg)
    u, v = r[first], r[second]
    flip = coef[first] * coef[second] > 0  # s_u = -s_v: join u+ with v-
    a = np.concatenate([u, u + n_r])
    b = np.concatenate([np.where(flip, v + n_r, v), np.where(flip, v, v + n_r)])
    cover = coo_matrix((np.ones(a.size), (a, b)), shape=(2 * n_r, 2 * n_r))
    _, lab = connected_components(cover, directed=False)
    ok = np.ones(n_comp, bool)
    ok[rel_comp[lab[:n_r] == lab[n_r:]]] = False
    return ok


def _bridge_cells(r: np.ndarray, c: np.ndarray, n_r: int, n_c: int) -> np.ndarray:
    """Local indices of cells that are bridges of the relation graph (+ ground node)."""
    deg = np.bincount(c, minlength=n_c)
    ground = n_r
    one = np.flatnonzero(deg[c] == 1)
    first, second = _pairs(r, c, deg)
    eu = np.concatenate([r[one], r[first]]).astype(np.int64)
    ev = np.concatenate([np.full(one.size, ground, np.int64), r[second]]).astype(np.int64)
    ecell = np.concatenate([c[one], c[first]])
    is_bridge = _bridges(n_r + 1, eu, ev)
    return np.sort(ecell[is_bridge])


@njit(cache=True)
def _bridges(n: int, eu: np.ndarray, ev: np.ndarray) -> np.ndarray:  # pragma: no cover - jit
    """Bridges of an undirected multigraph (iterative Tarjan, parallel edges allowed)."""
    m = eu.size
    start = np.zeros(n + 1, np.int64)
    for e in range(m):
        start[eu[e] + 1] += 1
        start[ev[e] + 1] += 1
    for i in range(n):
        start[i + 1] += start[i]
    fill = start[:n].copy()
    adj_node = np.empty(2 * m, np.int64)
    adj_edge = np.empty(2 * m, np.int64)
    for e in range(m):
        a, b = eu[e], ev[e]
        adj_node[fill[a]] = b
        adj_edge[fill[a]] = e
        fill[a] += 1
        adj_node[fill[b]] = a
        adj_edge[fill[b]] = e
        fill[b] += 1
    disc = np.full(n, -1, np.int64)
    low = np.zeros(n, np.int64)
    nxt = np.zeros(n, np.int64)
    via = np.full(n, -1, np.int64)  # edge to the DFS parent
    stack = np.empty(n, np.int64)
    out = np.zeros(m, np.bool_)
    t = 0
    for s in range(n):
        if disc[s] >= 0:
            continue
        disc[s] = t
        low[s] = t
        t += 1
        nxt[s] = start[s]
        sp = 0
        stack[0] = s
        while sp >= 0:
            u = stack[sp]
            if nxt[u] < start[u + 1]:
                k = nxt[u]
                nxt[u] += 1
                e = adj_edge[k]
                if e == via[u]:
                    continue
                w = adj_node[k]
                if disc[w] < 0:
                    via[w] = e
                    disc[w] = t
                    low[w] = t
                    t += 1
                    nxt[w] = start[w]
                    sp += 1
                    stack[sp] = w
                elif disc[w] < low[u]:
                    low[u] = disc[w]
            else:
                sp -= 1
                if sp >= 0:
                    p = stack[sp]
                    if low[u] < low[p]:
                        low[p] = low[u]
                    if low[u] > disc[p]:
                        out[via[u]] = True
    return out


def _dense_determined(r: np.ndarray, c: np.ndarray, coef: np.ndarray, rel_comp: np.ndarray,
                      cell_comp: np.ndarray, todo: np.ndarray) -> np.ndarray:
    """Local indices of determined cells in the components ``todo`` (economical SVD)."""
    found = []
    mem_comp = cell_comp[c]
    sel = np.flatnonzero(todo[mem_comp])
    order = sel[np.argsort(mem_comp[sel], kind="stable")]
    cuts = np.flatnonzero(np.diff(mem_comp[order])) + 1
    for part in np.split(order, cuts):
        rows, ri = np.unique(r[part], return_inverse=True)
        cols, ci = np.unique(c[part], return_inverse=True)
        sub = np.zeros((rows.size, cols.size))
        sub[ri, ci] = coef[part]
        _, sing, vt = np.linalg.svd(sub, full_matrices=False)
        rank = int((sing > 1e-9 * max(1.0, float(sing.max(initial=0.0)))).sum())
        proj_diag = (vt[:rank] ** 2).sum(axis=0)
        found.append(cols[proj_diag > 1 - 1e-9])
    return np.concatenate(found) if found else np.zeros(0, np.int64)
