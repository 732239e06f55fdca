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
  determine exactly gets one more complement cell, and the rounds repeat.

The functions work on *tidy* frames: dimension columns plus one value column.
Sum groups are given as lists of dimension columns: all cells with equal values
in those columns form one group. Example for a table with columns
``definition, category, region, count`` where ``category == "total"`` is the
sum of the other categories::

    suppress(df, "count", threshold=10,
             sum_groups=[["definition", "region"],      # categories -> total
                         ["definition", "category"]])   # regions -> nation

:func:`suppress` keeps the numbers (null where suppressed) and adds a
``suppression`` column (``"primary"``, ``"secondary"`` or null);
:func:`render` turns the value column into display strings (``"<10"`` for
primary, ``"x"`` for secondary suppression). Use :func:`publish` for both.

No rounding or perturbation is applied; this module does not protect
person-level files (those are never published).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

#: Default minimum number of persons in a published cell.
DEFAULT_THRESHOLD = 10

SUPPRESSION_COL = "suppression"
_IDX = "__row"


class DisclosureError(ValueError):
    """The frame cannot be disclosure-controlled as asked (missing column, ...)."""


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
    sum_groups: Sequence[Sequence[str]] | None = None,
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
        Lists of dimension columns; cells sharing values in such a list add up to
        a published total (which may itself be a row in the group, e.g. a
        ``total`` category). An empty list means all rows form one group. None:
        primary suppression only.
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
    groups = [list(g) for g in (sum_groups or [])]
    missing = [c for c in [value, *[c for g in groups for c in g]] if c not in frame.columns]
    if missing:
        raise DisclosureError(
            f"cannot suppress: column(s) {', '.join(sorted(set(missing)))} not in the table "
            f"(columns: {', '.join(frame.columns)})"
        )
    if not frame.schema[value].is_numeric():
        raise DisclosureError(f"value column {value!r} must be numeric, is {frame.schema[value]}")

    v = pl.col(value)
    work = (
        frame.with_row_index(_IDX)
        .with_columns(
            __primary=primary_mask(v, threshold).fill_null(False),
        )
        .with_columns(__supp=pl.col("__primary"), __secondary=pl.lit(False))
    )

    dirty: set[int] | None = None  # rows whose block must be audited (None: all blocks)
    for _ in range(max_iterations):
        changed = False
        for g in groups:
            work, n_new = _secondary_step(work, value, g)
            changed = changed or n_new > 0
        if not changed:
            # Fixed point of the one-cell rule; now check the system as a whole.
            # Sum groups never cross blocks, so after the first audit only the blocks
            # that received new complements can have changed.
            work, chosen = _audit_step(work, value, groups, dirty)
            if not chosen:
                break
            dirty = chosen
    else:  # pragma: no cover - cannot happen: each round adds a cell or stops
        raise DisclosureError("secondary suppression did not reach a fixed point")

    out = work.sort(_IDX).with_columns(
        pl.when(pl.col("__supp")).then(None).otherwise(v).alias(value),
        pl.when(pl.col("__primary"))
        .then(pl.lit("primary"))
        .when(pl.col("__secondary"))
        .then(pl.lit("secondary"))
        .otherwise(None)
        .cast(pl.String)
        .alias(SUPPRESSION_COL),
    )
    return out.drop(_IDX, "__primary", "__supp", "__secondary")


def _group_relations(
    work: pl.DataFrame, value: str, groups: list[list[str]]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Linear relations the published figures impose: (row indices, coefficients).

    Within a group the cells add up to a total: the group's own total cell
    (the one equal to the sum of the others; coefficient -1) or, if there is
    none, a total published elsewhere. Only groups with a suppressed cell matter.
    """
    rels = []
    idx_all = work[_IDX].to_numpy()
    vals_all = work[value].fill_null(0).to_numpy().astype(float)
    supp_all = work["__supp"].to_numpy()
    keys = [
        work.select(g).hash_rows().to_numpy() if g else np.zeros(work.height, np.uint64)
        for g in groups
    ]
    for key in keys:
        order = np.argsort(key, kind="stable")
        bounds = np.flatnonzero(np.diff(key[order])) + 1
        for part in np.split(order, bounds):
            if len(part) < 2 or not supp_all[part].any():
                continue
            v = vals_all[part]
            coef = np.ones(len(part))
            tot = np.flatnonzero(np.isclose(v, v.sum() - v))
            if len(part) > 2 and len(tot) == 1:
                coef[tot[0]] = -1.0
            rels.append((idx_all[part], coef))
    return rels


def _block_complements(work: pl.DataFrame, value: str, groups: list[list[str]]) -> set[int]:
    """Suppress a complement for every hidden cell the published totals still determine.

    The published totals give linear equations in the hidden cells. A hidden
    cell is determined exactly when its unit vector lies in the row space of
    those equations (its row of the null space is zero), even when no single
    group has exactly one hidden cell: e.g. two blocks of hidden cells joined
    by one cell. For each such cell the smallest visible non-zero cell of one
    of its groups is suppressed too; the caller repeats until none is left.
    """

    rels = _group_relations(work, value, groups)
    supp = work["__supp"].to_numpy()
    hidden = work[_IDX].to_numpy()[supp]
    if not rels or hidden.size == 0:
        return set()
    # Sparse relation x hidden-cell matrix; the system splits into independent
    # connected components (sum groups never cross e.g. definitions or periods),
    # each checked with a small dense null space.
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    col = {int(h): j for j, h in enumerate(hidden)}
    r_idx, c_idx, coefs = [], [], []
    for r, (cells, coef) in enumerate(rels):
        for c, k in zip(cells.tolist(), coef.tolist(), strict=True):
            j = col.get(int(c))
            if j is not None:
                r_idx.append(r)
                c_idx.append(j)
                coefs.append(k)
    m, n = len(rels), len(hidden)
    A = coo_matrix((coefs, (r_idx, c_idx)), shape=(m, n)).tocsr()
    graph = coo_matrix((np.ones(len(r_idx)), (r_idx, np.asarray(c_idx) + m)), shape=(m + n, m + n))
    _, comp = connected_components(graph, directed=False)
    cell_comp = comp[m:]
    rel_comp = comp[:m]
    exposed_list = []
    order_c = np.argsort(cell_comp, kind="stable")
    order_r = np.argsort(rel_comp, kind="stable")
    cuts_c = np.flatnonzero(np.diff(cell_comp[order_c])) + 1
    for cells_j in np.split(order_c, cuts_c):
        cid = cell_comp[cells_j[0]]
        lo, hi = np.searchsorted(rel_comp[order_r], [cid, cid + 1])
        rows_r = order_r[lo:hi]
        if rows_r.size == 0:
            continue
        sub = A[rows_r][:, cells_j].toarray()
        # cell j is determined iff e_j lies in the row space of ``sub``, i.e. the
        # row-space projector V_r V_r^T has a 1 on its diagonal (economical SVD)
        _, sing, vt = np.linalg.svd(sub, full_matrices=False)
        rank = int((sing > 1e-9 * max(1.0, float(sing.max(initial=0.0)))).sum())
        proj_diag = (vt[:rank] ** 2).sum(axis=0)
        exposed_list.extend(cells_j[proj_diag > 1 - 1e-9].tolist())
    exposed = np.asarray(exposed_list, dtype=np.int64)
    if exposed.size == 0:
        return set()
    vals = dict(zip(work[_IDX].to_list(), work[value].to_list(), strict=True))
    rels_of: dict[int, list[int]] = {}
    for r, (cells, _) in enumerate(rels):
        for c in cells.tolist():
            rels_of.setdefault(int(c), []).append(r)
    chosen: set[int] = set()
    hidden_set = set(int(h) for h in hidden)
    for j in exposed.tolist():
        best = None
        for r in rels_of.get(int(hidden[j]), []):
            for c in rels[r][0].tolist():
                v = vals[c]
                if c in hidden_set or c in chosen or v is None:
                    continue
                rank = (v == 0, v, c)
                if best is None or rank < best[0]:
                    best = (rank, c)
        if best is not None:
            chosen.add(best[1])
    return chosen


def _audit_step(
    work: pl.DataFrame, value: str, groups: list[list[str]], dirty: set[int] | None = None
) -> tuple[pl.DataFrame, set[int]]:
    """Run the exact audit per independent block and suppress the complements found.

    Columns shared by every sum group (e.g. definition and period) split the table
    into blocks that no relation crosses; each block is audited on its own, which
    keeps the linear algebra small.
    """
    if not groups:
        return work, set()
    common = [c for c in groups[0] if all(c in g for g in groups[1:])]
    if common:
        need = pl.col("__supp").any().over(common)
        if dirty is not None:
            need = need & pl.col(_IDX).is_in(list(dirty)).any().over(common)
        blocks = work.filter(need).partition_by(common, maintain_order=True)
    else:
        blocks = [work]
    chosen: set[int] = set()
    for block in blocks:
        chosen |= _block_complements(block, value, groups)
    if not chosen:
        return work, set()
    hit = pl.col(_IDX).is_in(list(chosen))
    work = work.with_columns(__supp=pl.col("__supp") | hit, __secondary=pl.col("__secondary") | hit)
    return work, chosen


def _secondary_step(work: pl.DataFrame, value: str, group: list[str]) -> tuple[pl.DataFrame, int]:
    """Suppress one complement cell in every group with exactly one suppressed cell."""
    over = group if group else None
    supp = pl.col("__supp")

    def win(e: pl.Expr) -> pl.Expr:
        return e.over(over) if over else e

    flagged = work.with_columns(
        __nsupp=win(supp.cast(pl.Int64).sum()),
        __n=win(pl.len()),
    )
    cand = flagged.filter(
        (pl.col("__nsupp") == 1) & (pl.col("__n") > 1) & ~supp & pl.col(value).is_not_null()
    )
    if cand.height == 0:
        return work, 0
    # Smallest non-zero cell first; zero cells only when nothing else is left.
    keys = [*group, "__iszero", value, _IDX]
    chosen = (
        cand.with_columns(__iszero=(pl.col(value) == 0))
        .sort(keys)
        .group_by(group if group else pl.lit(1), maintain_order=True)
        .first()
        .select(_IDX)
    )
    hit = pl.col(_IDX).is_in(chosen[_IDX].implode())
    work = work.with_columns(
        __supp=supp | hit,
        __secondary=pl.col("__secondary") | hit,
    )
    return work, chosen.height


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

    Primary-suppressed cells read ``"<10"`` (``"<{threshold}"``), secondary ones
    ``"x"``; other cells their number (fractional counts with ``decimals``
    decimals). The ``suppression`` column is dropped unless ``drop_flag=False``.
    """
    frame = _to_polars(df)
    if SUPPRESSION_COL not in frame.columns:
        raise DisclosureError("render() needs a frame returned by suppress()")
    plabel = primary_label if primary_label is not None else f"<{threshold}"
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
    sum_groups: Sequence[Sequence[str]] | None = None,
) -> pl.DataFrame:
    """:func:`suppress` then :func:`render`: a table ready for display or export."""
    return render(
        suppress(df, value, threshold=threshold, sum_groups=sum_groups),
        value,
        threshold=threshold,
    )


def unsafe_groups(
    df: Any, sum_groups: Sequence[Sequence[str]], flag: str = SUPPRESSION_COL
) -> pl.DataFrame:
    """Groups (of a suppressed frame) with exactly one suppressed cell among several.

    An empty result means no suppressed cell can be recovered by subtraction
    from one published total. Useful as a check on any published table.
    """
    frame = _to_polars(df)
    out = []
    for g in sum_groups:
        keys = list(g) if g else [pl.lit(1).alias("__all")]
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
