"""Absence signals per child: the 16-hour report, LRV after 4 weeks and 3 months, timers.

Definitions (defaults; each a field of :class:`~ozamonitor.attendance.params.SignalParams`):

``report_16h_4w``
    The first date on which the unauthorised hours in the 28 calendar days
    ending that date *exceed* 16 (seed 000: "more than sixteen hours in four
    weeks"; exactly 16 does not fire, 16.5 does). One per absence episode.
``lrv_4w``
    Unauthorised absence on every school day for more than 4 weeks: the first
    school day on which that absence has lasted more than 28 calendar days
    counting its first day. A school day counts when its unauthorised hours are
    at least half its scheduled hours; days that are not school days
    (weekends, holidays) neither break nor extend the run.
``lrv_3m``
    Likewise, the first school day on or after the run's first day plus 3
    calendar months (more than 3 months counting the first day).
absence episode
    Starts on the first day with any absence (advice 1: act on every absence;
    late arrivals do not count by default) and ends on the 20th consecutive
    school day without absence: it is open up to the day before.
``casusregie_due``, ``doorbraak_due``, ``alarm_3m``
    Timers per episode: its first day + 28, 56 and 84 calendar days, each
    emitted only when the episode is still open on that date.

Example: an episode starting Monday 2 September 2024 has ``casusregie_due``
30 September, ``doorbraak_due`` 28 October and ``alarm_3m`` 25 November; with
unauthorised absence on every school day ``lrv_4w`` is 30 September too.

Everything runs as one numba pass over the day rows sorted by person
(:mod:`ozamonitor.attendance._kernels`): a school year of a national register
is a few hundred million rows at most.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ozamonitor.attendance._kernels import signal_kernel
from ozamonitor.attendance.data import as_frame, daily
from ozamonitor.attendance.params import SignalParams
from ozamonitor.errors import ConfigurationError
from ozamonitor.register.school_calendar import HOLIDAY_REGIONS, SchoolCalendar
from ozamonitor.register.store import Register

__all__ = ["SIGNALS", "SIGNAL_COLUMNS", "SignalResult", "detect", "signals_from_register"]

#: Signal names in output order (timers after the data signals).
SIGNALS = ("report_16h_4w", "lrv_4w", "lrv_3m", "casusregie_due", "doorbraak_due", "alarm_3m")
#: Columns of the signal table.
SIGNAL_COLUMNS = ("person_id", "signal", "date", "detail")


@dataclass(frozen=True)
class SignalResult:
    """Signals and the absence episodes they belong to.

    Attributes
    ----------
    signals : polars.DataFrame
        ``person_id, signal, date, detail`` sorted by person, date and signal.
    episodes : polars.DataFrame
        ``person_id, start, last_absence, end`` (``end`` = the 20th school day
        without absence, null while open on the as-of date).
    """

    signals: pl.DataFrame
    episodes: pl.DataFrame


def _empty_signals() -> pl.DataFrame:
    return pl.DataFrame(schema={"person_id": pl.String, "signal": pl.String, "date": pl.Date,
                                "detail": pl.String})


def _plus_months(cal: SchoolCalendar, months: int) -> np.ndarray:
    """Day index of each calendar day plus ``months`` calendar months."""
    days = pl.Series(np.datetime64(cal.first, "D") + np.arange(cal.n_days)).cast(pl.Date)
    later = days.dt.offset_by(f"{months}mo")
    return (later.to_numpy().astype("datetime64[D]")
            - np.datetime64(cal.first, "D")).astype(np.int64)


def _absence_share(d: pl.DataFrame, t: pl.DataFrame, cal: SchoolCalendar) -> pl.Series:
    """Share of the school days from each episode's start to ``date`` with absence."""
    ep = (d.filter(pl.col("episode")).select("person_id", "date", "region", "school_day")
          .with_columns(_n=pl.col("school_day").cast(pl.Int64).cum_sum()))
    key = t.select("person_id", "start", "date").with_row_index("_i")
    at_t = key.sort("date").join_asof(ep.select("person_id", "date", "_n").sort("date"),
                                      on="date", by="person_id", strategy="backward",
                                      check_sortedness=False)
    at_s = key.sort("start").join_asof(
        ep.select("person_id", pl.col("date").alias("start"), "region", "school_day",
                  "_n").sort("start"), on="start", by="person_id", strategy="backward",
        check_sortedness=False)
    j = at_t.select("_i", "date", "_n").join(
        at_s.select("_i", "start", "region", "school_day", _n0="_n"), on="_i").sort("_i")
    r = j["region"].to_numpy().astype(np.int64)
    s_day = cal.day_index(j["start"].to_numpy())
    t_day = cal.day_index(j["date"].to_numpy())
    school = cal.school_days_before(r, t_day + 1) - cal.school_days_before(r, s_day)
    absent = (j["_n"] - j["_n0"] + j["school_day"].cast(pl.Int64)).to_numpy()
    return pl.Series(np.where(school > 0, absent / np.maximum(school, 1), 1.0))


def detect(absence: Any, *, asof: dt.date, start: dt.date | None = None,
           schools: pl.DataFrame | None = None, region: str = "middle",
           calendar: SchoolCalendar | str | Path | None = None,
           params: SignalParams | None = None) -> SignalResult:
    """Compute the signals of daily absence up to ``asof``.

    Parameters
    ----------
    absence : frame
        ``absence_days`` rows (polars or pandas; ``person_id, school_id, date,
        hours, kind`` and optionally ``scheduled_hours``).
    asof : datetime.date
        Only absence up to this date is used and only signals up to it returned.
    start : datetime.date, optional
        Return only signals on or after this date (earlier absence still counts
        for windows and episodes).
    schools : polars.DataFrame, optional
        The register's ``schools`` (holiday region and sector of each school).
    region : str
        Holiday region of schools not in ``schools`` (default ``middle``).
    calendar : SchoolCalendar or path, optional
        Default: the packaged calendar.
    params : SignalParams, optional
        Definitions; default the issue's.

    Returns
    -------
    SignalResult

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> days = [dt.date(2024, 9, 2) + dt.timedelta(days=i) for i in range(35)]
    >>> rows = pl.DataFrame({"person_id": "p1", "school_id": "s1",
    ...                      "date": [d for d in days if d.weekday() < 5],
    ...                      "hours": 5.0, "kind": "unauthorised"})
    >>> res = detect(rows, asof=dt.date(2024, 10, 6))
    >>> res.signals.select("signal", "date").rows()[:3]  # doctest: +NORMALIZE_WHITESPACE
    [('report_16h_4w', datetime.date(2024, 9, 5)),
     ('lrv_4w', datetime.date(2024, 9, 30)),
     ('casusregie_due', datetime.date(2024, 9, 30))]
    """
    if region not in HOLIDAY_REGIONS:
        raise ConfigurationError(f"unknown region {region!r}; expected one of "
                                 f"{', '.join(HOLIDAY_REGIONS)}")
    cal = SchoolCalendar.load(calendar)
    prm = params or SignalParams()
    if asof > cal.last:
        raise ConfigurationError(f"asof {asof} is after the school calendar's last day "
                                 f"{cal.last}; give a calendar that covers it")
    ab = as_frame(absence).filter(pl.col("date") <= asof)
    d = daily(ab, calendar=cal, params=prm, schools=schools, region=region)
    empty_ep = pl.DataFrame(schema={"person_id": pl.String, "start": pl.Date,
                                    "last_absence": pl.Date, "end": pl.Date})
    if d.height == 0:
        return SignalResult(_empty_signals(), empty_ep)
    lrv = (d["unauth"] >= prm.lrv_day_share * d["scheduled"] - 1e-9).to_numpy()
    sd = cal._school_days
    counts = sd.sum(axis=1).astype(np.int64)
    ordinal_day = np.zeros((len(HOLIDAY_REGIONS), int(counts.max()) + 1), np.int64)
    for r in range(len(HOLIDAY_REGIONS)):
        k = np.nonzero(sd[r])[0]
        ordinal_day[r, :len(k)] = k
    asof_day = (asof - cal.first).days
    out = signal_kernel(
        d["pid"].to_numpy(), d["day"].to_numpy(), d["region"].to_numpy().astype(np.int64),
        d["school_day"].to_numpy(), d["unauth"].to_numpy().astype(np.float64),
        d["episode"].to_numpy(), lrv, cal._cum_school_days.astype(np.int64), ordinal_day,
        counts, _plus_months(cal, prm.lrv_months), asof_day, float(prm.report_hours),
        int(prm.report_window_days), int(prm.episode_gap_school_days), int(prm.lrv_days))
    (ep_pid, ep_start, ep_last, ep_close, rp_pid, rp_day, rp_hours, rp_ep,
     l4_pid, l4_day, l4_start, l3_pid, l3_day, l3_start) = out
    starts = np.flatnonzero(np.r_[True, np.diff(d["pid"].to_numpy()) != 0])
    ids = d["person_id"].gather(pl.Series(starts, dtype=pl.Int64))
    first = np.datetime64(cal.first, "D")

    def dates(x: np.ndarray) -> pl.Series:
        return pl.Series((first + x.astype("timedelta64[D]")), dtype=pl.Date)

    def person(x: np.ndarray) -> pl.Series:
        return ids.gather(pl.Series(x, dtype=pl.Int64))

    episodes = pl.DataFrame({
        "person_id": person(ep_pid), "start": dates(ep_start),
        "last_absence": dates(ep_last),
        "end": dates(np.where(ep_close < 0, 0, ep_close)),
    }).with_columns(end=pl.when(pl.Series(ep_close >= 0)).then(pl.col("end")))
    parts = [
        pl.DataFrame({"person_id": person(rp_pid), "date": dates(rp_day),
                      "_h": pl.Series(rp_hours, dtype=pl.Float64), "_ref": dates(rp_ep)})
        .with_columns(signal=pl.lit("report_16h_4w"))
        .with_columns(detail=pl.format(
            "{} unauthorised hours in the {} days to {} (episode from {})",
            pl.col("_h").round(2), pl.lit(prm.report_window_days), pl.col("date"),
            pl.col("_ref"))),
    ]
    for name, p_, dd, s_ in (("lrv_4w", l4_pid, l4_day, l4_start),
                             ("lrv_3m", l3_pid, l3_day, l3_start)):
        parts.append(pl.DataFrame({"person_id": person(p_), "date": dates(dd),
                                   "_ref": dates(s_)})
                     .with_columns(signal=pl.lit(name), detail=pl.format(
                         "unauthorised absence on every school day since {}",
                         pl.col("_ref"))))
    for name, offset in prm.timers.items():
        t = episodes.with_columns(date=pl.col("start") + pl.duration(days=offset)).filter(
            (pl.col("date") <= asof) & (pl.col("end").is_null() | (pl.col("date")
                                                                   < pl.col("end"))))
        if prm.timer_min_absence_share > 0 and t.height:
            t = t.filter(_absence_share(d, t, cal) >= prm.timer_min_absence_share - 1e-12)
        parts.append(t.select(
            "person_id", signal=pl.lit(name), date=pl.col("date"),
            detail=pl.format("episode from {} still open ({} days)", pl.col("start"),
                             pl.lit(offset))))
    order = {s: i for i, s in enumerate(SIGNALS)}
    sig = pl.concat([p.select(SIGNAL_COLUMNS) for p in parts])
    if start is not None:
        sig = sig.filter(pl.col("date") >= start)
    sig = (sig.with_columns(_o=pl.col("signal").replace_strict(
        order, default=len(order), return_dtype=pl.Int32))
        .sort("person_id", "date", "_o", "detail").drop("_o"))
    return SignalResult(sig, episodes)


def signals_from_register(register: Register | str | Path, *, asof: dt.date,
                          start: dt.date | None = None,
                          calendar: SchoolCalendar | str | Path | None = None,
                          params: SignalParams | None = None) -> SignalResult:
    """:func:`detect` on a register's ``absence_days`` with its ``schools``."""
    reg = Register.open(register)
    ab = reg.scan("absence_days").filter(pl.col("date") <= asof).collect()
    return detect(ab, asof=asof, start=start, schools=reg.read("schools"), calendar=calendar,
                  params=params)
