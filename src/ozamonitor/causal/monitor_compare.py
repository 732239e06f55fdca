"""OZA monitor: participants compared with other pupils, and the two primary outcomes.

* :func:`comparison` - on 1 October of each monitor year, children in an
  arrangement (``oza``) beside children with a 5a exemption and pupils of
  regular education (po, vo), sbo, so and vso, by background and history
  (a long-term absence report in the 24 months before). Each child is in one
  group, highest precedence first: ``oza``, ``exempt_5a``, then the sector of
  its enrolment on the day (mbo pupils are in none).
* :func:`outcome_table` - accessibility and continuity
  (:func:`ozamonitor.causal.outcomes.accessibility` / ``continuity``) from
  January of the first monitor year: children who became eligible (an
  exemption or a period without education) or had a discontinuity, per year of
  that event, participants and others, and how many were enrolled again /
  back in stable education within 12 months. Computed for the children with a
  history that can make them eligible (:func:`~ozamonitor.causal.impact_pool.
  candidate_persons`), not for the whole population.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from ozamonitor.causal.impact_pool import candidate_persons
from ozamonitor.causal.monitor import (
    CHARACTERISTICS,
    COMPARISON_GROUPS,
    TOTAL,
    YEARS,
    MonitorTable,
)
from ozamonitor.causal.outcomes import accessibility, continuity, education_status
from ozamonitor.register.calendar import age_expr
from ozamonitor.register.store import Register

__all__ = ["comparison", "comparison_spec", "outcome_spec", "outcome_table", "reference_dates"]

_SECTOR_GROUP = {"po": "regular", "vo": "regular", "sbo": "sbo", "so": "so", "vso": "vso"}
_CATEGORIES: dict[str, tuple[str, ...]] = {
    "sex": ("M", "F"),
    "age_band": ("<5", "5-11", "12-15", "16-17", "18+"),
    "parent_education": ("low", "middle", "high", "unknown"),
    "migration_background": ("dutch", "europe", "outside_europe"),
    "household_type": ("two_parents", "single_parent", "other", "institution"),
    "child_protection": ("yes", "no"),
    "lrv_24m": ("yes", "no"),
}


def reference_dates(register: Register, years: Sequence[int] = YEARS) -> list[dt.date]:
    """1 October of each year, up to the extraction date."""
    return [dt.date(y, 10, 1) for y in years if dt.date(y, 10, 1) <= register.extraction_date]


def _groups_on(reg: Register, day: dt.date) -> pl.DataFrame:
    """``person_id, group`` on ``day`` (one group per child, by precedence)."""
    d = pl.lit(day)

    def covering(lf: pl.LazyFrame, s: str = "start", e: str = "end") -> pl.LazyFrame:
        return lf.filter((pl.col(s) <= d) & (pl.col(e).is_null() | (pl.col(e) >= d)))

    oza = covering(reg.scan("oza_participation")).select("person_id", group=pl.lit("oza"))
    ex = covering(reg.scan("exemptions").filter(pl.col("article") == "5a")).select(
        "person_id", group=pl.lit("exempt_5a"))
    schools = reg.scan("schools").select("school_id", "sector")
    enr = (covering(reg.scan("enrolments")).join(schools, on="school_id")
           .filter(pl.col("sector").is_in(list(_SECTOR_GROUP)))
           .select("person_id", group=pl.col("sector").replace_strict(_SECTOR_GROUP)))
    rank = {g: i for i, g in enumerate(COMPARISON_GROUPS)}
    return (pl.concat([oza, ex, enr]).with_columns(_r=pl.col("group").replace_strict(rank))
            .sort("person_id", "_r").unique("person_id", keep="first").drop("_r").collect())


def comparison_spec(register: Register | str, years: Sequence[int] = YEARS) -> MonitorTable:
    """Children per group, characteristic and category on each reference date (dims
    ``reference_date, group, characteristic, category``; category ``total`` = the
    group's size)."""
    reg = Register.open(register)
    persons = reg.read("persons").select(
        "person_id", "birth_date", "sex", "parent_education", "migration_background",
        "household_type",
        child_protection=pl.when(pl.col("child_protection")).then(pl.lit("yes"))
        .otherwise(pl.lit("no")))
    lrv = reg.read("absence_reports").filter(pl.col("kind") == "lrv").select(
        "person_id", "absence_start")
    frames = []
    days = reference_dates(reg, years)
    for day in days:
        g = _groups_on(reg, day).join(persons, on="person_id", how="left")
        recent = lrv.filter(pl.col("absence_start").is_between(
            day - dt.timedelta(days=730), day))["person_id"].unique().implode()
        age = age_expr(pl.col("birth_date"), pl.lit(day))
        band = pl.lit("18+")
        for lo, hi, lab in reversed(_AGE):
            band = pl.when((age >= lo) & (age < hi)).then(pl.lit(lab)).otherwise(band)
        g = g.with_columns(age_band=band, lrv_24m=pl.when(pl.col("person_id").is_in(recent))
                           .then(pl.lit("yes")).otherwise(pl.lit("no")))
        long = g.unpivot(index=["person_id", "group"], on=list(CHARACTERISTICS),
                         variable_name="characteristic", value_name="category")
        frames.append(long.select(
            pl.concat_str([pl.lit("c:"), pl.col("person_id")]).alias("unit"),
            reference_date=pl.lit(day.isoformat()), group="group",
            characteristic="characteristic", category="category"))
    dims = ("reference_date", "group", "characteristic", "category")
    members = pl.concat(frames) if frames else pl.DataFrame(
        schema={"unit": pl.String, **dict.fromkeys(dims, pl.String)})
    grid = {"reference_date": [d.isoformat() for d in days],
            "group": list(COMPARISON_GROUPS), "characteristic": list(CHARACTERISTICS),
            "category": sorted({c for v in _CATEGORIES.values() for c in v})}
    allowed = pl.DataFrame([(ch, c) for ch, cats in _CATEGORIES.items()
                            for c in (*cats, TOTAL)],
                           schema=["characteristic", "category"], orient="row")
    return MonitorTable("oza_comparison", dims, members, ("category",), grid, "children",
                        "Deelnemers vergeleken met leerlingen in regulier en speciaal "
                        "onderwijs en kinderen met een vrijstelling 5a",
                        "Children on 1 October of each year in an arrangement (oza), with a "
                        "5a exemption, or in regular education (po, vo), sbo, so or vso, by "
                        "background and history (lrv_24m: a long-term absence report in the "
                        "24 months before)", allowed=allowed)


def comparison(register: Register | str, years: Sequence[int] = YEARS) -> pl.DataFrame:
    """:func:`comparison_spec` as a table: ``reference_date, group, characteristic,
    category, count`` (only each characteristic's own categories and ``total``)."""
    return comparison_spec(register, years).table()


_AGE = ((0, 5, "<5"), (5, 12, "5-11"), (12, 16, "12-15"), (16, 18, "16-17"))


def _months_between(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """Months from ``YYYY-MM`` ``a`` to ``b``."""
    def idx(x: pl.Expr) -> pl.Expr:
        return x.str.slice(0, 4).cast(pl.Int32) * 12 + x.str.slice(5, 2).cast(pl.Int32)
    return idx(b) - idx(a)


def outcome_spec(register: Register | str, years: Sequence[int] = YEARS, *,
                 within_months: int = 12, continuity_months: int = 3) -> MonitorTable:
    """Accessibility and continuity per year of the event, participants and others.

    Dims ``outcome`` (``accessibility``/``continuity``), ``year``, ``participant``
    (``yes``: ever in an arrangement, ``no``, ``total``), ``status``
    (``eligible``: became eligible / had a discontinuity that year; ``reached``:
    enrolled again / in stable education within ``within_months`` months). A year
    whose ``within_months`` are not all observed before the extraction date
    undercounts ``reached``.
    """
    reg = Register.open(register)
    first = dt.date(min(years), 1, 1)
    ids = candidate_persons(reg, first)
    end = reg.extraction_date.strftime("%Y-%m")
    status = education_status(reg, start=first.strftime("%Y-%m"), end=end, person_ids=ids)
    part = reg.read("oza_participation")["person_id"].unique().implode()
    acc = accessibility(reg, status).select(
        "person_id", event="eligible_month", reached="access_month",
        outcome=pl.lit("accessibility"))
    con = continuity(status, min_months=continuity_months).select(
        "person_id", event="discontinuity_month", reached="restored_month",
        outcome=pl.lit("continuity"))
    ev = pl.concat([acc, con]).with_columns(
        year=pl.col("event").str.slice(0, 4),
        participant=pl.when(pl.col("person_id").is_in(part)).then(pl.lit("yes"))
        .otherwise(pl.lit("no")),
        ok=pl.col("reached").is_not_null()
        & (_months_between(pl.col("event"), pl.col("reached")) <= within_months))
    ys = [str(y) for y in years if dt.date(y, 1, 1) <= reg.extraction_date]
    unit = pl.concat_str([pl.lit("c:"), pl.col("person_id")]).alias("unit")
    cols = (unit, "outcome", "year", "participant")
    members = pl.concat([
        ev.select(*cols, status=pl.lit("eligible")),
        ev.filter(pl.col("ok")).select(*cols, status=pl.lit("reached")),
    ]).filter(pl.col("year").is_in(ys))
    grid = {"outcome": ["accessibility", "continuity"], "year": ys,
            "participant": ["yes", "no"], "status": ["eligible", "reached"]}
    return MonitorTable("oza_outcomes", ("outcome", "year", "participant", "status"), members,
                        ("participant",), grid, "children",
                        "Toegankelijkheid en continuïteit van onderwijs",
                        "Accessibility: children who became eligible (an exemption or a "
                        "period without education under a duty) in the year, and how many "
                        f"were enrolled within {within_months} months; continuity: children "
                        "with a discontinuity in the year, and how many were in stable "
                        f"education ({continuity_months} months) again within "
                        f"{within_months} months; participants (ever in an arrangement) and "
                        "others. Among children with a history that can make them eligible.")


def outcome_table(register: Register | str, years: Sequence[int] = YEARS, *,
                  within_months: int = 12, continuity_months: int = 3) -> pl.DataFrame:
    """:func:`outcome_spec` as a table (``outcome, year, participant, status, count``)."""
    return outcome_spec(register, years, within_months=within_months,
                        continuity_months=continuity_months).table()
