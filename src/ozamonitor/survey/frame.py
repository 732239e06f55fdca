"""Submissions as analysis frames: one row per arrangement and wave, repeats as long tables.

:func:`to_frame` runs every submission through the form engine of its own
instrument version (skipped answers cleared, calculations filled in), then
lays the answers out in the variables of one target instrument (by default
the newest), so that waves answered with different versions line up:

- the wide table has ``arrangement_id``, ``wave``, ``instrument_version``,
  per part ``<part>_status`` (``submitted``, ``draft`` or null when not
  started) and ``<part>_complete`` (share of shown questions answered), then
  one variable per question in form order: a code for a single choice, one
  0/1 dummy ``<question>_<choice>`` per option of a multiple choice (null when
  the question was not answered or skipped), numbers, text and dates;
- each repeat (partners, financiers, cost items) is a long table with
  ``arrangement_id``, ``wave``, ``instance`` (1, 2, ...) and its questions.

Every variable has a :class:`Variable` with its labels in Dutch and English
and its value labels, which the exports (SPSS, Stata, codebook) use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ozamonitor.errors import InputError
from ozamonitor.survey.answers import carry_answer, completeness, evaluate_part
from ozamonitor.survey.instrument import Instrument, Question, load_instrument
from ozamonitor.survey.submissions import STATUSES, Submission

__all__ = ["ID_COLUMNS", "SurveyFrame", "Variable", "question_variables", "to_frame"]

#: Key columns of the wide table (repeats have ``instance`` too).
ID_COLUMNS = ("arrangement_id", "wave")
_SELECTED = {1: {"nl": "gekozen", "en": "selected"},
             0: {"nl": "niet gekozen", "en": "not selected"}}
_STATUS_LABELS = {
    "submitted": {"nl": "ingediend", "en": "submitted"},
    "draft": {"nl": "concept", "en": "draft"},
}


@dataclass(frozen=True)
class Variable:
    """One column of a survey table, with what the exports need to label it.

    Attributes
    ----------
    name : str
        The column name (question name, or ``question_choice`` for a dummy).
    table : str
        ``"wide"`` or the repeat's name.
    kind : str
        ``id``, ``status``, ``share``, ``single`` (a code), ``dummy`` (0/1),
        ``integer``, ``decimal``, ``text`` or ``date``.
    labels : dict
        The variable label per language.
    value_labels : dict
        Value -> label per language (codes of a single choice, 0/1 of a dummy).
    question : str or None
        The question it comes from.
    part : str or None
        The part of that question.
    choice : str or None
        For a dummy, the choice it stands for.
    ordered : bool
        The codes are ordered (an ordinal scale).
    """

    name: str
    table: str
    kind: str
    labels: dict[str, str]
    value_labels: dict[Any, dict[str, str]] = field(default_factory=dict)
    question: str | None = None
    part: str | None = None
    choice: str | None = None
    ordered: bool = False

    def label(self, lang: str = "nl") -> str:
        """The variable label in ``lang``."""
        return self.labels.get(lang) or self.labels.get("nl") or self.name

    @property
    def dtype(self) -> pl.DataType:
        """The polars type of the column."""
        return {
            "id": pl.String, "status": pl.String, "share": pl.Float64, "single": pl.String,
            "dummy": pl.Int8, "integer": pl.Int64, "decimal": pl.Float64, "text": pl.String,
            "date": pl.Date, "wave": pl.Int32,
        }[self.kind]


def question_variables(q: Question) -> list[Variable]:
    """The variables one question becomes (several dummies for a multiple choice)."""
    table = q.repeat or "wide"
    if q.type == "select_multiple":
        return [
            Variable(
                name=f"{q.name}_{c.name}",
                table=table,
                kind="dummy",
                labels={lang: f"{q.label(lang)}: {c.label(lang)}" for lang in ("nl", "en")},
                value_labels=_SELECTED,
                question=q.name,
                part=q.part,
                choice=c.name,
            )
            for c in q.choices
        ]
    kind = {"select_one": "single", "integer": "integer", "decimal": "decimal",
            "calculate": "decimal", "text": "text", "date": "date"}[q.type]
    return [
        Variable(
            name=q.name,
            table=table,
            kind=kind,
            labels={lang: q.label(lang) for lang in ("nl", "en")},
            value_labels={c.name: dict(c.labels) for c in q.choices} if kind == "single" else {},
            question=q.name,
            part=q.part,
            ordered=q.measure == "ordinal",
        )
    ]


def _id_variables(inst: Instrument) -> list[Variable]:
    out = [
        Variable("arrangement_id", "wide", "id", {"nl": "Code van het arrangement",
                                                  "en": "Arrangement code"}),
        Variable("wave", "wide", "wave", {"nl": "Meetronde (jaar)", "en": "Wave (year)"}),
        Variable("instrument_version", "wide", "id", {"nl": "Versie van de vragenlijst",
                                                      "en": "Questionnaire version"}),
    ]
    for g in inst.parts:
        out.append(Variable(f"{g.name}_status", "wide", "status",
                            {"nl": f"Status: {g.label('nl')}", "en": f"Status: {g.label('en')}"},
                            _STATUS_LABELS, part=g.name))
        out.append(Variable(f"{g.name}_complete", "wide", "share",
                            {"nl": f"Deel beantwoord: {g.label('nl')}",
                             "en": f"Share answered: {g.label('en')}"}, part=g.name))
    return out


@dataclass
class SurveyFrame:
    """Survey answers as tables (see the module docstring).

    Attributes
    ----------
    wide : polars.DataFrame
        One row per arrangement and wave.
    repeats : dict
        Repeat name -> long table (one row per instance).
    variables : list of Variable
        Every column of every table, in order.
    instrument : Instrument
        The instrument whose variables the tables use.
    """

    wide: pl.DataFrame
    repeats: dict[str, pl.DataFrame]
    variables: list[Variable]
    instrument: Instrument

    def variables_of(self, table: str = "wide") -> list[Variable]:
        """The variables of one table, in column order."""
        return [v for v in self.variables if v.table == table]

    def variable(self, name: str, table: str = "wide") -> Variable:
        """The variable ``name`` of ``table``."""
        for v in self.variables:
            if v.name == name and v.table == table:
                return v
        raise KeyError(name)

    def tables(self) -> dict[str, pl.DataFrame]:
        """``{"wide": ..., <repeat>: ...}``."""
        return {"wide": self.wide, **self.repeats}

    def waves(self) -> list[int]:
        """The waves present, sorted."""
        return sorted(self.wide["wave"].unique().to_list()) if self.wide.height else []


def _encode(q: Question, value: Any, row: dict[str, Any]) -> None:
    if q.type == "select_multiple":
        chosen = set(value) if isinstance(value, list | tuple) else None
        for c in q.choices:
            row[f"{q.name}_{c.name}"] = None if chosen is None else int(c.name in chosen)
    elif q.type == "date" and isinstance(value, str):
        row[q.name] = dt.date.fromisoformat(value)
    elif q.type in ("decimal", "calculate") and value is not None:
        try:
            row[q.name] = float(value)
        except (TypeError, ValueError):
            row[q.name] = None
    else:
        row[q.name] = value


def _target_value(target: Instrument, source: Instrument, name: str, value: Any) -> Any:
    """An answer given with ``source`` as the target instrument reads it."""
    q = target.question(name)
    if source is target or q.type == "calculate":
        return value
    return carry_answer(q, value)


def _frame(rows: list[dict[str, Any]], variables: Sequence[Variable]) -> pl.DataFrame:
    schema = {v.name: v.dtype for v in variables}
    if not rows:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema,
                        orient="row")


def to_frame(submissions: Iterable[Submission], instrument: Instrument | None = None, *,
             statuses: Sequence[str] = ("submitted",),
             waves: Sequence[int] | None = None) -> SurveyFrame:
    """Lay submissions out as a wide table plus one long table per repeat.

    Parameters
    ----------
    submissions : iterable of Submission
        Parts as answered (any instrument versions).
    instrument : Instrument, optional
        The instrument whose variables to use (default: the newest shipped).
    statuses : sequence of str, default ("submitted",)
        Which submissions to include; ``("submitted", "draft")`` for the
        study team's view of work in progress.
    waves : sequence of int, optional
        Keep only these waves.

    Returns
    -------
    SurveyFrame

    Raises
    ------
    InputError
        When the parts of one arrangement and wave were answered with
        different instrument versions.
    """
    target = instrument or load_instrument()
    bad = set(statuses) - set(STATUSES)
    if bad:
        raise InputError(f"unknown status(es) {sorted(bad)}; use {', '.join(STATUSES)}",
                         field="statuses")
    idvars = _id_variables(target)
    qvars: list[Variable] = []
    rvars: dict[str, list[Variable]] = {g.name: [] for g in target.repeats}
    for q in target.questions:
        if q.type == "note":
            continue
        if q.repeat is None:
            qvars.extend(question_variables(q))
        else:
            rvars[q.repeat].extend(question_variables(q))
    rep_ids = {
        name: [
            Variable("arrangement_id", name, "id", idvars[0].labels),
            Variable("wave", name, "wave", idvars[1].labels),
            Variable("instance", name, "integer", {"nl": "Volgnummer", "en": "Instance"}),
        ]
        for name in rvars
    }
    wide_rows: dict[tuple[str, int], dict[str, Any]] = {}
    rep_rows: dict[str, list[dict[str, Any]]] = {name: [] for name in rvars}
    for s in submissions:
        if s.status not in statuses or (waves is not None and s.wave not in waves):
            continue
        source = target if s.instrument_version == target.version else \
            load_instrument(s.instrument_version)
        if s.part not in target.part_names:
            continue
        state = evaluate_part(source, s.part, s.answers)
        row = wide_rows.setdefault((s.arrangement_id, s.wave), {
            "arrangement_id": s.arrangement_id, "wave": s.wave,
            "instrument_version": s.instrument_version,
        })
        if row["instrument_version"] != s.instrument_version:
            raise InputError(
                f"arrangement {s.arrangement_id}, wave {s.wave}: parts answered with versions "
                f"{row['instrument_version']} and {s.instrument_version}",
                field="instrument_version")
        row[f"{s.part}_status"] = s.status
        row[f"{s.part}_complete"] = completeness(source, s.part, s.answers, state).share
        for q in target.in_part(s.part):
            if q.type == "note" or q.repeat is not None:
                continue
            value = state.values.get(q.name) if source.has(q.name) else None
            if value is not None:
                value = _target_value(target, source, q.name, value)
            _encode(q, value, row)
        for rep in (g.name for g in target.repeats if g.part == s.part):
            for i, inst_values in enumerate(state.values.get(rep) or [], start=1):
                r: dict[str, Any] = {"arrangement_id": s.arrangement_id, "wave": s.wave,
                                     "instance": i}
                for q in target.in_repeat(rep):
                    value = inst_values.get(q.name) if source.has(q.name) else None
                    if value is not None:
                        value = _target_value(target, source, q.name, value)
                    _encode(q, value, r)
                rep_rows[rep].append(r)
    rows = sorted(wide_rows.values(), key=lambda r: (r["arrangement_id"], r["wave"]))
    wide = _frame(rows, [*idvars, *qvars])
    repeats = {
        name: _frame(sorted(rep_rows[name], key=lambda r: (r["arrangement_id"], r["wave"],
                                                           r["instance"])),
                     [*rep_ids[name], *rvars[name]])
        for name in rvars
    }
    variables = [*idvars, *qvars]
    for name in rvars:
        variables.extend([*rep_ids[name], *rvars[name]])
    return SurveyFrame(wide, repeats, variables, target)
