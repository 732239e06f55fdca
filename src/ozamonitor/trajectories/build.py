"""Build every child's education-care trajectory from the register.

Algorithm (vectorised, by chunks of persons):

1. Every register spell becomes a *layer spell* ``(person, layer, start, end)``
   with integer day numbers and an exclusive end (see
   :data:`~ozamonitor.trajectories.states.LAYERS`): residences, compulsory
   education and qualification duty (from the birth date,
   :mod:`ozamonitor.register.calendar`; a start qualification ends the
   qualification duty), enrolments by sector, OZA participation, exemptions by
   article, absence reports (``lrv``, ``ill``, ``rv_16h``), waiting lists, 24-hour
   care and ``alive`` (birth to death, cut at the extraction date). Open spells
   (null end) run to the end of the window.
2. Per person, all spell boundaries cut the window into elementary segments on
   which every layer is constant. A layer bitmask per segment is computed with
   difference arrays (``bincount`` + ``cumsum``) and mapped to a state with a
   lookup table evaluated once from the precedence rules.
3. Segments are mapped onto periods. With ``rule="majority"`` (default) a
   period gets the state that holds on most of its days (ties: the state with
   the higher precedence); with ``rule="reference"`` the state on the period's
   reference day (first, middle or last day, or a day offset).

Memory is bounded by ``chunk_size`` persons at a time; the result is one
``int16`` matrix (persons x periods) in a
:class:`~ozamonitor.sequences.seqdata.SequenceData`, e.g. 4.5 million x 144
months = 1.3 GB.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.register.calendar import (
    FIRST_SCHOOL_YEAR,
    LAST_SCHOOL_YEAR,
    school_year_bounds,
    with_compulsory_periods,
)
from ozamonitor.register.store import Register
from ozamonitor.sequences.seqdata import SequenceData
from ozamonitor.trajectories.states import (
    DEFAULT_CONFIG,
    EXEMPTION_LAYER,
    LAYERS,
    SECTOR_LAYER,
    WAITING_LAYER,
    TrajectoryConfig,
)

PeriodKind = Literal["month", "week", "quarter", "year"]
Rule = Literal["majority", "reference"]
PERIODS: tuple[str, ...] = ("month", "week", "quarter", "year")
DEFAULT_START = school_year_bounds(FIRST_SCHOOL_YEAR)[0]
DEFAULT_END = school_year_bounds(LAST_SCHOOL_YEAR)[1]
_LAYER_ID = {name: i for i, name in enumerate(LAYERS)}
_EPOCH = np.datetime64("1970-01-01", "D")


# ---------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PeriodGrid:
    """Consecutive periods: ``bounds[t]`` .. ``bounds[t+1]`` (exclusive), day numbers."""

    kind: str
    bounds: np.ndarray  # int64 days since 1970-01-01, length T + 1
    labels: list[str]

    @property
    def starts(self) -> np.ndarray:
        """First day of every period as ``datetime64[D]``."""
        return _EPOCH + self.bounds[:-1].astype("timedelta64[D]")

    def __len__(self) -> int:
        return len(self.labels)

    def reference_days(self, reference: str | int = "middle") -> np.ndarray:
        """Reference day of every period (``first``, ``middle``, ``last`` or offset)."""
        lo, hi = self.bounds[:-1], self.bounds[1:]
        if reference == "first":
            return lo.copy()
        if reference == "last":
            return hi - 1
        if reference == "middle":
            return lo + (hi - lo - 1) // 2
        if isinstance(reference, int) or str(reference).lstrip("-").isdigit():
            return np.minimum(lo + int(reference), hi - 1)
        raise ConfigurationError(f"reference day must be first, middle, last or a day offset, "
                         f"got {reference!r}")


def parse_month(s: str | dt.date, *, end: bool = False) -> dt.date:
    """``"2014-08"`` or a date -> first day (or, with ``end``, last day) of that month."""
    if isinstance(s, dt.date):
        d = s
    else:
        try:
            parts = [int(p) for p in str(s).strip().split("-")]
            d = dt.date(parts[0], parts[1], parts[2] if len(parts) > 2 else 1)
        except (ValueError, IndexError):
            raise ConfigurationError(
                f"invalid month {s!r}; expected YYYY-MM or YYYY-MM-DD") from None
        if len(parts) > 2:
            return d
    if not end:
        return d.replace(day=1)
    nxt = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def period_grid(kind: str, start: dt.date, end: dt.date) -> PeriodGrid:
    """Periods of ``kind`` covering ``start`` .. ``end`` (inclusive).

    Months and calendar quarters start on their first day; weeks are ISO weeks
    (Monday); years are school years (1 August - 31 July).
    """
    if end < start:
        raise ConfigurationError(f"period window ends ({end}) before it starts ({start})")
    starts: list[dt.date] = []
    labels: list[str] = []
    if kind == "month":
        d = start.replace(day=1)
        while d <= end:
            starts.append(d)
            labels.append(f"{d.year}-{d.month:02d}")
            d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    elif kind == "quarter":
        d = dt.date(start.year, 3 * ((start.month - 1) // 3) + 1, 1)
        while d <= end:
            starts.append(d)
            labels.append(f"{d.year}-Q{(d.month - 1) // 3 + 1}")
            m = d.month + 3
            d = dt.date(d.year + (m > 12), (m - 1) % 12 + 1, 1)
    elif kind == "week":
        d = start - dt.timedelta(days=start.weekday())
        while d <= end:
            iso = d.isocalendar()
            starts.append(d)
            labels.append(f"{iso.year}-W{iso.week:02d}")
            d += dt.timedelta(days=7)
    elif kind == "year":
        y = start.year if start.month >= 8 else start.year - 1
        d = dt.date(y, 8, 1)
        while d <= end:
            starts.append(d)
            labels.append(f"{d.year}-{d.year + 1}")
            d = dt.date(d.year + 1, 8, 1)
    else:
        raise ConfigurationError(f"unknown period {kind!r}; choose one of {', '.join(PERIODS)}")
    # the end of the last period
    if kind == "month":
        last_end = dt.date(starts[-1].year + (starts[-1].month == 12),
                           starts[-1].month % 12 + 1, 1)
    elif kind == "quarter":
        m = starts[-1].month + 3
        last_end = dt.date(starts[-1].year + (m > 12), (m - 1) % 12 + 1, 1)
    elif kind == "week":
        last_end = starts[-1] + dt.timedelta(days=7)
    else:
        last_end = dt.date(starts[-1].year + 1, 8, 1)
    bounds = np.array([_days(d) for d in starts] + [_days(last_end)], dtype=np.int64)
    return PeriodGrid(kind, bounds, labels)


# ---------------------------------------------------------------------------
# Layer spells from the register
# ---------------------------------------------------------------------------

def _d(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Date).cast(pl.Int64)


def layer_spells(reg: Register, persons: pl.DataFrame, far_end: int) -> pl.DataFrame:
    """All layer spells: ``pidx`` (row of ``persons``), ``layer``, ``s``, ``e`` (exclusive).

    ``persons`` must hold ``person_id`` and ``pidx``. Open spells end at ``far_end``.
    """
    ids = persons.lazy().select("person_id", "pidx")
    extraction = _days(reg.extraction_date) + 1

    def spells(name: str, start: str, end: str, layer: pl.Expr,
               where: pl.Expr | None = None) -> pl.LazyFrame:
        lf = reg.scan(name)
        if where is not None:
            lf = lf.filter(where)
        return (
            lf.join(ids, on="person_id", how="inner")
            .select(
                pl.col("pidx"),
                layer.cast(pl.UInt8).alias("layer"),
                _d(start).alias("s"),
                (_d(end) + 1).fill_null(far_end).alias("e"),
            )
        )

    def mapped(col: str, mapping: dict[str, str]) -> pl.Expr:
        return pl.col(col).replace_strict({k: _LAYER_ID[v] for k, v in mapping.items()},
                                          default=None, return_dtype=pl.UInt8)

    schools = reg.scan("schools").select("school_id", "sector")
    enrol = reg.scan("enrolments").join(schools, on="school_id", how="left")
    bad = enrol.filter(pl.col("sector").is_null()).select("person_id", "school_id").head(1)
    bad_df = bad.collect()
    if bad_df.height:
        raise InputError(
            f"{reg.file('enrolments')}: school_id {bad_df['school_id'][0]!r} "
            f"(person {bad_df['person_id'][0]!r}) is not in schools.parquet"
        )
    parts: list[pl.LazyFrame] = [
        spells("residences", "start", "end", pl.lit(_LAYER_ID["resident"])),
        (
            enrol.join(ids, on="person_id", how="inner").select(
                pl.col("pidx"),
                mapped("sector", SECTOR_LAYER).alias("layer"),
                _d("start").alias("s"),
                (_d("end") + 1).fill_null(far_end).alias("e"),
            )
        ),
        spells("oza_participation", "start", "end", pl.lit(_LAYER_ID["oza"])),
        spells("exemptions", "start", "end", mapped("article", EXEMPTION_LAYER)),
        spells("absence_reports", "absence_start", "absence_end",
               mapped("kind", {"lrv": "lrv", "ill": "ill", "rv_16h": "rv"})),
        spells("waiting_lists", "start", "end", mapped("waiting_for", WAITING_LAYER)),
        spells("care_spells", "start", "end", pl.lit(_LAYER_ID["care24"]),
               where=pl.col("kind") == "residential_24h"),
    ]
    # person-level layers: alive, compulsory, qualification
    death = (
        reg.scan("enrolments").filter(pl.col("end_reason") == "deceased")
        .group_by("person_id").agg((_d("end").min() + 1).alias("death"))
    )
    startq = (
        reg.scan("enrolments").filter(pl.col("end_reason") == "start_qualification")
        .group_by("person_id").agg((_d("end").min() + 1).alias("startq"))
    )
    p = (
        with_compulsory_periods(persons.lazy().select("person_id", "pidx", "birth_date"))
        .join(death, on="person_id", how="left")
        .join(startq, on="person_id", how="left")
        .select(
            "pidx",
            _d("birth_date").alias("birth"),
            pl.min_horizontal(pl.col("death").fill_null(extraction), pl.lit(extraction))
            .alias("dead"),
            _d("compulsory_start").alias("cs"),
            (_d("compulsory_end") + 1).alias("ce"),
            pl.min_horizontal(_d("qualification_end") + 1,
                              pl.col("startq").fill_null(far_end)).alias("qe"),
        )
    )
    parts += [
        p.select("pidx", pl.lit(_LAYER_ID["alive"], pl.UInt8).alias("layer"),
                 pl.col("birth").alias("s"), pl.col("dead").alias("e")),
        p.select("pidx", pl.lit(_LAYER_ID["compulsory"], pl.UInt8).alias("layer"),
                 pl.col("cs").alias("s"), pl.col("ce").alias("e")),
        p.select("pidx", pl.lit(_LAYER_ID["qualification"], pl.UInt8).alias("layer"),
                 pl.col("ce").alias("s"), pl.col("qe").alias("e")),
    ]
    out = pl.concat(
        [q.select(pl.col("pidx").cast(pl.Int64), pl.col("layer").cast(pl.UInt8),
                  pl.col("s").cast(pl.Int64), pl.col("e").cast(pl.Int64)) for q in parts]
    ).filter(pl.col("layer").is_not_null() & (pl.col("e") > pl.col("s")))
    return out.sort("pidx").collect()


# ---------------------------------------------------------------------------
# Core: spells -> period states (numpy)
# ---------------------------------------------------------------------------

def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """Sorted unique values (sort-based; faster than hash-based np.unique here)."""
    x = np.sort(x)
    keep = np.empty(len(x), dtype=bool)
    keep[:1] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


def states_from_spells(
    pidx: np.ndarray,
    layer: np.ndarray,
    s: np.ndarray,
    e: np.ndarray,
    n: int,
    bounds: np.ndarray,
    lut: np.ndarray,
    rank: np.ndarray,
    *,
    rule: Rule = "majority",
    ref_days: np.ndarray | None = None,
) -> np.ndarray:
    """Period states (``n`` x T int16) of ``n`` persons from their layer spells.

    Parameters
    ----------
    pidx, layer, s, e : ndarray
        The layer spells: local person rows 0..n-1, layer ids, start and end
        day numbers (end exclusive).
    n : int
        Number of persons.
    bounds : ndarray
        The T+1 period boundaries (day numbers).
    lut : ndarray
        The bitmask -> state table (:meth:`TrajectoryConfig.lookup_table`).
    rank : ndarray
        Precedence rank per state code, the missing code last
        (:meth:`TrajectoryConfig.precedence_rank`): the tie-break of ``majority``.
    rule : {"majority", "reference"}, default "majority"
    ref_days : ndarray, optional
        The reference day of every period (``rule="reference"``).

    Returns
    -------
    ndarray
        ``(n, T)`` int16 state codes, the missing code ``len(rank) - 1`` where
        no state holds.
    """
    if rule not in ("majority", "reference"):
        raise ConfigurationError(f"unknown rule {rule!r}; choose 'majority' or 'reference'")
    if rule == "reference" and ref_days is None:
        raise ConfigurationError("rule='reference' needs ref_days")
    missing = len(rank) - 1  # precedence_rank() ends with the missing code
    T = len(bounds) - 1
    a, b, p, st = _segments(pidx, layer, s, e, n, bounds, lut)
    fill = np.zeros((n, T + 1), dtype=np.int32)
    if rule == "reference":
        ta = np.searchsorted(ref_days, a, side="left")
        tb = np.searchsorted(ref_days, b, side="left")
        ok = tb > ta
        # segments are disjoint, so start cells (and end cells) are distinct
        fill[p[ok], ta[ok]] += (st[ok] + 1).astype(np.int32)
        fill[p[ok], tb[ok]] -= (st[ok] + 1).astype(np.int32)
        np.cumsum(fill, axis=1, out=fill)
        out = fill[:, :T] - 1
        return np.where(out < 0, missing, out).astype(np.int16)
    return _majority(a, b, p, st, fill, bounds, rank, missing)


def _segments(pidx: np.ndarray, layer: np.ndarray, s: np.ndarray, e: np.ndarray, n: int,
              bounds: np.ndarray, lut: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Runs of one state per person: start day ``a``, end day ``b`` (exclusive),
    person ``p`` and state ``st`` of every run."""
    b0, bT = int(bounds[0]), int(bounds[-1])
    span = bT - b0 + 1
    s = np.clip(np.asarray(s, dtype=np.int64), b0, bT)
    e = np.clip(np.asarray(e, dtype=np.int64), b0, bT)
    keep = e > s
    pidx, layer, s, e = (np.asarray(pidx, dtype=np.int64)[keep], np.asarray(layer)[keep],
                         s[keep], e[keep])
    rows = np.arange(n, dtype=np.int64)
    keys = _sorted_unique(np.concatenate([
        pidx * span + (s - b0), pidx * span + (e - b0), rows * span, rows * span + (bT - b0),
    ]))
    nb = len(keys)
    bp_person = keys // span
    bp_day = keys % span + b0
    si = np.searchsorted(keys, pidx * span + (s - b0))
    ei = np.searchsorted(keys, pidx * span + (e - b0))
    mask = np.zeros(nb, dtype=np.uint32)
    for lid in np.flatnonzero(np.bincount(layer, minlength=1)):
        sel = layer == lid
        diff = np.bincount(si[sel], minlength=nb) - np.bincount(ei[sel], minlength=nb)
        mask |= (np.cumsum(diff) > 0).astype(np.uint32) << np.uint32(lid)
    state = lut[mask]
    # segments: breakpoint i .. i+1 when the next breakpoint is the same person's
    same_next = np.zeros(nb, dtype=bool)
    same_next[:-1] = bp_person[1:] == bp_person[:-1]
    # merge runs of equal state within a person
    first_of_run = np.ones(nb, dtype=bool)
    first_of_run[1:] = (bp_person[1:] != bp_person[:-1]) | (state[1:] != state[:-1])
    # the person's final breakpoint (bT) starts no segment; keep it as a run end
    is_last = ~same_next
    keep_bp = first_of_run | is_last
    bp_person, bp_day, state, is_last = (bp_person[keep_bp], bp_day[keep_bp],
                                         state[keep_bp], is_last[keep_bp])
    seg = ~is_last
    return (bp_day[:-1][seg[:-1]], bp_day[1:][seg[:-1]], bp_person[:-1][seg[:-1]],
            state[:-1][seg[:-1]].astype(np.int64))


def _majority(a: np.ndarray, b: np.ndarray, p: np.ndarray, st: np.ndarray, fill: np.ndarray,
              bounds: np.ndarray, rank: np.ndarray, missing: int) -> np.ndarray:
    """``rule="majority"``: whole periods of a run get its state; a period cut by
    runs gets the state of most days (ties: the higher precedence)."""
    T = len(bounds) - 1
    pa = np.searchsorted(bounds, a, side="right") - 1
    pb = np.searchsorted(bounds, b - 1, side="right") - 1
    ff = np.where(a == bounds[pa], pa, pa + 1)
    lf = np.where(b == bounds[pb + 1], pb, pb - 1)
    ok = ff <= lf
    fill[p[ok], ff[ok]] += (st[ok] + 1).astype(np.int32)
    fill[p[ok], lf[ok] + 1] -= (st[ok] + 1).astype(np.int32)
    np.cumsum(fill, axis=1, out=fill)
    out = fill[:, :T] - 1
    # partial periods: at most two per segment (its first and its last period)
    part_a = a != bounds[pa]
    part_a |= b < bounds[pa + 1]
    part_b = (pb != pa) & (b != bounds[pb + 1])
    cell = np.concatenate([p[part_a] * T + pa[part_a], p[part_b] * T + pb[part_b]])
    days = np.concatenate([np.minimum(b, bounds[pa + 1])[part_a] - a[part_a],
                           b[part_b] - bounds[pb][part_b]])
    cst = np.concatenate([st[part_a], st[part_b]])
    if len(cell):
        agg = (
            pl.DataFrame({"cell": cell, "st": cst, "days": days})
            .group_by("cell", "st").agg(pl.col("days").sum())
            .with_columns(rank=pl.col("st").replace_strict(
                list(range(len(rank))), rank.astype(np.int64).tolist(), return_dtype=pl.Int64))
            .sort(["cell", "days", "rank"], descending=[False, True, False])
            .unique("cell", keep="first", maintain_order=True)
        )
        flat = out.reshape(-1)
        flat[agg["cell"].to_numpy()] = agg["st"].to_numpy()
    return np.where(out < 0, missing, out).astype(np.int16)


# ---------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------

def build_trajectories(
    register: Register | str,
    *,
    period: PeriodKind = "month",
    start: str | dt.date = DEFAULT_START,
    end: str | dt.date = DEFAULT_END,
    config: TrajectoryConfig = DEFAULT_CONFIG,
    rule: Rule = "majority",
    reference: str | int = "middle",
    person_ids: Sequence[str] | pl.Series | None = None,
    chunk_size: int = 100_000,
    on_chunk: Callable[[int, int], None] | None = None,
) -> SequenceData:
    """One state per child per period, in calendar time.

    Periods after the extraction date, before birth or after death are missing.

    Parameters
    ----------
    register : Register or str
        A :class:`Register` or its folder.
    period : {"month", "week", "quarter", "year"}, default "month"
        ``year`` is the school year.
    start, end : str or date, default 2014-08-01, 2026-07-31
        First and last month (``"2014-08"``, ``"2026-07"``) or dates of the window.
    config : TrajectoryConfig, default DEFAULT_CONFIG
        Alphabet and precedence rules (:mod:`ozamonitor.trajectories.states`).
    rule : {"majority", "reference"}, default "majority"
        ``majority``: the state holding on most days of the period;
        ``reference``: the state on the reference day.
    reference : str or int, default "middle"
        The reference day: ``first``, ``middle``, ``last`` or a day offset.
    person_ids : sequence of str, optional
        Restrict to these persons (e.g. a sample); default all persons.
    chunk_size : int, default 100000
        Persons processed at a time (bounds memory).
    on_chunk : callable, optional
        Progress callback ``(done, total)``.

    Returns
    -------
    SequenceData
        ``(persons, periods)`` int16 codes with ids, period labels, birth dates,
        period starts and provenance in ``meta``.
    """
    reg = Register.open(register)
    d0 = parse_month(start) if not isinstance(start, dt.date) else start
    d1 = parse_month(end, end=True) if not isinstance(end, dt.date) else end
    grid = period_grid(period, d0, d1)
    persons = reg.scan("persons").select("person_id", "birth_date")
    if person_ids is not None:
        wanted = pl.DataFrame({"person_id": pl.Series(list(person_ids), dtype=pl.String)})
        persons = persons.join(wanted.lazy(), on="person_id", how="semi")
    pdf = (persons.sort("person_id").collect()
           .with_row_index("pidx").with_columns(pl.col("pidx").cast(pl.Int64)))
    n = pdf.height
    far_end = int(grid.bounds[-1]) + 1
    sp = layer_spells(reg, pdf, far_end)
    lut = config.lookup_table()
    rank = config.precedence_rank()
    ref = grid.reference_days(reference) if rule == "reference" else None
    codes = np.empty((n, len(grid)), dtype=np.int16)
    P = sp["pidx"].to_numpy()
    L = sp["layer"].to_numpy()
    S = sp["s"].to_numpy()
    E = sp["e"].to_numpy()
    cuts = np.searchsorted(P, np.arange(0, n + chunk_size, chunk_size))
    for k, lo in enumerate(range(0, max(n, 1), chunk_size)):
        hi = min(lo + chunk_size, n)
        if hi <= lo:
            break
        i0, i1 = cuts[k], cuts[k + 1]
        codes[lo:hi] = states_from_spells(
            P[i0:i1] - lo, L[i0:i1], S[i0:i1], E[i0:i1], hi - lo, grid.bounds, lut, rank,
            rule=rule, ref_days=ref,
        )
        if on_chunk is not None:
            on_chunk(hi, n)
    return SequenceData(
        codes,
        config.alphabet,
        ids=pdf["person_id"].to_numpy().astype(object),
        columns=grid.labels,
        period=period,
        birth_dates=pdf["birth_date"].to_numpy().astype("datetime64[D]"),
        period_starts=grid.starts,
        meta={"rule": rule, "reference": str(reference), "start": d0.isoformat(),
              "end": d1.isoformat(), "extraction_date": reg.extraction_date.isoformat(),
              "register": str(reg.path)},
    )
