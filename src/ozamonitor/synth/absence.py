"""Synthetic daily absence (``absence_days``), derived from the simulated register.

The monthly simulation (:mod:`ozamonitor.synth.simulate`) already decides each
child's states and the monthly ``attendance`` hours. This module turns them into
school days with absence, sparse (only days with absence), one month at a time
so memory stays bounded at any scale. It reads only register tables (the
enrolments, the ``lrv``/``ill``/``rv_16h`` absence reports, the exemptions, the
persons and the monthly attendance file just written) and draws from its own
random stream, so every other table is unchanged by it.

Per pupil, school and month (one ``attendance`` row) from school year
``absence_days_first_year`` to the extraction date:

* **LRV and ill spells**: every school day of the spell (as the absence
  reports date it) is absent, all day: ``unauthorised`` in an lrv spell (on a
  share ``absence_lrv_partial_days`` of them the child came for part of the day,
  absent 60%), ``illness`` in an ill spell. So LRV children miss most school days.
* **Other unexcused hours** of the month (the attendance row's ``unexcused_hours``
  less the lrv days' hours) form one block of consecutive school days
  (``unauthorised``, full days then a partial day). A month with an ``rv_16h``
  report (relative absence above 16 hours in 4 weeks) has its block start on or
  after the report's window start, so the 16-hour signal fires there.
* **Other excused hours** (``excused_hours`` less the ill days' hours) form one
  block of ``illness``, ``authorised`` or ``suspension`` days
  (``absence_excused_kinds``), placed apart from the unexcused block. Less than
  two school days' hours become, with chance hours / (two days), a spell of
  two days and otherwise nothing: absence comes in spells now and then, as
  children fall ill, with the month's hours kept in expectation.
* **Late**: with chance ``absence_late_rate`` (a quarter of it in months
  without unexcused hours) one or two late arrivals of 15 minutes (0.25 h,
  ``minutes`` 15) on days without other absence. They are not in the monthly
  table (which counts whole hours).
* **Early warning** (domain brief section 10): a child aged 4-8 (on 1 October of
  the school year) whose register shows a later staying-home spell (an ``lrv``
  or ``ill`` report, or a 5a exemption, starting after that school year) gets,
  with chance ``absence_early_warning_share``, excused absence of 21-32% of its
  school days that year. This is planted on purpose; these children's days
  exceed the monthly table's excused hours.

Chronic absence (10-20% of the time) comes from the children's own excused and
unexcused rates of the simulation (the attendance table), whose tail is wide.

Days follow the school calendar of the school's holiday region
(:class:`~ozamonitor.register.school_calendar.SchoolCalendar`) and its hours
(5 h po/sbo/so, 6 h vo/vso/mbo); a month's hours that do not fit into its
school days are dropped (counted in the manifest as ``capped_hours``). Outside
spells, the planted early-warning children and the small excused amounts
(kept in expectation) the day hours add up to the attendance row's excused
and unexcused hours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from ozamonitor.register.schema import SECTORS
from ozamonitor.register.school_calendar import HOLIDAY_REGIONS, SchoolCalendar
from ozamonitor.register.store import RegisterWriter
from ozamonitor.synth.params import SynthParams

__all__ = ["write_absence_days"]

_KIND_CODES = ("unauthorised", "authorised", "illness", "suspension", "late")
K_UNAUTH, K_AUTH, K_ILL, K_SUSP, K_LATE = range(5)
LATE_HOURS = 0.25


def _month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    out = []
    d = dt.date(first.year, first.month, 1)
    while d <= last:
        out.append(d)
        d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def _month_end(d: dt.date) -> dt.date:
    nxt = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


class _Days:
    """School-day ordinals and hours per region and sector (dense lookups)."""

    def __init__(self, cal: SchoolCalendar) -> None:
        self.cal = cal
        self.first = np.datetime64(cal.first, "D")
        sd = cal._school_days
        counts = sd.sum(axis=1)
        self.ordinal_day = np.zeros((len(HOLIDAY_REGIONS), int(counts.max()) + 1), np.int64)
        for r in range(len(HOLIDAY_REGIONS)):
            d = np.nonzero(sd[r])[0]
            self.ordinal_day[r, :len(d)] = d
            self.ordinal_day[r, len(d):] = cal.n_days - 1
        self.cum = cal._cum_school_days  # school days before each day
        self.hours = np.stack([np.stack([cal.day_hours_array(r, s) for s in SECTORS])
                               for r in range(len(HOLIDAY_REGIONS))])  # (3, sectors, days)
        self.min_hours = np.array([min(h for h in cal.hours_for(s) if h > 0) for s in SECTORS])

    def day_of(self, d: pl.Series) -> np.ndarray:
        return (d.to_numpy().astype("datetime64[D]") - self.first).astype(np.int64)


def _explode(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, offset) pairs for ``counts[i]`` offsets 0..counts[i]-1 of each row."""
    counts = np.maximum(counts, 0).astype(np.int64)
    row = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return row, np.arange(len(row)) - starts[row]


class _Out:
    """Rows of one month, as arrays (row index into the month frame)."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, row: np.ndarray, day: np.ndarray, hours: np.ndarray, kind: np.ndarray
            ) -> None:
        keep = hours > 0
        self.parts.append((row[keep], day[keep], hours[keep], kind[keep]))

    def cat(self) -> tuple[np.ndarray, ...]:
        if not self.parts:
            return tuple(np.zeros(0, t) for t in (np.int64, np.int64, np.float64, np.int8))
        return tuple(np.concatenate([p[i] for p in self.parts]) for i in range(4))


def _block(days: _Days, rows: np.ndarray, region: np.ndarray, sector: np.ndarray,
           start: np.ndarray, k: np.ndarray, budget: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Consecutive school days from ordinal ``start`` (``k`` of them) filled with ``budget``
    hours: full days, then what is left on the last day."""
    r_i, off = _explode(k)
    rr = rows[r_i]
    o = start[r_i] + off
    day = days.ordinal_day[region[r_i], o]
    h = days.hours[region[r_i], sector[r_i], day]
    cum = np.cumsum(h)
    first_of_block = np.cumsum(k) - k
    before = cum - h - (cum - h)[first_of_block[r_i]] if len(h) else cum
    hours = np.clip(budget[r_i] - before, 0.0, h)
    return rr, day, hours


def _later_spells(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Start dates of staying-home spells (lrv, ill, 5a exemption) per person."""
    ab = tables["absence_reports"].filter(pl.col("kind").is_in(["lrv", "ill"])).select(
        "person_id", pl.col("absence_start").alias("start"))
    ex = tables["exemptions"].filter(pl.col("article") == "5a").select("person_id", "start")
    return pl.concat([ab, ex])


def _early_warning(tables: dict[str, pl.DataFrame], years: list[int], share: float,
                   rng: np.random.Generator) -> pl.DataFrame:
    """Children aged 4-8 with a later staying-home spell, drawn with chance ``share``:
    ``person_id, sy, target`` (target absence share of that school year)."""
    later = _later_spells(tables)
    births = tables["persons"].select("person_id", "birth_date")
    out = []
    for y in years:
        oct1 = dt.date(y, 10, 1)
        age = (pl.lit(oct1).dt.year() - pl.col("birth_date").dt.year()
               - ((pl.col("birth_date").dt.month() > 10)
                  | ((pl.col("birth_date").dt.month() == 10)
                     & (pl.col("birth_date").dt.day() > 1))).cast(pl.Int32))
        young = births.filter(age.is_between(4, 8))
        cand = young.join(later.filter(pl.col("start") > dt.date(y + 1, 7, 31)),
                          on="person_id", how="semi").sort("person_id")
        u = rng.random(cand.height)
        t = 0.21 + 0.11 * rng.random(cand.height)
        out.append(cand.select("person_id").with_columns(
            sy=pl.lit(y, pl.Int32), target=pl.Series(t)).filter(pl.Series(u < share)))
    if not out:
        return pl.DataFrame(schema={"person_id": pl.String, "sy": pl.Int32,
                                    "target": pl.Float64})
    return pl.concat(out)


def write_absence_days(w: RegisterWriter, tables: dict[str, pl.DataFrame],
                       schools: pl.DataFrame, params: SynthParams,
                       extraction_date: dt.date, rng: np.random.Generator, *,
                       calendar: SchoolCalendar | None = None,
                       progress: Callable[[str, float, float], None] | None = None
                       ) -> dict[str, Any]:
    """Stream the ``absence_days`` table into the register being written.

    Parameters
    ----------
    w : RegisterWriter
        The open writer; its ``attendance`` file must be complete.
    tables : dict
        The register tables built so far (``persons``, ``enrolments``,
        ``absence_reports``, ``exemptions``).
    schools : polars.DataFrame
        The ``schools`` table.
    params : SynthParams
        ``absence_*`` parameters.
    extraction_date : datetime.date
        Nothing is dated after it.
    rng : numpy.random.Generator
        This table's own stream (spawned apart from the other tables').
    calendar : SchoolCalendar, optional
        Default: the packaged calendar.
    progress : callable, optional
        ``progress(stage, done, total)``.

    Returns
    -------
    dict
        Facts for the manifest (rows, first school year, planted early-warning
        children, capped hours, the rules).
    """
    cal = SchoolCalendar.load(calendar)
    days = _Days(cal)
    p = params
    first = dt.date(p.absence_days_first_year, 8, 1)
    last = min(extraction_date, cal.last)
    months = _month_starts(first, last) if first <= last else []
    years = sorted({m.year if m.month >= 8 else m.year - 1 for m in months})
    ew = _early_warning(tables, years, p.absence_early_warning_share, rng)
    sch = schools.select(
        "school_id",
        _sector=pl.col("sector").replace_strict({s: i for i, s in enumerate(SECTORS)},
                                                return_dtype=pl.Int64),
        _region=pl.Series(cal.region_index_of(schools["gemeente_code"])).cast(pl.Int64))
    open_end = pl.lit(extraction_date)
    enr = tables["enrolments"].select("person_id", "school_id", "start",
                                      pl.col("end").fill_null(open_end)).filter(
        (pl.col("start") <= last) & (pl.col("end") >= first)).with_columns(
        _dup=pl.len().over("person_id", "school_id") > 1)
    ab = tables["absence_reports"]
    spells = ab.filter(pl.col("kind").is_in(["lrv", "ill"])).select(
        "person_id", "school_id", "kind", pl.col("absence_start").alias("s"),
        pl.col("absence_end").fill_null(open_end).alias("e"))
    lrv_starts = ab.filter(pl.col("kind") == "lrv").select("person_id", "absence_start")
    spikes = ab.filter(pl.col("kind") == "rv_16h").join(
        lrv_starts, on=["person_id", "absence_start"], how="anti").select(
        "person_id", "school_id", pl.col("absence_start").alias("rv"))
    kinds_p = np.asarray(p.absence_excused_kinds, float)
    kinds_p = kinds_p / kinds_p.sum()
    att_path = w.path("attendance")
    writer = w.open_stream("absence_days")
    schema = writer.schema
    rows_total = 0
    capped = 0.0
    planted_rows = 0
    try:
        for i, ms in enumerate(months):
            me = min(_month_end(ms), last)
            att = (pl.scan_parquet(att_path).filter(pl.col("month") == ms)
                   .select("person_id", "school_id", pl.col("unexcused_hours").alias("U"),
                           pl.col("excused_hours").alias("E")).collect())
            if att.height:
                out, c, pr = _month(att, ms, me, enr, spells, spikes, ew, sch, days, rng,
                                    kinds_p, p)
                capped += c
                planted_rows += pr
                if out.height:
                    tbl = out.to_arrow().cast(schema)
                    writer.write_table(tbl)
                    rows_total += out.height
            if progress is not None:
                progress("absence days", i + 1, len(months))
    finally:
        writer.close()
    return {
        "rows": rows_total,
        "first_school_year": f"{p.absence_days_first_year}-{p.absence_days_first_year + 1}",
        "early_warning_children": ew.select(["person_id", "sy"]).unique().height,
        "early_warning_pupil_months": planted_rows,
        "capped_hours": round(capped, 1),
        "note": "one row per pupil, school, school day and kind with absence (sparse); "
                "lrv/ill spells absent on every school day; the month's other excused and "
                "unexcused hours as blocks of days; late arrivals 0.25 h; planted early "
                "warning: children aged 4-8 with a later staying-home spell (see "
                "ozamonitor.synth.absence)",
    }


def _month(att: pl.DataFrame, ms: dt.date, me: dt.date, enr: pl.DataFrame,
           spells: pl.DataFrame, spikes: pl.DataFrame, ew: pl.DataFrame,
           sch: pl.DataFrame, days: _Days, rng: np.random.Generator,
           kinds_p: np.ndarray, p: SynthParams) -> tuple[pl.DataFrame, float, int]:
    """The absence days of one month (see the module text); also capped hours and the
    number of planted early-warning rows."""
    # Long on purpose: one pass of array steps whose draws from one random stream must
    # stay in this order (splitting it would change the register for a seed).
    keys = ["person_id", "school_id"]
    month = enr.filter((pl.col("start") <= me) & (pl.col("end") >= ms))
    # a pupil with two spells at one school in the month gets their hull (rare: only
    # those are grouped)
    hull = pl.concat([
        month.filter(~pl.col("_dup")).select(*keys, lo="start", hi="end"),
        month.filter(pl.col("_dup")).group_by(keys).agg(lo=pl.col("start").min(),
                                                        hi=pl.col("end").max())])
    sy = ms.year if ms.month >= 8 else ms.year - 1
    # joins keep the attendance file's row order (deterministic, no string sort)
    f = (att.join(hull, on=keys, how="inner", maintain_order="left")
         .join(sch, on="school_id", how="inner", maintain_order="left")
         .join(ew.filter(pl.col("sy") == sy).select("person_id", "target"), on="person_id",
               how="left", maintain_order="left")
         .with_columns(lo=pl.max_horizontal("lo", pl.lit(ms)),
                       hi=pl.min_horizontal("hi", pl.lit(me)))
         .filter(pl.col("lo") <= pl.col("hi")))
    n = f.height
    if n == 0:
        return pl.DataFrame(), 0.0, 0
    region = f["_region"].to_numpy()
    sector = f["_sector"].to_numpy()
    lo_d, hi_d = days.day_of(f["lo"]), days.day_of(f["hi"])
    o_lo = days.cum[region, lo_d].astype(np.int64)
    o_hi = days.cum[region, hi_d + 1].astype(np.int64)  # exclusive
    U = f["U"].to_numpy().astype(np.float64)
    E = f["E"].to_numpy().astype(np.float64)
    out = _Out()
    rows = np.arange(n)

    # ---- spells: every school day absent
    fr = f.select(*keys, "lo", "hi").with_row_index("_r")
    sp = (spells.join(fr, on=keys, how="inner")
          .filter((pl.col("s") <= pl.col("hi")) & (pl.col("e") >= pl.col("lo")))
          .with_columns(s=pl.max_horizontal("s", "lo"), e=pl.min_horizontal("e", "hi"))
          .sort("_r", "s", "kind"))
    spell_lo = o_lo.copy()  # hull of the spells in ordinals (empty: lo == hi)
    spell_hi = o_lo.copy()
    if sp.height:
        r = sp["_r"].to_numpy().astype(np.int64)
        a = days.cum[region[r], days.day_of(sp["s"])].astype(np.int64)
        b = days.cum[region[r], days.day_of(sp["e"]) + 1].astype(np.int64)
        is_lrv = (sp["kind"] == "lrv").to_numpy()
        ri, off = _explode(b - a)
        rr = r[ri]
        day = days.ordinal_day[region[rr], a[ri] + off]
        h = days.hours[region[rr], sector[rr], day]
        part = is_lrv[ri] & (rng.random(len(ri)) < p.absence_lrv_partial_days)
        hours = np.where(part, np.ceil(h * 0.6), h)
        kind = np.where(is_lrv[ri], K_UNAUTH, K_ILL).astype(np.int8)
        out.add(rr, day, hours, kind)
        U -= np.bincount(rr, weights=np.where(is_lrv[ri], hours, 0.0), minlength=n)
        E -= np.bincount(rr, weights=np.where(is_lrv[ri], 0.0, hours), minlength=n)
        has = b > a
        first_a = np.full(n, np.iinfo(np.int64).max)
        last_b = np.full(n, -1)
        np.minimum.at(first_a, r[has], a[has])
        np.maximum.at(last_b, r[has], b[has])
        got = last_b >= 0
        spell_lo[got], spell_hi[got] = first_a[got], last_b[got]
    U = np.maximum(U, 0.0)
    E = np.maximum(E, 0.0)
    # free window: the larger side of the row's window outside the spells
    left_n, right_n = spell_lo - o_lo, o_hi - spell_hi
    use_left = left_n >= right_n
    w_lo = np.where(use_left, o_lo, spell_hi)
    w_hi = np.where(use_left, spell_lo, o_hi)
    none = spell_lo == spell_hi  # no spell days: the whole window
    w_lo[none], w_hi[none] = o_lo[none], o_hi[none]
    width = np.maximum(w_hi - w_lo, 0)
    hmin = days.min_hours[sector]
    # planted early warning: excused absence of `target` of the window's school days
    target = f["target"].fill_null(0.0).to_numpy()
    planted = target > 0
    E = np.where(planted, np.maximum(E, np.rint(target * width * hmin)), E)
    # a few excused hours a month are one sick spell now and then: below two school days
    # the month keeps them with chance E / (2 days), as a spell of two days (the same
    # hours in expectation); larger amounts are kept exactly
    spell_h = 2.0 * hmin
    small = (E > 0) & (spell_h > E) & ~planted
    keep = rng.random(n) < E / spell_h
    E = np.where(small, np.where(keep, spell_h, 0.0), E)

    # ---- unexcused block (an rv_16h month: from the report window's start)
    k_u = np.minimum(np.ceil(U / hmin).astype(np.int64), width)
    lo_u = w_lo.copy()
    if spikes.height:
        rv = (spikes.filter((pl.col("rv") >= ms) & (pl.col("rv") <= me))
              .group_by(keys).agg(pl.col("rv").min())
              .join(fr, on=keys, how="inner"))
        if rv.height:
            r = rv["_r"].to_numpy().astype(np.int64)
            o_rv = days.cum[region[r], days.day_of(rv["rv"])].astype(np.int64)
            lo_u[r] = np.clip(o_rv, w_lo[r], np.maximum(w_hi[r] - k_u[r], w_lo[r]))
    span = np.maximum(w_hi - k_u - lo_u + 1, 1)
    s_u = lo_u + np.floor(rng.random(n) * span).astype(np.int64)
    s_u = np.minimum(s_u, np.maximum(w_hi - k_u, w_lo))
    rr, day, hours = _block(days, rows, region, sector, s_u, k_u, U)
    out.add(rr, day, hours, np.full(len(rr), K_UNAUTH, np.int8))
    cap_u = U - np.bincount(rr, weights=hours, minlength=n)

    # ---- excused block on the larger free side of the unexcused block
    a_n, b_n = s_u - w_lo, w_hi - (s_u + k_u)
    side_left = (a_n > b_n) | ((a_n == b_n) & (rng.random(n) < 0.5))
    e_lo = np.where(side_left, w_lo, s_u + k_u)
    e_n = np.maximum(np.where(side_left, a_n, b_n), 0)
    k_e = np.minimum(np.ceil(E / hmin).astype(np.int64), e_n)
    s_e = e_lo + np.floor(rng.random(n) * (e_n - k_e + 1)).astype(np.int64)
    kind_e = rng.choice(np.array([K_ILL, K_AUTH, K_SUSP], np.int8), n, p=kinds_p)
    kind_e = np.where((kind_e == K_SUSP) & (k_e > 3), K_AUTH, kind_e).astype(np.int8)
    kind_e[planted] = np.where(rng.random(int(planted.sum())) < 0.8, K_ILL, K_AUTH)
    rr, day, hours = _block(days, rows, region, sector, s_e, k_e, E)
    out.add(rr, day, hours, kind_e[rr])
    cap_e = E - np.bincount(rr, weights=hours, minlength=n)

    # ---- late arrivals on the other free side
    o_lo2 = np.where(side_left, s_u + k_u, w_lo)
    o_n = np.maximum(np.where(side_left, b_n, a_n), 0)
    rate = np.where(U > 0, p.absence_late_rate, p.absence_late_rate / 4)
    n_late = np.where(rng.random(n) < rate, 1 + (rng.random(n) < 0.4), 0)
    n_late = np.where(o_n > 0, n_late, 0)
    ri, _ = _explode(n_late)
    o = o_lo2[ri] + np.floor(rng.random(len(ri)) * o_n[ri]).astype(np.int64)
    keep = np.ones(len(ri), bool)
    if len(ri) > 1:
        keep[1:] = ~((ri[1:] == ri[:-1]) & (o[1:] == o[:-1]))
    ri, o = ri[keep], o[keep]
    day = days.ordinal_day[region[ri], o]
    out.add(ri, day, np.full(len(ri), LATE_HOURS), np.full(len(ri), K_LATE, np.int8))

    row, day, hours, kind = out.cat()
    # rows in the attendance file's order (pupil, school), then date and kind
    o = np.lexsort((kind, day, row))
    row, day, hours, kind = row[o], day[o], hours[o], kind[o]
    gather = pl.Series(row, dtype=pl.Int64)
    res = pl.DataFrame({
        "person_id": f["person_id"].gather(gather),
        "school_id": f["school_id"].gather(gather),
        "date": pl.Series(days.first + day.astype("timedelta64[D]"), dtype=pl.Date),
        "hours": hours.astype(np.float64),
        "kind": pl.Series(_KIND_CODES, dtype=pl.String).gather(
            pl.Series(kind, dtype=pl.Int64)),
        "scheduled_hours": pl.Series([None] * len(row), dtype=pl.Float64),
        "dagdelen": pl.Series([None] * len(row), dtype=pl.Int32),
        "minutes": pl.Series(np.full(len(row), 15, np.int32)),
    }).with_columns(minutes=pl.when(pl.Series(kind == K_LATE)).then(pl.col("minutes")))
    capped_hours = float(np.maximum(cap_u, 0).sum() + np.maximum(cap_e, 0).sum())
    return res, capped_hours, int(planted.sum())
