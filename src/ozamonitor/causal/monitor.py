"""The OZA monitor's tables (research questions 13-26 of the study, domain.md sections 6, 11).

Every function returns an *unprotected* tidy table of counts (column ``count``)
with ``total`` rows where categories add up; the publication
(``ozamonitor publish``) protects them jointly before anything leaves the
building. Years are calendar years (the experiment runs from 1 January 2023).

* :func:`participations` - each participation with its participant's target
  group at the start and its arrangement's lead (school or SWV board);
* :func:`flows` - reach (children in an arrangement on some day of the year),
  inflow (starts) and outflow (ends) per year, by target group and lead kind;
* :func:`durations` - ended participations: number, mean and median days;
* :func:`end_reason_table` - ends per year by reason (``dropout`` among them);
* :func:`destinations` - where participants are three months after an end;
* :func:`regional` - reach per year per SWV of the arrangement;
* ``monitor_compare.comparison`` - participants beside pupils of regular
  education, sbo, so, vso and children with a 5a exemption on 1 October of each
  year, by background and history;
* ``monitor_compare.outcome_table`` - the study's two primary outcomes,
  accessibility and continuity, for participants and other children.

Target group of a participation, from the register on the day before it
starts (first that applies): ``exempt_5a`` (a 5a exemption), ``not_enrolled``
(no enrolment), ``long_term_absent`` (in a reported ``lrv`` or ``ill`` spell),
else ``at_risk``. The registry's arrangement *types* live in the web
application's database, not in the register; the register's arrangement field
that splits arrangements into kinds is ``lead_kind``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from ozamonitor.causal.outcomes import arrangement_durations, destination_after_oza
from ozamonitor.register.schema import OZA_END_REASONS, OZA_LEAD_KINDS, OZA_TARGET_GROUPS
from ozamonitor.register.store import Register

__all__ = [
    "COMPARISON_GROUPS",
    "TOTAL",
    "YEARS",
    "destinations",
    "durations",
    "end_reason_table",
    "flows",
    "participations",
    "regional",
]

#: The monitor's years (calendar years of the experiment).
YEARS = (2023, 2024, 2025, 2026)
TOTAL = "total"
#: Groups compared with the participants (``oza``), highest precedence first.
COMPARISON_GROUPS = ("oza", "exempt_5a", "regular", "sbo", "so", "vso")
#: Background and history compared.
CHARACTERISTICS = ("sex", "age_band", "parent_education", "migration_background",
                   "household_type", "child_protection", "lrv_24m")


def _covers(start: str, end: str, day: pl.Expr) -> pl.Expr:
    return (pl.col(start) <= day) & (pl.col(end).is_null() | (pl.col(end) >= day))


def participations(register: Register | str) -> pl.DataFrame:
    """Participations with ``target_group`` (at the start) and ``lead_kind``, ``swv_id``.

    Columns: ``person_id, arrangement_id, start, end, end_reason, duration_days,
    censored, target_group, lead_kind, swv_id``.
    """
    reg = Register.open(register)
    part = arrangement_durations(reg).with_columns(
        day=pl.col("start") - pl.duration(days=1))
    keys = ["person_id", "arrangement_id", "start"]
    day = pl.col("day")

    def flag(table: str, cond: pl.Expr, s: str, e: str) -> pl.DataFrame:
        rows = reg.read(table).filter(cond).select("person_id", pl.col(s).alias("_s"),
                                                   pl.col(e).alias("_e"))
        hit = (part.select(*keys, "day").join(rows, on="person_id")
               .filter(_covers("_s", "_e", day)).select(keys).unique())
        return hit.with_columns(pl.lit(True).alias(table))

    ex = flag("exemptions", pl.col("article") == "5a", "start", "end")
    enr = flag("enrolments", pl.lit(True), "start", "end")
    ab = flag("absence_reports", pl.col("kind").is_in(["lrv", "ill"]), "absence_start",
              "absence_end")
    out = part
    for f in (ex, enr, ab):
        out = out.join(f, on=keys, how="left")
    out = out.with_columns(
        target_group=pl.when(pl.col("exemptions").fill_null(False)).then(pl.lit("exempt_5a"))
        .when(~pl.col("enrolments").fill_null(False)).then(pl.lit("not_enrolled"))
        .when(pl.col("absence_reports").fill_null(False)).then(pl.lit("long_term_absent"))
        .otherwise(pl.lit("at_risk")))
    arr = reg.read("arrangements", ["arrangement_id", "lead_kind", "swv_id"])
    out = out.join(arr, on="arrangement_id", how="left").with_columns(
        pl.col("lead_kind").fill_null("unknown"), pl.col("swv_id").fill_null("unknown"))
    return out.select("person_id", "arrangement_id", "start", "end", "end_reason",
                      "duration_days", "censored", "target_group", "lead_kind",
                      "swv_id").sort(keys)


def _year_bounds(year: int, extraction: dt.date) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), min(dt.date(year, 12, 31), extraction)


def _with_totals(cells: pl.DataFrame, dims: Sequence[str], margins: Sequence[str],
                 grid: dict[str, Sequence[str]]) -> pl.DataFrame:
    """Full grid of ``dims`` (zeros included) with ``total`` over each of ``margins``
    (and over every combination of them)."""
    frames = []
    m = list(margins)
    for mask in range(2 ** len(m)):
        over = [m[i] for i in range(len(m)) if mask >> i & 1]
        keep = [d for d in dims if d not in over]
        agg = (cells.group_by(keep).agg(pl.col("count").sum()) if keep
               else cells.select(pl.col("count").sum()))
        frames.append(agg.with_columns(*(pl.lit(TOTAL).alias(o) for o in over)))
    got = pl.concat([f.select(*dims, pl.col("count").cast(pl.Int64)) for f in frames])
    full = pl.DataFrame({dims[0]: [*grid[dims[0]], *([TOTAL] if dims[0] in m else [])]})
    for d in dims[1:]:
        full = full.join(pl.DataFrame({d: [*grid[d], *([TOTAL] if d in m else [])]}),
                         how="cross")
    full = full.cast(dict.fromkeys(dims, pl.String))
    return (full.join(got.cast(dict.fromkeys(dims, pl.String)), on=list(dims), how="left")
            .with_columns(pl.col("count").fill_null(0)))


def flows(register: Register | str, years: Sequence[int] = YEARS,
          part: pl.DataFrame | None = None) -> pl.DataFrame:
    """Reach, inflow and outflow per year by target group and lead kind.

    Reach counts children (a child in several arrangements in a year counts once,
    in the group of its first participation active that year); inflow and
    outflow count participations that started / ended in the year. Columns:
    ``year, flow, target_group, lead_kind, count`` with ``total`` margins.
    """
    reg = Register.open(register)
    part = participations(reg) if part is None else part
    ext = reg.extraction_date
    rows = []
    for y in years:
        lo, hi = _year_bounds(y, ext)
        if lo > ext:
            continue
        active = part.filter((pl.col("start") <= hi) &
                             (pl.col("end").is_null() | (pl.col("end") >= lo)))
        reach = active.sort("start", "arrangement_id").unique("person_id", keep="first")
        started = part.filter(pl.col("start").is_between(lo, hi))
        ended = part.filter(pl.col("end").is_not_null() & pl.col("end").is_between(lo, hi))
        for name, fr in (("reach", reach), ("inflow", started), ("outflow", ended)):
            rows.append(fr.group_by("target_group", "lead_kind").agg(count=pl.len())
                        .with_columns(year=pl.lit(str(y)), flow=pl.lit(name)))
    dims = ["year", "flow", "target_group", "lead_kind"]
    cells = (pl.concat([r.select(*dims, "count") for r in rows]) if rows
             else pl.DataFrame(schema={**dict.fromkeys(dims, pl.String), "count": pl.Int64}))
    grid = {"year": [str(y) for y in years if dt.date(y, 1, 1) <= ext],
            "flow": ["reach", "inflow", "outflow"], "target_group": list(OZA_TARGET_GROUPS),
            "lead_kind": list(OZA_LEAD_KINDS)}
    return _with_totals(cells, dims, ["target_group", "lead_kind"], grid)


def durations(register: Register | str, part: pl.DataFrame | None = None) -> pl.DataFrame:
    """Ended participations by target group and lead kind: ``count``, ``mean_days``,
    ``median_days`` (running participations are censored and left out)."""
    part = participations(register) if part is None else part
    ended = part.filter(~pl.col("censored"))
    frames = []
    for tg in (None, "target_group"):
        for lk in (None, "lead_kind"):
            keys = [k for k in (tg, lk) if k]
            g = (ended.group_by(keys) if keys else ended.group_by(pl.lit(1).alias("_")))
            agg = g.agg(count=pl.len(), mean_days=pl.col("duration_days").mean(),
                        median_days=pl.col("duration_days").median())
            for k, v in (("target_group", tg), ("lead_kind", lk)):
                if v is None:
                    agg = agg.with_columns(pl.lit(TOTAL).alias(k))
            frames.append(agg.select("target_group", "lead_kind", "count", "mean_days",
                                     "median_days"))
    got = pl.concat(frames)
    grid = (pl.DataFrame({"target_group": [*OZA_TARGET_GROUPS, TOTAL]})
            .join(pl.DataFrame({"lead_kind": [*OZA_LEAD_KINDS, TOTAL]}), how="cross"))
    return grid.join(got, on=["target_group", "lead_kind"], how="left").with_columns(
        pl.col("count").fill_null(0).cast(pl.Int64),
        pl.col("mean_days").round(1), pl.col("median_days").round(1))


def end_reason_table(register: Register | str, years: Sequence[int] = YEARS,
                     part: pl.DataFrame | None = None) -> pl.DataFrame:
    """Ended participations per year of the end by ``end_reason`` (``total`` included)."""
    reg = Register.open(register)
    part = participations(reg) if part is None else part
    ended = part.filter(pl.col("end").is_not_null()).with_columns(
        year=pl.col("end").dt.year().cast(pl.String),
        end_reason=pl.col("end_reason").fill_null("other"))
    cells = ended.group_by("year", "end_reason").agg(count=pl.len())
    grid = {"year": [str(y) for y in years if dt.date(y, 1, 1) <= reg.extraction_date],
            "end_reason": list(OZA_END_REASONS)}
    return _with_totals(cells, ["year", "end_reason"], ["end_reason"], grid)


def destinations(register: Register | str, *, months_after: int = 3) -> pl.DataFrame:
    """Ended participations by where the child is ``months_after`` months later."""
    dest = destination_after_oza(register, months_after=months_after)
    cells = dest.group_by("destination").agg(count=pl.len())
    grid = {"destination": ["regular", "special", "mbo", "oza", "none", "censored"]}
    return _with_totals(cells, ["destination"], ["destination"], grid)


def regional(register: Register | str, years: Sequence[int] = YEARS,
             part: pl.DataFrame | None = None) -> pl.DataFrame:
    """Reach per year and SWV of the arrangement (``region`` = ``total`` for the nation)."""
    reg = Register.open(register)
    part = participations(reg) if part is None else part
    fl = []
    for y in years:
        lo, hi = _year_bounds(y, reg.extraction_date)
        if lo > reg.extraction_date:
            continue
        active = part.filter((pl.col("start") <= hi) &
                             (pl.col("end").is_null() | (pl.col("end") >= lo)))
        reach = active.sort("start", "arrangement_id").unique("person_id", keep="first")
        fl.append(reach.group_by(region="swv_id").agg(count=pl.len())
                  .with_columns(year=pl.lit(str(y))))
    cells = (pl.concat(fl).select("year", "region", "count") if fl else
             pl.DataFrame(schema={"year": pl.String, "region": pl.String, "count": pl.Int64}))
    swvs = reg.read("regions").filter(pl.col("kind").is_in(["swv_po", "swv_vo"]))[
        "region_id"].sort().to_list()
    extra = sorted(set(cells["region"].to_list()) - set(swvs))
    grid = {"year": [str(y) for y in years if dt.date(y, 1, 1) <= reg.extraction_date],
            "region": [*swvs, *extra]}
    return _with_totals(cells, ["year", "region"], ["region"], grid)
