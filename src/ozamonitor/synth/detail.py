"""The tables of schema 1.2, drawn from the simulated register (support needs, care by law,
school-side events, arrangement detail).

They are derived after the simulation from the tables it produced, with their own random
stream, so every earlier table keeps its bytes: a TLV and an OPP follow each (v)so
enrolment, a removal each enrolment ended by removal, a diploma each enrolment ended by a
diploma; support needs follow from special education, care, child protection, household,
exemptions and absence; a Wlz indication precedes every Wlz spell. The shares are in
:class:`DetailShares`; docs/synth.md gives their sources and the assumptions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field

import numpy as np
import polars as pl

from ozamonitor.register.schema_detail import (
    ARRANGEMENT_LOCATIONS,
    ARRANGEMENT_TYPES,
    EXIT_PROFILES,
    WLZ_CARE_PROFILES,
)

__all__ = ["DetailShares", "build_detail"]


@dataclass(frozen=True)
class DetailShares:
    """Shares and rates behind the schema 1.2 tables (see docs/synth.md for sources)."""

    #: care delivered as a personal budget (pgb), by law
    pgb_share: dict[str, float] = field(default_factory=lambda: {
        "jeugdwet": 0.06, "wlz": 0.30, "zvw": 0.15, "wmo": 0.10, "wfz": 0.0})
    #: Wlz care profiles of children (vg, lvg, sglvg, lg, zg_auditief, zg_visueel, ggz_b, vv)
    wlz_profile_shares: tuple[float, ...] = (0.55, 0.12, 0.05, 0.15, 0.03, 0.04, 0.04, 0.02)
    #: suspensions per pupil-year by sector (po, sbo, so, vo, vso, mbo)
    suspension_rate: dict[str, float] = field(default_factory=lambda: {
        "po": 0.002, "sbo": 0.008, "so": 0.010, "vo": 0.008, "vso": 0.030, "mbo": 0.0})
    #: multiplier of the suspension rate for pupils with an absence report
    suspension_absence_multiplier: float = 4.0
    #: exit profiles of vso OPPs (further education, labour market, day activities)
    vso_exit_shares: tuple[float, float, float] = (0.40, 0.30, 0.30)
    #: exit profiles of so OPPs
    so_exit_shares: tuple[float, float, float] = (0.90, 0.0, 0.10)
    #: share of (v)so pupils with pupil transport to school
    special_transport_share: float = 0.55
    #: share of day-treatment and residential care spells with transport to the care location
    care_transport_share: float = 0.20
    #: arrangement types (in the order of ARRANGEMENT_TYPES)
    arrangement_type_shares: tuple[float, ...] = (0.15, 0.20, 0.15, 0.20, 0.10, 0.05, 0.15)
    #: share of arrangements whose detail changes once (a second period)
    arrangement_change_share: float = 0.35

    def as_dict(self) -> dict[str, object]:
        """The shares as a JSON-friendly dict (for the manifest)."""
        return asdict(self)


# type -> (teaching hours per week low, high; location)
_TYPE_DETAIL: dict[str, tuple[float, float, str]] = {
    "extra_guidance": (20.0, 26.0, "school"),
    "part_time_teaching": (4.0, 12.0, "other"),
    "class_at_school": (12.0, 22.0, "school_grounds"),
    "intermediate_provision": (4.0, 16.0, "care_location"),
    "opdc": (20.0, 26.0, "other"),
    "distance_learning": (2.0, 10.0, "home"),
    "care_location_teaching": (6.0, 20.0, "day_centre"),
}
if (set(_TYPE_DETAIL) != set(ARRANGEMENT_TYPES)
        or not {v[2] for v in _TYPE_DETAIL.values()} <= set(ARRANGEMENT_LOCATIONS)):
    raise RuntimeError("synth/detail.py: _TYPE_DETAIL does not match the schema's arrangement "
                       "types and locations")


def _days(rng: np.random.Generator, lo: int, hi: int, n: int) -> pl.Series:
    return pl.Series(rng.integers(lo, hi + 1, n), dtype=pl.Int64)


def _clip_end(df: pl.DataFrame, ext: dt.date) -> pl.DataFrame:
    """Drop rows starting after ``ext``; ends after it become open (null)."""
    return df.filter(pl.col("start") <= ext).with_columns(
        end=pl.when(pl.col("end") <= ext).then(pl.col("end")))


def _care(tables: dict[str, pl.DataFrame], s: DetailShares, rng: np.random.Generator
          ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``care_spells`` with delivery and deciding gemeente, and the Wlz indications."""
    care = tables["care_spells"].drop("delivery", "decided_by", strict=False)
    u = rng.random(care.height)
    pgb = care["law"].replace_strict(s.pgb_share, default=0.0, return_dtype=pl.Float64)
    in_kind_only = care["kind"] == "residential_24h"
    delivery = np.where((u < pgb.to_numpy()) & ~in_kind_only.to_numpy(), "pgb", "in_kind")
    care = care.with_columns(delivery=pl.Series(delivery, dtype=pl.String),
                             _row=pl.int_range(pl.len()))
    res = tables["residences"].select("person_id", pl.col("start").alias("_rs"),
                                      pl.col("end").alias("_re"), "gemeente_code")
    dec = (care.filter(pl.col("law").is_in(["jeugdwet", "wmo"])).select("_row", "person_id",
                                                                        "start")
           .join(res, on="person_id", how="inner")
           .filter((pl.col("_rs") <= pl.col("start"))
                   & (pl.col("_re").is_null() | (pl.col("_re") >= pl.col("start"))))
           .group_by("_row").agg(decided_by=pl.col("gemeente_code").first()))
    care = care.join(dec, on="_row", how="left").sort("_row").drop("_row")
    wlz = care.filter(pl.col("law") == "wlz").group_by("person_id").agg(
        first=pl.col("start").min()).sort("person_id")
    lead = _days(rng, 14, 120, wlz.height)
    prof = rng.choice(len(WLZ_CARE_PROFILES), wlz.height,
                      p=np.asarray(s.wlz_profile_shares) / sum(s.wlz_profile_shares))
    ind = wlz.select(
        "person_id",
        care_profile=pl.Series(np.asarray(WLZ_CARE_PROFILES)[prof], dtype=pl.String),
        start=pl.col("first") - pl.duration(days=lead),
        end=pl.lit(None, pl.Date))
    return care, ind


def _special(tables: dict[str, pl.DataFrame], schools: pl.DataFrame, s: DetailShares,
             ext: dt.date, rng: np.random.Generator) -> dict[str, pl.DataFrame]:
    """TLVs, OPPs and transport to school that follow the (v)so enrolments."""
    sch = schools.select("school_id", "sector", "wec_cluster", "swv_id")
    enr = tables["enrolments"].join(sch, on="school_id", how="inner")
    sp = enr.filter(pl.col("sector").is_in(["so", "vso"])).sort("person_id", "start")
    tlv = sp.select(
        "person_id", "swv_id", category=pl.col("tlv_category").fill_null("low"),
        wec_cluster=pl.col("wec_cluster").cast(pl.Int32),
        start=pl.col("start") - pl.duration(days=_days(rng, 0, 60, sp.height)),
        end=pl.col("end")).unique(["person_id", "start"], keep="first", maintain_order=True)
    vso = (sp["sector"] == "vso").to_numpy()
    pv = rng.choice(3, sp.height, p=s.vso_exit_shares)
    ps = rng.choice(3, sp.height, p=s.so_exit_shares)
    prof = np.asarray(EXIT_PROFILES)[np.where(vso, pv, ps)]
    opp = sp.select("person_id", "school_id",
                    exit_profile=pl.Series(prof, dtype=pl.String),
                    start=pl.col("start") + pl.duration(days=_days(rng, 20, 42, sp.height)),
                    end=pl.col("end"))
    opp = _clip_end(opp.filter(pl.col("end").is_null() | (pl.col("end") >= pl.col("start"))),
                    ext)
    tr = sp.filter(pl.Series(rng.random(sp.height) < s.special_transport_share))
    transport = tr.select("person_id", destination=pl.lit("school"),
                          financier=pl.lit("gemeente"), start="start", end="end")
    return {"tlvs": tlv, "opps": opp, "transport_school": transport}


def _events(tables: dict[str, pl.DataFrame], schools: pl.DataFrame, s: DetailShares,
            ext: dt.date, rng: np.random.Generator) -> dict[str, pl.DataFrame]:
    """Suspensions, removals and diplomas from the enrolments."""
    enr = tables["enrolments"].join(schools.select("school_id", "sector"), on="school_id",
                                    how="inner")
    endc = pl.col("end").fill_null(ext)
    years = ((endc - pl.col("start")).dt.total_days().clip(0, None) / 365.25).alias("y")
    flagged = tables["absence_reports"].select("person_id").unique()
    risk = enr.select("person_id").with_columns(
        _r=pl.col("person_id").is_in(flagged["person_id"].implode()))
    rate = enr["sector"].replace_strict(s.suspension_rate, default=0.0,
                                        return_dtype=pl.Float64).to_numpy()
    rate = rate * np.where(risk["_r"].to_numpy(), s.suspension_absence_multiplier, 1.0)
    p = 1 - np.exp(-rate * enr.select(years)["y"].to_numpy())
    hit = enr.filter(pl.Series(rng.random(enr.height) < p))
    span = hit.select((endc - pl.col("start")).dt.total_days().clip(0, None).alias("d"))["d"]
    off = (rng.random(hit.height) * span.to_numpy()).astype(np.int64)
    susp = hit.select("person_id", "school_id", kind=pl.lit("suspension"),
                      start=pl.col("start") + pl.duration(days=pl.Series(off)))
    susp = susp.with_columns(end=pl.col("start") + pl.duration(
        days=_days(rng, 0, 4, susp.height)))
    susp = _clip_end(susp, ext)
    rem = tables["enrolments"].filter(pl.col("end_reason") == "removed").select(
        "person_id", "school_id", kind=pl.lit("removal"), start="end", end="end")
    ev = pl.concat([susp.select(rem.columns), rem]).unique(
        ["person_id", "school_id", "kind", "start"], keep="first", maintain_order=True)
    dip = tables["enrolments"].filter(
        pl.col("end_reason").is_in(["diploma", "start_qualification"])).select(
        "person_id", "school_id", kind=pl.col("end_reason"), date=pl.col("end")).unique(
        ["person_id", "kind", "date"], keep="first", maintain_order=True)
    return {"school_events": ev.sort("person_id", "start"),
            "qualifications": dip.sort("person_id", "date")}


def _needs(tables: dict[str, pl.DataFrame], schools: pl.DataFrame, care: pl.DataFrame,
           ext: dt.date) -> pl.DataFrame:
    """Support needs from what the register shows (several at once, with their source)."""
    enr = tables["enrolments"].join(schools.select("school_id", "sector", "wec_cluster"),
                                    on="school_id", how="inner")
    sp = enr.filter(pl.col("sector").is_in(["so", "vso"]))
    cl = pl.col("wec_cluster")
    from_tlv = sp.select("person_id", start="start", need=pl.when(cl == 4).then(
        pl.lit("mental_health")).when(cl == 3).then(pl.lit("neurocognitive")).otherwise(
        pl.lit("physical_health")), source=pl.lit("tlv"))
    from_opp = sp.filter(cl == 4).select("person_id", "start", need=pl.lit("social_emotional"),
                                         source=pl.lit("opp"))
    need_of = {("jeugdwet", "ambulant"): "social_emotional",
               ("jeugdwet", "day_treatment"): "mental_health",
               ("jeugdwet", "residential_24h"): "mental_health",
               ("jeugdwet", "foster_care"): "family_context",
               ("wlz", "nursing"): "physical_health",
               ("wlz", "residential_24h"): "neurocognitive",
               ("zvw", "nursing"): "physical_health",
               ("wfz", "residential_24h"): "risky_circumstances"}
    # short ambulant help is common and no sign of a complex need: only spells of more
    # than a year (or still running) count as evidence
    long = pl.col("end").is_null() | ((pl.col("end") - pl.col("start")).dt.total_days() > 365)
    care = care.filter((pl.col("kind") != "ambulant") | long)
    key = pl.concat_str("law", "kind", separator="/")
    from_care = care.select("person_id", "start", need=key.replace_strict(
        {f"{a}/{b}": v for (a, b), v in need_of.items()}, default=None, return_dtype=pl.String),
        source=pl.lit("care_indication")).filter(pl.col("need").is_not_null())
    persons = tables["persons"]
    prot = care.join(persons.filter(pl.col("child_protection")).select("person_id"),
                     on="person_id", how="semi").group_by("person_id").agg(
        start=pl.col("start").min()).select(
        "person_id", "start", need=pl.lit("risky_circumstances"),
        source=pl.lit("care_indication"))
    fam = care.join(persons.filter(pl.col("household_type").is_in(
        ["single_parent", "institution"])).select("person_id"), on="person_id",
        how="semi").filter(pl.col("law") == "jeugdwet").select(
        "person_id", "start", need=pl.lit("family_context"), source=pl.lit("care_indication"))
    ex = tables["exemptions"].filter(pl.col("article") == "5a").select(
        "person_id", "start", need=pl.lit("system_mismatch"), source=pl.lit("care_indication"))
    lrv = tables["absence_reports"].filter(pl.col("kind") == "lrv").join(
        sp.select("person_id").unique(), on="person_id", how="semi").select(
        "person_id", start="report_date", need=pl.lit("system_mismatch"), source=pl.lit("opp"))
    allp = pl.concat([f.select("person_id", "need", "source", "start") for f in (
        from_tlv, from_opp, from_care, prot, fam, ex, lrv)])
    # one open record per person, need and source, from its first evidence
    return allp.filter(pl.col("start") <= ext).group_by("person_id", "need", "source").agg(
        start=pl.col("start").min()).with_columns(end=pl.lit(None, pl.Date)).sort(
        "person_id", "start", "need", "source")


def _arrangements(arr: pl.DataFrame, s: DetailShares, ext: dt.date,
                  rng: np.random.Generator) -> dict[str, pl.DataFrame]:
    """Arrangement periods (type, hours, location, deviations, financiers) and providers."""
    periods: list[dict[str, object]] = []
    providers: list[dict[str, object]] = []
    shares = np.asarray(s.arrangement_type_shares) / sum(s.arrangement_type_shares)
    for row in arr.iter_rows(named=True):
        start: dt.date = row["start"]
        t = ARRANGEMENT_TYPES[int(rng.choice(len(ARRANGEMENT_TYPES), p=shares))]
        lo, hi, loc = _TYPE_DETAIL[t]
        hours = round(float(rng.uniform(lo, hi)) * 2) / 2
        devs = row["deviations"]
        change = rng.random() < s.arrangement_change_share
        second = start + dt.timedelta(days=int(rng.integers(300, 500)))
        if change and second <= ext:
            first_end = second - dt.timedelta(days=1)
            periods.append(dict(arrangement_id=row["arrangement_id"], start=start,
                                end=first_end, arrangement_type=t, hours_per_week=hours,
                                location=loc, deviations=devs, financiers=row["financiers"]))
            hours2 = min(40.0, hours + round(float(rng.uniform(0, 6))))
            periods.append(dict(arrangement_id=row["arrangement_id"], start=second, end=None,
                                arrangement_type=t, hours_per_week=hours2, location=loc,
                                deviations=devs, financiers=row["financiers"]))
        else:
            periods.append(dict(arrangement_id=row["arrangement_id"], start=start, end=None,
                                arrangement_type=t, hours_per_week=hours, location=loc,
                                deviations=devs, financiers=row["financiers"]))
        care_fin = [f for f in row["financiers"].split(";")
                    if f in ("gemeente", "zorgkantoor", "zorgverzekeraar")] or ["gemeente"]
        agb = "AGB" + hashlib.sha256(row["care_provider"].encode()).hexdigest()[:8].upper()
        for f in care_fin:
            providers.append(dict(arrangement_id=row["arrangement_id"], provider_id=agb,
                                  financier=f, start=start, end=None))
    pschema = {"arrangement_id": pl.String, "start": pl.Date, "end": pl.Date,
               "arrangement_type": pl.String, "hours_per_week": pl.Float64,
               "location": pl.String, "deviations": pl.String, "financiers": pl.String}
    vschema = {"arrangement_id": pl.String, "provider_id": pl.String, "financier": pl.String,
               "start": pl.Date, "end": pl.Date}
    return {"arrangement_periods": pl.DataFrame(periods, schema=pschema),
            "arrangement_providers": pl.DataFrame(providers, schema=vschema)}


def build_detail(tables: dict[str, pl.DataFrame], schools: pl.DataFrame,
                 extraction_date: dt.date, rng: np.random.Generator,
                 shares: DetailShares | None = None) -> dict[str, pl.DataFrame]:
    """The schema 1.2 tables, and ``care_spells`` with its 1.2 columns filled.

    Parameters
    ----------
    tables : dict of str to polars.DataFrame
        The simulated tables (``persons``, ``residences``, ``enrolments``,
        ``absence_reports``, ``exemptions``, ``care_spells``, ``arrangements``).
    schools : polars.DataFrame
        The ``schools`` table.
    extraction_date : datetime.date
        Nothing is dated after it.
    rng : numpy.random.Generator
        The stream for these tables only.
    shares : DetailShares, optional
        Shares and rates (default :class:`DetailShares`).

    Returns
    -------
    dict of str to polars.DataFrame
        ``care_spells`` (replacing the simulated one) and the nine tables of schema 1.2.
    """
    s = shares or DetailShares()
    ext = extraction_date
    care, ind = _care(tables, s, rng)
    sp = _special(tables, schools, s, ext, rng)
    ev = _events(tables, schools, s, ext, rng)
    cc = care.filter(pl.col("kind").is_in(["day_treatment", "residential_24h"])
                     & pl.col("law").is_in(["jeugdwet", "wlz"]))
    cc = cc.filter(pl.Series(rng.random(cc.height) < s.care_transport_share))
    to_care = cc.select("person_id", destination=pl.lit("care_location"),
                        financier=pl.when(pl.col("law") == "wlz").then(pl.lit("zorgkantoor"))
                        .otherwise(pl.lit("gemeente")), start="start", end="end")
    transport = pl.concat([sp["transport_school"], to_care]).unique(
        ["person_id", "destination", "start"], keep="first", maintain_order=True).sort(
        "person_id", "start")
    return {
        "care_spells": care,
        "support_needs": _needs(tables, schools, care, ext),
        "tlvs": sp["tlvs"],
        "wlz_indications": ind,
        "school_events": ev["school_events"],
        "opps": sp["opps"],
        "qualifications": ev["qualifications"],
        "pupil_transport": transport,
        **_arrangements(tables["arrangements"], s, ext, rng),
    }
