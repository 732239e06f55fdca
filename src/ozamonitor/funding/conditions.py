"""The condition language of rule files and region matrices, with three-valued logic.

A ``when:`` is a mapping of fact tests that must all hold, or a list of such
mappings of which one must hold::

    when: {child.wlz_indication: true}                      # equals
    when: {setting.location: [care_location, private]}      # one of
    when: {child.age: {lt: 18}, child.enrolled: true}       # operators, all must hold
    when:                                                   # either ... or ...
      - {setting.location: school}
      - {setting.location: care_location, setting.brin: true}

Operators: ``eq``, ``ne``, ``lt``, ``le``, ``gt``, ``ge`` (numbers), ``in``,
``not_in`` (one of a list), and for set facts (``setting.oza_deviations``,
``component.cause``) ``has_any``, ``has_all``, ``has_none``, ``empty``
(true/false) and ``has_one_of_each`` (a list of lists: at least one value of
each list). A missing or empty ``when`` always holds.

A fact the case does not give is *unknown*. A test on it is unknown; an "all"
with a false test is false whatever the unknown ones are; an "either" with a
true alternative is true. So a rule needs a fact only when the facts given
cannot decide it, and that is what the advisor asks for (or reports as missing).

A condition language this small has no library that fits (JSONLogic and CEL
have no notion of an unknown fact that must be asked for), so it is ours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ozamonitor.funding.case import FACTS, FactSpec

__all__ = ["Condition", "ConditionError", "Outcome3", "Test", "parse_condition"]

_ORDER_OPS = {"lt", "le", "gt", "ge"}
_SET_OPS = {"has_any", "has_all", "has_none", "has_one_of_each", "empty"}
_OPS_BY_TYPE = {
    "bool": {"eq", "ne"},
    "int": {"eq", "ne", "in", "not_in"} | _ORDER_OPS,
    "enum": {"eq", "ne", "in", "not_in"},
    "set": _SET_OPS,
}


class ConditionError(Exception):
    """A condition that cannot be parsed; ``path`` is relative to the ``when:``."""

    def __init__(self, message: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


@dataclass(frozen=True)
class Test:
    """One test of one fact (``child.age lt 18``)."""

    fact: str
    op: str
    value: Any

    def holds(self, v: Any) -> bool:
        """Whether the test holds for the known value ``v``."""
        op, ref = self.op, self.value
        if op == "eq":
            return v == ref
        if op == "ne":
            return v != ref
        if op == "lt":
            return v < ref
        if op == "le":
            return v <= ref
        if op == "gt":
            return v > ref
        if op == "ge":
            return v >= ref
        if op == "in":
            return v in ref
        if op == "not_in":
            return v not in ref
        if op == "has_any":
            return bool(v & ref)
        if op == "has_all":
            return ref <= v
        if op == "has_none":
            return not (v & ref)
        if op == "empty":
            return (len(v) == 0) == ref
        if op == "has_one_of_each":
            return all(v & group for group in ref)
        raise AssertionError(op)  # pragma: no cover - parse_condition admits only these

    def describe(self) -> str:
        """The test as text, ``child.age < 18``."""
        sym = {"eq": "=", "ne": "≠", "lt": "<", "le": "≤", "gt": ">", "ge": "≥",
               "in": "in", "not_in": "not in"}
        ref = self.value
        if isinstance(ref, frozenset | tuple) and self.op != "has_one_of_each":
            ref = "[" + ", ".join(sorted(map(str, ref))) + "]"
        elif self.op == "has_one_of_each":
            ref = " and ".join("[" + ", ".join(sorted(g)) + "]" for g in ref)
        elif isinstance(ref, bool):
            ref = "true" if ref else "false"
        return f"{self.fact} {sym.get(self.op, self.op.replace('_', ' '))} {ref}"


@dataclass(frozen=True)
class Outcome3:
    """The result of a condition on a case: ``value`` True, False or None (unknown).

    ``used`` are the known facts the result rests on (the ones that made a
    false "all" false, or every fact of the alternative that held); ``missing``
    the unknown facts that could decide it.
    """

    value: bool | None
    used: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


def _dedupe(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


Getter = Callable[[str], Any]


@dataclass(frozen=True)
class Condition:
    """Alternatives (either ... or) of tests that must all hold."""

    alternatives: tuple[tuple[Test, ...], ...] = field(default=((),))

    @property
    def facts(self) -> tuple[str, ...]:
        """Every fact the condition tests, in order."""
        return _dedupe([t.fact for alt in self.alternatives for t in alt])

    def evaluate(self, get: Getter) -> Outcome3:
        """Evaluate with ``get(fact)`` (``None`` = unknown); see :class:`Outcome3`."""
        false_used: list[str] = []
        missing: list[str] = []
        for alt in self.alternatives:
            used: list[str] = []
            alt_missing: list[str] = []
            falsified: list[str] = []
            for test in alt:
                v = get(test.fact)
                if v is None:
                    alt_missing.append(test.fact)
                elif test.holds(v):
                    used.append(test.fact)
                else:
                    falsified.append(test.fact)
            if falsified:
                false_used.extend(falsified)
            elif alt_missing:
                missing.extend(alt_missing)
            else:
                return Outcome3(True, _dedupe(used))
        if missing:
            return Outcome3(None, _dedupe(false_used), _dedupe(missing))
        return Outcome3(False, _dedupe(false_used))

    def describe(self) -> str:
        """The condition as text (``always`` when it has no tests)."""
        if self.alternatives == ((),):
            return "always"
        parts = [" and ".join(t.describe() for t in alt) or "always" for alt in self.alternatives]
        return parts[0] if len(parts) == 1 else " or ".join(f"({p})" for p in parts)


def _check_value(spec: FactSpec, value: Any, fact: str, path: tuple[str | int, ...]) -> Any:
    if spec.type == "bool":
        if not isinstance(value, bool):
            raise ConditionError(f"{fact} is true or false, not {value!r}", path)
    elif spec.type == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConditionError(f"{fact} is a whole number, not {value!r}", path)
    elif value not in spec.choices:
        raise ConditionError(
            f"{value!r} is not a value of {fact}; use one of {', '.join(spec.choices)}", path)
    return value


def _values(spec: FactSpec, value: Any, fact: str, path: tuple[str | int, ...]) -> frozenset:
    if not isinstance(value, list) or not value:
        raise ConditionError(f"{fact}: give a non-empty list of values", path)
    return frozenset(_check_value(spec, v, fact, (*path, i)) for i, v in enumerate(value))


def _member_spec(spec: FactSpec) -> FactSpec:
    return FactSpec("enum", spec.choices) if spec.type == "set" else spec


def _parse_test(fact: str, spec: FactSpec, op: str, value: Any,
                path: tuple[str | int, ...]) -> Test:
    if op not in _OPS_BY_TYPE[spec.type]:
        raise ConditionError(
            f"operator {op!r} does not apply to {fact} ({spec.type}); use "
            + ", ".join(sorted(_OPS_BY_TYPE[spec.type])), path)
    member = _member_spec(spec)
    if op in ("in", "not_in", "has_any", "has_all", "has_none"):
        return Test(fact, op, _values(member, value, fact, path))
    if op == "has_one_of_each":
        if not isinstance(value, list) or len(value) < 2:
            raise ConditionError(f"{fact}: has_one_of_each takes a list of at least two lists",
                                   path)
        return Test(fact, op, tuple(_values(member, g, fact, (*path, i))
                                    for i, g in enumerate(value)))
    if op == "empty":
        if not isinstance(value, bool):
            raise ConditionError(f"{fact}: empty is true or false", path)
        return Test(fact, op, value)
    return Test(fact, op, _check_value(spec, value, fact, path))


def _parse_tests(mapping: Any, kinds: tuple[str, ...] | None,
                 path: tuple[str | int, ...]) -> tuple[Test, ...]:
    if not isinstance(mapping, Mapping):
        raise ConditionError("a condition is a mapping of facts to tests", path)
    tests: list[Test] = []
    for fact, spec_value in mapping.items():
        where = (*path, fact)
        spec = FACTS.get(fact) if isinstance(fact, str) else None
        if spec is None:
            raise ConditionError(
                f"unknown fact {fact!r}; facts are {', '.join(FACTS)}", where)
        if kinds is not None and spec.kinds and not set(kinds) <= set(spec.kinds):
            raise ConditionError(
                f"{fact} is a fact of {', '.join(spec.kinds)} components only", where)
        if isinstance(spec_value, Mapping):
            if not spec_value:
                raise ConditionError(f"{fact}: no operator given", where)
            for op, value in spec_value.items():
                tests.append(_parse_test(fact, spec, str(op), value, (*where, op)))
        elif isinstance(spec_value, list):
            op = "has_all" if spec.type == "set" else "in"
            tests.append(_parse_test(fact, spec, op, spec_value, where))
        else:
            if spec.type == "set":
                raise ConditionError(
                    f"{fact} is a set; test it with has_any, has_all, has_none or empty", where)
            tests.append(_parse_test(fact, spec, "eq", spec_value, where))
    return tuple(tests)


def parse_condition(when: Any, kinds: tuple[str, ...] | None = None) -> Condition:
    """Parse a ``when:`` (mapping, list of mappings, or nothing).

    Parameters
    ----------
    when : mapping, list of mappings or None
    kinds : tuple of str, optional
        The component kinds the condition is for; component facts of other
        kinds are refused. ``None`` allows every fact.

    Raises
    ------
    ConditionError
        Naming the path inside ``when`` of the first problem.
    """
    if when is None:
        return Condition()
    if isinstance(when, list):
        if not when:
            raise ConditionError("an empty list of alternatives never holds; leave `when` out "
                                   "for a rule that always applies")
        return Condition(tuple(_parse_tests(alt, kinds, (i,)) for i, alt in enumerate(when)))
    return Condition((_parse_tests(when, kinds, ()),))
