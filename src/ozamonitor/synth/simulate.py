"""Monthly microsimulation of school careers, absence and OZA participation.

All persons move through the months at once with vectorised numpy; one month
is :func:`ozamonitor.synth.transitions.step` (the state transitions, one
function per state, on the arrays of :mod:`ozamonitor.synth.states`).
Transitions are written to an event log that :mod:`ozamonitor.synth.tables`
turns into dated spells; attendance rows come from
:mod:`ozamonitor.synth.attendance`.

OZA potential outcomes: when a participant starts, an untreated copy (the
*shadow*) of the person is made from the month before; the shadow runs
through the same step function with the **same uniforms** but without OZA,
which gives Y(0) next to the observed Y(1). Further untreated and treated copies
with their own random numbers (:class:`~ozamonitor.synth.replicates.Replicates`)
give each participant's chances E[Y(0)] and E[Y(1)] given its state at the
start: the planted effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ozamonitor.register.calendar import (
    ADULT_MONTHS,
    COMPULSORY_START_MONTHS,
    SCHOOL_ENTRY_MONTHS,
)
from ozamonitor.synth.attendance import attendance_rows
from ozamonitor.synth.geography import Geography
from ozamonitor.synth.oza import Arrangements
from ozamonitor.synth.params import SynthParams, year_value
from ozamonitor.synth.participants import Participants
from ozamonitor.synth.population import BEFORE, Population, month_start
from ozamonitor.synth.states import (
    EX_5A,
    MAX_AGE_MONTHS,
    N_UNIFORMS,
    S_AV,
    S_CARE,
    S_ENR,
    S_EX,
    S_ILL,
    S_LRV,
    SEC_SO,
    SEC_VSO,
    Context,
    Dyn,
    StepOut,
    school_year_of_month,
)
from ozamonitor.synth.transitions import step

__all__ = ["SimResult", "run"]


ProgressFn = Callable[[str, float, float], None]


@dataclass
class SimResult:
    """Everything the table builders need from the simulation."""

    events: dict[str, np.ndarray]
    rv_reports: dict[str, np.ndarray]
    year_flags: np.ndarray  # (n_school_years, n) uint8 bit flags, school years from 2014
    participants: dict[str, np.ndarray]
    y1: np.ndarray  # (n_participants, E + 1) int8, -1 = not observed
    y0: np.ndarray
    #: (n_participants, E + 1) float32, NaN = not observed (or no replicates): mean Y(0)
    #: and Y(1) over ``ground_truth_replicates`` untreated and treated copies with their
    #: own random numbers from the start month on
    y0_mean: np.ndarray
    y1_mean: np.ndarray
    first_month: int
    attendance_rows: int


# bits of SimResult.year_flags
F_PRESENT, F_LRV, F_ILL, F_AV, F_EX5A, F_CARE, F_SPECIAL, F_ENROLLED = (1 << i for i in range(8))

_EVENT_FIELDS = ("idx", "m", "day", "state", "school", "gem", "kind", "exart", "avr", "tlv",
                 "reason")


class _Log:
    """Append-only columnar log (compact dtypes)."""

    def __init__(self, names: tuple[str, ...], dtypes: dict[str, type]) -> None:
        self.names = names
        self.dtypes = dtypes
        self.parts: dict[str, list[np.ndarray]] = {k: [] for k in names}

    def add(self, **cols: np.ndarray) -> None:
        for k in self.names:
            self.parts[k].append(np.asarray(cols[k]).astype(self.dtypes.get(k, np.int32)))

    def result(self) -> dict[str, np.ndarray]:
        out = {}
        for k in self.names:
            v = self.parts[k]
            out[k] = np.concatenate(v) if v else np.zeros(0, self.dtypes.get(k, np.int32))
            self.parts[k] = []
        return out


AttendanceSink = Callable[[int, dict[str, np.ndarray]], None]


def _recorded_outcome(ext: np.datetime64) -> Callable[[Dyn, int], np.ndarray]:
    """In education at the end of month ``mm`` as the register extracted on ``ext`` shows it.

    An lrv (ill) spell is only in the register from its report date, 28 (14) days
    after it starts; a spell not yet reported on ``ext`` counts as in education.
    """

    def in_education(dd: Dyn, mm: int) -> np.ndarray:
        y = dd.state == S_ENR
        absent = (dd.state == S_LRV) | (dd.state == S_ILL)
        if absent.any():
            start = month_start(mm - dd.dur.astype(np.int64)) + (
                dd.day_in.astype(np.int64) - 1).astype("timedelta64[D]")
            lag = np.where(dd.state == S_LRV, 28, 14).astype("timedelta64[D]")
            y |= absent & (start + lag > ext)
        return y

    return in_education


def _start(pop: Population, geo: Geography, rng: np.random.Generator,
           log: _Log) -> tuple[int, Dyn]:
    """The first month (the oldest cohort turns 4) and the persons' state then: those
    born before it live in their first gemeente (logged from their birth)."""
    n = len(pop)
    m_first = int(pop.bm.min()) + SCHOOL_ENTRY_MONTHS if n else 0
    d = Dyn.empty(n, pop.cls)
    pre = (pop.bm < m_first) & (pop.arr_m == BEFORE) & (pop.emig_m >= m_first) & (
        pop.death_m >= m_first)
    d.gem[pre] = pop.gem0[pre]
    d.swvp[pre] = geo.draw_swv(pop.gem0[pre], rng.random(int(pre.sum())), po=True)
    d.swvv[pre] = geo.draw_swv(pop.gem0[pre], rng.random(int(pre.sum())), po=False)
    ip = np.where(pre)[0]
    log.add(idx=ip, m=pop.bm[ip], day=pop.bday[ip], state=np.zeros(len(ip)),
            school=np.full(len(ip), -1), gem=d.gem[ip], kind=np.full(len(ip), -1),
            exart=np.zeros(len(ip)), avr=np.zeros(len(ip)), tlv=np.zeros(len(ip)),
            reason=np.zeros(len(ip)))
    return m_first, d


class _RegisterMonth:
    """What the register records of a month besides the events: relative-absence
    reports, the school-year flags and (from ``attendance_first_year``) attendance."""

    def __init__(self, p: SynthParams, n: int, last_month: int,
                 attendance: AttendanceSink | None) -> None:
        self.p = p
        self.rv = _Log(("idx", "school", "m", "day"), {"idx": np.int32, "school": np.int32,
                                                      "m": np.int16, "day": np.uint8})
        self.n_sy = max(school_year_of_month(last_month) - 2014 + 1, 1)
        self.flags = np.zeros((self.n_sy, n), np.uint8)
        self.att_first = 12 + 12 * (p.attendance_first_year - 2014)
        self.hours = np.array((0, *p.monthly_hours), np.float32)
        self.mfac = np.array(p.month_factor, np.float32)
        self.attendance = attendance
        self.att_rows = 0

    def add(self, m: int, lo: int, hi: int, age: np.ndarray, old_state: np.ndarray,
            old_school: np.ndarray, old_sec: np.ndarray, dv: Dyn, pv: Population,
            out: StepOut, U: np.ndarray) -> None:
        """Record month ``m`` of persons ``lo:hi`` (``dv``, ``pv``: their slices)."""
        p = self.p
        comp = (age >= COMPULSORY_START_MONTHS) & (age < ADULT_MONTHS) & ~dv.sqf
        if m < 12:
            return
        lrv_tr = year_value(p.lrv_trend, 2013 + (7 + m) // 12)
        spike = ((old_state == S_ENR) & (dv.state == S_ENR) & ~out.ev & comp
                 & (U[7] < p.rv16_rate * pv.risk * lrv_tr))
        entry = out.ev & (dv.state == S_LRV) & (old_state == S_ENR)
        sp = np.nonzero(spike | entry)[0]
        self.rv.add(idx=sp + lo, school=dv.school[sp], m=np.full(len(sp), m),
                    day=np.where(entry[sp], out.ev_day[sp],
                                 1 + (U[3][sp] * 20).astype(np.int64)))
        sy = school_year_of_month(m) - 2014
        if sy < self.n_sy:
            fl = self.flags[sy, lo:hi]
            present = (dv.gem >= 0) & (age >= SCHOOL_ENTRY_MONTHS) & (age < ADULT_MONTHS)
            st = dv.state
            fl |= (present * F_PRESENT + (st == S_LRV) * F_LRV + (st == S_ILL) * F_ILL
                   + ((st == S_AV) & comp) * F_AV
                   + ((st == S_EX) & (dv.exart == EX_5A)) * F_EX5A
                   + (st == S_CARE) * F_CARE
                   + ((dv.sec == SEC_SO) | (dv.sec == SEC_VSO)) * F_SPECIAL
                   + ((st >= S_ENR) & (st <= S_ILL)) * F_ENROLLED).astype(np.uint8)
        if self.attendance is not None and m >= self.att_first:
            att = attendance_rows(m, old_state, old_school, old_sec, dv, out, U, pv,
                                  self.hours, self.mfac, spike)
            att["idx"] = att["idx"] + lo
            self.att_rows += len(att["idx"])
            self.attendance(m, att)


def run(pop: Population, geo: Geography, arr: Arrangements, params: SynthParams,
        last_month: int, rng: np.random.Generator, *, n_participants_target: int,
        attendance: AttendanceSink | None = None,
        progress: ProgressFn | None = None,
        extraction_date: np.datetime64 | None = None) -> SimResult:
    """Run the monthly simulation from the month the oldest cohort turns 4.

    Parameters
    ----------
    pop, geo, arr, params
        The population, regions and schools, arrangements and parameters.
    last_month : int
        The last month index simulated.
    rng : numpy.random.Generator
        The simulation's random numbers (the replicates use streams spawned from it).
    n_participants_target : int
        OZA participants to select.
    attendance : callable, optional
        ``attendance(m, rows)`` receives each month's attendance rows (streamed to
        the register, so they are never all in memory).
    progress : callable, optional
        ``progress("simulate", done, total)``.
    extraction_date : numpy.datetime64, optional
        Potential outcomes are recorded for months whose last day is on or before
        it (default: the end of ``last_month``); see :func:`_recorded_outcome`.

    Returns
    -------
    SimResult
    """
    ext = (extraction_date if extraction_date is not None
           else month_start(last_month + 1) - np.timedelta64(1, "D"))
    last_gt_month = last_month if month_start(last_month + 1) - np.timedelta64(1, "D") <= ext \
        else last_month - 1
    in_education = _recorded_outcome(ext)
    ctx = Context(params=params, geo=geo, arr=arr)
    log = _Log(_EVENT_FIELDS, {"idx": np.int32, "m": np.int16, "day": np.uint8,
                               "state": np.uint8, "school": np.int32, "gem": np.int16,
                               "kind": np.int8, "exart": np.uint8, "avr": np.uint8,
                               "tlv": np.uint8, "reason": np.uint8})
    m_first, d = _start(pop, geo, rng, log)
    reg = _RegisterMonth(params, len(pop), last_month, attendance)
    months = np.arange(m_first, last_month + 1)
    oza = Participants(len(pop), arr, params, n_participants_target, rng, months, last_month)
    total = last_month - m_first + 1
    for step_i, m in enumerate(months):
        m = int(m)
        # persons aged 0..21 this month form one slice (population is in birth order)
        lo = int(np.searchsorted(pop.bm, m - MAX_AGE_MONTHS, side="left"))
        hi = int(np.searchsorted(pop.bm, m, side="right"))
        dv = d.slice(lo, hi)
        pv = pop.slice(lo, hi)
        U = rng.random((N_UNIFORMS, hi - lo), dtype=np.float32)
        old_state = dv.state.copy()
        old_school = dv.school.copy()
        old_sec = dv.sec.copy()
        out = step(dv, pv, m, U, ctx, treat=True)
        e = np.nonzero(out.ev)[0]
        log.add(idx=e + lo, m=np.full(len(e), m), day=out.ev_day[e], state=dv.state[e],
                school=dv.school[e], gem=dv.gem[e], kind=dv.kind[e], exart=dv.exart[e],
                avr=dv.avr[e], tlv=dv.tlv[e], reason=out.ev_reason[e])
        oza.record(m, lo, hi, out, U, d, ctx, last_gt_month, in_education)
        age = m - pv.bm
        reg.add(m, lo, hi, age, old_state, old_school, old_sec, dv, pv, out, U)
        oza.select(m, step_i, lo, hi, age, d, dv, pv, pop, rng)
        if progress is not None and (step_i % 6 == 0 or m == last_month):
            progress("simulate", step_i + 1, total)

    n_part = oza.n
    return SimResult(events=log.result(), rv_reports=reg.rv.result(), year_flags=reg.flags,
                     participants=oza.table(), y1=oza.y1[:n_part], y0=oza.y0[:n_part],
                     y0_mean=oza.reps[0].mean(oza.y1[:n_part] >= 0),
                     y1_mean=oza.reps[1].mean(oza.y1[:n_part] >= 0),
                     first_month=m_first, attendance_rows=reg.att_rows)
