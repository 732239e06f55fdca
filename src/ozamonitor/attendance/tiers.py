"""Attendance per pupil over a period: present share, tier, improvement, early warning.

For each pupil enrolled in the period:

* **scheduled hours**: the school days of each enrolment within the period
  (school calendar of the school's holiday region) times the sector's hours
  per day; a row's ``scheduled_hours`` replaces the default for that day;
* **absent hours**: all ``absence_days`` hours in the period, every kind
  (unauthorised, authorised, illness, suspension and late time);
* **present share** = 1 - absent / scheduled; the **tier** (domain brief
  section 4): ``good`` (present >= 95%), ``at_risk`` (90-95%), ``chronic``
  (absent 10% or more, below 20%), ``severe`` (absent 20% or more); the
  ``chronic`` flag covers chronic and severe;
* **improved**: the present share is higher than in the previous period
  (``schoolyear``: the same dates a year earlier; ``4w``: the 4 weeks before);
* **early warning** (section 10): ages 4-8 on the as-of date with more than 20%
  absence.

The pupil is placed in the school with most scheduled hours in the period (its
SWV) and in the gemeente of residence on the as-of date (the school's gemeente
when unknown). All steps are polars joins and numpy gathers over cumulative
hours, so a national register takes seconds per period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from ozamonitor.attendance.data import as_frame
from ozamonitor.attendance.params import TierParams
from ozamonitor.errors import ConfigurationError
from ozamonitor.register.absence_days import default_day_hours_expr
from ozamonitor.register.calendar import age_expr, school_year_of
from ozamonitor.register.schema import SECTORS
from ozamonitor.register.school_calendar import HOLIDAY_REGIONS, SchoolCalendar
from ozamonitor.register.store import Register

__all__ = ["PERIODS", "TIERS", "attendance_per_pupil", "period_bounds", "previous_bounds"]

Period = Literal["schoolyear", "4w"]
PERIODS: tuple[str, ...] = ("schoolyear", "4w")
TIERS: tuple[str, ...] = ("good", "at_risk", "chronic", "severe")
_NEEDED = ("persons", "residences", "schools", "enrolments", "absence_days")


def period_bounds(asof: dt.date, period: str) -> tuple[dt.date, dt.date]:
    """First and last day of the period ending on ``asof``.

    ``schoolyear``: 1 August of the school year containing ``asof`` to ``asof``;
    ``4w``: the 28 days ending on ``asof``.
    """
    if period == "schoolyear":
        return dt.date(school_year_of(asof), 8, 1), asof
    if period == "4w":
        return asof - dt.timedelta(days=27), asof
    raise ConfigurationError(f"unknown period {period!r}; choose one of {', '.join(PERIODS)}")


def _year_back(d: dt.date) -> dt.date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def previous_bounds(asof: dt.date, period: str) -> tuple[dt.date, dt.date]:
    """The period :func:`improved` compares with: a year earlier, or the 4 weeks before."""
    lo, hi = period_bounds(asof, period)
    if period == "schoolyear":
        return _year_back(lo), _year_back(hi)
    return lo - dt.timedelta(days=28), hi - dt.timedelta(days=28)


def _tables(source: Register | str | Path | Mapping[str, Any]) -> dict[str, pl.DataFrame]:
    if isinstance(source, Mapping):
        missing = [n for n in _NEEDED if n not in source]
        if missing:
            raise ConfigurationError(f"attendance needs the tables {', '.join(missing)}")
        return {n: as_frame(source[n]) for n in _NEEDED}
    reg = Register.open(source)
    return {n: reg.read(n) for n in _NEEDED}


def _cum_hours(cal: SchoolCalendar) -> np.ndarray:
    """``(regions, sectors, n_days + 1)``: scheduled hours of the days before each day."""
    out = np.zeros((len(HOLIDAY_REGIONS), len(SECTORS), cal.n_days + 1))
    for r in range(len(HOLIDAY_REGIONS)):
        for s, sector in enumerate(SECTORS):
            np.cumsum(cal.day_hours_array(r, sector), out=out[r, s, 1:])
    return out


def _period_hours(t: dict[str, pl.DataFrame], sch: pl.DataFrame, lo: dt.date, hi: dt.date,
                  cal: SchoolCalendar, cum: np.ndarray) -> pl.DataFrame:
    """Scheduled and absent hours per person and school in ``[lo, hi]``."""
    enr = (t["enrolments"].select("person_id", "school_id", "start", "end")
           .filter((pl.col("start") <= hi) & (pl.col("end").is_null() | (pl.col("end") >= lo)))
           .with_columns(a=pl.max_horizontal("start", pl.lit(lo)),
                         b=pl.min_horizontal(pl.col("end").fill_null(hi), pl.lit(hi)))
           .join(sch, on="school_id", how="inner"))
    if enr.height:
        a = cal.day_index(enr["a"].to_numpy())
        b = cal.day_index(enr["b"].to_numpy())
        r = enr["_region"].to_numpy().astype(np.int64)
        s = enr["_sector"].to_numpy().astype(np.int64)
        hours = cum[r, s, b + 1] - cum[r, s, a]
    else:
        hours = np.zeros(0)
    sched = (enr.with_columns(_h=pl.Series(hours, dtype=pl.Float64))
             .group_by("person_id", "school_id").agg(scheduled_hours=pl.col("_h").sum()))
    ab = t["absence_days"].filter(pl.col("date").is_between(lo, hi))
    k = pl.col("kind")
    absent = ab.group_by("person_id", "school_id").agg(
        absent_hours=pl.col("hours").sum(),
        unauthorised_hours=pl.col("hours").filter(k == "unauthorised").sum(),
        authorised_hours=pl.col("hours").filter(k == "authorised").sum(),
        illness_hours=pl.col("hours").filter(k == "illness").sum(),
        suspension_hours=pl.col("hours").filter(k == "suspension").sum(),
        late_hours=pl.col("hours").filter(k == "late").sum(),
        late_count=(k == "late").sum().cast(pl.Int32),
    )
    # a row's own scheduled hours replace the default of that (school) day
    over = (ab.filter(pl.col("scheduled_hours").is_not_null())
            .group_by("person_id", "school_id", "date").agg(pl.col("scheduled_hours").max())
            .join(sch, on="school_id", how="inner"))
    if over.height:
        day = cal.day_index(over["date"].to_numpy())
        is_sd = cal.school_day_mask(over["_region"].to_numpy().astype(np.int64), day)
        over = (over.with_columns(_sd=pl.Series(is_sd),
                                  _d=default_day_hours_expr(cal, pl.col("_sector_code"),
                                                            pl.col("date")))
                .filter(pl.col("_sd"))
                .group_by("person_id", "school_id")
                .agg(_adj=(pl.col("scheduled_hours") - pl.col("_d")).sum()))
        sched = sched.join(over, on=["person_id", "school_id"], how="left").with_columns(
            scheduled_hours=pl.col("scheduled_hours") + pl.col("_adj").fill_null(0.0)
        ).drop("_adj")
    return sched.join(absent, on=["person_id", "school_id"], how="left").with_columns(
        pl.exclude("person_id", "school_id", "scheduled_hours").fill_null(0))


def _shares(df: pl.DataFrame) -> pl.DataFrame:
    """Per person totals and present share from per (person, school) hours."""
    cols = ["scheduled_hours", "absent_hours", "unauthorised_hours", "authorised_hours",
            "illness_hours", "suspension_hours", "late_hours", "late_count"]
    main = (df.sort(["person_id", "scheduled_hours", "school_id"], descending=[False, True, False])
            .group_by("person_id", maintain_order=True).agg(pl.col("school_id").first()))
    tot = df.group_by("person_id").agg([pl.col(c).sum() for c in cols])
    share = (pl.col("absent_hours") / pl.col("scheduled_hours")).clip(0.0, 1.0)
    return (tot.join(main, on="person_id", how="left")
            .filter(pl.col("scheduled_hours") > 0)
            .with_columns(absent_share=share.round(6))
            .with_columns(present_share=(1.0 - pl.col("absent_share")).round(6)))


def attendance_per_pupil(source: Register | str | Path | Mapping[str, Any], *,
                         asof: dt.date, period: str = "schoolyear",
                         calendar: SchoolCalendar | str | Path | None = None,
                         params: TierParams | None = None) -> pl.DataFrame:
    """Attendance, tier, improvement and early warning of every pupil in the period.

    Parameters
    ----------
    source : Register, path or mapping of frames
        A register, or its tables ``persons``, ``residences``, ``schools``,
        ``enrolments`` and ``absence_days`` as polars or pandas frames.
    asof : datetime.date
        Last day of the period.
    period : {"schoolyear", "4w"}
        The school year so far, or the last 4 weeks.
    calendar : SchoolCalendar or path, optional
        Default: the packaged calendar.
    params : TierParams, optional
        Tier thresholds; default the brief's.

    Returns
    -------
    polars.DataFrame
        One row per pupil with scheduled hours in the period: ``person_id,
        school_id, gemeente_code, swv_id, age, period_start, period_end,
        scheduled_hours, absent_hours, unauthorised_hours, authorised_hours,
        illness_hours, suspension_hours, late_hours, late_count, present_share,
        absent_share, tier, chronic, severe, previous_present_share, improved,
        early_warning``. Person-level: microdata, never to be published.
    """
    cal = SchoolCalendar.load(calendar)
    prm = params or TierParams()
    t = _tables(source)
    lo, hi = period_bounds(asof, period)
    plo, phi = previous_bounds(asof, period)
    schools = t["schools"]
    sch = schools.select(
        "school_id",
        _region=pl.Series(cal.region_index_of(schools["gemeente_code"])).cast(pl.Int64),
        _sector=pl.col("sector").replace_strict({s: i for i, s in enumerate(SECTORS)},
                                                default=None, return_dtype=pl.Int64),
        _sector_code=pl.col("sector"))
    cum = _cum_hours(cal)
    now = _shares(_period_hours(t, sch, lo, hi, cal, cum))
    prev = (_shares(_period_hours(t, sch, plo, phi, cal, cum))
            .select("person_id", previous_present_share=pl.col("present_share")))
    res = (t["residences"].filter((pl.col("start") <= asof)
                                  & (pl.col("end").is_null() | (pl.col("end") >= asof)))
           .sort("person_id", "start").group_by("person_id", maintain_order=True)
           .agg(pl.col("gemeente_code").last().alias("_res")))
    births = t["persons"].select("person_id", "birth_date")
    a = pl.col("absent_share")
    tier = (pl.when(a >= prm.severe).then(pl.lit("severe"))
            .when(a >= prm.chronic).then(pl.lit("chronic"))
            .when(pl.col("present_share") >= prm.good).then(pl.lit("good"))
            .otherwise(pl.lit("at_risk")))
    age_lo, age_hi = prm.early_warning_ages
    out = (now.join(prev, on="person_id", how="left")
           .join(schools.select("school_id", pl.col("gemeente_code").alias("_sg"), "swv_id"),
                 on="school_id", how="left")
           .join(res, on="person_id", how="left")
           .join(births, on="person_id", how="left")
           .with_columns(
               gemeente_code=pl.coalesce("_res", "_sg"),
               age=age_expr(pl.col("birth_date"), asof),
               period_start=pl.lit(lo), period_end=pl.lit(hi),
               tier=tier, chronic=a >= prm.chronic, severe=a >= prm.severe,
               improved=pl.col("present_share") > pl.col("previous_present_share")
               + prm.improved_min_gain)
           .with_columns(early_warning=pl.col("age").is_between(age_lo, age_hi).fill_null(False)
                         & (a > prm.early_warning_share)))
    return out.select(
        "person_id", "school_id", "gemeente_code", "swv_id", "age", "period_start",
        "period_end", pl.col("scheduled_hours").round(4), pl.col("absent_hours").round(4),
        *(pl.col(c).round(4) for c in ("unauthorised_hours", "authorised_hours",
                                       "illness_hours", "suspension_hours", "late_hours")),
        "late_count", "present_share", "absent_share", "tier", "chronic", "severe",
        "previous_present_share", "improved", "early_warning").sort("person_id")
