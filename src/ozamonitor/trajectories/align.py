"""Alignment of calendar sequences: calendar time, age, or time since an event.

* **calendar** (default): column ``t`` is calendar period ``t``
  (:func:`align_calendar` selects a window of columns);
* **age**: column ``k`` is the period that lies ``k`` periods after the period
  of birth (for months: months of age, age 0 = the month of birth)
  (:func:`align_age`);
* **event**: column ``k`` is the period ``k`` periods after the period of a
  person's event, e.g. the first OZA start, within a window such as
  ``-24..+24`` (:func:`align_event`, :func:`event_dates`).

Positions that fall outside the observed calendar window are *missing*. How
missing positions are kept mirrors TraMineR's ``seqdef(left=, gaps=, right=)``
(:func:`handle_missing`): ``"NA"`` keeps them as missing, ``"DEL"`` deletes
them (trailing: the sequence becomes shorter, positions become void; leading:
the sequence is shifted left, as TraMineR does).
:meth:`~ozamonitor.sequences.seqdata.SequenceData.with_missing_state` turns the
remaining missing positions into an explicit ``missing`` state.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import polars as pl

from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.register.store import Register
from ozamonitor.sequences.alphabet import VOID_CODE
from ozamonitor.sequences.seqdata import SequenceData, drop_void

MissingMode = Literal["NA", "DEL"]
#: Events :func:`event_dates` knows (``--align event:<name>``).
EVENTS = ("oza", "exemption", "lrv", "special", "waiting")
_NO_EVENT = np.iinfo(np.int64).min


def align_calendar(seq: SequenceData, start: str | None = None, end: str | None = None
                   ) -> SequenceData:
    """Keep calendar columns ``start`` .. ``end`` (labels, inclusive)."""
    cols = seq.column_labels()
    for label in (start, end):
        if label and label not in cols:
            raise ConfigurationError(f"{label!r} is not a period of these sequences "
                                     f"({cols[0]} .. {cols[-1]})")
    i0 = cols.index(start) if start else 0
    i1 = cols.index(end) + 1 if end else len(cols)
    if i1 <= i0:
        raise ConfigurationError(f"empty calendar window {start} .. {end}")
    return seq.replace(
        codes=drop_void(seq.codes[:, i0:i1]), columns=cols[i0:i1],
        period_starts=None if seq.period_starts is None else seq.period_starts[i0:i1],
        meta={**seq.meta, "align": "calendar"},
    )


def _period_index(seq: SequenceData, dates: np.ndarray) -> np.ndarray:
    """Index of the calendar column containing each date (may lie outside 0..T-1)."""
    if seq.period_starts is None:
        raise InputError("alignment by age or event needs calendar sequences "
                         "(built by build_trajectories)")
    starts = seq.period_starts.astype("datetime64[D]").astype(np.int64)
    d = dates.astype("datetime64[D]").astype(np.int64)
    idx = np.searchsorted(starts, d, side="right") - 1
    if seq.period == "month":
        # exact month arithmetic, also before the first / after the last column
        dd = dates.astype("datetime64[M]").astype(np.int64)
        s0 = seq.period_starts[0].astype("datetime64[M]").astype(np.int64)
        idx = dd - s0
    elif len(starts) > 1:
        step = int(np.median(np.diff(starts)))
        before = d < starts[0]
        idx = np.where(before, -((starts[0] - d + step - 1) // step), idx)
    return idx.astype(np.int64)


def shift(seq: SequenceData, zero: np.ndarray, lo: int, hi: int, labels: list[str],
          period: str, *, chunk: int = 500_000) -> SequenceData:
    """Re-index rows: new column ``k`` = old column ``zero[i] + lo + k`` (``lo..hi``).

    Rows with ``zero == _NO_EVENT`` are dropped; positions outside the old
    columns are missing.
    """
    keep = zero != _NO_EVENT
    sub = seq[np.nonzero(keep)[0]]
    z = zero[keep]
    width = hi - lo + 1
    out = np.full((sub.n_sequences, width), seq.missing_code, dtype=np.int16)
    T = seq.max_length
    ks = np.arange(lo, hi + 1, dtype=np.int64)
    for r0 in range(0, sub.n_sequences, chunk):
        r1 = min(r0 + chunk, sub.n_sequences)
        idx = z[r0:r1, None] + ks[None, :]
        ok = (idx >= 0) & (idx < T)
        rows = np.broadcast_to(np.arange(r0, r1)[:, None], idx.shape)
        block = out[r0:r1]
        block[ok] = sub.codes[rows[ok], idx[ok]]
    # void positions copied from a shorter sequence are deleted (void only ends a sequence)
    return sub.replace(codes=drop_void(out), columns=labels, period=period, period_starts=None)


def align_age(seq: SequenceData, ages: tuple[int, int] = (0, 18 * 12 - 1)) -> SequenceData:
    """Align on age: column ``k`` = ``k`` periods after the period of birth.

    ``ages`` is the inclusive range of ages in periods (months for monthly
    sequences: ``(48, 215)`` is age 4 to 17 years 11 months).
    """
    if seq.birth_dates is None:
        raise InputError("age alignment needs birth dates (sequences from build_trajectories)")
    lo, hi = ages
    if hi < lo:
        raise ConfigurationError(f"empty age range {ages}")
    zero = _period_index(seq, seq.birth_dates)
    unit = "m" if seq.period == "month" else seq.period[0]
    labels = [f"age{k}{unit}" for k in range(lo, hi + 1)]
    out = shift(seq, zero, lo, hi, labels, f"age_{seq.period}")
    out.meta["align"] = f"age:{lo}..{hi}"
    return out


def event_dates(register: Register | str, event: str = "oza") -> pl.DataFrame:
    """First date of an event per person: ``person_id``, ``date``.

    Events: ``oza`` (first OZA start), ``exemption`` (first exemption),
    ``lrv`` (first long-term relative absence), ``special`` (first enrolment in
    sbo/so/vso), ``waiting`` (first waiting-list spell).
    """
    reg = Register.open(register)
    if event == "oza":
        lf = reg.scan("oza_participation").select("person_id", date="start")
    elif event == "exemption":
        lf = reg.scan("exemptions").select("person_id", date="start")
    elif event == "lrv":
        lf = (reg.scan("absence_reports").filter(pl.col("kind") == "lrv")
              .select("person_id", date="absence_start"))
    elif event == "waiting":
        lf = reg.scan("waiting_lists").select("person_id", date="start")
    elif event == "special":
        sch = reg.scan("schools").filter(pl.col("sector").is_in(["sbo", "so", "vso"]))
        lf = reg.scan("enrolments").join(sch.select("school_id"), on="school_id",
                                         how="semi").select("person_id", date="start")
    else:
        raise ConfigurationError(f"unknown event {event!r}; choose {', '.join(EVENTS)}")
    return lf.group_by("person_id").agg(pl.col("date").min()).sort("person_id").collect()


def align_event(seq: SequenceData, events: pl.DataFrame | Any,
                window: tuple[int, int] = (-24, 24), *, id_column: str = "person_id",
                date_column: str = "date") -> SequenceData:
    """Align on an event: column ``k`` = ``k`` periods after the event's period.

    ``events`` (polars or pandas) holds one date per person; persons without an
    event are dropped. Labels are ``t-24`` .. ``t+0`` .. ``t+24``.
    """
    if not isinstance(events, pl.DataFrame):
        events = pl.from_pandas(events)
    missing = {id_column, date_column} - set(events.columns)
    if missing:
        raise InputError(f"events frame lacks column(s) {', '.join(sorted(missing))}")
    if events[id_column].is_duplicated().any():
        raise InputError(f"events frame has more than one {date_column} per {id_column}")
    lo, hi = window
    if hi < lo:
        raise ConfigurationError(f"empty event window {window}")
    ev = dict(zip(events[id_column].cast(pl.String).to_list(),
                  events[date_column].cast(pl.Date).to_list(), strict=True))
    dates = np.array([ev.get(i) for i in seq.ids.tolist()], dtype="datetime64[D]")
    has = ~np.isnat(dates)
    zero = np.full(seq.n_sequences, _NO_EVENT, dtype=np.int64)
    if has.any():
        zero[has] = _period_index(seq, dates[has])
    labels = [f"t{k:+d}" for k in range(lo, hi + 1)]
    out = shift(seq, zero, lo, hi, labels, f"event_{seq.period}")
    out.meta["align"] = f"event:{lo}..{hi}"
    return out


def handle_missing(seq: SequenceData, *, left: MissingMode = "NA", gaps: MissingMode = "NA",
                   right: MissingMode = "DEL") -> SequenceData:
    """TraMineR-style treatment of leading, internal and trailing missing positions.

    ``right="DEL"`` (default): trailing missing positions become void
    (variable-length sequences). ``left="DEL"``: leading missing positions are
    removed and the sequence shifted left. ``gaps="DEL"``: internal missing
    positions are removed (the rest shifted left).
    """
    for name, v in (("left", left), ("gaps", gaps), ("right", right)):
        if v not in ("NA", "DEL"):
            raise ConfigurationError(f"{name} must be 'NA' or 'DEL', got {v!r}")
    codes = seq.codes.copy()
    T = seq.max_length
    valid = seq.valid
    anyv = valid.any(axis=1)
    first = np.where(anyv, np.argmax(valid, axis=1), T)
    last = np.where(anyv, T - 1 - np.argmax(valid[:, ::-1], axis=1), -1)
    pos = np.arange(T)[None, :]
    lead = pos < first[:, None]
    trail = pos > last[:, None]
    gap = ~valid & ~lead & ~trail
    delete = np.zeros_like(valid)
    if left == "DEL":
        delete |= lead & (codes != VOID_CODE)
    if gaps == "DEL":
        delete |= gap
    if right == "DEL":
        codes[trail] = VOID_CODE
    if delete.any():
        # stable left-compaction of the kept positions
        keepm = ~delete
        order = np.argsort(~keepm, axis=1, kind="stable")
        codes = np.take_along_axis(codes, order, axis=1)
        nkeep = keepm.sum(axis=1)
        codes[pos >= nkeep[:, None]] = VOID_CODE
    return seq.replace(codes=codes, meta={**seq.meta, "missing": f"{left}/{gaps}/{right}"})
