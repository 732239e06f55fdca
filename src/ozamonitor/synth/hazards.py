"""Random transitions: the monthly hazards out of each state.

:func:`hazard_factors` sets the factors every hazard uses (compulsory age, the
age and trend factors, OZA's rate and hazard ratios while participating); then
one function per state draws the month's transitions out of it, reading its own
slots of the uniforms: :func:`from_enrolled`, :func:`from_long_term_absence`,
:func:`from_illness`, :func:`from_absolute_absence`, :func:`from_exempt`,
:func:`from_care24`; :func:`oza_end_by_hazard` ends participations and
:func:`moves` moves households to another gemeente.
"""

from __future__ import annotations

import numpy as np

from ozamonitor.register.calendar import (
    ADULT_MONTHS,
    AGE_16_MONTHS,
    AGE_17_MONTHS,
    COMPULSORY_START_MONTHS,
    SCHOOL_ENTRY_MONTHS,
    SECONDARY_AGE_MONTHS,
)
from ozamonitor.register.schema import OZA_TARGET_GROUPS
from ozamonitor.synth.geography import KIND_INDEX
from ozamonitor.synth.month import Month
from ozamonitor.synth.params import year_value
from ozamonitor.synth.population import CLS_SBO, CLS_SO4
from ozamonitor.synth.states import (
    AVR_DROPOUT,
    AVR_LAPSED,
    AVR_MOVED,
    AVR_NEWCOMER,
    AVR_OTHER,
    AVR_REMOVED,
    AVR_WAIT_SO,
    AVR_WAIT_VSO,
    EX_5A,
    EX_5B,
    MAX_AGE_MONTHS,
    O_CARE,
    O_DAY,
    O_DROPOUT,
    O_MOVED,
    O_OTHER,
    O_OTHER_ARR,
    O_QUAL,
    O_REGULAR,
    O_SPECIAL,
    R_CARE,
    R_DROPOUT,
    R_EXEMPTION,
    R_MOVED,
    R_REMOVED,
    R_SQ,
    R_TRANSFER,
    S_AV,
    S_CARE,
    S_DONE,
    S_ENR,
    S_EX,
    S_ILL,
    S_LRV,
    SEC_MBO,
    SEC_SBO,
    SEC_SO,
    SEC_VO,
)

__all__ = [
    "from_absolute_absence",
    "from_care24",
    "from_enrolled",
    "from_exempt",
    "from_illness",
    "from_long_term_absence",
    "hazard_factors",
    "moves",
    "oza_end_by_hazard",
]


def hazard_factors(s: Month) -> None:
    """Factors of the random transitions: compulsory age, age and trend factors,
    OZA's rate and hazard ratios while participating."""
    (d, P, ctx, treat, p, n, year, age, ay, in_oza) = (
        s.d, s.P, s.ctx, s.treat, s.p, s.n, s.year, s.age, s.ay, s.in_oza)
    comp = (age >= COMPULSORY_START_MONTHS) & (age < ADULT_MONTHS) & ~d.sqf
    fa = ctx.lrv_age[np.clip(ay - 4, 0, len(ctx.lrv_age) - 1)]
    risk = P.risk
    rr = np.ones(n, np.float32)
    hr = np.ones(n, np.float32)
    if treat and in_oza.any():
        g = d.oza_grp.astype(np.int64)
        rr_g = np.array([p.oza_lrv_onset_rr[k] for k in OZA_TARGET_GROUPS], np.float32)
        hr_g = np.array([p.oza_lrv_recovery_hr[k] for k in OZA_TARGET_GROUPS], np.float32)
        mod = np.where(d.oza_primary, p.oza_primary_age_modifier, 1.0)
        rr = np.where(in_oza, np.clip(1 - (1 - rr_g[g]) * mod, 0.05, 1), 1.0)
        hr = np.where(in_oza, 1 + (hr_g[g] - 1) * mod, 1.0)
    lrv_tr = year_value(p.lrv_trend, year)

    s.comp = comp
    s.fa = fa
    s.risk = risk
    s.rr = rr
    s.hr = hr
    s.lrv_tr = lrv_tr
    s.comp, s.fa, s.risk, s.rr, s.hr, s.lrv_tr = comp, fa, risk, rr, hr, lrv_tr



def oza_end_by_hazard(s: Month) -> None:
    """OZA ends by hazard (observed world)."""
    (d, m, treat, p, age, u1, u2, u6, rday, free, oza_end, oza_end_day, in_oza, mark, leave,
     kinds_special, enrol) = (
        s.d, s.m, s.treat, s.p, s.age, s.u1, s.u2, s.u6, s.rday, s.free, s.oza_end,
        s.oza_end_day, s.in_oza, s.mark, s.leave, s.kinds_special, s.enrol)
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



def from_enrolled(s: Month) -> None:
    """Enrolled, attending: LRV, illness, removal, dropout, 5a, 24-hour care, or a
    return from special to regular education."""
    (d, m, p, age, u0, u1, u2, u3, rday, free, oza_end, in_oza, mark, leave, enrol, comp, fa,
     risk, rr, lrv_tr) = (
        s.d, s.m, s.p, s.age, s.u0, s.u1, s.u2, s.u3, s.rday, s.free, s.oza_end, s.in_oza,
        s.mark, s.leave, s.enrol, s.comp, s.fa, s.risk, s.rr, s.lrv_tr)
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
        s.to_absolute_absence(e, np.where(drop, AVR_DROPOUT, AVR_REMOVED), waiting)
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


def from_long_term_absence(s: Month) -> None:
    """Long-term relative absence (LRV): recovery (possibly at a new school),
    removal, 5a, 24-hour care, or leaving at 18."""
    (d, p, year, age, u0, u1, u2, rday, free, oza_end, in_oza, mark, leave, kinds_special,
     kinds_regular, enrol, hr) = (
        s.d, s.p, s.year, s.age, s.u0, s.u1, s.u2, s.rday, s.free, s.oza_end, s.in_oza, s.mark,
        s.leave, s.kinds_special, s.kinds_regular, s.enrol, s.hr)
    sel = (d.state == S_LRV) & free
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
        s.to_absolute_absence(e, np.where(age >= AGE_16_MONTHS, AVR_DROPOUT, AVR_REMOVED),
                              waiting)
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


def from_illness(s: Month) -> None:
    """Long illness at home: recovery or 5a."""
    (d, p, age, u0, rday, free, oza_end, in_oza, mark, leave) = (
        s.d, s.p, s.age, s.u0, s.rday, s.free, s.oza_end, s.in_oza, s.mark, s.leave)
    sel = (d.state == S_ILL) & free
    if sel.any():
        rec = sel & (u0 < p.ill_exit)
        d.state[rec] = S_ENR
        mark(rec, rday)
        e = sel & (u0 >= p.ill_exit) & (u0 < p.ill_exit + p.ill_to_5a) & (age < ADULT_MONTHS)
        leave(e, S_EX)
        d.exart[e] = EX_5A
        oza_end[e & in_oza] = O_DAY
        mark(e, rday, R_EXEMPTION)


def from_absolute_absence(s: Month) -> None:
    """Absolute absence (not enrolled): back to school, or 5a."""
    (d, p, year, age, u0, u2, rday, free, mark, leave, kinds_special, kinds_regular, enrol,
     comp) = (
        s.d, s.p, s.year, s.age, s.u0, s.u2, s.rday, s.free, s.mark, s.leave, s.kinds_special,
        s.kinds_regular, s.enrol, s.comp)
    sel = (d.state == S_AV) & free
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


def from_exempt(s: Month) -> None:
    """Exempt: the exemption ends (it lapses into absolute absence, or back to school)."""
    (d, p, u0, u1, u2, rday, free, mark, leave, kinds_special, kinds_regular, enrol) = (
        s.d, s.p, s.u0, s.u1, s.u2, s.rday, s.free, s.mark, s.leave, s.kinds_special,
        s.kinds_regular, s.enrol)
    sel = (d.state == S_EX) & free
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


def from_care24(s: Month) -> None:
    """24-hour care without education: back to (special) school, or absolute absence."""
    (d, p, u0, u1, u2, rday, free, mark, leave, kinds_special, enrol) = (
        s.d, s.p, s.u0, s.u1, s.u2, s.rday, s.free, s.mark, s.leave, s.kinds_special, s.enrol)
    sel = (d.state == S_CARE) & free
    if sel.any():
        out = sel & (u0 < p.care24_exit)
        back = out & (u1 < 0.6)
        d.cls[back & ((d.cls == 0) | (d.cls == CLS_SBO))] = CLS_SO4
        enrol(back, kinds_special, u2)
        av = out & ~back
        leave(av, S_AV)
        d.avr[av] = AVR_OTHER
        mark(out, rday)


def moves(s: Month) -> None:
    """Moves to another gemeente (not during LRV, illness or 24-hour care)."""
    (d, p, geo, age, u2, u4, u5, u6, rday, free, oza_end, in_oza, mark, leave, enrol, set_gem,
     comp) = (
        s.d, s.p, s.geo, s.age, s.u2, s.u4, s.u5, s.u6, s.rday, s.free, s.oza_end, s.in_oza,
        s.mark, s.leave, s.enrol, s.set_gem, s.comp)
    sel = free & (d.gem >= 0) & (d.state != S_LRV) & (d.state != S_ILL) & (
        d.state != S_CARE) & (u4 < p.move_rate) & (age < MAX_AGE_MONTHS)
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



