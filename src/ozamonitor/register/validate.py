"""Validation of a register (or of tables about to become one).

Every rule is derived from :mod:`ozamonitor.register.schema` where it can be
(columns, dtypes, nullability, codes, multi-valued columns, min/max, primary
keys, references, spells) plus a few domain rules written out below. All
checks are vectorised polars queries (joins, window functions, sort + running
maximum for overlaps), so a register of tens of millions of rows validates in
one pass per check without Python loops.

A problem is reported as ``file:row:field: message``. ``row`` is the 1-based
data row in that file (the header is not counted: row 1 is the first data
row); row 0 means the file as a whole (e.g. a missing column). For a register
the file is the table's Parquet file; during import it is the *source* file
(``leerlingen.xlsx[persons]`` for a sheet of a workbook) and the row the
source row, so problems can be fixed where the data came from.

Checks (the ``check`` field of :class:`Problem`):

``schema``       columns missing or unexpected; wrong Parquet dtypes.
``parse``        a value that cannot be read as the column's type (import).
``bsn``          a BSN that fails the eleven-test (import).
``null``         a required value is empty.
``code``         a value not in the column's code list (each element of a
                 ``;``-separated multi-valued column).
``range``        a number outside the column's min/max.
``primary_key``  a primary key that occurs more than once (every later row
                 is reported, naming the first).
``spell``        a spell whose end lies before its start.
``date``         implausible dates: before :data:`MIN_DATE`; an attendance
                 month that is not the first of a month; an absence report
                 dated before the absence started; OZA participation
                 starting before the arrangement did.
``future``       a date after the register's extraction date.
``age``          the person's age at an event outside :data:`AGE_RULES`
                 (e.g. enrolment start at age 3..23).
``reference``    an id that is not in the referenced table.
``region_kind``  a region of the wrong kind (e.g. a ``gemeente_code`` that
                 is an SWV; a po school whose ``swv_id`` is an SWV VO).
``tlv``          ``tlv_category`` present iff the school is so or vso.
``wec``          ``wec_cluster`` present iff the school is so or vso.
``overlap``      two enrolments, two OZA participations or two residences
                 of one person overlap (see :func:`overlaps`).
``hours``        attendance hours present + excused + unexcused exceed the
                 scheduled hours.
``share``        the shares of one gemeente over regions of one kind do not
                 sum to 1 (tolerance 0.01).
``manifest``     the manifest's row count disagrees with the Parquet file.
``calendar``     an absence day that is not a school day of the school's holiday
                 region (weekend, holiday) or lies outside the school calendar.
``dagdeel``      half days (``dagdelen``) given for a school that is not primary.
``enrolment``    an absence day on which the person is not enrolled at that school; an
                 OZA participation starting on a day the pupil is not enrolled.
``indication``   a Wlz care spell without a Wlz indication (CIZ) on its start date.
``provider``     an OZA participation whose arrangement has no care provider with a
                 financier on its start date (when ``arrangement_providers`` is delivered;
                 ``indication`` likewise needs ``wlz_indications``).
``financier``    a care spell paid by another financier than its law's.

The schema 1.2 rules live in :mod:`ozamonitor.register.validate_detail`. A column added in
a later schema version (``Column.since``) that is nullable may be left out of a source: it
is read as empty.

The ``hours`` check also covers ``absence_days``: the hours of one person, school
and day (all kinds together) must not exceed the day's scheduled hours (the
row's ``scheduled_hours``, else the calendar's hours for the school's sector).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from ozamonitor.register.absence_days import absence_day_problems
from ozamonitor.register.calendar import age_expr
from ozamonitor.register.problems import (
    CHECKS,
    PROBLEM_SCHEMA,
    ROW,
    Problem,
    ValidationReport,
    problem_frame,
    quote_expr,
)
from ozamonitor.register.schema import (
    SECTORS,
    SPECIAL_SECTORS,
    TABLES,
    Column,
)
from ozamonitor.register.school_calendar import SchoolCalendar
from ozamonitor.register.spells import overlaps
from ozamonitor.register.store import Register
from ozamonitor.register.validate_detail import detail_problems

__all__ = [
    "AGE_RULES",
    "CHECKS",
    "MATERIALISE_ROWS",
    "MIN_DATE",
    "NO_OVERLAP",
    "ROW",
    "Problem",
    "ValidationReport",
    "overlaps",
    "problem_frame",
    "validate_register",
    "validate_tables",
]

#: Dates before this are taken for typos (a register covers 2014 onwards).
MIN_DATE = dt.date(1980, 1, 1)

#: Age (completed years, :func:`ozamonitor.register.calendar.age_expr`) a
#: person may have on a date: ``(table, column) -> (min, max)`` inclusive
#: (``None``: no upper bound; young adults move house at any age).
AGE_RULES: dict[tuple[str, str], tuple[int, int | None]] = {
    ("persons", "newcomer_arrival_date"): (0, 25),
    ("residences", "start"): (0, None),
    ("enrolments", "start"): (3, 23),
    ("absence_reports", "absence_start"): (3, 25),
    ("attendance", "month"): (3, 25),
    ("exemptions", "start"): (3, 25),
    ("care_spells", "start"): (0, 25),
    ("waiting_lists", "start"): (0, 25),
    ("oza_participation", "start"): (3, 25),
    ("absence_days", "date"): (3, 25),
}

#: Tables whose spells of one person must not overlap.
NO_OVERLAP: tuple[str, ...] = ("enrolments", "oza_participation", "residences")

#: Lazy tables with more rows than this are streamed, not held in memory, by
#: :func:`validate_tables`.
MATERIALISE_ROWS = 20_000_000


def _txt(e: pl.Expr) -> pl.Expr:
    """Expression as display text (null shown as ``(empty)``)."""
    return e.cast(pl.String).fill_null("(empty)")


def _code_list(codes: Iterable[Any], limit: int = 12) -> str:
    c = [str(x) for x in codes]
    return ", ".join(c[:limit]) + (", ..." if len(c) > limit else "")


def _to_polars(df: Any) -> pl.LazyFrame:
    if isinstance(df, pl.LazyFrame):
        return df
    if isinstance(df, pl.DataFrame):
        return df.lazy()
    try:
        import pandas as pd

        if isinstance(df, pd.DataFrame):
            return pl.from_pandas(df).lazy()
    except ImportError:  # pragma: no cover
        pass
    raise TypeError(f"expected a polars or pandas DataFrame, got {type(df).__name__}")


# --------------------------------------------------------------------------
# Overlap detection (public: also used by tests against brute force)
# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# The validator
# --------------------------------------------------------------------------


@dataclass
class _Ctx:
    tables: dict[str, pl.LazyFrame]
    extraction_date: dt.date
    files: dict[str, str]
    calendar: SchoolCalendar | None = None
    missing: set[tuple[str, str]] = field(default_factory=set)
    frames: list[pl.LazyFrame] = field(default_factory=list)
    eager: list[pl.DataFrame] = field(default_factory=list)

    def file(self, name: str) -> str:
        return self.files[name]

    def add(self, lf: pl.LazyFrame) -> None:
        self.frames.append(lf)


def _prepare(
    ctx: _Ctx, name: str, lf: pl.LazyFrame, *, strict_dtypes: bool, materialise: bool = True
) -> pl.LazyFrame:
    """Check columns and dtypes; return the table cast to its schema with :data:`ROW`.

    With ``materialise`` the table is read into memory once (fast when every
    check reuses it); otherwise it stays a lazy query each check streams over.
    """
    t = TABLES[name]
    schema = lf.collect_schema()
    if ROW not in schema:
        lf = lf.with_row_index(ROW, offset=1)
    lf = lf.with_columns(pl.col(ROW).cast(pl.Int64))
    file = ctx.file(name)
    problems: list[dict[str, Any]] = []
    exprs: list[pl.Expr] = [pl.col(ROW)]
    parse_checks: list[tuple[Column, pl.Expr]] = []
    for c in t.columns:
        if c.name not in schema and c.nullable and c.since != "1.0":
            exprs.append(pl.lit(None, c.dtype).alias(c.name))  # a later, optional column
            continue
        if c.name not in schema:
            problems.append(dict(row=0, field=c.name, message=f"missing column {c.name!r}",
                                 check="schema"))
            ctx.missing.add((name, c.name))
            exprs.append(pl.lit(None, c.dtype).alias(c.name))
            continue
        have = schema[c.name]
        if have == c.dtype:
            exprs.append(pl.col(c.name))
            continue
        if strict_dtypes:
            problems.append(dict(row=0, field=c.name, check="schema",
                                 message=f"dtype is {have}, expected {c.dtype}"))
        if c.kind == "date" and isinstance(have, pl.Datetime):
            cast = pl.col(c.name).dt.date()
        elif c.kind == "date" and have == pl.String:
            cast = pl.col(c.name).str.to_date("%Y-%m-%d", strict=False)
        else:
            cast = pl.col(c.name).cast(c.dtype, strict=False)
        exprs.append(cast.alias(c.name))
        parse_checks.append((c, cast))
    for extra in schema:
        if extra != ROW and extra not in t.column_names:
            problems.append(dict(row=0, field=extra, message=f"unexpected column {extra!r}",
                                 check="schema"))
    if problems:
        ctx.eager.append(
            pl.DataFrame(problems, schema_overrides={"row": pl.Int64})
            .with_columns(file=pl.lit(file))
            .select(list(PROBLEM_SCHEMA))
        )
    for c, cast in parse_checks:
        bad = lf.filter(pl.col(c.name).is_not_null() & cast.is_null())
        ctx.add(problem_frame(bad, file, c.name,
                              pl.format("cannot read {} as {}", quote_expr(pl.col(c.name)),
                                        pl.lit(c.kind)), "parse"))
    out = lf.select(exprs)
    return out.collect().lazy() if materialise else out


def _column_checks(ctx: _Ctx, name: str, lf: pl.LazyFrame) -> None:
    t = TABLES[name]
    file = ctx.file(name)
    ext = ctx.extraction_date
    for c in t.columns:
        col = pl.col(c.name)
        if not c.nullable and (name, c.name) not in ctx.missing:
            ctx.add(problem_frame(lf.filter(col.is_null()), file, c.name,
                                  pl.lit("required value is empty"), "null"))
        if c.codes is not None and not c.multi:
            allowed = _code_list(c.codes)
            bad = lf.filter(col.is_not_null() & ~col.is_in(list(c.codes)))
            ctx.add(problem_frame(bad, file, c.name,
                                  pl.format("invalid code {}; allowed: {}", quote_expr(col),
                                            pl.lit(allowed)), "code"))
        if c.codes is not None and c.multi:
            allowed = _code_list(c.codes)
            bad = (
                lf.select(ROW, c.name)
                .filter(col.is_not_null())
                .with_columns(_el=col.str.split(";"))
                .explode("_el")
                .filter(~pl.col("_el").is_in([str(x) for x in c.codes]))
            )
            ctx.add(problem_frame(bad, file, c.name,
                                  pl.format("invalid code {} in {}; allowed: {} (separated by ';')",
                                            quote_expr(pl.col("_el")), quote_expr(col),
                                            pl.lit(allowed)),
                                  "code"))
        if c.min is not None:
            bad = lf.filter(col < c.min)
            ctx.add(problem_frame(bad, file, c.name,
                                  pl.format("{} is below the minimum {}", col, pl.lit(c.min)),
                                  "range"))
        if c.max is not None:
            bad = lf.filter(col > c.max)
            ctx.add(problem_frame(bad, file, c.name,
                                  pl.format("{} is above the maximum {}", col, pl.lit(c.max)),
                                  "range"))
        if c.kind == "date":
            ctx.add(problem_frame(lf.filter(col > ext), file, c.name,
                                  pl.format("{} is after the extraction date {}", col,
                                            pl.lit(ext.isoformat())), "future"))
            ctx.add(problem_frame(lf.filter(col < MIN_DATE), file, c.name,
                                  pl.format("{} is before {} (implausible)", col,
                                            pl.lit(MIN_DATE.isoformat())), "date"))


def _primary_key(ctx: _Ctx, name: str, lf: pl.LazyFrame) -> None:
    t = TABLES[name]
    if not t.primary_key:
        return
    pk = list(t.primary_key)
    first = pl.col(ROW).min().over(pk)
    bad = lf.with_columns(_first=first, _n=pl.len().over(pk)).filter(
        (pl.col("_n") > 1) & (pl.col(ROW) != pl.col("_first")))
    values = pl.concat_str([_txt(pl.col(k)) for k in pk], separator=", ")
    ctx.add(problem_frame(bad, ctx.file(name), ",".join(pk),
                          pl.format("duplicate primary key ({}) = ({}); first on row {}",
                                    pl.lit(", ".join(pk)), values, pl.col("_first")),
                          "primary_key"))


def _spells(ctx: _Ctx, name: str, lf: pl.LazyFrame) -> None:
    t = TABLES[name]
    if t.spell is None:
        return
    s, e = t.spell
    bad = lf.filter(pl.col(e) < pl.col(s))
    ctx.add(problem_frame(bad, ctx.file(name), e,
                          pl.format("{} {} is before {} {}", pl.lit(e), pl.col(e), pl.lit(s),
                                    pl.col(s)), "spell"))


def _ages(ctx: _Ctx, persons: pl.LazyFrame) -> None:
    births = persons.select(pl.col("person_id"), pl.col("birth_date").alias("_birth")).filter(
        pl.col("person_id").is_not_null()
    ).unique("person_id", keep="first")
    for (name, column), (lo, hi) in AGE_RULES.items():
        lf = ctx.tables[name]
        if name == "persons":
            j = lf.with_columns(_birth=pl.col("birth_date"))
        else:
            j = lf.select(ROW, "person_id", column).join(births, on="person_id", how="inner")
        age = age_expr(pl.col("_birth"), pl.col(column))
        bad = j.filter(pl.col(column).is_not_null() & pl.col("_birth").is_not_null()).with_columns(
            _age=age
        ).filter((pl.col("_age") < lo) | ((pl.col("_age") > hi) if hi is not None else False))
        expected = f"{lo} to {hi}" if hi is not None else f"at least {lo}"
        msg = pl.format("age {} on {} {} (born {}); expected {}",
                        pl.col("_age"), pl.lit(column), pl.col(column), pl.col("_birth"),
                        pl.lit(expected))
        ctx.add(problem_frame(bad, ctx.file(name), column, msg, "age"))


def _references(ctx: _Ctx) -> None:
    for name, t in TABLES.items():
        lf = ctx.tables[name]
        for c in t.columns:
            if c.references is None or (name, c.name) in ctx.missing:
                continue
            rt, rc = c.references.split(".")
            keys = ctx.tables[rt].select(pl.col(rc).alias(c.name)).unique()
            bad = lf.filter(pl.col(c.name).is_not_null()).join(keys, on=c.name, how="anti")
            ctx.add(problem_frame(bad, ctx.file(name), c.name,
                                  pl.format("unknown {} {} (not in {})", pl.lit(c.name),
                                            quote_expr(pl.col(c.name)), pl.lit(rt)), "reference"))
    # arrangements.lead_id: a school (lead_kind school) or an SWV (lead_kind swv)
    arr = ctx.tables["arrangements"]
    schools = ctx.tables["schools"].select(pl.col("school_id").alias("lead_id")).unique()
    swvs = (
        ctx.tables["regions"]
        .filter(pl.col("kind").is_in(["swv_po", "swv_vo"]))
        .select(pl.col("region_id").alias("lead_id"))
        .unique()
    )
    for kind, keys, what in (("school", schools, "schools"), ("swv", swvs, "SWV regions")):
        bad = arr.filter(pl.col("lead_kind") == kind).join(keys, on="lead_id", how="anti")
        ctx.add(problem_frame(bad, ctx.file("arrangements"), "lead_id",
                              pl.format("unknown lead_id {} for lead_kind {} (not in {})",
                                        quote_expr(pl.col("lead_id")), pl.lit(kind), pl.lit(what)),
                              "reference"))


def _region_kinds(ctx: _Ctx) -> None:
    kinds = ctx.tables["regions"].select(
        pl.col("region_id"), pl.col("kind").alias("_rkind")
    ).unique("region_id", keep="first")

    def check(name: str, column: str, expected: pl.Expr, what: pl.Expr) -> None:
        lf = ctx.tables[name]
        if name == "schools":  # an invalid sector is reported by the code check
            lf = lf.filter(pl.col("sector").is_in(list(SECTORS)))
        j = lf.filter(pl.col(column).is_not_null()).join(
            kinds.rename({"region_id": column}), on=column, how="inner"
        )
        bad = j.filter(~expected)
        ctx.add(problem_frame(bad, ctx.file(name), column,
                              pl.format("region {} is a {}, expected {}",
                                        quote_expr(pl.col(column)), pl.col("_rkind"), what),
                              "region_kind"))

    for name, t in TABLES.items():
        if "gemeente_code" in t.column_names:
            check(name, "gemeente_code", pl.col("_rkind") == "gemeente", pl.lit("gemeente"))
    check("gemeente_regions", "region_id", pl.col("_rkind") == pl.col("kind"), pl.col("kind"))
    check("arrangements", "swv_id", pl.col("_rkind").is_in(["swv_po", "swv_vo"]),
          pl.lit("swv_po or swv_vo"))
    want = (
        pl.when(pl.col("sector").is_in(["po", "sbo", "so"])).then(pl.lit("swv_po"))
        .when(pl.col("sector").is_in(["vo", "vso"])).then(pl.lit("swv_vo"))
        .otherwise(pl.lit("none"))
    )
    check("schools", "swv_id", pl.col("_rkind") == want,
          pl.format("{} for a {} school", want, _txt(pl.col("sector"))))
    schools = ctx.tables["schools"]
    ctx.add(problem_frame(
        schools.filter(pl.col("sector").is_in(["po", "sbo", "so", "vo", "vso"])
                       & pl.col("swv_id").is_null()),
        ctx.file("schools"), "swv_id",
        pl.format("swv_id is required for a {} school (only mbo has none)", pl.col("sector")),
        "region_kind"))


def _school_rules(ctx: _Ctx) -> None:
    special = list(SPECIAL_SECTORS)
    schools = ctx.tables["schools"]
    sch = schools.select("school_id", pl.col("sector").alias("_sector")).unique(
        "school_id", keep="first"
    )
    enr = ctx.tables["enrolments"].join(sch, on="school_id", how="inner")
    is_special = pl.col("_sector").is_in(special)
    ctx.add(problem_frame(
        enr.filter(is_special & pl.col("tlv_category").is_null()), ctx.file("enrolments"),
        "tlv_category",
        pl.format("tlv_category is required: school {} is {}", quote_expr(pl.col("school_id")),
                  pl.col("_sector")), "tlv"))
    ctx.add(problem_frame(
        enr.filter(~is_special & pl.col("tlv_category").is_not_null()), ctx.file("enrolments"),
        "tlv_category",
        pl.format("tlv_category {} given but school {} is {} (only so/vso have a TLV)",
                  quote_expr(pl.col("tlv_category")), quote_expr(pl.col("school_id")),
                  pl.col("_sector")), "tlv"))
    sp = pl.col("sector").is_in(special)
    ctx.add(problem_frame(
        schools.filter(sp & pl.col("wec_cluster").is_null()), ctx.file("schools"), "wec_cluster",
        pl.format("wec_cluster is required for a {} school", pl.col("sector")), "wec"))
    ctx.add(problem_frame(
        schools.filter(~sp & pl.col("sector").is_not_null() & pl.col("wec_cluster").is_not_null()),
        ctx.file("schools"), "wec_cluster",
        pl.format("wec_cluster given for a {} school (only so/vso)", pl.col("sector")), "wec"))


def _overlaps(ctx: _Ctx) -> None:
    what = {"enrolments": "enrolment", "oza_participation": "OZA participation",
            "residences": "residence"}
    for name in NO_OVERLAP:
        t = TABLES[name]
        assert t.spell is not None
        s, e = t.spell
        ov = overlaps(ctx.tables[name], start=s, end=e)
        if ov.height == 0:
            continue
        msg = pl.format("{} {}..{} overlaps row {} ({}..{}) of the same person",
                        pl.lit(what[name]), pl.col("start"), _txt(pl.col("end")).replace(
                            "(empty)", "open"),
                        pl.col("other_row"), pl.col("other_start"),
                        _txt(pl.col("other_end")).replace("(empty)", "open"))
        ctx.add(problem_frame(ov.rename({"row": ROW}), ctx.file(name), s, msg, "overlap"))


def _other_rules(ctx: _Ctx) -> None:
    att = ctx.tables["attendance"]
    total = pl.col("present_hours") + pl.col("excused_hours") + pl.col("unexcused_hours")
    ctx.add(problem_frame(
        att.filter(total > pl.col("scheduled_hours")), ctx.file("attendance"), "scheduled_hours",
        pl.format("present + excused + unexcused hours = {} exceed scheduled_hours {}", total,
                  pl.col("scheduled_hours")), "hours"))
    ctx.add(problem_frame(
        att.filter(pl.col("month").dt.day() != 1), ctx.file("attendance"), "month",
        pl.format("month {} is not the first day of a month", pl.col("month")), "date"))
    ab = ctx.tables["absence_reports"]
    ctx.add(problem_frame(
        ab.filter(pl.col("report_date") < pl.col("absence_start")), ctx.file("absence_reports"),
        "report_date",
        pl.format("report_date {} is before absence_start {}", pl.col("report_date"),
                  pl.col("absence_start")), "date"))
    arr = ctx.tables["arrangements"].select(
        "arrangement_id", pl.col("start").alias("_astart")
    ).unique("arrangement_id", keep="first")
    part = ctx.tables["oza_participation"].join(arr, on="arrangement_id", how="inner")
    ctx.add(problem_frame(
        part.filter(pl.col("start") < pl.col("_astart")), ctx.file("oza_participation"), "start",
        pl.format("participation starts {} before arrangement {} started ({})", pl.col("start"),
                  quote_expr(pl.col("arrangement_id")), pl.col("_astart")), "date"))
    gr = ctx.tables["gemeente_regions"]
    grp = ["gemeente_code", "kind"]
    share_sum = pl.col("share").sum().over(grp)
    bad = gr.filter(
        pl.col("gemeente_code").is_not_null() & pl.col("kind").is_not_null()
        & ((share_sum - 1.0).abs() > 0.01) & (pl.col(ROW) == pl.col(ROW).min().over(grp))
    ).with_columns(_sum=share_sum.round(4))
    ctx.add(problem_frame(
        bad, ctx.file("gemeente_regions"), "share",
        pl.format("shares of gemeente {} over {} regions sum to {}, expected 1",
                  quote_expr(pl.col("gemeente_code")), pl.col("kind"), pl.col("_sum")), "share"))


def _absence_days(ctx: _Ctx) -> None:
    """School days, hours per day, half days and enrolment of ``absence_days``."""
    for lf in absence_day_problems(ctx.tables, ctx.file("absence_days"),
                                   ctx.calendar or SchoolCalendar.default()):
        ctx.add(lf)


def validate_tables(
    tables: Mapping[str, Any],
    extraction_date: dt.date,
    *,
    file_names: Mapping[str, str] | None = None,
    max_problems: int | None = None,
    extra_problems: Iterable[pl.DataFrame] = (),
    strict_dtypes: bool = False,
    materialise_rows: int = MATERIALISE_ROWS,
    calendar: SchoolCalendar | None = None,
    later_tables: Iterable[str] = (),
) -> ValidationReport:
    """Validate register tables held in memory (polars or pandas frames).

    ``tables`` maps table names to frames; tables left out count as empty
    (so references into them fail). A frame may carry a :data:`ROW` column
    with the row numbers to report (the importer passes source row numbers);
    otherwise rows are numbered 1, 2, ... ``file_names`` maps table names to
    the file names to report (default ``<table>.parquet``). Columns are cast
    to the schema's dtypes; values that cannot be cast are ``parse`` problems
    (``strict_dtypes`` also reports the dtype difference as a ``schema``
    problem). ``extra_problems`` (problem frames, e.g. from parsing) are merged
    in. Returns a sorted :class:`ValidationReport` of at most ``max_problems``
    problems with counts per check over all of them.

    Tables of up to ``materialise_rows`` rows are held in memory while
    checking; larger lazy tables (e.g. Parquet scans) are streamed by every
    check instead, bounding memory at some extra reading.

    ``calendar`` (a :class:`~ozamonitor.register.school_calendar.SchoolCalendar`;
    default the packaged one) decides which days are school days for
    ``absence_days``. ``later_tables`` names tables the register predates (read as
    empty); rules that need them are skipped.
    """
    for name in tables:
        if name not in TABLES:
            raise KeyError(f"unknown register table {name!r}; known tables: {', '.join(TABLES)}")
    files = {n: (file_names or {}).get(n, TABLES[n].file) for n in TABLES}
    ctx = _Ctx(tables={}, extraction_date=extraction_date, files=files, calendar=calendar)
    streamed = False
    for name, t in TABLES.items():
        given = tables.get(name)
        lf = _to_polars(given) if name in tables else pl.LazyFrame(schema=t.polars_schema)
        big = (isinstance(given, pl.LazyFrame)
               and lf.select(pl.len()).collect().item() > materialise_rows)
        streamed |= big
        ctx.tables[name] = _prepare(ctx, name, lf, strict_dtypes=strict_dtypes,
                                    materialise=not big)
    for name in TABLES:
        lf = ctx.tables[name]
        _column_checks(ctx, name, lf)
        _primary_key(ctx, name, lf)
        _spells(ctx, name, lf)
    _ages(ctx, ctx.tables["persons"])
    _references(ctx)
    _region_kinds(ctx)
    _school_rules(ctx)
    _overlaps(ctx)
    _other_rules(ctx)
    _absence_days(ctx)
    later = set(later_tables)
    for lf in detail_problems(ctx.tables, ctx.files, delivered=set(tables) - later):
        ctx.add(lf)
    engine = "streaming" if streamed else "auto"
    collected = pl.collect_all(ctx.frames, engine=engine) if ctx.frames else []
    frames = [f for f in [*ctx.eager, *collected, *extra_problems] if f.height]
    return _report(frames, max_problems)


def _report(frames: list[pl.DataFrame], max_problems: int | None) -> ValidationReport:
    if not frames:
        return ValidationReport()
    allp = pl.concat([f.select(list(PROBLEM_SCHEMA)).cast(PROBLEM_SCHEMA)  # type: ignore[arg-type]
                      for f in frames])
    counts = dict(allp.group_by("check").len().iter_rows())
    allp = allp.sort("file", "row", "field", "message", "check")
    if max_problems is not None:
        allp = allp.head(max_problems)
    return ValidationReport((Problem(*r) for r in allp.iter_rows()), counts)


def validate_register(
    register: str | Path | Register,
    *,
    max_problems: int | None = None,
    materialise_rows: int = MATERIALISE_ROWS,
    calendar: SchoolCalendar | None = None,
) -> ValidationReport:
    """Validate a register folder (or an open :class:`Register`).

    Runs every check of :func:`validate_tables` on the Parquet files with the
    manifest's extraction date, plus exact dtype checks and the manifest's row
    counts.

    Parameters
    ----------
    register : str, Path or Register
        The register.
    max_problems : int or None, default None
        Problems kept in the report (``None``: all; counts cover all).
    materialise_rows : int, default MATERIALISE_ROWS
        Tables with more rows are streamed, not held in memory.

    Returns
    -------
    ValidationReport
        Problems (``file:row:field: message``, rows are 1-based rows of each
        Parquet file) and counts per check; ``report.ok`` when there are none.
    """
    reg = register if isinstance(register, Register) else Register(register, check=False)
    manifest_problems: list[dict[str, Any]] = []
    for name, t in TABLES.items():
        if name in reg.later_tables:
            continue
        rows = pq.ParquetFile(reg.file(name)).metadata.num_rows
        expected = reg.manifest.get("tables", {}).get(name, {}).get("rows")
        if expected is not None and int(expected) != rows:
            manifest_problems.append(
                dict(file=t.file, row=0, field="rows", check="manifest",
                     message=f"manifest says {expected} rows, file has {rows}"))
    tables = {name: reg.scan(name).with_row_index(ROW, offset=1) for name in TABLES}
    extra = [pl.DataFrame(manifest_problems, schema=PROBLEM_SCHEMA)] if manifest_problems else []
    return validate_tables(tables, reg.extraction_date, max_problems=max_problems,
                           extra_problems=extra, strict_dtypes=True,
                           materialise_rows=materialise_rows, calendar=calendar,
                           later_tables=reg.later_tables)
