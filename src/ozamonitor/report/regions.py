"""Regional thuiszitter counts in the report: a map, the extremes and a CSV (not a long table).

The per-gemeente and per-SWV totals come from the report's one protected
publication (:func:`ozamonitor.counting.publication.protect_counts`): a cell
suppressed there is suppressed here, on the map and in the CSV alike. Per region
level the report shows

* a choropleth map (matplotlib, from GeoJSON boundaries: ``--geometry``, else the
  register's ``geometry.geojson``, else synthetic boundaries of its regions);
  suppressed cells are hatched grey with a legend entry, and the figure has an
  alt text that names what the map shows;
* the ten highest and ten lowest regions among the published cells, ranked by
  thuiszitters per 1,000 pupils where the denominator exists, else by count;
* a link to the full CSV (every definition, level and region) written beside
  the report.

Denominator: pupils enrolled on the reference date, by gemeente of residence
(gemeente) or the SWV of their school (SWV), as the count attributes enrolled
children. A region with fewer pupils than the threshold gets no rate.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from matplotlib.figure import Figure

from ozamonitor.errors import ConfigurationError
from ozamonitor.files import formula_safe
from ozamonitor.privacy.publication import SYMBOL, Protected
from ozamonitor.register.store import Register
from ozamonitor.report.document import Section, figure_html, note, paragraph, table_html, tr

__all__ = ["LEVELS", "TOP", "load_geometry", "pupils", "region_rates", "regional_sections"]

#: Region levels of the report (table of the publication, feature kinds on the map).
LEVELS: dict[str, tuple[str, ...]] = {"gemeente": ("gemeente",), "swv": ("swv_po", "swv_vo")}
#: Regions listed at each end.
TOP = 10
SUPPRESSED_COLOUR = "#bdbdbd"


def load_geometry(reg: Register, geometry: str | Path | None = None) -> dict[str, Any]:
    """Boundaries as a GeoJSON FeatureCollection (``geometry``, the register's own, or
    synthetic ones from its regions)."""
    from ozamonitor.report.publication import geometry_text

    return json.loads(geometry_text(reg, Path(geometry) if geometry else None))


def pupils(reg: Register, day: Any) -> pl.DataFrame:
    """Pupils enrolled on ``day`` per region: ``level, region, pupils``.

    Gemeente: the pupil's gemeente of residence on ``day``; SWV: the SWV of the
    school (the count attributes enrolled thuiszitters the same way).
    """
    on = (pl.col("start") <= day) & (pl.col("end").is_null() | (pl.col("end") >= day))
    enr = reg.scan("enrolments").filter(on).select("person_id", "school_id").unique(
        "person_id", keep="first").collect()
    res = reg.scan("residences").filter(on).select("person_id", "gemeente_code").unique(
        "person_id", keep="first").collect()
    schools = reg.read("schools", ["school_id", "swv_id"])
    gem = enr.join(res, on="person_id").group_by(region="gemeente_code").agg(pupils=pl.len())
    swv = (enr.join(schools, on="school_id").filter(pl.col("swv_id").is_not_null())
           .group_by(region="swv_id").agg(pupils=pl.len()))
    return pl.concat([gem.with_columns(level=pl.lit("gemeente")),
                      swv.with_columns(level=pl.lit("swv"))]).select(
        "level", "region", pl.col("pupils").cast(pl.Int64))


def region_rates(res: Protected, period: str, denominators: pl.DataFrame,
                 names: dict[str, str], threshold: int) -> pl.DataFrame:
    """Every definition's total per region (both levels) with its rate per 1,000 pupils.

    Columns ``level, region, name, definition, count`` (text: the number or
    ``x``), ``suppressed``, ``pupils`` and ``per_1000`` (null where suppressed or
    the region has fewer than ``threshold`` pupils).
    """
    frames = []
    for level in LEVELS:
        t = res.table(f"by_{level}").filter((pl.col("period") == period)
                                            & (pl.col("category") == "total"))
        frames.append(t.with_columns(level=pl.lit(level)))
    t = pl.concat(frames).join(denominators, on=["level", "region"], how="left")
    hidden = pl.col("suppression").is_not_null()
    rate = pl.when(~hidden & (pl.col("pupils") >= threshold)).then(
        (1000 * pl.col("count") / pl.col("pupils")).round(2))
    return t.select(
        "level", "region",
        name=pl.col("region").replace_strict(names, default=pl.col("region")),
        definition="definition",
        count=pl.when(hidden).then(pl.lit(SYMBOL)).otherwise(pl.col("count").cast(pl.String)),
        suppressed=hidden,
        pupils=pl.when(pl.col("pupils") >= threshold).then(pl.col("pupils")),
        per_1000=rate)


def csv_text(rates: pl.DataFrame) -> str:
    """The full regional table as CSV text (formula-safe; ``x`` where suppressed)."""
    return formula_safe(rates.drop("suppressed")).write_csv()


def extremes(rates: pl.DataFrame, level: str, definition: str, n: int = TOP
             ) -> tuple[pl.DataFrame, pl.DataFrame, str]:
    """The ``n`` highest and lowest published regions of one level and definition.

    Ranked by ``per_1000`` where a published region has a denominator (those
    without one are left out of that ranking), else by count.
    Returns ``(highest, lowest, key)`` with ``key`` the ranking column.
    """
    shown = rates.filter((pl.col("level") == level) & (pl.col("definition") == definition)
                         & ~pl.col("suppressed")).with_columns(
        n=pl.col("count").cast(pl.Int64))
    key = "per_1000" if shown["per_1000"].null_count() < shown.height else "n"
    if key == "per_1000":  # regions without a denominator are not ranked by rate
        shown = shown.filter(pl.col("per_1000").is_not_null())
    cols = ["region", "name", pl.col("n").alias("count"), "pupils", "per_1000"]
    hi = shown.sort([key, "region"], descending=[True, False]).head(n).select(cols)
    lo = shown.sort([key, "region"]).head(n).select(cols)
    return hi, lo, key


def _paths(geom: Any) -> list[Any]:
    """Matplotlib paths of a shapely (Multi)Polygon (holes kept)."""
    from matplotlib.path import Path as MPath

    polys = getattr(geom, "geoms", [geom])
    out = []
    for p in polys:
        rings = [MPath(list(p.exterior.coords))] + [MPath(list(r.coords)) for r in p.interiors]
        out.append(MPath.make_compound_path(*rings))
    return out


def map_figure(geo: dict[str, Any], kinds: tuple[str, ...], values: dict[str, float | None],
               *, lang: str, label: str) -> Figure:
    """A choropleth of the features of ``kinds`` (one panel each).

    ``values``: region id -> value (``None``: suppressed, hatched grey; a region
    not in ``values`` is drawn dotted white, no data).
    """
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize
    from matplotlib.patches import Patch, PathPatch
    from shapely.geometry import shape

    shown = [v for v in values.values() if v is not None and v == v]
    norm = Normalize(0.0, max(shown) if shown and max(shown) > 0 else 1.0)
    # Blues from a visible tint: a zero must not look like white (no data)
    cmap = ListedColormap(colormaps["Blues"](np.linspace(0.15, 1.0, 256)))
    fig = Figure(figsize=(4.6 * len(kinds) + 1.2, 5.6))
    axes = fig.subplots(1, len(kinds), squeeze=False)[0]
    for ax, kind in zip(axes, kinds, strict=True):
        for f in (f for f in geo.get("features", []) if f["properties"].get("kind") == kind):
            rid = f["properties"].get("region_id", f.get("id"))
            v = values.get(rid, float("nan"))
            style: dict[str, Any] = {"facecolor": "white", "hatch": "...."}
            if v is None:
                style = {"facecolor": SUPPRESSED_COLOUR, "hatch": "////"}
            elif v == v:
                style = {"facecolor": cmap(norm(v))}
            for p in _paths(shape(f["geometry"])):
                ax.add_patch(PathPatch(p, edgecolor="#555555", linewidth=0.25, **style))
        ax.autoscale_view()
        ax.set_aspect(1.6)
        ax.set_axis_off()
        ax.set_title({"gemeente": "gemeenten", "swv_po": tr(lang, "SWV PO", "SWV PO"),
                      "swv_vo": tr(lang, "SWV VO", "SWV VO")}.get(kind, kind))
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=list(axes), label=label,
                 shrink=0.7)
    axes[0].legend(handles=[
        Patch(facecolor=SUPPRESSED_COLOUR, hatch="////", edgecolor="#555555",
              label=tr(lang, "onderdrukt (x)", "suppressed (x)")),
        Patch(facecolor="white", hatch="....", edgecolor="#555555",
              label=tr(lang, "geen gegevens", "no data"))],
        loc="lower left", fontsize=8, frameon=False)
    return fig


def _alt(lang: str, level: str, what: str, hi: pl.DataFrame, key: str) -> str:
    top = ", ".join(f"{n} ({v})" for n, v in zip(hi["name"].head(3), hi[
        "per_1000" if key == "per_1000" else "count"].head(3), strict=True))
    return tr(
        lang,
        f"Kaart per {level}: {what}. Donkerder blauw is meer; grijs gearceerd is onderdrukt, "
        f"wit gestippeld is geen gegevens. Hoogste: {top or 'geen'}. De tabellen hieronder "
        "en de CSV geven de cijfers.",
        f"Map by {level}: {what}. Darker blue is more; hatched grey is suppressed, dotted "
        f"white is no data. Highest: {top or 'none'}. The tables below and the CSV give the "
        "figures.")


def _level_section(rates: pl.DataFrame, geo: dict[str, Any], level: str, definition: str,
                   lang: str, def_label: str, period: str) -> Section:
    hi, lo, key = extremes(rates, level, definition)
    sub = rates.filter((pl.col("level") == level) & (pl.col("definition") == definition))
    col = "per_1000" if key == "per_1000" else "count"
    values = {r: (None if s else (float(v) if v is not None else float("nan")))
              for r, s, v in zip(sub["region"], sub["suppressed"],
                                 sub[col].cast(pl.Float64, strict=False), strict=True)}
    what = tr(lang, f"{def_label} per 1.000 leerlingen op {period}",
              f"{def_label} per 1,000 pupils on {period}") if key == "per_1000" else tr(
        lang, f"{def_label}, aantal op {period}", f"{def_label}, count on {period}")
    name = {"gemeente": "gemeente", "swv": tr(lang, "samenwerkingsverband", "SWV")}[level]
    fig = map_figure(geo, LEVELS[level], values, lang=lang, label=tr(
        lang, "per 1.000 leerlingen", "per 1,000 pupils") if key == "per_1000" else tr(
        lang, "aantal", "count"))
    labels = {"region": "code", "name": tr(lang, "naam", "name"),
              "count": tr(lang, "aantal", "count"), "pupils": tr(lang, "leerlingen", "pupils"),
              "per_1000": tr(lang, "per 1.000", "per 1,000")}
    body = (figure_html(fig, alt=_alt(lang, name, what, hi, key))
            + table_html(hi, labels=labels, caption=tr(
                lang, f"De {TOP} hoogste", f"The {TOP} highest"))
            + table_html(lo, labels=labels, caption=tr(
                lang, f"De {TOP} laagste", f"The {TOP} lowest")))
    title = {"gemeente": tr(lang, "Per gemeente", "By gemeente"),
             "swv": tr(lang, "Per samenwerkingsverband", "By SWV")}[level]
    return Section(id=f"counting-{level}", title=title, html=body)


def regional_sections(reg: Register, res: Protected, *, period: str, day: Any,
                      definition: str, def_label: str, lang: str, threshold: int,
                      geometry: str | Path | None = None,
                      csv_name: str = "thuiszitters-regio.csv",
                      multi_swv_note: str = "") -> list[Section]:
    """The map, extremes and CSV link per region level (sections ``counting-gemeente``
    and ``counting-swv``); the CSV is attached to the first section as ``csv_name``."""
    if "/" in csv_name or "\\" in csv_name:
        raise ConfigurationError(f"CSV name {csv_name!r}: a file name beside the report")
    names = dict(reg.read("regions").select("region_id", "name").iter_rows())
    rates = region_rates(res, period, pupils(reg, day), names, threshold)
    geo = load_geometry(reg, geometry)
    link = paragraph(tr(
        lang, "Alle gemeenten en samenwerkingsverbanden, elke definitie: ",
        "Every gemeente and SWV, every definition: ")).removesuffix("</p>") + (
        f'<a href="{html.escape(csv_name)}" download>{html.escape(csv_name)}</a> '
        f"(CSV; {html.escape(SYMBOL)} = {tr(lang, 'onderdrukt', 'suppressed')}).</p>")
    how = note(tr(
        lang, "Per 1.000 leerlingen: ingeschreven leerlingen op de peildatum, naar woongemeente "
        "(gemeente) of het SWV van de school (SWV). Alleen gepubliceerde cellen worden "
        "gerangschikt.",
        "Per 1,000 pupils: pupils enrolled on the reference date, by gemeente of residence "
        "(gemeente) or their school's SWV (SWV). Only published cells are ranked."))
    subs = [_level_section(rates, geo, lv, definition, lang, def_label, period)
            for lv in LEVELS]
    subs[0].html = link + how + subs[0].html
    subs[0].files[csv_name] = csv_text(rates)
    subs[1].html = multi_swv_note + subs[1].html
    return subs
