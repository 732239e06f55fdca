"""One disclosure system per publication: every table published together, protected jointly.

The publication is modelled as **one model matrix**. The caller describes the
finest cross-classification of the persons counted -- the *inner cells* (for
thuiszitter counts: period x gemeente x school x SWV x sector x the child's
membership pattern across all definitions and categories) -- and, for every
published table, which inner cells each of its cells adds up. Every relation
between published cells (totals, hierarchies such as school -> SWV -> nation,
identities between definitions) then follows from the matrix exactly; nothing
is declared by hand. Inequalities that an attacker knows from elsewhere (e.g.
from the definitions' rules: one definition never counts more than another)
are not in the matrix; they are declared with :meth:`Publication.add_inequalities`
and join the attacker's LP as ``<=`` rows.

>>> pub = Publication(inner_counts)                      # doctest: +SKIP
>>> pub.add_table(TableSpec("by_gemeente", ("definition", "category", "region", "period")),
...               membership)                             # doctest: +SKIP
>>> result = pub.protect(Protection(threshold=10))        # doctest: +SKIP
>>> result.rendered("by_gemeente")                        # doctest: +SKIP

Protection (:meth:`Publication.protect`):

1. **primary**: cells with ``0 < count < threshold``;
2. **secondary** by Gaussian elimination (:func:`~ozamonitor.privacy.gauss.gauss_suppress`):
   cells are published from the most to the least wanted (table ``priority``,
   then larger counts first) unless that would make a suppressed primary cell
   computable;
3. **interval check** (:mod:`ozamonitor.privacy.attack`): for every primary
   cell the attacker's interval (LP over all relations, non-negativity,
   integrality by rounding) must be at least ``width`` wide (default
   ``threshold - 1``: the cell could be anywhere in ``0..threshold-1``). The
   same holds for every suppressed cell that the attacker cannot show to be at
   least ``threshold`` (with one symbol the attacker cannot tell primary from
   secondary cells, and :func:`too_narrow` is checkable from the published
   folder alone). Where it does not hold, the smallest published cell sharing a relation with it is
   suppressed too and the component is audited again.

Every suppressed cell is shown with one symbol, ``x``. Cells whose inner set is
empty are zeros in every possible table (*structural*) and are shown as 0;
the attacker model assumes the attacker knows every empty combination, which
is more than a shown 0 tells, so the guarantee is conservative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import scipy.sparse as sp

from ozamonitor.errors import DisclosureRefusedError
from ozamonitor.privacy.attack import Intervals, attacker_intervals
from ozamonitor.privacy.gauss import gauss_suppress, linear_relations

__all__ = [
    "SYMBOL",
    "Protected",
    "Protection",
    "Publication",
    "TableSpec",
]

#: The one symbol of every suppressed cell.
SYMBOL = "x"
COUNT = "count"
SUPPRESSION = "suppression"


@dataclass(frozen=True)
class TableSpec:
    """A published table: its name (file name), dimension columns and labels.

    ``priority``: tables with a higher priority keep their cells published
    first (e.g. the national table above the per-gemeente one).
    """

    name: str
    dims: tuple[str, ...]
    title: str = ""
    unit: str = "children"
    description: str = ""
    priority: int = 0

    def meta(self) -> dict[str, object]:
        return {"name": self.name, "file": f"tables/{self.name}.csv", "title": self.title,
                "unit": self.unit, "dims": list(self.dims), "measure": COUNT,
                "description": self.description, "priority": self.priority}


@dataclass(frozen=True)
class Protection:
    """Settings: primary threshold and the required width of a primary cell's interval.

    ``width=None`` means ``threshold - 1`` (a primary cell could be anywhere in
    ``0..threshold-1``).
    """

    threshold: int = 10
    width: int | None = None
    max_rounds: int = 200

    @property
    def required_width(self) -> int:
        return self.threshold - 1 if self.width is None else self.width

    def meta(self) -> dict[str, object]:
        return {"threshold": self.threshold, "width": self.required_width,
                "method": "gauss-elimination + LP interval check (highspy)",
                "integrality": "LP relaxation, bounds rounded inward"}


@dataclass
class _Table:
    spec: TableSpec
    cells: pl.DataFrame  # dims, in published order
    offset: int


@dataclass
class Publication:
    """Tables built from one set of inner cells, to be protected together.

    Parameters
    ----------
    inner_counts:
        Count of every inner cell (index = inner id), non-negative integers.
    """

    inner_counts: np.ndarray
    tables: list[_Table] = field(default_factory=list)
    _rows: list[np.ndarray] = field(default_factory=list)
    _cols: list[np.ndarray] = field(default_factory=list)
    _ineq: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.inner_counts = np.asarray(self.inner_counts, np.int64)
        if (self.inner_counts < 0).any():
            raise ValueError("inner cell counts must be non-negative")

    @property
    def n_cells(self) -> int:
        return sum(t.cells.height for t in self.tables)

    def add_table(self, spec: TableSpec, membership: pl.DataFrame,
                  grid: pl.DataFrame | None = None) -> None:
        """Add a table.

        Parameters
        ----------
        spec:
            Name and dimension columns.
        membership:
            Rows ``inner_id, *spec.dims``: inner cell ``inner_id`` is counted in
            the table's cell with those keys (an inner cell may be in several
            cells of one table, e.g. a child in two categories of a definition
            that is not exclusive).
        grid:
            All cells to list (zeros included), in display order; cells of
            ``membership`` outside it are appended, sorted.
        """
        if any(t.spec.name == spec.name for t in self.tables):
            raise ValueError(f"table {spec.name!r} added twice")
        dims = list(spec.dims)
        missing = [c for c in ["inner_id", *dims] if c not in membership.columns]
        if missing:
            raise ValueError(f"table {spec.name}: membership lacks column(s) {missing}")
        keys = membership.select(dims).unique()
        if grid is not None:
            cells = grid.select(dims).unique(maintain_order=True)
            extra = keys.join(cells, on=dims, how="anti").sort(dims)
            cells = pl.concat([cells, extra.cast(cells.schema)])
        else:
            cells = keys.sort(dims)
        offset = self.n_cells
        idx = cells.with_row_index("__cell")
        m = membership.select("inner_id", *dims).join(
            idx.with_columns(pl.col(c).cast(membership.schema[c]) for c in dims),
            on=dims, how="left", nulls_equal=True)
        self._rows.append(m["__cell"].to_numpy().astype(np.int64) + offset)
        self._cols.append(m["inner_id"].to_numpy().astype(np.int64))
        self.tables.append(_Table(spec, cells, offset))

    def cell_ids(self, name: str, keys: pl.DataFrame) -> np.ndarray:
        """Cell index (over all tables) of every row of ``keys`` in table ``name``
        (-1 where the table has no such cell)."""
        t = next((t for t in self.tables if t.spec.name == name), None)
        if t is None:
            raise KeyError(name)
        dims = list(t.spec.dims)
        idx = t.cells.with_row_index("__cell")
        m = keys.select(dims).with_columns(pl.col(c).cast(t.cells.schema[c]) for c in dims).join(
            idx, on=dims, how="left", nulls_equal=True, maintain_order="left")
        return np.where(m["__cell"].is_null().to_numpy(), -1,
                        m["__cell"].fill_null(0).to_numpy().astype(np.int64) + t.offset)

    def add_inequalities(self, smaller: np.ndarray, larger: np.ndarray) -> None:
        """Declare ``cell[smaller[i]] <= cell[larger[i]]`` (known to an attacker, e.g.
        from the definitions' rules). Pairs with a -1 are skipped; each pair must hold
        in the counts (a pair between periods has no inner cells in common, so the
        inner sets cannot show it)."""
        s, b = np.asarray(smaller, np.int64), np.asarray(larger, np.int64)
        ok = (s >= 0) & (b >= 0) & (s != b)
        s, b = s[ok], b[ok]
        m = self.matrix()
        values = np.asarray(m @ self.inner_counts, np.int64)
        size = np.diff(m.indptr)[s]
        bad = np.flatnonzero(values[s] > values[b])
        if bad.size:
            k = int(bad[0])
            raise ValueError(f"declared {self.describe(int(s[k]))} <= "
                             f"{self.describe(int(b[k]))} does not hold in the data")
        keep = size > 0  # an empty cell is a structural 0: the inequality says nothing
        self._ineq.append((s[keep], b[keep]))

    def inequalities(self) -> sp.csr_matrix:
        """Declared inequalities ``(n, n_cells)``: each row ``x_smaller - x_larger <= 0``."""
        s = np.concatenate([p[0] for p in self._ineq]) if self._ineq else np.zeros(0, np.int64)
        b = np.concatenate([p[1] for p in self._ineq]) if self._ineq else np.zeros(0, np.int64)
        pairs = np.unique(np.stack([s, b], axis=1), axis=0) if s.size else np.zeros((0, 2),
                                                                                   np.int64)
        r = np.repeat(np.arange(pairs.shape[0]), 2)
        return sp.csr_matrix((np.tile([1.0, -1.0], pairs.shape[0]), (r, pairs.ravel())),
                             shape=(pairs.shape[0], self.n_cells))

    def matrix(self) -> sp.csr_matrix:
        """The model matrix ``(n_cells, n_inner)``, 0/1."""
        rows = np.concatenate(self._rows) if self._rows else np.zeros(0, np.int64)
        cols = np.concatenate(self._cols) if self._cols else np.zeros(0, np.int64)
        m = sp.csr_matrix((np.ones(rows.size), (rows, cols)),
                          shape=(self.n_cells, self.inner_counts.size))
        m.data[:] = 1.0  # duplicate memberships count once
        return m

    def protect(self, protection: Protection | None = None,
                forced_public: np.ndarray | None = None,
                forced_hidden: np.ndarray | None = None) -> Protected:
        """Primary and secondary suppression with the interval check.

        ``forced_public`` / ``forced_hidden``: masks over all cells (in table
        order) of cells an earlier run published / suppressed (the ledger).
        """
        prot = protection or Protection()
        if prot.threshold < 1:
            raise ValueError("threshold must be at least 1")
        m = self.matrix()
        values = np.asarray(m @ self.inner_counts, np.int64)
        primary = (values > 0) & (values < prot.threshold)
        if forced_public is not None and (forced_public & primary).any():
            j = int(np.flatnonzero(forced_public & primary)[0])
            raise DisclosureRefusedError(
                f"{self.describe(j)}: published by an earlier run but now below the threshold")
        hidden_seed = primary | (forced_hidden if forced_hidden is not None else False)
        prio = np.concatenate([np.full(t.cells.height, t.spec.priority) for t in self.tables]
                              ) if self.tables else np.zeros(0)
        order = np.lexsort((np.arange(values.size), -values, -prio))
        order = order[~hidden_seed[order]]
        supp = gauss_suppress(m, hidden_seed, order.tolist(), forced_public)
        rel = linear_relations(m)
        ineq = self.inequalities()
        supp = _interval_rounds(rel, values, supp, prio, prot, forced_public, m, ineq)
        return Protected(self, values, primary, supp, rel, prot, ineq)

    def describe(self, j: int) -> str:
        """``table(key=value, ...)`` of cell ``j``."""
        t, row = self.locate(j)
        keys = ", ".join(f"{k}={v}" for k, v in t.cells.row(row, named=True).items())
        return f"{t.spec.name}({keys})"

    def locate(self, j: int) -> tuple[_Table, int]:
        for t in self.tables:
            if t.offset <= j < t.offset + t.cells.height:
                return t, j - t.offset
        raise IndexError(j)


def _interval_rounds(rel: sp.csr_matrix, values: np.ndarray, supp: np.ndarray,
                     prio: np.ndarray, prot: Protection,
                     forced_public: np.ndarray | None, m: sp.csr_matrix,
                     ineq: sp.csr_matrix | None = None) -> np.ndarray:
    """Suppress more cells until every small cell's interval is wide enough.

    ``ineq``: declared inequalities (rows ``<= 0``), used by the attacker and,
    like relations, to find cells to suppress next.

    Hiding a cell only widens the other intervals, so a round re-checks only
    the cells that were narrower than the width in the round before and the
    cells it has just hidden.
    """
    supp = supp.copy()
    nonempty = np.diff(m.indptr) > 0
    locked = forced_public if forced_public is not None else np.zeros(values.size, bool)
    links = rel if ineq is None or not ineq.shape[0] else sp.vstack([rel, ineq], format="csr")
    relc = links.tocsc()
    twin = _twins(m)
    check = supp.copy()
    for _ in range(prot.max_rounds):
        iv = attacker_intervals(rel, values, supp, targets=check, enough=prot.required_width,
                                inequalities=ineq)
        narrow = too_narrow(iv, supp, prot) & check
        if not narrow.any():
            return supp
        added = _complements(links, relc, narrow, supp, values, prio, nonempty & ~locked)
        if not added.any():
            p = int(np.flatnonzero(narrow)[0])
            raise DisclosureRefusedError(
                f"cell {p}: its attacker interval is [{iv.lower[p]:g}, {iv.upper[p]:g}] and "
                "no published cell related to it can be suppressed; publish fewer tables")
        added = np.isin(twin, twin[added])  # the same figure in every table
        supp |= added
        still = check & ~(np.nan_to_num(iv.width(), nan=0.0) >= prot.required_width)
        check = still | added
    raise DisclosureRefusedError("disclosure control did not converge "
                                 f"within {prot.max_rounds} rounds")


def _twins(m: sp.csr_matrix) -> np.ndarray:
    """For each cell, the first cell with the same inner cells (the same figure)."""
    first: dict[bytes, int] = {}
    out = np.empty(m.shape[0], np.int64)
    for j in range(m.shape[0]):
        key = m.indices[m.indptr[j]:m.indptr[j + 1]].tobytes()
        out[j] = first.setdefault(key, j) if key else j
    return out


def too_narrow(iv: Intervals, hidden: np.ndarray, prot: Protection) -> np.ndarray:
    """Suppressed cells that might be small (lower bound below the threshold) and
    whose attacker interval is narrower than the protection width.

    Only what an attacker can see decides: a primary cell always has a lower
    bound below the threshold, so it is always checked; a secondary cell that
    the attacker can show to be at least ``threshold`` is not a small count.
    """
    lower = np.nan_to_num(iv.lower, nan=0.0)
    width = np.nan_to_num(iv.width(), nan=np.inf)
    return hidden & (lower < prot.threshold) & (width < prot.required_width)


def _complements(rel: sp.csr_matrix, relc: sp.csc_matrix, narrow: np.ndarray,
                 hidden: np.ndarray, values: np.ndarray, prio: np.ndarray,
                 allowed: np.ndarray) -> np.ndarray:
    """Cells to suppress next for the ``narrow`` cells (a mask).

    For each narrow cell, the published cell of the lowest table priority
    with the smallest non-zero count in a relation holding it; a narrow cell
    that shares a relation with a cell chosen earlier in this round waits for
    the next round (that choice may widen it too), so one round adds few cells.
    """
    a = abs(rel).tocsr()
    a.data[:] = 1.0
    nidx = np.flatnonzero(narrow)
    co = (a.T @ a[:, nidx]).tocsc()  # cells x narrow: share a relation
    chosen = np.zeros(values.size, bool)
    for k, p in enumerate(nidx.tolist()):
        cand = co.indices[co.indptr[k]:co.indptr[k + 1]]
        if chosen[cand].any():
            continue
        ok = cand[~hidden[cand] & allowed[cand]]
        if ok.size:
            c = int(ok[np.lexsort((ok, values[ok], values[ok] == 0, prio[ok]))[0]])
        else:
            c = _complement(rel, relc, p, hidden | chosen, values, allowed)
        if c >= 0:
            chosen[c] = True
    return chosen


def _complement(rel: sp.csr_matrix, relc: sp.csc_matrix, p: int, hidden: np.ndarray,
                values: np.ndarray, allowed: np.ndarray) -> int:
    """The published cell with the smallest count in a relation holding ``p``
    (or, failing that, in a relation holding a hidden cell linked to ``p``)."""
    seen_rel: set[int] = set()
    frontier = [p]
    seen_cell = {p}
    while frontier:
        rels = set()
        for c in frontier:
            rels.update(relc.indices[relc.indptr[c]:relc.indptr[c + 1]].tolist())
        rels -= seen_rel
        if not rels:
            return -1
        seen_rel |= rels
        cand = np.unique(np.concatenate([rel.indices[rel.indptr[r]:rel.indptr[r + 1]]
                                         for r in rels]))
        ok = cand[~hidden[cand] & allowed[cand]]
        if ok.size:
            nz = ok[values[ok] > 0]
            pool = nz if nz.size else ok
            return int(pool[np.lexsort((pool, values[pool]))[0]])
        nxt = [int(c) for c in cand if hidden[c] and c not in seen_cell]
        seen_cell.update(nxt)
        frontier = nxt
    return -1


@dataclass
class Protected:
    """The result of :meth:`Publication.protect`."""

    publication: Publication
    values: np.ndarray
    primary: np.ndarray
    suppressed: np.ndarray
    relations: sp.csr_matrix
    protection: Protection
    inequalities: sp.csr_matrix | None = None

    def _slice(self, name: str) -> tuple[_Table, slice]:
        for t in self.publication.tables:
            if t.spec.name == name:
                return t, slice(t.offset, t.offset + t.cells.height)
        raise KeyError(name)

    @property
    def table_names(self) -> list[str]:
        return [t.spec.name for t in self.publication.tables]

    def table(self, name: str) -> pl.DataFrame:
        """Dims + ``count`` (null where suppressed) + ``suppression`` (primary/secondary/null)."""
        t, s = self._slice(name)
        v, hid, prim = self.values[s], self.suppressed[s], self.primary[s]
        return t.cells.with_columns(
            pl.Series(COUNT, np.where(hid, 0, v), pl.Int64),
            pl.Series(SUPPRESSION, [("primary" if a else "secondary") if b else None
                                    for a, b in zip(prim.tolist(), hid.tolist(), strict=True)],
                      pl.String),
        ).with_columns(pl.when(pl.col(SUPPRESSION).is_null()).then(pl.col(COUNT))
                       .alias(COUNT))

    def unprotected(self, name: str) -> pl.DataFrame:
        """The true counts (never publish these)."""
        t, s = self._slice(name)
        return t.cells.with_columns(pl.Series(COUNT, self.values[s], pl.Int64))

    def rendered(self, name: str) -> pl.DataFrame:
        """Dims + ``count`` as text: the number, or ``x`` when suppressed."""
        df = self.table(name)
        return df.with_columns(
            pl.when(pl.col(SUPPRESSION).is_null()).then(pl.col(COUNT).cast(pl.String))
            .otherwise(pl.lit(SYMBOL)).alias(COUNT)).drop(SUPPRESSION)

    def intervals(self) -> Intervals:
        """Attacker intervals of every suppressed cell."""
        return attacker_intervals(self.relations, self.values, self.suppressed,
                                  inequalities=self.inequalities)

    def audit(self) -> pl.DataFrame:
        """One row per suppressed cell: table, row, lower, upper, primary, ok
        (ok: the cell is shown to be at least the threshold, or its interval is wide enough)."""
        iv = self.intervals()
        rows = []
        for t in self.publication.tables:
            s = slice(t.offset, t.offset + t.cells.height)
            idx = np.flatnonzero(self.suppressed[s])
            rows.append(pl.DataFrame({
                "table": [t.spec.name] * idx.size, "row": idx,
                "lower": iv.lower[s][idx], "upper": iv.upper[s][idx],
                "primary": self.primary[s][idx]},
                schema={"table": pl.String, "row": pl.Int64, "lower": pl.Float64,
                        "upper": pl.Float64, "primary": pl.Boolean}))
        out = pl.concat(rows) if rows else pl.DataFrame()
        w, th = self.protection.required_width, self.protection.threshold
        return out.with_columns(
            ok=(pl.col("lower") >= th) | ((pl.col("upper") - pl.col("lower")) >= w))


def cell_index(tables: Sequence[tuple[str, pl.DataFrame]]) -> dict[tuple[str, tuple], int]:
    """``(table, keys) -> cell index`` over tables in order (helper for ledgers)."""
    out: dict[tuple[str, tuple], int] = {}
    off = 0
    for name, cells in tables:
        for i, row in enumerate(cells.iter_rows()):
            out[(name, tuple(str(x) for x in row))] = off + i
        off += cells.height
    return out
