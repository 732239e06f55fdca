"""Synthetic boundaries: gemeenten and SWVs that tile a plausible country shape.

The synthetic register has regions but no coordinates. For maps, this module
draws one point per gemeente inside a rough outline of the Netherlands, in the
order of the generator's serpentine path (twelve horizontal bands, alternately
west-to-east and east-to-west, as :mod:`ozamonitor.synth.geography` orders its
gemeenten), so that consecutive gemeenten are neighbours. Each gemeente is the
Voronoi cell of its point clipped to the outline. A gemeente that lies in
several SWVs (``gemeente_regions.share``) is cut along the path into pieces of
those areas; an SWV is the union of its pieces, so the gemeenten tile the
country, and the SWVs PO and VO each tile it too. A province
(:mod:`ozamonitor.synth.provinces`) is the union of its gemeenten.

Deterministic: the same regions and seed give byte-identical GeoJSON
(:func:`geometry_geojson`). Coordinates are WGS84 longitude/latitude with five
decimals; polygons are oriented as RFC 7946 asks (exterior counter-clockwise).
"""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import shapely
from shapely.geometry import MultiPolygon, Polygon, box, mapping
from shapely.geometry.polygon import orient

__all__ = ["COUNTRY", "GEOMETRY_FILE", "boundaries", "gemeente_points", "geometry_geojson",
           "region_shapes"]

#: The file name ``ozamonitor synth`` writes beside the register's tables.
GEOMETRY_FILE = "geometry.geojson"

#: A rough outline of the Netherlands (longitude, latitude), counter-clockwise.
COUNTRY: tuple[tuple[float, float], ...] = (
    (3.36, 51.37), (3.83, 51.21), (4.25, 51.37), (4.78, 51.44), (5.10, 51.43),
    (5.64, 51.22), (5.85, 51.15), (5.79, 50.76), (6.03, 50.72), (6.09, 51.13),
    (6.22, 51.40), (5.96, 51.80), (6.83, 51.97), (6.73, 52.12), (7.06, 52.23),
    (6.70, 52.49), (7.07, 52.63), (7.21, 53.24), (6.89, 53.35), (6.18, 53.41),
    (5.41, 53.40), (4.93, 53.20), (4.73, 52.96), (4.58, 52.47), (4.20, 52.10),
    (3.99, 51.94), (3.58, 51.60),
)
_BANDS = 12
_SEED_SALT = 0x6E0  # keeps the boundaries' stream apart from the register's


def _country() -> Polygon:
    return orient(Polygon(COUNTRY), 1.0)


def _band_points(country: Polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points inside ``country`` in serpentine order (bands by area)."""
    minx, miny, maxx, maxy = country.bounds
    edges = np.linspace(miny, maxy, _BANDS + 1)
    bands = [country.intersection(box(minx, edges[b], maxx, edges[b + 1]))
             for b in range(_BANDS)]
    area = np.array([b.area for b in bands])
    quota = np.floor(area / area.sum() * n).astype(int)
    rest = n - quota.sum()
    frac = area / area.sum() * n - quota
    quota[np.argsort(-frac, kind="stable")[:rest]] += 1
    out: list[np.ndarray] = []
    for b, (shape, k) in enumerate(zip(bands, quota, strict=True)):
        bx0, by0, bx1, by1 = shape.bounds
        pts = np.empty((0, 2))
        while len(pts) < k:
            cand = np.column_stack([rng.uniform(bx0, bx1, 4 * k + 8),
                                    rng.uniform(by0, by1, 4 * k + 8)])
            inside = shapely.contains_xy(shape, cand[:, 0], cand[:, 1])
            pts = np.vstack([pts, cand[inside]])
        pts = pts[:k]
        order = np.argsort(pts[:, 0] if b % 2 == 0 else -pts[:, 0], kind="stable")
        out.append(pts[order])
    return np.vstack(out)


def _cut(cell: Polygon | MultiPolygon, shares: list[float], eastward: bool
         ) -> list[Polygon | MultiPolygon]:
    """Cut ``cell`` by vertical lines into pieces with areas proportional to ``shares``,
    in path order (west to east when ``eastward``)."""
    if len(shares) == 1:
        return [cell]
    minx, miny, maxx, maxy = cell.bounds
    total = cell.area
    pieces: list[Polygon | MultiPolygon] = []
    left = minx if eastward else maxx
    acc = 0.0
    for s in shares[:-1]:
        acc += s
        lo, hi = minx, maxx
        for _ in range(40):  # bisection on the cut's x
            mid = (lo + hi) / 2
            part = cell.intersection(box(minx, miny, mid, maxy) if eastward
                                     else box(mid, miny, maxx, maxy)).area
            if (part < acc * total) == eastward:
                lo = mid
            else:
                hi = mid
        x = (lo + hi) / 2
        strip = box(left, miny, x, maxy) if eastward else box(x, miny, left, maxy)
        pieces.append(cell.intersection(strip))
        left = x
    pieces.append(cell.intersection(box(left, miny, maxx, maxy) if eastward
                                    else box(minx, miny, left, maxy)))
    return pieces


def gemeente_points(regions: pl.DataFrame, seed: int) -> tuple[list[str], np.ndarray]:
    """Gemeente codes (sorted) and the point (longitude, latitude) each one's shape is
    drawn around (the same for the same regions and seed)."""
    gems = regions.filter(pl.col("kind") == "gemeente")["region_id"].sort().to_list()
    rng = np.random.default_rng([seed, _SEED_SALT])
    return gems, _band_points(_country(), len(gems), rng)


def region_shapes(regions: pl.DataFrame, gemeente_regions: pl.DataFrame, seed: int
                  ) -> dict[str, Polygon | MultiPolygon]:
    """Shapes of every gemeente, SWV PO, SWV VO and province (keyed by ``region_id``).

    Parameters
    ----------
    regions, gemeente_regions : polars.DataFrame
        The register's tables of those names.
    seed : int
        Fixes the gemeenten's points.

    Returns
    -------
    dict
        ``region_id -> shapely`` (Multi)Polygon in longitude/latitude.
    """
    country = _country()
    gems, pts = gemeente_points(regions, seed)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=country.envelope,
                                     ordered=True)
    shapes: dict[str, Polygon | MultiPolygon] = {}
    band_of = np.minimum(((pts[:, 1] - country.bounds[1]) / (
        country.bounds[3] - country.bounds[1]) * _BANDS).astype(int), _BANDS - 1)
    pieces: dict[str, list[Polygon | MultiPolygon]] = {}
    gr = gemeente_regions.filter(pl.col("kind").is_in(["swv_po", "swv_vo"]))
    for i, code in enumerate(gems):
        cell = cells.geoms[i].intersection(country)
        shapes[code] = cell
        mine = gr.filter(pl.col("gemeente_code") == code).sort("kind", "region_id")
        for kind in ("swv_po", "swv_vo"):
            part = mine.filter(pl.col("kind") == kind)
            if part.is_empty():
                continue
            cut = _cut(cell, part["share"].to_list(), eastward=bool(band_of[i] % 2 == 0))
            for rid, piece in zip(part["region_id"].to_list(), cut, strict=True):
                pieces.setdefault(rid, []).append(piece)
    for rid in sorted(pieces):
        shapes[rid] = shapely.union_all(pieces[rid]).buffer(0)
    prov = gemeente_regions.filter(pl.col("kind") == "province")
    for rid, part in prov.group_by("region_id", maintain_order=True):
        shapes[str(rid[0])] = shapely.union_all(
            [shapes[g] for g in part["gemeente_code"].to_list() if g in shapes]).buffer(0)
    return shapes


def _oriented(geom: Polygon | MultiPolygon) -> Polygon | MultiPolygon:
    geom = shapely.set_precision(geom, 1e-5)
    if isinstance(geom, Polygon):
        return orient(geom, 1.0)
    polys = [orient(p, 1.0) for p in getattr(geom, "geoms", []) if isinstance(p, Polygon)]
    return MultiPolygon(polys) if len(polys) > 1 else polys[0]


def boundaries(regions: pl.DataFrame, gemeente_regions: pl.DataFrame, seed: int) -> dict:
    """GeoJSON FeatureCollection of the synthetic gemeenten, SWVs PO, SWVs VO and
    provinces (when ``gemeente_regions`` places gemeenten in provinces).

    Each feature has ``id`` = region id and properties ``region_id``, ``kind``
    (``gemeente``, ``swv_po``, ``swv_vo``, ``province``) and ``name``.
    """
    shapes = region_shapes(regions, gemeente_regions, seed)
    info = {r["region_id"]: r for r in regions.iter_rows(named=True)}
    feats = []
    for kind in ("gemeente", "swv_po", "swv_vo", "province"):
        for rid in sorted(k for k in shapes if info[k]["kind"] == kind):
            geom = mapping(_oriented(shapes[rid]))
            feats.append({"type": "Feature", "id": rid,
                          "properties": {"region_id": rid, "kind": kind,
                                         "name": info[rid]["name"]},
                          "geometry": geom})
    return {"type": "FeatureCollection", "name": "ozamonitor synthetic boundaries",
            "features": feats}


def geometry_geojson(regions: pl.DataFrame, gemeente_regions: pl.DataFrame, seed: int) -> str:
    """:func:`boundaries` as compact, deterministic GeoJSON text."""
    return json.dumps(boundaries(regions, gemeente_regions, seed), separators=(",", ":"),
                      ensure_ascii=False)
