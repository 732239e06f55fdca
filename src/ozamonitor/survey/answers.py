"""The form engine: skip logic, calculations, types, required answers and constraints.

One part (``level1`` .. ``level4``) of the questionnaire is evaluated at a
time, by the web application on every htmx re-render and by the library on
every export, so both see the same result:

- :func:`evaluate_part` runs the skip logic, calculations, types, required
  answers and constraints of one part, clears the answers of skipped
  questions and returns the cleaned answers with a list of
  :class:`FieldError` (each naming the field: question name and label);
- :func:`completeness` says how much of a part is answered;
- :func:`carry_answer` fits an answer given with one instrument version to
  another (prefill of a new wave, exports across versions).

Answer values: ``select_one`` a code (``"yes"``), ``select_multiple`` a list
of codes, ``integer`` an int, ``decimal`` a float, ``text`` a string, ``date``
a ``datetime.date`` (ISO text accepted), a repeat a list of mappings (one per
instance, e.g. ``{"partner": [{"p_name": "...", "p_kind": "school"}]}``).
Unanswered is absent or None. Submissions, prefill and files are in
:mod:`ozamonitor.survey.submissions`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ozamonitor.survey.expressions import NodeSet, Scope, parse
from ozamonitor.survey.instrument import Instrument, Question

__all__ = [
    "Completeness",
    "FieldError",
    "FormState",
    "carry_answer",
    "completeness",
    "evaluate_part",
]

_MSG = {
    "required": ("Dit veld is verplicht.", "This field is required."),
    "repeat_required": ("Voeg er minstens één toe.", "Add at least one."),
    "integer": ("Vul een geheel getal in.", "Enter a whole number."),
    "decimal": ("Vul een getal in.", "Enter a number."),
    "select_one": ("Kies een van de gegeven antwoorden.", "Choose one of the given answers."),
    "select_multiple": ("Kies uit de gegeven antwoorden.", "Choose from the given answers."),
    "date": ("Vul een datum in (jjjj-mm-dd).", "Enter a date (yyyy-mm-dd)."),
    "text": ("Vul tekst in.", "Enter text."),
    "repeat": ("Dit moet een lijst zijn.", "This must be a list."),
    "constraint": ("Dit antwoord is niet toegestaan.", "This answer is not allowed."),
    "unknown": ("Deze vraag hoort niet bij dit deel van de vragenlijst.",
                "This question is not part of this part of the questionnaire."),
    "calculated": ("Dit veld wordt berekend en kan niet worden ingevuld.",
                   "This field is calculated and cannot be filled in."),
}


def _msg(key: str) -> dict[str, str]:
    nl, en = _MSG[key]
    return {"nl": nl, "en": en}


@dataclass(frozen=True)
class FieldError:
    """One problem with one answer, for a message next to the field.

    Attributes
    ----------
    name : str
        The question (or repeat) name.
    labels : dict
        Its label per language.
    kind : str
        ``required``, ``constraint``, ``type`` or ``unknown``.
    messages : dict
        The message per language (the instrument's own constraint message
        where it has one).
    repeat, index : str or None, int or None
        The repeat and the 1-based instance, for questions inside a repeat.
    """

    name: str
    labels: dict[str, str]
    kind: str
    messages: dict[str, str]
    repeat: str | None = None
    index: int | None = None

    @property
    def field(self) -> str:
        """The field's key: ``name`` or ``repeat[index].name``."""
        return f"{self.repeat}[{self.index}].{self.name}" if self.repeat else self.name

    def message(self, lang: str = "nl") -> str:
        """``field (label): message`` in ``lang``."""
        label = self.labels.get(lang) or self.labels.get("nl") or self.name
        text = self.messages.get(lang) or self.messages.get("nl", "")
        return f"{self.field} ({label}): {text}"

    def __str__(self) -> str:
        return self.message("nl")


@dataclass
class FormState:
    """The outcome of :func:`evaluate_part`.

    Attributes
    ----------
    values : dict
        The cleaned answers of the part (types coerced, skipped answers
        cleared, calculations filled in); repeats as lists of dicts.
    relevant : dict
        Per field key (``name`` or ``repeat[i].name``; groups and repeats by
        name) whether it is shown.
    errors : list of FieldError
        Problems, in form order.
    cleared : list of str
        Field keys whose answers were removed because the question is skipped.
    """

    values: dict[str, Any]
    relevant: dict[str, bool]
    errors: list[FieldError]
    cleared: list[str]

    @property
    def ok(self) -> bool:
        """No errors."""
        return not self.errors

    def errors_for(self, name: str) -> list[FieldError]:
        """The errors of one field key (or of every instance of a repeated question)."""
        return [e for e in self.errors if e.field == name or e.name == name]


# ---------------------------------------------------------------- coercion


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "") or (
        isinstance(v, list | tuple) and len(v) == 0
    ) or (isinstance(v, float) and math.isnan(v))


def _coerce(q: Question, v: Any) -> tuple[Any, str | None]:
    """(value, None) or (None, message key)."""
    if _empty(v):
        return None, None
    t = q.type
    if t == "integer":
        if isinstance(v, bool):
            return None, "integer"
        if isinstance(v, int):
            return v, None
        if isinstance(v, float) and v.is_integer():
            return int(v), None
        if isinstance(v, str):
            try:
                return int(v.strip()), None
            except ValueError:
                return None, "integer"
        return None, "integer"
    if t == "decimal":
        if isinstance(v, bool):
            return None, "decimal"
        if isinstance(v, int | float):
            return float(v), None
        if isinstance(v, str):
            try:  # the web form accepts a Dutch decimal comma
                x = float(v.strip().replace(",", "."))
            except ValueError:
                return None, "decimal"
            return (x, None) if math.isfinite(x) else (None, "decimal")
        return None, "decimal"
    if t == "select_one":
        code = str(v).strip() if isinstance(v, str | int) and not isinstance(v, bool) else None
        if code is None or code not in q.choice_names:
            return None, "select_one"
        return code, None
    if t == "select_multiple":
        items = v.split() if isinstance(v, str) else v
        if not isinstance(items, list | tuple | set):
            return None, "select_multiple"
        codes = {str(x).strip() for x in items}
        if not codes <= set(q.choice_names):
            return None, "select_multiple"
        return [c for c in q.choice_names if c in codes], None
    if t == "date":
        if isinstance(v, dt.datetime):
            return v.date(), None
        if isinstance(v, dt.date):
            return v, None
        try:
            return dt.date.fromisoformat(str(v).strip()), None
        except ValueError:
            return None, "date"
    if t == "text":
        if not isinstance(v, str | int | float) or isinstance(v, bool):
            return None, "text"
        return str(v).strip(), None
    return None, None  # note / calculate: never answered


# ---------------------------------------------------------------- the form engine


def _required(q: Question, scope: Scope) -> bool:
    r = q.required
    if r is None:
        return False
    if r in ("yes", "true()", "true"):
        return True
    return parse(r).is_true(scope)


def _calc_value(v: Any) -> Any:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if isinstance(v, str) and v == "":
        return None
    return v


class _Engine:
    """One evaluation of one part (see :func:`evaluate_part`)."""

    def __init__(self, inst: Instrument, part: str, answers: Mapping[str, Any], final: bool,
                 today: dt.date | None) -> None:
        self.inst = inst
        self.part = part
        self.final = final
        self.today = today
        self.questions = inst.in_part(part)
        self.repeat_names = {g.name for g in inst.repeats if g.part == part}
        self.errors: list[FieldError] = []
        self.cleared: list[str] = []
        self.relevant: dict[str, bool] = {}
        self.values: dict[str, Any] = {}
        self.instances: dict[str, list[dict[str, Any]]] = {}
        self._load(answers)

    # -- input -------------------------------------------------------------
    def _err(self, q: Question | None, kind: str, key: str, *, name: str | None = None,
             labels: dict[str, str] | None = None, repeat: str | None = None,
             index: int | None = None, messages: dict[str, str] | None = None) -> None:
        self.errors.append(FieldError(
            name=name or (q.name if q else ""),
            labels=labels if labels is not None else (dict(q.labels) if q else {}),
            kind=kind, messages=messages or _msg(key), repeat=repeat, index=index,
        ))

    def _coerce_into(self, q: Question, raw: Any, target: dict[str, Any],
                     repeat: str | None = None, index: int | None = None) -> None:
        if not q.answerable:
            if not _empty(raw):
                self._err(q, "type", "calculated", repeat=repeat, index=index)
            return
        v, problem = _coerce(q, raw)
        if problem:
            self._err(q, "type", problem, repeat=repeat, index=index)
        elif v is not None:
            target[q.name] = v

    def _load(self, answers: Mapping[str, Any]) -> None:
        own = {q.name: q for q in self.questions if q.repeat is None}
        for name, raw in answers.items():
            if name in self.repeat_names:
                if _empty(raw):
                    self.instances[name] = []
                    continue
                if not isinstance(raw, list | tuple) or not all(
                        isinstance(x, Mapping) for x in raw):
                    self._err(None, "type", "repeat", name=name,
                              labels=dict(self.inst.group(name).labels))
                    continue
                qs = {q.name: q for q in self.inst.in_repeat(name)}
                rows = []
                for i, inst_answers in enumerate(raw, start=1):
                    row: dict[str, Any] = {}
                    for k, v in inst_answers.items():
                        if k not in qs:
                            self._err(None, "unknown", "unknown", name=k, labels={},
                                      repeat=name, index=i)
                            continue
                        self._coerce_into(qs[k], v, row, name, i)
                    rows.append(row)
                self.instances[name] = rows
            elif name in own:
                self._coerce_into(own[name], raw, self.values)
            elif not _empty(raw):
                self._err(None, "unknown", "unknown", name=name, labels={})

    # -- scopes ------------------------------------------------------------
    def _lookup(self, name: str) -> Any:
        if name in self.instances or name in self.repeat_names:
            return len(self.instances.get(name, []))
        if self.inst.has(name):
            q = self.inst.question(name)
            if q.repeat is not None:
                return NodeSet(r.get(name) for r in self.instances.get(q.repeat, []))
        return self.values.get(name)

    def _scope(self, current: Any = None) -> Scope:
        return Scope(self._lookup, current, self.today)

    def _inner_scope(self, row: dict[str, Any], repeat: str, current: Any = None) -> Scope:
        names = {q.name for q in self.inst.in_repeat(repeat)}

        def lookup(name: str) -> Any:
            return row.get(name) if name in names else self._lookup(name)

        return Scope(lookup, current, self.today)

    # -- evaluation --------------------------------------------------------
    def _group_relevant(self, name: str) -> bool:
        if name in self.relevant:
            return self.relevant[name]
        g = self.inst.group(name)
        ok = g.parent is None or self._group_relevant(g.parent)
        if ok and g.relevant:
            ok = parse(g.relevant).is_true(self._scope())
        self.relevant[name] = ok
        return ok

    def _check(self, q: Question, value: Any, scope: Scope, repeat: str | None,
               index: int | None) -> None:
        if value is None:
            bad = any(e.name == q.name and e.repeat == repeat and e.index == index
                      for e in self.errors)  # a type error already says what is wrong
            if self.final and q.answerable and not bad and _required(q, scope):
                msgs = q.required_messages if q.required_messages else _msg("required")
                self._err(q, "required", "required", repeat=repeat, index=index, messages=msgs)
            return
        if q.constraint:
            s = Scope(scope.lookup, value, scope.today)
            if not parse(q.constraint).is_true(s):
                msgs = q.constraint_messages if q.constraint_messages else _msg("constraint")
                self._err(q, "constraint", "constraint", repeat=repeat, index=index,
                          messages=msgs)

    def _question(self, q: Question, target: dict[str, Any], scope: Scope, key: str,
                  repeat: str | None = None, index: int | None = None) -> None:
        shown = q.relevant is None or parse(q.relevant).is_true(scope)
        self.relevant[key] = shown
        if not shown:
            if target.pop(q.name, None) is not None:
                self.cleared.append(key)
            return
        if q.type == "calculate" and q.calculation:
            v = _calc_value(parse(q.calculation).evaluate(scope))
            if v is None:
                target.pop(q.name, None)
            else:
                target[q.name] = v
            return
        self._check(q, target.get(q.name), scope, repeat, index)

    def _repeat(self, name: str) -> None:
        g = self.inst.group(name)
        rows = self.instances.get(name, [])
        if not self._group_relevant(name):
            if rows:
                self.cleared.append(name)
            self.instances[name] = []
            return
        if self.final and g.required and not rows:
            self._err(None, "required", "repeat_required", name=name, labels=dict(g.labels))
        inner_groups = [x for x in self.inst.groups if x.parent == name]
        for i, row in enumerate(rows, start=1):
            for q in self.inst.in_repeat(name):
                scope = self._inner_scope(row, name)
                key = f"{name}[{i}].{q.name}"
                if any(not self._inner_group(x, row, name) for x in inner_groups
                       if x.name in q.groups):
                    self.relevant[key] = False
                    if row.pop(q.name, None) is not None:
                        self.cleared.append(key)
                    continue
                self._question(q, row, scope, key, name, i)

    def _inner_group(self, g: Any, row: dict[str, Any], repeat: str) -> bool:
        return not g.relevant or parse(g.relevant).is_true(self._inner_scope(row, repeat))

    def run(self) -> FormState:
        done: set[str] = set()
        for q in self.questions:
            if q.repeat is not None:
                if q.repeat not in done:
                    done.add(q.repeat)
                    self._repeat(q.repeat)
                continue
            if not all(self._group_relevant(g) for g in q.groups):
                self.relevant[q.name] = False
                if self.values.pop(q.name, None) is not None:
                    self.cleared.append(q.name)
                continue
            self._question(q, self.values, self._scope(), q.name)
        # repeats without questions of their own still count as lists
        for name in self.repeat_names - done:
            self._repeat(name)
        values = dict(self.values)
        for name in self.repeat_names:
            if self.instances.get(name):
                values[name] = self.instances[name]
        return FormState(values, self.relevant, self.errors, self.cleared)


def evaluate_part(instrument: Instrument, part: str, answers: Mapping[str, Any], *,
                  final: bool = False, today: dt.date | None = None) -> FormState:
    """Run one part's skip logic, calculations and checks on ``answers``.

    Parameters
    ----------
    instrument : Instrument
        The instrument version the answers belong to.
    part : str
        The part (``level1`` .. ``level4``).
    answers : mapping
        Question name -> answer (repeats: name -> list of mappings).
    final : bool, default False
        Check required answers too (on submit); a draft is checked for
        types and constraints only.
    today : datetime.date, optional
        What ``today()`` returns (default: the system date).

    Returns
    -------
    FormState
        Cleaned values (skipped answers removed), relevance per field and
        the errors, each naming its field.

    Examples
    --------
    >>> from ozamonitor.survey.instrument import load_instrument
    >>> inst = load_instrument()
    >>> st = evaluate_part(inst, "level4", {"l4_hours": 50})
    >>> st.errors[0].field, st.errors[0].kind
    ('l4_hours', 'constraint')
    >>> st.errors[0].messages["en"]
    'Give a number of hours between 0 and 40.'
    """
    return _Engine(instrument, part, answers, final, today).run()


@dataclass(frozen=True)
class Completeness:
    """How much of a part is answered: questions shown and questions answered."""

    shown: int
    answered: int

    @property
    def share(self) -> float:
        """answered / shown (1.0 when nothing is shown)."""
        return self.answered / self.shown if self.shown else 1.0


def completeness(instrument: Instrument, part: str, answers: Mapping[str, Any],
                 state: FormState | None = None) -> Completeness:
    """Count the shown questions of a part (every repeat instance's too) and those answered.

    A required repeat without instances counts as one unanswered question.
    """
    st = state or evaluate_part(instrument, part, answers)
    shown = answered = 0
    for key, is_shown in st.relevant.items():
        if not is_shown:
            continue
        name = key.rsplit(".", 1)[-1]
        if not instrument.has(name) or not instrument.question(name).answerable:
            continue
        shown += 1
        if "[" in key:
            rep, rest = key.split("[", 1)
            idx = int(rest.split("]", 1)[0])
            row = (st.values.get(rep) or [{}] * idx)[idx - 1]
            answered += row.get(name) is not None
        else:
            answered += st.values.get(name) is not None
    for g in instrument.repeats:
        if g.part == part and g.required and st.relevant.get(g.name, False) \
                and not st.values.get(g.name):
            shown += 1
    return Completeness(shown, answered)


def carry_answer(q: Question, v: Any) -> Any:
    """An answer given to an earlier version of ``q`` as ``q`` accepts it, or None.

    A multiple choice keeps the codes that still exist; other answers must
    still fit the question's type and choices.
    """
    if not q.answerable:
        return None
    if q.type == "select_multiple":
        items = v.split() if isinstance(v, str) else v
        if not isinstance(items, list | tuple):
            return None
        kept = [c for c in items if c in q.choice_names]
        return kept or None
    value, problem = _coerce(q, v)
    return None if problem else value
