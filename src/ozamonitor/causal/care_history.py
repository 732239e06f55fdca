"""Care history, support needs and arrangement detail for the impact pipeline.

* :func:`add_care_history` - per (start month, child) of the stacked pool, what the
  register knew on the day before the start: months of care in the 24 months before
  (summed over care spells, at most 24), residential care or day treatment in those 24
  months, any Wlz care before, and each of the seven support needs active that day
  (``need_<kind>``, and their number ``n_needs``). These are matching covariates
  (:data:`CARE_HISTORY_COVARIATES`) and subgroup variables.
* :func:`add_arrangement_splits` - the participant's arrangement on its start day:
  ``arrangement_type``, ``deviation`` and ``financier`` (from ``arrangement_periods``;
  registers without it fall back on the arrangement's own deviations and financiers and
  type ``unknown``), so ``impact --by deviation|financier|arrangement_type`` can split
  the estimates (research questions 10 and 11). Controls have no arrangement: these
  splits label matched sets by their participant and are never exact-matching variables.
* :func:`estimates_by_value` - estimates per value of a multi-valued split (an
  arrangement using the location and the time deviation counts in both groups).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from ozamonitor.register.schema_detail import SUPPORT_NEED_KINDS
from ozamonitor.register.store import Register

__all__ = [
    "ARRANGEMENT_SPLITS",
    "CARE_HISTORY_COVARIATES",
    "MULTI_SPLITS",
    "NEED_COLUMNS",
    "add_arrangement_splits",
    "add_care_history",
    "estimates_by_value",
]

NEED_COLUMNS = tuple(f"need_{k}" for k in SUPPORT_NEED_KINDS)
CARE_HISTORY_COVARIATES = ("care_months_24", "care_residential_24", "care_day_24",
                           "care_wlz_before", "n_needs", *NEED_COLUMNS)
ARRANGEMENT_SPLITS = ("arrangement_type", "deviation", "financier")
MULTI_SPLITS = ("deviation", "financier")
_RESIDENTIAL = pl.col("law").is_in(["wfz"]) | (
    (pl.col("law") == "jeugdwet") & pl.col("kind").is_in(["residential_24h", "foster_care"]))


def _ref_days(stacks: pl.Series, history_from: dt.date) -> pl.Series:
    """The day before the first day of month ``history_from + stack``."""
    first = dt.date(history_from.year, history_from.month, 1)
    out = [dt.date(first.year + (first.month - 1 + int(g)) // 12,
                   (first.month - 1 + int(g)) % 12 + 1, 1) - dt.timedelta(days=1)
           for g in stacks.to_list()]
    return pl.Series("ref", out, dtype=pl.Date)


def add_care_history(reg: Register, stacked: pl.DataFrame, history_from: dt.date
                     ) -> pl.DataFrame:
    """``stacked`` with :data:`CARE_HISTORY_COVARIATES` (see the module docstring).

    Parameters
    ----------
    reg : Register
        The register (a register without the schema 1.2 tables gives zero needs).
    stacked : polars.DataFrame
        One row per (``stack``, ``person_id``); ``stack`` counts months from
        ``history_from``.
    history_from : datetime.date
        Month 0 of ``stack``.

    Returns
    -------
    polars.DataFrame
        ``stacked`` with the new float columns (0 where nothing is recorded).
    """
    stacks = stacked.select("stack").unique().sort("stack")
    refs = stacks.with_columns(_ref_days(stacks["stack"], history_from))
    keys = stacked.select("stack", "person_id").unique().join(refs, on="stack")
    lo = pl.col("ref") - pl.duration(days=729)  # 730 days up to and including ref
    care = reg.read("care_spells", ["person_id", "law", "kind", "start", "end"])
    c = keys.join(care, on="person_id", how="inner").filter(pl.col("start") <= pl.col("ref"))
    end = pl.min_horizontal(pl.col("end").fill_null(pl.col("ref")), pl.col("ref"))
    overlap = (end - pl.max_horizontal(pl.col("start"), lo)).dt.total_days() + 1
    recent = overlap > 0
    care_cols = c.group_by("stack", "person_id").agg(
        care_months_24=(overlap.clip(0, None).sum() / 30.4375).clip(0, 24),
        care_residential_24=(recent & _RESIDENTIAL).any().cast(pl.Float64),
        care_day_24=(recent & (pl.col("kind") == "day_treatment")).any().cast(pl.Float64),
        care_wlz_before=(pl.col("law") == "wlz").any().cast(pl.Float64))
    needs = reg.read("support_needs", ["person_id", "need", "start", "end"])
    n = (keys.join(needs, on="person_id", how="inner")
         .filter((pl.col("start") <= pl.col("ref"))
                 & (pl.col("end").is_null() | (pl.col("end") >= pl.col("ref"))))
         .select("stack", "person_id", "need").unique())
    need_cols = n.group_by("stack", "person_id").agg(
        [(pl.col("need") == k).any().cast(pl.Float64).alias(f"need_{k}")
         for k in SUPPORT_NEED_KINDS] + [pl.len().cast(pl.Float64).alias("n_needs")])
    out = stacked.drop([c_ for c_ in CARE_HISTORY_COVARIATES if c_ in stacked.columns])
    out = out.join(care_cols, on=["stack", "person_id"], how="left").join(
        need_cols, on=["stack", "person_id"], how="left")
    return out.with_columns([pl.col(x).fill_null(0.0).cast(pl.Float64)
                             for x in CARE_HISTORY_COVARIATES])


def add_arrangement_splits(reg: Register, stacked: pl.DataFrame, history_from: dt.date
                           ) -> pl.DataFrame:
    """``stacked`` with ``arrangement_type``, ``deviation`` and ``financier`` of each
    participant's arrangement on its start (controls: empty strings; multi-valued
    columns ``;``-separated)."""
    part = reg.read("oza_participation", ["person_id", "arrangement_id", "start"])
    first = part.sort("start").unique("person_id", keep="first")
    arr = reg.read("arrangements", ["arrangement_id", "deviations", "financiers"])
    per = reg.read("arrangement_periods")
    j = first.join(per, on="arrangement_id", how="left").filter(
        pl.col("start_right").is_null()
        | ((pl.col("start_right") <= pl.col("start"))
           & (pl.col("end").is_null() | (pl.col("end") >= pl.col("start")))))
    j = j.unique("person_id", keep="first").join(arr, on="arrangement_id", how="left")
    lab = j.select(
        "person_id",
        arrangement_type=pl.col("arrangement_type").fill_null("unknown"),
        deviation=pl.coalesce(pl.col("deviations"), pl.col("deviations_right")).fill_null(""),
        financier=pl.coalesce(pl.col("financiers"), pl.col("financiers_right")).fill_null(""))
    out = stacked.drop([c for c in ARRANGEMENT_SPLITS if c in stacked.columns]).join(
        lab, on="person_id", how="left")
    treated = pl.col("treated") == 1
    return out.with_columns([pl.when(treated).then(pl.col(c).fill_null("unknown"))
                             .otherwise(pl.lit("")).alias(c) for c in ARRANGEMENT_SPLITS])


def estimates_by_value(estimate: Callable[..., tuple[pl.DataFrame, pl.DataFrame]],
                       stacked: pl.DataFrame, matched: pl.DataFrame, comp: Any, by: str,
                       max_e: int, alpha: float) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Summary and event study per value of the multi-valued split ``by``.

    For each value ``v`` the matched sets whose participant's ``by`` holds ``v`` form
    group ``v`` (a set can be in several groups); ``all`` is every set once.

    Parameters
    ----------
    estimate : callable
        ``estimate(stacked, matched, comp, labels, by, max_e, alpha)`` returning
        ``(summary, event_study)`` with a ``group`` column (the pipeline's estimator).
    stacked, matched, comp
        The pipeline's stacked data, matched sets and set components.
    by : str
        The split column (``;``-separated values).
    max_e : int
    alpha : float

    Returns
    -------
    tuple of polars.DataFrame
        ``(summary, event_study)``.
    """
    t_i = matched["treated_i"].to_numpy().astype(np.int64)
    col = stacked[by].fill_null("")
    values = sorted({v for s in col.to_numpy()[t_i].tolist() for v in str(s).split(";") if v})
    sums, ess = [], []
    for k, v in enumerate(values):
        has = col.str.split(";").list.contains(v)
        st = stacked.with_columns(pl.when(has).then(pl.lit(v)).otherwise(pl.lit("~other"))
                                  .alias(by))
        labels = st[by].to_numpy()[t_i]
        s, e = estimate(st, matched, comp, labels, by, max_e, alpha)
        keep = [v, "all"] if k == 0 else [v]
        sums.append(s.filter(pl.col("group").is_in(keep)))
        ess.append(e.filter(pl.col("group").is_in(keep)))
    if not values:
        labels = np.array(["all"] * len(t_i))
        return estimate(stacked, matched, comp, labels, None, max_e, alpha)
    return pl.concat(sums), pl.concat(ess)
