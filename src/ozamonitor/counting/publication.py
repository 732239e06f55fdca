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
  counts the same children as OCW 2016 AV, ...);

and the inequalities that follow from the definitions' rules are declared
(:func:`declare_inequalities`): they are known to anyone who reads the
definition files, and are written to ``relations.csv`` with sense ``le``.

:data:`LEVELS` are always published together, so a ``count --by gemeente``
and a ``count --by swv`` on the same register and period are two views of one
protected publication (the same cells suppressed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from ozamonitor.counting.count import BY_DIMENSIONS, Counter
from ozamonitor.counting.definition import Definition
from ozamonitor.counting.implications import TOTAL, definition_inequalities, stock_within_flow
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
    reconcile: bool = False,
    levels: Sequence[str] = LEVELS,
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
    levels:
        Region levels to publish (default :data:`LEVELS`).
    reconcile:
        Also publish the waterfall (per period, definitions from the smallest
        to the largest count: ``count`` and ``added``) and the overlap matrix of
        the definitions, as tables ``waterfall`` and ``overlap``.
    """
    if swv_rule != "largest_share":
        raise ValueError("a publication counts whole children: use swv_rule='largest_share'")
    levels = list(dict.fromkeys([*levels, *by]))
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
    if reconcile:
        _add_reconciliation(pub, rep, plist)
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
    declare_inequalities(pub, counter.definitions, plist, levels)
    return pub


def declare_inequalities(pub: Publication, definitions: Sequence[Definition],
                         periods: Sequence[str], levels: Sequence[str]) -> None:
    """Declare the inequalities that follow from the definitions' rules
    (:mod:`ozamonitor.counting.implications`) between the cells of the tables
    ``by_<level>``: between definitions on every stock date in every region, over
    a school year nationally (where the larger side is a total: an exclusive
    definition's category over a year is the first one met, not a pointwise
    one); and each definition's stock on a date <= its flow over the school year
    holding it (nationally)."""
    pairs = definition_inequalities(definitions)
    stock_flow = stock_within_flow(periods)
    dates = sorted({d for d, _ in stock_flow} | {p for p in periods if _is_date(p)})
    flows = [p for p in periods if p not in dates]
    exclusive = {d.name: d.exclusive for d in definitions}
    # over a year, an exclusive definition's category is the first one met at any
    # time: only its total (and a non-exclusive category) is a pointwise "ever met"
    rows = [(a.smaller[0], a.smaller[1], a.larger[0], a.larger[1],
             a.larger[1] == TOTAL or not exclusive[a.larger[0]]) for a in pairs]
    ineq = pl.DataFrame(rows, schema={"definition": pl.String, "category": pl.String,
                                      "def_l": pl.String, "cat_l": pl.String,
                                      "in_flow": pl.Boolean}, orient="row")
    for b in levels:
        t = next(x for x in pub.tables if x.spec.name == table_name(b))
        cells = t.cells.select(*DIMS)
        use = dates if b not in ("nation",) else [*dates, *flows]
        small = cells.filter(pl.col("period").is_in(use)).join(
            ineq, on=["definition", "category"]).filter(
            pl.col("period").is_in(dates) | pl.col("in_flow"))
        large = small.select(definition="def_l", category="cat_l", region="region",
                             period="period")
        pub.add_inequalities(pub.cell_ids(t.spec.name, small),
                             pub.cell_ids(t.spec.name, large))
        if b == "nation" and stock_flow:
            sf = pl.DataFrame(stock_flow, schema={"period": pl.String, "year": pl.String},
                              orient="row")
            cats = [(d.name, c) for d in definitions
                    for c in ([TOTAL] if d.exclusive else [TOTAL, *d.category_names()])]
            st = cells.join(sf, on="period").join(
                pl.DataFrame(cats, schema={"definition": pl.String, "category": pl.String},
                             orient="row"),
                on=["definition", "category"])
            pub.add_inequalities(pub.cell_ids(t.spec.name, st),
                                 pub.cell_ids(t.spec.name, st.with_columns(period="year")))


def _is_date(p: str) -> bool:
    try:
        dt.date.fromisoformat(p)
    except ValueError:
        return False
    return True


def _add_reconciliation(pub: Publication, rep: pl.DataFrame, periods: list[str]) -> None:
    """Waterfall and overlap tables over the same inner cells."""
    defs = rep.select("inner_id", "period", "definition").unique()
    n = pl.Series(pub.inner_counts)
    sizes = (defs.with_columns(n=n.gather(defs["inner_id"]))
             .group_by("period", "definition").agg(pl.col("n").sum()))
    wf_m, ov_m, wf_grid, ov_grid = [], [], [], []
    for per in periods:
        s = sizes.filter(pl.col("period") == per).sort("n", "definition")
        names = s["definition"].to_list()
        rank = {d: i for i, d in enumerate(names)}
        d = defs.filter(pl.col("period") == per).with_columns(
            rank=pl.col("definition").replace_strict(rank, return_dtype=pl.Int32))
        first = d.group_by("inner_id").agg(pl.col("rank").min())
        step = pl.col("rank") + 1
        wf_m += [d.select("inner_id", "period", step.alias("step"), "definition",
                          measure=pl.lit("count")),
                 first.join(d, on=["inner_id", "rank"]).select(
                     "inner_id", "period", step.alias("step"), "definition",
                     measure=pl.lit("added"))]
        wf_grid.append(pl.DataFrame(
            [(per, i + 1, x, m) for i, x in enumerate(names) for m in ("count", "added")],
            schema={"period": pl.String, "step": pl.Int32, "definition": pl.String,
                    "measure": pl.String}, orient="row"))
        pairs = d.join(d, on="inner_id", suffix="_b").select(
            "inner_id", "period", pl.col("definition").alias("definition_a"),
            "definition_b")
        ov_m.append(pairs)
        ov_grid.append(pl.DataFrame({"definition_a": names}).join(
            pl.DataFrame({"definition_b": names}), how="cross").select(
            period=pl.lit(per), definition_a="definition_a", definition_b="definition_b"))
    if not wf_grid:
        return
    pub.add_table(TableSpec("waterfall", ("period", "step", "definition", "measure"),
                            title="Van de smalste naar de breedste definitie",
                            description="count: children a definition counts; added: "
                            "children no earlier definition counts"),
                  pl.concat([x.cast({"step": pl.Int32}) for x in wf_m]), pl.concat(wf_grid))
    pub.add_table(TableSpec("overlap", ("period", "definition_a", "definition_b"),
                            title="Overlap tussen definities",
                            description="children counted by both definitions"),
                  pl.concat(ov_m), pl.concat(ov_grid))


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
                   width: int | None = None, ledger: dict | None = None,
                   reconcile: bool = False, levels: Sequence[str] = LEVELS) -> Protected:
    """:func:`count_publication`, protected (consistent with ``ledger`` when given)."""
    from ozamonitor.privacy.folder import ledger_masks

    pub = count_publication(counter, per_child, by=by, periods=periods, reconcile=reconcile,
                            levels=levels)
    public = hidden = None
    if ledger:
        public, hidden = ledger_masks(pub, ledger)
    return pub.protect(Protection(threshold=threshold, width=width), public, hidden)


def in_table_order(protected: Protected, by: str, order: pl.DataFrame) -> pl.DataFrame:
    """Table ``by`` of ``protected`` (count null where suppressed + ``suppression``)
    in the row order of ``order`` (a frame with the :data:`DIMS` columns)."""
    t = protected.table(table_name(by))
    return order.select(*DIMS).join(t, on=list(DIMS), how="left", maintain_order="left")


def reconciliation_frames(res: Protected, period: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The protected waterfall and overlap of one period in the shapes of
    :func:`ozamonitor.counting.reconcile.publishable_reconciliation`."""
    wf = res.table("waterfall").filter(pl.col("period") == period)
    c = wf.filter(pl.col("measure") == "count").select(
        "step", "definition", "count", count_suppression="suppression")
    a = wf.filter(pl.col("measure") == "added").select(
        "step", pl.col("count").alias("added"),
        added_suppression="suppression")
    w = c.join(a, on="step").sort("step").select(
        "step", "definition", "count", "added", "count_suppression", "added_suppression")
    ov = res.table("overlap").filter(pl.col("period") == period).drop("period")
    return w, ov


__all__ = ["DIMS", "LEVELS", "count_publication", "declare_inequalities", "in_table_order",
           "protect_counts", "reconciliation_frames", "table_name"]
