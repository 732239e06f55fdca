"""Turn the simulation's event log into the register's tables.

Each event says "from this date on the person's state, school, gemeente,
exemption ... is X". A spell of one table is a run of consecutive events of a
person with the same value of that table's key (school for enrolments,
gemeente for residences, ...); it ends the day before the next run starts.
Spells that ended before the register period (1 August 2014) are dropped;
spells still running on the extraction date have a null end.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from ozamonitor.register.schema import (
    ENROLMENT_END_REASONS,
    EXEMPTION_ARTICLES,
    HOUSEHOLD_TYPE,
    MIGRATION_BACKGROUND,
    OZA_END_REASONS,
    PARENT_EDUCATION,
    SEX,
    TLV_CATEGORIES,
)
from ozamonitor.synth.geography import Geography
from ozamonitor.synth.oza import Arrangements
from ozamonitor.synth.params import SynthParams
from ozamonitor.synth.population import CLS_SO3, CLS_VSO3, Population, month_start
from ozamonitor.synth.simulate import (
    F_AV,
    F_CARE,
    F_ENROLLED,
    F_EX5A,
    F_ILL,
    F_LRV,
    F_PRESENT,
    F_SPECIAL,
    SimResult,
)
from ozamonitor.synth.states import (
    AVR_NEWCOMER,
    AVR_WAIT_SO,
    AVR_WAIT_VSO,
    S_CARE,
    S_EX,
    S_ILL,
    S_LRV,
)

WINDOW_START = dt.date(2014, 8, 1)
#: spells (other than enrolments and residences, which are kept whole) ending before this
#: date are dropped: the register holds two school years of history before the period
HISTORY_START = dt.date(2012, 8, 1)


def _codes(values: tuple[str, ...]) -> pl.Series:
    return pl.Series(list(values), dtype=pl.String)


def event_frame(res: SimResult, extraction_date: dt.date) -> pl.DataFrame:
    """The event log as a frame with a ``date`` column, sorted by person and date."""
    ev = res.events
    date = month_start(ev["m"]) + (ev["day"].astype(np.int64) - 1).astype("timedelta64[D]")
    df = pl.DataFrame({k: v for k, v in ev.items() if k not in ("m", "day")})
    df = df.with_columns(date=pl.Series(date))
    return df.filter(pl.col("date") <= extraction_date).sort(["idx", "date"],
                                                             maintain_order=True)


def segments(ev: pl.DataFrame, key: pl.Expr, attrs: list[str]) -> pl.DataFrame:
    """Runs of equal ``key`` per person: idx, key, start, end, next_reason, attrs."""
    df = ev.select("idx", "date", "reason", *attrs, key.alias("key"))
    new = (pl.col("idx") != pl.col("idx").shift(1)).fill_null(True) | (
        pl.col("key") != pl.col("key").shift(1)).fill_null(True)
    runs = df.filter(new)
    same_next = pl.col("idx").shift(-1) == pl.col("idx")
    return runs.with_columns(
        start=pl.col("date"),
        end=pl.when(same_next).then(pl.col("date").shift(-1) - pl.duration(days=1)),
        next_reason=pl.when(same_next).then(pl.col("reason").shift(-1)),
    ).drop("date", "reason")


def _in_window(df: pl.DataFrame, end: str = "end") -> pl.DataFrame:
    return df.filter(pl.col(end).is_null() | (pl.col(end) >= HISTORY_START))


def _with_pid(df: pl.DataFrame, pid: pl.Series) -> pl.DataFrame:
    return df.with_columns(person_id=pid.gather(df["idx"]))


def build_tables(res: SimResult, pop: Population, geo: Geography, arr: Arrangements,
                 params: SynthParams, extraction_date: dt.date,
                 rng: np.random.Generator) -> dict[str, pl.DataFrame]:
    """All register tables except attendance (which is streamed)."""
    # Long on purpose: one pass of draws from one random stream in a fixed order (the
    # register's bytes depend on it); the steps are commented in that order.
    pid = pop.person_id.alias("person_id")
    ev = event_frame(res, extraction_date)
    school_ids = pl.Series(geo.school_ids)
    gem_codes = pl.Series(geo.gem_codes)
    out: dict[str, pl.DataFrame] = {}

    # persons present at some time in the register period and born by the extraction date
    keep = (pop.birth <= np.datetime64(extraction_date)) & (
        np.isnat(pop.arrival) | (pop.arrival <= np.datetime64(extraction_date)))
    k = np.nonzero(keep)[0]
    out["persons"] = pl.DataFrame({
        "person_id": pop.person_id[k],
        "birth_date": pl.Series(pop.birth[k]),
        "sex": np.where(pop.male[k], SEX[0], SEX[1]),
        "parent_education": np.array(PARENT_EDUCATION)[pop.parent_edu[k]],
        "income_decile": pl.Series(pop.income[k].astype(np.int32)).replace(0, None),
        "migration_background": np.array(MIGRATION_BACKGROUND)[pop.migration[k]],
        "household_type": np.array(HOUSEHOLD_TYPE)[pop.household[k]],
        "newcomer_arrival_date": pl.Series(pop.arrival[k]),
        "child_protection": pop.child_protection[k],
    })

    # enrolments
    enr = segments(ev, pl.col("school"), ["tlv"]).filter(pl.col("key") >= 0)
    reason_map = {i + 1: c for i, c in enumerate(ENROLMENT_END_REASONS)}
    enr = enr.with_columns(
        school_id=pl.lit(school_ids).gather(pl.col("key")),
        end_reason=pl.when(pl.col("end").is_not_null()).then(
            pl.col("next_reason").cast(pl.Int64).replace_strict(
                reason_map, default="other", return_dtype=pl.String)),
        tlv_category=pl.when(pl.col("tlv") > 0).then(
            pl.lit(_codes(TLV_CATEGORIES)).gather((pl.col("tlv").cast(pl.Int64) - 1).clip(0, 2))),
    )
    out["enrolments"] = _with_pid(enr, pid)

    # residences
    res_ = segments(ev, pl.col("gem"), []).filter(pl.col("key") >= 0)
    res_ = res_.with_columns(gemeente_code=pl.lit(gem_codes).gather(pl.col("key")))
    out["residences"] = _with_pid(res_, pid)

    # absence reports: lrv and ill spells from the states, rv_16h from the log
    st = segments(ev, pl.col("state"), ["school"]).filter(
        pl.col("key").is_in([S_LRV, S_ILL]))
    st = _in_window(st).with_columns(
        kind=pl.when(pl.col("key") == S_LRV).then(pl.lit("lrv")).otherwise(pl.lit("ill")),
        report_date=pl.col("start") + pl.when(pl.col("key") == S_LRV).then(
            pl.duration(days=28)).otherwise(pl.duration(days=14)),
        school_id=pl.lit(school_ids).gather(pl.col("school")),
    ).rename({"start": "absence_start", "end": "absence_end"})
    rv = res.rv_reports
    rv_start = month_start(rv["m"]) + (rv["day"].astype(np.int64) - 1).astype("timedelta64[D]")
    rvf = pl.DataFrame({"idx": rv["idx"], "school": rv["school"],
                        "absence_start": pl.Series(rv_start)}).filter(pl.col("school") >= 0)
    rvf = rvf.with_columns(
        kind=pl.lit("rv_16h"),
        absence_end=pl.col("absence_start") + pl.duration(days=27),
        report_date=pl.col("absence_start") + pl.duration(days=28),
        school_id=pl.lit(school_ids).gather(pl.col("school")),
    )
    cols = ["idx", "school_id", "report_date", "kind", "absence_start", "absence_end"]
    ab = pl.concat([st.select(cols), rvf.select(cols)])
    ab = ab.filter(pl.col("report_date") <= extraction_date)
    ab = _with_pid(ab, pid).sort("person_id", "absence_start", "kind", "school_id")
    ab = ab.with_columns(report_id=pl.format("VZ{}", pl.int_range(1, pl.len() + 1).cast(
        pl.String).str.zfill(9)))
    out["absence_reports"] = ab

    # exemptions (from the states) plus partial exemptions
    ex = segments(ev, pl.when(pl.col("state") == S_EX).then(pl.col("exart")).otherwise(0),
                  ["gem"]).filter(pl.col("key") > 0)
    ex = _in_window(ex).with_columns(
        article=pl.lit(_codes(EXEMPTION_ARTICLES)).gather(pl.col("key").cast(pl.Int64) - 1),
        gemeente_code=pl.lit(gem_codes).gather(pl.col("gem").clip(0, None)),
    )
    ex = _with_pid(ex, pid).select("person_id", "article", "start", "end", "gemeente_code")
    partial = _partial_exemptions(res, pop, params, out["residences"], extraction_date, rng)
    out["exemptions"] = pl.concat([ex, partial]).unique(
        ["person_id", "article", "start"], keep="first", maintain_order=True).sort(
        "person_id", "start", "article")

    # waiting lists from absolute-absence reasons
    wt = segments(ev, pl.when(pl.col("state") == 4).then(pl.col("avr")).otherwise(0), [])
    wt = wt.filter(pl.col("key").is_in([AVR_NEWCOMER, AVR_WAIT_SO, AVR_WAIT_VSO]))
    wt = _in_window(wt).with_columns(
        waiting_for=pl.col("key").replace_strict(
            {AVR_NEWCOMER: "regular_place", AVR_WAIT_SO: "so_place",
             AVR_WAIT_VSO: "vso_place"}, return_dtype=pl.String))
    wt = _with_pid(wt, pid).select("person_id", "waiting_for", "start", "end")

    # care: 24-hour care without education from the states, the rest per person-year
    c24 = segments(ev, (pl.col("state") == S_CARE).cast(pl.Int8), []).filter(
        pl.col("key") == 1)
    c24 = _in_window(c24)
    care, care_wait = _care_spells(res, pop, params, c24, extraction_date, rng)
    out["care_spells"] = _with_pid(care, pid).select(
        "person_id", "law", "kind", "financier", "start", "end",
        pl.lit(None, pl.String).alias("delivery"),
        pl.lit(None, pl.String).alias("decided_by")).unique(
        ["person_id", "law", "kind", "start"], keep="first", maintain_order=True).sort(
        "person_id", "start", "law", "kind")
    wl = pl.concat([wt, _with_pid(care_wait, pid).select(wt.columns)])
    out["waiting_lists"] = wl.unique(["person_id", "waiting_for", "start"], keep="first",
                                     maintain_order=True).sort("person_id", "start",
                                                               "waiting_for")

    # OZA
    out["arrangements"] = arr.table
    pt = res.participants
    start = month_start(pt["start_m"])
    end = np.where(pt["end_m"] >= 0,
                   month_start(np.maximum(pt["end_m"], 0))
                   + (pt["end_day"].astype(np.int64) - 2).astype("timedelta64[D]"),
                   np.datetime64("NaT"))
    reasons = np.array((None, *OZA_END_REASONS), dtype=object)[pt["reason"]]
    op = pl.DataFrame({
        "person_id": pop.person_id[pt["idx"]],
        "arrangement_id": arr.table["arrangement_id"].to_numpy()[pt["arrangement"]],
        "start": pl.Series(start, dtype=pl.Date),
        "end": pl.Series(end.astype("datetime64[D]"), dtype=pl.Date),
        "end_reason": pl.Series(reasons.tolist(), dtype=pl.String),
    }).filter(pl.col("start") <= extraction_date)
    out["oza_participation"] = op.sort("person_id", "start")
    for name in ("enrolments", "residences"):
        out[name] = out[name].sort("person_id", "start")
    return out


def _partial_exemptions(res: SimResult, pop: Population, params: SynthParams,
                        residences: pl.DataFrame, extraction_date: dt.date,
                        rng: np.random.Generator) -> pl.DataFrame:
    """Partial exemptions (gedeeltelijke vrijstelling) for enrolled 14-15 year olds."""
    rows = []
    for sy in range(res.year_flags.shape[0]):
        fl = res.year_flags[sy]
        y0 = np.datetime64(f"{2014 + sy}-08-01")
        age = (y0 - pop.birth).astype(np.int64) / 365.25
        cand = np.nonzero((fl & F_ENROLLED > 0) & (age >= 14) & (age < 16))[0]
        hit = cand[rng.random(len(cand)) < params.partial_exemption_rate * 12]
        s = y0 + rng.integers(20, 200, len(hit)).astype("timedelta64[D]")
        e = s + rng.integers(120, 330, len(hit)).astype("timedelta64[D]")
        rows.append(pl.DataFrame({"idx": hit.astype(np.int64), "start": pl.Series(s),
                                  "end": pl.Series(e)}))
    df = pl.concat(rows)
    df = df.with_columns(person_id=pop.person_id.gather(df["idx"]))
    df = df.filter(pl.col("start") <= extraction_date).with_columns(
        end=pl.when(pl.col("end") <= extraction_date).then(pl.col("end")))
    res_ = residences.select("person_id", pl.col("start").alias("rs"), pl.col("end").alias("re"),
                             "gemeente_code")
    j = df.join(res_, on="person_id", how="inner").filter(
        (pl.col("rs") <= pl.col("start")) & (pl.col("re").is_null()
                                             | (pl.col("re") >= pl.col("start"))))
    return j.select("person_id", pl.lit("partial").alias("article"), "start", "end",
                    "gemeente_code")


_FIN = {"jeugdwet": "gemeente", "wlz": "zorgkantoor", "zvw": "zorgverzekeraar",
        "wmo": "gemeente", "wfz": "justitie"}


def _care_spells(res: SimResult, pop: Population, params: SynthParams, c24: pl.DataFrame,
                 extraction_date: dt.date, rng: np.random.Generator
                 ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Care spells per person-year (plus 24-hour care runs) and waiting for care."""
    p = params
    ext = np.datetime64(extraction_date)
    sqrt_r = np.sqrt(pop.risk)
    sqrt_r = sqrt_r / sqrt_r.mean()
    frames: list[pl.DataFrame] = []
    cl3 = np.isin(pop.cls, (CLS_SO3, CLS_VSO3))
    for sy in range(res.year_flags.shape[0]):
        fl = res.year_flags[sy]
        present = (fl & F_PRESENT) > 0
        trouble = (fl & (F_LRV | F_ILL | F_AV | F_EX5A | F_CARE)) > 0
        mult = sqrt_r * np.where(trouble, p.care_absence_multiplier, 1.0)
        special = (fl & F_SPECIAL) > 0
        specs = (
            ("jeugdwet", "ambulant", p.jeugdwet_ambulant * mult, 240),
            ("jeugdwet", "day_treatment", p.day_treatment * mult * np.where(special, 2, 1),
             180),
            ("jeugdwet", "foster_care", np.where(pop.child_protection,
                                                 p.foster_care_protected, p.foster_care), 500),
            ("jeugdwet", "residential_24h", p.residential_with_school * mult
             * np.where(special, 3, 1), 270),
            ("wlz", "nursing", np.where(cl3, p.wlz_nursing_cluster3, 0.0), 700),
            ("zvw", "nursing", p.zvw_nursing * np.where((fl & F_ILL) > 0, 8, 1), 200),
            ("wmo", "ambulant", np.full(len(fl), p.wmo_support), 300),
        )
        y0 = np.datetime64(f"{2014 + sy}-08-01")
        for law, kind, prob, mean_days in specs:
            hit = np.nonzero(present & (rng.random(len(fl)) < np.clip(prob, 0, 0.9)))[0]
            s = y0 + rng.integers(0, 330, len(hit)).astype("timedelta64[D]")
            dur = np.maximum(rng.exponential(mean_days, len(hit)), 30).astype(np.int64)
            e = s + dur.astype("timedelta64[D]")
            frames.append(pl.DataFrame({"idx": hit.astype(np.int64), "law": law, "kind": kind,
                                        "start": pl.Series(s), "end": pl.Series(e)}))
    care = pl.concat(frames)
    # 24-hour care without education: law by age and chance
    n24 = c24.height
    u = rng.random(n24)
    age = ((c24["start"].to_numpy().astype("datetime64[D]")
            - pop.birth[c24["idx"].to_numpy()]).astype(np.int64) / 365.25) if n24 else u
    law = np.where(u < 0.7, "jeugdwet", np.where((u < 0.92) | (age < 12), "wlz", "wfz"))
    c24f = pl.DataFrame({"idx": c24["idx"].cast(pl.Int64), "law": law,
                         "kind": "residential_24h", "start": c24["start"], "end": c24["end"]})
    care = pl.concat([care.with_columns(pl.col("end").cast(pl.Date)),
                      c24f.with_columns(pl.col("end").cast(pl.Date))])
    care = care.filter(pl.col("start") <= extraction_date).with_columns(
        end=pl.when(pl.col("end") <= extraction_date).then(pl.col("end")),
        financier=pl.col("law").replace_strict(_FIN, return_dtype=pl.String))
    # waiting for care before some day-treatment and residential spells
    wkind = {"day_treatment": "care_day_treatment", "residential_24h": "care_residential",
             "ambulant": "care_ambulant"}
    cand = care.filter(pl.col("kind").is_in(list(wkind)))
    share = np.where(cand["kind"].to_numpy() == "ambulant", 0.05, p.care_waiting_share)
    pick = rng.random(cand.height) < share
    w = cand.filter(pl.Series(pick))
    wdays = rng.integers(30, 180, w.height)
    w = w.with_columns(
        waiting_for=pl.col("kind").replace_strict(wkind, return_dtype=pl.String),
        end=pl.col("start") - pl.duration(days=1),
        start=pl.col("start") - pl.duration(days=pl.Series(wdays)),
    ).filter(pl.col("start") <= pl.lit(ext.astype(object)))
    w = w.select("idx", "waiting_for", "start", "end")
    return care.filter(pl.col("end").is_null() | (pl.col("end") >= WINDOW_START)), w.filter(
        pl.col("end") >= WINDOW_START)
