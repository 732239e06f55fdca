"""Attendance tiers and absence signals as tables of the joint publication (``ozamonitor publish``).

Per school year of the publication (up to its end or the extraction date) and
per SWV of the main school (``total``: the Netherlands; per gemeente of
residence too on request, :data:`DEFAULT_LEVELS`): pupils with scheduled
hours, their attendance tier (``good``,
``at_risk``, ``chronic``, ``severe``), ``chronic_total`` (chronic or severe),
``early_warning`` and ``improved``, and the absence signals ``report_16h_4w``
(16 hours of unauthorised absence in 4 weeks) and ``lrv_4w`` (more than four
weeks on every school day) of :mod:`ozamonitor.attendance`.

The tables are described by their counted units (pupils, ``a:<person_id>``) as
:class:`~ozamonitor.causal.monitor.MonitorTable` objects, so the publication
protects them with every other table: a pupil's inner cell is its pattern of
attendance cells over all years and levels, and every relation (tiers
that add up to the pupils, gemeenten to the nation, chronic_total = chronic +
severe, a gemeente's pupils against the SWVs') follows from the data. A
register without absence days gives no tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ozamonitor.attendance.signals import signals_from_register
from ozamonitor.attendance.tiers import TIERS, attendance_per_pupil
from ozamonitor.causal.monitor import MonitorTable
from ozamonitor.register.calendar import school_year_bounds
from ozamonitor.register.school_calendar import SchoolCalendar
from ozamonitor.register.store import Register

__all__ = ["DEFAULT_LEVELS", "MEASURES", "SIGNALS", "attendance_tables"]

#: Absence signals published (children with one in the school year).
SIGNALS = ("report_16h_4w", "lrv_4w")
#: Measures of the tables, in order.
MEASURES = ("pupils", *TIERS, "chronic_total", "early_warning", "improved", *SIGNALS)
UNKNOWN = "unknown"
_LEVELS = {"gemeente": ("gemeente_code", ("gemeente",)),
           "swv": ("swv_id", ("swv_po", "swv_vo"))}
#: Levels published by default. The gemeente level is left out: at small scales most of
#: its cells are below the threshold and, linked with the SWV table through the same
#: pupils, made protection three times slower (docs/dashboard.md, "Speed of publish").
DEFAULT_LEVELS = ("swv",)


def _year_members(reg: Register, year: str, cal: SchoolCalendar) -> pl.DataFrame | None:
    """``unit, period, measure, gemeente_code, swv_id`` of one school year."""
    lo, hi = school_year_bounds(year)
    asof = min(hi, reg.extraction_date)
    if asof < lo:
        return None
    pp = attendance_per_pupil(reg, asof=asof, period="schoolyear", calendar=cal)
    sig = signals_from_register(reg, asof=asof, start=lo, calendar=cal).signals
    flags = [pl.col("person_id").is_in(
        sig.filter(pl.col("signal") == s)["person_id"].unique().implode()).alias(s)
        for s in SIGNALS]
    pp = pp.with_columns(*flags, pupils=pl.lit(True),
                         chronic_total=pl.col("chronic"),
                         improved=pl.col("improved").fill_null(False),
                         **{t: pl.col("tier") == t for t in TIERS})
    keep = ["person_id", "gemeente_code", "swv_id"]
    long = pp.select(*keep, *MEASURES).unpivot(index=keep, on=list(MEASURES),
                                               variable_name="measure", value_name="on")
    return long.filter(pl.col("on")).select(
        unit=pl.lit("a:") + pl.col("person_id"), period=pl.lit(year), measure="measure",
        gemeente_code=pl.col("gemeente_code").fill_null(UNKNOWN),
        swv_id=pl.col("swv_id").fill_null(UNKNOWN))


def attendance_tables(register: Register | str, years: Sequence[str],
                      levels: Sequence[str] = DEFAULT_LEVELS) -> list[MonitorTable]:
    """Tables ``attendance_<level>`` for ``levels`` (``swv``, ``gemeente``; dims ``period,
    measure, region``; ``region`` = ``total`` for the nation) over the school years
    ``years``."""
    reg = Register.open(register)
    if reg.scan("absence_days").select(pl.len()).collect().item() == 0:
        return []
    cal = SchoolCalendar.load(None)
    parts = [m for y in years if (m := _year_members(reg, y, cal)) is not None]
    if not parts:
        return []
    members = pl.concat(parts)
    regions = reg.read("regions")
    periods = [p for p in years if p in set(members["period"].unique().to_list())]
    out = []
    for level in levels:
        col, kinds = _LEVELS[level]
        known = regions.filter(pl.col("kind").is_in(kinds))["region_id"].sort().to_list()
        extra = sorted(set(members[col].unique().to_list()) - set(known))
        m = members.select("unit", "period", "measure", region=pl.col(col))
        where = "gemeente of residence" if level == "gemeente" else "SWV of the main school"
        out.append(MonitorTable(
            f"attendance_{level}", ("period", "measure", "region"), m, ("region",),
            {"period": periods, "measure": list(MEASURES), "region": [*known, *extra]},
            "pupils",
            f"Verzuim: aanwezigheidsniveaus en signalen per {level}",
            f"Pupils with scheduled hours in the school year by attendance tier, early "
            f"warning, improvement and absence signal (16 hours in 4 weeks, more than 4 "
            f"weeks), per {where} (total: the Netherlands)"))
    return out
