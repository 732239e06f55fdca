"""Synthetic provinces: each gemeente placed in one of the twelve provinces by its map position.

The synthetic register has no provinces of its own. This declared table gives
each of the twelve Dutch provinces (CBS codes ``PV20``..``PV31``) an anchor
point near its real centre; a gemeente belongs to the province whose anchor is
nearest to the point its synthetic shape is drawn around
(:func:`ozamonitor.synth.boundaries.gemeente_points`; distances in kilometres
on the map, longitude scaled by the cosine of 52 degrees). So provinces are
contiguous, lie where the real ones lie, and tile the synthetic country.

The result goes into the register as ``regions`` rows of kind ``province`` and
``gemeente_regions`` rows (kind ``province``, share 1): the same shape as the
youth-care regions, so real registers can carry real provinces the same way.
Deterministic from the regions and the seed; it draws no random numbers of the
register's streams.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from ozamonitor.synth.boundaries import gemeente_points

__all__ = ["PROVINCES", "province_tables"]

#: ``(code, name, longitude, latitude)`` of every province's anchor point.
PROVINCES: tuple[tuple[str, str, float, float], ...] = (
    ("PV20", "Groningen", 6.75, 53.25),
    ("PV21", "Fryslân", 5.80, 53.10),
    ("PV22", "Drenthe", 6.60, 52.85),
    ("PV23", "Overijssel", 6.45, 52.42),
    ("PV24", "Flevoland", 5.55, 52.50),
    ("PV25", "Gelderland", 5.95, 52.05),
    ("PV26", "Utrecht", 5.20, 52.08),
    ("PV27", "Noord-Holland", 4.85, 52.60),
    ("PV28", "Zuid-Holland", 4.50, 52.00),
    ("PV29", "Zeeland", 3.85, 51.50),
    ("PV30", "Noord-Brabant", 5.20, 51.55),
    ("PV31", "Limburg", 5.95, 51.20),
)
_KX = math.cos(math.radians(52.0))


def province_tables(regions: pl.DataFrame, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The provinces as ``regions`` rows and the gemeenten's ``gemeente_regions`` rows.

    Parameters
    ----------
    regions : polars.DataFrame
        The register's regions (its gemeenten are placed).
    seed : int
        The register's seed (fixes the gemeenten's points, as for the boundaries).

    Returns
    -------
    (polars.DataFrame, polars.DataFrame)
        ``region_id, kind, name`` of the provinces that hold a gemeente, and
        ``gemeente_code, region_id, kind, share`` (one row per gemeente).
    """
    gems, pts = gemeente_points(regions, seed)
    anchors = np.array([(lon, lat) for _, _, lon, lat in PROVINCES])
    d = (((pts[:, None, 0] - anchors[None, :, 0]) * _KX) ** 2
         + (pts[:, None, 1] - anchors[None, :, 1]) ** 2)
    which = d.argmin(axis=1) if len(gems) else np.zeros(0, int)
    codes = [PROVINCES[int(k)][0] for k in which]
    gr = pl.DataFrame({"gemeente_code": gems, "region_id": codes,
                       "kind": ["province"] * len(gems), "share": [1.0] * len(gems)},
                      schema={"gemeente_code": pl.String, "region_id": pl.String,
                              "kind": pl.String, "share": pl.Float64})
    used = set(codes)
    reg = pl.DataFrame([(c, "province", n) for c, n, _, _ in PROVINCES if c in used],
                       schema={"region_id": pl.String, "kind": pl.String, "name": pl.String},
                       orient="row")
    return reg, gr
