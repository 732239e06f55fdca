"""Monthly microsimulation of school careers, absence and OZA participation.

Every person has a monthly state (``uint8``): not in scope, enrolled,
long-term relative absence (LRV, enrolled), long illness at home (enrolled),
absolute absence (not enrolled), exempt, 24-hour care without education, or
done (start qualification / left school). All persons move through the months
at once with vectorised numpy: per month and person eight uniform random
numbers are drawn (``U``), and every transition reads its own slot of ``U``.
A person has at most one transition per month; it happens on a day of that
month (``ev_day``), so a state recorded for month *m* holds on the last day of
*m*. Transitions are written to an event log that :mod:`ozamonitor.synth.tables`
turns into dated spells.

OZA potential outcomes: when a participant starts, an untreated copy (the
*shadow*) of the person is made from the month before; the shadow runs
through the same step function with the **same uniforms** but without OZA,
which gives Y(0) next to the observed Y(1). Further untreated and treated copies
with their own random numbers (``_Replicates``) give each participant's chances
E[Y(0)] and E[Y(1)] given its state at the start: the planted effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np

from ozamonitor.register.calendar import (
    ADULT_MONTHS,
    AGE_16_MONTHS,
    AGE_17_MONTHS,
    COMPULSORY_START_MONTHS,
    SCHOOL_ENTRY_MONTHS,
    SECONDARY_AGE_MONTHS,
)
from ozamonitor.register.schema import ENROLMENT_END_REASONS, OZA_END_REASONS
from ozamonitor.synth.geography import KIND_CLUSTER, KIND_INDEX, KIND_PO, KIND_SECTOR, Geography
from ozamonitor.synth.oza import Arrangements
from ozamonitor.synth.params import SynthParams, year_value
from ozamonitor.synth.population import (
    BEFORE,
    CLS_SBO,
    CLS_SO1,
    CLS_SO2,
    CLS_SO3,
    CLS_SO4,
    CLS_VSO3,
    Population,
    days_in_month,
    month_start,
)

S_NONE, S_ENR, S_LRV, S_ILL, S_AV, S_EX, S_CARE, S_DONE = range(8)
STATE_NAMES = ("none", "enrolled", "lrv", "ill", "absolute_absence", "exempt", "care24",
               "done")
ENROLLED = (S_ENR, S_LRV, S_ILL)
# sectors (1-based index into schema.SECTORS)
SEC_PO, SEC_SBO, SEC_SO, SEC_VO, SEC_VSO, SEC_MBO = range(1, 7)
# absolute-absence reasons
AVR_NEWCOMER, AVR_MOVED, AVR_REMOVED, AVR_DROPOUT, AVR_WAIT_SO, AVR_WAIT_VSO, AVR_LAPSED, \
    AVR_OTHER = range(1, 9)
# exemption articles
EX_5A, EX_5B, EX_15 = 1, 2, 3
# target groups (index into schema.OZA_TARGET_GROUPS)
G_AT_RISK, G_LTA, G_NOT_ENROLLED, G_EX5A = range(4)


def _reason(code: str) -> int:
    return ENROLMENT_END_REASONS.index(code) + 1


R_TRANSFER, R_MOVED, R_REMOVED, R_DIPLOMA, R_SQ, R_EMIGRATED, R_EXEMPTION, R_DROPOUT, \
    R_CARE, R_DECEASED, R_OTHER = (_reason(c) for c in ENROLMENT_END_REASONS)


def _oza_reason(code: str) -> int:
    return OZA_END_REASONS.index(code) + 1


O_REGULAR, O_SPECIAL, O_OTHER_ARR, O_CARE, O_QUAL, O_DAY, O_MOVED, O_DROPOUT, O_OTHER = (
    _oza_reason(c) for c in OZA_END_REASONS)

N_UNIFORMS = 8


@dataclass
class Dyn:
    """Dynamic per-person state arrays."""

    state: np.ndarray
    dur: np.ndarray
    sec: np.ndarray
    kind: np.ndarray
    school: np.ndarray
    gem: np.ndarray
    swvp: np.ndarray
    swvv: np.ndarray
    sec_start: np.ndarray
    exart: np.ndarray
    avr: np.ndarray
    tlv: np.ndarray
    cls: np.ndarray
    sqf: np.ndarray
    lrv_hist: np.ndarray
    last_lrv: np.ndarray
    day_in: np.ndarray
    oza: np.ndarray
    oza_start: np.ndarray
    oza_grp: np.ndarray
    oza_primary: np.ndarray
    pending: np.ndarray
    part: np.ndarray

    @classmethod
    def empty(cls, n: int, pop_cls: np.ndarray) -> Dyn:
        z8 = np.zeros(n, np.uint8)
        return cls(
            state=z8.copy(), dur=np.zeros(n, np.int16), sec=z8.copy(),
            kind=np.full(n, -1, np.int8), school=np.full(n, -1, np.int32),
            gem=np.full(n, -1, np.int16), swvp=np.zeros(n, np.int16),
            swvv=np.zeros(n, np.int16), sec_start=np.zeros(n, np.int32), exart=z8.copy(),
            avr=z8.copy(), tlv=z8.copy(), cls=pop_cls.astype(np.uint8).copy(),
            sqf=np.zeros(n, bool), lrv_hist=np.zeros(n, np.int16),
            last_lrv=np.full(n, -10_000, np.int32), day_in=np.ones(n, np.uint8),
            oza=np.full(n, -1, np.int16), oza_start=np.zeros(n, np.int32),
            oza_grp=z8.copy(), oza_primary=np.zeros(n, bool),
            pending=np.full(n, -1, np.int16), part=np.zeros(n, bool))

    def take(self, idx: np.ndarray) -> Dyn:
        return Dyn(**{f.name: getattr(self, f.name)[idx].copy() for f in fields(self)})

    def slice(self, lo: int, hi: int) -> Dyn:
        """Views of rows ``lo:hi`` (the step writes through them)."""
        return Dyn(**{f.name: getattr(self, f.name)[lo:hi] for f in fields(self)})


@dataclass
class StepOut:
    """What one month's step did (per person of the stepped arrays)."""

    ev: np.ndarray
    ev_day: np.ndarray
    ev_reason: np.ndarray
    oza_end: np.ndarray  # OZA end reason code (0 = none)
    oza_end_day: np.ndarray


@dataclass
class Context:
    """Fixed inputs of the step function."""

    params: SynthParams
    geo: Geography
    arr: Arrangements | None
    lrv_age: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.lrv_age = np.array(self.params.lrv_age_factor, np.float32)


def _special_kind(cls: np.ndarray, age: np.ndarray) -> np.ndarray:
    """School kind for special education given class and age in months."""
    cl = np.select([cls == CLS_SO1, cls == CLS_SO2, (cls == CLS_SO3) | (cls == CLS_VSO3)],
                   [1, 2, 3], 4)
    so = KIND_INDEX["so1"] - 1 + cl
    vso = KIND_INDEX["vso1"] - 1 + cl
    return np.where(age + 2 < SECONDARY_AGE_MONTHS, so, vso).astype(np.int8)


def _regular_kind(cls: np.ndarray, cls_entry: np.ndarray, age: np.ndarray,
                  sec: np.ndarray) -> np.ndarray:
    """Kind of school for (re-)enrolment: special when referred, else by age."""
    referred = (cls > 0) & (age >= cls_entry)
    sbo = (cls == CLS_SBO) & referred & (age + 2 < SECONDARY_AGE_MONTHS)
    special = referred & (cls != CLS_SBO) & ~((cls >= CLS_VSO3) & (age + 2 < SECONDARY_AGE_MONTHS))
    reg = np.where(age + 2 < SECONDARY_AGE_MONTHS, KIND_INDEX["po"], KIND_INDEX["vo"])
    reg = np.where((age >= 196) & (sec == SEC_MBO), KIND_INDEX["mbo"], reg)
    out = np.where(special, _special_kind(cls, age), np.where(sbo, KIND_INDEX["sbo"], reg))
    return out.astype(np.int8)


KindArg = np.ndarray | Callable[[np.ndarray], np.ndarray]


def step(d: Dyn, P: Population, m: int, U: np.ndarray, ctx: Context, *,
         treat: bool) -> StepOut:
    """Advance all persons of ``d`` by one month (in place).

    ``P`` holds the static attributes of the same persons, ``U`` their
    uniforms (``N_UNIFORMS`` x n). ``treat`` applies OZA starts and effects
    (the observed world); the shadow runs with ``treat=False``.
    """
    p = ctx.params
    geo = ctx.geo
    n = len(d.state)
    cal = (7 + m) % 12 + 1
    year = 2013 + (7 + m) // 12
    dim = int(days_in_month(m))
    dim_prev = int(days_in_month(m - 1))
    age = (m - P.bm).astype(np.int32)
    ay = age // 12
    u0, u1, u2, u3, u4, u5, u6, u7 = U
    rday = (1 + (u3 * dim).astype(np.int32)).clip(1, dim).astype(np.uint8)
    bday = np.minimum(P.bday, dim).astype(np.uint8)

    old_state = d.state.copy()
    old_dur = d.dur.copy()
    d.dur[:] = np.minimum(d.dur + 1, 30_000)
    free = np.ones(n, bool)
    ev = np.zeros(n, bool)
    ev_day = np.zeros(n, np.uint8)
    ev_reason = np.zeros(n, np.uint8)
    oza_end = np.zeros(n, np.uint8)
    oza_end_day = np.zeros(n, np.uint8)
    in_oza = d.oza >= 0

    def mark(sel: np.ndarray, day: np.ndarray | int, reason: int | np.ndarray = 0) -> None:
        nonlocal free
        ev[sel] = True
        ev_day[sel] = day[sel] if isinstance(day, np.ndarray) else day
        if isinstance(reason, np.ndarray):
            ev_reason[sel] = reason[sel]
        else:
            ev_reason[sel] = reason
        d.dur[sel] = 0
        free &= ~sel

    def leave(sel: np.ndarray, state: int) -> None:
        d.state[sel] = state
        d.school[sel] = -1
        d.kind[sel] = -1
        d.sec[sel] = 0
        d.tlv[sel] = 0
        d.exart[sel] = 0
        d.avr[sel] = 0

    def kinds_special(ix: np.ndarray) -> np.ndarray:
        return _special_kind(d.cls[ix], age[ix])

    def kinds_regular(ix: np.ndarray) -> np.ndarray:
        return _regular_kind(d.cls[ix], P.cls_entry[ix], age[ix], d.sec[ix])

    def enrol(sel: np.ndarray, kind: KindArg, u: np.ndarray) -> None:
        ix = np.nonzero(sel)[0]
        if len(ix) == 0:
            return
        k = (kind(ix) if callable(kind) else kind[ix]).astype(np.int64)
        po = KIND_PO[k]
        swv = np.where(po, d.swvp[sel], d.swvv[sel])
        sch = geo.choose_school(k, swv, u[sel])
        new_sec = KIND_SECTOR[k]
        changed_sec = new_sec != d.sec[sel]
        d.sec_start[sel] = np.where(changed_sec, m, d.sec_start[sel])
        d.state[sel] = S_ENR
        d.school[sel] = sch
        d.kind[sel] = k
        d.sec[sel] = new_sec
        special = KIND_CLUSTER[k] > 0
        tl = np.searchsorted(np.cumsum(p.tlv_shares)[:-1], u7[sel]) + 1
        d.tlv[sel] = np.where(special, tl, 0)
        d.exart[sel] = 0
        d.avr[sel] = 0

    def set_gem(sel: np.ndarray, gem: np.ndarray) -> None:
        d.gem[sel] = gem[sel]
        d.swvp[sel] = geo.draw_swv(gem[sel], u1[sel], po=True)
        d.swvv[sel] = geo.draw_swv(gem[sel], u5[sel], po=False)

    alive = (d.state != S_NONE) | (d.gem >= 0)
    # 1. death and emigration (static months, identical in both potential worlds)
    sel = (m == P.death_m) & alive
    leave(sel, S_NONE)
    d.gem[sel] = -1
    oza_end[sel & in_oza] = O_OTHER
    mark(sel, P.death_day.astype(np.uint8), R_DECEASED)
    sel = (m == P.emig_m) & alive & free
    leave(sel, S_NONE)
    d.gem[sel] = -1
    oza_end[sel & in_oza] = O_MOVED
    mark(sel, P.emig_day.astype(np.uint8), R_EMIGRATED)
    # 2. birth (natives) and arrival (newcomers)
    sel = (m == P.bm) & (P.arr_m == BEFORE) & free & (d.gem < 0)
    set_gem(sel, P.gem0)
    mark(sel, bday)
    sel = (m == P.arr_m) & free
    if sel.any():
        set_gem(sel, P.gem0)
        comp = (age >= COMPULSORY_START_MONTHS) & (age < ADULT_MONTHS)
        wait = sel & comp & (u1 < year_value(p.newcomer_wait_share, year))
        d.state[wait] = S_AV
        d.avr[wait] = AVR_NEWCOMER
        go = sel & ~wait & (age >= SCHOOL_ENTRY_MONTHS)
        enrol(go, kinds_regular, u2)
        mark(sel, P.arr_day.astype(np.uint8))
    # 3. school entry at 4 (special classes with an early referral start in so)
    sel = ((age == SCHOOL_ENTRY_MONTHS) & (d.state == S_NONE) & (d.gem >= 0) & free
           & (P.home_ex == 0))
    if sel.any():
        early = (d.cls >= CLS_SO1) & (d.cls <= CLS_SO3) & (P.cls_entry == SCHOOL_ENTRY_MONTHS)
        acc = early & (u1 < year_value(p.so_trend, year))
        d.cls[sel & early & ~acc] = 0
        enrol(sel, lambda ix: np.where(acc[ix], kinds_special(ix), KIND_INDEX["po"]), u2)
        mark(sel, bday)
    sel = ((age == COMPULSORY_START_MONTHS) & (d.state == S_NONE) & (d.gem >= 0) & free
           & (P.home_ex > 0))
    d.state[sel] = S_EX
    d.exart[sel] = P.home_ex[sel]
    mark(sel, 1)
    # 4. OZA start (observed world only): enrolment at the host school on day 1
    if treat and ctx.arr is not None:
        sel = (d.pending >= 0) & free
        if sel.any():
            a = d.pending[sel].astype(np.int64)
            was_enr = (d.state[sel] >= S_ENR) & (d.state[sel] <= S_ILL)
            host = ctx.arr.host_school[a]
            hk = ctx.arr.host_kind[a]
            idx = np.where(sel)[0]
            same = was_enr & (d.school[idx] == host)
            d.state[idx] = S_ENR
            d.sec_start[idx] = np.where(KIND_SECTOR[hk] != d.sec[idx], m, d.sec_start[idx])
            d.school[idx] = host
            d.kind[idx] = hk
            d.sec[idx] = KIND_SECTOR[hk]
            tl = np.searchsorted(np.cumsum(p.tlv_shares)[:-1], u7[idx]) + 1
            d.tlv[idx] = np.where(KIND_CLUSTER[hk] > 0,
                                  np.where(same, d.tlv[idx], tl), 0)
            d.exart[idx] = 0
            d.avr[idx] = 0
            d.oza[idx] = d.pending[idx]
            d.oza_start[idx] = m
            d.pending[idx] = -1
            mark(sel, 1, R_TRANSFER)
            in_oza = d.oza >= 0
    # 5. August: move on in the school system
    enr_free = (d.state == S_ENR) & free & ~in_oza
    if cal == 8:
        sel = enr_free & (d.sec >= SEC_PO) & (d.sec <= SEC_SO) & (age + 2 >= SECONDARY_AGE_MONTHS)
        if sel.any():
            to_vso = ((d.sec == SEC_SO) & np.where(d.cls == CLS_SO2, u1 < p.so2_to_vso,
                                                   (d.cls == CLS_SO1) | (u1 < p.so34_to_vso))) | (
                (d.sec == SEC_SBO) & (u1 < p.sbo_to_vso))
            d.cls[sel & to_vso & (d.sec == SEC_SBO)] = CLS_SO4
            d.cls[sel & ~to_vso & (d.sec == SEC_SO)] = 0
            enrol(sel, lambda ix: np.where(to_vso[ix], kinds_special(ix), KIND_INDEX["vo"]), u2)
            mark(sel, 1, R_TRANSFER)
        sel = enr_free & free & (d.sec == SEC_VO) & (m - d.sec_start >= 12 * P.vo_years)
        if sel.any():
            tr = P.vo_track
            sq = sel & (tr >= 2)
            d.sqf[sq] = True
            leave(sq, S_DONE)
            mark(sq, 1, R_SQ)
            pro = sel & (tr == 0) & (age >= ADULT_MONTHS)  # praktijkonderwijs: until 18
            leave(pro, S_DONE)
            mark(pro, 1, R_DIPLOMA)
            vm = sel & (tr == 1)
            go = vm & (u1 < p.vmbo_to_mbo)
            enrol(go, np.full(n, KIND_INDEX["mbo"], np.int8), u2)
            stop = vm & ~go
            leave(stop, S_AV)
            d.avr[stop] = AVR_DROPOUT
            d.state[stop & (age >= ADULT_MONTHS)] = S_DONE
            mark(vm, 1, R_DIPLOMA)
        sel = enr_free & free & (d.sec == SEC_MBO) & (m - d.sec_start >= 12 * P.mbo_years)
        if sel.any():
            sq = sel & (u1 < p.mbo_start_qualification)
            d.sqf[sq] = True
            leave(sq, S_DONE)
            mark(sq, 1, R_SQ)
            rest = sel & ~sq
            leave(rest, S_AV)
            d.avr[rest] = AVR_DROPOUT
            d.state[rest & (age >= ADULT_MONTHS)] = S_DONE
            mark(rest, 1, R_DROPOUT)
        sel = enr_free & free & (d.sec == SEC_VSO) & (age >= ADULT_MONTHS)
        if sel.any():
            rs = np.where(u1 < 0.4, R_DIPLOMA, np.where(u1 < 0.7, R_CARE, R_OTHER))
            leave(sel, S_DONE)
            mark(sel, 1, rs.astype(np.uint8))
    sel = (d.state >= S_ENR) & (d.state <= S_ILL) & free & (age >= 252)
    leave(sel, S_DONE)
    oza_end[sel & in_oza] = O_OTHER
    mark(sel, rday, R_DIPLOMA)
    # 6. referral to special education at the person's referral age
    enr_free = (d.state == S_ENR) & free & ~in_oza
    sel = enr_free & (age == P.cls_entry) & (age > SCHOOL_ENTRY_MONTHS)
    if sel.any():
        prim = sel & (d.sec == SEC_PO) & (d.cls >= CLS_SBO) & (d.cls <= CLS_SO4)
        sec = sel & (d.sec == SEC_VO) & (d.cls >= CLS_VSO3)
        trend = np.where(d.cls == CLS_SBO, year_value(p.sbo_trend, year),
                         year_value(p.so_trend, year))
        acc = (prim | sec) & (u1 < trend)
        d.cls[(prim | sec) & ~acc] = 0
        enrol(acc, lambda ix: np.where(d.cls[ix] == CLS_SBO, KIND_INDEX["sbo"],
                                       kinds_special(ix)), u2)
        mark(acc, rday, R_TRANSFER)
    # 7. age-out of not-enrolled states at 18
    sel = (d.state >= S_AV) & (d.state <= S_CARE) & free & (age >= ADULT_MONTHS)
    leave(sel, S_NONE)
    mark(sel, bday)
    # 8. random transitions
    comp = (age >= COMPULSORY_START_MONTHS) & (age < ADULT_MONTHS) & ~d.sqf
    fa = ctx.lrv_age[np.clip(ay - 4, 0, len(ctx.lrv_age) - 1)]
    risk = P.risk
    rr = np.ones(n, np.float32)
    hr = np.ones(n, np.float32)
    if treat and in_oza.any():
        g = d.oza_grp.astype(np.int64)
        keys = ("at_risk", "long_term_absent", "not_enrolled", "exempt_5a")
        rr_g = np.array([p.oza_lrv_onset_rr[k] for k in keys], np.float32)
        hr_g = np.array([p.oza_lrv_recovery_hr[k] for k in keys], np.float32)
        mod = np.where(d.oza_primary, p.oza_primary_age_modifier, 1.0)
        rr = np.where(in_oza, np.clip(1 - (1 - rr_g[g]) * mod, 0.05, 1), 1.0)
        hr = np.where(in_oza, 1 + (hr_g[g] - 1) * mod, 1.0)
    lrv_tr = year_value(p.lrv_trend, year)

    # -- OZA end by hazard (observed world)
    if treat and in_oza.any():
        sel = in_oza & free & ((d.state == S_ENR) | (d.state == S_LRV)) & (m > d.oza_start) & (
            (u6 < p.oza_end_rate) | (age >= ADULT_MONTHS))
        if sel.any():
            absent = d.state == S_LRV
            probs_ok = np.array([0.38, 0.17, 0.06, 0.05, 0.0, 0.04, 0.0, 0.06, 0.14])
            probs_abs = np.array([0.08, 0.15, 0.04, 0.15, 0.0, 0.10, 0.0,
                                  p.oza_end_dropout_if_absent, 0.03])
            old = age >= AGE_16_MONTHS
            cum_ok = np.cumsum(probs_ok + np.array([0, 0, 0, 0, 0.12, 0, 0, 0, 0]))
            cum_ok = cum_ok / cum_ok[-1]
            cum_abs = np.cumsum(probs_abs) / probs_abs.sum()
            r_ok = np.searchsorted(cum_ok, u1, side="right") + 1
            r_ok = np.where(~old & (r_ok == O_QUAL), O_REGULAR, r_ok)
            r_abs = np.searchsorted(cum_abs, u1, side="right") + 1
            r = np.minimum(np.where(absent, r_abs, r_ok), 9).astype(np.uint8)
            oza_end[sel] = r[sel]
            oza_end_day[sel] = rday[sel]
            reg = sel & (r == O_REGULAR)
            enrol(reg, np.where(age + 2 < SECONDARY_AGE_MONTHS, KIND_INDEX["po"],
                                np.where(age >= AGE_16_MONTHS, KIND_INDEX["mbo"], KIND_INDEX["vo"])
                                ).astype(np.int8), u2)
            mark(reg, rday, R_TRANSFER)
            spec = sel & (r == O_SPECIAL)
            d.cls[spec & ((d.cls == 0) | (d.cls == CLS_SBO))] = CLS_SO4
            enrol(spec, kinds_special, u2)
            mark(spec, rday, R_TRANSFER)
            oth = sel & (r == O_OTHER_ARR)
            enrol(oth, d.kind.astype(np.int8), u2)
            mark(oth, rday, R_TRANSFER)
            care = sel & (r == O_CARE)
            leave(care, S_CARE)
            mark(care, rday, R_CARE)
            qual = sel & (r == O_QUAL)
            d.sqf[qual] = True
            leave(qual, S_DONE)
            mark(qual, rday, R_SQ)
            day = sel & (r == O_DAY)
            leave(day, S_EX)
            d.exart[day] = EX_5A
            mark(day, rday, R_EXEMPTION)
            drop = sel & (r == O_DROPOUT)
            leave(drop, S_AV)
            d.avr[drop] = np.where(age[drop] >= AGE_16_MONTHS, AVR_DROPOUT, AVR_REMOVED)
            mark(drop, rday, R_DROPOUT)
            other = sel & (r == O_OTHER)
            free &= ~other  # participation ends, the enrolment goes on

    st = d.state
    # -- enrolled, attending
    sel = (st == S_ENR) & free & (age >= SCHOOL_ENTRY_MONTHS)
    if sel.any():
        recur = np.where(d.last_lrv >= m - 24, p.lrv_recurrence_multiplier, 1.0)
        p_lrv = comp * p.lrv_incidence * fa * risk * lrv_tr * rr * recur
        p_ill = comp * p.ill_incidence * np.sqrt(risk) * (0.5 + 0.5 * lrv_tr)
        p_rem = comp * p.removed_rate * fa * risk * rr
        p_drop = ((age >= AGE_16_MONTHS) & ((d.sec == SEC_VO) | (d.sec == SEC_MBO)) & ~d.sqf
                  ) * p.dropout_rate * risk * rr
        p_5a = comp * p.enr_to_5a * risk
        p_care = comp * p.care24_rate * risk
        p_ret = ((d.sec == SEC_SBO) | (d.sec == SEC_SO)) * p.special_return_rate * ~in_oza
        c1 = p_lrv
        c2 = c1 + p_ill
        c3 = c2 + p_rem
        c4 = c3 + p_drop
        c5 = c4 + p_5a
        c6 = c5 + p_care
        c7 = c6 + p_ret
        e = sel & (u0 < c1)
        d.state[e] = S_LRV
        lday = (1 + (u3 * 14).astype(np.int32)).astype(np.uint8)
        mark(e, lday)
        e = sel & (u0 >= c1) & (u0 < c2)
        d.state[e] = S_ILL
        mark(e, rday)
        e = sel & (u0 >= c2) & (u0 < c4)
        drop = u0 >= c3
        waiting = e & ~drop & (u1 < p.av_waiting_share)
        leave(e, S_AV)
        d.avr[e] = np.where(drop, AVR_DROPOUT, AVR_REMOVED)[e]
        d.avr[waiting] = np.where(age[waiting] + 2 < SECONDARY_AGE_MONTHS, AVR_WAIT_SO,
                                  AVR_WAIT_VSO)
        old18 = e & (age >= ADULT_MONTHS)
        d.state[old18] = S_DONE
        d.avr[old18] = 0
        oza_end[e & in_oza] = O_DROPOUT
        mark(e, rday, np.where(drop, R_DROPOUT, R_REMOVED).astype(np.uint8))
        e = sel & (u0 >= c4) & (u0 < c5)
        leave(e, S_EX)
        d.exart[e] = EX_5A
        oza_end[e & in_oza] = O_DAY
        mark(e, rday, R_EXEMPTION)
        e = sel & (u0 >= c5) & (u0 < c6)
        leave(e, S_CARE)
        oza_end[e & in_oza] = O_CARE
        mark(e, rday, R_CARE)
        e = sel & (u0 >= c6) & (u0 < c7)
        d.cls[e] = 0
        enrol(e, np.where(age + 2 < SECONDARY_AGE_MONTHS, KIND_INDEX["po"],
                          KIND_INDEX["vo"]).astype(np.int8), u2)
        mark(e, rday, R_TRANSFER)
    # -- long-term relative absence
    sel = (st == S_LRV) & free
    if sel.any():
        h = np.where(d.dur < 3, p.lrv_exit_short,
                     p.lrv_exit_long * year_value(p.lrv_exit_trend, year)) * hr
        c1 = h
        c2 = c1 + p.lrv_to_removed
        c3 = c2 + p.lrv_to_5a
        c4 = c3 + p.lrv_to_care
        c5 = c4 + np.where(age >= ADULT_MONTHS, 0.1, 0.0)
        rec = sel & (u0 < c1)
        new = rec & (u1 < p.lrv_to_new_school) & ~in_oza
        spec = new & (u1 < p.lrv_to_new_school * p.lrv_new_school_special) & (age < AGE_17_MONTHS)
        d.cls[spec & ((d.cls == 0) | (d.cls == CLS_SBO))] = CLS_SO4
        d.state[rec & ~new] = S_ENR
        enrol(new, lambda ix: np.where(
            spec[ix], kinds_special(ix),
            np.where(d.sec[ix] == SEC_MBO, KIND_INDEX["mbo"], kinds_regular(ix))), u2)
        mark(rec, rday, R_TRANSFER)
        e = sel & (u0 >= c1) & (u0 < c2)
        waiting = e & (u1 < p.av_waiting_share) & (age < AGE_17_MONTHS)
        leave(e, S_AV)
        d.avr[e] = np.where(age[e] >= AGE_16_MONTHS, AVR_DROPOUT, AVR_REMOVED)
        d.avr[waiting] = np.where(age[waiting] + 2 < SECONDARY_AGE_MONTHS, AVR_WAIT_SO,
                                  AVR_WAIT_VSO)
        old18 = e & (age >= ADULT_MONTHS)
        d.state[old18] = S_DONE
        d.avr[old18] = 0
        oza_end[e & in_oza] = O_DROPOUT
        mark(e, rday, R_REMOVED)
        e = sel & (u0 >= c2) & (u0 < c3) & (age < ADULT_MONTHS)
        leave(e, S_EX)
        d.exart[e] = EX_5A
        oza_end[e & in_oza] = O_DAY
        mark(e, rday, R_EXEMPTION)
        e = sel & (u0 >= c3) & (u0 < c4) & (age < ADULT_MONTHS)
        leave(e, S_CARE)
        oza_end[e & in_oza] = O_CARE
        mark(e, rday, R_CARE)
        e = sel & (u0 >= c4) & (u0 < c5)
        leave(e, S_DONE)
        oza_end[e & in_oza] = O_DROPOUT
        mark(e, rday, R_DROPOUT)
    # -- long illness at home
    sel = (st == S_ILL) & free
    if sel.any():
        rec = sel & (u0 < p.ill_exit)
        d.state[rec] = S_ENR
        mark(rec, rday)
        e = sel & (u0 >= p.ill_exit) & (u0 < p.ill_exit + p.ill_to_5a) & (age < ADULT_MONTHS)
        leave(e, S_EX)
        d.exart[e] = EX_5A
        oza_end[e & in_oza] = O_DAY
        mark(e, rday, R_EXEMPTION)
    # -- absolute absence
    sel = (st == S_AV) & free
    if sel.any():
        avt = year_value(p.av_exit_trend, year)
        h = np.select(
            [d.avr == AVR_NEWCOMER, d.avr == AVR_MOVED, d.avr == AVR_REMOVED,
             d.avr == AVR_DROPOUT, (d.avr == AVR_WAIT_SO) | (d.avr == AVR_WAIT_VSO),
             d.avr == AVR_LAPSED],
            [year_value(p.av_exit_newcomer, year), p.av_exit_moved,
             np.where(d.dur < 3, p.av_exit_removed_short, p.av_exit_removed_long * avt),
             p.av_exit_dropout, p.av_exit_waiting * avt, p.av_exit_lapsed * avt], 0.2)
        back = sel & (u0 < h)
        wait = back & ((d.avr == AVR_WAIT_SO) | (d.avr == AVR_WAIT_VSO))
        d.cls[wait & ((d.cls == 0) | (d.cls == CLS_SBO))] = CLS_SO4
        enrol(back, lambda ix: np.where(
            wait[ix], kinds_special(ix),
            np.where((age[ix] >= AGE_16_MONTHS) & (d.avr[ix] == AVR_DROPOUT), KIND_INDEX["mbo"],
                     kinds_regular(ix))), u2)
        mark(back, rday)
        e = sel & (u0 >= h) & (u0 < h + p.av_to_5a) & comp
        leave(e, S_EX)
        d.exart[e] = EX_5A
        mark(e, rday)
    # -- exempt
    sel = (st == S_EX) & free
    if sel.any():
        h = np.select([d.exart == EX_5A, d.exart == EX_5B], [p.ex5a_exit, p.ex5b_exit],
                      p.ex15_exit)
        out = sel & (u0 < h)
        lapse = out & (d.exart == EX_5A) & (u1 < p.ex5a_lapse_share)
        leave(lapse, S_AV)
        d.avr[lapse] = AVR_LAPSED
        back = out & ~lapse
        special = back & (d.exart == EX_5A) & (u1 > 1 - 0.5 * (1 - p.ex5a_lapse_share))
        d.cls[special & ((d.cls == 0) | (d.cls == CLS_SBO))] = CLS_SO4
        enrol(back, lambda ix: np.where(special[ix], kinds_special(ix), kinds_regular(ix)), u2)
        mark(out, rday)
    # -- 24-hour care without education
    sel = (st == S_CARE) & free
    if sel.any():
        out = sel & (u0 < p.care24_exit)
        back = out & (u1 < 0.6)
        d.cls[back & ((d.cls == 0) | (d.cls == CLS_SBO))] = CLS_SO4
        enrol(back, kinds_special, u2)
        av = out & ~back
        leave(av, S_AV)
        d.avr[av] = AVR_OTHER
        mark(out, rday)
    # 9. moves (not during LRV/illness)
    sel = free & (d.gem >= 0) & (d.state != S_LRV) & (d.state != S_ILL) & (
        d.state != S_CARE) & (u4 < p.move_rate) & (age < 252)
    if sel.any():
        new_gem = d.gem.copy()
        new_gem[sel] = geo.draw_gemeente(u5[sel])
        sel &= new_gem != d.gem
        set_gem(sel, new_gem)
        enr = sel & (d.state == S_ENR)
        gap = enr & (u6 < p.move_gap_share) & comp
        leave(gap, S_AV)
        d.avr[gap] = AVR_MOVED
        stay = enr & ~gap
        enrol(stay, d.kind.astype(np.int8), u2)
        oza_end[enr & in_oza] = O_MOVED
        mark(sel, rday, R_MOVED)

    # LRV spells last more than 4 weeks: a spell entered last month ends >= 29 days later
    short = ev & (old_state == S_LRV) & (old_dur <= 0)
    if short.any():
        need = d.day_in.astype(np.int32) + 29 - dim_prev
        ev_day[short] = np.clip(np.maximum(ev_day, need), 1, dim)[short].astype(np.uint8)
    d.day_in[ev] = ev_day[ev]
    # OZA end that came with an event: participation ends the day before
    ended = (oza_end > 0) & (oza_end_day == 0)
    oza_end_day[ended] = np.where(ev[ended], ev_day[ended], rday[ended])
    # participation requires enrolment: anything else ends it
    lost = in_oza & (oza_end == 0) & ~((d.state >= S_ENR) & (d.state <= S_ILL))
    oza_end[lost] = O_OTHER
    oza_end_day[lost] = np.where(ev[lost], ev_day[lost], rday[lost])
    d.oza[oza_end > 0] = -1
    # history of long-term absence (observable in the register)
    lrv_now = d.state == S_LRV
    d.lrv_hist += lrv_now
    d.last_lrv[lrv_now] = m
    return StepOut(ev=ev, ev_day=ev_day, ev_reason=ev_reason, oza_end=oza_end,
                   oza_end_day=oza_end_day)


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


def _gumbel_top(w: np.ndarray, k: int, u: np.ndarray) -> np.ndarray:
    """Indices of a weighted sample of ``k`` without replacement (Gumbel top-k)."""
    keys = np.log(w) - np.log(-np.log(np.clip(u, 1e-12, 1 - 1e-12)))
    if k >= len(w):
        return np.argsort(-keys, kind="stable")
    top = np.argpartition(-keys, k)[:k]
    return np.sort(top)


AttendanceSink = Callable[[int, dict[str, np.ndarray]], None]


def run(pop: Population, geo: Geography, arr: Arrangements, params: SynthParams,
        last_month: int, rng: np.random.Generator, *, n_participants_target: int,
        attendance: AttendanceSink | None = None,
        progress: ProgressFn | None = None,
        extraction_date: np.datetime64 | None = None) -> SimResult:
    """Run the monthly simulation from the month the oldest cohort turns 4.

    Potential outcomes are recorded for months whose last day is on or before
    ``extraction_date`` (default: the end of ``last_month``). An lrv (ill)
    spell is only in the register from its report date, 28 (14) days after it
    starts; the recorded outcome counts a spell not yet reported on the
    extraction date as in education, as the register shows it.
    """
    ext = (extraction_date if extraction_date is not None
           else month_start(last_month + 1) - np.timedelta64(1, "D"))
    last_gt_month = last_month if month_start(last_month + 1) - np.timedelta64(1, "D") <= ext \
        else last_month - 1

    def in_education(dd: Dyn, mm: int) -> np.ndarray:
        y = dd.state == S_ENR
        absent = (dd.state == S_LRV) | (dd.state == S_ILL)
        if absent.any():
            start = month_start(mm - dd.dur.astype(np.int64)) + (
                dd.day_in.astype(np.int64) - 1).astype("timedelta64[D]")
            lag = np.where(dd.state == S_LRV, 28, 14).astype("timedelta64[D]")
            y |= absent & (start + lag > ext)
        return y

    p = params
    n = len(pop)
    ctx = Context(params=p, geo=geo, arr=arr)
    m_first = int(pop.bm.min()) + SCHOOL_ENTRY_MONTHS if n else 0
    d = Dyn.empty(n, pop.cls)
    pre = (pop.bm < m_first) & (pop.arr_m == BEFORE) & (pop.emig_m >= m_first) & (
        pop.death_m >= m_first)
    d.gem[pre] = pop.gem0[pre]
    d.swvp[pre] = geo.draw_swv(pop.gem0[pre], rng.random(int(pre.sum())), po=True)
    d.swvv[pre] = geo.draw_swv(pop.gem0[pre], rng.random(int(pre.sum())), po=False)
    log = _Log(_EVENT_FIELDS, {"idx": np.int32, "m": np.int16, "day": np.uint8,
                               "state": np.uint8, "school": np.int32, "gem": np.int16,
                               "kind": np.int8, "exart": np.uint8, "avr": np.uint8,
                               "tlv": np.uint8, "reason": np.uint8})
    ip = np.where(pre)[0]
    log.add(idx=ip, m=pop.bm[ip], day=pop.bday[ip], state=np.zeros(len(ip)),
            school=np.full(len(ip), -1), gem=d.gem[ip], kind=np.full(len(ip), -1),
            exart=np.zeros(len(ip)), avr=np.zeros(len(ip)), tlv=np.zeros(len(ip)),
            reason=np.zeros(len(ip)))
    rv = _Log(("idx", "school", "m", "day"), {"idx": np.int32, "school": np.int32,
                                              "m": np.int16, "day": np.uint8})
    n_sy = max(school_year_of_month(last_month) - 2014 + 1, 1)
    flags = np.zeros((n_sy, n), np.uint8)
    att_first = 12 + 12 * (p.attendance_first_year - 2014)
    hours = np.array((0, *p.monthly_hours), np.float32)
    mfac = np.array(p.month_factor, np.float32)
    att_rows = 0

    # OZA bookkeeping
    E = p.ground_truth_max_event_time
    cap = max(2 * n_participants_target + 16, 16)
    part_idx = np.zeros(cap, np.int64)
    part_arr = np.zeros(cap, np.int64)
    part_grp = np.zeros(cap, np.int64)
    part_primary = np.zeros(cap, bool)
    part_start = np.zeros(cap, np.int64)
    part_end_m = np.full(cap, -1, np.int64)
    part_end_day = np.zeros(cap, np.int64)
    part_reason = np.zeros(cap, np.int64)
    pk_of = np.full(n, -1, np.int64)
    y1 = np.full((cap, E + 1), -1, np.int8)
    y0 = np.full((cap, E + 1), -1, np.int8)
    n_part = 0
    shadow: Dyn | None = None
    shadow_ids = np.zeros(0, np.int64)
    shadow_P: Population | None = None
    # independent replicates, untreated and treated: like the shadow, but with their own
    # random numbers from the start month on (separate streams, so the register itself is
    # unchanged); their means estimate E[Y(d) | the participant's full simulated state at
    # the start], i.e. the participant's chances with and without OZA
    R = max(int(p.ground_truth_replicates), 0)
    seed_seq = getattr(rng.bit_generator, "seed_seq", None)
    streams = seed_seq.spawn(2) if seed_seq is not None else (0, 1)
    reps = (_Replicates(R, cap, E, np.random.default_rng(streams[0]), treat=False),
            _Replicates(R, cap, E, np.random.default_rng(streams[1]), treat=True))
    act_starts = np.sort(arr.start_m)
    months = np.arange(m_first, last_month + 1)
    active_n = np.array([(act_starts <= mm + 1).sum() if mm <= last_month - 6 else 0
                         for mm in months], float)
    quota_rate = n_participants_target * active_n / max(active_n.sum(), 1.0)
    quota = 0.0
    keys = ("at_risk", "long_term_absent", "not_enrolled", "exempt_5a")
    gw = np.array([p.oza_group_weight[k] for k in keys])

    total = last_month - m_first + 1
    for step_i, m in enumerate(months):
        m = int(m)
        # persons aged 0..21 this month form one slice (population is in birth order)
        lo = int(np.searchsorted(pop.bm, m - 252, side="left"))
        hi = int(np.searchsorted(pop.bm, m, side="right"))
        dv = d.slice(lo, hi)
        pv = pop.slice(lo, hi)
        U = rng.random((N_UNIFORMS, hi - lo), dtype=np.float32)
        old_state = dv.state.copy()
        old_school = dv.school.copy()
        old_sec = dv.sec.copy()
        out = step(dv, pv, m, U, ctx, treat=True)
        # ---- events
        e = np.nonzero(out.ev)[0]
        log.add(idx=e + lo, m=np.full(len(e), m), day=out.ev_day[e], state=dv.state[e],
                school=dv.school[e], gem=dv.gem[e], kind=dv.kind[e], exart=dv.exart[e],
                avr=dv.avr[e], tlv=dv.tlv[e], reason=out.ev_reason[e])
        # ---- OZA starts/ends and potential outcomes
        if n_part:
            ends = np.nonzero(out.oza_end)[0] + lo
            for i in ends.tolist():
                k = pk_of[i]
                if k >= 0 and part_end_m[k] < 0 and part_start[k] <= m:
                    part_end_m[k] = m
                    part_end_day[k] = out.oza_end_day[i - lo]
                    part_reason[k] = out.oza_end[i - lo]
            assert shadow is not None and shadow_P is not None
            if shadow_ids.min() < lo or shadow_ids.max() >= hi:  # pragma: no cover
                raise RuntimeError("OZA participant outside the simulated age window")
            step(shadow, shadow_P, m, U[:, shadow_ids - lo], ctx, treat=False)
            ks = np.arange(n_part)
            ev_t = m - part_start[:n_part]
            ok = (ev_t >= 0) & (ev_t <= E) & (m <= last_gt_month)
            y1[ks[ok], ev_t[ok]] = in_education(d.take(part_idx[:n_part][ok]), m)
            y0[ks[ok], ev_t[ok]] = in_education(shadow.take(np.nonzero(ok)[0]), m)
            for r in reps:
                r.step(m, ctx, ok, ev_t, in_education)
        # ---- attendance and relative-absence reports
        age = m - pv.bm
        comp = (age >= COMPULSORY_START_MONTHS) & (age < ADULT_MONTHS) & ~dv.sqf
        if m >= 12:
            lrv_tr = year_value(p.lrv_trend, 2013 + (7 + m) // 12)
            spike = ((old_state == S_ENR) & (dv.state == S_ENR) & ~out.ev & comp
                     & (U[7] < p.rv16_rate * pv.risk * lrv_tr))
            entry = out.ev & (dv.state == S_LRV) & (old_state == S_ENR)
            sp = np.nonzero(spike | entry)[0]
            rv.add(idx=sp + lo, school=dv.school[sp], m=np.full(len(sp), m),
                   day=np.where(entry[sp], out.ev_day[sp],
                                1 + (U[3][sp] * 20).astype(np.int64)))
            sy = school_year_of_month(m) - 2014
            if sy < n_sy:
                fl = flags[sy, lo:hi]
                present = (dv.gem >= 0) & (age >= SCHOOL_ENTRY_MONTHS) & (age < ADULT_MONTHS)
                st = dv.state
                fl |= (present * F_PRESENT + (st == S_LRV) * F_LRV + (st == S_ILL) * F_ILL
                       + ((st == S_AV) & comp) * F_AV
                       + ((st == S_EX) & (dv.exart == EX_5A)) * F_EX5A
                       + (st == S_CARE) * F_CARE
                       + ((dv.sec == SEC_SO) | (dv.sec == SEC_VSO)) * F_SPECIAL
                       + ((st >= S_ENR) & (st <= S_ILL)) * F_ENROLLED).astype(np.uint8)
            if attendance is not None and m >= att_first:
                att = _attendance(m, old_state, old_school, old_sec, dv, out, U, pv, hours,
                                  mfac, spike)
                att["idx"] = att["idx"] + lo
                att_rows += len(att["idx"])
                attendance(m, att)
        # ---- OZA selection for next month
        if m + 1 >= act_starts[0] and m + 1 <= last_month:
            quota += quota_rate[step_i]
            age1 = age + 1
            g = np.full(hi - lo, -1, np.int64)
            base = (dv.gem >= 0) & ~dv.part & (age1 >= COMPULSORY_START_MONTHS) & (
                age1 < AGE_17_MONTHS) & (pv.emig_m > m + 1) & (pv.death_m > m + 1) & (
                dv.pending < 0)
            g[base & (dv.state == S_LRV)] = G_LTA
            g[base & (dv.state == S_AV) & (dv.dur >= 1)] = G_NOT_ENROLLED
            g[base & (dv.state == S_EX) & (dv.exart == EX_5A)] = G_EX5A
            g[base & (dv.state == S_ENR) & (dv.lrv_hist > 0) & (dv.last_lrv >= m - 24)
              ] = G_AT_RISK
            pool = np.nonzero(g >= 0)[0]
            k = int(min(np.floor(quota), np.floor(p.oza_max_pool_share * len(pool))))
            if k > 0 and len(pool):
                gp = g[pool]
                w = (gw[gp] * np.where(pv.child_protection[pool],
                                       p.oza_weight_child_protection, 1.0)
                     * np.where(pv.parent_edu[pool] == 0, p.oza_weight_low_education, 1.0)
                     * np.exp(p.oza_weight_per_history_month
                              * np.minimum(dv.lrv_hist[pool], 24)))
                chosen = pool[_gumbel_top(w, k, rng.random(len(pool)))]
                act = arr.start_m <= m + 1
                new_ids = []
                for j in chosen.tolist():
                    i = j + lo
                    gi = int(g[j])
                    prim = bool(age1[j] < SECONDARY_AGE_MONTHS)
                    cand = act & arr.accepts[:, gi] & (arr.is_po == prim)
                    if not cand.any():
                        cand = act & arr.accepts[:, gi]
                    if not cand.any():
                        continue
                    local = cand & np.where(arr.is_po, arr.swv == d.swvp[i],
                                            arr.swv == d.swvv[i])
                    c = np.nonzero(local if local.any() else cand)[0]
                    a = int(c[int(rng.integers(len(c)))])
                    if n_part >= cap:
                        break
                    d.pending[i] = a
                    d.part[i] = True
                    d.oza_grp[i] = gi
                    d.oza_primary[i] = prim
                    part_idx[n_part] = i
                    part_arr[n_part] = a
                    part_grp[n_part] = gi
                    part_primary[n_part] = prim
                    part_start[n_part] = m + 1
                    pk_of[i] = n_part
                    n_part += 1
                    new_ids.append(i)
                    quota -= 1
                if new_ids:
                    ni = np.array(new_ids, np.int64)
                    clone = d.take(ni)
                    clone.pending[:] = -1
                    shadow = clone if shadow is None else _concat(shadow, clone)
                    shadow_ids = np.concatenate([shadow_ids, ni])
                    shadow_P = pop.take(shadow_ids)
                    for r in reps:
                        r.add(d, pop, ni, np.arange(n_part - len(ni), n_part), part_idx)
        if progress is not None and (step_i % 6 == 0 or m == last_month):
            progress("simulate", step_i + 1, total)

    events = log.result()
    rvr = rv.result()
    parts = {"idx": part_idx[:n_part], "arrangement": part_arr[:n_part],
             "group": part_grp[:n_part], "primary": part_primary[:n_part],
             "start_m": part_start[:n_part], "end_m": part_end_m[:n_part],
             "end_day": part_end_day[:n_part], "reason": part_reason[:n_part]}
    return SimResult(events=events, rv_reports=rvr, year_flags=flags, participants=parts,
                     y1=y1[:n_part], y0=y0[:n_part],
                     y0_mean=reps[0].mean(y1[:n_part] >= 0),
                     y1_mean=reps[1].mean(y1[:n_part] >= 0),
                     first_month=m_first,
                     attendance_rows=att_rows)


class _Replicates:
    """``R`` copies of every participant, made at selection, that live on with their own
    random numbers, untreated (``treat=False``: the OZA start is dropped) or treated
    (the same start as the participant). ``mean`` gives the mean outcome per
    participant and event time: an estimate of E[Y(d) | full simulated state at the
    start]."""

    def __init__(self, R: int, cap: int, E: int, rng: np.random.Generator, *,
                 treat: bool) -> None:
        self.R, self.rng, self.treat = R, rng, treat
        self.dyn: Dyn | None = None
        self.pop: Population | None = None
        self.part = np.zeros(0, np.int64)  # participant number of each copy
        self.sum = np.zeros((cap, E + 1), np.float32)

    def add(self, d: Dyn, pop: Population, persons: np.ndarray, numbers: np.ndarray,
            part_idx: np.ndarray) -> None:
        """Copy the newly selected ``persons`` (participant ``numbers``) ``R`` times."""
        if not self.R:
            return
        clone = d.take(np.repeat(persons, self.R))
        if not self.treat:
            clone.pending[:] = -1
        self.dyn = clone if self.dyn is None else _concat(self.dyn, clone)
        self.part = np.concatenate([self.part, np.repeat(numbers, self.R)])
        self.pop = pop.take(part_idx[self.part])

    def step(self, m: int, ctx: Context, ok: np.ndarray, ev_t: np.ndarray,
             outcome: Callable[[Dyn, int], np.ndarray]) -> None:
        """Advance all copies one month; add the outcome at the event times ``ok``."""
        if self.dyn is None or self.pop is None:
            return
        u = self.rng.random((N_UNIFORMS, len(self.part)), dtype=np.float32)
        step(self.dyn, self.pop, m, u, ctx, treat=self.treat)
        rok = ok[self.part]
        np.add.at(self.sum, (self.part[rok], ev_t[self.part[rok]]),
                  outcome(self.dyn.take(np.nonzero(rok)[0]), m))

    def mean(self, observed: np.ndarray) -> np.ndarray:
        """Mean outcome where ``observed`` (NaN elsewhere, and everywhere without copies)."""
        n = observed.shape[0]
        if not self.R:
            return np.full(observed.shape, np.nan, np.float32)
        return np.where(observed, self.sum[:n] / self.R, np.nan).astype(np.float32)


def _concat(a: Dyn, b: Dyn) -> Dyn:
    return Dyn(**{f.name: np.concatenate([getattr(a, f.name), getattr(b, f.name)])
                  for f in fields(a)})


def school_year_of_month(m: int) -> int:
    """Start year of the school year of month index ``m``."""
    year = 2013 + (7 + m) // 12
    cal = (7 + m) % 12 + 1
    return year if cal >= 8 else year - 1


def _attendance(m: int, old_state: np.ndarray, old_school: np.ndarray, old_sec: np.ndarray,
                d: Dyn, out: StepOut, U: np.ndarray, pop: Population, hours: np.ndarray,
                mfac: np.ndarray, spike: np.ndarray) -> dict[str, np.ndarray]:
    """Attendance rows (hours per pupil and school) of month ``m``."""
    dim = int(days_in_month(m))
    cal = (7 + m) % 12 + 1
    old_enr = (old_state >= S_ENR) & (old_state <= S_ILL) & (old_school >= 0)
    new_enr = (d.state >= S_ENR) & (d.state <= S_ILL) & (d.school >= 0)
    same = old_enr & new_enr & (old_school == d.school)
    f_old = np.where(out.ev, (out.ev_day.astype(np.float32) - 1) / dim, 1.0).astype(np.float32)
    f_new = np.where(out.ev, 1.0 - f_old, 0.0).astype(np.float32)
    u = U[6]

    def rates(state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        unexc = np.select([state == S_LRV, state == S_ILL],
                          [0.85 + 0.15 * u, 0.03 * u], pop.unexcused * (0.5 + u))
        exc = np.select([state == S_LRV, state == S_ILL],
                        [0.03 * u, 0.9 + 0.1 * u], pop.excused * (0.5 + u))
        return unexc.astype(np.float32), exc.astype(np.float32)

    uo, eo = rates(old_state)
    un, en = rates(d.state)
    rows_idx = []
    rows_school = []
    rows_sec = []
    rows_f = []
    rows_u = []
    rows_e = []
    # A: one school the whole month (both portions)
    a = np.nonzero(same)[0]
    rows_idx.append(a)
    rows_school.append(d.school[a])
    rows_sec.append(d.sec[a])
    rows_f.append(f_old[a] + f_new[a])
    rows_u.append(f_old[a] * uo[a] + f_new[a] * un[a])
    rows_e.append(f_old[a] * eo[a] + f_new[a] * en[a])
    # B: the old school's part of the month
    b = np.nonzero(old_enr & ~same)[0]
    rows_idx.append(b)
    rows_school.append(old_school[b])
    rows_sec.append(old_sec[b])
    rows_f.append(f_old[b])
    rows_u.append(f_old[b] * uo[b])
    rows_e.append(f_old[b] * eo[b])
    # C: the new school's part
    c = np.nonzero(new_enr & ~same)[0]
    rows_idx.append(c)
    rows_school.append(d.school[c])
    rows_sec.append(d.sec[c])
    rows_f.append(f_new[c])
    rows_u.append(f_new[c] * un[c])
    rows_e.append(f_new[c] * en[c])
    idx = np.concatenate(rows_idx)
    full = hours[np.concatenate(rows_sec)] * mfac[cal - 1]
    sched = np.rint(full * np.concatenate(rows_f)).astype(np.int32)
    unexc = np.rint(full * np.concatenate(rows_u)).astype(np.int32)
    exc = np.rint(full * np.concatenate(rows_e)).astype(np.int32)
    extra = np.concatenate([np.where(spike[a], 16 + (U[5][a] * 14).astype(np.int32), 0),
                            np.zeros(len(b) + len(c), np.int32)])
    unexc = np.minimum(unexc + extra, sched)
    exc = np.minimum(exc, sched - unexc)
    present = sched - unexc - exc
    school = np.concatenate(rows_school)
    order = np.lexsort((np.concatenate([np.zeros(len(a)), np.zeros(len(b)),
                                        np.ones(len(c))]), idx))
    keep = order[sched[order] > 0]
    return {"idx": idx[keep], "school": school[keep], "scheduled": sched[keep],
            "present": present[keep], "excused": exc[keep], "unexcused": unexc[keep]}
