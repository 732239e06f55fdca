"""Thuiszitter counts: who meets which definition, and tidy count tables.

* **Stock** (*peildatum*): children meeting a definition on a reference date;
  durations are measured as of that date.
* **Flow** (school year): every child who met the definition on at least one
  day of the school year (like the yearly *leerplichttelling*); the child counts
  in the first category (priority order) it met during the year, which, with
  categories ordered from long to short durations, is the category of the
  maximum duration reached within the year (capped at 31 July or the
  extraction date).

Attribution (region of a counted child) is taken on the reference date, or for
flows on the last day in the year on which the child was in its category:

* ``gemeente``: gemeente of residence (``"unknown"`` when none, e.g. abroad);
* ``swv``: enrolled pupils via their school's SWV (PO for po/sbo/so, VO for
  vo/vso; mbo schools belong to no SWV: ``"none"``); children not enrolled via
  their gemeente of residence and ``gemeente_regions`` (SWV PO below age 12,
  SWV VO from 12). Where a gemeente lies in several SWVs the rule is
  ``"largest_share"`` (default: the SWV with the largest share, ties to the
  lowest id) or ``"fractional"`` (the child counts ``share`` in each SWV, so
  counts are fractional);
* ``school``: school location on the date (``"not_enrolled"`` otherwise);
* ``sector``: the school's sector (``"not_enrolled"`` otherwise);
* ``age``: age band on the date; background characteristics from ``persons``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ozamonitor.counting.definition import Definition, compile_node, resolve_definitions
from ozamonitor.counting.swv import SWV_KINDS, SWV_RULES, SwvRule, gemeente_swv, swv_kind
from ozamonitor.counting.timeline import CountingError, Timeline, _pid
from ozamonitor.privacy.disclosure import DEFAULT_THRESHOLD, SumGroup, suppress
from ozamonitor.register.calendar import age_expr, parse_school_year, school_year_label
from ozamonitor.register.store import Register

#: Dimensions accepted by ``--by``.
BY_DIMENSIONS: dict[str, str] = {
    "nation": "the Netherlands as a whole",
    "gemeente": "gemeente of residence",
    "swv": "samenwerkingsverband (PO or VO)",
    "school": "school location",
    "sector": "education sector of the school",
    "age": "age band",
    "sex": "sex",
    "parent_education": "parents' education level",
    "migration_background": "migration background",
    "household_type": "household type",
    "income_decile": "household income decile",
}
AGE_BANDS = ("<5", "5-11", "12-15", "16-17", "18+")
NOT_ENROLLED = "not_enrolled"
UNKNOWN = "unknown"
NO_SWV = "none"
#: Sum groups of a count table: the categories of a definition in one region and
#: period add up to its ``total`` row (exclusive definitions; for the others the
#: total counts distinct children), and its regions add up to the national figure.
SUM_GROUPS = [["definition", "region", "period"], ["definition", "category", "period"]]


def table_sum_groups(exclusive: Iterable[str]) -> list[SumGroup]:
    """:data:`SUM_GROUPS` for :func:`~ozamonitor.privacy.disclosure.suppress`: the
    ``total`` row is the categories' own total for the ``exclusive`` definitions."""
    own_total = (pl.col("category") == "total") & pl.col("definition").is_in(sorted(exclusive))
    return [SumGroup(SUM_GROUPS[0], total=own_total), SumGroup(SUM_GROUPS[1])]


def _age_band(age: pl.Expr) -> pl.Expr:
    return (
        pl.when(age < 5).then(pl.lit("<5"))
        .when(age < 12).then(pl.lit("5-11"))
        .when(age < 16).then(pl.lit("12-15"))
        .when(age < 18).then(pl.lit("16-17"))
        .otherwise(pl.lit("18+"))
    )


def _criterion(d: Definition, c: Any) -> pl.Expr:
    """A category's criterion within the definition's population.

    ``population`` (leerplichtig, or leerplichtig + kwalificatieplichtig) bounds
    every category: nobody outside it is counted, e.g. an 18-year-old whose 5a
    exemption is still registered.
    """
    return compile_node(c.node) & pl.col(f"c_{d.population}")


def classify_points(points: pl.DataFrame, definitions: Sequence[Definition]) -> pl.DataFrame:
    """Which definition/category each point meets: rows (pid, period, t, definition, cat)."""
    lf = points.lazy()
    parts = []
    excl = [d for d in definitions if d.exclusive]
    if excl:
        exprs = [
            pl.coalesce([pl.when(_criterion(d, c)).then(pl.lit(i, pl.Int32))
                         for i, c in enumerate(d.categories)]).alias(d.name)
            for d in excl
        ]
        wide = lf.select("pid", "period", "t", *exprs)
        parts.append(
            wide.unpivot(index=["pid", "period", "t"], on=[d.name for d in excl],
                         variable_name="definition", value_name="cat")
            .filter(pl.col("cat").is_not_null())
        )
    for d in definitions:
        if d.exclusive:
            continue
        exprs = [pl.when(_criterion(d, c)).then(pl.lit(i, pl.Int32)).alias(str(i))
                 for i, c in enumerate(d.categories)]
        wide = lf.select("pid", "period", "t", *exprs)
        parts.append(
            wide.unpivot(index=["pid", "period", "t"], variable_name="__c", value_name="cat")
            .filter(pl.col("cat").is_not_null())
            .select("pid", "period", "t", pl.lit(d.name).alias("definition"), "cat")
        )
    if not parts:
        return pl.DataFrame(schema={"pid": pl.UInt64, "period": pl.String, "t": pl.Date,
                                    "definition": pl.String, "cat": pl.Int32})
    return pl.concat(parts).collect()


def _reduce_flow(hits: pl.DataFrame, definitions: Sequence[Definition]) -> pl.DataFrame:
    """One row per child per definition (exclusive) or per category (non-exclusive)."""
    excl = [d.name for d in definitions if d.exclusive]
    a = (
        hits.lazy().filter(pl.col("definition").is_in(excl))
        .sort("cat", pl.col("t"), descending=[False, True])
        .group_by("pid", "period", "definition", maintain_order=True).first()
    )
    b = (
        hits.lazy().filter(~pl.col("definition").is_in(excl))
        .group_by("pid", "period", "definition", "cat").agg(pl.col("t").max())
    )
    return pl.concat([a, b.select(a.collect_schema().names())]).collect()


def _period_label(school_year: str | int) -> str:
    """The ``period`` label of a flow (as in :meth:`Timeline.points_in_year`)."""
    return school_year if isinstance(school_year, str) else school_year_label(school_year)


@dataclass
class Counter:
    """Counts thuiszitters under several definitions from one register.

    >>> c = Counter(Register("reg"), "all")            # doctest: +SKIP
    >>> c.count(peildatum=dt.date(2023, 10, 1), by="gemeente")  # doctest: +SKIP
    """

    register: Register
    definitions: list[Definition]
    timeline: Timeline = field(init=False)
    _attr: dict[str, pl.DataFrame] = field(init=False, default_factory=dict)
    _requested: list[str] = field(init=False, default_factory=list)
    _protected_cache: Any = field(init=False, default=None)

    def __init__(
        self,
        register: Register | str | Path,
        definitions: str | Iterable[str] | Sequence[Definition] = "all",
        *,
        definitions_file: str | Path | Iterable[str | Path] | None = None,
    ) -> None:
        self.register = Register.open(register)
        if isinstance(definitions, str) or (
            not isinstance(definitions, Sequence) or not definitions
            or not isinstance(definitions[0], Definition)
        ):
            defs = resolve_definitions(definitions, definitions_file)  # type: ignore[arg-type]
        else:
            defs = list(definitions)  # type: ignore[arg-type]
        self.definitions = defs
        self.timeline = Timeline.build(self.register, defs)
        self._attr = {}
        self._requested = []
        self._protected_cache = None

    # ------------------------------------------------------------ per child
    def definition(self, name: str) -> Definition:
        for d in self.definitions:
            if d.name == name:
                return d
        raise CountingError(f"definition {name!r} not loaded")

    def stock(self, dates: dt.date | Iterable[dt.date]) -> pl.DataFrame:
        """Per-child membership on one or more reference dates."""
        ds = [dates] if isinstance(dates, dt.date) else list(dates)
        hits = classify_points(self.timeline.points_at(ds), self.definitions)
        self._requested = list(dict.fromkeys(d.isoformat() for d in ds))
        return self._finish(hits, "stock")

    def flow(self, school_years: str | int | Iterable[str | int]) -> pl.DataFrame:
        """Per-child membership over one or more school years (any day in the year)."""
        years = [school_years] if isinstance(school_years, str | int) else list(school_years)
        out = []
        for y in years:
            pts = self.timeline.points_in_year(y, self.definitions)
            out.append(_reduce_flow(classify_points(pts, self.definitions), self.definitions))
        hits = pl.concat(out) if out else classify_points(
            self.timeline.points_at([]), self.definitions)
        self._requested = list(dict.fromkeys(_period_label(y) for y in years))
        return self._finish(hits, "flow")

    def _finish(self, hits: pl.DataFrame, kind: str) -> pl.DataFrame:
        cat_names = pl.DataFrame(
            [(d.name, i, c.name) for d in self.definitions for i, c in enumerate(d.categories)],
            schema={"definition": pl.String, "cat": pl.Int32, "category": pl.String},
            orient="row",
        )
        df = hits.join(cat_names, on=["definition", "cat"], how="left").drop("cat")
        df = self._attribute(df)
        return df.with_columns(kind=pl.lit(kind)).sort("definition", "period", "person_id",
                                                       "category")

    # ---------------------------------------------------------- attribution
    def _tables(self) -> dict[str, pl.DataFrame]:
        if not self._attr:
            reg = self.register
            ext = reg.extraction_date
            tl = self.timeline
            # only children in the timeline can be counted
            keep = (pl.lit(True) if tl.all_children
                    else pl.col("pid").is_in(tl.segments["pid"].unique().implode()))
            self._attr["res"] = (
                reg.scan("residences")
                .select(_pid(pl.col("person_id")).alias("pid"), "start",
                        pl.col("end").fill_null(ext), "gemeente_code")
                .filter(keep).sort("start").collect()
            )
            schools = reg.read("schools", ["school_id", "sector", "swv_id"])
            self._attr["enr"] = (
                reg.scan("enrolments")
                .select(_pid(pl.col("person_id")).alias("pid"), "start",
                        pl.col("end").fill_null(ext), "school_id")
                .filter(keep).sort("start").collect()
                .join(schools, on="school_id", how="left")
            )
            self._attr["gr"] = reg.read("gemeente_regions").filter(
                pl.col("kind").is_in(SWV_KINDS))
        return self._attr

    def _attribute(self, df: pl.DataFrame) -> pl.DataFrame:
        t = self._tables()
        persons = self.timeline.persons.select(
            "pid", "person_id", "birth_date", "sex", "parent_education",
            "migration_background", "household_type", "income_decile")
        df = df.join(persons, on="pid", how="left").sort("t")
        res = t["res"].rename({"start": "r_start", "end": "r_end"})
        df = df.join_asof(res, left_on="t", right_on="r_start", by="pid", strategy="backward",
                          check_sortedness=False)
        enr = t["enr"].rename({"start": "e_start", "end": "e_end"})
        df = df.join_asof(enr, left_on="t", right_on="e_start", by="pid", strategy="backward",
                          check_sortedness=False)
        age = age_expr(pl.col("birth_date"), pl.col("t"))
        in_res = pl.col("r_end") >= pl.col("t")
        in_enr = pl.col("e_end") >= pl.col("t")
        df = df.with_columns(
            gemeente=pl.when(in_res).then(pl.col("gemeente_code")).otherwise(pl.lit(UNKNOWN)),
            school=pl.when(in_enr).then(pl.col("school_id")).otherwise(pl.lit(NOT_ENROLLED)),
            sector=pl.when(in_enr).then(pl.col("sector")).otherwise(pl.lit(NOT_ENROLLED)),
            school_swv=pl.when(in_enr).then(pl.col("swv_id").fill_null(NO_SWV)),
            age=age,
            age_band=_age_band(age),
        )
        return df.select(
            "person_id", "definition", "category", "period", "t", "gemeente", "school_swv",
            "school", "sector", "age", "age_band", "sex", "parent_education",
            "migration_background", "household_type",
            pl.col("income_decile").cast(pl.String).fill_null(UNKNOWN), "pid",
        )

    def _swv(self, df: pl.DataFrame, rule: SwvRule) -> pl.DataFrame:
        """Add ``region`` (SWV) and ``weight`` columns according to ``rule``."""
        if rule not in SWV_RULES:
            raise CountingError(f"unknown SWV rule {rule!r}; choose one of {', '.join(SWV_RULES)}")
        gr = self._tables()["gr"]
        enrolled = df.filter(pl.col("school_swv").is_not_null()).with_columns(
            region=pl.col("school_swv"), weight=pl.lit(1.0))
        rest = df.filter(pl.col("school_swv").is_null()).with_columns(
            swv_kind=swv_kind(pl.col("age")))
        rest = rest.join(
            gemeente_swv(gr, rule),
            left_on=["gemeente", "swv_kind"], right_on=["gemeente_code", "kind"], how="left",
        ).with_columns(
            region=pl.col("region_id").fill_null(UNKNOWN), weight=pl.col("w").fill_null(1.0)
        ).drop("swv_kind", "region_id", "w")
        return pl.concat([enrolled, rest.select(enrolled.columns)])

    def with_region(self, per_child: pl.DataFrame, by: str,
                    swv_rule: SwvRule = "largest_share") -> pl.DataFrame:
        """Per-child frame with ``region`` and ``weight`` columns for a ``by`` dimension."""
        if by not in BY_DIMENSIONS:
            raise CountingError(
                f"unknown --by dimension {by!r}; choose one of {', '.join(BY_DIMENSIONS)}")
        if by == "swv":
            return self._swv(per_child, swv_rule)
        col = {"nation": pl.lit("NL"), "age": pl.col("age_band"),
               "school": pl.col("school")}.get(by, pl.col(by))
        return per_child.with_columns(region=col.cast(pl.String), weight=pl.lit(1.0))

    def region_universe(self, by: str) -> list[str]:
        """Regions always listed for a dimension (zero counts included)."""
        if by == "nation":
            return ["NL"]
        if by in ("gemeente", "swv"):
            kinds = ["gemeente"] if by == "gemeente" else list(SWV_KINDS)
            return self.register.read("regions").filter(pl.col("kind").is_in(kinds))[
                "region_id"].sort().to_list()
        if by == "age":
            return list(AGE_BANDS)
        return []

    # --------------------------------------------------------------- tables
    def table(
        self,
        per_child: pl.DataFrame,
        by: str = "nation",
        *,
        swv_rule: SwvRule = "largest_share",
        threshold: int | None = DEFAULT_THRESHOLD,
        periods: Sequence[str] | None = None,
    ) -> pl.DataFrame:
        """Tidy counts ``definition, category, region, period, count`` (+ ``suppression``).

        The table is the full grid definition x category (+ ``total``) x region x
        period, zeros included. ``periods`` are the period labels to list (the
        reference date ``YYYY-MM-DD`` or the school year); by default those of
        ``per_child``, or, when ``per_child`` has no rows (nobody counted), those
        of the last :meth:`stock` / :meth:`flow` / :meth:`per_child` call.
        ``threshold=None`` returns unprotected counts (never publish those).
        """
        df = self.with_region(per_child, by, swv_rule)
        fractional = by == "swv" and swv_rule == "fractional"
        cnt = pl.col("weight").sum() if fractional else pl.len().cast(pl.Int64)
        cells = df.group_by("definition", "category", "period", "region").agg(count=cnt)
        seen_periods = per_child["period"].unique().to_list()
        if periods is not None:
            plist = sorted(set(periods) | set(seen_periods))
        else:
            plist = sorted(seen_periods) or list(self._requested)
        universe = self.region_universe(by)
        seen = set(df["region"].unique().to_list())
        regions = [*universe, *sorted(seen - set(universe))] if by == "age" else sorted(
            set(universe) | seen)
        frame = self._grid(plist, regions)
        out = frame.join(cells, on=["definition", "category", "period", "region"], how="left")
        out = out.with_columns(pl.col("count").fill_null(0.0 if fractional else 0))
        excl = {d.name for d in self.definitions if d.exclusive}
        tot_ex = (out.filter(pl.col("definition").is_in(excl))
                  .group_by("definition", "period", "region").agg(pl.col("count").sum()))
        tot_nx = (df.filter(~pl.col("definition").is_in(excl))
                  .unique(["definition", "period", "region", "pid"])
                  .group_by("definition", "period", "region").agg(count=cnt))
        totals = pl.concat([tot_ex, tot_nx.cast({"count": tot_ex.schema["count"]})])
        totals = self._grid(plist, regions, total_only=True).join(
            totals, on=["definition", "period", "region"], how="left"
        ).with_columns(pl.col("count").fill_null(0)).with_columns(category=pl.lit("total"))
        out = pl.concat([out, totals.select(out.columns)], how="vertical_relaxed")
        order = pl.DataFrame(
            [(d.name, c, i, j) for i, d in enumerate(self.definitions)
             for j, c in enumerate([*d.category_names(), "total"])],
            schema={"definition": pl.String, "category": pl.String, "__d": pl.Int32,
                    "__c": pl.Int32}, orient="row")
        rorder = pl.DataFrame({"region": regions, "__r": list(range(len(regions)))},
                              schema={"region": pl.String, "__r": pl.Int32})
        out = (out.join(order, on=["definition", "category"], how="left")
               .join(rorder, on="region", how="left")
               .sort("period", "__d", "__r", "__c").drop("__d", "__c", "__r"))
        out = out.select("definition", "category", "region", "period", "count")
        if threshold is None:
            return out
        if fractional:  # fractional counts are not persons: one table, sum groups only
            return suppress(out, "count", threshold=threshold,
                            sum_groups=table_sum_groups(excl))
        from ozamonitor.counting.publication import in_table_order

        return in_table_order(self.protected(per_child, by, threshold, plist), by, out)

    def protected(self, per_child: pl.DataFrame, by: str = "nation",
                  threshold: int = DEFAULT_THRESHOLD, periods: Sequence[str] | None = None,
                  width: int | None = None) -> Any:
        """The protected publication of ``per_child`` (every region level, and ``by``).

        All region levels (:data:`ozamonitor.counting.publication.LEVELS`) of all
        definitions and periods are protected together, so tables of the same
        ``per_child`` by different levels are consistent views of one
        publication. The last result is cached.
        """
        from ozamonitor.counting.publication import LEVELS, protect_counts

        extra = () if by in LEVELS else (by,)
        key = (extra, threshold, width, tuple(periods or ()))
        cached = self._protected_cache
        if cached is not None and cached[0] is per_child and cached[1] == key:
            return cached[2]
        res = protect_counts(self, per_child, by=extra, periods=periods, threshold=threshold,
                             width=width)
        self._protected_cache = (per_child, key, res)
        return res

    def _grid(self, periods: list[str], regions: list[str], total_only: bool = False
              ) -> pl.DataFrame:
        rows = [(d.name, c) for d in self.definitions
                for c in (["total"] if total_only else d.category_names())]
        defs = pl.DataFrame(rows, schema={"definition": pl.String, "category": pl.String},
                            orient="row")
        if total_only:
            defs = defs.drop("category").unique(maintain_order=True)
        return (defs.join(pl.DataFrame({"period": periods}, schema={"period": pl.String}),
                          how="cross")
                .join(pl.DataFrame({"region": regions}, schema={"region": pl.String}),
                      how="cross"))

    def count(
        self,
        *,
        peildatum: dt.date | None = None,
        schoolyear: str | None = None,
        by: str = "nation",
        swv_rule: SwvRule = "largest_share",
        threshold: int | None = DEFAULT_THRESHOLD,
    ) -> pl.DataFrame:
        """Stock (``peildatum``) or flow (``schoolyear``) count table.

        Always the full grid (zeros included), also when nobody is counted.
        """
        pc = self.per_child(peildatum=peildatum, schoolyear=schoolyear)
        period = (peildatum.isoformat() if peildatum is not None
                  else _period_label(str(schoolyear)))
        return self.table(pc, by, swv_rule=swv_rule, threshold=threshold, periods=[period])

    def per_child(self, *, peildatum: dt.date | None = None,
                  schoolyear: str | None = None) -> pl.DataFrame:
        """Per-child membership for exactly one of ``peildatum`` / ``schoolyear``."""
        if (peildatum is None) == (schoolyear is None):
            raise CountingError("give exactly one of peildatum (stock) or schoolyear (flow)")
        if peildatum is not None:
            return self.stock(peildatum)
        assert schoolyear is not None
        try:
            parse_school_year(schoolyear)
        except ValueError as e:
            raise CountingError(str(e)) from None
        return self.flow(schoolyear)

    def multi_swv_gemeenten(self) -> pl.DataFrame:
        """Gemeenten lying in more than one SWV (PO or VO), with their shares."""
        gr = self._tables()["gr"]
        return (gr.group_by("gemeente_code", "kind")
                .agg(n_swv=pl.len(), swvs=pl.col("region_id").sort().str.join(";"),
                     shares=pl.col("share").sort_by("region_id").cast(pl.String).str.join(";"))
                .filter(pl.col("n_swv") > 1).sort("gemeente_code", "kind"))


def count(
    register: Register | str | Path,
    definitions: str | Iterable[str] = "all",
    *,
    peildatum: dt.date | None = None,
    schoolyear: str | None = None,
    by: str = "nation",
    swv_rule: SwvRule = "largest_share",
    threshold: int | None = DEFAULT_THRESHOLD,
    definitions_file: str | Path | None = None,
) -> pl.DataFrame:
    """One-call count table (see :class:`Counter`). Disclosure-controlled by default."""
    c = Counter(register, definitions, definitions_file=definitions_file)
    return c.count(peildatum=peildatum, schoolyear=schoolyear, by=by, swv_rule=swv_rule,
                   threshold=threshold)
