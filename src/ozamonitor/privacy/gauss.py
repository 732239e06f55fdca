"""Sparse Gaussian elimination over the publication's model matrix.

Two uses, both on the columns of the model matrix (one column per published
cell: the set of *inner cells* it adds up):

* :func:`gauss_suppress` -- secondary suppression in the manner of SSB's
  ``GaussSuppression`` (Langsrud 2024): the cells are visited in the order in
  which one would most like to publish them; a cell is published unless its
  column, added to the span of the columns published so far, would put a
  primary cell's column in that span (the cell would then be computable from
  published cells). Such a cell is suppressed instead (a *secondary* cell).
* :func:`linear_relations` -- a basis of every linear identity between the
  published cells (the left null space of the model matrix): the relations an
  attacker can use. Visiting the finest cells first, every column that reduces
  to zero gives one identity (e.g. ``nation = sum of gemeenten``,
  ``Inspectie AV = OCW 2016 AV``, ``empty cell = 0``).

Vectors are Python dicts ``{inner cell: coefficient}``; the basis keeps one
pivot per vector and reduction eliminates pivots in the order they were added,
so a vector never reintroduces an earlier pivot. Pivots are chosen
Markowitz-style (the entry that the fewest cells still to be visited contain),
which keeps fill-in low for hierarchies.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

_EPS = 1e-9

Vector = dict[int, float]


class _Basis:
    """An echelon basis of a span of sparse vectors (optionally tracking combinations)."""

    def __init__(self, n_inner: int, track: bool = False) -> None:
        self.vec: dict[int, Vector] = {}      # pivot -> vector (pivot entry 1)
        self.combo: dict[int, Vector] = {}    # pivot -> combination of cells (when tracking)
        self.time: dict[int, int] = {}        # pivot -> order of addition
        self.track = track
        self._t = 0

    def reduce(self, v: Vector, combo: Vector | None = None) -> None:
        """Reduce ``v`` in place against the basis (and ``combo`` alongside)."""
        heap = [(self.time[k], k) for k in v if k in self.vec]
        heapq.heapify(heap)
        while heap:
            _, k = heapq.heappop(heap)
            a = v.get(k)
            if a is None:
                continue
            b = self.vec[k]
            for key, val in b.items():
                nv = v.get(key, 0.0) - a * val
                if abs(nv) < _EPS:
                    v.pop(key, None)
                else:
                    if key not in v and key in self.vec:
                        heapq.heappush(heap, (self.time[key], key))
                    v[key] = nv
            v.pop(k, None)
            if combo is not None:
                for key, val in self.combo[k].items():
                    nv = combo.get(key, 0.0) - a * val
                    if abs(nv) < _EPS:
                        combo.pop(key, None)
                    else:
                        combo[key] = nv

    def add(self, v: Vector, pivot: int, combo: Vector | None = None) -> None:
        a = v[pivot]
        self.vec[pivot] = {k: x / a for k, x in v.items()}
        if combo is not None:
            self.combo[pivot] = {k: x / a for k, x in combo.items()}
        self.time[pivot] = self._t
        self._t += 1


def _columns(matrix: sp.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, indices) of the model matrix ``cells x inner`` as rows per cell."""
    m = sp.csr_matrix(matrix)
    m.sort_indices()
    return m.indptr, m.indices


def _remaining(indptr: np.ndarray, indices: np.ndarray, n_inner: int) -> np.ndarray:
    return np.bincount(indices, minlength=n_inner).astype(np.int64)


def gauss_suppress(matrix: sp.spmatrix, primary: np.ndarray, order: Sequence[int],
                   forced_public: np.ndarray | None = None) -> np.ndarray:
    """Secondary suppression by Gaussian elimination.

    Parameters
    ----------
    matrix:
        Model matrix, shape ``(n_cells, n_inner)``: row ``j`` has a 1 for every
        inner cell that published cell ``j`` adds up.
    primary:
        Boolean mask of primary-suppressed cells.
    order:
        The non-primary cells, most wanted published first.
    forced_public:
        Cells that are published whatever happens (e.g. published by an earlier
        run); they are visited first.

    Returns
    -------
    Boolean mask of all suppressed cells (primary and secondary).
    """
    indptr, indices = _columns(matrix)
    n_inner = matrix.shape[1]
    remaining = _remaining(indptr, indices, n_inner)
    basis = _Basis(n_inner)
    supp = primary.copy()
    # residuals of primary columns modulo the published span, with an inverted index
    resid: dict[int, Vector] = {}
    holders: dict[int, set[int]] = {}
    for p in np.flatnonzero(primary).tolist():
        vec = {int(k): 1.0 for k in indices[indptr[p]:indptr[p + 1]]}
        resid[p] = vec
        for k in vec:
            holders.setdefault(k, set()).add(p)
    seq = list(order)
    if forced_public is not None:
        first = [int(j) for j in np.flatnonzero(forced_public)]
        fs = set(first)
        seq = first + [j for j in seq if j not in fs]
        forced = fs
    else:
        forced = set()
    for j in seq:
        cols = indices[indptr[j]:indptr[j + 1]]
        remaining[cols] -= 1
        if supp[j] and j not in forced:
            continue
        v = {int(k): 1.0 for k in cols}
        basis.reduce(v)
        if not v:
            continue  # already computable from published cells: publishing adds nothing
        pivot = min(v, key=lambda k: (remaining[k], k))
        a = v[pivot]
        hit = holders.get(pivot, set())
        if j not in forced and any(_proportional(resid[p], v, pivot, a) for p in hit):
            supp[j] = True
            continue
        supp[j] = False
        basis.add(v, pivot)
        for p in list(hit):
            _eliminate(resid, holders, p, basis.vec[pivot], pivot)
    return supp


def _proportional(r: Vector, v: Vector, pivot: int, a: float) -> bool:
    """Whether ``r - (r[pivot]/a) v`` is zero (r would become computable)."""
    if len(r) != len(v):
        return False
    f = r[pivot] / a
    for k, x in v.items():
        y = r.get(k)
        if y is None or abs(y - f * x) > 1e-7 * max(1.0, abs(y)):
            return False
    return True


def _eliminate(resid: dict[int, Vector], holders: dict[int, set[int]], p: int,
               b: Vector, pivot: int) -> None:
    r = resid[p]
    a = r.get(pivot)
    if a is None:
        return
    for k, x in b.items():
        nv = r.get(k, 0.0) - a * x
        if abs(nv) < _EPS:
            if k in r:
                del r[k]
                holders[k].discard(p)
        else:
            if k not in r:
                holders.setdefault(k, set()).add(p)
            r[k] = nv


def linear_relations(matrix: sp.spmatrix) -> sp.csr_matrix:
    """A basis of the linear identities between published cells.

    Returns a sparse matrix ``R`` of shape ``(n_relations, n_cells)`` with
    ``R @ values == 0`` for every possible content of the inner cells. Cells
    are visited from the finest (fewest inner cells) to the coarsest, so the
    identities come out in their natural form (a total minus its parts).
    Coefficients are scaled so that the largest is 1 and then rounded to
    integers when they are (near) integral multiples.
    """
    indptr, indices = _columns(matrix)
    n_cells, n_inner = matrix.shape
    size = np.diff(indptr)
    order = np.lexsort((np.arange(n_cells), size))
    remaining = _remaining(indptr, indices, n_inner)
    basis = _Basis(n_inner, track=True)
    # empty cells (structural zeros) are one relation each: ``cell == 0``
    empty = order[size[order] == 0]
    rows: list[int] = list(range(empty.size))
    cols: list[int] = empty.tolist()
    vals: list[float] = [1.0] * empty.size
    n_rel = empty.size
    for j in order[size[order] > 0].tolist():
        ks = indices[indptr[j]:indptr[j + 1]]
        remaining[ks] -= 1
        v = {int(k): 1.0 for k in ks}
        combo = {j: 1.0}
        basis.reduce(v, combo)
        if not v:
            coef = _integral(combo)
            for c, x in coef.items():
                rows.append(n_rel)
                cols.append(c)
                vals.append(x)
            n_rel += 1
            continue
        pivot = min(v, key=lambda k: (remaining[k], k))
        basis.add(v, pivot, combo)
    return sp.csr_matrix((vals, (rows, cols)), shape=(n_rel, n_cells))


def _integral(combo: Vector) -> Vector:
    """Scale a relation to small integers when its coefficients allow it."""
    xs = np.array(list(combo.values()))
    smallest = np.min(np.abs(xs))
    scaled = xs / smallest
    if np.allclose(scaled, np.round(scaled), atol=1e-6):
        xs = np.round(scaled)
    return {c: float(x) for c, x in zip(combo.keys(), xs, strict=True)}
