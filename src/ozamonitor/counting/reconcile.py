"""Reconciliation of definitions: waterfall, overlap matrix and trends.

All functions take the per-child membership frame of :class:`~ozamonitor.counting.count.Counter`
(one period) and return polars frames; the ``*_figure`` functions draw them with
matplotlib (Dutch labels by default, ``lang="en"`` for English). :func:`waterfall`,
:func:`overlap` and :func:`trend` are *not* disclosure-controlled; publish
:func:`publishable_reconciliation` (waterfall and overlap together) and
:func:`publishable_trend`.

Disclosure control of the waterfall and the overlap matrix
----------------------------------------------------------
The two tables are protected *as one system*, because their figures are tied
by arithmetic: a definition's ``count`` is the overlap's diagonal |A|; |A| =
|A & B| + |A - B|; each ``added`` is a count of children in a region of the
Venn diagram of the definitions; and when definitions are nested (narrow to
wide) ``added_k = count_k - count_{k-1}``. The rule:

1. Every figure is written as a sum of *Venn atoms* (the number of children
   counted by exactly one set of definitions). A reader is assumed to know
   which atoms are empty (conservative: e.g. that definitions are nested), so
   only the non-empty atoms are unknowns.
2. The counts to protect are the shown ones (``count``, ``added``, |A & B|)
   and the implied ones a reader could compute: |A - B| for every ordered
   pair, the union of the first k definitions of the waterfall, and every
   atom. Each of them with 1..threshold-1 children is *sensitive*; shown
   sensitive counts are suppressed (primary, ``<10``).
3. A sensitive count is *recoverable* when its row (over the atoms) lies in
   the linear span of the published figures. While one is, one more shown
   figure is suppressed (secondary, ``x``): the smallest one whose removal
   makes that count unrecoverable (an ``added`` or |A & B| cell before a
   definition's ``count``, which is also published in the trend and the
   per-definition tables; non-zero before zero). Repeat until no sensitive
   count is recoverable. It terminates: each round hides one more figure.
4. The overlap is symmetric: |A & B| and |B & A| are one figure, and the
   diagonal is the waterfall's ``count``, so both are hidden alike. A hidden
   ``count`` must be hidden wherever else it is published (the trend's flow for
   the same school year, the per-definition tables): see :func:`hidden_counts`.

Like :mod:`ozamonitor.privacy.disclosure`, this protects against exact
recovery (linear equations), not against narrow bounds from non-negativity.
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
def _atoms(per_child: pl.DataFrame, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Venn atoms: (membership matrix atoms x definitions, number of children per atom).

    Only atoms with at least one child are returned (the others are taken as known
    to be zero; see the module docstring).
    """
    m = _members(per_child).filter(pl.col("definition").is_in(list(names)))
    if m.height == 0:
        return np.zeros((0, len(names)), dtype=bool), np.zeros(0, dtype=np.int64)
    bit_of = {n: 1 << i for i, n in enumerate(names)}
    bits = (m.with_columns(bit=pl.col("definition").replace_strict(
        bit_of, return_dtype=pl.Int64))
        .group_by("person_id").agg(pl.col("bit").sum())
        .group_by("bit").agg(n=pl.len()).sort("bit"))
    keys = bits["bit"].to_numpy()
    member = ((keys[:, None] >> np.arange(len(names))[None, :]) & 1).astype(bool)
    return member, bits["n"].to_numpy().astype(np.int64)


def _quantities(member: np.ndarray) -> tuple[list[tuple[str, tuple[int, ...]]], np.ndarray, int]:
    """Every count a reader may try to recover, as 0/1 rows over the atoms.

    Returns (keys, rows, n_shown): the first ``n_shown`` keys are shown in the
    waterfall/overlap (``("count", k)``, ``("added", k)``, ``("both", j, k)``),
    the rest are only implied (``("minus", j, k)`` = |D_j minus D_k|,
    ``("union", k)`` = size of the union of the first k+1, ``("atom", a)``).
    """
    n_def = member.shape[1]
    keys: list[tuple[str, tuple[int, ...]]] = []
    rows: list[np.ndarray] = []
    earlier = np.zeros(member.shape[0], dtype=bool)
    for k in range(n_def):
        keys.append(("count", (k,)))
        rows.append(member[:, k])
    for k in range(n_def):
        keys.append(("added", (k,)))
        rows.append(member[:, k] & ~earlier)
        earlier = earlier | member[:, k]
    for j in range(n_def):
        for k in range(j + 1, n_def):
            keys.append(("both", (j, k)))
            rows.append(member[:, j] & member[:, k])
    n_shown = len(keys)
    for j in range(n_def):
        for k in range(n_def):
            if j != k:
                keys.append(("minus", (j, k)))
                rows.append(member[:, j] & ~member[:, k])
    earlier = np.zeros(member.shape[0], dtype=bool)
    for k in range(n_def):
        earlier = earlier | member[:, k]
        if k:
            keys.append(("union", (k,)))
            rows.append(earlier.copy())
    for a in range(member.shape[0]):
        keys.append(("atom", (a,)))
        rows.append(np.arange(member.shape[0]) == a)
    mat = np.array(rows, dtype=float).reshape(len(rows), member.shape[0])
    return keys, mat, n_shown


def _determined(pub_rows: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Which target rows lie in the row space of ``pub_rows`` (exactly recoverable)."""
    if targets.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    if pub_rows.shape[0] == 0:
        return np.zeros(targets.shape[0], dtype=bool)
    _, sv, vt = np.linalg.svd(pub_rows, full_matrices=False)
    basis = vt[sv > 1e-9 * max(1.0, sv.max())]
    resid = targets - (targets @ basis.T) @ basis
    return np.abs(resid).max(axis=1) < 1e-7


def protect_reconciliation(
    member: np.ndarray, sizes: np.ndarray, threshold: int = DEFAULT_THRESHOLD
) -> tuple[list[tuple[str, tuple[int, ...]]], np.ndarray, np.ndarray]:
    """Decide which shown counts to hide so that no small count can be recovered.

    ``member`` (atoms x definitions) and ``sizes`` (children per atom) describe
    the data (see :func:`_atoms`). Returns ``(keys, values, flag)`` for the shown
    counts (see :func:`_quantities`): ``flag`` 0 = published, 1 = primary,
    2 = secondary suppression. The rule is in the module docstring.
    """
    if threshold < 1:
        raise CountingError(f"threshold must be at least 1, got {threshold}")
    keys, mat, n_shown = _quantities(member)
    values = mat @ sizes.astype(float) if mat.shape[1] else np.zeros(len(keys))
    sensitive = (values > 0) & (values < threshold)
    flag = np.where(sensitive[:n_shown], 1, 0)
    kind = [k for k, _ in keys[:n_shown]]
    # complements: added/both first; a definition's count only as the last resort
    # (it is also published in the trend and the per-definition tables)
    tier = np.array([1 if k == "count" else 0 for k in kind])
    for _ in range(n_shown + 1):
        pub = flag == 0
        det = _determined(mat[:n_shown][pub], mat[sensitive]) if sensitive.any() else []
        exposed = np.flatnonzero(sensitive)[np.asarray(det, dtype=bool)]
        if exposed.size == 0:
            break
        q = int(exposed[0])
        cands = np.flatnonzero(pub)
        best: tuple[tuple[int, bool, float, int], int] | None = None
        fallback: tuple[tuple[int, bool, float, int], int] | None = None
        for c in cands:
            rank = (int(tier[c]), bool(values[c] == 0), float(values[c]), int(c))
            keep = pub.copy()
            keep[c] = False
            if not _determined(mat[:n_shown][keep], mat[q:q + 1])[0]:
                if best is None or rank < best[0]:
                    best = (rank, int(c))
            elif np.any(mat[c] * mat[q]) and (fallback is None or rank < fallback[0]):
                fallback = (rank, int(c))
        pick = best or fallback
        if pick is None:  # pragma: no cover - a determined count always has a helper
            pick = (None, int(cands[np.argmin(tier[cands] * 1e12 + values[cands])]))  # type: ignore[assignment]
        flag[pick[1]] = 2
    else:  # pragma: no cover - each round hides one more cell
        raise CountingError("reconciliation suppression did not reach a fixed point")
    return keys[:n_shown], values[:n_shown], flag


_FLAG = {0: None, 1: "primary", 2: "secondary"}


def publishable_reconciliation(
    per_child: pl.DataFrame | Any,
    *,
    order: Sequence[str] | None = None,
    definitions: Sequence[str] | None = None,
    threshold: int = DEFAULT_THRESHOLD,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Waterfall and overlap matrix, disclosure-controlled together.

    Returns ``(waterfall, overlap)``. The waterfall has columns ``step,
    definition, count, added, count_suppression, added_suppression`` (no
    ``cumulative``); the overlap ``definition_a, definition_b, count,
    suppression`` (as :func:`~ozamonitor.privacy.disclosure.suppress` would give).
    Suppressed values are null. The diagonal of the overlap and ``count`` of the
    waterfall are the same figures and are suppressed alike.
    """
    pc = _single_period(per_child)
    wf = waterfall(pc, order)
    ov = overlap(pc, definitions)
    # one order for both: the waterfall's (its 'added' depends on the order)
    names = list(dict.fromkeys(wf["definition"].to_list() + ov["definition_a"].to_list()))
    member, sizes = _atoms(pc, names)
    keys, _, flag = protect_reconciliation(member, sizes, threshold)
    status = {k: _FLAG[int(f)] for k, f in zip(keys, flag, strict=True)}
    idx = {n: i for i, n in enumerate(names)}

    def count_flag(n: str) -> str | None:
        return status[("count", (idx[n],))]

    def pair_flag(a: str, b: str) -> str | None:
        if a == b:
            return count_flag(a)
        i, j = sorted((idx[a], idx[b]))
        return status[("both", (i, j))]

    cf = [count_flag(n) for n in wf["definition"]]
    af = [status[("added", (idx[n],))] for n in wf["definition"]]
    wf_out = wf.drop("cumulative").with_columns(
        count_suppression=pl.Series(cf, dtype=pl.String),
        added_suppression=pl.Series(af, dtype=pl.String),
    ).with_columns(
        pl.when(pl.col("count_suppression").is_null()).then(pl.col("count")).alias("count"),
        pl.when(pl.col("added_suppression").is_null()).then(pl.col("added")).alias("added"),
    ).select("step", "definition", "count", "added", "count_suppression", "added_suppression")
    of = [pair_flag(a, b) for a, b in ov.select("definition_a", "definition_b").iter_rows()]
    ov_out = ov.with_columns(suppression=pl.Series(of, dtype=pl.String)).with_columns(
        pl.when(pl.col("suppression").is_null()).then(pl.col("count")).alias("count"))
    return wf_out, ov_out


def hidden_counts(wf: pl.DataFrame) -> list[str]:
    """Definitions whose count a :func:`publishable_reconciliation` waterfall hides.

    The same figure is published elsewhere (the trend's flow for that school
    year, the per-definition tables): hide it there too.
    """
    return wf.filter(pl.col("count_suppression").is_not_null())["definition"].to_list()


def render_waterfall(wf: pl.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """Display strings for :func:`publishable_reconciliation`'s waterfall (``x`` where hidden)."""

    def shown(value: str) -> pl.Expr:
        f = pl.col(f"{value}_suppression")
        return (pl.when(f.is_not_null()).then(pl.lit("x"))
                .otherwise(pl.col(value).cast(pl.String)).alias(value))

    return wf.with_columns(shown("added"), shown("count")).drop(
        "added_suppression", "count_suppression")


def publishable_trend(tr: pl.DataFrame, threshold: int = DEFAULT_THRESHOLD, *,
                      hide: dict[str, Sequence[str]] | None = None) -> pl.DataFrame:
    """Trend counts with cells of 1..threshold-1 children suppressed.

    Trend cells are separate figures (no sum relations). ``hide`` maps a school
    year to definitions whose flow in that year is hidden elsewhere (e.g.
    :func:`hidden_counts` of that year's reconciliation): those cells are
    suppressed too (secondary), so the same figure is not published here.
    """
    s = suppress(tr, "count", threshold=threshold)
    if not hide:
        return s
    cond = pl.lit(False)
    for year, defs in hide.items():
        cond = cond | ((pl.col("school_year") == year) & pl.col("definition").is_in(list(defs)))
    cond = cond & (pl.col("measure") == "flow") & pl.col("suppression").is_null()
    return s.with_columns(
        pl.when(cond).then(None).otherwise(pl.col("count")).alias("count"),
        pl.when(cond).then(pl.lit("secondary")).otherwise(pl.col("suppression"))
        .alias("suppression"))


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
