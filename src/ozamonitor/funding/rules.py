"""The declarative rule set: who pays, from the laws (``data/national.yaml``).

A rule set is data, not code: laws, named law groups, the facts a form may ask,
contradiction checks, the rules in order of precedence, and a catalogue of
activities (the categories -> activities shape of the Zuid-Limburg matrix). This
module reads and validates such a file (every problem names its line) and
checks that for each component kind the rules decide every combination of the
facts they test, so that each component gets exactly one outcome.

The file format is documented in docs/funding.md; :func:`national_rules`
returns the shipped national default.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ozamonitor.funding.case import FACTS, KINDS, PAYERS, Payer
from ozamonitor.funding.conditions import Condition, ConditionError, parse_condition
from ozamonitor.funding.problems import Problem, RuleSetError, problems_from_validation
from ozamonitor.funding.yamlmarks import Marked, YamlError, format_path, load_marked

__all__ = [
    "ActivityEntry",
    "Check",
    "FactResolver",
    "Rule",
    "RuleSet",
    "Text",
    "national_rules",
]

_Id = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:/-]+$")]
_Key = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class Text(_Model):
    """A text in Dutch and English."""

    nl: Annotated[str, Field(min_length=1)]
    en: Annotated[str, Field(min_length=1)]

    def __call__(self, lang: str) -> str:
        """The text in ``lang`` (``nl`` or ``en``)."""
        return self.nl if lang == "nl" else self.en


class _LawGroupEntry(_Model):
    when: Any = None
    laws: list[str]


class _Label(_Model):
    label: Text


class _FactInfo(_Model):
    label: Text
    question: Text


class _Implied(_Model):
    fact: str
    value: Any
    when: Any


class _PayerInfo(_Model):
    label: Text
    laws: list[str]


class _CheckModel(_Model):
    id: _Id
    field: str
    when: Any
    text: Text


class _RuleModel(_Model):
    id: _Id
    kinds: Annotated[list[str], Field(min_length=1)]
    when: Any = None
    payers: Annotated[list[Payer], Field(min_length=1)]
    laws: list[str]
    text: Text
    note: Text | None = None


class _ActivityModel(_Model):
    label: Text
    as_: str = Field(alias="as")


class _CategoryModel(_Model):
    label: Text
    activities: dict[_Key, _ActivityModel]


class _RuleFile(_Model):
    format: Literal[1]
    id: _Id
    version: str
    name: Text
    laws: dict[str, Text]
    law_groups: dict[str, list[_LawGroupEntry]] = {}
    payers: dict[Payer, _PayerInfo]
    fallbacks: dict[str, str] = {}
    implied: list[_Implied] = []
    kinds: dict[str, _Label]
    facts: dict[str, _FactInfo]
    checks: list[_CheckModel] = []
    rules: Annotated[list[_RuleModel], Field(min_length=1)]
    activities: dict[_Key, _CategoryModel] = {}


@dataclass(frozen=True)
class Rule:
    """One rule: for ``kinds``, when ``condition`` holds, ``payers`` pay under ``laws``."""

    id: str
    kinds: tuple[str, ...]
    condition: Condition
    payers: tuple[str, ...]
    laws: tuple[str, ...]
    text: Text
    note: Text | None = None
    line: int | None = None

    @property
    def gap(self) -> bool:
        """No party is obliged to pay."""
        return self.payers == ("none",)


@dataclass(frozen=True)
class Check:
    """A contradiction: when ``condition`` holds the case is refused at ``field``."""

    id: str
    field: str
    condition: Condition
    text: Text
    line: int | None = None


@dataclass(frozen=True)
class ActivityEntry:
    """An activity of the national catalogue and the kind it counts as."""

    category: str
    activity: str
    category_label: Text
    label: Text
    kind: str


@dataclass
class FactResolver:
    """Reads facts for rules: the case's own, else a fallback fact, else an implied value.

    Call it with a fact path; ``None`` means unknown. ``sources[fact]`` records
    the case facts a value came from (``component.brin`` -> ``setting.brin``).
    """

    facts: Mapping[str, Any]
    fallbacks: Mapping[str, str]
    implied: Sequence[tuple[str, Any, Condition]]
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _busy: set[str] = field(default_factory=set)

    def __call__(self, fact: str) -> Any:
        value = self.facts.get(fact)
        if value is not None:
            self.sources[fact] = (fact,)
            return value
        if fact in self._busy:  # an implication that needs itself
            return None
        self._busy.add(fact)
        try:
            other = self.fallbacks.get(fact)
            if other is not None:
                value = self(other)
                if value is not None:
                    self.sources[fact] = self.sources.get(other, (other,))
                    return value
            for target, implied_value, cond in self.implied:
                if target != fact:
                    continue
                res = cond.evaluate(self)
                if res.value:
                    self.sources[fact] = tuple(
                        s for u in res.used for s in self.sources.get(u, (u,)))
                    return implied_value
            return None
        finally:
            self._busy.discard(fact)

    def case_facts(self, used: Sequence[str]) -> dict[str, Any]:
        """The case facts behind rule facts ``used``, with their values."""
        out: dict[str, Any] = {}
        for fact in used:
            for src in self.sources.get(fact, (fact,)):
                value = self.facts.get(src)
                if value is not None:
                    out[src] = sorted(value) if isinstance(value, frozenset) else value
        order = {f: i for i, f in enumerate(FACTS)}
        return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], len(order))))


@dataclass(frozen=True)
class RuleSet:
    """A validated rule set (see :func:`RuleSet.load`); immutable."""

    id: str
    version: str
    name: Text
    laws: Mapping[str, Text]
    law_groups: Mapping[str, tuple[tuple[Condition, tuple[str, ...]], ...]]
    payer_laws: Mapping[str, tuple[str, ...]]
    payer_labels: Mapping[str, Text]
    fallbacks: Mapping[str, str]
    implied: tuple[tuple[str, Any, Condition], ...]
    kind_labels: Mapping[str, Text]
    fact_labels: Mapping[str, Text]
    fact_questions: Mapping[str, Text]
    checks: tuple[Check, ...]
    rules: tuple[Rule, ...]
    activities: Mapping[tuple[str, str], ActivityEntry]
    category_labels: Mapping[str, Text]
    source: str | None = None

    # -- queries ----------------------------------------------------------------------
    def rules_for(self, kind: str) -> tuple[Rule, ...]:
        """The rules of ``kind`` in order of precedence (first that holds decides)."""
        return tuple(r for r in self.rules if kind in r.kinds)

    def rule(self, rule_id: str) -> Rule:
        """The rule with id ``rule_id`` (KeyError if none)."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def resolver(self, facts: Mapping[str, Any]) -> FactResolver:
        """A :class:`FactResolver` over ``facts`` with this set's fallbacks and implications."""
        return FactResolver(facts, self.fallbacks, self.implied)

    def expand_laws(self, names: Sequence[str], get: Callable[[str], Any]) -> tuple[
            list[str], list[str]]:
        """Laws of a rule, law groups expanded for the case; also the facts used.

        An entry of a group whose ``when`` is unknown is passed over: laws never
        make a fact required.
        """
        laws: list[str] = []
        used: list[str] = []
        for name in names:
            if name in self.law_groups:
                for cond, members in self.law_groups[name]:
                    res = cond.evaluate(get)
                    if res.value:
                        laws.extend(members)
                        used.extend(res.used)
                        break
            else:
                laws.append(name)
        return list(dict.fromkeys(laws)), used

    def laws_of_payers(self, payers: Sequence[str]) -> tuple[str, ...]:
        """The law names (groups unexpanded) behind ``payers`` (for region entries)."""
        return tuple(dict.fromkeys(n for p in payers for n in self.payer_laws.get(p, ())))

    def facts_of_kind(self, kind: str) -> tuple[str, ...]:
        """Every fact the rules of ``kind`` (and its activities' kinds) may test."""
        kinds = [kind]
        if kind == "activity":
            kinds = sorted({e.kind for e in self.activities.values()})
        facts = [f for k in kinds for r in self.rules_for(k) for f in r.condition.facts]
        return tuple(dict.fromkeys(facts))

    def activity(self, category: str, activity: str) -> ActivityEntry | None:
        """The national catalogue entry of an activity, if any."""
        return self.activities.get((category, activity))

    # -- loading ----------------------------------------------------------------------
    @classmethod
    def load(cls, source: str | Path, *, text: str | None = None,
             verify: bool = True) -> RuleSet:
        """Read and validate a rule set file.

        Parameters
        ----------
        source : str or Path
            The file (or, with ``text``, its name in messages).
        text : str, optional
            The YAML text.
        verify : bool
            Check that every kind's rules decide every combination of their facts.

        Raises
        ------
        RuleSetError
            Naming the file, line and field of each problem.
        """
        try:
            marks = load_marked(source, text=text)
        except YamlError as e:
            raise RuleSetError([Problem(format_path(e.path), e.message, e.line)],
                               file=source) from None
        except OSError as e:
            raise RuleSetError([Problem("", f"cannot read the rule set: {e.strerror}")],
                               file=source) from None
        try:
            model = _RuleFile.model_validate(marks.data)
        except ValidationError as e:
            raise RuleSetError(problems_from_validation(e, marks), file=source) from None
        compiler = _Compiler(model, marks)
        fields = compiler.fields()
        if compiler.problems:
            raise RuleSetError(compiler.problems, file=source)
        rules = RuleSet(**fields, source=str(source))
        if verify:
            incomplete = rules.undecided()
            if incomplete:
                raise RuleSetError(incomplete, file=source)
        return rules

    # -- completeness -----------------------------------------------------------------
    def undecided(self) -> list[Problem]:
        """For each kind, a combination of facts that no rule decides (empty when complete).

        Every combination of the values of the facts the kind's rules test is
        tried (numbers at each threshold the rules use), leaving out the ones a
        check refuses.
        """
        problems: list[Problem] = []
        for kind in KINDS:
            if kind == "activity":
                continue
            rules = self.rules_for(kind)
            facts = list(dict.fromkeys(f for r in rules for f in r.condition.facts))
            for combo in _combinations(facts, rules):
                get = self.resolver(combo)
                if any(c.condition.evaluate(get).value for c in self.checks):
                    continue
                if not any(r.condition.evaluate(get).value for r in rules):
                    shown = ", ".join(f"{k} = {_show(v)}" for k, v in combo.items())
                    last = rules[-1].line if rules else None
                    problems.append(Problem(f"rules ({kind})",
                                            f"no rule decides {kind} when {shown}", last))
                    break
        return problems


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, frozenset):
        return "[" + ", ".join(sorted(value)) + "]"
    return str(value)


def _domain(fact: str, rules: Sequence[Rule]) -> list[Any]:
    spec = FACTS[fact]
    if spec.type == "bool":
        return [True, False]
    if spec.type == "enum":
        return list(spec.choices)
    if spec.type == "set":
        subsets = itertools.chain.from_iterable(
            itertools.combinations(spec.choices, n) for n in range(len(spec.choices) + 1))
        values = [frozenset(s) for s in subsets]
        return [v for v in values if v] if fact == "component.cause" else values
    cuts = sorted({t.value for r in rules for alt in r.condition.alternatives for t in alt
                   if t.fact == fact and isinstance(t.value, int)})
    lo, hi = spec.lo or 0, spec.hi if spec.hi is not None else 200
    points = {lo, hi} | {c for c in cuts if lo <= c <= hi} | {c - 1 for c in cuts if lo < c <= hi}
    return sorted(points)


def _combinations(facts: Sequence[str], rules: Sequence[Rule]) -> Iterator[dict[str, Any]]:
    domains = [_domain(f, rules) for f in facts]
    for values in itertools.product(*domains):
        yield dict(zip(facts, values, strict=True))


class _Compiler:
    """Turns the validated file into rule-set fields, collecting semantic problems."""

    def __init__(self, model: _RuleFile, marks: Marked) -> None:
        self.model, self.marks = model, marks
        self.problems: list[Problem] = []
        self.groups: dict[str, tuple[tuple[Condition, tuple[str, ...]], ...]] = {}

    def problem(self, path: tuple[str | int, ...], message: str) -> None:
        self.problems.append(Problem(format_path(path), message, self.marks.line(path)))

    def condition(self, when: Any, path: tuple[str | int, ...],
                  kinds: tuple[str, ...] | None = None) -> Condition:
        try:
            return parse_condition(when, kinds)
        except ConditionError as e:
            self.problem((*path, *e.path), e.message)
            return Condition()

    def check_laws(self, names: Sequence[str], path: tuple[str | int, ...]) -> None:
        for j, law in enumerate(names):
            if law not in self.model.laws and law not in self.groups:
                self.problem((*path, j), f"unknown law or law group {law!r}")

    def vocabulary(self) -> None:
        """Every kind and fact has labels, and no unknown ones."""
        m = self.model
        for kind in m.kinds:
            if kind not in KINDS:
                self.problem(("kinds", kind), f"unknown kind; kinds are {', '.join(KINDS)}")
        for kind in KINDS:
            if kind not in m.kinds:
                self.problem(("kinds",), f"kind {kind!r} has no label")
        for fact in m.facts:
            if fact not in FACTS:
                self.problem(("facts", fact), f"unknown fact; facts are {', '.join(FACTS)}")
        for fact in FACTS:
            if fact not in m.facts:
                self.problem(("facts",), f"fact {fact!r} has no label and question")

    def laws(self) -> None:
        """Law groups and the payers' laws."""
        m = self.model
        for name, entries in m.law_groups.items():
            if name in m.laws:
                self.problem(("law_groups", name), "a law group cannot have the name of a law")
            compiled = []
            for i, entry in enumerate(entries):
                for j, law in enumerate(entry.laws):
                    if law not in m.laws:
                        self.problem(("law_groups", name, i, "laws", j), f"unknown law {law!r}")
                compiled.append((self.condition(entry.when, ("law_groups", name, i, "when")),
                                 tuple(entry.laws)))
            if not entries or entries[-1].when is not None:
                self.problem(("law_groups", name),
                             "the last entry must have no `when` (the fallback)")
            self.groups[name] = tuple(compiled)
        for payer in PAYERS:
            if payer not in m.payers:
                self.problem(("payers",), f"payer {payer!r} is missing (give its label and laws)")
        for payer, info in m.payers.items():
            self.check_laws(info.laws, ("payers", payer, "laws"))

    def derived(self) -> tuple[tuple[str, Any, Condition], ...]:
        """Fallbacks and implied facts."""
        for fact, other in self.model.fallbacks.items():
            for f in (fact, other):
                if f not in FACTS:
                    self.problem(("fallbacks", fact), f"unknown fact {f!r}")
        implied = []
        for i, imp in enumerate(self.model.implied):
            if imp.fact not in FACTS:
                self.problem(("implied", i, "fact"), f"unknown fact {imp.fact!r}")
                continue
            self.condition({imp.fact: imp.value}, ("implied", i, "value"))  # the value's type
            implied.append((imp.fact, imp.value,
                            self.condition(imp.when, ("implied", i, "when"))))
        return tuple(implied)

    def checks(self) -> tuple[Check, ...]:
        out = []
        for i, chk in enumerate(self.model.checks):
            if chk.field not in FACTS:
                self.problem(("checks", i, "field"), f"unknown fact {chk.field!r}")
            if chk.when is None:
                self.problem(("checks", i, "when"), "a check needs a `when`")
            out.append(Check(chk.id, chk.field, self.condition(chk.when, ("checks", i, "when")),
                             chk.text, self.marks.line(("checks", i))))
        return tuple(out)

    def rules(self) -> tuple[Rule, ...]:
        rules: list[Rule] = []
        seen: dict[str, int] = {}
        rule_kinds = [k for k in KINDS if k != "activity"]
        for i, r in enumerate(self.model.rules):
            path: tuple[str | int, ...] = ("rules", i)
            if r.id in seen:
                self.problem((*path, "id"),
                             f"rule id {r.id!r} is used twice (first in rules[{seen[r.id]}])")
            seen.setdefault(r.id, i)
            for j, kind in enumerate(r.kinds):
                if kind not in rule_kinds:
                    self.problem((*path, "kinds", j), f"unknown kind {kind!r}; rules are for "
                                 + ", ".join(rule_kinds))
            if "none" in r.payers and len(r.payers) > 1:
                self.problem((*path, "payers"), "none (a gap) cannot be combined with a payer")
            if "none" in r.payers and r.laws:
                self.problem((*path, "laws"), "a gap (payers [none]) has no laws")
            self.check_laws(r.laws, (*path, "laws"))
            cond = self.condition(r.when, (*path, "when"), tuple(r.kinds))
            rules.append(Rule(r.id, tuple(r.kinds), cond, tuple(r.payers), tuple(r.laws),
                              r.text, r.note, self.marks.line(path)))
        for kind in rule_kinds:
            if not any(kind in r.kinds for r in rules):
                self.problem(("rules",), f"no rule for kind {kind!r}")
        return tuple(rules)

    def activities(self) -> dict[tuple[str, str], ActivityEntry]:
        out: dict[tuple[str, str], ActivityEntry] = {}
        for cat, cmodel in self.model.activities.items():
            for act, amodel in cmodel.activities.items():
                if amodel.as_ not in KINDS or amodel.as_ == "activity":
                    self.problem(("activities", cat, "activities", act, "as"),
                                 f"unknown kind {amodel.as_!r}")
                out[(cat, act)] = ActivityEntry(cat, act, cmodel.label, amodel.label, amodel.as_)
        return out

    def fields(self) -> dict[str, Any]:
        """Every field of :class:`RuleSet` but ``source``."""
        m = self.model
        self.vocabulary()
        self.laws()
        implied = self.derived()
        return dict(
            id=m.id, version=m.version, name=m.name, laws=dict(m.laws), law_groups=self.groups,
            payer_laws={p: tuple(v.laws) for p, v in m.payers.items()},
            payer_labels={p: v.label for p, v in m.payers.items()},
            fallbacks=dict(m.fallbacks), implied=implied,
            kind_labels={k: v.label for k, v in m.kinds.items()},
            fact_labels={k: v.label for k, v in m.facts.items()},
            fact_questions={k: v.question for k, v in m.facts.items()},
            checks=self.checks(), rules=self.rules(), activities=self.activities(),
            category_labels={c: cm.label for c, cm in m.activities.items()},
        )


@cache
def national_rules() -> RuleSet:
    """The shipped national default (``ozamonitor/funding/data/national.yaml``)."""
    ref = resources.files("ozamonitor.funding") / "data" / "national.yaml"
    return RuleSet.load("national.yaml", text=ref.read_text(encoding="utf-8"))
