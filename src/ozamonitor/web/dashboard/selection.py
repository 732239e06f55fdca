"""A dashboard selection (definition, region level, region, period) and what it shows.

Every view and download builds its frames here, so a CSV holds exactly the
numbers the page shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import polars as pl

from ozamonitor.web.dashboard import fragments
from ozamonitor.web.dashboard.data import LEVELS, SYMBOL, Publication, value

VIEWS = ("trend", "definitions", "categories", "map")


@dataclass(frozen=True)
class Selection:
    """A validated selection; unknown or missing values fall back to defaults."""

    definition: str
    level: str
    region: str
    period: str

    @classmethod
    def parse(cls, pub: Publication, q: Mapping[str, str]) -> Selection:
        names = [d["name"] for d in pub.definitions] or sorted(
            {d for (_, d, _) in pub.counts})
        definition = q.get("definition") if q.get("definition") in names else names[0]
        level = q.get("level") if q.get("level") in LEVELS else "nation"
        regions = pub.regions_of(level)
        region = q.get("region") if q.get("region") in regions else regions[0]
        periods = pub.stock_periods + pub.flow_periods
        default = (pub.stock_periods or pub.flow_periods)[-1]
        period = q.get("period") if q.get("period") in periods else default
        return cls(definition, level, region, period)

    @property
    def kind(self) -> str:
        """``stock`` (a reference date) or ``flow`` (a school year)."""
        return "flow" if len(self.period) == 9 and self.period[4] == "-" else "stock"

    def query(self, **change: str) -> str:
        d = {"definition": self.definition, "level": self.level, "region": self.region,
             "period": self.period, **change}
        return urlencode(d)

    @property
    def map_level(self) -> str:
        return self.level if self.level != "nation" else "gemeente"


def _label(pub: Publication, name: str, lang: str) -> str:
    d = pub.definition(name) or {}
    return (d.get("label_en") if lang == "en" and d.get("label_en") else d.get("label")) or name


#: The columns of each view's rows (every value a string).
COLUMNS: dict[str, tuple[str, ...]] = {
    "trend": ("definition", "level", "region", "region_name", "period", "count"),
    "definitions": ("definition", "label", "region", "period", "count"),
    "categories": ("definition", "category", "label", "region", "period", "count"),
    "map": ("definition", "level", "region", "region_name", "period", "count"),
}
Row = tuple[str, ...]


def _count(c: str | None) -> str:
    return c if c is not None else "."


def trend(pub: Publication, s: Selection) -> list[Row]:
    """The definition's total in the region over every period of the same kind."""
    periods = pub.stock_periods if s.kind == "stock" else pub.flow_periods
    name = pub.region_name(s.region)
    return [(s.definition, s.level, s.region, name, p,
             _count(pub.cell(s.level, s.definition, s.region, p))) for p in periods]


def definitions(pub: Publication, s: Selection, lang: str = "nl") -> list[Row]:
    """Every definition's total for the region and period, side by side."""
    return [(d["name"], _label(pub, d["name"], lang), s.region, s.period,
             _count(pub.cell(s.level, d["name"], s.region, s.period)))
            for d in pub.definitions]


def categories(pub: Publication, s: Selection, lang: str = "nl") -> list[Row]:
    """The selected definition's categories and total (its reconciliation)."""
    d = pub.definition(s.definition) or {"categories": []}
    rows = []
    for c in [*d["categories"], {"name": "total", "label": "totaal", "label_en": "total"}]:
        lab = c.get("label_en") if lang == "en" and c.get("label_en") else c.get("label")
        rows.append((s.definition, c["name"], lab or c["name"], s.region, s.period,
                     _count(pub.cell(s.level, s.definition, s.region, s.period, c["name"]))))
    return rows


def map_values(pub: Publication, s: Selection) -> list[Row]:
    """The definition's total in every region of the map's level in the period."""
    lv = s.map_level
    return [(s.definition, lv, r, pub.region_name(r), s.period,
             _count(pub.cell(lv, s.definition, r, s.period))) for r in pub.regions_of(lv)]


def rows(pub: Publication, s: Selection, view: str, lang: str = "nl") -> list[Row]:
    """The rows of ``view`` (one of :data:`VIEWS`), memoised per selection and language
    (the map's per map level, definition and period: it depends on nothing else)."""
    if view == "map":
        key: tuple = ("rows", "map", s.map_level, s.definition, s.period)
        return pub.memoise(key, lambda: map_values(pub, s))
    lang = "en" if lang == "en" else "nl"
    build = {"trend": lambda: trend(pub, s), "definitions": lambda: definitions(pub, s, lang),
             "categories": lambda: categories(pub, s, lang)}[view]
    return pub.memoise(("rows", view, s, lang), build)


def frame(pub: Publication, s: Selection, view: str, lang: str = "nl") -> pl.DataFrame:
    """The frame of ``view`` (one of :data:`VIEWS`): :func:`rows` as strings."""
    return pl.DataFrame(rows(pub, s, view, lang), schema={c: pl.String for c in COLUMNS[view]},
                        orient="row")


# ----------------------------------------------------------------------------- charts
def _num(count: str) -> int | None:
    return value(count)


def line_spec(rows: list[Row], title: str) -> dict:
    """Plotly spec of a trend (suppressed periods are gaps)."""
    return {"data": [{"type": "scatter", "mode": "lines+markers", "x": [r[4] for r in rows],
                      "y": [_num(r[5]) for r in rows], "connectgaps": False,
                      "line": {"color": "#0b5cad"}, "marker": {"size": 7}}],
            "layout": {"title": {"text": title}, "margin": {"t": 40, "r": 10, "b": 60, "l": 50},
                       "xaxis": {"type": "category"},
                       "yaxis": {"rangemode": "tozero"}, "height": 320}}


def bar_spec(labels: list[str], counts: list[str], title: str, highlight: int | None = None
             ) -> dict:
    colors = ["#0b5cad" if i != highlight else "#a63d00" for i in range(len(labels))]
    return {"data": [{"type": "bar", "x": labels, "y": [_num(c) for c in counts],
                      "marker": {"color": colors},
                      "text": [c if c != "." else "" for c in counts], "textposition": "auto"}],
            "layout": {"title": {"text": title}, "margin": {"t": 40, "r": 10, "b": 90, "l": 50},
                       "xaxis": {"type": "category"}, "yaxis": {"rangemode": "tozero"},
                       "height": 320}}


#: Sequential colours (ColorBrewer Blues, dark enough for white text on the darkest).
CLASSES = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
SUPPRESSED_FILL = "url(#hatch)"


def classes(values: list[int]) -> list[tuple[int, int]]:
    """Up to five classes (lower, upper bound) over the published values."""
    vals = sorted(set(values))
    if not vals:
        return []
    if len(vals) <= len(CLASSES):
        return [(v, v) for v in vals]
    k = len(CLASSES)
    cuts = [vals[min(len(vals) - 1, round(i * (len(vals) - 1) / k))] for i in range(k + 1)]
    out = []
    lo = cuts[0]
    for i in range(1, k + 1):
        hi = cuts[i]
        if hi >= lo:
            out.append((lo, hi))
            lo = hi + 1
    return out


def choropleth(pub: Publication, s: Selection) -> dict:
    """Shapes with fill and label for the map template; ``svg`` is the regions' links
    with the selected region marked (the rest is memoised per map level, definition
    and period, all it depends on)."""
    m = pub.memoise(("choropleth", s.map_level, s.definition, s.period),
                    lambda: _choropleth(pub, s))
    return {**m, "svg": fragments.map_paths(m["regions"], s.region)}


def _choropleth(pub: Publication, s: Selection) -> dict:
    shapes = pub.shapes.get(s.map_level, {})
    rows = map_values(pub, s)
    nums = {r[2]: _num(r[5]) for r in rows}
    bounds = classes([v for v in nums.values() if v is not None])

    def fill(v: int | None) -> str:
        if v is None:
            return SUPPRESSED_FILL
        top = len(CLASSES) - 1
        for i, (lo, hi) in enumerate(bounds):
            if lo <= v <= hi:  # fewer classes: spread over the scale from the lightest
                return CLASSES[round(i * top / max(len(bounds) - 1, 1))]
        return CLASSES[-1]

    regions = []
    for _d, _lv, r, name, _p, c in rows:
        if r not in shapes:
            continue
        reg = {"id": r, "name": name, "count": c, "d": shapes[r], "fill": fill(nums[r]),
               "query": s.query(level=s.map_level, region=r)}
        reg["html"], reg["html_sel"] = fragments.region_html(reg)
        regions.append(reg)
    legend = [{"fill": fill(lo), "label": f"{lo}" if lo == hi else f"{lo}–{hi}"}
              for lo, hi in bounds]
    return {"regions": regions, "legend": legend, "height": pub.map_height,
            "suppressed": SYMBOL, "has_shapes": bool(shapes)}
