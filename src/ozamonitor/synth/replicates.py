"""Replicates of the OZA participants: the planted effect E[Y(1) - Y(0)].

Next to each participant's own untreated copy (the shadow, stepped with the
participant's random numbers), ``R`` further copies are made at the selection,
untreated and treated, that live on with their *own* random numbers (separate
streams, so the register is byte-identical with or without them). The mean
outcome of the copies per participant and event time estimates E[Y(d) | the
participant's full simulated state at the start]: its chance of being in
education without and with OZA.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ozamonitor.synth.population import Population
from ozamonitor.synth.states import N_UNIFORMS, Context, Dyn, concat_dyn
from ozamonitor.synth.transitions import step

__all__ = ["Replicates"]


class Replicates:
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
        self.dyn = clone if self.dyn is None else concat_dyn(self.dyn, clone)
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

