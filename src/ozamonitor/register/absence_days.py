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

from collections.abc import Mapping

import polars as pl

from ozamonitor.register.problems import ROW, problem_frame, quote_expr
from ozamonitor.register.schema import PRIMARY_SECTORS, SECTORS
from ozamonitor.register.school_calendar import HOLIDAY_REGIONS, SchoolCalendar
from ozamonitor.register.spells import OPEN_END

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


def absence_day_problems(tables: Mapping[str, pl.LazyFrame], file: str,
                         cal: SchoolCalendar) -> list[pl.LazyFrame]:
    """The rules of the ``absence_days`` table, as problem frames.

    School days of the school's holiday region (``calendar``), the hours of one
    person, school and day within that day's scheduled hours (``hours``), half
    days only at primary schools (``dagdeel``) and an enrolment covering the day
    (``enrolment``).

    Parameters
    ----------
    tables : mapping of str to polars.LazyFrame
        The register's tables, each with the row-number column
        :data:`~ozamonitor.register.problems.ROW`.
    file : str
        The file name ``absence_days`` problems are reported under.
    cal : SchoolCalendar
        The school calendar that decides which days count.

    Returns
    -------
    list of polars.LazyFrame
        Problem frames (:func:`~ozamonitor.register.problems.problem_frame`).
    """
    ab = tables["absence_days"]
    out: list[pl.LazyFrame] = []
    sch = tables["schools"].select("school_id", pl.col("sector").alias("_sector"),
                                       pl.col("gemeente_code").alias("_gem")).unique(
        "school_id", keep="first")
    j = ab.filter(pl.col("date").is_not_null()).join(sch, on="school_id", how="inner")
    first = pl.lit(cal.first)
    day = (pl.col("date") - first).dt.total_days()
    inside = (day >= 0) & (day < cal.n_days)
    out.append(problem_frame(
        j.filter(~inside), file, "date",
        pl.format("date {} is outside the school calendar ({} .. {})", pl.col("date"),
                  pl.lit(cal.first.isoformat()), pl.lit(cal.last.isoformat())), "calendar"))
    codes = sch.select("_gem").unique().collect()["_gem"].drop_nulls()
    regions = pl.DataFrame({"_gem": codes, "_region": cal.region_of(codes)})
    school_day = pl.lit(pl.Series(cal.school_day_table().ravel())).gather(
        pl.col("_region").replace_strict({r: i for i, r in enumerate(HOLIDAY_REGIONS)},
                                         return_dtype=pl.Int64) * cal.n_days + day)
    jr = j.filter(inside).join(regions.lazy(), on="_gem", how="inner")
    wd = pl.col("date").dt.weekday()
    why = pl.when(wd >= 6).then(pl.lit("a weekend day")).otherwise(
        pl.format("a holiday in region {}", pl.col("_region")))
    out.append(problem_frame(
        jr.filter(~school_day), file, "date",
        pl.format("{} is not a school day of school {} ({})", pl.col("date"),
                  quote_expr(pl.col("school_id")), why), "calendar"))
    # hours of one person, school and day (all kinds) within the day's scheduled hours
    sched = pl.coalesce(pl.col("scheduled_hours").max().over(["person_id", "school_id", "date"]),
                        default_day_hours_expr(cal, pl.col("_sector"), pl.col("date")))
    keys = ["person_id", "school_id", "date"]
    tot = pl.col("hours").sum().over(keys)
    last = pl.col(ROW) == pl.col(ROW).max().over(keys)
    hj = j.filter(pl.col("hours").is_not_null()).with_columns(_tot=tot.round(4), _sched=sched)
    out.append(problem_frame(
        hj.filter(last & (pl.col("_tot") > pl.col("_sched") + 1e-9)), file, "hours",
        pl.format("absence on {} adds up to {} hours (all kinds), more than the {} scheduled "
                  "hours of that day", pl.col("date"), pl.col("_tot"), pl.col("_sched")),
        "hours"))
    out.append(problem_frame(
        j.filter(pl.col("dagdelen").is_not_null() & pl.col("_sector").is_not_null()
                 & ~pl.col("_sector").is_in(list(PRIMARY_SECTORS))), file, "dagdelen",
        pl.format("half days (dagdelen) are for primary schools; school {} is {} (give hours)",
                  quote_expr(pl.col("school_id")), pl.col("_sector")), "dagdeel"))
    enr = tables["enrolments"].select(
        "person_id", "school_id", pl.col("start").alias("_s"),
        pl.col("end").fill_null(OPEN_END).alias("_e")).filter(pl.col("_s").is_not_null())
    rows = ab.select(ROW, "person_id", "school_id", "date").filter(
        pl.col("date").is_not_null() & pl.col("person_id").is_not_null())
    covered = rows.join(enr, on=["person_id", "school_id"], how="inner").filter(
        (pl.col("_s") <= pl.col("date")) & (pl.col("date") <= pl.col("_e"))).select(ROW)
    # rows whose person or school is unknown are reported by the reference check
    persons = tables["persons"].select("person_id").unique()
    known = (rows.join(persons, on="person_id", how="semi")
             .join(sch.select("school_id"), on="school_id", how="semi")
             .join(covered.unique(), on=ROW, how="anti"))
    out.append(problem_frame(
        known, file, "date",
        pl.format("no enrolment of this person at school {} covers {}",
                  quote_expr(pl.col("school_id")), pl.col("date")), "enrolment"))
    return out
