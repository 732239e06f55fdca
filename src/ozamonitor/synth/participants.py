"""OZA participants of the simulation: selection, ends and potential outcomes.

Each month, children in an OZA target group are drawn for the next month's
starts (weighted sampling on observables: target group, child protection, low
parent education, LRV history) until the participant quota is met, and placed
at an arrangement that accepts their group (in their own SWV when possible).
From the start on, every participant's observed outcome Y(1) is recorded next
to its untreated copy's Y(0) (the *shadow*: stepped with the participant's own
uniforms, without OZA) and the means of the independent replicates
(:class:`~ozamonitor.synth.replicates.Replicates`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ozamonitor.register.calendar import (
    AGE_17_MONTHS,
    COMPULSORY_START_MONTHS,
    SECONDARY_AGE_MONTHS,
)
from ozamonitor.register.schema import OZA_TARGET_GROUPS
from ozamonitor.synth.oza import Arrangements
from ozamonitor.synth.params import SynthParams
from ozamonitor.synth.population import Population
from ozamonitor.synth.replicates import Replicates
from ozamonitor.synth.states import (
    EX_5A,
    G_AT_RISK,
    G_EX5A,
    G_LTA,
    G_NOT_ENROLLED,
    S_AV,
    S_ENR,
    S_EX,
    S_LRV,
    Context,
    Dyn,
    StepOut,
    concat_dyn,
)
from ozamonitor.synth.transitions import step

__all__ = ["Participants", "gumbel_top"]

#: ``outcome(persons, month)``: 1 where in education at the end of the month.
Outcome = Callable[[Dyn, int], np.ndarray]


def gumbel_top(w: np.ndarray, k: int, u: np.ndarray) -> np.ndarray:
    """Indices of a weighted sample of ``k`` without replacement (Gumbel top-k)."""
    keys = np.log(w) - np.log(-np.log(np.clip(u, 1e-12, 1 - 1e-12)))
    if k >= len(w):
        return np.argsort(-keys, kind="stable")
    top = np.argpartition(-keys, k)[:k]
    return np.sort(top)


class Participants:
    """Bookkeeping of the OZA participants over the simulated months.

    Parameters
    ----------
    n : int
        Number of persons.
    arr : Arrangements
        The arrangements (start months, accepted groups, host schools).
    params : SynthParams
        Selection weights, quota and ``ground_truth_*`` settings.
    n_target : int
        Participants to select over the whole period.
    rng : numpy.random.Generator
        The simulation's generator; the replicates get two streams spawned from
        its seed sequence (so the register does not depend on them).
    months : numpy.ndarray
        The simulated month indices; ``last_month`` the last of them.
    """

    def __init__(self, n: int, arr: Arrangements, params: SynthParams, n_target: int,
                 rng: np.random.Generator, months: np.ndarray, last_month: int) -> None:
        p = params
        self.arr, self.p, self.last_month = arr, p, last_month
        self.E = E = p.ground_truth_max_event_time
        self.cap = cap = max(2 * n_target + 16, 16)
        self.idx = np.zeros(cap, np.int64)
        self.arrangement = np.zeros(cap, np.int64)
        self.group = np.zeros(cap, np.int64)
        self.primary = np.zeros(cap, bool)
        self.start = np.zeros(cap, np.int64)
        self.end_m = np.full(cap, -1, np.int64)
        self.end_day = np.zeros(cap, np.int64)
        self.reason = np.zeros(cap, np.int64)
        self.number_of = np.full(n, -1, np.int64)  # participant number of each person
        self.y1 = np.full((cap, E + 1), -1, np.int8)
        self.y0 = np.full((cap, E + 1), -1, np.int8)
        self.n = 0
        self.shadow: Dyn | None = None
        self.shadow_ids = np.zeros(0, np.int64)
        self.shadow_P: Population | None = None
        # independent replicates, untreated and treated: like the shadow, but with their
        # own random numbers from the start month on (separate streams, so the register
        # itself is unchanged); their means estimate E[Y(d) | the participant's full
        # simulated state at the start], i.e. the participant's chances with and without
        R = max(int(p.ground_truth_replicates), 0)
        seed_seq = getattr(rng.bit_generator, "seed_seq", None)
        streams = seed_seq.spawn(2) if seed_seq is not None else (0, 1)
        self.reps = (Replicates(R, cap, E, np.random.default_rng(streams[0]), treat=False),
                     Replicates(R, cap, E, np.random.default_rng(streams[1]), treat=True))
        self.act_starts = np.sort(arr.start_m)
        active_n = np.array([(self.act_starts <= mm + 1).sum() if mm <= last_month - 6 else 0
                             for mm in months], float)
        self.quota_rate = n_target * active_n / max(active_n.sum(), 1.0)
        self.quota = 0.0
        self.gw = np.array([p.oza_group_weight[k] for k in OZA_TARGET_GROUPS])

    def record(self, m: int, lo: int, hi: int, out: StepOut, U: np.ndarray, d: Dyn,
               ctx: Context, last_outcome_month: int, outcome: Outcome) -> None:
        """After month ``m``'s step of persons ``lo:hi``: participation ends, the
        shadows' and replicates' step, and Y(1), Y(0) at each participant's event time."""
        n_part = self.n
        if not n_part:
            return
        ends = np.nonzero(out.oza_end)[0] + lo
        for i in ends.tolist():
            k = self.number_of[i]
            if k >= 0 and self.end_m[k] < 0 and self.start[k] <= m:
                self.end_m[k] = m
                self.end_day[k] = out.oza_end_day[i - lo]
                self.reason[k] = out.oza_end[i - lo]
        shadow, shadow_P, shadow_ids = self.shadow, self.shadow_P, self.shadow_ids
        if shadow is None or shadow_P is None:  # pragma: no cover - set with the first start
            raise RuntimeError("OZA participants without their untreated copies")
        if shadow_ids.min() < lo or shadow_ids.max() >= hi:  # pragma: no cover
            raise RuntimeError("OZA participant outside the simulated age window")
        step(shadow, shadow_P, m, U[:, shadow_ids - lo], ctx, treat=False)
        ks = np.arange(n_part)
        ev_t = m - self.start[:n_part]
        ok = (ev_t >= 0) & (ev_t <= self.E) & (m <= last_outcome_month)
        self.y1[ks[ok], ev_t[ok]] = outcome(d.take(self.idx[:n_part][ok]), m)
        self.y0[ks[ok], ev_t[ok]] = outcome(shadow.take(np.nonzero(ok)[0]), m)
        for r in self.reps:
            r.step(m, ctx, ok, ev_t, outcome)

    def select(self, m: int, step_i: int, lo: int, hi: int, age: np.ndarray, d: Dyn,
               dv: Dyn, pv: Population, pop: Population, rng: np.random.Generator) -> None:
        """Draw the participants starting in month ``m + 1`` from the target groups of
        persons ``lo:hi`` at the end of month ``m`` (``dv``, ``pv``: their slices)."""
        p, arr = self.p, self.arr
        if not (m + 1 >= self.act_starts[0] and m + 1 <= self.last_month):
            return
        self.quota += self.quota_rate[step_i]
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
        k = int(min(np.floor(self.quota), np.floor(p.oza_max_pool_share * len(pool))))
        if not (k > 0 and len(pool)):
            return
        gp = g[pool]
        w = (self.gw[gp] * np.where(pv.child_protection[pool],
                                    p.oza_weight_child_protection, 1.0)
             * np.where(pv.parent_edu[pool] == 0, p.oza_weight_low_education, 1.0)
             * np.exp(p.oza_weight_per_history_month
                      * np.minimum(dv.lrv_hist[pool], 24)))
        chosen = pool[gumbel_top(w, k, rng.random(len(pool)))]
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
            if self.n >= self.cap:
                break
            self._add(i, a, gi, prim, m + 1, d)
            new_ids.append(i)
            self.quota -= 1
        if new_ids:
            ni = np.array(new_ids, np.int64)
            clone = d.take(ni)
            clone.pending[:] = -1
            self.shadow = clone if self.shadow is None else concat_dyn(self.shadow, clone)
            self.shadow_ids = np.concatenate([self.shadow_ids, ni])
            self.shadow_P = pop.take(self.shadow_ids)
            for r in self.reps:
                r.add(d, pop, ni, np.arange(self.n - len(ni), self.n), self.idx)

    def _add(self, i: int, a: int, group: int, primary: bool, start: int, d: Dyn) -> None:
        """Person ``i`` starts at arrangement ``a`` in month ``start``."""
        d.pending[i] = a
        d.part[i] = True
        d.oza_grp[i] = group
        d.oza_primary[i] = primary
        k = self.n
        self.idx[k] = i
        self.arrangement[k] = a
        self.group[k] = group
        self.primary[k] = primary
        self.start[k] = start
        self.number_of[i] = k
        self.n += 1

    def table(self) -> dict[str, np.ndarray]:
        """One entry per participant: person, arrangement, group, age band, start, end."""
        n = self.n
        return {"idx": self.idx[:n], "arrangement": self.arrangement[:n],
                "group": self.group[:n], "primary": self.primary[:n],
                "start_m": self.start[:n], "end_m": self.end_m[:n],
                "end_day": self.end_day[:n], "reason": self.reason[:n]}
