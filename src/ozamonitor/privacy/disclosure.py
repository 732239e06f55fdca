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
    work = frame.with_row_index(_IDX).with_columns(
        __primary=primary_mask(v, threshold).fill_null(False),
    ).with_columns(__supp=pl.col("__primary"), __secondary=pl.lit(False))

    for _ in range(max_iterations):
        changed = False
        for g in groups:
            work, n_new = _secondary_step(work, value, g)
            changed = changed or n_new > 0
        if not changed:
            break
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
    cand = flagged.filter((pl.col("__nsupp") == 1) & (pl.col("__n") > 1) & ~supp
                          & pl.col(value).is_not_null())
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
            out.append(bad.with_columns(group=pl.lit(",".join(g))).select(
                "group", "n", "n_suppressed"))
    if not out:
        return pl.DataFrame(schema={"group": pl.String, "n": pl.UInt32,
                                    "n_suppressed": pl.UInt32})
    return pl.concat(out, how="vertical_relaxed")
