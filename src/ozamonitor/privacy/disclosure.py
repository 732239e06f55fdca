"""Disclosure control for every published table (*onthullingsbeheersing*).

Rules (the CBS Remote Access output rules, simplified to count tables):

* **Primary suppression**: a cell that counts more than 0 and fewer than
  ``threshold`` (default 10) persons is suppressed. Zero cells are published.
* **Secondary suppression**: cells that add up to a published total form a
  *sum group* (e.g. the categories of a definition within one region, which add
  up to the row ``total``; or the regions of one definition and category, which
  add up to the national figure). A group with exactly one suppressed cell
  would let a reader recover it by subtraction, so one more cell of that group
  is suppressed: the smallest non-zero cell (a zero cell only when no non-zero
  cell is left). Because a new suppression can break another group, this is
  repeated until no group has exactly one suppressed cell (a fixed point; it
  terminates because cells are only ever added).
* **Audit**: groups can also expose a cell *together* (two blocks of hidden
  cells joined by one cell). At the fixed point the published totals are
  written as linear equations in the hidden cells; any hidden cell that they
  determine exactly gets one more complement cell, and the rounds repeat
  (:mod:`ozamonitor.privacy.audit`).

The functions work on *tidy* frames: dimension columns plus one value column.
Sum groups are given as lists of dimension columns: all cells with equal values
in those columns form one group. A group whose total is itself a row of the
table says which row with :class:`SumGroup`. Example for a table with columns
``definition, category, region, count`` where ``category == "total"`` is the
sum of the other categories::

    suppress(df, "count", threshold=10,
             sum_groups=[SumGroup(["definition", "region"],         # categories -> total
                                  total=pl.col("category") == "total"),
                         ["definition", "category"]])   # regions -> nation (published)

:func:`suppress` keeps the numbers (null where suppressed) and adds a
``suppression`` column (``"primary"``, ``"secondary"`` or null);
:func:`render` turns the value column into display strings (``"x"`` for
every suppressed cell).

For tables published together (all definitions, region levels and periods of
a count) use :mod:`ozamonitor.privacy.publication` instead: one model matrix,
secondary suppression by Gaussian elimination and an attacker-interval check.
Use :func:`publish` for :func:`suppress` and :func:`render` together.

No rounding or perturbation is applied; this module does not protect
person-level files (those are never published).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from ozamonitor.privacy.audit import SumSystem, determined_cells

#: Default minimum number of persons in a published cell.
DEFAULT_THRESHOLD = 10

SUPPRESSION_COL = "suppression"


class DisclosureError(ValueError):
    """The frame cannot be disclosure-controlled as asked (missing column, ...)."""


@dataclass(frozen=True)
class SumGroup:
    """Cells sharing the values of ``by`` add up to a total.

    ``total`` (a boolean polars expression) marks the rows that hold their own
    group's total, e.g. ``pl.col("category") == "total"``: at most one per
    group, equal to the sum of the group's other cells. Without it (or in
    groups where it marks no row) the total is published elsewhere, e.g. the
    national figure for the regions of one category. A plain list of columns
    ``[...]`` is ``SumGroup([...])``.
    """

    by: Sequence[str]
    total: pl.Expr | None = field(default=None, compare=False)


def _as_group(g: Sequence[str] | SumGroup) -> SumGroup:
    return g if isinstance(g, SumGroup) else SumGroup(list(g))


def _to_polars(df: Any) -> pl.DataFrame:
    if isinstance(df, pl.LazyFrame):
        return df.collect()
    if isinstance(df, pl.DataFrame):
        return df
    try:  # pandas
        return pl.from_pandas(df)
    except Exception as e:  # pragma: no cover - defensive
        raise DisclosureError(f"expected a polars or pandas frame, got {type(df)!r}") from e


def primary_mask(values: pl.Expr, threshold: int = DEFAULT_THRESHOLD) -> pl.Expr:
    """Cells that must be suppressed themselves: ``0 < value < threshold``."""
    return (values > 0) & (values < threshold)


def suppress(
    df: Any,
    value: str = "count",
    *,
    threshold: int = DEFAULT_THRESHOLD,
    sum_groups: Sequence[Sequence[str] | SumGroup] | None = None,
    max_iterations: int = 1000,
) -> pl.DataFrame:
    """Apply primary and secondary suppression to a tidy count table.

    Parameters
    ----------
    df:
        polars or pandas frame with dimension columns and a numeric ``value`` column.
    value:
        The column with counts (integers, or fractional counts).
    threshold:
        Cells with ``0 < value < threshold`` are suppressed (default 10).
    sum_groups:
        Lists of dimension columns (or :class:`SumGroup` objects); cells sharing
        values in such a list add up to a published total. When that total is
        itself a row of the group (e.g. a ``total`` category), say so with
        ``SumGroup(by, total=expr)``: the audit must know which cell it is. An
        empty list means all rows form one group. None: primary suppression only.
    max_iterations:
        Safety bound on the fixed-point loop.

    Returns
    -------
    The frame in its original row order with ``value`` set to null where
    suppressed and a ``suppression`` column (``"primary"``, ``"secondary"`` or
    null). Values that are not suppressed are unchanged.
    """
    frame = _to_polars(df)
    if threshold < 1:
        raise DisclosureError(f"threshold must be at least 1, got {threshold}")
    groups = [_as_group(g) for g in (sum_groups or [])]
    missing = [c for c in [value, *[c for g in groups for c in g.by]]
               if c not in frame.columns]
    if missing:
        raise DisclosureError(
            f"cannot suppress: column(s) {', '.join(sorted(set(missing)))} not in the table "
            f"(columns: {', '.join(frame.columns)})"
        )
    if not frame.schema[value].is_numeric():
        raise DisclosureError(f"value column {value!r} must be numeric, is {frame.schema[value]}")

    vals = frame[value].cast(pl.Float64).fill_null(0.0).to_numpy()
    isnull = frame[value].is_null().to_numpy()
    primary = frame.select(primary_mask(pl.col(value), threshold).fill_null(False)
                           ).to_series().to_numpy().copy()
    supp = primary.copy()
    system = _sum_system(frame, groups, vals)
    # smallest non-zero visible cell first; zero cells only when nothing else is left
    rank = np.lexsort((np.arange(frame.height), vals, vals == 0))
    pref = np.empty(frame.height, np.int64)
    pref[rank] = np.arange(frame.height)
    pref[isnull] = -1  # never a complement: nothing to hide

    dirty: np.ndarray | None = None  # cells hidden since the last audit (None: audit all)
    for _ in range(max_iterations):
        changed = False
        for k in range(len(groups)):
            new = _one_cell_complements(system, k, supp, pref)
            if new.size:
                supp[new] = True
                changed = True
                if dirty is not None:
                    dirty[new] = True
        if not changed:
            # Fixed point of the one-cell rule; now check the system as a whole.
            new = _audit_complements(system, supp, pref, dirty)
            if not new.size:
                break
            supp[new] = True
            dirty = np.zeros(frame.height, bool)
            dirty[new] = True
    else:  # pragma: no cover - cannot happen: each round adds a cell or stops
        raise DisclosureError("secondary suppression did not reach a fixed point")

    hidden, prim = pl.Series(supp), pl.Series(primary)
    return frame.with_columns(
        pl.when(hidden).then(None).otherwise(pl.col(value)).alias(value),
        pl.when(prim).then(pl.lit("primary", pl.String))
        .when(hidden).then(pl.lit("secondary", pl.String))
        .otherwise(pl.lit(None, pl.String))
        .alias(SUPPRESSION_COL),
    )


def _sum_system(frame: pl.DataFrame, groups: list[SumGroup], vals: np.ndarray) -> SumSystem:
    """The sum relations of ``groups`` over ``frame`` (groups of one cell carry none).

    Within a group the cells add up to a total: the group's own total cell
    (coefficient -1) or a total published elsewhere (all coefficients +1).
    """
    rels, cells, coefs, group_start = [], [], [], [0]
    n_rel = 0
    for g in groups:
        if g.by:
            gid = frame.select(pl.struct(list(g.by)).rank("dense").cast(pl.Int64) - 1
                               ).to_series().to_numpy()
        else:
            gid = np.zeros(frame.height, np.int64)
        is_tot = np.zeros(frame.height, bool)
        if g.total is not None:
            is_tot = frame.select(g.total.fill_null(False)).to_series().to_numpy()
        order = np.lexsort((np.arange(frame.height), gid))
        gid = gid[order]
        keep = np.bincount(gid)[gid] > 1
        gid, cell = gid[keep], order[keep]
        _, gid = np.unique(gid, return_inverse=True)
        n = int(gid.max()) + 1 if gid.size else 0
        tot = is_tot[cell]
        _check_totals(frame, g, gid, cell, tot, vals, n)
        rels.append(gid + n_rel)
        cells.append(cell)
        coefs.append(np.where(tot, -1.0, 1.0))
        n_rel += n
        group_start.append(n_rel)
    rel = np.concatenate(rels) if rels else np.zeros(0, np.int64)
    cell = np.concatenate(cells) if cells else np.zeros(0, np.int64)
    coef = np.concatenate(coefs) if coefs else np.zeros(0)
    return SumSystem.build(rel.astype(np.int64), cell.astype(np.int64), coef, n_rel,
                           frame.height, np.asarray(group_start))


def _check_totals(frame: pl.DataFrame, g: SumGroup, gid: np.ndarray, cell: np.ndarray,
                  tot: np.ndarray, vals: np.ndarray, n: int) -> None:
    """A declared total is one row per group and equals the sum of the others."""
    if not tot.any():
        return
    n_tot = np.bincount(gid, weights=tot, minlength=n)
    signed = np.bincount(gid, weights=np.where(tot, -vals[cell], vals[cell]), minlength=n)
    scale = np.bincount(gid, weights=np.abs(vals[cell]), minlength=n)
    bad = np.flatnonzero((n_tot > 1) | ((n_tot == 1) & ~np.isclose(signed, 0.0,
                                                                    atol=1e-8 + 1e-9 * scale)))
    if bad.size:
        row = int(cell[np.flatnonzero(gid == bad[0])[0]])
        key = {c: frame[c][row] for c in g.by}
        what = ("more than one total row" if n_tot[bad[0]] > 1
                else "a total row that is not the sum of the other cells")
        raise DisclosureError(f"sum group {list(g.by)} {key}: {what} "
                              f"({bad.size} such group(s))")


def _one_cell_complements(system: SumSystem, k: int, supp: np.ndarray,
                          pref: np.ndarray) -> np.ndarray:
    """One complement in every group of sum group ``k`` with exactly one hidden cell."""
    lo, hi = system.rel_start[system.group_start[k:k + 2]]
    rel = system.rel[lo:hi] - system.group_start[k]
    cell = system.cell[lo:hi]
    hid = supp[cell]
    n_hidden = np.bincount(rel, weights=hid)
    cand = (n_hidden[rel] == 1) & ~hid & (pref[cell] >= 0)
    if not cand.any():
        return np.zeros(0, np.int64)
    rc, cc = rel[cand], cell[cand]
    order = np.lexsort((pref[cc], rc))
    rc, cc = rc[order], cc[order]
    first = np.r_[True, rc[1:] != rc[:-1]]
    return cc[first]


def _audit_complements(system: SumSystem, supp: np.ndarray, pref: np.ndarray,
                       dirty: np.ndarray | None) -> np.ndarray:
    """A complement for every hidden cell the published totals still determine.

    For each such cell (in row order) the preferred visible cell (smallest
    non-zero) of one of its groups is suppressed too; when all of those are
    hidden already, the preferred visible cell of any group linked to it through
    hidden cells. The caller repeats the one-cell rule and the audit until no
    cell is determined. Raises :class:`DisclosureError` for a determined cell
    that no further suppression in this table can protect.
    """
    exposed = determined_cells(system, supp, dirty)
    if exposed.size == 0:
        return exposed
    taken = supp.copy()
    chosen = []
    for j in exposed.tolist():
        best = _preferred(system, _relations_of(system, j), taken, pref)
        if best < 0:  # look further: every group linked to j through hidden cells
            best = _preferred(system, _linked_relations(system, j, supp), taken, pref)
        if best < 0:
            raise DisclosureError(
                f"row {j}: the published totals determine this suppressed cell and no "
                "other cell of its sum groups is left to suppress; publish fewer totals "
                "(or coarser categories) for this table")
        taken[best] = True
        chosen.append(best)
    return np.asarray(chosen, np.int64)


def _relations_of(system: SumSystem, j: int) -> np.ndarray:
    s = system
    return s.rel[s.by_cell[s.cell_start[j]:s.cell_start[j + 1]]]


def _linked_relations(system: SumSystem, j: int, hidden: np.ndarray) -> np.ndarray:
    """Relations reachable from cell ``j`` through hidden cells (its component)."""
    s = system
    seen_rel: set[int] = set()
    seen_cell = {j}
    todo = [j]
    while todo:
        c = todo.pop()
        for r in _relations_of(s, c).tolist():
            if r in seen_rel:
                continue
            seen_rel.add(r)
            for m in s.cell[s.rel_start[r]:s.rel_start[r + 1]].tolist():
                if hidden[m] and m not in seen_cell:
                    seen_cell.add(m)
                    todo.append(m)
    return np.asarray(sorted(seen_rel), np.int64)


def _preferred(system: SumSystem, rels: np.ndarray, taken: np.ndarray, pref: np.ndarray) -> int:
    """The preferred visible cell (lowest ``pref``) of the relations ``rels``, or -1."""
    s = system
    best, best_pref = -1, None
    for r in rels.tolist():
        members = s.cell[s.rel_start[r]:s.rel_start[r + 1]]
        members = members[~taken[members] & (pref[members] >= 0)]
        if members.size:
            m = members[np.argmin(pref[members])]
            if best_pref is None or pref[m] < best_pref:
                best, best_pref = int(m), pref[m]
    return best


def render(
    df: Any,
    value: str = "count",
    *,
    threshold: int = DEFAULT_THRESHOLD,
    primary_label: str | None = None,
    secondary_label: str = "x",
    decimals: int = 1,
    drop_flag: bool = True,
) -> pl.DataFrame:
    """Turn a suppressed frame's value column into display strings.

    Every suppressed cell reads ``"x"`` (one symbol: ``"<10"`` would tell the
    reader that the cell is at least 1 and which cells are primary; pass
    ``primary_label="<10"`` for the old display); other cells their number
    (fractional counts with ``decimals``
    decimals). The ``suppression`` column is dropped unless ``drop_flag=False``.
    """
    frame = _to_polars(df)
    if SUPPRESSION_COL not in frame.columns:
        raise DisclosureError("render() needs a frame returned by suppress()")
    plabel = primary_label if primary_label is not None else secondary_label
    col = pl.col(value)
    if frame.schema[value].is_float():
        as_text = col.round(decimals).cast(pl.String)
    else:
        as_text = col.cast(pl.String)
    flag = pl.col(SUPPRESSION_COL)
    out = frame.with_columns(
        pl.when(flag == "primary")
        .then(pl.lit(plabel))
        .when(flag == "secondary")
        .then(pl.lit(secondary_label))
        .otherwise(as_text)
        .alias(value)
    )
    return out.drop(SUPPRESSION_COL) if drop_flag else out


def publish(
    df: Any,
    value: str = "count",
    *,
    threshold: int = DEFAULT_THRESHOLD,
    sum_groups: Sequence[Sequence[str] | SumGroup] | None = None,
) -> pl.DataFrame:
    """:func:`suppress` then :func:`render`: a table ready for display or export."""
    return render(
        suppress(df, value, threshold=threshold, sum_groups=sum_groups),
        value,
        threshold=threshold,
    )


def unsafe_groups(
    df: Any, sum_groups: Sequence[Sequence[str] | SumGroup], flag: str = SUPPRESSION_COL
) -> pl.DataFrame:
    """Groups (of a suppressed frame) with exactly one suppressed cell among several.

    An empty result means no suppressed cell can be recovered by subtraction
    from one published total. Useful as a check on any published table.
    """
    frame = _to_polars(df)
    out = []
    for group in sum_groups:
        g = list(_as_group(group).by)
        keys = g if g else [pl.lit(1).alias("__all")]
        bad = (
            frame.group_by(keys)
            .agg(n=pl.len(), n_suppressed=pl.col(flag).is_not_null().sum())
            .filter((pl.col("n_suppressed") == 1) & (pl.col("n") > 1))
        )
        if bad.height:
            out.append(
                bad.with_columns(group=pl.lit(",".join(g))).select("group", "n", "n_suppressed")
            )
    if not out:
        return pl.DataFrame(schema={"group": pl.String, "n": pl.UInt32, "n_suppressed": pl.UInt32})
    return pl.concat(out, how="vertical_relaxed")
