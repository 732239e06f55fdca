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


def tidy_publication(table: pl.DataFrame, value: str, sum_groups: Sequence[Sequence[str]], *,
                     total_col: str, total: str = "total") -> Publication:
    """The publication of ``table`` (one table ``tidy``, one cell per row, in row order).

    Raises
    ------
    ValueError
        When a count is negative or not whole, or a total row is not the sum of
        the other rows of its group (the table is not additive).
    """
    vals = table[value]
    if vals.null_count() or (vals.cast(pl.Float64) != vals.cast(pl.Float64).round()).any():
        bad = int(np.flatnonzero((vals.is_null() | (vals.cast(pl.Float64)
                                  != vals.cast(pl.Float64).round())).to_numpy())[0])
        raise ValueError(f"row {bad}: {value} {vals[bad]!r} is not a whole count")
    df = table.with_row_index(_ROW).with_columns(pl.col(_ROW).cast(pl.Int64))
    is_tot = pl.col(total_col) == total
    leaves = df.filter(~is_tot)
    tots = df.filter(is_tot)
    mem = [leaves.select(pl.col(_ROW).alias("inner"), _ROW)]
    for cols in sum_groups:
        mem.append(tots.select(_ROW, *cols).join(
            leaves.select(pl.col(_ROW).alias("inner"), *cols), on=list(cols),
            nulls_equal=True).select("inner", _ROW))
    m = pl.concat(mem).unique()
    lonely = tots.join(m, on=_ROW, how="anti").select(pl.col(_ROW).alias("inner"), _ROW)
    m = pl.concat([m, lonely])
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


def protect_tidy(table: pl.DataFrame, value: str, sum_groups: Sequence[Sequence[str]], *,
                 total_col: str, total: str = "total", threshold: int = 10,
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
