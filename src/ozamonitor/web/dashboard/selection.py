"""A dashboard selection (definition, region level, region, period) and what it shows.

Every view and download builds its frames here, so a CSV holds exactly the
numbers the page shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import polars as pl

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


def trend(pub: Publication, s: Selection) -> pl.DataFrame:
    """The definition's total in the region over every period of the same kind."""
    periods = pub.stock_periods if s.kind == "stock" else pub.flow_periods
    df = pub.series(s.level, s.definition).filter(pl.col("region") == s.region)
    order = pl.DataFrame({"period": periods})
    got = order.join(df, on="period", how="left", maintain_order="left")
    return got.select(pl.lit(s.definition).alias("definition"), pl.lit(s.level).alias("level"),
                      pl.lit(s.region).alias("region"),
                      pl.lit(pub.region_name(s.region)).alias("region_name"),
                      "period", pl.col("count").fill_null("."))


def definitions(pub: Publication, s: Selection, lang: str = "nl") -> pl.DataFrame:
    """Every definition's total for the region and period, side by side."""
    rows = []
    for d in pub.definitions:
        c = pub.cell(s.level, d["name"], s.region, s.period)
        rows.append((d["name"], _label(pub, d["name"], lang), s.region, s.period,
                     c if c is not None else "."))
    return pl.DataFrame(rows, schema=["definition", "label", "region", "period", "count"],
                        orient="row")


def categories(pub: Publication, s: Selection, lang: str = "nl") -> pl.DataFrame:
    """The selected definition's categories and total (its reconciliation)."""
    d = pub.definition(s.definition) or {"categories": []}
    rows = []
    for c in [*d["categories"], {"name": "total", "label": "totaal", "label_en": "total"}]:
        lab = c.get("label_en") if lang == "en" and c.get("label_en") else c.get("label")
        cnt = pub.cell(s.level, s.definition, s.region, s.period, c["name"])
        rows.append((s.definition, c["name"], lab or c["name"], s.region, s.period,
                     cnt if cnt is not None else "."))
    return pl.DataFrame(rows, schema=["definition", "category", "label", "region", "period",
                                      "count"], orient="row")


def map_values(pub: Publication, s: Selection) -> pl.DataFrame:
    """The definition's total in every region of the map's level in the period."""
    df = pub.series(s.map_level, s.definition).filter(pl.col("period") == s.period)
    ids = pub.regions_of(s.map_level)
    got = pl.DataFrame({"region": ids}).join(df, on="region", how="left", maintain_order="left")
    return got.select(pl.lit(s.definition).alias("definition"),
                      pl.lit(s.map_level).alias("level"), "region",
                      pl.Series("region_name", [pub.region_name(r) for r in ids],
                                dtype=pl.String),
                      pl.lit(s.period).alias("period"), pl.col("count").fill_null("."))


def frame(pub: Publication, s: Selection, view: str, lang: str = "nl") -> pl.DataFrame:
    """The frame of ``view`` (one of :data:`VIEWS`)."""
    if view == "trend":
        return trend(pub, s)
    if view == "definitions":
        return definitions(pub, s, lang)
    if view == "categories":
        return categories(pub, s, lang)
    return map_values(pub, s)


# ----------------------------------------------------------------------------- charts
def _num(count: str) -> int | None:
    return value(count)


def line_spec(df: pl.DataFrame, title: str) -> dict:
    """Plotly spec of a trend (suppressed periods are gaps)."""
    return {"data": [{"type": "scatter", "mode": "lines+markers", "x": df["period"].to_list(),
                      "y": [_num(c) for c in df["count"].to_list()], "connectgaps": False,
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


def choropleth(pub: Publication, s: Selection, df: pl.DataFrame) -> dict:
    """Shapes with fill and label for the map template."""
    shapes = pub.shapes.get(s.map_level, {})
    nums = {r: _num(c) for r, c in zip(df["region"], df["count"], strict=True)}
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
    for r, name, c in zip(df["region"], df["region_name"], df["count"], strict=True):
        if r not in shapes:
            continue
        regions.append({"id": r, "name": name, "count": c, "d": shapes[r],
                        "fill": fill(nums[r]), "selected": r == s.region,
                        "query": s.query(level=s.map_level, region=r)})
    legend = [{"fill": fill(lo), "label": f"{lo}" if lo == hi else f"{lo}–{hi}"}
              for lo, hi in bounds]
    return {"regions": regions, "legend": legend, "height": pub.map_height,
            "suppressed": SYMBOL, "has_shapes": bool(shapes)}
