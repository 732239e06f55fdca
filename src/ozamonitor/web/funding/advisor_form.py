"""The advisor form without Django forms: read the posted fields into a case, say what to ask.

The form's field names are the case's own field paths (``child.age``,
``setting.oza_deviations``, ``components[2].cause``), so every
:class:`~ozamonitor.funding.Problem` the library reports lands beside its
field. After each change (htmx) the view calls :func:`evaluate`: it builds the
case from what is filled in, asks :func:`ozamonitor.funding.facts_needed` which
facts are still open, and shows those fields (and the ones already answered);
when nothing is open it gives the advice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from ozamonitor.funding import (
    Advice,
    Case,
    FundingInputError,
    RegionMatrix,
    advise,
    facts_needed,
    national_rules,
)
from ozamonitor.funding.case import FACTS, case_field

#: Written for "none of these" in a set question (an explicit empty answer).
NONE = "__none__"
#: The most components one form holds.
MAX_COMPONENTS = 30
#: Component facts by kind (which fields a component row can show).
COMPONENT_FACTS = ("cause", "to", "brin")

VALUE_LABELS: dict[str, Any] = {
    "school": _("school"), "care_location": _("care location"), "home": _("home"),
    "private": _("private initiative"), "distance": _("distance learning"),
    "po": _("primary (po)"), "vo": _("secondary (vo)"), "so": _("special primary (so)"),
    "vso": _("special secondary (vso)"),
    "upbringing": _("upbringing"), "psychological": _("psychological problems"),
    "illness": _("illness"), "disability": _("disability"),
    "teaching_time": _("teaching time"), "core_objectives": _("core objectives"),
    "location": _("location"), "funding": _("funding"),
    "true": _("yes"), "false": _("no"),
}


@dataclass
class Field:
    """One question of the form."""

    name: str
    fact: str
    label: str
    question: str
    type: str
    choices: list[tuple[str, str]]
    value: Any = None
    needed: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def selected(self) -> list[str]:
        """The chosen values as strings (for checkboxes and selects)."""
        if self.value is None:
            return []
        if isinstance(self.value, bool):
            return ["true" if self.value else "false"]
        if isinstance(self.value, list):
            return list(self.value) or [NONE]
        return [str(self.value)]


@dataclass
class Row:
    """One component of the form."""

    index: int
    kind: str = ""
    activity: str = ""
    fields: list[Field] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The component id in the case (``c1``, ``c2``, ...)."""
        return f"c{self.index + 1}"


@dataclass
class State:
    """The form after one round: questions, rows, problems and (when complete) the advice."""

    facts: list[Field]
    rows: list[Row]
    matrix_choice: str = ""
    errors: list[str] = field(default_factory=list)
    advice: Advice | None = None
    case: dict[str, Any] | None = None

    @property
    def open_questions(self) -> int:
        """How many shown questions still need an answer."""
        return sum(1 for f in self.all_fields if f.needed and f.value is None)

    @property
    def all_fields(self) -> list[Field]:
        """Every field shown, child and setting first."""
        return [*self.facts, *(f for r in self.rows for f in r.fields)]


def lang_of(language: str | None) -> str:
    """``nl`` or ``en`` for a Django language code."""
    return "nl" if (language or "nl").startswith("nl") else "en"


def _new_field(fact: str, index: int | None, lang: str) -> Field:
    rules = national_rules()
    spec = FACTS[fact]
    if spec.type == "bool":
        choices = [("true", str(_("yes"))), ("false", str(_("no")))]
    else:
        choices = [(c, str(VALUE_LABELS.get(c, c))) for c in spec.choices]
    return Field(case_field(fact, index), fact, rules.fact_labels[fact](lang),
                 rules.fact_questions[fact](lang), spec.type, choices)


def _read(f: Field, data: Any) -> None:
    """Read ``f``'s value from the posted ``data`` (a QueryDict or a dict of lists)."""
    raw = [v for v in _getlist(data, f.name) if v != ""]
    if f.type == "set":
        if NONE in raw:
            f.value = []
        elif raw:
            allowed = {c for c, _l in f.choices}
            bad = [v for v in raw if v not in allowed]
            f.value = [v for v in raw if v in allowed] if not bad else None
            if bad:
                f.errors.append(str(_("Unknown choice: %(v)s.") % {"v": ", ".join(bad)}))
        return
    if not raw:
        return
    value = raw[-1].strip()
    if f.type == "int":
        try:
            f.value = int(value)
        except ValueError:
            f.errors.append(str(_("Enter a whole number.")))
    elif f.type == "bool":
        if value in ("true", "false"):
            f.value = value == "true"
        else:
            f.errors.append(str(_("Answer yes or no.")))
    elif value in {c for c, _l in f.choices}:
        f.value = value
    else:
        f.errors.append(str(_("Unknown choice: %(v)s.") % {"v": value}))


def _getlist(data: Any, name: str) -> list[str]:
    if hasattr(data, "getlist"):
        return list(data.getlist(name))
    value = data.get(name)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def _row_count(data: Any, action: str) -> int:
    try:
        n = int(_getlist(data, "components")[-1])
    except (IndexError, ValueError):
        n = 1
    n = max(1, min(n, MAX_COMPONENTS))
    if action == "add":
        n = min(n + 1, MAX_COMPONENTS)
    return n


def activity_choices(matrix: RegionMatrix | None, lang: str) -> list[tuple[str, list[tuple[
        str, str]]]]:
    """Activities to choose from, grouped by category: the national catalogue and the region's."""
    rules = national_rules()
    groups: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for (cat, act), entry in rules.activities.items():
        groups.setdefault(cat, (entry.category_label(lang), []))[1].append(
            (f"{cat}/{act}", entry.label(lang)))
    if matrix is not None:
        for (cat, act), entry in matrix.entries.items():
            items = groups.setdefault(cat, (entry.category_label(lang), []))[1]
            if all(v != f"{cat}/{act}" for v, _l in items):
                items.append((f"{cat}/{act}", entry.label(lang)))
    return [(label, items) for label, items in groups.values()]


def kind_choices(lang: str) -> list[tuple[str, str]]:
    """Component kinds with their labels."""
    rules = national_rules()
    return [(k, rules.kind_labels[k](lang)) for k in rules.kind_labels]


def read_rows(data: Any, lang: str) -> tuple[list[Row], str]:
    """The component rows of the posted form (after an add or remove action) and the action."""
    action = (_getlist(data, "action") or [""])[-1]
    n = _row_count(data, action)
    rows: list[Row] = []
    remove = int(action.split(":")[1]) if action.startswith("remove:") and \
        action.split(":")[1].isdigit() else None
    for i in range(n):
        if i == remove and n > 1:
            continue
        kind = (_getlist(data, f"components[{i}].kind") or [""])[-1]
        act = (_getlist(data, f"components[{i}].activity") or [""])[-1]
        row = Row(len(rows), kind, act)
        for name in COMPONENT_FACTS:
            f = _new_field(f"component.{name}", row.index, lang)
            src = Field(f"components[{i}].{name}", f.fact, "", "", f.type, f.choices)
            _read(src, data)
            f.value, f.errors = src.value, src.errors
            row.fields.append(f)
        rows.append(row)
    return rows, action


def _case_dict(facts: Sequence[Field], rows: Sequence[Row]) -> tuple[dict[str, Any], list[int]]:
    data: dict[str, Any] = {"child": {}, "setting": {}, "components": []}
    for f in facts:
        if f.value is not None:
            scope, _, name = f.fact.partition(".")
            data[scope][name] = f.value
    where: list[int] = []  # case component index -> row index
    for r in rows:
        if not r.kind or (r.kind == "activity" and "/" not in r.activity):
            continue
        comp: dict[str, Any] = {"id": r.id, "kind": r.kind}
        if r.kind == "activity":
            comp["category"], _, comp["activity"] = r.activity.partition("/")
        for f in r.fields:
            kinds = FACTS[f.fact].kinds
            if f.value is not None and r.kind in kinds:
                comp[f.fact.partition(".")[2]] = f.value
        data["components"].append(comp)
        where.append(r.index)
    return data, where


def _place(problems: Sequence[Any], state: State, where: Sequence[int], lang: str) -> None:
    """Put each problem beside its field (a case component index maps to its row)."""
    by_name = {f.name: f for f in state.all_fields}
    for p in problems:
        msg = (p.message_nl if lang == "nl" and p.message_nl else p.message)
        name = p.field
        if name.startswith("components[") and "]" in name:
            k = int(name[len("components["):name.index("]")])
            rest = name[name.index("]") + 1:]
            if k < len(where):
                name = f"components[{where[k]}]{rest}"
                if name not in by_name:
                    state.rows[where[k]].errors.append(f"{rest.lstrip('.')}: {msg}"
                                                       if rest else msg)
                    continue
        if name in by_name:
            by_name[name].errors.append(msg)
        else:
            state.errors.append(f"{p.field}: {msg}" if p.field else msg)


def evaluate(data: Any, matrix: RegionMatrix | None, lang: str,
             matrix_choice: str = "") -> State:
    """Read the posted form, work out the open questions and, when none is left, advise.

    Parameters
    ----------
    data : QueryDict or mapping of lists
        The posted form (field names are case field paths).
    matrix : RegionMatrix, optional
        The region matrix chosen.
    lang : str
        ``nl`` or ``en`` for labels and messages.
    matrix_choice : str
        The value of the matrix select, shown again.
    """
    facts = [_new_field(f, None, lang) for f in FACTS if not f.startswith("component.")]
    for f in facts:
        _read(f, data)
    rows, _action = read_rows(data, lang)
    state = State(facts, rows, matrix_choice)
    for r in rows:
        if r.kind and r.kind not in dict(kind_choices(lang)):
            r.errors.append(str(_("Unknown kind of component.")))
            r.kind = ""
    case_data, where = _case_dict(facts, rows)
    if any(f.errors for f in state.all_fields) or not case_data["components"]:
        _mark_shown(state, set())
        return state
    try:
        case = Case.from_dict(case_data)
        needed = {q.field for q in facts_needed(case, matrix)}
    except FundingInputError as e:
        _mark_shown(state, set())
        _place(e.problems, state, where, lang)
        return state
    needed = {_row_field(n, where) for n in needed}
    _mark_shown(state, needed)
    if needed:
        return state
    try:
        state.advice = advise(case, matrix)
        state.case = case_data
    except FundingInputError as e:
        _place(e.problems, state, where, lang)
    return state


def _row_field(name: str, where: Sequence[int]) -> str:
    if name.startswith("components["):
        k = int(name[len("components["):name.index("]")])
        return f"components[{where[k]}]{name[name.index(']') + 1:]}"
    return name


def _mark_shown(state: State, needed: set[str]) -> None:
    for f in state.all_fields:
        f.needed = f.name in needed
    for r in state.rows:
        r.fields = [f for f in r.fields if r.kind in FACTS[f.fact].kinds
                    and (f.needed or f.value is not None or f.errors)]
    state.facts = [f for f in state.facts if f.needed or f.value is not None or f.errors]


def form_data_of_case(case: Mapping[str, Any]) -> dict[str, list[str]]:
    """A saved case as posted form data (to open the advisor on a saved funding map)."""
    out: dict[str, list[str]] = {}

    def put(name: str, value: Any) -> None:
        if isinstance(value, bool):
            out[name] = ["true" if value else "false"]
        elif isinstance(value, list):
            out[name] = [str(v) for v in value] or [NONE]
        elif value is not None:
            out[name] = [str(value)]

    for scope in ("child", "setting"):
        for k, v in (case.get(scope) or {}).items():
            put(f"{scope}.{k}", v)
    comps = case.get("components") or []
    out["components"] = [str(max(1, len(comps)))]
    for i, c in enumerate(comps):
        put(f"components[{i}].kind", c.get("kind"))
        if c.get("kind") == "activity":
            put(f"components[{i}].activity", f"{c.get('category')}/{c.get('activity')}")
        for k in COMPONENT_FACTS:
            put(f"components[{i}].{k}", c.get(k))
    return out
