"""Daily absence (``absence_days``): the conversions of the import and the day's hours.

Rules (stated in docs/attendance.md):

* **Scheduled hours of a day**: the row's ``scheduled_hours`` when given, else
  the school calendar's hours for the school's sector and the weekday
  (default 5 h po/sbo/so, 6 h vo/vso/mbo; :class:`SchoolCalendar`).
* **Half days** (*dagdelen*, primary schools): ``hours = dagdelen x`` half the
  day's scheduled hours (a morning and an afternoon count the same).
* **Late arrivals and other minutes**: ``hours = minutes / 60``. Lateness is
  kept as time missed (hours), not as a count; the attendance engine also
  counts the late rows.
* ``hours`` given in the source wins over ``dagdelen`` and ``minutes``.
"""

from __future__ import annotations

import polars as pl

from ozamonitor.register.schema import SECTORS
from ozamonitor.register.school_calendar import SchoolCalendar

__all__ = ["default_day_hours_expr", "fill_hours", "sector_weekday_hours"]


def sector_weekday_hours(calendar: SchoolCalendar) -> pl.Series:
    """Scheduled hours by ``sector index * 7 + weekday - 1`` (Monday = 1; weekend 0)."""
    vals: list[float] = []
    for s in SECTORS:
        vals += [*calendar.hours_for(s), 0.0, 0.0]
    return pl.Series("hours", vals, dtype=pl.Float64)


def default_day_hours_expr(calendar: SchoolCalendar, sector: pl.Expr,
                           date: pl.Expr) -> pl.Expr:
    """The calendar's hours of a school day for ``sector`` on ``date`` (null: unknown sector)."""
    si = sector.replace_strict({s: i for i, s in enumerate(SECTORS)}, default=None,
                               return_dtype=pl.Int64)
    idx = si * 7 + date.dt.weekday().cast(pl.Int64) - 1
    return pl.lit(sector_weekday_hours(calendar)).gather(idx)


def fill_hours(absence: pl.DataFrame, schools: pl.DataFrame | None,
               calendar: SchoolCalendar | None = None, *,
               fallback_day_hours: float | None = None) -> pl.DataFrame:
    """Fill empty ``hours`` from ``dagdelen`` or ``minutes`` (rules in the module text).

    Parameters
    ----------
    absence : polars.DataFrame
        Parsed ``absence_days`` rows (any extra columns, e.g. the row number, are kept).
    schools : polars.DataFrame or None
        The ``schools`` table (``school_id``, ``sector``) for the sector's day hours.
    calendar : SchoolCalendar, optional
        Default: the packaged calendar.
    fallback_day_hours : float, optional
        Hours of a day whose school (sector) is unknown, for half days.

    Returns
    -------
    polars.DataFrame
        ``absence`` with ``hours`` filled where it could be; rows that stay empty
        are reported by validation (``required value is empty``).
    """
    if "hours" not in absence.columns:
        absence = absence.with_columns(hours=pl.lit(None, pl.Float64))
    cols = absence.columns
    if "dagdelen" not in cols and "minutes" not in cols:
        return absence
    cal = SchoolCalendar.load(calendar)
    sch = (schools.select("school_id", pl.col("sector").alias("_sector"))
           .unique("school_id", keep="first") if schools is not None
           and {"school_id", "sector"} <= set(schools.columns)
           else pl.DataFrame(schema={"school_id": pl.String, "_sector": pl.String}))
    df = absence.join(sch, on="school_id", how="left", maintain_order="left")
    day = default_day_hours_expr(cal, pl.col("_sector"), pl.col("date"))
    if "scheduled_hours" in cols:
        day = pl.coalesce(pl.col("scheduled_hours").cast(pl.Float64), day)
    if fallback_day_hours is not None:
        day = day.fill_null(fallback_day_hours)
    parts = [pl.col("hours").cast(pl.Float64)]
    if "dagdelen" in cols:
        parts.append(pl.col("dagdelen").cast(pl.Float64) * day / 2.0)
    if "minutes" in cols:
        parts.append(pl.col("minutes").cast(pl.Float64) / 60.0)
    return df.with_columns(hours=pl.coalesce(parts)).drop("_sector")
