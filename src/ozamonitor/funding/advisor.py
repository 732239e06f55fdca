"""Who pays: advice for each component of a case, with the rule, the laws and the facts.

:func:`advise` answers a :class:`~ozamonitor.funding.Case` under the national
rule set and, optionally, a region's matrix. For each component:

1. the checks of the rule set refuse a contradictory case (error naming the field);
2. an ``activity`` the region matrix lists is answered by the matrix (its first
   case that holds); otherwise it counts as the kind the national catalogue gives;
3. the rules of the kind are tried in order; the first that holds decides.
   A rule that the given facts cannot decide is an error naming the missing
   field, never a guess.

:func:`facts_needed` tells a form which facts are still open for a partial case,
:func:`facts_for_kind` which facts a kind may need at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ozamonitor.funding.case import FACTS, KINDS, Case, case_field
from ozamonitor.funding.conditions import Condition
from ozamonitor.funding.matrix import RegionEntry, RegionMatrix
from ozamonitor.funding.problems import FundingInputError, Problem
from ozamonitor.funding.rules import FactResolver, RuleSet, Text, national_rules

__all__ = [
    "Advice",
    "ComponentAdvice",
    "FactQuestion",
    "advise",
    "facts_for_kind",
    "facts_needed",
]

_WORDS = {
    "en": {"facts": "Facts", "note": "Note", "none": "none", "from": "from",
           "counts_as": "counts nationally as", "region": "Region matrix",
           "sets": "sets", "overrides": "This overrides the national default",
           "same": "The national default gives the same payers",
           "no_national": "The national catalogue has no rule for this activity.",
           "national_open": "The national default would need more facts",
           "fallthrough": "lists this activity, but none of its cases holds; the national "
                          "default decides.",
           "rule": "rule", "agreement": "Regional agreement"},
    "nl": {"facts": "Feiten", "note": "Let op", "none": "geen", "from": "uit",
           "counts_as": "telt landelijk als", "region": "Regionale matrix",
           "sets": "regelt", "overrides": "Dit wijkt af van de landelijke standaard",
           "same": "De landelijke standaard geeft dezelfde betalers",
           "no_national": "De landelijke catalogus heeft geen regel voor deze activiteit.",
           "national_open": "De landelijke standaard zou meer feiten nodig hebben",
           "fallthrough": "noemt deze activiteit, maar geen van de gevallen geldt; de "
                          "landelijke standaard beslist.",
           "rule": "regel", "agreement": "Regionale afspraak"},
}


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | frozenset):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


@dataclass(frozen=True)
class ComponentAdvice:
    """The answer for one component.

    Attributes
    ----------
    id, kind : str
        The component's id and kind.
    payers : tuple of str
        Payer codes (``swv``, ``school``, ``gemeente``, ``zorgkantoor``,
        ``zorgverzekeraar``; ``none`` for a gap).
    laws : tuple of str
        The legal basis (law codes such as ``WPO``, ``Jeugdwet``, ``Wlz``).
    rule : str
        The id of the rule that decided (``region:<matrix>:<category>/<activity>``
        for a region entry).
    rule_text : Text
        The rule's text in Dutch and English.
    explanation : Text
        The rule text, what the region changed, notes and the facts used.
    facts : dict
        The case facts the answer rests on, by path (``child.age``).
    gap : bool
        No party is obliged to pay.
    source : str
        ``national`` or ``region``.
    activity : str or None
        ``category/activity`` for an activity component.
    national : tuple or None
        For a region answer: the payers and rule the national default gives
        (``None`` when it has no rule or would need more facts).
    """

    id: str
    kind: str
    payers: tuple[str, ...]
    laws: tuple[str, ...]
    rule: str
    rule_text: Text
    explanation: Text
    facts: dict[str, Any]
    gap: bool
    source: str = "national"
    activity: str | None = None
    national: tuple[tuple[str, ...], str] | None = None

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        """The issue's JSON shape (id, payers, laws, rule, explanation, gap) plus details."""
        return {
            "id": self.id,
            "payers": list(self.payers),
            "laws": list(self.laws),
            "rule": self.rule,
            "explanation": self.explanation(lang),
            "gap": self.gap,
            "kind": self.kind,
            "activity": self.activity,
            "source": self.source,
            "rule_text": {"nl": self.rule_text.nl, "en": self.rule_text.en},
            "facts": dict(self.facts),
        }


@dataclass(frozen=True)
class Advice:
    """Advice for every component of a case, in the case's order."""

    components: tuple[ComponentAdvice, ...]
    rule_set: str
    matrix: str | None = None

    def __iter__(self) -> Iterator[ComponentAdvice]:
        return iter(self.components)

    def __len__(self) -> int:
        return len(self.components)

    def __getitem__(self, component_id: str) -> ComponentAdvice:
        for c in self.components:
            if c.id == component_id:
                return c
        raise KeyError(component_id)

    @property
    def gaps(self) -> tuple[ComponentAdvice, ...]:
        """The components no party is obliged to pay for."""
        return tuple(c for c in self.components if c.gap)

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        """``{"components": [...]}``, each in the shape of :meth:`ComponentAdvice.to_json`."""
        return {"components": [c.to_json(lang) for c in self.components]}


@dataclass(frozen=True)
class FactQuestion:
    """A fact a form should ask: the case field, its label, question, type and choices."""

    fact: str
    field: str
    label: Text
    question: Text
    type: str
    choices: tuple[str, ...] = ()
    components: tuple[str, ...] = field(default=())


# -- evaluation --------------------------------------------------------------------------
@dataclass
class _Found:
    """The outcome of trying rules or cases in order."""

    index: int | None  # the rule/case that held, or None
    used: list[str]
    missing: tuple[str, ...] = ()
    missing_at: int | None = None


def _first(conditions: Sequence[Condition], get: FactResolver) -> _Found:
    used: list[str] = []
    for i, cond in enumerate(conditions):
        res = cond.evaluate(get)
        used.extend(res.used)
        if res.value:
            return _Found(i, used)
        if res.value is None:
            return _Found(None, used, res.missing, i)
    return _Found(None, used)


class _Advisor:
    def __init__(self, case: Case, rules: RuleSet, matrix: RegionMatrix | None) -> None:
        self.case, self.rules, self.matrix = case, rules, matrix
        self.problems: list[Problem] = []
        self._missing: dict[str, list[str]] = {}

    # problems ---------------------------------------------------------------------------
    def _problem(self, fld: str, message: str, message_nl: str | None = None) -> None:
        self.problems.append(Problem(fld, message, self.case.line_of(fld), message_nl))

    def _need(self, facts: Sequence[str], index: int, who: str) -> None:
        for fact in facts:
            fld = case_field(fact, index)
            self._missing.setdefault(fld, []).append(who)

    def flush_missing(self) -> None:
        for fld, whos in self._missing.items():
            fact = fld if not fld.startswith("components[") else "component." + fld.split(".", 1)[1]
            question = self.rules.fact_questions.get(fact)
            alt = self.rules.fallbacks.get(fact)
            who = ", ".join(dict.fromkeys(whos))
            self._problem(
                fld,
                f"missing{f' (or {alt})' if alt else ''}; needed by {who}"
                + (f": {question.en}" if question else ""),
                f"ontbreekt{f' (of {alt})' if alt else ''}; nodig voor {who}"
                + (f": {question.nl}" if question else ""))

    # checks -----------------------------------------------------------------------------
    def check(self) -> None:
        get = self.rules.resolver(self.case.facts())
        for chk in self.rules.checks:
            if any(f.startswith("component.") for f in chk.condition.facts):
                continue
            if chk.condition.evaluate(get).value:
                self._problem(chk.field, f"{chk.text.en} (check {chk.id})",
                              f"{chk.text.nl} (controle {chk.id})")
        for i, comp in enumerate(self.case.components):
            get = self.rules.resolver(self.case.facts(comp))
            for chk in self.rules.checks:
                if not any(f.startswith("component.") for f in chk.condition.facts):
                    continue
                if chk.condition.evaluate(get).value:
                    self._problem(case_field(chk.field, i), f"{chk.text.en} (check {chk.id})",
                                  f"{chk.text.nl} (controle {chk.id})")

    # one component ----------------------------------------------------------------------
    def component(self, index: int, comp: Any) -> ComponentAdvice | None:
        get = self.rules.resolver(self.case.facts(comp))
        if comp.kind != "activity":
            return self._national(index, comp, comp.kind, get, prefix=None)
        entry = self.matrix.entry(comp.category, comp.activity) if self.matrix else None
        national_entry = self.rules.activity(comp.category, comp.activity)
        if entry is None and national_entry is None:
            self._unknown_activity(index, comp)
            return None
        if entry is not None:
            found = _first([c.condition for c in entry.cases], get)
            if found.missing:
                self._need(found.missing, index,
                           f"{comp.id} (region matrix {comp.category}/{comp.activity})")
                return None
            if found.index is not None:
                return self._regional(index, comp, entry, found, get)
        if national_entry is None:  # pragma: no cover - RegionMatrix.load requires a last case
            raise AssertionError(f"region entry {comp.category}/{comp.activity} has no answer")
        prefix = self._as_kind_text(national_entry.label, national_entry.kind)
        if entry is not None:
            prefix = {lang: f"{self._region_title(lang)} {_WORDS[lang]['fallthrough']} "
                      f"{prefix[lang]}" for lang in ("nl", "en")}
        return self._national(index, comp, national_entry.kind, get, prefix=prefix)

    def _unknown_activity(self, index: int, comp: Any) -> None:
        cats = set(self.rules.category_labels) | (
            {c for c, _ in self.matrix.entries} if self.matrix else set())
        if comp.category not in cats:
            where = " or the region matrix" if self.matrix else ""
            self._problem(f"components[{index}].category",
                          f"unknown category {comp.category!r} in the national catalogue{where}; "
                          f"categories are {', '.join(sorted(cats))}")
            return
        acts = {a for (c, a) in self.rules.activities if c == comp.category}
        if self.matrix:
            acts |= {a for (c, a) in self.matrix.entries if c == comp.category}
        hint = "" if self.matrix else " (a region matrix may list more: --matrix)"
        self._problem(f"components[{index}].activity",
                      f"unknown activity {comp.activity!r} in category {comp.category!r}; "
                      f"activities are {', '.join(sorted(acts))}{hint}")

    def _as_kind_text(self, label: Text, kind: str) -> dict[str, str]:
        klabel = self.rules.kind_labels[kind]
        return {lang: f"{label(lang)} {_WORDS[lang]['counts_as']} {klabel(lang).lower()}."
                for lang in ("nl", "en")}

    def _region_title(self, lang: str) -> str:
        if self.matrix is None:  # pragma: no cover - only called with a matrix
            raise AssertionError("no matrix")
        return f"{_WORDS[lang]['region']} “{self.matrix.title(lang)}”"

    def _facts_text(self, facts: Mapping[str, Any]) -> dict[str, str]:
        shown = ", ".join(f"{k} = {_show(v)}" for k, v in facts.items())
        return {lang: f"{_WORDS[lang]['facts']}: {shown or _WORDS[lang]['none']}."
                for lang in ("nl", "en")}

    def _explain(self, parts: dict[str, list[str]]) -> Text:
        return Text(nl=" ".join(p for p in parts["nl"] if p),
                    en=" ".join(p for p in parts["en"] if p))

    def _national(self, index: int, comp: Any, kind: str, get: FactResolver,
                  prefix: dict[str, str] | None, *, quiet: bool = False) -> ComponentAdvice | None:
        rules = self.rules.rules_for(kind)
        found = _first([r.condition for r in rules], get)
        if found.missing:
            if not quiet:
                self._need(found.missing, index, f"{comp.id} ({kind}, rule "
                           f"{rules[found.missing_at].id})")
            return None
        if found.index is None:  # pragma: no cover - RuleSet.load verifies completeness
            raise AssertionError(f"no rule decides {kind} for component {comp.id}")
        rule = rules[found.index]
        laws, law_used = self.rules.expand_laws(rule.laws, get)
        facts = get.case_facts([*found.used, *law_used])
        ftext = self._facts_text(facts)
        parts: dict[str, list[str]] = {
            lang: [prefix[lang] if prefix else "", rule.text(lang),
                   f"{_WORDS[lang]['note']}: {rule.note(lang)}" if rule.note else "",
                   ftext[lang]]
            for lang in ("nl", "en")}
        return ComponentAdvice(
            id=comp.id, kind=comp.kind, payers=rule.payers, laws=tuple(laws), rule=rule.id,
            rule_text=rule.text, explanation=self._explain(parts), facts=facts, gap=rule.gap,
            activity=f"{comp.category}/{comp.activity}" if comp.kind == "activity" else None)

    def _regional(self, index: int, comp: Any, entry: RegionEntry, found: _Found,
                  get: FactResolver) -> ComponentAdvice:
        if self.matrix is None or found.index is None:  # pragma: no cover - caller checks
            raise AssertionError("no matrix or no case")
        case = entry.cases[found.index]
        laws, law_used = self.rules.expand_laws(case.laws, get)
        facts = get.case_facts([*found.used, *law_used])
        rule_id = f"region:{self.matrix.id}:{entry.category}/{entry.activity}"
        if len(entry.cases) > 1:
            rule_id += f"#{found.index + 1}"
        payer_names = {lang: ", ".join(self.rules.payer_labels[p](lang) for p in case.payers)
                       for lang in ("nl", "en")}
        text = case.text or Text(
            nl=f"{_WORDS['nl']['agreement']}: {entry.label.nl}: {payer_names['nl']}.",
            en=f"{_WORDS['en']['agreement']}: {entry.label.en}: {payer_names['en']}.")
        national_entry = self.rules.activity(entry.category, entry.activity)
        national = None
        if national_entry is not None:
            nat = self._national(index, comp, national_entry.kind, get, None, quiet=True)
            national = (nat.payers, nat.rule) if nat is not None else None
        compare: dict[str, str] = {}
        for lang in ("nl", "en"):
            w = _WORDS[lang]
            if national_entry is None:
                compare[lang] = w["no_national"]
            elif national is None:
                compare[lang] = f"{w['national_open']}."
            else:
                same = national[0] == case.payers
                compare[lang] = (f"{w['same'] if same else w['overrides']} "
                                 f"({', '.join(national[0])}, {w['rule']} {national[1]}).")
        ftext = self._facts_text(facts)
        parts = {
            lang: [f"{self._region_title(lang)} {_WORDS[lang]['sets']} "
                   f"{entry.category_label(lang)} / {entry.label(lang)}: "
                   f"{', '.join(case.payers)}.", text(lang), compare[lang],
                   f"{_WORDS[lang]['note']}: {case.note(lang)}" if case.note else "",
                   ftext[lang]]
            for lang in ("nl", "en")}
        return ComponentAdvice(
            id=comp.id, kind=comp.kind, payers=case.payers, laws=tuple(laws), rule=rule_id,
            rule_text=text, explanation=self._explain(parts), facts=facts, gap=case.gap,
            source="region", activity=f"{entry.category}/{entry.activity}", national=national)


def advise(case: Case | Mapping[str, Any], matrix: RegionMatrix | None = None, *,
           rules: RuleSet | None = None) -> Advice:
    """Who pays for each component of ``case``.

    Parameters
    ----------
    case : Case or mapping
        The case (a mapping is validated with :meth:`Case.from_dict`).
    matrix : RegionMatrix, optional
        A region's own matrix; it decides the activities it lists.
    rules : RuleSet, optional
        The rule set; the national default (:func:`national_rules`) by default.

    Returns
    -------
    Advice
        One :class:`ComponentAdvice` per component, in order.

    Raises
    ------
    FundingInputError
        For a contradictory case (a check holds), an unknown category or
        activity, or facts a rule needs that the case does not give; every
        problem names its field (and line, for a YAML case).

    Examples
    --------
    >>> advice = advise({"child": {"age": 12, "wlz_indication": True},
    ...                  "components": [{"id": "c2", "kind": "upbringing_support"}]})
    >>> advice["c2"].payers, advice["c2"].laws, advice["c2"].rule
    (('zorgkantoor',), ('Wlz',), 'wlz.care')
    """
    if not isinstance(case, Case):
        case = Case.from_dict(case)
    rules = rules or national_rules()
    adv = _Advisor(case, rules, matrix)
    adv.check()
    if adv.problems:
        raise FundingInputError(adv.problems, file=case.source)
    results = [adv.component(i, comp) for i, comp in enumerate(case.components)]
    adv.flush_missing()
    if adv.problems:
        raise FundingInputError(adv.problems, file=case.source)
    return Advice(tuple(r for r in results if r is not None), f"{rules.id} {rules.version}",
                  matrix.id if matrix else None)


# -- what to ask ---------------------------------------------------------------------------
def _question(rules: RuleSet, fact: str, index: int | None,
              components: Sequence[str] = ()) -> FactQuestion:
    spec = FACTS[fact]
    return FactQuestion(fact, case_field(fact, index), rules.fact_labels[fact],
                        rules.fact_questions[fact], spec.type, spec.choices, tuple(components))


def facts_for_kind(kind: str, *, rules: RuleSet | None = None,
                   matrix: RegionMatrix | None = None) -> list[FactQuestion]:
    """Every fact the rules of ``kind`` may test (in the order they test them).

    For ``activity`` these are the facts of every kind the national catalogue
    maps activities to, and of the region matrix's conditions. A form shows
    these fields for a component of ``kind``; :func:`facts_needed` narrows them
    to the ones still open.
    """
    rules = rules or national_rules()
    if kind not in KINDS:
        raise KeyError(f"unknown kind {kind!r}; kinds are {', '.join(KINDS)}")
    facts = list(rules.facts_of_kind(kind))
    if kind == "activity" and matrix is not None:
        facts += [f for e in matrix.entries.values() for c in e.cases for f in c.condition.facts]
    return [_question(rules, f, None) for f in dict.fromkeys(facts)]


def facts_needed(case: Case | Mapping[str, Any], matrix: RegionMatrix | None = None, *,
                 rules: RuleSet | None = None) -> list[FactQuestion]:
    """The facts still open for a (partial) case: what a form should ask next.

    For each component the rules are tried in order as :func:`advise` does;
    every unknown fact of a rule that the known facts do not rule out is
    listed, up to the first rule that holds. When the list is empty,
    :func:`advise` answers without a missing-fact error. Each fact is listed
    once, with the ids of the components that need it.
    """
    if not isinstance(case, Case):
        case = Case.from_dict(case)
    rules = rules or national_rules()
    need: dict[str, tuple[str, int | None, list[str]]] = {}

    def add(facts: Sequence[str], index: int, cid: str) -> None:
        for fact in facts:
            idx = index if fact.startswith("component.") else None
            key = case_field(fact, idx)
            cids = need.setdefault(key, (fact, idx, []))[2]
            if cid not in cids:
                cids.append(cid)

    def open_facts(conditions: Sequence[Condition], get: FactResolver) -> tuple[
            list[str], bool]:
        out: list[str] = []
        for cond in conditions:
            res = cond.evaluate(get)
            if res.value:
                return out, True
            if res.value is None:
                out.extend(res.missing)
        return out, False

    for i, comp in enumerate(case.components):
        get = rules.resolver(case.facts(comp))
        kind = comp.kind
        if kind == "activity":
            entry = matrix.entry(comp.category, comp.activity) if matrix else None
            if entry is not None:
                facts, decided = open_facts([c.condition for c in entry.cases], get)
                add(facts, i, comp.id)
                if decided:
                    continue
            national_entry = rules.activity(comp.category, comp.activity)
            if national_entry is None:
                continue  # advise() reports the unknown activity
            kind = national_entry.kind
        facts, _ = open_facts([r.condition for r in rules.rules_for(kind)], get)
        add(facts, i, comp.id)
    return [_question(rules, fact, idx, cids) for fact, idx, cids in need.values()]
