"""Base conditions per child per day, as piecewise-constant segments.

Every register spell that matters for a definition (enrolment, residence,
absence report, exemption, waiting list, 24-hour care) and the child's
compulsory-education periods become +1/-1 events; a sorted cumulative sum per
child splits the child's life into *segments* on which every base condition
(:data:`~ozamonitor.counting.definition.BASE_CONDITIONS`) is constant. For
each condition the segment also carries ``s_<condition>``: the first day of the
uninterrupted run of that condition it belongs to, so the duration on any day
``t`` is ``t - s + 1`` days. Everything is vectorised polars (sorts, cumulative
sums and as-of joins); there is no loop over children.

* A stock on a reference date ``d`` evaluates the segment that contains ``d``.
* A flow over a school year evaluates every segment overlapping the year at its
  first day in the year, plus the days on which a duration threshold flips
  inside a segment (``s + threshold``). Between these points no condition and
  no threshold changes, so "met the definition at some day of the year" is
  exact.

Only children who can meet a definition are kept (*candidates*): those with an
absence report, exemption, waiting-list or 24-hour-care spell, or with a day
under duty on which they were not enrolled; and of those only the segments on
which such a condition holds (run starts are computed before that pruning).
When a definition could count children without any of these (checked by
evaluating it on all "ordinary" condition combinations), everything is kept.

Spells are inclusive ``[start, end]``; a null end means still running on the
extraction date, and all spells are cut at the extraction date.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from ozamonitor.counting.definition import BASE_CONDITIONS, Definition, Duration, durations_in
from ozamonitor.register.calendar import (
    school_year_bounds,
    school_year_label,
    with_compulsory_periods,
)
from ozamonitor.register.store import Register

#: Conditions read directly from register spells (the others are derived).
RAW_CONDITIONS = (
    "resident", "compulsory", "qualification_duty", "enrolled", "rv", "lrv", "ill",
    "exempt_5a", "exempt_5b", "exempt_15", "exempt_partial", "waiting_school",
    "waiting_care", "care_24h", "care", "wlz_care",
)
#: Conditions that only qualify others (care beside school): they never make a segment
#: worth keeping on their own (see :data:`INTERESTING`) nor a child a candidate.
CONTEXT_CONDITIONS = ("care", "wlz_care")
#: Conditions that are "ordinary": a child with only these is no thuiszitter
#: under the built-in definitions.
ORDINARY = ("resident", "compulsory", "qualification_duty", "enrolled")
CONDITIONS = tuple(BASE_CONDITIONS)
FAR_FUTURE = dt.date(2999, 12, 31)

_ABSENCE_KIND = {"rv_16h": "rv", "lrv": "lrv", "ill": "ill"}
_WAITING_SCHOOL = ("so_place", "vso_place", "regular_place")


class CountingError(ValueError):
    """Bad counting input: a date outside the register, an unknown option, ..."""


def derive_conditions(lf: pl.LazyFrame | pl.DataFrame) -> pl.LazyFrame:
    """Add the derived boolean conditions from the raw ``c_*`` columns.

    ``lapsed_exemption`` needs the previous segment; it is derived in
    :func:`_add_runs` and must already be present (or is set False here).
    """
    c = {n: pl.col(f"c_{n}") for n in CONDITIONS}
    lf = lf.lazy()
    if "c_lapsed_exemption" not in lf.collect_schema().names():
        lf = lf.with_columns(c_lapsed_exemption=pl.lit(False))
    lf = lf.with_columns(
        c_duty=c["compulsory"] | c["qualification_duty"],
        c_exempt=c["exempt_5a"] | c["exempt_5b"] | c["exempt_15"],
        c_waiting=c["waiting_school"] | c["waiting_care"],
    )
    lf = lf.with_columns(
        c_not_enrolled=c["resident"] & c["duty"] & ~c["enrolled"] & ~c["exempt"],
    )
    return lf.with_columns(
        c_care_24h_no_education=c["not_enrolled"] & c["care_24h"],
    )


def _finish_derived(lf: pl.LazyFrame) -> pl.LazyFrame:
    c = {n: pl.col(f"c_{n}") for n in CONDITIONS}
    return lf.with_columns(
        c_av=c["not_enrolled"] & ~c["lapsed_exemption"] & ~c["care_24h"],
    )


def ordinary_can_count(definitions: Sequence[Definition]) -> bool:
    """True if some category holds for a child with only ordinary conditions.

    Durations of ordinary conditions (e.g. ``enrolled_days``) are not enumerated:
    a definition using one keeps every child.
    """
    ordinary_like = {*ORDINARY, "duty"}
    for d in definitions:
        for c in d.categories:
            if any(a.cond in ordinary_like for a in durations_in(c.node)):
                return True
    rows = []
    for combo in itertools.product([False, True], repeat=len(ORDINARY)):
        row = {f"c_{n}": False for n in RAW_CONDITIONS}
        row.update({f"c_{n}": v for n, v in zip(ORDINARY, combo, strict=True)})
        rows.append(row)
    t = dt.date(2020, 1, 1)
    lf = _finish_derived(derive_conditions(pl.DataFrame(rows)))
    # children not enrolled on a day under duty are candidates anyway (duty gaps)
    lf = lf.filter(~(pl.col("c_duty") & ~pl.col("c_enrolled")))
    lf = lf.with_columns(t=pl.lit(t))
    lf = lf.with_columns(
        [pl.when(pl.col(f"c_{n}")).then(pl.lit(dt.date(1990, 1, 1))).otherwise(None)
         .alias(f"s_{n}") for n in CONDITIONS]
    )
    from ozamonitor.counting.definition import compile_node

    exprs = [compile_node(c.node).alias(f"{d.name}.{c.name}")
             for d in definitions for c in d.categories]
    out = lf.select(exprs).collect()
    return bool(out.select(pl.any_horizontal(pl.all()).any()).item())


@dataclass
class Timeline:
    """Segments of constant base conditions for the candidate children."""

    segments: pl.DataFrame
    persons: pl.DataFrame
    range_start: dt.date
    extraction_date: dt.date
    all_children: bool

    # ------------------------------------------------------------------ build
    @classmethod
    def build(
        cls, register: Register, definitions: Sequence[Definition] | None = None
    ) -> Timeline:
        """Compute the segments from a register (all children if needed)."""
        ext = register.extraction_date
        all_children = ordinary_can_count(definitions) if definitions else True
        persons = register.read("persons").with_columns(pid=_pid(pl.col("person_id")))
        if persons["pid"].n_unique() != persons.height:  # pragma: no cover - 1e-6 at 5M
            raise CountingError("person_id hash collision; please report this register")
        # the calendar expressions run once per distinct birth date
        periods = with_compulsory_periods(persons.select("birth_date").unique()).collect()
        persons = persons.join(periods, on="birth_date", how="left")
        cap = pl.lit(ext)

        def spells(lf: pl.LazyFrame, kind: str, start: str = "start",
                   end: str = "end") -> pl.LazyFrame:
            return (
                lf.select(
                    _pid(pl.col("person_id")).alias("pid"),
                    pl.lit(kind).alias("kind"),
                    pl.col(start).alias("start"),
                    pl.min_horizontal(pl.col(end).fill_null(cap), cap).alias("end"),
                )
                .filter(pl.col("start") <= pl.col("end"))
            )

        enr = register.scan("enrolments")
        sq = (
            enr.filter(pl.col("end_reason") == "start_qualification")
            .group_by("person_id").agg(sq=pl.col("end").min())
            .select(_pid(pl.col("person_id")).alias("pid"), "sq")
        )
        duty = persons.lazy().join(sq, on="pid", how="left")
        compulsory = duty.select(
            "pid", pl.lit("compulsory").alias("kind"),
            pl.col("compulsory_start").alias("start"),
            pl.min_horizontal("compulsory_end", cap).alias("end"),
        )
        qual_end = pl.min_horizontal(
            pl.col("qualification_end"), pl.col("sq").fill_null(pl.col("qualification_end")), cap
        )
        qualification = duty.select(
            "pid", pl.lit("qualification_duty").alias("kind"),
            pl.col("compulsory_end").dt.offset_by("1d").alias("start"),
            qual_end.alias("end"),
        )
        absence = register.scan("absence_reports").with_columns(
            kind=pl.col("kind").replace_strict(_ABSENCE_KIND, default=None)
        ).filter(pl.col("kind").is_not_null())
        exemptions = register.scan("exemptions").with_columns(
            kind=pl.lit("exempt_") + pl.col("article"))
        waiting = register.scan("waiting_lists").with_columns(
            kind=pl.when(pl.col("waiting_for").is_in(_WAITING_SCHOOL))
            .then(pl.lit("waiting_school")).otherwise(pl.lit("waiting_care")))
        care = register.scan("care_spells").filter(pl.col("kind") == "residential_24h")

        def kinded(lf: pl.LazyFrame, start: str = "start", end: str = "end") -> pl.LazyFrame:
            return (
                lf.select(
                    _pid(pl.col("person_id")).alias("pid"), "kind",
                    pl.col(start).alias("start"),
                    pl.min_horizontal(pl.col(end).fill_null(cap), cap).alias("end"),
                )
                .filter(pl.col("start") <= pl.col("end"))
            )

        special = pl.concat([
            kinded(absence, "absence_start", "absence_end"),
            kinded(exemptions),
            kinded(waiting),
            spells(care, "care_24h"),
        ]).collect()
        enrol_sp = spells(enr, "enrolled").collect()
        resid_sp = spells(register.scan("residences"), "resident").collect()
        duty_sp = pl.concat([compulsory, qualification]).filter(
            pl.col("start") <= pl.col("end")).collect()

        if all_children:
            cand = None
        else:
            cand = pl.concat([
                special.select("pid"),
                _duty_gaps(enrol_sp, duty_sp.group_by("pid").agg(
                    ds=pl.col("start").min(), de=pl.col("end").max())),
            ]).unique()
        cs = register.scan("care_spells")
        care_sp = pl.concat([
            spells(cs.filter(pl.col("kind") != "residential_24h"), "care"),
            spells(cs.filter(pl.col("law") == "wlz"), "wlz_care"),
        ]).collect()
        all_sp = pl.concat([enrol_sp, resid_sp, duty_sp, special, care_sp])
        if cand is not None:
            all_sp = all_sp.join(cand, on="pid", how="semi")
        segments = _segments(all_sp)
        if not all_children:
            # run starts are known; drop segments on which no definition can hold
            segments = segments.filter(_interesting())
        first = enr.select(pl.col("start").min()).collect().item()
        range_start = first if first is not None and first <= ext else ext
        return cls(segments=segments, persons=persons, range_start=range_start,
                   extraction_date=ext, all_children=all_children)

    # ----------------------------------------------------------------- points
    def check_date(self, d: dt.date) -> None:
        """Raise :class:`CountingError` if ``d`` lies outside the register's range."""
        if not (self.range_start <= d <= self.extraction_date):
            raise CountingError(
                f"reference date {d.isoformat()} lies outside the register's range "
                f"{self.range_start.isoformat()} .. {self.extraction_date.isoformat()} "
                "(extraction date)"
            )

    def year_window(self, school_year: str | int) -> tuple[dt.date, dt.date]:
        """First and last day of a school year, capped at the extraction date.

        A malformed school year (e.g. ``"2023"`` or ``"2023-2025"``) raises
        :class:`CountingError`.
        """
        if isinstance(school_year, bool) or not isinstance(school_year, str | int):
            raise CountingError(
                f"invalid school year {school_year!r}; expected e.g. '2022-2023'")
        try:
            y0, y1 = school_year_bounds(school_year)
        except ValueError as e:  # parse error, or a year outside the calendar
            msg = str(e) if "school year" in str(e) else (
                f"invalid school year {school_year!r}: {e}")
            raise CountingError(msg) from None
        if y0 > self.extraction_date or y1 < self.range_start:
            label = school_year if isinstance(school_year, str) else school_year_label(
                school_year)
            raise CountingError(
                f"school year {label} lies outside the register's range "
                f"{self.range_start.isoformat()} .. {self.extraction_date.isoformat()}"
            )
        return max(y0, self.range_start), min(y1, self.extraction_date)

    def points_at(self, dates: Iterable[dt.date], *, check: bool = True) -> pl.DataFrame:
        """One point per (child, date): the conditions on that date (stock)."""
        out = []
        for d in dates:
            if check:
                self.check_date(d)
            out.append(
                self.segments.lazy()
                .filter((pl.col("start") <= d) & (pl.col("end") >= d))
                .with_columns(t=pl.lit(d), period=pl.lit(d.isoformat()))
            )
        if not out:
            return self.segments.clear().with_columns(t=pl.lit(None, pl.Date),
                                                      period=pl.lit(None, pl.String))
        return pl.concat(out).collect()

    def points_in_year(
        self, school_year: str | int, definitions: Sequence[Definition]
    ) -> pl.DataFrame:
        """Points at which conditions or thresholds can change within a school year (flow)."""
        y0, y1 = self.year_window(school_year)
        label = school_year if isinstance(school_year, str) else school_year_label(school_year)
        seg = self.segments.lazy().filter((pl.col("start") <= y1) & (pl.col("end") >= y0))
        lo = pl.max_horizontal(pl.col("start"), pl.lit(y0))
        hi = pl.min_horizontal(pl.col("end"), pl.lit(y1))
        parts = [seg.with_columns(t=lo)]
        atoms: set[Duration] = {
            a for d in definitions for c in d.categories for a in durations_in(c.node)
        }
        from ozamonitor.counting.definition import crossing_expr

        for a in sorted(atoms, key=repr):
            cross = crossing_expr(a)
            parts.append(
                seg.filter(pl.col(f"c_{a.cond}"))
                .with_columns(t=cross)
                .filter((pl.col("t") > lo) & (pl.col("t") <= hi))
            )
        return pl.concat(parts).with_columns(period=pl.lit(label)).collect()


#: Conditions that make a segment worth evaluating when definitions are prunable.
INTERESTING = (*(n for n in RAW_CONDITIONS if n not in ORDINARY and n not in CONTEXT_CONDITIONS),
               "not_enrolled")


def _interesting() -> pl.Expr:
    """A segment where some non-ordinary condition holds, or a duty day without school.

    :func:`ordinary_can_count` checked that no definition holds elsewhere.
    """
    return pl.any_horizontal([pl.col(f"c_{n}") for n in INTERESTING]) | (
        pl.col("c_duty") & ~pl.col("c_enrolled"))


def _sort_pid_date(frame: pl.DataFrame | pl.LazyFrame, date: str) -> pl.LazyFrame:
    """Sort by (pid, date) through one integer key (several times faster than two keys).

    key = dense rank of pid * 2**20 + days since 1970 (+ 2**19), exact for dates
    1970 +- 1400 years.
    """
    key = (pl.col("pid").rank("dense").cast(pl.Int64) * (1 << 20)
           + pl.col(date).cast(pl.Int32).cast(pl.Int64) + (1 << 19))
    return frame.lazy().with_columns(__key=key).sort("__key").drop("__key")


def _pid(person_id: pl.Expr) -> pl.Expr:
    """Integer key of a person: a 64-bit hash of the pseudonym (checked for collisions)."""
    return person_id.hash(seed=20231001)


def _group_key(frame_sorted_by_pid: pl.Expr) -> pl.Expr:
    """0, 1, 2, ... per run of equal pids in a frame sorted by pid."""
    return (frame_sorted_by_pid != frame_sorted_by_pid.shift(1)).fill_null(True).cum_sum()


def _duty_gaps(enrol: pl.DataFrame, duty: pl.DataFrame) -> pl.DataFrame:
    """Children with a day under duty not covered by any enrolment (superset test).

    ``duty`` holds one row per child: ``pid, ds, de`` (first and last day under duty).
    """
    # running maximum of the end date per child without a window: groups are
    # numbered in sort order, so (group, end) combined in one integer only grows
    e = _sort_pid_date(enrol.select("pid", "start", "end"), "start")
    g = _group_key(pl.col("pid")).cast(pl.Int64)
    days = pl.col("end").cast(pl.Int32).cast(pl.Int64) + 1_000_000
    run_end = (pl.col("__run") - 1_000_000).cast(pl.Int32).cast(pl.Date)
    same_prev = pl.col("__g") == pl.col("__g").shift(1)
    e = e.with_columns(__g=g).with_columns(
        __run=(pl.col("__g") * 10_000_000 + days).cum_max() - pl.col("__g") * 10_000_000
    ).with_columns(
        prev_end=pl.when(same_prev).then(run_end.shift(1)).otherwise(None),
        first=pl.when(same_prev).then(None).otherwise(pl.col("start")).forward_fill(),
        last_row=(pl.col("__g") != pl.col("__g").shift(-1)).fill_null(True),
        last=run_end,
    ).join(duty.lazy(), on="pid", how="inner")
    internal = e.filter(
        pl.col("prev_end").is_not_null()
        & (pl.col("start") > pl.col("prev_end").dt.offset_by("1d"))
        & (pl.col("start") > pl.col("ds")) & (pl.col("prev_end") < pl.col("de"))
    ).select("pid")
    ends = e.filter(
        pl.col("last_row") & ((pl.col("first") > pl.col("ds")) | (pl.col("last") < pl.col("de")))
    ).select("pid")
    none = duty.lazy().join(enrol.lazy().select("pid"), on="pid", how="anti").select("pid")
    return pl.concat([internal, ends, none]).unique().collect()


def _segments(spells: pl.DataFrame) -> pl.DataFrame:
    """Cumulative +1/-1 events -> segments with raw, derived conditions and run starts."""
    kinds = list(RAW_CONDITIONS)
    ev = pl.concat([
        spells.lazy().select("pid", pl.col("start").alias("date"), "kind",
                             pl.lit(1, pl.Int32).alias("delta")),
        spells.lazy().select("pid", pl.col("end").dt.offset_by("1d").alias("date"), "kind",
                             pl.lit(-1, pl.Int32).alias("delta")),
    ])
    # Sort the events once; a running sum per kind over the sorted events is each
    # child's count of open spells (every child's +1/-1 events balance, so a global
    # running sum restarts at 0 for the next child); the last event of each
    # (child, date) gives the state from that date on.
    kind = pl.col("kind")
    wide = (
        _sort_pid_date(ev, "date")
        .with_columns(
            [(pl.when(kind == k).then(pl.col("delta")).otherwise(0).cum_sum() > 0)
             .alias(f"c_{k}") for k in kinds]
        )
        .filter((pl.col("pid") != pl.col("pid").shift(-1))
                | (pl.col("date") != pl.col("date").shift(-1))
                | pl.col("pid").shift(-1).is_null())
        .drop("kind", "delta")
        .rename({"date": "start"})
        .with_columns(
            end=pl.when(pl.col("pid").shift(-1) == pl.col("pid"))
            .then(pl.col("start").shift(-1).dt.offset_by("-1d"))
            .otherwise(pl.lit(FAR_FUTURE))
        )
    )
    lf = derive_conditions(wide)
    lf = _add_runs(lf, ["not_enrolled", "exempt"])
    same = pl.col("pid").shift(1) == pl.col("pid")
    prev_exempt = (pl.col("c_exempt").shift(1) & same).fill_null(False)
    new_ne = pl.col("c_not_enrolled") & (pl.col("s_not_enrolled") == pl.col("start"))
    lf = lf.with_columns(
        c_lapsed_exemption=pl.when(new_ne).then(prev_exempt).otherwise(None)
        .forward_fill().fill_null(False) & pl.col("c_not_enrolled")
    )
    lf = _finish_derived(lf)
    rest = [n for n in CONDITIONS if n not in ("not_enrolled", "exempt")]
    lf = _add_runs(lf, rest)
    cols = ["pid", "start", "end", *[f"c_{n}" for n in CONDITIONS],
            *[f"s_{n}" for n in CONDITIONS]]
    return lf.select(cols).collect()


def _add_runs(lf: pl.LazyFrame, names: Sequence[str]) -> pl.LazyFrame:
    """``s_<name>``: first day of the run of consecutive segments where the condition holds.

    The frame must be sorted by (pid, start) with contiguous segments per child.
    """
    same = pl.col("pid").shift(1) == pl.col("pid")
    exprs = []
    for n in names:
        c = pl.col(f"c_{n}")
        new_run = c & ~(c.shift(1) & same).fill_null(False)
        exprs.append(
            pl.when(new_run).then(pl.col("start")).otherwise(None).forward_fill()
            .alias(f"s_{n}")
        )
    lf = lf.with_columns(exprs)
    return lf.with_columns(
        [pl.when(pl.col(f"c_{n}")).then(pl.col(f"s_{n}")).otherwise(None).alias(f"s_{n}")
         for n in names]
    )
