"""The dashboard's only data source: one publication folder (``ozamonitor publish``).

Nothing here reads microdata: a publication holds protected tables (counts or
the symbol ``x``), the definitions' text, region names and map boundaries. The
folder is read once per process (and again when its manifest changes) and
indexed so that every view is a dictionary lookup and a small filter.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ozamonitor.privacy.folder import FolderError

SYMBOL = "x"
#: Region levels the dashboard offers: level -> (table, region kind in regions.csv).
LEVELS: dict[str, tuple[str, str | None]] = {
    "nation": ("by_nation", None),
    "gemeente": ("by_gemeente", "gemeente"),
    "swv_po": ("by_swv", "swv_po"),
    "swv_vo": ("by_swv", "swv_vo"),
}
MAP_WIDTH = 440.0
#: Derived results memoised per publication before the memo is emptied (a bound on
#: memory: the map pieces of 3 levels x definitions x periods fit many times over).
MEMO_SIZE = 2048
#: Rendered dashboard contents kept per publication (a gemeente page's is ~0.2 MB).
PAGES_SIZE = 128
T = TypeVar("T")


def value(count: str | None) -> int | None:
    """The integer of a published count; ``None`` for a suppressed cell (``x``)."""
    if count is None or count == SYMBOL:
        return None
    try:
        return int(count)
    except ValueError:
        return None


@dataclass
class Publication:
    """An indexed publication folder."""

    path: Path
    manifest: dict[str, Any]
    definitions: list[dict[str, Any]]
    regions: dict[str, dict[str, str]]
    counts: dict[tuple[str, str, str], pl.DataFrame]  # (table, definition, category)
    monitor: dict[str, pl.DataFrame]
    measures: dict[str, pl.DataFrame]
    shapes: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> id -> svg path
    map_height: float = 0.0
    #: (level, definition, category) -> its frame and (region, period) -> count
    _series: dict[tuple[str, str, str], pl.DataFrame] = field(default_factory=dict)
    _cells: dict[tuple[str, str, str], dict[tuple[str, str], str]] = field(
        default_factory=dict)
    _regions: dict[str, list[str]] = field(default_factory=dict)
    #: Derived rows and HTML fragments, memoised (the folder is immutable while served).
    memo: dict[Any, Any] = field(default_factory=dict)
    #: Rendered page contents, least recently used first (see :meth:`page`).
    pages: OrderedDict[Hashable, str] = field(default_factory=OrderedDict)
    _pages_lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------------ lookups
    def page(self, key: Hashable, build: Callable[[], str]) -> str:
        """A rendered page content, kept for the :data:`PAGES_SIZE` most recently used
        keys (the key must hold everything the content depends on: selection, language)."""
        with self._pages_lock:
            hit = self.pages.get(key)
            if hit is not None:
                self.pages.move_to_end(key)
                return hit
        hit = build()  # outside the lock: two threads may build the same page once each
        with self._pages_lock:
            self.pages[key] = hit
            while len(self.pages) > PAGES_SIZE:
                self.pages.popitem(last=False)
        return hit

    def memoise(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()`` once per key for this publication (bounded by :data:`MEMO_SIZE`;
        the key must hold everything the result depends on: selection, language)."""
        hit = self.memo.get(key, self.memo)
        if hit is self.memo:
            if len(self.memo) >= MEMO_SIZE:
                self.memo.clear()
            hit = self.memo[key] = build()
        return hit

    @property
    def stock_periods(self) -> list[str]:
        return list(self.manifest.get("periods", {}).get("stock", []))

    @property
    def flow_periods(self) -> list[str]:
        return list(self.manifest.get("periods", {}).get("flow", []))

    def definition(self, name: str) -> dict[str, Any] | None:
        return next((d for d in self.definitions if d["name"] == name), None)

    def region_name(self, rid: str) -> str:
        if rid == "NL":
            return "Nederland"
        return self.regions.get(rid, {}).get("name", rid)

    def regions_of(self, level: str) -> list[str]:
        """The level's region ids sorted by name (do not modify the list)."""
        hit = self._regions.get(level)
        if hit is None:
            kind = LEVELS[level][1]
            hit = ["NL"] if kind is None else sorted(
                (r for r, v in self.regions.items() if v["kind"] == kind),
                key=lambda r: self.regions[r]["name"])
            self._regions[level] = hit
        return hit

    def series(self, level: str, definition: str, category: str = "total") -> pl.DataFrame:
        """``region, period, count`` of one definition's category at a level."""
        key = (level, definition, category)
        hit = self._series.get(key)
        if hit is not None:
            return hit
        table = LEVELS[level][0]
        df = self.counts.get((table, definition, category))
        if df is None:
            df = pl.DataFrame(schema={"region": pl.String, "period": pl.String,
                                      "count": pl.String})
        kind = LEVELS[level][1]
        if kind is not None:
            ids = [r for r, v in self.regions.items() if v["kind"] == kind]
            df = df.filter(pl.col("region").is_in(ids))
        self._cells[key] = {(r, p): c for r, p, c in df.iter_rows()}
        self._series[key] = df
        return df

    def index(self) -> Publication:
        """Build every level's frames and cell lookups now (before serving threads)."""
        for table, definition, category in list(self.counts):
            for level, (t, _) in LEVELS.items():
                if t == table:
                    self.series(level, definition, category)
        for level in LEVELS:
            self.regions_of(level)
        return self

    def cell(self, level: str, definition: str, region: str, period: str,
             category: str = "total") -> str | None:
        """The published count of one cell (``None`` when the publication lacks it)."""
        key = (level, definition, category)
        if key not in self._cells:
            self.series(level, definition, category)
        return self._cells[key].get((region, period))


def _index_counts(folder: Path, manifest: dict[str, Any]
                  ) -> dict[tuple[str, str, str], pl.DataFrame]:
    out: dict[tuple[str, str, str], pl.DataFrame] = {}
    names = {t["name"]: t for t in manifest["tables"]}
    for table in {t for t, _ in LEVELS.values()}:
        if table not in names:
            raise FolderError(f"{folder}: the manifest lists no table {table!r}")
        df = pl.read_csv(folder / names[table]["file"], infer_schema=False)
        for (d, c), part in df.group_by("definition", "category", maintain_order=True):
            out[(table, str(d), str(c))] = part.select("region", "period", "count")
    return out


def _project(geojson: dict[str, Any]) -> tuple[dict[str, dict[str, str]], float]:
    """SVG path data per kind and region id (equirectangular at the map's latitude)."""
    xs: list[float] = []
    ys: list[float] = []

    def rings(geom: dict[str, Any]) -> list[list[list[float]]]:
        if geom["type"] == "Polygon":
            return geom["coordinates"]
        if geom["type"] == "MultiPolygon":
            return [r for p in geom["coordinates"] for r in p]
        return []

    feats = geojson.get("features", [])
    for f in feats:
        for ring in rings(f["geometry"]):
            xs.extend(p[0] for p in ring)
            ys.extend(p[1] for p in ring)
    if not xs:
        return {}, 0.0
    lat0 = math.radians((min(ys) + max(ys)) / 2)
    kx = math.cos(lat0)
    w = (max(xs) - min(xs)) * kx or 1.0
    scale = MAP_WIDTH / w
    height = (max(ys) - min(ys)) * scale
    out: dict[str, dict[str, str]] = {}
    for f in feats:
        props = f.get("properties", {})
        rid = str(props.get("region_id", f.get("id")))
        kind = str(props.get("kind", "gemeente"))
        d = []
        for ring in rings(f["geometry"]):
            pts = [f"{(x - min(xs)) * kx * scale:.1f},{(max(ys) - y) * scale:.1f}"
                   for x, y, *_ in ring]
            d.append("M" + "L".join(pts) + "Z")
        out.setdefault(kind, {})[rid] = "".join(d)
    return out, height


def load(folder: str | Path) -> Publication:
    """Read and index a publication folder.

    Raises
    ------
    FolderError
        Not a publication folder (no manifest, wrong format, a listed file missing).
    """
    folder = Path(folder)
    mpath = folder / "manifest.json"
    if not mpath.exists():
        raise FolderError(f"{folder}: no manifest.json (not a publication folder)")
    manifest = json.loads(mpath.read_text(encoding="utf-8"))
    if manifest.get("format") != "ozamonitor-publication/1":
        raise FolderError(f"{mpath}: format {manifest.get('format')!r} is not "
                          "'ozamonitor-publication/1'")
    defs_path = folder / manifest.get("definitions", "definitions.json")
    definitions = json.loads(defs_path.read_text(encoding="utf-8")) if defs_path.exists() else []
    reg_path = folder / manifest.get("regions", "regions.csv")
    regions = ({r["region_id"]: r for r in pl.read_csv(reg_path, infer_schema=False).to_dicts()}
               if reg_path.exists() else {})
    monitor = {t["name"]: pl.read_csv(folder / t["file"], infer_schema=False)
               for t in manifest["tables"] if t["name"].startswith("oza_")}
    measures = {m["name"]: pl.read_csv(folder / m["file"], infer_schema=False)
                for m in manifest.get("measures", []) if (folder / m["file"]).exists()}
    geo_path = folder / manifest.get("geometry", "geometry.geojson")
    shapes, height = ({}, 0.0)
    if geo_path.exists():
        shapes, height = _project(json.loads(geo_path.read_text(encoding="utf-8")))
    return Publication(folder, manifest, definitions, regions, _index_counts(folder, manifest),
                       monitor, measures, shapes, height).index()


_lock = threading.Lock()
_cache: dict[str, tuple[float, Publication]] = {}


def publication_path() -> Path:
    """The configured publication folder (setting ``OZAMONITOR_PUBLICATION``)."""
    path = getattr(settings, "OZAMONITOR_PUBLICATION", None)
    if not path:
        raise ImproperlyConfigured(
            "no publication folder: start the server with `ozamonitor serve --publication "
            "PUB/` or set OZAMONITOR_PUBLICATION")
    return Path(path)


def current() -> Publication:
    """The configured publication, read once and again after it is replaced."""
    path = publication_path()
    mtime = (path / "manifest.json").stat().st_mtime if (path / "manifest.json").exists() else 0
    key = str(path.resolve())
    with _lock:
        hit = _cache.get(key)
        if hit is None or hit[0] != mtime:
            _cache[key] = (mtime, load(path))
        return _cache[key][1]
