"""Overlapping spells: the rows whose interval meets an earlier one of the same person.

Used by the register's validation (enrolments, OZA participation and residences
of one person must not overlap) and by anyone checking spells of their own.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from ozamonitor.register.problems import ROW

__all__ = ["overlaps"]

#: Largest date, used for open spells (null end) in overlap checks.
OPEN_END = dt.date(9999, 12, 31)


def overlaps(
    df: pl.DataFrame | pl.LazyFrame,
    *,
    by: str = "person_id",
    start: str = "start",
    end: str = "end",
    row: str = ROW,
) -> pl.DataFrame:
    """Rows whose ``[start, end]`` interval overlaps an earlier one of the same ``by``.

    Intervals are inclusive on both ends; a null ``end`` is open (runs
    forever). Rows with a null start or an end before the start are ignored.
    Rows are ordered by (by, start, end, row); a row is returned when it
    intersects *some* earlier row, together with ``other_row``/``other_start``/
    ``other_end``: the earlier row reaching furthest (the one it certainly
    overlaps). Done with a sort and a running maximum of ``end`` per group
    (O(n log n)); a row j overlaps an earlier row i iff
    ``start_j <= max(end_i)`` because ``start_i <= start_j``.

    Returns columns ``row, other_row, start, end, other_start, other_end``.
    """
    lf = df.lazy()
    e = pl.col(end).fill_null(pl.lit(OPEN_END))
    valid = pl.col(start).is_not_null() & (pl.col(end).is_null() | (pl.col(end) >= pl.col(start)))
    # Running maximum per group without window functions (slow with millions of groups):
    # rows are sorted by group, so group g's keys g * 2**22 + end_day exceed all earlier
    # groups' keys and a global cum_max restarts at each group by itself.
    new_group = pl.col(by) != pl.col(by).shift(1)
    key = pl.col("_g") * (1 << 22) + pl.col("_e").cast(pl.Int64)
    base = (
        lf.select(by, start, end, row)
        .filter(valid & pl.col(by).is_not_null())
        .with_columns(_e=e, _h=pl.col(by).hash())
        # grouping only needs equal ids adjacent: sorting by their 64-bit hash is much
        # faster than comparing strings; on a hash collision sort by the id itself (exact)
        .sort("_h", start, "_e", row)
        .collect()
    )
    h, ident = pl.col("_h"), pl.col(by)
    if base.select(((h == h.shift(1)) & (ident != ident.shift(1))).any()).item():
        base = base.sort(by, start, "_e", row)
    s = (
        base.lazy()
        .with_columns(_g=new_group.fill_null(True).cum_sum().cast(pl.Int64))
        .with_columns(_k=key)
        .with_columns(_m=pl.col("_k").cum_max())
        .with_columns(
            _same=~new_group.fill_null(True),
            _prev_max=(pl.col("_m") - pl.col("_g") * (1 << 22)).shift(1).cast(pl.Int32)
            .cast(pl.Date),
            _prev_row=pl.when(pl.col("_k") == pl.col("_m")).then(pl.col(row)).forward_fill()
            .shift(1),
        )
        .filter(pl.col("_same") & (pl.col(start) <= pl.col("_prev_max")))
    )
    partner = lf.select(
        pl.col(row).alias("_prev_row"),
        pl.col(start).alias("other_start"),
        pl.col(end).alias("other_end"),
    )
    return (
        s.join(partner, on="_prev_row", how="left")
        .select(
            pl.col(row).alias("row"),
            pl.col("_prev_row").alias("other_row"),
            pl.col(start).alias("start"),
            pl.col(end).alias("end"),
            "other_start",
            "other_end",
        )
        .sort("row")
        .collect()
    )
