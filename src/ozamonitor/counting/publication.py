"""Thuiszitter counts as one publication: every definition, region level and period together.

The inner cells (:mod:`ozamonitor.privacy.publication`) are the children's
*patterns*: per period, the set of ``(definition, category, region keys)`` a
child is counted in, region keys being its gemeente, SWV, school, sector (and
any background dimension asked for). Children with the same pattern form one
inner cell. Every published cell -- a definition's category or total in a
region and period -- is the sum of the inner cells whose pattern holds it, so
all relations between tables follow from the data's structure exactly:

* hierarchies: school -> SWV -> nation, gemeente -> nation, sector -> nation;
* totals: the categories of an exclusive definition add up to its total; the
  total of a non-exclusive definition counts distinct children;
* identities between definitions that follow from their rules (Inspectie AV
  counts the same children as OCW 2016 AV, ...).

:data:`LEVELS` are always published together, so a ``count --by gemeente``
and a ``count --by swv`` on the same register and period are two views of one
protected publication (the same cells suppressed).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ozamonitor.counting.count import BY_DIMENSIONS, Counter
from ozamonitor.counting.swv import SwvRule
from ozamonitor.privacy.publication import Protected, Protection, Publication, TableSpec

#: Region levels in every count publication (the hierarchies protected together).
LEVELS = ("nation", "gemeente", "swv", "sector", "school")
DIMS = ("definition", "category", "region", "period")
_SEP = "\x1f"


def table_name(by: str) -> str:
    """The publication's table name for a ``--by`` dimension."""
    return f"by_{by}"


def count_publication(
    counter: Counter,
    per_child: pl.DataFrame,
    *,
    by: Sequence[str] = (),
    periods: Sequence[str] | None = None,
    swv_rule: SwvRule = "largest_share",
    lang: str = "nl",
) -> Publication:
    """The publication of ``per_child`` by every level in :data:`LEVELS` and ``by``.

    Parameters
    ----------
    counter:
        The counter that made ``per_child`` (definitions, regions).
    per_child:
        :meth:`Counter.stock` / :meth:`Counter.flow` output (one or more periods).
    by:
        Extra dimensions (age, sex, ...) to publish besides the region levels.
    periods:
        Period labels to list (default: those of ``per_child`` or the counter's last request).
    """
    if swv_rule != "largest_share":
        raise ValueError("a publication counts whole children: use swv_rule='largest_share'")
    levels = list(dict.fromkeys([*LEVELS, *by]))
    for b in levels:
        if b not in BY_DIMENSIONS:
            raise ValueError(f"unknown dimension {b!r}")
    df = per_child
    for b in levels:
        df = counter.with_region(df, b, swv_rule).rename({"region": f"r_{b}"}).drop("weight")
    rk = [f"r_{b}" for b in levels]
    member = pl.concat_str([pl.col("definition"), pl.col("category"), *[pl.col(c) for c in rk]],
                           separator=_SEP)
    rows = df.select("pid", "period", "definition", "category", *rk, member.alias("m"))
    pats = (rows.group_by("pid", "period")
            .agg(pat=pl.col("m").unique().sort().str.join("\x1e"))
            .group_by("period", "pat").agg(n=pl.len(), pid=pl.col("pid").first())
            .sort("period", "pat").with_row_index("inner_id"))
    pub = Publication(pats["n"].to_numpy())
    rep = rows.join(pats.select("inner_id", "pid", "period"), on=["pid", "period"])
    plist = _periods(counter, per_child, periods)
    for prio, b in enumerate(levels):
        m = rep.select("inner_id", "definition", "category", pl.col(f"r_{b}").alias("region"),
                       "period")
        tot = m.with_columns(category=pl.lit("total"))
        mem = pl.concat([m, tot]).unique()
        regions = _regions(counter, b, m["region"].unique().to_list())
        grid = _grid(counter, plist, regions)
        spec = TableSpec(table_name(b), DIMS, title=_title(b, lang),
                         description=BY_DIMENSIONS[b], priority=len(levels) - prio)
        pub.add_table(spec, mem, grid)
    return pub


def _periods(counter: Counter, per_child: pl.DataFrame, periods: Sequence[str] | None
             ) -> list[str]:
    seen = per_child["period"].unique().to_list()
    if periods is not None:
        return sorted(set(periods) | set(seen))
    return sorted(seen) or list(counter._requested)


def _regions(counter: Counter, by: str, seen: list[str]) -> list[str]:
    universe = counter.region_universe(by)
    if by == "age":
        return [*universe, *sorted(set(seen) - set(universe))]
    return sorted(set(universe) | set(seen))


def _grid(counter: Counter, periods: list[str], regions: list[str]) -> pl.DataFrame:
    rows = [(d.name, c) for d in counter.definitions for c in [*d.category_names(), "total"]]
    defs = pl.DataFrame(rows, schema={"definition": pl.String, "category": pl.String},
                        orient="row")
    return (pl.DataFrame({"period": periods}, schema={"period": pl.String})
            .join(defs, how="cross")
            .join(pl.DataFrame({"region": regions}, schema={"region": pl.String}), how="cross")
            .select(*DIMS))


def _title(by: str, lang: str) -> str:
    nl = {"nation": "Thuiszitters per definitie, Nederland",
          "gemeente": "Thuiszitters per definitie en gemeente",
          "swv": "Thuiszitters per definitie en samenwerkingsverband",
          "school": "Thuiszitters per definitie en schoolvestiging",
          "sector": "Thuiszitters per definitie en onderwijssector"}
    en = f"Thuiszitters by definition and {BY_DIMENSIONS[by]}"
    return nl.get(by, f"Thuiszitters per definitie en {by}") if lang == "nl" else en


def protect_counts(counter: Counter, per_child: pl.DataFrame, *, by: Sequence[str] = (),
                   periods: Sequence[str] | None = None, threshold: int = 10,
                   width: int | None = None, ledger: dict | None = None) -> Protected:
    """:func:`count_publication`, protected (consistent with ``ledger`` when given)."""
    from ozamonitor.privacy.folder import ledger_masks

    pub = count_publication(counter, per_child, by=by, periods=periods)
    public = hidden = None
    if ledger:
        public, hidden = ledger_masks(pub, ledger)
    return pub.protect(Protection(threshold=threshold, width=width), public, hidden)


def in_table_order(protected: Protected, by: str, order: pl.DataFrame) -> pl.DataFrame:
    """Table ``by`` of ``protected`` (count null where suppressed + ``suppression``)
    in the row order of ``order`` (a frame with the :data:`DIMS` columns)."""
    t = protected.table(table_name(by))
    return order.select(*DIMS).join(t, on=list(DIMS), how="left", maintain_order="left")


__all__ = ["DIMS", "LEVELS", "count_publication", "in_table_order", "protect_counts",
           "table_name"]
