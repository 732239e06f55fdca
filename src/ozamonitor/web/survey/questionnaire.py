"""A part of the instrument as an HTML form: posted fields -> answers -> what to render.

The form engine is the library's (:func:`ozamonitor.survey.answers.evaluate_part`):
this module only translates between HTML form fields and answers, and lays
out the evaluated part for the template. Field names:

- a question: its name (``l4_hours``); a multiple choice posts one value per
  ticked option;
- a repeat: ``<repeat>-count`` (instances) and ``<repeat>-<i>-<name>`` per
  instance ``i`` (1-based); ``action=add:<repeat>`` / ``remove:<repeat>:<i>``
  add or remove an instance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ozamonitor.survey.answers import FormState, evaluate_part
from ozamonitor.survey.instrument import Instrument, Question

__all__ = ["Item", "answers_from_post", "apply_action", "layout", "stored_answers"]

MAX_INSTANCES = 50


def _count(data: Mapping[str, Any], repeat: str) -> int:
    try:
        n = int(data.get(f"{repeat}-count", 0) or 0)
    except (TypeError, ValueError):
        n = 0
    return max(0, min(n, MAX_INSTANCES))


def _value(q: Question, data: Any, key: str) -> Any:
    if q.type == "select_multiple":
        return [v for v in data.getlist(key) if v]
    v = data.get(key)
    return v if v not in (None, "") else None


def answers_from_post(inst: Instrument, part: str, data: Any) -> dict[str, Any]:
    """The raw answers of ``part`` in a posted form (a ``QueryDict``).

    Calculations and notes are never read from the form.
    """
    out: dict[str, Any] = {}
    repeats = [g for g in inst.repeats if g.part == part]
    for q in inst.in_part(part):
        if q.repeat is None and q.answerable:
            v = _value(q, data, q.name)
            if v not in (None, []):
                out[q.name] = v
    for g in repeats:
        rows = []
        for i in range(1, _count(data, g.name) + 1):
            row = {}
            for q in inst.in_repeat(g.name):
                if q.answerable:
                    v = _value(q, data, f"{g.name}-{i}-{q.name}")
                    if v not in (None, []):
                        row[q.name] = v
            rows.append(row)
        if rows:
            out[g.name] = rows
    return out


def apply_action(answers: dict[str, Any], action: str) -> dict[str, Any]:
    """Add (``add:partner``) or remove (``remove:partner:2``) a repeat instance."""
    kind, _, rest = action.partition(":")
    if kind == "add" and rest:
        rows = list(answers.get(rest) or [])
        if len(rows) < MAX_INSTANCES:
            rows.append({})
        answers[rest] = rows
    elif kind == "remove" and rest:
        name, _, idx = rest.partition(":")
        rows = list(answers.get(name) or [])
        if idx.isdigit() and 1 <= int(idx) <= len(rows):
            del rows[int(idx) - 1]
        answers[name] = rows
    return answers


def stored_answers(inst: Instrument, state: FormState) -> dict[str, Any]:
    """What a response stores: the cleaned answers without calculations, as JSON values."""
    def jsonable(q_name: str, v: Any) -> Any:
        return v.isoformat() if isinstance(v, dt.date) else v

    out: dict[str, Any] = {}
    for k, v in state.values.items():
        if inst.is_repeat(k):
            rows = [{n: jsonable(n, x) for n, x in row.items()
                     if inst.question(n).answerable} for row in v]
            if rows:
                out[k] = rows
        elif inst.has(k) and inst.question(k).answerable:
            out[k] = jsonable(k, v)
    return out


@dataclass
class Item:
    """One thing to render: a heading, a note, a question or a repeat."""

    kind: str  # heading | note | question | repeat_start | repeat_end | instance_start | ...
    key: str = ""
    label: str = ""
    hint: str = ""
    question: Question | None = None
    widget: str = ""
    value: Any = None
    shown: bool = True
    errors: list[str] = field(default_factory=list)
    prefilled: bool = False
    required: bool = False
    choices: list[tuple[str, str, bool]] = field(default_factory=list)
    index: int = 0
    repeat: str = ""
    count: int = 0
    depth: int = 0

    @property
    def name(self) -> str:
        """The HTML field name (``partner-2-p_name`` inside a repeat)."""
        return f"{self.repeat}-{self.index}-{self.question.name}" if self.repeat and \
            self.question is not None else self.key

    @property
    def dom_id(self) -> str:
        """An HTML id for the field."""
        return "f-" + self.name


def _widget(q: Question) -> str:
    if q.type == "select_one":
        return "radio" if len(q.choices) <= 6 else "select"
    if q.type == "select_multiple":
        return "checkbox"
    if q.type == "text":
        return "textarea" if q.appearance and "multiline" in q.appearance else "text"
    return {"integer": "integer", "decimal": "decimal", "date": "date",
            "calculate": "calculated", "note": "note"}.get(q.type, "text")


def _display(v: Any) -> Any:
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float):
        return f"{v:g}".replace(".", ",")
    return v


def _question_item(q: Question, key: str, value: Any, state: FormState, lang: str,
                   prefilled: bool, errors: Mapping[str, list[str]], depth: int) -> Item:
    widget = _widget(q)
    chosen = set(value) if isinstance(value, list) else {value}
    choices = [(c.name, c.label(lang), c.name in chosen) for c in q.choices]
    return Item("note" if widget == "note" else "question", key=key, label=q.label(lang),
                hint=q.hints.get(lang) or q.hints.get("nl", ""), question=q, widget=widget,
                value=_display(value), shown=state.relevant.get(key, True),
                errors=list(errors.get(key, [])), prefilled=prefilled,
                required=q.required in ("yes", "true()", "true"), choices=choices,
                depth=depth)


def layout(inst: Instrument, part: str, raw: Mapping[str, Any], state: FormState, *,
           lang: str = "nl", prefilled: set[str] | frozenset[str] = frozenset()) -> list[Item]:
    """The part in form order, each question with its value, visibility and messages.

    ``raw`` is what the respondent entered (so a value the engine refused is
    shown again with its message); ``state`` the evaluation of it.
    """
    errors: dict[str, list[str]] = {}
    for e in state.errors:
        text = e.messages.get(lang) or e.messages.get("nl", "")
        errors.setdefault(e.field, []).append(text)
    items: list[Item] = []
    seen_groups: set[str] = set()
    done_repeats: set[str] = set()
    for q in inst.in_part(part):
        if q.repeat is None:
            for g in inst.group_chain(q)[1:]:
                if g.kind == "group" and g.name not in seen_groups:
                    seen_groups.add(g.name)
                    items.append(Item("heading", key=g.name, label=g.label(lang),
                                      shown=state.relevant.get(g.name, True)))
        if q.repeat is not None:
            if q.repeat in done_repeats:
                continue
            done_repeats.add(q.repeat)
            items.extend(_repeat_items(inst, q.repeat, raw, state, lang, prefilled, errors))
            continue
        value = raw.get(q.name) if q.answerable else state.values.get(q.name)
        if q.answerable and q.name in state.values and not errors.get(q.name):
            value = state.values[q.name]
        if q.type == "calculate" and not q.labels:
            continue
        items.append(_question_item(q, q.name, value, state, lang, q.name in prefilled,
                                    errors, 0))
    return items


def _repeat_items(inst: Instrument, name: str, raw: Mapping[str, Any], state: FormState,
                  lang: str, prefilled: set[str] | frozenset[str],
                  errors: Mapping[str, list[str]]) -> list[Item]:
    g = inst.group(name)
    rows = list(raw.get(name) or [])
    cleaned = list(state.values.get(name) or [])
    shown = state.relevant.get(name, True)
    items = [Item("repeat_start", key=name, label=g.label(lang), shown=shown,
                  count=len(rows), repeat=name, prefilled=name in prefilled,
                  errors=list(errors.get(name, [])), required=g.required)]
    for i, row in enumerate(rows, start=1):
        items.append(Item("instance_start", key=f"{name}-{i}", label=g.label(lang), index=i,
                          repeat=name, shown=shown))
        for q in inst.in_repeat(name):
            key = f"{name}[{i}].{q.name}"
            if q.type == "calculate" and not q.labels:
                continue
            value = row.get(q.name)
            if i <= len(cleaned) and q.name in cleaned[i - 1] and not errors.get(key):
                value = cleaned[i - 1][q.name]
            it = _question_item(q, key, value, state, lang, False, errors, 1)
            it.repeat, it.index = name, i
            it.shown = shown and state.relevant.get(key, True)
            items.append(it)
        items.append(Item("instance_end", repeat=name, index=i, shown=shown))
    items.append(Item("repeat_end", key=name, repeat=name, label=g.label(lang), shown=shown,
                      count=len(rows)))
    return items


def evaluate(inst: Instrument, part: str, raw: Mapping[str, Any], *, final: bool = False
             ) -> FormState:
    """:func:`evaluate_part` (the one rule engine of pages, API and exports)."""
    return evaluate_part(inst, part, raw, final=final)
