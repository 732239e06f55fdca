"""Attendance counts as one publication: every region level and measure together.

The inner cells (:mod:`ozamonitor.privacy.publication`) are the pupils'
*patterns*: school, gemeente, SWV, tier and the flags (early warning,
improved, a 16-hour report, an LRV). Every published cell -- a measure in a
region -- is the sum of the patterns it holds, so the relations between the
tables (schools add up to their SWV and to the nation, gemeenten to the nation,
tiers to pupils, chronic + severe to chronic_total) follow from the data's
structure, and the tables of every level are protected jointly: a table by
school and one by gemeente of the same run suppress consistently.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ozamonitor.attendance.tiers import TIERS
from ozamonitor.privacy.publication import Protected, Protection, Publication, TableSpec

__all__ = ["LEVELS", "attendance_publication", "measures", "protect_attendance", "table_name"]

#: Region levels published together (column of the per-pupil frame; "" for the nation).
LEVELS: dict[str, str] = {"nation": "", "swv": "swv_id", "gemeente": "gemeente_code",
                          "school": "school_id"}
NATION = "NL"
FLAGS = ("early_warning", "improved")
SIGNALS = ("report_16h_4w", "lrv_4w")


def table_name(by: str) -> str:
    """The publication's table name for a region level."""
    return f"attendance_{by}"


def measures(with_signals: bool) -> list[str]:
    """Measures in display order."""
    return ["pupils", *TIERS, "chronic_total", *FLAGS, *(SIGNALS if with_signals else ())]


def _patterns(per_pupil: pl.DataFrame, signals: pl.DataFrame | None) -> pl.DataFrame:
    """One row per pupil: region keys, tier and flags (booleans)."""
    pp = per_pupil.select(
        "person_id", "tier", early_warning=pl.col("early_warning").fill_null(False),
        improved=pl.col("improved").fill_null(False),
        **{f"r_{b}": (pl.lit(NATION) if not col else pl.col(col).cast(pl.String)
                      .fill_null("unknown")) for b, col in LEVELS.items()})
    for name in SIGNALS:
        if signals is None:
            pp = pp.with_columns(pl.lit(False).alias(name))
            continue
        who = signals.filter(pl.col("signal") == name)["person_id"].unique()
        pp = pp.with_columns(pl.col("person_id").is_in(who.implode()).alias(name))
    return pp


def attendance_publication(per_pupil: pl.DataFrame, signals: pl.DataFrame | None = None,
                           levels: Sequence[str] = tuple(LEVELS)) -> Publication:
    """The publication of ``per_pupil`` by every level in ``levels``: cells
    ``(region, measure)`` of tables ``attendance_<level>``."""
    pp = _patterns(per_pupil, signals)
    keys = ["tier", *FLAGS, *SIGNALS, *[f"r_{b}" for b in LEVELS]]
    inner = pp.group_by(keys).agg(n=pl.len()).sort(keys).with_row_index("inner_id")
    pub = Publication(inner["n"].to_numpy())
    names = measures(signals is not None)
    hit = {"pupils": pl.lit(True), "chronic_total": pl.col("tier").is_in(["chronic", "severe"]),
           **{t: pl.col("tier") == t for t in TIERS},
           **{f: pl.col(f) for f in (*FLAGS, *SIGNALS)}}
    for prio, b in enumerate(levels):
        mem = pl.concat([inner.filter(hit[m]).select("inner_id", region=f"r_{b}",
                                                     measure=pl.lit(m)) for m in names])
        regions = inner[f"r_{b}"].unique().sort()
        grid = pl.DataFrame({"region": regions}).join(
            pl.DataFrame({"measure": names}), how="cross")
        pub.add_table(TableSpec(table_name(b), ("region", "measure"),
                                title=f"Verzuim per {b}", unit="pupils",
                                priority=len(levels) - prio), mem, grid)
    return pub


def protect_attendance(per_pupil: pl.DataFrame, signals: pl.DataFrame | None = None, *,
                       levels: Sequence[str] = tuple(LEVELS), threshold: int = 10
                       ) -> Protected:
    """:func:`attendance_publication`, protected jointly (one symbol per hidden cell)."""
    unknown = [b for b in levels if b not in LEVELS]
    if unknown:
        raise ValueError(f"unknown level(s) {unknown}; choose from {', '.join(LEVELS)}")
    return attendance_publication(per_pupil, signals, levels).protect(
        Protection(threshold=threshold))
