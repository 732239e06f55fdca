"""Subgroups of children with complex support needs (seed 000's first analysis).

:func:`support_profile` gathers, per child and on one day, what the register says about
the support need (the seven kinds of domain.md section 5, their number), the care history
(months of care in the two years before, residential care, day treatment, Wlz), special
education and the background; :func:`support_subgroups` clusters them with the Gower
distance (mixed types) and PAM, checks each cluster's stability by bootstrap Jaccard and
describes each subgroup (:func:`ozamonitor.causal.subgroups.find_subgroups`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from ozamonitor.causal.care_history import CARE_HISTORY_COVARIATES, NEED_COLUMNS, add_care_history
from ozamonitor.causal.subgroups import Kind, SubgroupResult, find_subgroups
from ozamonitor.register.store import Register

__all__ = ["SUPPORT_VARIABLES", "support_profile", "support_subgroups"]

#: Variables clustered on: support needs, care history, special education, background.
SUPPORT_VARIABLES = (*CARE_HISTORY_COVARIATES, "special_education", "age", "sex",
                     "parent_education", "migration_background", "household_type",
                     "child_protection")
_KINDS: dict[str, Kind] = {**{c: "nominal" for c in NEED_COLUMNS},
                           "care_residential_24": "nominal", "care_day_24": "nominal",
                           "care_wlz_before": "nominal", "special_education": "nominal",
                           "child_protection": "nominal"}


def support_profile(register: Register | str, month: str | dt.date, *,
                    population: str = "needs", person_ids: Sequence[str] | None = None
                    ) -> pl.DataFrame:
    """One row per child: support needs, care history and background on the last day
    before ``month``.

    Parameters
    ----------
    register : Register or str
    month : str or date
        ``"YYYY-MM"`` (or a date in that month): the profile holds on the day before.
    population : {"needs", "care", "participants"}, default "needs"
        Children with a support need that day; with a need or care in the two years
        before; or everyone who ever took part in an arrangement.
    person_ids : sequence of str, optional
        Restrict to these children.

    Returns
    -------
    polars.DataFrame
        ``person_id`` and :data:`SUPPORT_VARIABLES`.
    """
    reg = Register.open(register)
    m = dt.date.fromisoformat(f"{month}-01") if isinstance(month, str) else dt.date(
        month.year, month.month, 1)
    ref = m - dt.timedelta(days=1)
    persons = reg.read("persons").filter(pl.col("birth_date") <= ref)
    if person_ids is not None:
        persons = persons.filter(pl.col("person_id").is_in(list(person_ids)))
    prof = add_care_history(reg, persons.select("person_id").with_columns(stack=pl.lit(0)), m)
    if population == "needs":
        prof = prof.filter(pl.col("n_needs") > 0)
    elif population == "care":
        prof = prof.filter((pl.col("n_needs") > 0) | (pl.col("care_months_24") > 0))
    elif population == "participants":
        ids = reg.read("oza_participation", ["person_id"])["person_id"].unique()
        prof = prof.filter(pl.col("person_id").is_in(ids.implode()))
    else:
        raise ValueError(f"population must be needs, care or participants, not {population!r}")
    sch = reg.read("schools", ["school_id", "sector"])
    special = (reg.read("enrolments", ["person_id", "school_id", "start", "end"])
               .filter((pl.col("start") <= ref) & (pl.col("end").is_null()
                                                   | (pl.col("end") >= ref)))
               .join(sch, on="school_id").group_by("person_id")
               .agg(special_education=pl.col("sector").is_in(["sbo", "so", "vso"]).any()))
    bg = persons.select("person_id", "sex", "parent_education", "migration_background",
                        "household_type", pl.col("child_protection").cast(pl.Int8),
                        age=((pl.lit(ref) - pl.col("birth_date")).dt.total_days() / 365.25))
    out = prof.drop("stack").join(bg, on="person_id", how="left").join(
        special, on="person_id", how="left")
    return out.with_columns(special_education=pl.col("special_education").fill_null(False)
                            .cast(pl.Int8)).select("person_id", *SUPPORT_VARIABLES).sort(
        "person_id")


def support_subgroups(profile: pl.DataFrame, *, k: int | None = None,
                      ks: Sequence[int] = range(2, 8), n_boot: int = 50, seed: int = 0,
                      variables: Sequence[str] = SUPPORT_VARIABLES) -> SubgroupResult:
    """Gower + PAM subgroups of a :func:`support_profile`, with bootstrap Jaccard stability
    per cluster and a profile of each (variables that do not vary are left out).

    Parameters
    ----------
    profile : polars.DataFrame
        From :func:`support_profile`.
    k : int, optional
        Fix the number of subgroups (default: by average silhouette width over ``ks``).
    ks : sequence of int, default range(2, 8)
    n_boot : int, default 50
        Bootstrap samples for the stability (``fpc::clusterboot``; above 0.75 stable,
        below 0.5 dissolved).
    seed : int, default 0
    variables : sequence of str, default SUPPORT_VARIABLES

    Returns
    -------
    SubgroupResult
    """
    use = [v for v in variables if profile[v].n_unique() > 1]
    return find_subgroups(profile, use, k=k, ks=ks, n_boot=n_boot, seed=seed,
                          kinds={v: _KINDS[v] for v in use if v in _KINDS})
