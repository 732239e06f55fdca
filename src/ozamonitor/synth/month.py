"""One month of the simulation as an object: inputs, derived values, outputs, actions.

:class:`Month` is what every transition function
(:mod:`ozamonitor.synth.events`, :mod:`ozamonitor.synth.hazards`) works on: the
persons' arrays (``d``, written through), their static attributes (``P``), the
month's uniforms (``u0`` .. ``u7``), the outputs (who had an event, on which
day, why) and the shared actions (:meth:`Month.mark`, :meth:`Month.leave`,
:meth:`Month.enrol`, :meth:`Month.set_gem`). ``free`` marks the persons who
have not had a transition yet this month: a person has at most one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ozamonitor.register.calendar import ADULT_MONTHS, SECONDARY_AGE_MONTHS
from ozamonitor.synth.geography import KIND_CLUSTER, KIND_INDEX, KIND_PO, KIND_SECTOR
from ozamonitor.synth.population import (
    CLS_SBO,
    CLS_SO1,
    CLS_SO2,
    CLS_SO3,
    CLS_VSO3,
    Population,
    days_in_month,
)
from ozamonitor.synth.states import (
    AVR_WAIT_SO,
    AVR_WAIT_VSO,
    O_DROPOUT,
    S_AV,
    S_DONE,
    S_ENR,
    SEC_MBO,
    Context,
    Dyn,
)

__all__ = ["KindArg", "Month"]


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


class Month:
    """One month's step: its inputs, derived values, outputs and the shared actions.

    The transition functions read what they need from here and write through
    ``d`` (the persons' arrays) and the output arrays; ``free`` marks who has not
    had a transition yet this month.
    """

    def __init__(self, d: Dyn, P: Population, m: int, U: np.ndarray, ctx: Context,
                 treat: bool) -> None:
        self.d, self.P, self.m, self.U, self.ctx, self.treat = d, P, m, U, ctx, treat
        self.p = ctx.params
        self.geo = ctx.geo
        self.n = n = len(d.state)
        self.cal = (7 + m) % 12 + 1
        self.year = 2013 + (7 + m) // 12
        self.dim = dim = int(days_in_month(m))
        self.dim_prev = int(days_in_month(m - 1))
        self.age = age = (m - P.bm).astype(np.int32)
        self.ay = age // 12
        self.u0, self.u1, self.u2, self.u3, self.u4, self.u5, self.u6, self.u7 = U
        self.rday = (1 + (self.u3 * dim).astype(np.int32)).clip(1, dim).astype(np.uint8)
        self.bday = np.minimum(P.bday, dim).astype(np.uint8)
        self.old_state = d.state.copy()
        self.old_dur = d.dur.copy()
        d.dur[:] = np.minimum(d.dur + 1, 30_000)
        self.free = np.ones(n, bool)
        self.ev = np.zeros(n, bool)
        self.ev_day = np.zeros(n, np.uint8)
        self.ev_reason = np.zeros(n, np.uint8)
        self.oza_end = np.zeros(n, np.uint8)
        self.oza_end_day = np.zeros(n, np.uint8)
        self.in_oza = d.oza >= 0
        # set by hazard_factors for the random transitions
        self.comp = self.fa = self.risk = self.rr = self.hr = np.ones(0)
        self.lrv_tr = 1.0

    def mark(self, sel: np.ndarray, day: np.ndarray | int,
             reason: int | np.ndarray = 0) -> None:
        """Record a transition of ``sel`` on ``day`` (with an end ``reason``)."""
        self.ev[sel] = True
        self.ev_day[sel] = day[sel] if isinstance(day, np.ndarray) else day
        if isinstance(reason, np.ndarray):
            self.ev_reason[sel] = reason[sel]
        else:
            self.ev_reason[sel] = reason
        self.d.dur[sel] = 0
        self.free &= ~sel

    def leave(self, sel: np.ndarray, state: int) -> None:
        """``sel`` leaves school (and its codes) for ``state``."""
        d = self.d
        d.state[sel] = state
        d.school[sel] = -1
        d.kind[sel] = -1
        d.sec[sel] = 0
        d.tlv[sel] = 0
        d.exart[sel] = 0
        d.avr[sel] = 0

    def to_absolute_absence(self, sel: np.ndarray, reason: np.ndarray,
                            waiting: np.ndarray) -> None:
        """``sel`` leave school into absolute absence for ``reason`` (per person), or
        waiting for (v)so where ``waiting``; at 18 they are done instead. Their OZA
        participation ends as a dropout."""
        d, age = self.d, self.age
        self.leave(sel, S_AV)
        d.avr[sel] = reason[sel]
        d.avr[waiting] = np.where(age[waiting] + 2 < SECONDARY_AGE_MONTHS, AVR_WAIT_SO,
                                  AVR_WAIT_VSO)
        old18 = sel & (age >= ADULT_MONTHS)
        d.state[old18] = S_DONE
        d.avr[old18] = 0
        self.oza_end[sel & self.in_oza] = O_DROPOUT

    def kinds_special(self, ix: np.ndarray) -> np.ndarray:
        """Special-education school kind of persons ``ix``."""
        return _special_kind(self.d.cls[ix], self.age[ix])

    def kinds_regular(self, ix: np.ndarray) -> np.ndarray:
        """School kind of persons ``ix`` for a (re-)enrolment."""
        d = self.d
        return _regular_kind(d.cls[ix], self.P.cls_entry[ix], self.age[ix], d.sec[ix])

    def enrol(self, sel: np.ndarray, kind: KindArg, u: np.ndarray) -> None:
        """Enrol ``sel`` at a school of ``kind`` in their SWV (drawn with ``u``)."""
        d, p, m = self.d, self.p, self.m
        ix = np.nonzero(sel)[0]
        if len(ix) == 0:
            return
        k = (kind(ix) if callable(kind) else kind[ix]).astype(np.int64)
        po = KIND_PO[k]
        swv = np.where(po, d.swvp[sel], d.swvv[sel])
        sch = self.geo.choose_school(k, swv, u[sel])
        new_sec = KIND_SECTOR[k]
        changed_sec = new_sec != d.sec[sel]
        d.sec_start[sel] = np.where(changed_sec, m, d.sec_start[sel])
        d.state[sel] = S_ENR
        d.school[sel] = sch
        d.kind[sel] = k
        d.sec[sel] = new_sec
        special = KIND_CLUSTER[k] > 0
        tl = np.searchsorted(np.cumsum(p.tlv_shares)[:-1], self.u7[sel]) + 1
        d.tlv[sel] = np.where(special, tl, 0)
        d.exart[sel] = 0
        d.avr[sel] = 0

    def set_gem(self, sel: np.ndarray, gem: np.ndarray) -> None:
        """``sel`` lives in ``gem`` from now (and in its SWVs)."""
        d, geo = self.d, self.geo
        d.gem[sel] = gem[sel]
        d.swvp[sel] = geo.draw_swv(gem[sel], self.u1[sel], po=True)
        d.swvv[sel] = geo.draw_swv(gem[sel], self.u5[sel], po=False)


