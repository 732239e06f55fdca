"""A tidy count table with total rows, protected by the joint engine.

For modules whose published table is one tidy frame in which some rows are
totals of others (``category == "total"`` rows adding up their group): the
non-total rows are the inner cells of a :class:`~ozamonitor.privacy.publication.Publication`
and each total row holds the non-total rows of its group, so the engine's
secondary suppression, interval check and one symbol apply as for the count
publications. A total row whose group has no other row is an inner cell of
its own.

>>> protect_tidy(df, "count", [["question", "wave"]], total_col="category")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from ozamonitor.privacy.publication import Protected, Protection, Publication, TableSpec

__all__ = ["protect_tidy", "tidy_publication"]

_ROW = "__row"


Group = Sequence[str] | tuple[Sequence[str], pl.Expr]


def _groups(sum_groups: Sequence[Group], total_col: str | None,
            total: str) -> list[tuple[list[str], pl.Expr]]:
    out = []
    for g in sum_groups:
        if isinstance(g, tuple) and len(g) == 2 and isinstance(g[1], pl.Expr):
            out.append((list(g[0]), g[1]))
        elif total_col is None:
            raise ValueError(f"sum group {g!r}: give (columns, total expression) or total_col")
        else:
            out.append((list(g), pl.col(total_col) == total))
    return out


def _membership(df: pl.DataFrame, groups: list[tuple[list[str], pl.Expr]]) -> pl.DataFrame:
    """``inner, __row``: the non-total rows under every row. A total row holds the
    rows of its group that are not its group's totals (and what they hold), to a
    fixed point, so a grand total that is a total in two groups holds every row."""
    marks = df.select(_ROW, *[e.fill_null(False).alias(f"__t{k}")
                              for k, (_, e) in enumerate(groups)])
    any_tot = pl.any_horizontal([pl.col(f"__t{k}") for k in range(len(groups))])
    base = df.join(marks, on=_ROW)
    m = base.filter(~any_tot).select(pl.col(_ROW).alias("inner"), _ROW)
    for _ in range(len(groups) + 1):
        parts = [m]
        for k, (cols, _) in enumerate(groups):
            tot = base.filter(pl.col(f"__t{k}")).select(_ROW, *cols)
            sub = base.filter(~pl.col(f"__t{k}")).select(pl.col(_ROW).alias("__sub"), *cols)
            parts.append(tot.join(sub, on=cols, nulls_equal=True).join(
                m.rename({_ROW: "__sub"}), on="__sub").select("inner", _ROW))
        nxt = pl.concat(parts).unique()
        if nxt.height == m.height:
            break
        m = nxt
    lonely = df.join(m, on=_ROW, how="anti").select(pl.col(_ROW).alias("inner"), _ROW)
    return pl.concat([m, lonely])


def tidy_publication(table: pl.DataFrame, value: str, sum_groups: Sequence[Group], *,
                     total_col: str | None = None, total: str = "total") -> Publication:
    """The publication of ``table`` (one table ``tidy``, one cell per row, in row order).

    ``sum_groups``: column lists whose total row has ``total_col == total``, or
    ``(columns, total_expression)`` pairs. Rows that are a total in no group are
    the inner cells.

    Raises
    ------
    ValueError
        When a count is negative or not whole, or a total row is not the sum of
        the other rows of its group (the table is not additive).
    """
    vals = table[value]
    whole = vals.is_not_null() & (vals.cast(pl.Float64) == vals.cast(pl.Float64).round())
    if not whole.all():
        bad = int(np.flatnonzero(~whole.fill_null(False).to_numpy())[0])
        raise ValueError(f"row {bad}: {value} {vals[bad]!r} is not a whole count")
    df = table.with_row_index(_ROW).with_columns(pl.col(_ROW).cast(pl.Int64))
    m = _membership(df, _groups(sum_groups, total_col, total))
    inner = m["inner"].unique().sort()
    m = m.with_columns(inner_id=pl.col("inner").replace_strict(
        inner, pl.Series(np.arange(inner.len())), return_dtype=pl.Int64))
    counts = vals.cast(pl.Int64).to_numpy()
    pub = Publication(counts[inner.to_numpy()])
    pub.add_table(TableSpec("tidy", (_ROW,)), m.select("inner_id", _ROW), df.select(_ROW))
    got = np.asarray(pub.matrix() @ pub.inner_counts, np.int64)
    off = np.flatnonzero(got != counts)
    if off.size:
        r = int(off[0])
        raise ValueError(f"row {r}: {value} {counts[r]} is not the sum of its group's rows "
                         f"({got[r]}): the table is not additive")
    return pub


def protect_tidy(table: pl.DataFrame, value: str, sum_groups: Sequence[Group], *,
                 total_col: str | None = None, total: str = "total", threshold: int = 10,
                 width: int | None = None) -> tuple[pl.DataFrame, Protected]:
    """``table`` protected jointly: ``value`` null where suppressed, and a
    ``suppression`` column (``primary`` / ``secondary`` / null, for the audit; publish
    one symbol for both). Returns the table and the :class:`Protected` result
    (for :func:`~ozamonitor.privacy.folder.write_folder`)."""
    res = tidy_publication(table, value, sum_groups, total_col=total_col,
                           total=total).protect(Protection(threshold=threshold, width=width))
    t = res.table("tidy").sort(_ROW)
    out = table.with_columns(
        pl.when(t["suppression"].is_null()).then(pl.col(value)).alias(value),
        suppression=t["suppression"])
    return out, res
