"""One month of the microsimulation: every transition, in a fixed order.

:func:`step` advances every person by one month, in place. A person has at most
one transition per month; it happens on a day of that month (``ev_day``), so a
state recorded for month *m* holds on the last day of *m*. Per month and person
eight uniform random numbers are drawn (``U``) and every transition reads its
own slot of ``U``, so the untreated copy of an OZA participant (the *shadow*,
stepped with the same ``U`` and ``treat=False``) differs from the participant
only by OZA.

The transitions run in a fixed order (:data:`ORDER`), each on the persons
still ``free`` this month. First the scheduled ones
(:mod:`ozamonitor.synth.events`): deaths and emigration, births and arrivals,
school entry, OZA starts, the August moves through the school system,
referrals to special education, age-out at 18. Then the monthly hazards
(:mod:`ozamonitor.synth.hazards`): OZA ends, and one function per state for
the transitions out of it (enrolled, LRV, illness, absolute absence, exempt,
24-hour care), and moves.
The order is part of the generator's output: the same seed gives the same
bytes only as long as it is kept.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ozamonitor.synth.events import (
    age_out,
    august,
    births_and_arrivals,
    deaths_and_emigrations,
    oza_start,
    referral,
    school_entry,
)
from ozamonitor.synth.hazards import (
    from_absolute_absence,
    from_care24,
    from_enrolled,
    from_exempt,
    from_illness,
    from_long_term_absence,
    hazard_factors,
    moves,
    oza_end_by_hazard,
)
from ozamonitor.synth.month import Month
from ozamonitor.synth.population import Population
from ozamonitor.synth.states import O_OTHER, S_ENR, S_ILL, S_LRV, Context, Dyn, StepOut

__all__ = ["step"]


def step(d: Dyn, P: Population, m: int, U: np.ndarray, ctx: Context, *,
         treat: bool) -> StepOut:
    """Advance all persons of ``d`` by one month (in place).

    Parameters
    ----------
    d : Dyn
        The persons' changing state (written through).
    P : Population
        Their static attributes (same persons, same order).
    m : int
        The month index.
    U : numpy.ndarray
        Their uniforms, ``N_UNIFORMS`` x n.
    ctx : Context
        Parameters, geography and arrangements.
    treat : bool
        Apply OZA starts and effects (the observed world); the shadow and the
        untreated replicates run with ``treat=False``.

    Returns
    -------
    StepOut
        Who had a transition, on which day and why, and OZA ends.
    """
    s = Month(d, P, m, U, ctx, treat)
    for transition in ORDER:
        transition(s)
    return _finish(s)


def _finish(s: Month) -> StepOut:
    """After all transitions: LRV spells last more than 4 weeks, OZA ends, LRV history."""
    (d, m, dim, dim_prev, rday, old_state, old_dur, ev, ev_day, oza_end, oza_end_day, in_oza) = (
        s.d, s.m, s.dim, s.dim_prev, s.rday, s.old_state, s.old_dur, s.ev, s.ev_day, s.oza_end,
        s.oza_end_day, s.in_oza)
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
    return StepOut(ev=ev, ev_day=ev_day, ev_reason=s.ev_reason, oza_end=oza_end,
                   oza_end_day=oza_end_day)


#: The transitions in the order they are applied (the order is part of the output).
ORDER: tuple[Callable[[Month], None], ...] = (
    deaths_and_emigrations,
    births_and_arrivals,
    school_entry,
    oza_start,
    august,
    referral,
    age_out,
    hazard_factors,
    oza_end_by_hazard,
    from_enrolled,
    from_long_term_absence,
    from_illness,
    from_absolute_absence,
    from_exempt,
    from_care24,
    moves,
)
