"""Scheduled transitions: life events and the school system's calendar.

Deaths and emigration, births and arrivals, school entry at 4, OZA starts, the
August moves through the school system, referrals to special education and the
age-out at 18: transitions that happen at a known month (of the person's life or
of the school year) rather than by a monthly hazard
(:mod:`ozamonitor.synth.hazards`). Each function works on a
:class:`~ozamonitor.synth.month.Month` and skips the persons already moved this
month.
"""

from __future__ import annotations

import numpy as np

from ozamonitor.register.calendar import (
    ADULT_MONTHS,
    COMPULSORY_START_MONTHS,
    SCHOOL_ENTRY_MONTHS,
    SECONDARY_AGE_MONTHS,
)
from ozamonitor.synth.geography import KIND_CLUSTER, KIND_INDEX, KIND_SECTOR
from ozamonitor.synth.month import Month
from ozamonitor.synth.params import year_value
from ozamonitor.synth.population import (
    BEFORE,
    CLS_SBO,
    CLS_SO1,
    CLS_SO2,
    CLS_SO3,
    CLS_SO4,
    CLS_VSO3,
)
from ozamonitor.synth.states import (
    AVR_DROPOUT,
    AVR_NEWCOMER,
    MAX_AGE_MONTHS,
    O_MOVED,
    O_OTHER,
    R_CARE,
    R_DECEASED,
    R_DIPLOMA,
    R_DROPOUT,
    R_EMIGRATED,
    R_OTHER,
    R_SQ,
    R_TRANSFER,
    S_AV,
    S_CARE,
    S_DONE,
    S_ENR,
    S_EX,
    S_ILL,
    S_NONE,
    SEC_MBO,
    SEC_PO,
    SEC_SBO,
    SEC_SO,
    SEC_VO,
    SEC_VSO,
)

__all__ = [
    "age_out",
    "august",
    "births_and_arrivals",
    "deaths_and_emigrations",
    "oza_start",
    "referral",
    "school_entry",
]


def deaths_and_emigrations(s: Month) -> None:
    """Death and emigration (static months, identical in both potential worlds)."""
    (d, P, m, free, oza_end, in_oza, mark, leave) = (
        s.d, s.P, s.m, s.free, s.oza_end, s.in_oza, s.mark, s.leave)
    alive = (d.state != S_NONE) | (d.gem >= 0)
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


def births_and_arrivals(s: Month) -> None:
    """Birth (natives) and arrival (newcomers)."""
    (d, P, m, p, year, age, u1, u2, bday, free, mark, kinds_regular, enrol, set_gem) = (
        s.d, s.P, s.m, s.p, s.year, s.age, s.u1, s.u2, s.bday, s.free, s.mark, s.kinds_regular,
        s.enrol, s.set_gem)
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


def school_entry(s: Month) -> None:
    """School entry at 4 (special classes with an early referral start in so), and
    home exemption from the start of compulsory education."""
    (d, P, p, year, age, u1, u2, bday, free, mark, kinds_special, enrol) = (
        s.d, s.P, s.p, s.year, s.age, s.u1, s.u2, s.bday, s.free, s.mark, s.kinds_special,
        s.enrol)
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


def oza_start(s: Month) -> None:
    """OZA start (observed world only): enrolment at the host school on day 1."""
    d, m, ctx, treat, p, u7, free, mark = s.d, s.m, s.ctx, s.treat, s.p, s.u7, s.free, s.mark
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
            s.in_oza = d.oza >= 0


def august(s: Month) -> None:
    """August: move on in the school system; at 21 everyone has left school."""
    (d, P, m, p, n, cal, age, u1, u2, rday, free, oza_end, in_oza, mark, leave, kinds_special,
     enrol) = (
        s.d, s.P, s.m, s.p, s.n, s.cal, s.age, s.u1, s.u2, s.rday, s.free, s.oza_end, s.in_oza,
        s.mark, s.leave, s.kinds_special, s.enrol)
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
    sel = (d.state >= S_ENR) & (d.state <= S_ILL) & free & (age >= MAX_AGE_MONTHS)
    leave(sel, S_DONE)
    oza_end[sel & in_oza] = O_OTHER
    mark(sel, rday, R_DIPLOMA)


def referral(s: Month) -> None:
    """Referral to special education at the person's referral age."""
    (d, P, p, year, age, u1, u2, rday, free, in_oza, mark, kinds_special, enrol) = (
        s.d, s.P, s.p, s.year, s.age, s.u1, s.u2, s.rday, s.free, s.in_oza, s.mark,
        s.kinds_special, s.enrol)
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


def age_out(s: Month) -> None:
    """Age-out of the not-enrolled states at 18."""
    d, age, bday, free, mark, leave = s.d, s.age, s.bday, s.free, s.mark, s.leave
    sel = (d.state >= S_AV) & (d.state <= S_CARE) & free & (age >= ADULT_MONTHS)
    leave(sel, S_NONE)
    mark(sel, bday)


