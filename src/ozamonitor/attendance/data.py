"""Reading daily absence (a register's ``absence_days`` or a CSV) and the per-day frame.

:func:`read_absence_csv` reads a file with exactly the ``absence_days`` columns
(``person_id, school_id, date, hours, kind``; optional ``scheduled_hours``,
``dagdelen``, ``minutes``) and refuses anything else with the file, row and
field named. :func:`daily` turns absence rows into one row per person and day
with what the signals need: unauthorised hours, whether the day counts for an
episode, the day's scheduled hours, its holiday region and whether it is a
school day.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ozamonitor.attendance.params import SignalParams
from ozamonitor.errors import InputError
from ozamonitor.register.absence_days import default_day_hours_expr, fill_hours
from ozamonitor.register.schema import ABSENCE_DAY_KINDS, TABLES
from ozamonitor.register.school_calendar import HOLIDAY_REGIONS, SchoolCalendar
from ozamonitor.register.store import Register

__all__ = ["REQUIRED_COLUMNS", "absence_from_register", "as_frame", "daily",
           "read_absence_csv"]

#: Columns an absence file must have; ``scheduled_hours``, ``dagdelen`` and
#: ``minutes`` may be left out.
REQUIRED_COLUMNS = ("person_id", "school_id", "date", "hours", "kind")
_SCHEMA = TABLES["absence_days"].polars_schema


def as_frame(df: Any) -> pl.DataFrame:
    """A polars frame from a polars (lazy) or pandas frame."""
    if isinstance(df, pl.LazyFrame):
        return df.collect()
    if isinstance(df, pl.DataFrame):
        return df
    try:
        import pandas as pd

        if isinstance(df, pd.DataFrame):
            return pl.from_pandas(df)
    except ImportError:  # pragma: no cover
        pass
    raise TypeError(f"expected a polars or pandas DataFrame, got {type(df).__name__}")


def _first_bad(df: pl.DataFrame, mask: pl.Expr) -> int | None:
    m = mask.fill_null(False)
    bad = df.select(m.arg_max().alias("i"), m.any().alias("any")).row(0)
    return int(bad[0]) + 1 if bad[1] else None


def read_absence_csv(path: str | Path, *, fallback_day_hours: float = 5.0) -> pl.DataFrame:
    """Read an absence CSV with exactly the ``absence_days`` columns.

    Parameters
    ----------
    path : str or Path
        CSV (UTF-8, comma or semicolon separated, ISO dates).
    fallback_day_hours : float
        Hours of a school day, for rows given in half days (``dagdelen``) without
        ``scheduled_hours`` (the file says nothing about the school's sector).

    Returns
    -------
    polars.DataFrame
        The rows in the register's ``absence_days`` schema, ``hours`` filled.

    Raises
    ------
    InputError
        A missing or unexpected column (row 0), or the first bad value (file,
        1-based data row, field): an unreadable date or number, an unknown
        kind, hours outside 0..24 or no hours at all.
    """
    p = Path(path)
    try:
        head = p.read_text(encoding="utf-8").split("\n", 1)[0]
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read the file ({e})", file=p) from None
    sep = ";" if head.count(";") > head.count(",") else ","
    try:
        raw = pl.read_csv(p, separator=sep, infer_schema=False)
    except pl.exceptions.PolarsError as e:
        raise InputError(f"not a readable CSV file ({e})", file=p) from None
    cols = [c.strip() for c in raw.columns]
    raw.columns = cols
    for c in cols:
        if c not in _SCHEMA:
            hint = " (deliver pseudonymised person_id, never a BSN)" if c.lower() == "bsn" else ""
            raise InputError(f"unexpected column {c!r}{hint}; absence files have exactly the "
                             f"columns {', '.join(_SCHEMA)}", file=p, row=0, field=c)
    for c in REQUIRED_COLUMNS:
        if c not in cols:
            raise InputError(f"missing column {c!r} (absence files have the columns "
                             f"{', '.join(_SCHEMA)})", file=p, row=0, field=c)
    txt = {c: pl.col(c).str.strip_chars().replace("", None) for c in cols}
    parsed: dict[str, pl.Expr] = {}
    for c in cols:
        kind = TABLES["absence_days"].column(c).kind
        if kind == "date":
            parsed[c] = txt[c].str.to_date("%Y-%m-%d", strict=False)
        elif kind in ("float", "int"):
            num = txt[c].str.replace(",", ".").cast(pl.Float64, strict=False)
            parsed[c] = num if kind == "float" else num.cast(pl.Int32, strict=False)
        else:
            parsed[c] = txt[c]
    df = raw.select(**{c: e for c, e in parsed.items()},
                    **{f"_t_{c}": txt[c] for c in cols})
    for c in cols:
        row = _first_bad(df, pl.col(f"_t_{c}").is_not_null() & pl.col(c).is_null())
        if row is not None:
            raise InputError(f"cannot read {df[f'_t_{c}'][row - 1]!r} as "
                             f"{TABLES['absence_days'].column(c).kind}", file=p, row=row,
                             field=c)
    for c in ("person_id", "school_id", "date", "kind"):
        row = _first_bad(df, pl.col(c).is_null())
        if row is not None:
            raise InputError("required value is empty", file=p, row=row, field=c)
    df = df.with_columns(pl.col("kind").str.to_lowercase())
    row = _first_bad(df, ~pl.col("kind").is_in(list(ABSENCE_DAY_KINDS)))
    if row is not None:
        raise InputError(f"unknown kind {df['kind'][row - 1]!r}; expected one of "
                         f"{', '.join(ABSENCE_DAY_KINDS)}", file=p, row=row, field="kind")
    for c in _SCHEMA:
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, _SCHEMA[c]).alias(c))
    df = fill_hours(df.select(list(_SCHEMA)).cast(_SCHEMA), None,  # type: ignore[arg-type]
                    fallback_day_hours=fallback_day_hours)
    row = _first_bad(df, pl.col("hours").is_null())
    if row is not None:
        raise InputError("no hours (give hours, dagdelen or minutes)", file=p, row=row,
                         field="hours")
    for c in ("hours", "scheduled_hours"):
        row = _first_bad(df, (pl.col(c) < 0) | (pl.col(c) > 24))
        if row is not None:
            raise InputError(f"{df[c][row - 1]} is outside 0..24 hours", file=p, row=row,
                             field=c)
    return df


def absence_from_register(register: Register | str | Path) -> pl.DataFrame:
    """The ``absence_days`` table of a register."""
    return Register.open(register).read("absence_days")


def daily(absence: Any, *, calendar: SchoolCalendar, params: SignalParams,
          schools: pl.DataFrame | None = None, region: str = "middle") -> pl.DataFrame:
    """One row per person and day with absence, grouped by person and sorted by day.

    Parameters
    ----------
    absence : frame
        ``absence_days`` rows (polars or pandas).
    calendar : SchoolCalendar
        Decides school days and the sectors' day hours.
    params : SignalParams
        Which kinds are unauthorised and which count for episodes.
    schools : polars.DataFrame, optional
        The ``schools`` table: each row's holiday region (from the school's
        gemeente) and sector. Without it every row is in ``region`` and the day
        has ``params.fallback_day_hours`` unless the row gives ``scheduled_hours``.
    region : str
        Holiday region of rows whose school is not in ``schools``.

    Returns
    -------
    polars.DataFrame
        ``pid (int64: 0, 1, ... per person), person_id, date, day (int64, days
        since the calendar's first day), region (int8), school_day (bool), unauth
        (hours), absent (hours, all kinds), episode (bool), scheduled (hours)``.
        Persons come in the order of a 64-bit hash of their id (not
        alphabetical: sorting millions of strings is slow); within a person
        the days ascend. Several rows of one day (kinds, schools) are summed;
        the day's region is its first row's.

    Notes
    -----
    Grouping sorts the rows by (hash of ``person_id``, day) with numpy; two
    different ids with the same hash (practically never) make it fall back to
    sorting by the ids themselves, so the result is always exact.
    """
    ab = as_frame(absence)
    if "scheduled_hours" not in ab.columns:
        ab = ab.with_columns(scheduled_hours=pl.lit(None, pl.Float64))
    if ab.height:
        lo, hi = ab["date"].min(), ab["date"].max()
        calendar.day_index(np.array([lo, hi], dtype="datetime64[D]"))  # raises outside
    dflt = HOLIDAY_REGIONS.index(region) if region in HOLIDAY_REGIONS else 1
    if schools is not None and schools.height:
        sch = schools.select("school_id", pl.col("sector").alias("_sector"),
                             pl.Series("_region", calendar.region_index_of(
                                 schools["gemeente_code"])).cast(pl.Int8))
        ab = ab.join(sch, on="school_id", how="left", maintain_order="left")
        day_h = default_day_hours_expr(calendar, pl.col("_sector"), pl.col("date"))
    else:
        ab = ab.with_columns(_region=pl.lit(None, pl.Int8))
        day_h = pl.lit(None, pl.Float64)
    k = pl.col("kind")
    rows = ab.select(
        _h=pl.col("person_id").hash(),
        day=(pl.col("date") - pl.lit(calendar.first)).dt.total_days(),
        unauth=pl.when(k.is_in(list(params.unauthorised_kinds))).then(pl.col("hours"))
        .otherwise(0.0).fill_null(0.0),
        absent=pl.col("hours").fill_null(0.0),
        episode=k.is_in(list(params.episode_kinds)).fill_null(False),
        scheduled=pl.coalesce(pl.col("scheduled_hours"), day_h,
                              pl.lit(params.fallback_day_hours)),
        region=pl.col("_region").fill_null(dflt).cast(pl.Int8),
    )
    empty = {"pid": pl.Int64, "person_id": pl.String, "date": pl.Date, "day": pl.Int64,
             "region": pl.Int8, "school_day": pl.Boolean, "unauth": pl.Float64,
             "absent": pl.Float64, "episode": pl.Boolean, "scheduled": pl.Float64}
    if rows.height == 0:
        return pl.DataFrame(schema=empty)
    h = rows["_h"].to_numpy()
    day = rows["day"].to_numpy().astype(np.int64)
    order = np.lexsort((day, h))
    pid_s = ab["person_id"]
    hs = h[order]
    same_h = hs[1:] == hs[:-1]
    ids_o = pid_s.gather(pl.Series(order, dtype=pl.Int64))
    if same_h.any():
        # a hash collision would interleave two persons: check the ids where hashes match
        a = ids_o.slice(0, len(order) - 1).filter(pl.Series(same_h))
        b = ids_o.slice(1).filter(pl.Series(same_h))
        if (a != b).any():  # pragma: no cover - a 64-bit hash collision
            order = (ab.select(pl.col("person_id"), pl.Series("day", day))
                     .with_row_index("_i").sort("person_id", "day")["_i"].to_numpy())
            hs = pid_s.gather(pl.Series(order, dtype=pl.Int64)).rank("dense").to_numpy()
            ids_o = pid_s.gather(pl.Series(order, dtype=pl.Int64))
    ds = day[order]
    new_p = np.r_[True, hs[1:] != hs[:-1]]
    new_row = new_p | np.r_[True, ds[1:] != ds[:-1]]
    first = np.flatnonzero(new_row)
    pid = np.cumsum(new_p)[first] - 1

    def col(name: str) -> np.ndarray:
        return rows[name].to_numpy()[order]

    out = pl.DataFrame({
        "pid": pid.astype(np.int64),
        "person_id": ids_o.gather(pl.Series(first, dtype=pl.Int64)),
        "day": ds[first],
        "region": col("region")[first],
        "unauth": np.add.reduceat(col("unauth").astype(np.float64), first),
        "absent": np.add.reduceat(col("absent").astype(np.float64), first),
        "episode": np.maximum.reduceat(col("episode").astype(np.int8), first) > 0,
        "scheduled": np.maximum.reduceat(col("scheduled").astype(np.float64), first),
    })
    sd = calendar.school_day_mask(out["region"].to_numpy().astype(np.int64),
                                  out["day"].to_numpy())
    return out.with_columns(
        date=pl.Series(np.datetime64(calendar.first, "D")
                       + out["day"].to_numpy().astype("timedelta64[D]")).cast(pl.Date),
        school_day=pl.Series(sd)).select(list(empty))
