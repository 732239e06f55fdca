"""Absence signals on hand-made calendars, the issue's worked example, and brute force."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from ozamonitor.attendance.params import SignalParams
from ozamonitor.attendance.signals import detect
from ozamonitor.errors import ConfigurationError
from ozamonitor.register.school_calendar import SchoolCalendar

D = dt.date
NO_HOLIDAYS = SchoolCalendar(holidays=pl.DataFrame(schema={
    "region": pl.String, "school_year": pl.String, "name": pl.String, "first": pl.Date,
    "last": pl.Date}))


def holidays(*periods: tuple[dt.date, dt.date], region: str = "middle") -> SchoolCalendar:
    rows = [(region, "2024-2025", "h", a, b) for a, b in periods]
    return SchoolCalendar(holidays=pl.DataFrame(rows, schema={
        "region": pl.String, "school_year": pl.String, "name": pl.String, "first": pl.Date,
        "last": pl.Date}, orient="row"))


def weekdays(first: dt.date, last: dt.date, cal: SchoolCalendar = NO_HOLIDAYS,
             region: str = "middle") -> list[dt.date]:
    return cal.school_days(region, first, last)


def rows(person: str, days: list[dt.date], hours: float | list[float] = 5.0,
         kind: str = "unauthorised", school: str = "S1") -> pl.DataFrame:
    h = hours if isinstance(hours, list) else [hours] * len(days)
    return pl.DataFrame({"person_id": person, "school_id": school, "date": days,
                         "hours": [float(x) for x in h], "kind": kind},
                        schema={"person_id": pl.String, "school_id": pl.String,
                                "date": pl.Date, "hours": pl.Float64, "kind": pl.String})


def sig(df: pl.DataFrame, asof: dt.date, cal: SchoolCalendar = NO_HOLIDAYS,
        **kw: object) -> list[tuple[str, dt.date]]:
    res = detect(df, asof=asof, calendar=cal, **kw)  # type: ignore[arg-type]
    return list(res.signals.select("signal", "date").iter_rows())


def of(kind: str, found: list[tuple[str, dt.date]]) -> list[dt.date]:
    return [d for s, d in found if s == kind]


def test_worked_example_of_the_issue() -> None:
    # unauthorised absence every school day from Monday 2 September 2024
    days = weekdays(D(2024, 9, 2), D(2024, 12, 20))
    found = sig(rows("p", days), D(2024, 12, 20))
    assert of("casusregie_due", found) == [D(2024, 9, 30)]
    assert of("doorbraak_due", found) == [D(2024, 10, 28)]
    assert of("alarm_3m", found) == [D(2024, 11, 25)]
    assert of("lrv_4w", found) == [D(2024, 9, 30)]
    assert of("lrv_3m", found) == [D(2024, 12, 2)]  # more than 3 months counting 2 Sep
    # 4 days x 5 h = 20 h > 16 on Thursday; one report per episode
    assert of("report_16h_4w", found) == [D(2024, 9, 5)]


def test_sixteen_hours_exactly_does_not_fire_sixteen_and_a_half_does() -> None:
    days = [D(2024, 9, 2), D(2024, 9, 9), D(2024, 9, 16), D(2024, 9, 23)]
    exact = rows("p", days, [4.0, 4.0, 4.0, 4.0])
    assert of("report_16h_4w", sig(exact, D(2024, 10, 31))) == []
    more = rows("p", days, [4.0, 4.0, 4.0, 4.5])
    assert of("report_16h_4w", sig(more, D(2024, 10, 31))) == [D(2024, 9, 23)]


def test_window_is_28_calendar_days_ending_that_date() -> None:
    # 8 h on 2 Sep and 8.5 h on 30 Sep: 29 days apart, never in one window
    far = rows("p", [D(2024, 9, 2), D(2024, 9, 30)], [5.0, 5.0]).vstack(
        rows("p", [D(2024, 9, 3), D(2024, 10, 1)], [3.0, 3.5]))
    assert of("report_16h_4w", sig(far.sort("date"), D(2024, 10, 31))) == []
    # 29 Sep would be in; shift the second block one day earlier (Sunday is not a school
    # day but the rule counts calendar days, so use Friday 27 Sep + Monday 30 Sep)
    near = rows("p", [D(2024, 9, 3), D(2024, 9, 27)], [8.0, 8.5])
    assert of("report_16h_4w", sig(near, D(2024, 10, 31))) == [D(2024, 9, 27)]


def test_only_unauthorised_hours_count_for_the_report() -> None:
    days = weekdays(D(2024, 9, 2), D(2024, 9, 13))
    ill = rows("p", days, kind="illness")
    found = sig(ill, D(2024, 9, 30))
    assert of("report_16h_4w", found) == [] and of("lrv_4w", found) == []
    assert of("casusregie_due", found) == [D(2024, 9, 30)]  # episode still open
    late = rows("p", days, 0.25, kind="late")
    assert sig(late, D(2024, 10, 31)) == []  # late arrivals start no episode
    with_late = sig(rows("p", days, 2.0, kind="late"), D(2024, 10, 31),
                    params=SignalParams(unauthorised_kinds=("unauthorised", "late"),
                                        episode_kinds=("unauthorised", "late")))
    assert of("report_16h_4w", with_late) == [D(2024, 9, 12)]  # 9 x 2 h = 18 h


def test_holidays_are_not_school_days_and_do_not_break_a_run() -> None:
    autumn = holidays((D(2024, 10, 19), D(2024, 10, 27)))
    days = weekdays(D(2024, 10, 7), D(2024, 11, 29), autumn)
    assert D(2024, 10, 21) not in days
    found = sig(rows("p", days), D(2024, 11, 29), autumn)
    # the run from 7 Oct survives the holiday week: more than 28 days on 4 Nov
    assert of("lrv_4w", found) == [D(2024, 11, 4)]
    # without the holiday, a week of presence in between breaks the run
    gap = [d for d in weekdays(D(2024, 10, 7), D(2024, 11, 29))
           if not D(2024, 10, 21) <= d <= D(2024, 10, 25)]
    found = sig(rows("p", gap), D(2024, 11, 29))
    assert of("lrv_4w", found) == [D(2024, 11, 25)]  # new run from 28 Oct


def test_a_missing_school_day_breaks_the_lrv_run() -> None:
    days = [d for d in weekdays(D(2024, 9, 2), D(2024, 10, 31)) if d != D(2024, 9, 25)]
    found = sig(rows("p", days), D(2024, 10, 31))
    assert of("lrv_4w", found) == [D(2024, 10, 24)]  # 26 Sep + 28 days


def test_half_day_school() -> None:
    # a school whose days are 2.5 h: a full day absent is 2.5 h, which is an LRV day;
    # 1 h of 2.5 h is not (below half the day)
    days = weekdays(D(2024, 9, 2), D(2024, 10, 11))
    half = rows("p", days, 2.5).with_columns(scheduled_hours=pl.lit(2.5))
    found = sig(half, D(2024, 10, 11))
    assert of("lrv_4w", found) == [D(2024, 9, 30)]
    assert of("report_16h_4w", found) == [D(2024, 9, 10)]  # 7 x 2.5 = 17.5 h
    part = rows("p", days, 1.0).with_columns(scheduled_hours=pl.lit(2.5))
    assert of("lrv_4w", sig(part, D(2024, 10, 11))) == []
    # the same 2.5 h on a 5-hour day (no scheduled_hours, fallback 5 h) is half: LRV day
    assert of("lrv_4w", sig(rows("p", days, 2.5), D(2024, 10, 11))) == [D(2024, 9, 30)]
    assert of("lrv_4w", sig(rows("p", days, 2.4), D(2024, 10, 11))) == []


def test_episode_ends_after_twenty_school_days_and_restarts() -> None:
    first = weekdays(D(2024, 9, 2), D(2024, 9, 6))  # last absence Friday 6 Sep
    # 20 school days without absence: 9 Sep .. 4 Oct; the episode ends on 4 Oct
    second = weekdays(D(2024, 10, 7), D(2024, 10, 11))
    df = pl.concat([rows("p", first, 1.0, kind="illness"), rows("p", second, 1.0,
                                                                   kind="illness")])
    res = detect(df, asof=D(2024, 12, 31), calendar=NO_HOLIDAYS)
    eps = res.episodes.select("start", "last_absence", "end").rows()
    assert eps == [(D(2024, 9, 2), D(2024, 9, 6), D(2024, 10, 4)),
                   (D(2024, 10, 7), D(2024, 10, 11), D(2024, 11, 8))]
    found = list(res.signals.select("signal", "date").iter_rows())
    # both episodes are open 28 days after their start (30 Sep < 4 Oct; 4 Nov < 8 Nov),
    # neither at 56 days
    assert of("casusregie_due", found) == [D(2024, 9, 30), D(2024, 11, 4)]
    assert of("doorbraak_due", found) == []
    # one school day less of a gap keeps it one episode
    third = weekdays(D(2024, 10, 4), D(2024, 10, 11))
    df = pl.concat([rows("p", first, 1.0, kind="illness"), rows("p", third, 1.0,
                                                                  kind="illness")])
    res = detect(df, asof=D(2024, 12, 31), calendar=NO_HOLIDAYS)
    assert res.episodes.height == 1


def test_one_report_per_episode_and_again_in_the_next() -> None:
    a = weekdays(D(2024, 9, 2), D(2024, 9, 13))
    b = weekdays(D(2024, 11, 4), D(2024, 11, 15))
    df = pl.concat([rows("p", a), rows("p", b)])
    found = sig(df, D(2024, 12, 31))
    assert of("report_16h_4w", found) == [D(2024, 9, 5), D(2024, 11, 7)]


def test_episode_open_on_asof_has_no_end_and_from_filters() -> None:
    days = weekdays(D(2024, 9, 2), D(2024, 9, 20))
    res = detect(rows("p", days), asof=D(2024, 10, 1), calendar=NO_HOLIDAYS)
    assert res.episodes["end"].to_list() == [None]
    found = sig(rows("p", days), D(2024, 10, 1), start=D(2024, 9, 10))
    assert of("report_16h_4w", found) == []  # 5 Sep is before --from
    assert of("casusregie_due", found) == [D(2024, 9, 30)]


def test_timers_configurable_and_min_absence_share() -> None:
    days = weekdays(D(2024, 9, 2), D(2024, 12, 20))
    p = SignalParams(timers={"casusregie_due": 28, "doorbraak_due": 84, "alarm_3m": 84})
    found = sig(rows("p", days), D(2024, 12, 20), params=p)
    assert of("doorbraak_due", found) == [D(2024, 11, 25)]
    sporadic = rows("p", [D(2024, 9, 2), D(2024, 9, 20), D(2024, 10, 10)], 5.0,
                    kind="illness")
    assert of("casusregie_due", sig(sporadic, D(2024, 12, 20))) == [D(2024, 9, 30)]
    strict = SignalParams(timer_min_absence_share=0.5)
    assert of("casusregie_due", sig(sporadic, D(2024, 12, 20), params=strict)) == []
    assert of("casusregie_due", sig(rows("p", days), D(2024, 12, 20), params=strict)) == [
        D(2024, 9, 30)]


def test_regions_from_schools_and_bad_options() -> None:
    cal = holidays((D(2024, 10, 14), D(2024, 10, 18)), region="south")
    schools = pl.DataFrame({"school_id": ["S1"], "sector": ["vo"],
                            "gemeente_code": ["GM0002"]})  # 2 mod 3 -> south
    days = weekdays(D(2024, 9, 30), D(2024, 11, 29), cal, "south")
    found = sig(rows("p", days, 6.0), D(2024, 11, 29), cal, schools=schools)
    assert of("lrv_4w", found) == [D(2024, 10, 28)]
    with pytest.raises(ConfigurationError):
        detect(rows("p", days), asof=D(2024, 11, 1), region="east")
    with pytest.raises(ConfigurationError):
        SignalParams(unauthorised_kinds=("absent",))
    with pytest.raises(ConfigurationError):
        detect(rows("p", [D(2030, 1, 7)]), asof=D(2030, 1, 31))


# ---------------------------------------------------------------- brute force


def brute(df: pl.DataFrame, asof: dt.date, cal: SchoolCalendar,
          p: SignalParams) -> set[tuple[str, str, dt.date]]:
    """The definitions written out day by day (slow, obvious)."""
    out: set[tuple[str, str, dt.date]] = set()
    region = "middle"
    for (person,), g in df.filter(pl.col("date") <= asof).group_by("person_id"):
        unauth: dict[dt.date, float] = {}
        absent: set[dt.date] = set()
        for d, h, k in g.select("date", "hours", "kind").iter_rows():
            if k in p.unauthorised_kinds:
                unauth[d] = unauth.get(d, 0.0) + h
            if k in p.episode_kinds:
                absent.add(d)
        day, episodes, cur = min(g["date"]), [], None
        free = 0
        while day <= asof:
            if day in absent:
                if cur is None:
                    cur = [day, None]
                    episodes.append(cur)
                free = 0
            elif cur is not None and cal.is_school_day(region, day):
                free += 1
                if free == p.episode_gap_school_days:
                    cur[1] = day
                    cur, free = None, 0
            day += dt.timedelta(days=1)
        for start, end in episodes:
            d = start
            while d <= asof and (end is None or d < end):
                w = sum(v for k, v in unauth.items() if d - dt.timedelta(days=27) <= k <= d)
                if w > p.report_hours + 1e-9:
                    out.add((str(person), "report_16h_4w", d))
                    break
                d += dt.timedelta(days=1)
            for name, off in p.timers.items():
                t = start + dt.timedelta(days=off)
                if t <= asof and (end is None or t < end):
                    out.add((str(person), name, t))
        run_start = None
        done: set[str] = set()
        d = min(g["date"])
        while d <= asof:
            if cal.is_school_day(region, d):
                if unauth.get(d, 0.0) >= p.lrv_day_share * p.fallback_day_hours - 1e-9:
                    if run_start is None:
                        run_start, done = d, set()
                    if "4w" not in done and (d - run_start).days + 1 > p.lrv_days:
                        out.add((str(person), "lrv_4w", d))
                        done.add("4w")
                    three = pl.Series([run_start]).dt.offset_by(f"{p.lrv_months}mo")[0]
                    if "3m" not in done and d >= three:
                        out.add((str(person), "lrv_3m", d))
                        done.add("3m")
                else:
                    run_start = None
            d += dt.timedelta(days=1)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_against_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cal = SchoolCalendar.default()
    days = cal.school_days("middle", D(2024, 8, 19), D(2025, 3, 31))
    parts = []
    for i in range(12):
        mode = rng.integers(3)
        if mode == 0:  # long unauthorised run with a few gaps
            lo = int(rng.integers(0, 40))
            sel = [d for d in days[lo:lo + int(rng.integers(20, 90))] if rng.random() > 0.03]
            parts.append(rows(f"p{i}", sel, list(rng.choice([2.5, 3.0, 5.0], len(sel)))))
        elif mode == 1:  # sporadic absence of every kind
            sel = sorted(set(rng.choice(len(days), 15, replace=False).tolist()))
            for kind in ("unauthorised", "illness", "late"):
                ks = [days[j] for j in sel if rng.random() < 0.4]
                parts.append(rows(f"p{i}", ks, list(rng.choice([0.5, 2.0, 4.5, 5.0],
                                                               len(ks))), kind=kind))
        else:  # blocks of a week now and then
            for _ in range(3):
                lo = int(rng.integers(0, len(days) - 5))
                parts.append(rows(f"p{i}", days[lo:lo + 5], 3.5))
    df = (pl.concat(parts).unique(["person_id", "date", "kind"], keep="first")
          .sort("person_id", "date"))
    p = SignalParams()
    asof = D(2025, 3, 31)
    res = detect(df, asof=asof, calendar=cal, params=p)
    got = {(a, b, c) for a, b, c in res.signals.select("person_id", "signal", "date")
           .iter_rows()}
    assert got == brute(df, asof, cal, p)
