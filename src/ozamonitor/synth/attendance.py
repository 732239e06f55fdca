"""Attendance rows: scheduled, present and absent hours per pupil, school and month.

A pupil who changes school within a month gets one row per school with that
school's share of the month; absence rates follow the pupil's state (LRV,
illness, or the pupil's own excused and unexcused rates), and a spike of
unexcused hours marks the relative-absence reports of 16 hours or more.
"""

from __future__ import annotations

import numpy as np

from ozamonitor.synth.population import Population, days_in_month
from ozamonitor.synth.states import S_ENR, S_ILL, S_LRV, Dyn, StepOut

__all__ = ["attendance_rows"]


def attendance_rows(m: int, old_state: np.ndarray, old_school: np.ndarray, old_sec: np.ndarray,
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
