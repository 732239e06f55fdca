"""School years and compulsory-education (Leerplichtwet) status.

School years run from 1 August to 31 July and are written ``"2022-2023"``.

Compulsory education (*leerplicht*), Leerplichtwet 1969 art. 3 and 4:

* it starts on the first school day of the month after the child's fifth
  birthday; we take the first day of that month;
* it ends at the end of the school year in which the child turns 16, or
  earlier once the child has completed 12 full school years of compulsory
  education (a school year is *full* when compulsory education had started
  by its first day, 1 August);
* then the qualification duty (*kwalificatieplicht*) applies until the 18th
  birthday (the day before it is the last day), unless a start qualification
  (havo, vwo, mbo-2 diploma) was obtained earlier.

All functions are vectorised polars expressions so they apply to millions of
children at once.
"""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

from ozamonitor.errors import ConfigurationError

FIRST_SCHOOL_YEAR = "2014-2015"
LAST_SCHOOL_YEAR = "2025-2026"

# Ages in whole months since the birth month: the difference of month indices, so
# a child born on any day of March 2010 is 0 in March 2010 and 61 in April 2015.
# The simulation and the impact pool work on monthly grids in these units.

#: 4 years: a child may start school (basisschool) from the month it turns 4.
SCHOOL_ENTRY_MONTHS = 48
#: Compulsory education starts on the first of the month after the 5th birthday
#: (Leerplichtwet art. 3; :func:`compulsory_start_expr`).
COMPULSORY_START_MONTHS = 61
#: 12 years: the end of primary-school age (``primary`` in the impact study is
#: younger than this; special education switches from so to vso around it).
SECONDARY_AGE_MONTHS = 144
#: 16 years: the age after which leaving school without a start qualification is
#: dropping out (and mbo becomes the usual next school).
AGE_16_MONTHS = 192
#: 17 years: the last age of the OZA target groups (the impact pool is younger) and
#: of new referrals to special education.
AGE_17_MONTHS = 204
#: 18 years: the qualification duty ends (:func:`qualification_end_expr`).
ADULT_MONTHS = 216

_SY = re.compile(r"^(\d{4})-(\d{4})$")


def parse_school_year(sy: str) -> int:
    """``"2022-2023"`` -> 2022 (the calendar year in which it starts)."""
    m = _SY.match(sy.strip())
    if not m or int(m.group(2)) != int(m.group(1)) + 1:
        raise ConfigurationError(f"invalid school year {sy!r}; expected e.g. '2022-2023'")
    return int(m.group(1))


def school_year_label(start_year: int) -> str:
    return f"{start_year}-{start_year + 1}"


def school_year_bounds(sy: str | int) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of a school year."""
    y = parse_school_year(sy) if isinstance(sy, str) else sy
    return dt.date(y, 8, 1), dt.date(y + 1, 7, 31)


def school_year_of(d: dt.date) -> int:
    """Start year of the school year that contains ``d``."""
    return d.year if d.month >= 8 else d.year - 1


def school_years(first: str = FIRST_SCHOOL_YEAR, last: str = LAST_SCHOOL_YEAR) -> list[str]:
    return [school_year_label(y) for y in range(parse_school_year(first),
                                                 parse_school_year(last) + 1)]


def school_year_expr(date: pl.Expr) -> pl.Expr:
    """Start year (Int32) of the school year containing ``date``."""
    return (date.dt.year() - (date.dt.month() < 8).cast(pl.Int32)).cast(pl.Int32)


def _add_years(date: pl.Expr, n: int) -> pl.Expr:
    return date.dt.offset_by(f"{n}y")


def compulsory_start_expr(birth_date: pl.Expr) -> pl.Expr:
    """First day of compulsory education: first of the month after the 5th birthday."""
    return _add_years(birth_date, 5).dt.month_start().dt.offset_by("1mo")


def compulsory_end_expr(birth_date: pl.Expr) -> pl.Expr:
    """Last day (inclusive) of compulsory education (*leerplicht*).

    The earlier of: 31 July ending the school year in which the child turns 16,
    and the end of the 12th full school year.
    """
    sixteen = _add_years(birth_date, 16)
    end16_year = school_year_expr(sixteen) + 1
    start = compulsory_start_expr(birth_date)
    sy_start = school_year_expr(start)
    first_full = sy_start + (
        (start.dt.month() != 8) | (start.dt.day() != 1)
    ).cast(pl.Int32)
    end12_year = first_full + 12
    end_year = pl.min_horizontal(end16_year, end12_year)
    return pl.date(end_year, 7, 31)


def qualification_end_expr(birth_date: pl.Expr) -> pl.Expr:
    """Last day of the qualification duty: the day before the 18th birthday.

    A start qualification obtained earlier ends it sooner; callers apply that
    from the enrolments (end_reason ``start_qualification``).
    """
    return _add_years(birth_date, 18).dt.offset_by("-1d")


def age_expr(birth_date: pl.Expr, on: pl.Expr | dt.date) -> pl.Expr:
    """Age in completed years on a date (vectorised)."""
    on_e = pl.lit(on) if isinstance(on, dt.date) else on
    years = on_e.dt.year() - birth_date.dt.year()
    before_birthday = (on_e.dt.month() < birth_date.dt.month()) | (
        (on_e.dt.month() == birth_date.dt.month()) & (on_e.dt.day() < birth_date.dt.day())
    )
    return (years - before_birthday.cast(pl.Int32)).cast(pl.Int32)


def with_compulsory_periods(persons: pl.LazyFrame | pl.DataFrame) -> pl.LazyFrame:
    """Add ``compulsory_start``, ``compulsory_end`` and ``qualification_end`` columns."""
    lf = persons.lazy()
    bd = pl.col("birth_date")
    return lf.with_columns(
        compulsory_start=compulsory_start_expr(bd),
        compulsory_end=compulsory_end_expr(bd),
        qualification_end=qualification_end_expr(bd),
    )
