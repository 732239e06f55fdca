"""The questionnaire as data: XLSForm instruments, read with pyxform into a typed model.

An instrument is an XLSForm (survey, choices and settings sheets). The
shipped four-level OZA questionnaire lives in ``survey/forms/`` as a YAML file
that mirrors the XLSForm sheets row by row (reviewable in a diff); the
``.xlsx`` that researchers open in Excel or ODK tools is generated from it
(:func:`write_xlsform`, ``ozamonitor survey instrument --out F.xlsx``). An
``.xlsx`` instrument edited by a researcher loads the same way
(:func:`load_instrument`).

Every source goes through pyxform (``pyxform.xls2xform.convert``), which
checks the XLSForm rules (unique names, defined choice lists, balanced
groups, valid ``${}`` references) and resolves type aliases and languages;
the typed model is built from pyxform's JSON. On top of pyxform the loader
checks what this project relies on: every label in Dutch and English, every
expression within the supported subset (:mod:`ozamonitor.survey.expressions`),
question names unique across the form, and no expression of one part
referring to another part (so the parts can be answered separately).

YAML source format (one mapping per XLSForm row)::

    settings: {form_id: oza, version: "2024.1", title: {nl: ..., en: ...}}
    survey:
      - {type: begin group, name: level1, label: {nl: ..., en: ...}}
      - {type: integer, name: l1_year, label: {nl: ..., en: ...},
         constraint: ". >= 2015", constraint_message: {nl: ..., en: ...}, required: yes}
      - {type: end group}
    choices:
      yesno: [[yes, Ja, "Yes"], [no, Nee, "No"]]

``label``, ``hint``, ``constraint_message`` and ``required_message`` become
``label::Nederlands (nl)`` and ``label::English (en)`` columns; ``measure``
becomes the custom bind column ``bind::oza:measure`` (``nominal``,
``ordinal``, ``numeric`` or ``none``: how prototypes treat the question).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from ozamonitor.errors import ConfigurationError
from ozamonitor.survey.expressions import ExpressionError, parse
from ozamonitor.survey.xlsform import (
    LANGUAGES,
    sheets_from_workbook,
    sheets_from_yaml,
    write_xlsform,
)

__all__ = [
    "FORMS_DIR",
    "LANGUAGES",
    "Choice",
    "Group",
    "Instrument",
    "Question",
    "available_versions",
    "load_instrument",
    "sheets_from_yaml",
    "write_xlsform",
]

#: Folder with the shipped instrument versions (``oza-<version>.yaml``).
FORMS_DIR = Path(__file__).with_name("forms")

QuestionType = Literal[
    "text", "integer", "decimal", "select_one", "select_multiple", "date", "calculate", "note"
]
Measure = Literal["nominal", "ordinal", "numeric", "none"]

_TYPES: dict[str, QuestionType] = {
    "text": "text",
    "integer": "integer",
    "int": "integer",
    "decimal": "decimal",
    "select one": "select_one",
    "select all that apply": "select_multiple",
    "date": "date",
    "calculate": "calculate",
    "note": "note",
}


@dataclass(frozen=True)
class Choice:
    """One answer option: its code (``name``) and label per language."""

    name: str
    labels: dict[str, str]

    def label(self, lang: str = "nl") -> str:
        """The label in ``lang`` (``nl`` or ``en``)."""
        return self.labels.get(lang) or self.labels.get("nl") or self.name


@dataclass(frozen=True)
class Group:
    """A group or repeat of the form; top-level groups are the parts."""

    name: str
    kind: Literal["group", "repeat"]
    labels: dict[str, str]
    part: str
    parent: str | None
    relevant: str | None = None
    required: bool = False  # for a repeat: at least one instance

    def label(self, lang: str = "nl") -> str:
        """The label in ``lang``."""
        return self.labels.get(lang) or self.name


@dataclass(frozen=True)
class Question:
    """One question (or calculation or note) of the instrument.

    Attributes
    ----------
    name : str
        The XLSForm name; unique in the form; the export's variable name.
    type : str
        ``text``, ``integer``, ``decimal``, ``select_one``,
        ``select_multiple``, ``date``, ``calculate`` or ``note``.
    part : str
        The top-level group (``level1`` .. ``level4``) the question belongs to.
    groups : tuple of str
        The groups (and repeat) around it, outermost first.
    repeat : str or None
        The repeat it is answered in (once per instance), if any.
    relevant, constraint, calculation : str or None
        Its own expressions (group relevance is on :class:`Group`).
    required : str or None
        ``"yes"`` or an expression; None when optional.
    measure : str
        How prototypes treat it: ``nominal``, ``ordinal``, ``numeric`` or ``none``.
    """

    name: str
    type: QuestionType
    labels: dict[str, str]
    part: str
    groups: tuple[str, ...]
    repeat: str | None = None
    hints: dict[str, str] = field(default_factory=dict)
    list_name: str | None = None
    choices: tuple[Choice, ...] = ()
    relevant: str | None = None
    constraint: str | None = None
    constraint_messages: dict[str, str] = field(default_factory=dict)
    required: str | None = None
    required_messages: dict[str, str] = field(default_factory=dict)
    calculation: str | None = None
    measure: Measure = "none"
    appearance: str | None = None

    def label(self, lang: str = "nl") -> str:
        """The label in ``lang`` (the name for calculations without a label)."""
        return self.labels.get(lang) or self.labels.get("nl") or self.name

    @property
    def answerable(self) -> bool:
        """True for questions a respondent answers (not calculations or notes)."""
        return self.type not in ("calculate", "note")

    @property
    def choice_names(self) -> tuple[str, ...]:
        """The codes of its choices, in order."""
        return tuple(c.name for c in self.choices)

    def choice_label(self, code: str, lang: str = "nl") -> str:
        """The label of choice ``code`` (the code itself when unknown)."""
        for c in self.choices:
            if c.name == code:
                return c.label(lang)
        return code


@dataclass(frozen=True)
class Instrument:
    """A loaded instrument: settings, groups and questions in form order."""

    form_id: str
    version: str
    titles: dict[str, str]
    groups: tuple[Group, ...]
    questions: tuple[Question, ...]
    source: str = ""
    warnings: tuple[str, ...] = ()
    xform: str = field(default="", repr=False)
    sheets: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_q", {q.name: q for q in self.questions})
        object.__setattr__(self, "_g", {g.name: g for g in self.groups})

    def title(self, lang: str = "nl") -> str:
        """The form title in ``lang``."""
        return self.titles.get(lang) or self.titles.get("nl") or self.form_id

    @property
    def parts(self) -> tuple[Group, ...]:
        """The top-level groups, which respondents answer separately."""
        return tuple(g for g in self.groups if g.parent is None)

    @property
    def part_names(self) -> tuple[str, ...]:
        """Names of the parts, in order."""
        return tuple(g.name for g in self.parts)

    @property
    def repeats(self) -> tuple[Group, ...]:
        """The repeats (lists such as partners and cost items)."""
        return tuple(g for g in self.groups if g.kind == "repeat")

    def question(self, name: str) -> Question:
        """The question called ``name``.

        Raises
        ------
        KeyError
            When the instrument has no such question.
        """
        return self._q[name]  # type: ignore[attr-defined]

    def group(self, name: str) -> Group:
        """The group or repeat called ``name``."""
        return self._g[name]  # type: ignore[attr-defined]

    def has(self, name: str) -> bool:
        """Whether ``name`` is a question of this instrument."""
        return name in self._q  # type: ignore[attr-defined]

    def is_repeat(self, name: str) -> bool:
        """Whether ``name`` is a repeat of this instrument."""
        g = self._g.get(name)  # type: ignore[attr-defined]
        return g is not None and g.kind == "repeat"

    def in_part(self, part: str) -> tuple[Question, ...]:
        """The questions of one part, in form order."""
        if part not in self.part_names:
            raise ConfigurationError(
                f"unknown part {part!r}; the instrument has {', '.join(self.part_names)}"
            )
        return tuple(q for q in self.questions if q.part == part)

    def in_repeat(self, repeat: str) -> tuple[Question, ...]:
        """The questions answered once per instance of ``repeat``."""
        return tuple(q for q in self.questions if q.repeat == repeat)

    def group_chain(self, q: Question) -> tuple[Group, ...]:
        """The groups around ``q``, outermost first."""
        return tuple(self.group(g) for g in q.groups)


# ---------------------------------------------------------------- pyxform -> model


def _langs(value: Any, where: str) -> dict[str, str]:
    """pyxform's ``{"Nederlands (nl)": ..}`` (or a plain string) -> ``{"nl": ..}``."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {"nl": value}
    out = {}
    for lang, text in value.items():
        m = re.search(r"\((\w+)\)\s*$", lang)
        code = m.group(1) if m else lang
        if code == "default":
            code = "nl"
        out[code] = str(text)
    return out


def _default_measure(qtype: QuestionType) -> Measure:
    if qtype in ("select_one", "select_multiple"):
        return "nominal"
    if qtype in ("integer", "decimal"):
        return "numeric"
    return "none"


def _walk(children: list[dict], part: str | None, groups: tuple[str, ...], repeat: str | None,
          out_q: list[Question], out_g: list[Group], where: str) -> None:
    for ch in children:
        t = ch.get("type")
        name = ch.get("name", "")
        bind = ch.get("bind") or {}
        if t in ("group", "repeat"):
            if name == "meta":
                continue
            g = Group(
                name=name,
                kind=t,
                labels=_langs(ch.get("label"), where),
                part=part or name,
                parent=groups[-1] if groups else None,
                relevant=bind.get("relevant") or None,
                required=bind.get("required") in ("yes", "true()", "true"),
            )
            out_g.append(g)
            _walk(ch.get("children") or [], part or name, (*groups, name),
                  name if t == "repeat" else repeat, out_q, out_g, where)
            continue
        if part is None:
            raise ConfigurationError(
                f"{where}: question {name!r} is outside the parts; put every question in a "
                "top-level group (level1 .. level4)"
            )
        qtype = _TYPES.get(t or "")
        if qtype is None:
            raise ConfigurationError(f"{where}: question {name!r} has unsupported type {t!r}")
        choices = tuple(
            Choice(str(c["name"]), _langs(c.get("label"), where)) for c in ch.get("choices") or []
        )
        measure = bind.get("oza:measure") or _default_measure(qtype)
        if measure not in ("nominal", "ordinal", "numeric", "none"):
            raise ConfigurationError(f"{where}: question {name!r}: unknown measure {measure!r}")
        required = bind.get("required")
        out_q.append(
            Question(
                name=name,
                type=qtype,
                labels=_langs(ch.get("label"), where),
                part=part,
                groups=groups,
                repeat=repeat,
                hints=_langs(ch.get("hint"), where),
                list_name=ch.get("list_name") or ch.get("itemset"),
                choices=choices,
                relevant=bind.get("relevant") or None,
                constraint=bind.get("constraint") or None,
                constraint_messages=_langs(bind.get("jr:constraintMsg"), where),
                required=None if required in (None, "", "no", "false()", "false") else required,
                required_messages=_langs(bind.get("jr:requiredMsg"), where),
                calculation=bind.get("calculate") or None,
                measure=measure,
                appearance=(ch.get("control") or {}).get("appearance"),
            )
        )


def _check(inst: Instrument, where: str) -> None:
    """The project's rules on top of pyxform's."""
    names: dict[str, str] = {}
    for item in [*inst.groups, *inst.questions]:
        if item.name in names:
            raise ConfigurationError(f"{where}: the name {item.name!r} is used twice")
        names[item.name] = "group" if isinstance(item, Group) else "question"
    part_of = {q.name: q.part for q in inst.questions} | {g.name: g.part for g in inst.groups}
    for g in inst.parts:
        if g.kind != "group":
            raise ConfigurationError(f"{where}: part {g.name!r} must be a group, not a repeat")
    for item in [*inst.groups, *inst.questions]:
        labels = item.labels
        needs_label = isinstance(item, Group) or item.type != "calculate"
        if needs_label:
            missing = [lang for lang in LANGUAGES if not labels.get(lang)]
            if missing:
                raise ConfigurationError(
                    f"{where}: {item.name!r} has no label in {', '.join(missing)}"
                )
        exprs = {"relevant": item.relevant}
        if isinstance(item, Question):
            exprs |= {"constraint": item.constraint, "calculation": item.calculation}
            if item.required not in (None, "yes", "true()"):
                exprs["required"] = item.required
            if item.constraint and not all(item.constraint_messages.get(x) for x in LANGUAGES):
                raise ConfigurationError(
                    f"{where}: {item.name!r} has a constraint but no message in nl and en"
                )
            if item.type in ("select_one", "select_multiple"):
                for c in item.choices:
                    if not all(c.labels.get(x) for x in LANGUAGES):
                        raise ConfigurationError(
                            f"{where}: choice {c.name!r} of {item.name!r} lacks a label"
                        )
        for kind, src in exprs.items():
            if not src:
                continue
            try:
                e = parse(src)
            except ExpressionError as err:
                raise ConfigurationError(f"{where}: {item.name!r} {kind}: {err}") from None
            for ref in e.references:
                if ref not in part_of:
                    raise ConfigurationError(
                        f"{where}: {item.name!r} {kind} refers to unknown ${{{ref}}}"
                    )
                if part_of[ref] != item.part:
                    raise ConfigurationError(
                        f"{where}: {item.name!r} ({item.part}) {kind} refers to ${{{ref}}} of "
                        f"{part_of[ref]}; parts must be answerable separately"
                    )


def _from_sheets(sheets: dict[str, list[dict]], where: str) -> Instrument:
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    warnings: list[str] = []
    try:
        result = convert(sheets, warnings=warnings, form_name="data")
    except PyXFormError as e:
        raise ConfigurationError(f"{where}: not a valid XLSForm: {e}") from None
    return _from_pyxform(result._pyxform, result.xform, sheets, warnings, where)


def _from_pyxform(js: dict, xform: str, sheets: dict, warnings: list[str],
                  where: str) -> Instrument:
    questions: list[Question] = []
    groups: list[Group] = []
    _walk(js.get("children") or [], None, (), None, questions, groups, where)
    version = str(js.get("version") or "")
    if not version:
        raise ConfigurationError(f"{where}: the settings sheet needs a version")
    titles = _langs(js.get("title"), where)
    settings = (sheets.get("settings") or [{}])[0]
    for lang in LANGUAGES:
        if settings.get(f"form_title_{lang}"):
            titles[lang] = str(settings[f"form_title_{lang}"])
    inst = Instrument(
        form_id=str(js.get("id_string") or ""),
        version=version,
        titles=titles,
        groups=tuple(groups),
        questions=tuple(questions),
        source=where,
        warnings=tuple(warnings),
        xform=xform,
        sheets=sheets,
    )
    _check(inst, where)
    return inst


# ---------------------------------------------------------------- public loaders


def _version_key(v: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\-]", v))


def available_versions() -> list[str]:
    """Versions of the shipped instrument, oldest first."""
    out = [p.stem.removeprefix("oza-") for p in FORMS_DIR.glob("oza-*.yaml")]
    return sorted(out, key=_version_key)


@cache
def _shipped(version: str) -> Instrument:
    path = FORMS_DIR / f"oza-{version}.yaml"
    return _load_path(path)


def _load_path(path: Path) -> Instrument:
    if not path.exists():
        raise ConfigurationError(f"{path}: no such instrument file")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            raise ConfigurationError(f"{path.name}: not valid YAML: {e}") from None
        return _from_sheets(sheets_from_yaml(data, path.name), path.name)
    if suffix == ".xlsx":
        return _from_sheets(sheets_from_workbook(path), path.name)
    raise ConfigurationError(f"{path.name}: an instrument is a .yaml or .xlsx XLSForm")


def load_instrument(source: str | Path | None = None) -> Instrument:
    """Load an instrument.

    Parameters
    ----------
    source : str, Path or None
        None for the newest shipped version; a version string (``"2024.1"``)
        for a shipped version (old answers keep the version they were given
        with, so every shipped version stays loadable); or the path of an
        XLSForm ``.xlsx`` or a YAML source.

    Returns
    -------
    Instrument

    Raises
    ------
    ConfigurationError
        For an unknown version, an invalid XLSForm or a rule of this project
        broken (labels in nl and en, expression subset, parts independent).

    Examples
    --------
    >>> inst = load_instrument()
    >>> inst.part_names
    ('level1', 'level2', 'level3', 'level4')
    """
    if source is None:
        versions = available_versions()
        if not versions:
            raise ConfigurationError(f"no instrument shipped in {FORMS_DIR}")
        return _shipped(versions[-1])
    if isinstance(source, Path) or any(s in str(source) for s in ("/", "\\", ".yaml", ".xlsx",
                                                                   ".yml")):
        return _load_path(Path(source))
    if source in available_versions():
        return _shipped(str(source))
    raise ConfigurationError(
        f"unknown instrument version {source!r}; shipped: {', '.join(available_versions())}"
    )


def iter_variables(inst: Instrument) -> Iterator[Question]:
    """Questions that become variables of the wide export (not notes, not in repeats)."""
    for q in inst.questions:
        if q.type != "note" and q.repeat is None:
            yield q
