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
* :func:`province_spec` - reach per year per province of the arrangement's
  gemeente (when the register has provinces: ``gemeente_regions`` of kind
  ``province``; the synthetic register derives them, ``ozamonitor.synth.provinces``);
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
from dataclasses import dataclass

import polars as pl

from ozamonitor.causal.outcomes import arrangement_durations, destination_after_oza
from ozamonitor.register.schema import OZA_END_REASONS, OZA_LEAD_KINDS, OZA_TARGET_GROUPS
from ozamonitor.register.store import Register

__all__ = [
    "COMPARISON_GROUPS",
    "TOTAL",
    "YEARS",
    "MonitorTable",
    "destinations",
    "durations",
    "end_reason_table",
    "flows",
    "monitor_tables",
    "participations",
    "province_spec",
    "provinces",
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


@dataclass
class MonitorTable:
    """A monitor table as its counted units: ``members`` has one row per unit and
    leaf cell (``unit`` + ``dims``); :meth:`cells` adds the ``total`` cells over
    ``margins`` and :meth:`table` counts them on the full ``grid``.

    ``unit`` ids are ``c:<person_id>`` for children and ``p:<person>|<arrangement>|
    <start>`` for participations, so the publication can link every table's cells
    through the units they count.
    """

    name: str
    dims: tuple[str, ...]
    members: pl.DataFrame
    margins: tuple[str, ...]
    grid: dict[str, list[str]]
    unit: str
    title: str
    description: str
    #: the combinations of some dims that exist (e.g. each characteristic's own
    #: categories); ``None``: every combination of the grid
    allowed: pl.DataFrame | None = None

    def cells(self) -> pl.DataFrame:
        """``unit`` + ``dims``: every cell each unit counts in, totals included."""
        frames = []
        m = list(self.margins)
        for mask in range(2 ** len(m)):
            over = [m[i] for i in range(len(m)) if mask >> i & 1]
            frames.append(self.members.select(
                "unit", *(pl.lit(TOTAL).alias(d) if d in over else pl.col(d).cast(pl.String)
                          for d in self.dims)))
        return pl.concat(frames).unique(maintain_order=True)

    def full_grid(self) -> pl.DataFrame:
        """Every cell of the table (zeros included), in display order."""
        dims = list(self.dims)

        def values(d: str) -> list[str]:
            return [*self.grid[d], *([TOTAL] if d in self.margins else [])]

        full = pl.DataFrame({dims[0]: values(dims[0])}, schema={dims[0]: pl.String})
        for d in dims[1:]:
            full = full.join(pl.DataFrame({d: values(d)}, schema={d: pl.String}), how="cross")
        if self.allowed is not None:
            full = full.join(self.allowed, on=self.allowed.columns, how="semi",
                             maintain_order="left")
        return full

    def table(self) -> pl.DataFrame:
        """``dims`` + ``count`` on the full grid (unprotected)."""
        counts = self.cells().group_by(list(self.dims)).agg(count=pl.len().cast(pl.Int64))
        return self.full_grid().join(counts, on=list(self.dims), how="left").with_columns(
            pl.col("count").fill_null(0))


def _unit_participation() -> pl.Expr:
    return pl.concat_str([pl.lit("p:"), pl.col("person_id"), pl.lit("|"),
                          pl.col("arrangement_id"), pl.lit("|"),
                          pl.col("start").cast(pl.String)])


def _unit_child() -> pl.Expr:
    return pl.concat_str([pl.lit("c:"), pl.col("person_id")])


def _years(years: Sequence[int], extraction: dt.date) -> list[int]:
    return [y for y in years if dt.date(y, 1, 1) <= extraction]


def _reach(part: pl.DataFrame, year: int, extraction: dt.date) -> pl.DataFrame:
    """One row per child in an arrangement on some day of ``year``: its first such
    participation."""
    lo, hi = _year_bounds(year, extraction)
    active = part.filter((pl.col("start") <= hi) &
                         (pl.col("end").is_null() | (pl.col("end") >= lo)))
    return active.sort("start", "arrangement_id").unique("person_id", keep="first",
                                                         maintain_order=True)


def flows_spec(register: Register | str, years: Sequence[int] = YEARS,
               part: pl.DataFrame | None = None) -> MonitorTable:
    """Reach, inflow and outflow per year by target group and lead kind.

    Reach counts children (a child in several arrangements in a year counts once,
    in the group of its first participation active that year); inflow and
    outflow count participations that started / ended in the year. Dims
    ``year, flow, target_group, lead_kind`` with ``total`` margins.
    """
    reg = Register.open(register)
    part = participations(reg) if part is None else part
    ext = reg.extraction_date
    dims = ("year", "flow", "target_group", "lead_kind")
    rows = []
    for y in _years(years, ext):
        lo, hi = _year_bounds(y, ext)
        started = part.filter(pl.col("start").is_between(lo, hi))
        ended = part.filter(pl.col("end").is_not_null() & pl.col("end").is_between(lo, hi))
        for name, fr, unit in (("reach", _reach(part, y, ext), _unit_child()),
                               ("inflow", started, _unit_participation()),
                               ("outflow", ended, _unit_participation())):
            rows.append(fr.select(unit.alias("unit"), year=pl.lit(str(y)), flow=pl.lit(name),
                                  target_group="target_group", lead_kind="lead_kind"))
    members = pl.concat(rows) if rows else pl.DataFrame(
        schema={"unit": pl.String, **dict.fromkeys(dims, pl.String)})
    grid = {"year": [str(y) for y in _years(years, ext)],
            "flow": ["reach", "inflow", "outflow"], "target_group": list(OZA_TARGET_GROUPS),
            "lead_kind": list(OZA_LEAD_KINDS)}
    return MonitorTable("oza_flows", dims, members, ("target_group", "lead_kind"), grid,
                        "children (reach) / participations (inflow, outflow)",
                        "Bereik, instroom en uitstroom van onderwijszorgarrangementen",
                        "Reach (children in an arrangement on some day of the year), inflow "
                        "(participations started) and outflow (ended), per calendar year, by "
                        "target group at the start and lead board of the arrangement")


def flows(register: Register | str, years: Sequence[int] = YEARS,
          part: pl.DataFrame | None = None) -> pl.DataFrame:
    """:func:`flows_spec` as a table: ``year, flow, target_group, lead_kind, count``."""
    return flows_spec(register, years, part).table()


def durations_spec(register: Register | str, part: pl.DataFrame | None = None
                   ) -> MonitorTable:
    """Ended participations by target group and lead kind (running ones are censored)."""
    part = participations(register) if part is None else part
    ended = part.filter(~pl.col("censored"))
    members = ended.select(_unit_participation().alias("unit"), "target_group", "lead_kind")
    grid = {"target_group": list(OZA_TARGET_GROUPS), "lead_kind": list(OZA_LEAD_KINDS)}
    return MonitorTable("oza_durations", ("target_group", "lead_kind"), members,
                        ("target_group", "lead_kind"), grid, "participations",
                        "Duur van deelname aan onderwijszorgarrangementen",
                        "Ended participations with their mean and median duration in days, "
                        "by target group and lead board")


def durations(register: Register | str, part: pl.DataFrame | None = None) -> pl.DataFrame:
    """Ended participations by target group and lead kind: ``count``, ``mean_days``,
    ``median_days`` (running participations are censored and left out)."""
    part = participations(register) if part is None else part
    spec = durations_spec(register, part)
    ended = part.filter(~pl.col("censored")).select(
        _unit_participation().alias("unit"), "duration_days")
    stats = (spec.cells().join(ended, on="unit")
             .group_by(list(spec.dims))
             .agg(mean_days=pl.col("duration_days").mean().round(1),
                  median_days=pl.col("duration_days").median().round(1)))
    return spec.table().join(stats, on=list(spec.dims), how="left")


def end_reasons_spec(register: Register | str, years: Sequence[int] = YEARS,
                     part: pl.DataFrame | None = None) -> MonitorTable:
    """Ended participations per year of the end by ``end_reason``."""
    reg = Register.open(register)
    part = participations(reg) if part is None else part
    ys = [str(y) for y in _years(years, reg.extraction_date)]
    members = part.filter(pl.col("end").is_not_null()).select(
        _unit_participation().alias("unit"), year=pl.col("end").dt.year().cast(pl.String),
        end_reason=pl.col("end_reason").fill_null("other")).filter(pl.col("year").is_in(ys))
    return MonitorTable("oza_end_reasons", ("year", "end_reason"), members, ("end_reason",),
                        {"year": ys, "end_reason": list(OZA_END_REASONS)}, "participations",
                        "Redenen van beëindiging van deelname (uitval)",
                        "Ended participations per calendar year of the end, by reason "
                        "(dropout among them)")


def end_reason_table(register: Register | str, years: Sequence[int] = YEARS,
                     part: pl.DataFrame | None = None) -> pl.DataFrame:
    """Ended participations per year of the end by ``end_reason`` (``total`` included)."""
    return end_reasons_spec(register, years, part).table()


def destinations_spec(register: Register | str, *, months_after: int = 3) -> MonitorTable:
    """Ended participations by where the child is ``months_after`` months later."""
    reg = Register.open(register)
    dest = destination_after_oza(reg, months_after=months_after)
    starts = reg.read("oza_participation", ["person_id", "arrangement_id", "start", "end"])
    members = dest.join(starts, on=["person_id", "arrangement_id", "end"], how="left").select(
        _unit_participation().alias("unit"), "destination").unique(maintain_order=True)
    grid = {"destination": ["regular", "special", "mbo", "oza", "none", "censored"]}
    return MonitorTable("oza_destination", ("destination",), members, ("destination",), grid,
                        "participations",
                        f"Bestemming {months_after} maanden na het einde van deelname",
                        f"Ended participations by the child's state {months_after} months "
                        "after the end: regular, special or mbo education, a new arrangement, "
                        "none (no education), or censored (after the extraction date)")


def destinations(register: Register | str, *, months_after: int = 3) -> pl.DataFrame:
    """Ended participations by destination ``months_after`` months later (with total)."""
    return destinations_spec(register, months_after=months_after).table()


def regional_spec(register: Register | str, years: Sequence[int] = YEARS,
                  part: pl.DataFrame | None = None) -> MonitorTable:
    """Reach per year and SWV of the arrangement (``region`` = ``total``: the nation)."""
    reg = Register.open(register)
    part = participations(reg) if part is None else part
    ext = reg.extraction_date
    rows = [_reach(part, y, ext).select(_unit_child().alias("unit"), year=pl.lit(str(y)),
                                        region="swv_id") for y in _years(years, ext)]
    members = pl.concat(rows) if rows else pl.DataFrame(
        schema={"unit": pl.String, "year": pl.String, "region": pl.String})
    swvs = reg.read("regions").filter(pl.col("kind").is_in(["swv_po", "swv_vo"]))[
        "region_id"].sort().to_list()
    extra = sorted(set(members["region"].to_list()) - set(swvs))
    grid = {"year": [str(y) for y in _years(years, ext)], "region": [*swvs, *extra]}
    return MonitorTable("oza_regions", ("year", "region"), members, ("region",), grid,
                        "children", "Bereik per samenwerkingsverband",
                        "Children in an arrangement on some day of the year, by the SWV of "
                        "the arrangement (total: the Netherlands)")


def regional(register: Register | str, years: Sequence[int] = YEARS,
             part: pl.DataFrame | None = None) -> pl.DataFrame:
    """Reach per year and SWV of the arrangement (``region`` = ``total`` for the nation)."""
    return regional_spec(register, years, part).table()


def provinces(register: Register | str) -> pl.DataFrame:
    """``gemeente_code, province`` from ``gemeente_regions`` (empty: no provinces)."""
    gr = Register.open(register).read("gemeente_regions")
    return gr.filter(pl.col("kind") == "province").select(
        "gemeente_code", province="region_id").unique("gemeente_code", keep="first")


def province_spec(register: Register | str, years: Sequence[int] = YEARS,
                  part: pl.DataFrame | None = None) -> MonitorTable | None:
    """Reach per year and province of the arrangement's gemeente (``region`` =
    ``total``: the nation); ``None`` when the register places no gemeente in a province.

    The child counts as in :func:`regional_spec` (its first participation active
    in the year), so the two tables' national totals are one figure.
    """
    reg = Register.open(register)
    prov = provinces(reg)
    if prov.is_empty():
        return None
    part = participations(reg) if part is None else part
    arr = reg.read("arrangements", ["arrangement_id", "gemeente_code"]).join(
        prov, on="gemeente_code", how="left").select("arrangement_id", "province")
    part = part.join(arr, on="arrangement_id", how="left").with_columns(
        pl.col("province").fill_null("unknown"))
    ext = reg.extraction_date
    rows = [_reach(part, y, ext).select(_unit_child().alias("unit"), year=pl.lit(str(y)),
                                        region="province") for y in _years(years, ext)]
    members = pl.concat(rows) if rows else pl.DataFrame(
        schema={"unit": pl.String, "year": pl.String, "region": pl.String})
    known = reg.read("regions").filter(pl.col("kind") == "province")["region_id"].sort()
    extra = sorted(set(members["region"].to_list()) - set(known.to_list()))
    grid = {"year": [str(y) for y in _years(years, ext)], "region": [*known, *extra]}
    return MonitorTable("oza_provinces", ("year", "region"), members, ("region",), grid,
                        "children", "Bereik per provincie",
                        "Children in an arrangement on some day of the year, by the province "
                        "of the arrangement's gemeente (total: the Netherlands)")


def monitor_tables(register: Register | str, years: Sequence[int] = YEARS
                   ) -> list[MonitorTable]:
    """Every monitor table of the publication (unprotected), in publication order
    (``oza_provinces`` only when the register has provinces)."""
    from ozamonitor.causal.monitor_compare import comparison_spec, outcome_spec

    reg = Register.open(register)
    part = participations(reg)
    prov = province_spec(reg, years, part)
    return [flows_spec(reg, years, part), durations_spec(reg, part),
            end_reasons_spec(reg, years, part), destinations_spec(reg),
            regional_spec(reg, years, part), *([prov] if prov is not None else []),
            comparison_spec(reg, years), outcome_spec(reg, years)]
