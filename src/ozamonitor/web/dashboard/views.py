"""Pages of the public dashboard: numbers, trend, definitions, map, OZA monitor.

Every view is public (``login_not_required``) and reads only the publication
folder (:mod:`ozamonitor.web.dashboard.data`).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from ozamonitor.files import formula_safe
from ozamonitor.web.dashboard import data, fragments, selection
from ozamonitor.web.dashboard.selection import VIEWS, Selection

#: Monitor tables in the order of the tab, with their titles.
MONITOR = ("oza_flows", "oza_durations", "oza_end_reasons", "oza_destination", "oza_regions",
           "oza_provinces", "oza_comparison", "oza_outcomes")


def _lang() -> str:
    return "en" if (get_language() or "nl").startswith("en") else "nl"


def _table(df: pl.DataFrame) -> dict:
    return {"columns": df.columns, "rows": [list(r) for r in df.iter_rows()]}


def _rows_table(pub: data.Publication, s: Selection, view: str, rows: list) -> dict:
    """A view's table for ``dashboard/_table.html`` with its body as HTML (the map's
    memoised per map level, definition and period; the others are a few rows)."""
    if view == "map":
        body = pub.memoise(("map-body", s.map_level, s.definition, s.period),
                           lambda: fragments.rows_html(rows))
    else:
        body = fragments.rows_html(rows)
    return {"columns": selection.COLUMNS[view], "rows": rows, "body": body}


def _level_label(level: str) -> str:
    return {"nation": _("the Netherlands"), "gemeente": _("gemeente"),
            "swv_po": _("SWV primary (PO)"), "swv_vo": _("SWV secondary (VO)")}[level]


@login_not_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The dashboard: selection, number, trend, definitions side by side, map."""
    pub = data.current()
    s = Selection.parse(pub, request.GET)
    lang = _lang()
    content = pub.page(("index", s, lang, get_language()), lambda: mark_safe(render_to_string(
        "dashboard/_index_content.html", _index_context(pub, s, lang))))
    return render(request, "dashboard/index.html", {"content": content})


def _index_context(pub: data.Publication, s: Selection, lang: str) -> dict:
    """What the content of the dashboard shows for a selection in a language (nothing
    from the request: the content is kept per selection and language)."""
    d = pub.definition(s.definition) or {"name": s.definition}
    dlabel = (d.get("label_en") if lang == "en" and d.get("label_en") else d.get("label")) \
        or s.definition
    rname = pub.region_name(s.region)
    tr, defs, cats, mp = (selection.rows(pub, s, v, lang) for v in VIEWS)
    number = pub.cell(s.level, s.definition, s.region, s.period)
    ptitle = _("reference date") if s.kind == "stock" else _("school year")
    names = [r[0] for r in defs]
    charts = {
        "trend": selection.line_spec(tr, _("%(definition)s in %(region)s") % {
            "definition": dlabel, "region": rname}),
        "definitions": selection.bar_spec(
            [r[1] for r in defs], [r[4] for r in defs],
            _("All definitions, %(region)s, %(period)s") % {"region": rname,
                                                             "period": s.period},
            highlight=names.index(s.definition) if s.definition in names else None),
        "categories": selection.bar_spec(
            [r[2] for r in cats], [r[5] for r in cats],
            _("%(definition)s by category") % {"definition": dlabel}),
    }
    ctx = {
        "pub": pub, "s": s, "number": number, "dlabel": dlabel, "rname": rname,
        "ptitle": ptitle, "level_label": _level_label(s.level),
        "definitions": [(x["name"], (x.get("label_en") if lang == "en" and x.get("label_en")
                                     else x.get("label")) or x["name"])
                        for x in pub.definitions],
        "levels": [(k, _level_label(k)) for k in data.LEVELS],
        "region_options": fragments.options_html(pub, s.level, s.region),
        "stock_periods": pub.stock_periods, "flow_periods": pub.flow_periods,
        "tables": {"trend": _rows_table(pub, s, "trend", tr),
                   "definitions": _rows_table(pub, s, "definitions", defs),
                   "categories": _rows_table(pub, s, "categories", cats),
                   "map": _rows_table(pub, s, "map", mp)},
        "charts_json": json.dumps(charts),
        "map": selection.choropleth(pub, s), "map_level_label": _level_label(s.map_level),
        "query": s.query(), "generated_at": pub.manifest.get("generated_at"),
        "threshold": pub.manifest.get("threshold"),
    }
    return ctx


#: First characters of a cell that ``formula_safe`` may change (files._FORMULA).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _plain(rows: list[tuple[str, ...]]) -> bool:
    """No text cell starts like a formula: ``formula_safe`` would return the frame as is
    (checked here in Python, ~50x cheaper than its per-column polars queries)."""
    return not any(v.startswith(_FORMULA_START) for r in rows for v in r if isinstance(v, str))


def _download(df: pl.DataFrame, name: str, fmt: str, plain: bool = False) -> HttpResponse:
    if fmt == "csv":
        safe = df if plain else formula_safe(df)  # plain: formula_safe would change nothing
        resp = HttpResponse(safe.write_csv(), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        buf = io.BytesIO()
        formula_safe(df).write_excel(buf, worksheet=name[:31])
        resp = HttpResponse(buf.getvalue(), content_type=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    else:
        raise Http404("format")
    resp["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return resp


@login_not_required
@require_GET
def download(request: HttpRequest, view: str, fmt: str) -> HttpResponse:
    """CSV or xlsx of exactly what a chart of the dashboard shows for the selection."""
    if view not in VIEWS:
        raise Http404(view)
    pub = data.current()
    s = Selection.parse(pub, request.GET)
    rows = selection.rows(pub, s, view, _lang())
    name = f"{view}_{s.definition}_{s.region}_{s.period}"
    return _download(selection.frame(pub, s, view, _lang()), name, fmt, plain=_plain(rows))


_monitor_html: dict[tuple[int, str], str] = {}


@login_not_required
@require_GET
def monitor(request: HttpRequest) -> HttpResponse:
    """The OZA monitor tab: every monitor table of the publication (the tables are
    rendered once per publication and language: they do not depend on the request)."""
    pub = data.current()
    key = (id(pub), _lang())
    if key not in _monitor_html:
        _monitor_html.clear()  # at most one publication's tables
        _monitor_html[key] = render_to_string("dashboard/_monitor_tables.html",
                                              {"tables": _monitor_tables(pub)})
    return render(request, "dashboard/monitor.html",
                  {"pub": pub, "tables_html": _monitor_html[key],
                   "toc": [(t["name"], t.get("title", t["name"])) for t in pub.manifest[
                       "tables"] if t["name"] in pub.monitor]})


def _monitor_tables(pub: data.Publication) -> list[dict]:
    titles = {t["name"]: t for t in pub.manifest["tables"]}
    tables = []
    for name in MONITOR:
        if name not in pub.monitor:
            continue
        df = pub.monitor[name]
        if name == "oza_durations" and "oza_durations_stats" in pub.measures:
            df = pub.measures["oza_durations_stats"]
        tables.append({"name": name, "title": titles[name].get("title", name),
                       "description": titles[name].get("description", ""),
                       "unit": titles[name].get("unit", ""), **_table(df)})
    return tables


@login_not_required
@require_GET
def monitor_download(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    pub = data.current()
    if name == "oza_durations" and "oza_durations_stats" in pub.measures:
        return _download(pub.measures["oza_durations_stats"], name, fmt)
    if name not in pub.monitor:
        raise Http404(name)
    return _download(pub.monitor[name], name, fmt)


@login_not_required
@require_GET
def definitions(request: HttpRequest) -> HttpResponse:
    pub = data.current()
    return render(request, "dashboard/definitions.html", {"pub": pub, "lang": _lang()})


@login_not_required
@require_GET
def definition(request: HttpRequest, name: str) -> HttpResponse:
    """A definition explained from its definition file, with its national counts."""
    pub = data.current()
    d = pub.definition(name)
    if d is None:
        raise Http404(name)
    lang = _lang()
    content = pub.page(("definition", name, lang, get_language()), lambda: mark_safe(
        render_to_string("dashboard/_definition_content.html", _definition_context(pub, d, lang))))
    return render(request, "dashboard/definition.html", {"d": d, "content": content})


def _definition_context(pub: data.Publication, d: dict, lang: str) -> dict:
    periods = pub.stock_periods + pub.flow_periods
    cats = [*d["categories"], {"name": "total", "label": "totaal", "label_en": "total"}]
    rows = [[p, *[pub.cell("nation", d["name"], "NL", p, c["name"]) or "." for c in cats]]
            for p in periods]
    return {"pub": pub, "d": d, "lang": lang, "cats": cats, "rows": rows,
            "rules": [json.dumps(c.get("when"), ensure_ascii=False) for c in d["categories"]]}


@login_not_required
@cache_control(public=True, max_age=86400)
def plotly_js(request: HttpRequest) -> FileResponse:
    """plotly.js as shipped in the plotly Python package (offline, no CDN)."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return FileResponse(path.open("rb"), content_type="text/javascript")
