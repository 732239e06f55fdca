"""Outcome measures of the OZA study, as functions of the register.

Seed 000 names two main outcomes and several monitor tables. Each function
below is one documented measure; all are computed from monthly trajectories
(:func:`ozamonitor.trajectories.build.build_trajectories`) or directly from the
``oza_participation`` table.

Monthly education status (:data:`OUTCOME_CONFIG`), decided on the last day of
the month (a census date, as the synthetic generator's ground truth defines
``in_education``), highest precedence first:

* ``absent`` - enrolled (any sector, OZA participants are enrolled at their
  host school) but in a long-term relative absence (``lrv``) or a long
  illness (``ill``) spell;
* ``educated`` - enrolled and not absent: *in education*;
* ``outside`` - not enrolled (absolute absence, waiting, exemption, 24-hour
  care, abroad, past compulsory age, ...).

Measures:

* :func:`in_education` - 1/0 per child and month (the DiD outcome; missing
  months before birth or after the extraction date stay missing).
* :func:`months_without_education` - per child and school year, the months
  in which the child was of compulsory or qualification-duty age and not in
  education (``absent`` or ``outside``).
* :func:`accessibility` - (a) of the study: a child who had an exemption or a
  period of at least ``min_months`` without enrolment *enters* education: the
  first month of enrolment after such a period.
* :func:`continuity` - (b): after a discontinuity (a month ``absent`` or
  ``outside`` following a month in education), the first month from which the
  child is in education for ``min_months`` consecutive months.
* :func:`destination_after_oza` - where participants are ``months_after`` an
  arrangement ended: regular, special, mbo education or none (or censored).
* :func:`arrangement_durations`, :func:`arrangement_flows`,
  :func:`end_reasons` - duration in an arrangement, monthly inflow and
  outflow, reasons for ending.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl

from ozamonitor.register.calendar import school_year_expr
from ozamonitor.register.store import Register
from ozamonitor.sequences.alphabet import VOID_CODE
from ozamonitor.sequences.seqdata import SequenceData
from ozamonitor.trajectories.build import build_trajectories
from ozamonitor.trajectories.states import DEFAULT_CONFIG, State, TrajectoryConfig

#: Three-state alphabet for outcomes (see module docstring).
OUTCOME_CONFIG = TrajectoryConfig(
    states=(
        State(
            "absent",
            "ingeschreven, langdurig afwezig",
            "enrolled, long-term absent",
            "#DDCC77",
            "enrolled and (lrv or ill)",
        ),
        State("educated", "in onderwijs", "in education", "#117733", "enrolled"),
        State("outside", "niet ingeschreven", "not enrolled", "#CC6677", "not enrolled"),
    )
)
_ABSENT, _EDUCATED, _OUTSIDE = 0, 1, 2

EDUCATION_STATES = ("regular", "special", "mbo", "oza")



def education_status(
    register: Register | str,
    *,
    start: str = "2014-08",
    end: str | None = None,
    person_ids: Sequence[str] | pl.Series | None = None,
) -> SequenceData:
    """Monthly education status (``absent``/``educated``/``outside``) per child."""
    reg = Register.open(register)
    end = end or reg.extraction_date.strftime("%Y-%m")
    return build_trajectories(
        reg, start=start, end=end, config=OUTCOME_CONFIG, person_ids=person_ids
    )


def in_education(status: SequenceData) -> np.ndarray:
    """Float matrix (children x months): 1 in education, 0 not, NaN missing."""
    out = (status.codes == _EDUCATED).astype(np.float64)
    out[status.codes >= len(status.alphabet)] = np.nan
    return out


#: Outcomes of ``ozamonitor impact --outcome`` (monthly 0/1 matrices, :func:`outcome_matrix`).
OUTCOMES = ("in_education", "accessibility", "continuity")


def outcome_matrix(status: SequenceData, outcome: str = "in_education", *,
                   min_months: int = 3) -> np.ndarray:
    """Monthly 0/1 outcome (children x months, NaN missing) for the impact analysis.

    * ``in_education`` - :func:`in_education`;
    * ``accessibility`` - enrolled as an education participant (``educated`` or
      ``absent``): the state whose first month after an exemption or a period
      without education :func:`accessibility` records;
    * ``continuity`` - in stable education: ``educated`` in this month and the
      next ``min_months - 1`` (NaN where that window is not observed): the state
      whose first month after a discontinuity :func:`continuity` records.

    Raises
    ------
    ValueError
        An unknown outcome.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; use one of {', '.join(OUTCOMES)}")
    codes = status.codes
    missing = codes >= len(status.alphabet)
    if outcome == "in_education":
        return in_education(status)
    if outcome == "accessibility":
        out = ((codes == _EDUCATED) | (codes == _ABSENT)).astype(np.float64)
        out[missing] = np.nan
        return out
    t = codes.shape[1]
    not_edu = (codes != _EDUCATED) & ~missing  # a month known not to be in education
    bad, unseen = not_edu.copy(), missing.copy()
    for k in range(1, min_months):  # the window's month k
        later_bad = np.zeros_like(bad)
        later_bad[:, : t - k] = not_edu[:, k:]
        later_unseen = np.ones_like(missing)
        later_unseen[:, : t - k] = missing[:, k:]
        bad |= later_bad
        unseen |= later_unseen
    return np.where(bad, 0.0, np.where(unseen, np.nan, 1.0))


def outcome_panel(status: SequenceData, *, id_column: str = "person_id") -> pl.DataFrame:
    """Long panel ``person_id, period (0-based), month, in_education`` without missing cells."""
    y = in_education(status)
    n, t = y.shape
    df = pl.DataFrame(
        {
            id_column: np.repeat(status.ids.astype(str), t),
            "period": np.tile(np.arange(t, dtype=np.int32), n),
            "month": np.tile(np.asarray(status.columns, dtype=object), n).astype(str),
            "in_education": y.ravel(),
        }
    )
    return df.filter(pl.col("in_education").is_not_nan())


def _month_starts(status: SequenceData) -> np.ndarray:
    if status.period_starts is not None:
        return np.asarray(status.period_starts, dtype="datetime64[D]")
    return np.array([np.datetime64(f"{c}-01") for c in status.columns], dtype="datetime64[D]")


def _duty_mask(reg: Register, status: SequenceData) -> np.ndarray:
    """True where the child is resident and of compulsory or qualification-duty age."""
    duty_seq = build_trajectories(
        reg,
        start=status.columns[0],
        end=status.columns[-1],
        config=DEFAULT_CONFIG,
        person_ids=list(status.ids),
    )
    order = {pid: i for i, pid in enumerate(duty_seq.ids.tolist())}
    rows = np.array([order[p] for p in status.ids.tolist()], dtype=np.int64)
    alph = duty_seq.alphabet
    no_duty = np.isin(
        duty_seq.codes[rows],
        [alph.index("notcomp"), alph.index("abroad"), duty_seq.missing_code, VOID_CODE],
    )
    return ~no_duty & (status.codes < len(status.alphabet))


def months_without_education(register: Register | str, status: SequenceData) -> pl.DataFrame:
    """Per child and school year: months under a duty not in education.

    Columns: ``person_id, school_year, months_duty, months_without``. Duty is
    compulsory education or the qualification duty (from the default
    trajectory alphabet: a month not ``notcomp``, ``abroad`` or missing).
    """
    duty = _duty_mask(Register.open(register), status)
    without = duty & (status.codes != _EDUCATED)
    starts = _month_starts(status)
    sy = pl.Series(starts).cast(pl.Date).to_frame("m").select(school_year_expr(pl.col("m")))
    sy_arr = sy.to_series().to_numpy()
    years = np.unique(sy_arr)
    frames = []
    for y in years:
        cols = sy_arr == y
        frames.append(
            pl.DataFrame(
                {
                    "person_id": status.ids.astype(str),
                    "school_year": f"{y}-{y + 1}",
                    "months_duty": duty[:, cols].sum(axis=1).astype(np.int32),
                    "months_without": without[:, cols].sum(axis=1).astype(np.int32),
                }
            )
        )
    return pl.concat(frames).filter(pl.col("months_duty") > 0).sort("person_id", "school_year")


def _first_true_after(mask: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Per row, first column j > after[row] with mask[row, j]; -1 if none or after < 0."""
    t = mask.shape[1]
    cols = np.arange(t)[None, :]
    ok = mask & (cols > after[:, None]) & (after[:, None] >= 0)
    first = np.where(ok.any(axis=1), ok.argmax(axis=1), -1)
    return first


def accessibility(
    register: Register | str, status: SequenceData, *, min_months: int = 1
) -> pl.DataFrame:
    """Entry into education after an exemption or a period without enrolment.

    A child is *eligible* at the first month ``m`` that is ``outside`` for at
    least ``min_months`` consecutive months while resident and under a duty
    (compulsory education or qualification duty), or that lies in an exemption
    (the window's first month for an exemption that started earlier). The
    child is *accessed* at the first later month enrolled
    (``educated`` or ``absent``: being enrolled is what accessibility asks).
    Columns: ``person_id, eligible_month, access_month`` (null when not yet).
    """
    reg = Register.open(register)
    codes = status.codes
    outside = (codes == _OUTSIDE) & _duty_mask(reg, status)
    run = np.zeros(codes.shape[0], dtype=np.int32)
    eligible = np.full(codes.shape[0], -1, dtype=np.int64)
    for j in range(codes.shape[1]):
        run = np.where(outside[:, j], run + 1, 0)
        hit = (run >= min_months) & (eligible < 0)
        eligible[hit] = j - min_months + 1
    ex = reg.scan("exemptions").group_by("person_id").agg(pl.col("start").min()).collect()
    starts = _month_starts(status)
    ex_map = dict(zip(ex["person_id"].to_list(), ex["start"].to_list(), strict=True))
    for i, pid in enumerate(status.ids.tolist()):
        d = ex_map.get(pid)
        if d is None:
            continue
        j = max(int(np.searchsorted(starts, np.datetime64(d, "D"), side="right") - 1), 0)
        if j < codes.shape[1] and (eligible[i] < 0 or j < eligible[i]):
            eligible[i] = j
    enrolled = (codes == _EDUCATED) | (codes == _ABSENT)
    access = _first_true_after(enrolled, eligible)
    cols = np.asarray(status.columns, dtype=object)
    return pl.DataFrame(
        {
            "person_id": status.ids.astype(str),
            "eligible_month": [cols[e] if e >= 0 else None for e in eligible],
            "access_month": [cols[a] if a >= 0 else None for a in access],
        },
        schema={"person_id": pl.String, "eligible_month": pl.String, "access_month": pl.String},
    ).filter(pl.col("eligible_month").is_not_null())


def continuity(status: SequenceData, *, min_months: int = 3) -> pl.DataFrame:
    """Return to stable education after a discontinuity.

    A *discontinuity* starts at the first month not in education (``absent``
    or ``outside``) directly after a month in education. Continuity is
    restored at the first later month from which the child is ``educated``
    for ``min_months`` consecutive months. Columns: ``person_id,
    discontinuity_month, restored_month`` (null when not restored).
    """
    codes = status.codes
    valid = codes < len(status.alphabet)
    edu = codes == _EDUCATED
    n, t = codes.shape
    broken = np.zeros((n, t), dtype=bool)
    broken[:, 1:] = edu[:, :-1] & ~edu[:, 1:] & valid[:, 1:]
    disc = np.where(broken.any(axis=1), broken.argmax(axis=1), -1)
    # stable[:, j]: edu on j .. j+min_months-1
    stable = edu.copy()
    for k in range(1, min_months):
        shifted = np.zeros_like(edu)
        shifted[:, : t - k] = edu[:, k:]
        stable &= shifted
    restored = _first_true_after(stable, disc)
    cols = np.asarray(status.columns, dtype=object)
    return pl.DataFrame(
        {
            "person_id": status.ids.astype(str),
            "discontinuity_month": [cols[d] if d >= 0 else None for d in disc],
            "restored_month": [cols[r] if r >= 0 else None for r in restored],
        },
        schema={
            "person_id": pl.String,
            "discontinuity_month": pl.String,
            "restored_month": pl.String,
        },
    ).filter(pl.col("discontinuity_month").is_not_null())


def arrangement_durations(register: Register | str) -> pl.DataFrame:
    """Each participation with its duration in days (censored at the extraction date).

    Columns: ``person_id, arrangement_id, start, end, end_reason, duration_days,
    censored``; ``end`` is inclusive, so a one-day participation lasts 1 day.
    """
    reg = Register.open(register)
    x = pl.lit(reg.extraction_date)
    return (
        reg.scan("oza_participation")
        .with_columns(
            censored=pl.col("end").is_null(),
            duration_days=((pl.col("end").fill_null(x) - pl.col("start")).dt.total_days() + 1).cast(
                pl.Int32
            ),
        )
        .sort("arrangement_id", "start", "person_id")
        .collect()
    )


def arrangement_flows(register: Register | str, *, by_arrangement: bool = False) -> pl.DataFrame:
    """Monthly inflow (starts), outflow (ends) and participants at month end.

    Columns: ``month`` (first day), [``arrangement_id``], ``inflow``, ``outflow``,
    ``active_end`` (participating on the last day of the month).
    """
    reg = Register.open(register)
    part = reg.read("oza_participation")
    keys = ["arrangement_id"] if by_arrangement else []
    if part.is_empty():
        return pl.DataFrame(
            schema={
                "month": pl.Date,
                **dict.fromkeys(keys, pl.String),
                "inflow": pl.UInt32,
                "outflow": pl.UInt32,
                "active_end": pl.Int64,
            }
        )
    first = part["start"].min()
    last = reg.extraction_date
    months = pl.date_range(dt.date(first.year, first.month, 1), last, "1mo", eager=True)
    grid = pl.DataFrame({"month": months})
    if by_arrangement:
        grid = grid.join(part.select("arrangement_id").unique(), how="cross")
    inflow = part.group_by([pl.col("start").dt.month_start().alias("month"), *keys]).agg(
        inflow=pl.len()
    )
    outflow = (
        part.filter(pl.col("end").is_not_null())
        .group_by([pl.col("end").dt.month_start().alias("month"), *keys])
        .agg(outflow=pl.len())
    )
    out = (
        grid.join(inflow, on=["month", *keys], how="left")
        .join(outflow, on=["month", *keys], how="left")
        .with_columns(pl.col("inflow", "outflow").fill_null(0))
        .sort([*keys, "month"])
    )
    return out.with_columns(
        active_end=(pl.col("inflow").cum_sum() - pl.col("outflow").cum_sum()).over(keys)
        if keys
        else pl.col("inflow").cum_sum() - pl.col("outflow").cum_sum()
    ).select("month", *keys, "inflow", "outflow", "active_end")


def end_reasons(register: Register | str) -> pl.DataFrame:
    """Counts of reasons for ending a participation (``running`` when not ended)."""
    reg = Register.open(register)
    return (
        reg.scan("oza_participation")
        .select(pl.col("end_reason").fill_null("running"))
        .group_by("end_reason")
        .agg(count=pl.len())
        .sort("count", "end_reason", descending=[True, False])
        .collect()
    )


def destination_after_oza(register: Register | str, *, months_after: int = 3) -> pl.DataFrame:
    """Where each ended participation leads ``months_after`` months after its end.

    Uses the default trajectory alphabet: ``regular`` (po/vo), ``special``
    (sbo/so/vso), ``mbo``, ``oza`` (a new arrangement), or ``none`` (any state
    without education); ``censored`` when that month lies after the extraction
    date. Columns: ``person_id, arrangement_id, end, destination``.
    """
    reg = Register.open(register)
    part = reg.read("oza_participation").filter(pl.col("end").is_not_null())
    schema = {
        "person_id": pl.String,
        "arrangement_id": pl.String,
        "end": pl.Date,
        "destination": pl.String,
    }
    if part.is_empty():
        return pl.DataFrame(schema=schema)
    first = part["end"].min()
    seq = build_trajectories(
        reg,
        start=f"{first.year:04d}-{first.month:02d}",
        end=reg.extraction_date.strftime("%Y-%m"),
        person_ids=part["person_id"].unique().to_list(),
    )
    starts = _month_starts(seq)
    row = {pid: i for i, pid in enumerate(seq.ids.tolist())}
    alph = seq.alphabet
    dest = []
    for pid, end in zip(part["person_id"].to_list(), part["end"].to_list(), strict=True):
        j = int(np.searchsorted(starts, np.datetime64(end, "D"), side="right") - 1) + months_after
        if j >= seq.codes.shape[1]:
            dest.append("censored")
            continue
        c = int(seq.codes[row[pid], j])
        code = alph.codes[c] if c < len(alph) else None
        dest.append(code if code in EDUCATION_STATES else ("censored" if code is None else "none"))
    return part.select("person_id", "arrangement_id", "end").with_columns(
        destination=pl.Series(dest, dtype=pl.String)
    )
