"""numba kernel of the absence signals: one pass over the day rows of all persons.

Written as a loop because episodes, the 28-day window and LRV runs are
sequential state per person (a polars window expression per person is slow
with millions of persons and cannot carry "one signal per episode").
"""

from __future__ import annotations

import numpy as np
from numba import njit

_EPS = 1e-9


@njit(cache=True)
def signal_kernel(pid, day, region, school_day, unauth, episode, lrv,
                  cum, ordinal_day, counts, plus_months, asof_day,
                  report_hours, window, gap, lrv_days):  # pragma: no cover - jit
    """Episodes, report_16h_4w and LRV runs of sorted day rows (see signals.py).

    Returns arrays: episodes (pid, start, last, close; close -1 = open on the
    as-of day), reports (pid, day, hours, episode start), lrv_4w and lrv_3m
    (pid, day, run start).
    """
    # Long on purpose: one numba pass over the sorted rows keeps episode, report and
    # LRV state together; split into functions it would need intermediate arrays.
    n = len(pid)
    ep_pid = np.empty(n, np.int64)
    ep_start = np.empty(n, np.int64)
    ep_last = np.empty(n, np.int64)
    ep_close = np.empty(n, np.int64)
    rp_pid = np.empty(n, np.int64)
    rp_day = np.empty(n, np.int64)
    rp_hours = np.empty(n, np.float64)
    rp_ep = np.empty(n, np.int64)
    l4_pid = np.empty(n, np.int64)
    l4_day = np.empty(n, np.int64)
    l4_start = np.empty(n, np.int64)
    l3_pid = np.empty(n, np.int64)
    l3_day = np.empty(n, np.int64)
    l3_start = np.empty(n, np.int64)
    ne = 0
    nr = 0
    n4 = 0
    n3 = 0
    cur = -1
    ep_open = False
    ep_close_day = -1
    reported = False
    last_region = 0
    j = 0
    wsum = 0.0
    run_on = False
    run_start = 0
    run_last = 0
    done4 = False
    done3 = False
    for i in range(n):
        if pid[i] != cur:
            if ep_open:
                ep_close[ne - 1] = ep_close_day
            cur = pid[i]
            ep_open = False
            j = i
            wsum = 0.0
            run_on = False
        r = region[i]
        d = day[i]
        # ---- episodes
        if episode[i]:
            if ep_open and d > ep_close_day >= 0:
                ep_close[ne - 1] = ep_close_day
                ep_open = False
            if not ep_open:
                ep_pid[ne] = cur
                ep_start[ne] = d
                ne += 1
                ep_open = True
                reported = False
            ep_last[ne - 1] = d
            last_region = r
            target = cum[last_region, d + 1] + gap - 1
            if target < counts[last_region]:
                c = ordinal_day[last_region, target]
                ep_close_day = c if c <= asof_day else -1
            else:
                ep_close_day = -1
        # ---- unauthorised hours in the window ending today
        wsum += unauth[i]
        while day[j] <= d - window:
            wsum -= unauth[j]
            j += 1
        if (unauth[i] > 0 and ep_open and not reported and ep_last[ne - 1] == d
                and wsum > report_hours + _EPS):
            rp_pid[nr] = cur
            rp_day[nr] = d
            rp_hours[nr] = wsum
            rp_ep[nr] = ep_start[ne - 1]
            nr += 1
            reported = True
        # ---- runs of unauthorised absence on every school day
        if school_day[i]:
            if lrv[i]:
                if not (run_on and cum[r, d] == cum[r, run_last] + 1):
                    run_on = True
                    run_start = d
                    done4 = False
                    done3 = False
                run_last = d
                if not done4 and d - run_start + 1 > lrv_days:
                    l4_pid[n4] = cur
                    l4_day[n4] = d
                    l4_start[n4] = run_start
                    n4 += 1
                    done4 = True
                if not done3 and d >= plus_months[run_start]:
                    l3_pid[n3] = cur
                    l3_day[n3] = d
                    l3_start[n3] = run_start
                    n3 += 1
                    done3 = True
            else:
                run_on = False
    if ep_open:
        ep_close[ne - 1] = ep_close_day
    return (ep_pid[:ne], ep_start[:ne], ep_last[:ne], ep_close[:ne],
            rp_pid[:nr], rp_day[:nr], rp_hours[:nr], rp_ep[:nr],
            l4_pid[:n4], l4_day[:n4], l4_start[:n4],
            l3_pid[:n3], l3_day[:n3], l3_start[:n3])
