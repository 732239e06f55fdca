"""Reconciliation of definitions: waterfall, overlap matrix and trends.

All functions take the per-child membership frame of :class:`~ozamonitor.counting.count.Counter`
(one period) and return polars frames; the ``*_figure`` functions draw them with
matplotlib (Dutch labels by default, ``lang="en"`` for English). Counts here are
*not* disclosure-controlled; use :func:`publishable_waterfall` and friends (or
:mod:`ozamonitor.privacy.disclosure`) before publishing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from matplotlib.figure import Figure

from ozamonitor.counting.count import Counter
from ozamonitor.counting.timeline import CountingError
from ozamonitor.privacy.disclosure import DEFAULT_THRESHOLD, suppress
from ozamonitor.register.calendar import (
    FIRST_SCHOOL_YEAR,
    parse_school_year,
    school_year_label,
    school_year_of,
)


def _single_period(per_child: pl.DataFrame | Any) -> pl.DataFrame:
    if not isinstance(per_child, pl.DataFrame):
        per_child = pl.from_pandas(per_child)  # public API accepts pandas too
    periods = per_child["period"].unique()
    if periods.len() > 1:
        raise CountingError(
            f"reconciliation needs one period; got {periods.len()}: filter per_child first")
    return per_child


def _members(per_child: pl.DataFrame) -> pl.DataFrame:
    return per_child.select("definition", "person_id").unique()


def waterfall(per_child: pl.DataFrame, order: Sequence[str] | None = None) -> pl.DataFrame:
    """From the narrowest to the widest definition: how many children each one adds.

    ``order`` defaults to definitions sorted by their count (ascending). Columns:
    ``step`` (1..), ``definition``, ``count`` (children it counts), ``added``
    (children not counted by any earlier definition), ``cumulative`` (size of the
    union so far).
    """
    m = _members(_single_period(per_child))
    counts = m.group_by("definition").agg(count=pl.len()).sort("count", "definition")
    names = list(order) if order is not None else counts["definition"].to_list()
    unknown = set(names) - set(counts["definition"].to_list())
    sizes = dict(zip(counts["definition"], counts["count"], strict=True))
    first = (
        m.with_columns(rank=pl.col("definition").replace_strict(
            {n: i for i, n in enumerate(names)}, default=None, return_dtype=pl.Int32))
        .filter(pl.col("rank").is_not_null())
        .group_by("person_id").agg(pl.col("rank").min())
        .group_by("rank").agg(added=pl.len())
    )
    added = dict(zip(first["rank"], first["added"], strict=True))
    rows = []
    cum = 0
    for i, n in enumerate(names):
        a = int(added.get(i, 0))
        cum += a
        rows.append((i + 1, n, int(sizes.get(n, 0)) if n not in unknown else 0, a, cum))
    return pl.DataFrame(rows, schema={"step": pl.Int32, "definition": pl.String,
                                      "count": pl.Int64, "added": pl.Int64,
                                      "cumulative": pl.Int64}, orient="row")


def overlap(per_child: pl.DataFrame, definitions: Sequence[str] | None = None) -> pl.DataFrame:
    """Children counted by both definitions, for every pair (long format, diagonal = count)."""
    m = _members(_single_period(per_child))
    names = list(definitions) if definitions is not None else sorted(
        m["definition"].unique().to_list())
    m = m.filter(pl.col("definition").is_in(names))
    pairs = (
        m.join(m, on="person_id", suffix="_b")
        .group_by("definition", "definition_b").agg(count=pl.len())
        .rename({"definition": "definition_a"})
    )
    grid = pl.DataFrame({"definition_a": names}).join(
        pl.DataFrame({"definition_b": names}), how="cross")
    return grid.join(pairs, on=["definition_a", "definition_b"], how="left").with_columns(
        pl.col("count").fill_null(0).cast(pl.Int64))


def trend(counter: Counter, school_years: Sequence[str] | None = None) -> pl.DataFrame:
    """Flow per school year and stock on 1 October of each year, per definition.

    Columns ``definition, school_year, measure ("flow"|"stock_1oct"), count``.
    Years default to the project's school years (``calendar.school_years()``,
    2014-2015 on) that the register covers.
    """
    tl = counter.timeline
    if school_years is None:
        y0 = max(school_year_of(tl.range_start), parse_school_year(FIRST_SCHOOL_YEAR))
        y1 = school_year_of(tl.extraction_date)
        school_years = [school_year_label(y) for y in range(y0, y1 + 1)]
    flows = counter.flow(list(school_years))
    oct1 = [dt.date(int(y[:4]), 10, 1) for y in school_years]
    oct1 = [d for d in oct1 if tl.range_start <= d <= tl.extraction_date]
    stocks = counter.stock(oct1) if oct1 else flows.clear()
    f = flows.group_by("definition", "period").agg(count=pl.n_unique("person_id")).rename(
        {"period": "school_year"}).with_columns(measure=pl.lit("flow"))
    s = stocks.group_by("definition", "period").agg(count=pl.n_unique("person_id")).with_columns(
        school_year=pl.col("period").str.slice(0, 4).cast(pl.Int32).map_elements(
            school_year_label, return_dtype=pl.String),
        measure=pl.lit("stock_1oct")).drop("period")
    grid = (pl.DataFrame({"definition": [d.name for d in counter.definitions]})
            .join(pl.DataFrame({"school_year": list(school_years)}), how="cross")
            .join(pl.DataFrame({"measure": ["flow", "stock_1oct"]}), how="cross"))
    out = grid.join(pl.concat([f, s.select(f.columns)]),
                    on=["definition", "school_year", "measure"], how="left")
    has_stock = {f"{d.year}-{d.year + 1}" for d in oct1}
    out = out.filter((pl.col("measure") == "flow") | pl.col("school_year").is_in(has_stock))
    return out.with_columns(pl.col("count").fill_null(0).cast(pl.Int64)).select(
        "definition", "school_year", "measure", "count")


# ------------------------------------------------------------------ publishing
def publishable_waterfall(wf: pl.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """Waterfall with ``added`` suppressed as one sum group (adds up to the union)."""
    s = suppress(wf.drop("cumulative"), "added", threshold=threshold, sum_groups=[[]])
    s = s.rename({"suppression": "added_suppression"})
    s = suppress(s, "count", threshold=threshold)
    return s.rename({"suppression": "count_suppression"})


def render_waterfall(wf: pl.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """Display strings for :func:`publishable_waterfall` (``<10`` / ``x``)."""

    def shown(value: str) -> pl.Expr:
        f = pl.col(f"{value}_suppression")
        return (pl.when(f == "primary").then(pl.lit(f"<{threshold}"))
                .when(f == "secondary").then(pl.lit("x"))
                .otherwise(pl.col(value).cast(pl.String)).alias(value))

    return wf.with_columns(shown("added"), shown("count")).drop(
        "added_suppression", "count_suppression")


def publishable_overlap(ov: pl.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """Overlap matrix with cells of 1..threshold-1 children suppressed."""
    return suppress(ov, "count", threshold=threshold)


def publishable_trend(tr: pl.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """Trend counts with cells of 1..threshold-1 children suppressed."""
    return suppress(tr, "count", threshold=threshold)


# --------------------------------------------------------------------- figures
_TXT = {
    "nl": {"wf_title": "Van smalle naar brede definitie", "added": "toegevoegd",
           "children": "aantal kinderen", "ov_title": "Overlap tussen definities",
           "tr_title": "Thuiszitters per definitie", "school_year": "schooljaar",
           "flow": "in de loop van het schooljaar", "stock_1oct": "op 1 oktober",
           "suppressed": "< drempel"},
    "en": {"wf_title": "From the narrowest to the widest definition", "added": "added",
           "children": "number of children", "ov_title": "Overlap between definitions",
           "tr_title": "Children at home per definition", "school_year": "school year",
           "flow": "during the school year", "stock_1oct": "on 1 October",
           "suppressed": "< threshold"},
}


def _num(v: float, lang: str) -> str:
    """Whole number with the language's thousands separator."""
    txt = f"{int(v):,}"
    return txt.replace(",", ".") if lang == "nl" else txt


def _t(lang: str, key: str) -> str:
    if lang not in _TXT:
        raise CountingError(f"unknown language {lang!r}; use 'nl' or 'en'")
    return _TXT[lang][key]


def waterfall_figure(wf: pl.DataFrame, *, lang: str = "nl",
                     labels: dict[str, str] | None = None) -> Figure:
    """Waterfall bar chart: each bar starts where the union so far ended.

    Suppressed (null) ``added`` values are drawn as empty bars.
    """
    labels = labels or {}
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    base = 0.0
    names = wf["definition"].to_list()
    added = wf["added"].to_list()
    for i, a in enumerate(added):
        if a is None:
            ax.bar(i, 0, bottom=base, color="lightgrey")
            ax.text(i, base, "x", ha="center", va="bottom", fontsize=8)
            continue
        ax.bar(i, a, bottom=base, color="#1f77b4")
        ax.text(i, base + a, f"+{_num(a, lang)}", ha="center", va="bottom", fontsize=8)
        base += a
    ax.set_xticks(range(len(names)), [labels.get(n, n) for n in names], rotation=30,
                  ha="right")
    ax.set_ylabel(_t(lang, "children"))
    ax.set_title(_t(lang, "wf_title"))
    fig.tight_layout()
    return fig


def overlap_figure(ov: pl.DataFrame, *, lang: str = "nl",
                   labels: dict[str, str] | None = None) -> Figure:
    """Heatmap of children counted by both definitions (suppressed cells blank)."""
    labels = labels or {}
    names = list(dict.fromkeys(ov["definition_a"].to_list()))
    idx = {n: i for i, n in enumerate(names)}
    mat = np.full((len(names), len(names)), np.nan)
    for a, b, c in ov.select("definition_a", "definition_b", "count").iter_rows():
        mat[idx[a], idx[b]] = np.nan if c is None else c
    fig = Figure(figsize=(8.5, 7))
    ax = fig.subplots()
    im = ax.imshow(mat, cmap="Blues")
    for i in range(len(names)):
        for j in range(len(names)):
            v = mat[i, j]
            dark = not np.isnan(v) and v > 0.6 * np.nanmax(mat)
            ax.text(j, i, "x" if np.isnan(v) else _num(v, lang), ha="center", va="center",
                    fontsize=7, color="white" if dark else "black")
    ticks = [labels.get(n, n) for n in names]
    ax.set_xticks(range(len(names)), ticks, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), ticks)
    ax.set_title(_t(lang, "ov_title"))
    fig.colorbar(im, ax=ax, label=_t(lang, "children"))
    fig.tight_layout()
    return fig


def trend_figure(tr: pl.DataFrame, *, lang: str = "nl",
                 labels: dict[str, str] | None = None) -> Figure:
    """Lines per definition: flow (solid) and stock on 1 October (dashed)."""
    labels = labels or {}
    fig = Figure(figsize=(11, 4.8))
    ax = fig.subplots()
    years = sorted(tr["school_year"].unique().to_list())
    xs = {y: i for i, y in enumerate(years)}
    for k, d in enumerate(dict.fromkeys(tr["definition"].to_list())):
        color = f"C{k % 10}"
        for measure, style in (("flow", "-"), ("stock_1oct", "--")):
            sub = tr.filter((pl.col("definition") == d) & (pl.col("measure") == measure)).sort(
                "school_year")
            if sub.height == 0:
                continue
            y = [np.nan if v is None else v for v in sub["count"].to_list()]
            ax.plot([xs[s] for s in sub["school_year"]], y, style, color=color, marker="o",
                    markersize=3,
                    label=f"{labels.get(d, d)} ({_t(lang, measure)})")
    ax.set_xticks(range(len(years)), years, rotation=45, ha="right")
    ax.set_xlabel(_t(lang, "school_year"))
    ax.set_ylabel(_t(lang, "children"))
    ax.set_title(_t(lang, "tr_title"))
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return fig
