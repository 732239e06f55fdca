"""Synthetic boundaries: gemeenten and SWVs tile the country, deterministically."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
import shapely
from shapely.geometry import shape

from ozamonitor.synth.boundaries import COUNTRY, boundaries, geometry_geojson
from ozamonitor.synth.geography import build_geography
from ozamonitor.synth.params import SynthParams


@pytest.fixture(scope="module")
def geo():
    return build_geography(SynthParams(), 0.001, np.random.default_rng(5))


@pytest.fixture(scope="module")
def fc(geo):
    return boundaries(geo.regions, geo.gemeente_regions, seed=5)


def _shapes(fc, kind):
    return {f["id"]: shape(f["geometry"]) for f in fc["features"]
            if f["properties"]["kind"] == kind}


@pytest.mark.parametrize("kind", ["gemeente", "swv_po", "swv_vo"])
def test_each_level_tiles_the_country(geo, fc, kind):
    shapes = _shapes(fc, kind)
    ids = geo.regions.filter(pl.col("kind") == kind)["region_id"].to_list()
    assert sorted(shapes) == sorted(ids)  # every region has a shape
    country = shapely.Polygon(COUNTRY)
    assert all(s.is_valid and s.area > 0 for s in shapes.values())
    total = sum(s.area for s in shapes.values())
    assert total == pytest.approx(country.area, rel=1e-3)  # no gaps ...
    union = shapely.union_all(list(shapes.values()))
    assert union.area == pytest.approx(total, rel=1e-3)  # ... and no overlaps
    assert union.symmetric_difference(country).area < 1e-3 * country.area


def test_swv_is_the_union_of_its_gemeente_parts(geo, fc):
    gems = _shapes(fc, "gemeente")
    swvs = _shapes(fc, "swv_po")
    gr = geo.gemeente_regions.filter(pl.col("kind") == "swv_po")
    for rid, poly in list(swvs.items())[:20]:
        members = gr.filter(pl.col("region_id") == rid)
        # the SWV lies within its gemeenten, and holds each one's share of its area
        cover = shapely.union_all([gems[g] for g in members["gemeente_code"]])
        assert poly.difference(cover).area < 1e-6
        for g, s in members.select("gemeente_code", "share").iter_rows():
            assert poly.intersection(gems[g]).area == pytest.approx(s * gems[g].area,
                                                                     rel=1e-3, abs=1e-7)


def test_deterministic_and_seeded(geo):
    a = geometry_geojson(geo.regions, geo.gemeente_regions, seed=5)
    b = geometry_geojson(geo.regions, geo.gemeente_regions, seed=5)
    c = geometry_geojson(geo.regions, geo.gemeente_regions, seed=6)
    assert a == b and a != c
    doc = json.loads(a)
    assert doc["type"] == "FeatureCollection"
    f = doc["features"][0]
    assert set(f["properties"]) == {"region_id", "kind", "name"}


def test_rfc7946_orientation(fc):
    for f in fc["features"][:50]:
        g = shape(f["geometry"])
        for p in getattr(g, "geoms", [g]):
            assert p.exterior.is_ccw


def test_synth_writes_the_file_and_geometry_rewrites_it(synthetic_register, tmp_path):
    from typer.testing import CliRunner

    from ozamonitor.cli.main import app
    from ozamonitor.synth.boundaries import GEOMETRY_FILE

    reg = synthetic_register(0.002, 11, params=SynthParams(oza_min_participants=40))
    written = (reg / GEOMETRY_FILE).read_text(encoding="utf-8")
    out = tmp_path / "g.geojson"
    res = CliRunner().invoke(app, ["geometry", "--register", str(reg), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text(encoding="utf-8") == written
    kinds = {f["properties"]["kind"] for f in json.loads(written)["features"]}
    assert kinds == {"gemeente", "swv_po", "swv_vo", "province"}


def test_provinces_tile_the_country_where_they_lie(geo):
    """Twelve provinces, every gemeente in one, each province the union of its gemeenten,
    and each one's gemeenten nearest to its own anchor (so north lies north)."""
    from ozamonitor.synth.provinces import PROVINCES, province_tables

    regs, gr = province_tables(geo.regions, seed=5)
    assert regs["region_id"].to_list() == [p[0] for p in PROVINCES]
    gems = geo.regions.filter(pl.col("kind") == "gemeente")["region_id"].sort().to_list()
    assert gr["gemeente_code"].to_list() == gems and (gr["share"] == 1.0).all()
    again = province_tables(geo.regions, seed=5)[1]
    assert again.equals(gr)
    fc = boundaries(pl.concat([geo.regions, regs]), pl.concat([geo.gemeente_regions, gr]), 5)
    prov = _shapes(fc, "province")
    gem = _shapes(fc, "gemeente")
    assert set(prov) == set(regs["region_id"])
    union = shapely.union_all(list(prov.values()))
    assert abs(union.area - shapely.union_all(list(gem.values())).area) < 1e-3 * union.area
    assert sum(s.area for s in prov.values()) == pytest.approx(union.area, rel=1e-3)
    lat = {p[0]: p[3] for p in PROVINCES}
    north = np.mean([prov[c].centroid.y for c in prov if lat[c] > 52.8])
    south = np.mean([prov[c].centroid.y for c in prov if lat[c] < 51.6])
    assert north > south + 1.0
