"""Inequalities between definitions that follow from their rules.

A definition's category counts a child on a date when its criterion holds (and
no earlier category's does, for an exclusive definition); the definition's
total counts a child when any category does. When one such predicate implies
another for *every* possible child and date, the first count can never exceed
the second: e.g. every child OCW 2016 counts, VWS counts as well (VWS drops
the ``!exempt`` of OCW 2016's LRV category and adds exemption 5a), so
``ocw2016 <= vws`` in every region and on every date. An attacker who knows
the definition files knows these inequalities; the disclosure control
(:mod:`ozamonitor.privacy.publication`) therefore declares them.

The implications are decided by a truth table over the *atoms* of the two
definitions' criteria: the raw register conditions they mention (``resident``,
``enrolled``, ``lrv``, ...) and their duration thresholds. Derived conditions
(``duty``, ``exempt``, ``not_enrolled``, ``av``, ...) are computed from the raw
ones exactly as :func:`ozamonitor.counting.timeline.derive_conditions` does,
and only facts that hold by construction constrain the table:

* a duration atom holds only while its condition runs;
* for one condition, ``duration > a`` implies ``duration > b`` when ``a``
  surely exceeds ``b`` (months counted as 28 to 31 days), ``duration > a``
  contradicts ``duration <= b`` when ``a >= b`` surely, and a running
  condition is either past a crossing or before it;
* ``lapsed_exemption`` implies ``not_enrolled``.

Leaving a fact out only loses implications (the result stays true), so the
table is sound but not necessarily complete. Hand-written because the check is
a few dozen boolean formulas over at most ~22 atoms: a bit-packed truth table
with numpy is exact and fast, and no SAT solver is a dependency.

Two kinds of inequality follow (:func:`definition_inequalities`):

* ``point``: on one date (a stock), in every region: the region of a child is
  taken on that date for every definition;
* ``nation``: over a school year (a flow), nationally: a child meets the
  implied definition on the same date, but a flow takes the region on a date
  that depends on the definition, so only the national count is ordered.

and for every definition, the stock on a date is at most the flow over the
school year that contains it (nationally; :func:`stock_within_flow`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ozamonitor.counting.definition import (
    All,
    AnyOf,
    Cond,
    Definition,
    Duration,
    Node,
    Not,
)
from ozamonitor.register.calendar import school_year_bounds

__all__ = ["TOTAL", "Inequality", "definition_inequalities", "stock_within_flow"]

TOTAL = "total"
#: Largest number of atoms of one truth table (2**22 rows, ~0.5 MB per packed predicate).
MAX_ATOMS = 22
_DERIVED = {
    "duty": ("compulsory", "qualification_duty"),
    "exempt": ("exempt_5a", "exempt_5b", "exempt_15"),
    "waiting": ("waiting_school", "waiting_care"),
    "not_enrolled": ("resident", "compulsory", "qualification_duty", "enrolled",
                     "exempt_5a", "exempt_5b", "exempt_15"),
    "care_24h_no_education": ("resident", "compulsory", "qualification_duty", "enrolled",
                              "exempt_5a", "exempt_5b", "exempt_15", "care_24h"),
    "av": ("resident", "compulsory", "qualification_duty", "enrolled", "exempt_5a",
           "exempt_5b", "exempt_15", "care_24h", "lapsed_exemption"),
    "lapsed_exemption": ("lapsed_exemption", "resident", "compulsory", "qualification_duty",
                         "enrolled", "exempt_5a", "exempt_5b", "exempt_15"),
}


@dataclass(frozen=True)
class Inequality:
    """``count(smaller) <= count(larger)``; each side is ``(definition, category)``
    with category ``"total"`` for the definition's total."""

    smaller: tuple[str, str]
    larger: tuple[str, str]


def _atoms(node: Node, raw: set[str], dur: set[Duration]) -> None:
    if isinstance(node, Cond):
        raw.update(_DERIVED.get(node.name, (node.name,)))
    elif isinstance(node, Duration):
        dur.add(node)
        raw.update(_DERIVED.get(node.cond, (node.cond,)))
    elif isinstance(node, All | AnyOf):
        for i in node.items:
            _atoms(i, raw, dur)
    elif isinstance(node, Not):
        _atoms(node.item, raw, dur)


class _Table:
    """All assignments of the atoms that satisfy the known facts."""

    def __init__(self, raw: Sequence[str], dur: Sequence[Duration]) -> None:
        names = [*raw, *dur]
        n = len(names)
        code = np.arange(2 ** n, dtype=np.uint32)
        self.val: dict[object, np.ndarray] = {
            a: ((code >> k) & 1).astype(bool) for k, a in enumerate(names)}
        ok = np.ones(code.size, bool)
        for d in dur:
            ok &= ~self.val[d] | self.cond(d.cond)
        for a in dur:
            for b in dur:
                if a is not b and a.cond == b.cond:
                    ok &= self._order(a, b)
        if "lapsed_exemption" in self.val:
            ok &= ~self.val["lapsed_exemption"] | self.cond("not_enrolled")
        self.ok = ok

    def _order(self, a: Duration, b: Duration) -> np.ndarray:
        """What the order of two crossings of one condition tells (True where allowed)."""
        va, vb, run = self.val[a], self.val[b], self.cond(a.cond)
        ok = np.ones(va.size, bool)
        if a.ge and b.ge and _surely_ge(a, b):
            ok &= ~va | vb  # past the later crossing: past the earlier one
        if not a.ge and not b.ge and _surely_ge(b, a):
            ok &= ~va | vb  # before the earlier crossing: before the later one
        if a.ge and not b.ge and _surely_ge(a, b):
            ok &= ~(va & vb)  # past a crossing and before an earlier one
        if a.ge and not b.ge and _surely_ge(b, a):
            ok &= ~run | va | vb  # running: past a or before a later one
        return ok

    def cond(self, name: str) -> np.ndarray:
        v = self.val
        f = np.zeros(next(iter(v.values())).size, bool)

        def g(x: str) -> np.ndarray:
            return v.get(x, f)

        if name == "duty":
            return g("compulsory") | g("qualification_duty")
        if name == "exempt":
            return g("exempt_5a") | g("exempt_5b") | g("exempt_15")
        if name == "waiting":
            return g("waiting_school") | g("waiting_care")
        if name == "not_enrolled":
            return g("resident") & self.cond("duty") & ~g("enrolled") & ~self.cond("exempt")
        if name == "care_24h_no_education":
            return self.cond("not_enrolled") & g("care_24h")
        if name == "lapsed_exemption":
            return g("lapsed_exemption") & self.cond("not_enrolled")
        if name == "av":
            return self.cond("not_enrolled") & ~g("lapsed_exemption") & ~g("care_24h")
        return g(name)

    def eval(self, node: Node) -> np.ndarray:
        if isinstance(node, Cond):
            return self.cond(node.name)
        if isinstance(node, Duration):
            return self.val[node] & self.cond(node.cond)
        if isinstance(node, All):
            return np.logical_and.reduce([self.eval(i) for i in node.items])
        if isinstance(node, AnyOf):
            return np.logical_or.reduce([self.eval(i) for i in node.items])
        return ~self.eval(node.item)


def _surely_ge(a: Duration, b: Duration) -> bool:
    """The crossing of ``a`` is on or after that of ``b`` for every start date
    (``start + months`` is non-decreasing in months; a month has 28 to 31 days)."""
    return ((a.months >= b.months and a.days >= b.days)
            or a.months * 28 + a.days >= b.months * 31 + b.days)


def _predicates(t: _Table, d: Definition) -> dict[tuple[str, str], np.ndarray]:
    """Packed truth of every category (as counted) and of the total, on valid rows."""
    pop = t.cond(d.population)
    out: dict[tuple[str, str], np.ndarray] = {}
    earlier = np.zeros(t.ok.size, bool)
    total = np.zeros(t.ok.size, bool)
    for c in d.categories:
        hit = t.eval(c.node) & pop
        out[(d.name, c.name)] = hit & ~earlier if d.exclusive else hit
        if d.exclusive:
            earlier |= hit
        total |= hit
    out[(d.name, TOTAL)] = total
    return {k: np.packbits(v[t.ok]) for k, v in out.items()}


def _pair(a: Definition, b: Definition) -> list[Inequality]:
    raw: set[str] = set()
    dur: set[Duration] = set()
    for d in (a, b):
        raw.update(_DERIVED.get(d.population, (d.population,)))
        for c in d.categories:
            _atoms(c.node, raw, dur)
    if len(raw) + len(dur) > MAX_ATOMS:
        return []
    t = _Table(sorted(raw), sorted(dur, key=repr))
    pa, pb = _predicates(t, a), _predicates(t, b)
    out = []
    for x, y, dy in ((pa, pb, b), (pb, pa, a)):
        for kx, vx in x.items():
            if not vx.any():
                continue  # never counted: a structural zero
            for ky, vy in y.items():
                if (vx & ~vy).any():
                    continue
                if ((vy & ~vx).any() and not (ky[1] == TOTAL and dy.exclusive
                                              and _in_a_category(vx, y, dy))):
                    out.append(Inequality(kx, ky))
    return out


def _in_a_category(vx: np.ndarray, y: dict, dy: Definition) -> bool:
    """``vx`` implies a category of ``dy`` (then ``<= total`` follows from the sums)."""
    return any(not (vx & ~y[(dy.name, c.name)]).any() for c in dy.categories)


@functools.lru_cache(maxsize=64)
def _cached(keys: tuple[str, ...]) -> tuple[Inequality, ...]:
    defs = [Definition.model_validate_json(k) for k in keys]
    out: list[Inequality] = []
    for i, a in enumerate(defs):
        for b in defs[i + 1:]:
            out += _pair(a, b)
    return tuple(out)


def definition_inequalities(definitions: Sequence[Definition]) -> list[Inequality]:
    """Every ``count(smaller) <= count(larger)`` between two different definitions
    that holds for every child on every date by the definitions' rules.

    Equivalent predicates (identities) are left out: they give the same cells,
    which the publication's model matrix already equates. ``category <= total``
    of an exclusive definition is left out where it follows from the category
    sums.
    """
    return list(_cached(tuple(d.model_dump_json() for d in definitions)))


def stock_within_flow(periods: Sequence[str]) -> list[tuple[str, str]]:
    """``(date, school year)`` pairs of the periods where the stock date lies in the year."""
    dates, years = [], []
    for p in periods:
        try:
            dates.append((p, dt.date.fromisoformat(p)))
        except ValueError:
            try:
                years.append((p, school_year_bounds(p)))
            except ValueError:
                continue
    return [(p, y) for p, d in dates for y, (lo, hi) in years if lo <= d <= hi]
