"""A region's own matrix: categories -> activities -> payer, on top of the national default.

The shape is the one the Zuid-Limburg gemeenten and SWVs use (seed 001): 46
categories of care activities, each split into activities (eating: bread, liquid
food, tube feeding via a button), each with a cross for who pays. A region file
overrides the national outcome of the activities it lists (and adds activities
the national catalogue does not have); every other component keeps the national
answer. An entry gives its payers directly or as cases with conditions in the
rule-file language, tried in order::

    format: 1
    id: voorbeeldregio
    name: {nl: Voorbeeldregio, en: Example region}
    example: true
    categories:
      eating:
        activities:
          bread: {payers: [school]}
          tube_feeding:
            cases:
              - {when: {child.wlz_indication: true}, payers: [zorgkantoor]}
              - {payers: [zorgverzekeraar]}

When no case of a listed activity holds, the national default decides (and the
explanation says so). Problems in a region file are
:class:`~ozamonitor.funding.FundingInputError` naming the file, line and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ozamonitor.funding.case import Payer
from ozamonitor.funding.conditions import Condition, ConditionError, parse_condition
from ozamonitor.funding.problems import FundingInputError, Problem, problems_from_validation
from ozamonitor.funding.rules import RuleSet, Text, national_rules
from ozamonitor.funding.yamlmarks import Marked, YamlError, format_path, load_marked

__all__ = ["RegionCase", "RegionEntry", "RegionMatrix", "example_matrix_path"]

_Key = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _CaseModel(_Model):
    when: Any = None
    payers: Annotated[list[Payer], Field(min_length=1)]
    laws: list[str] | None = None
    text: Text | None = None
    note: Text | None = None


class _EntryModel(_Model):
    label: Text | None = None
    payers: Annotated[list[Payer], Field(min_length=1)] | None = None
    laws: list[str] | None = None
    text: Text | None = None
    note: Text | None = None
    cases: Annotated[list[_CaseModel], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _payers_or_cases(self) -> _EntryModel:
        if (self.payers is None) == (self.cases is None):
            raise ValueError("give either payers (one answer) or cases (answers by condition)")
        if self.cases is not None and (self.laws or self.text):
            raise ValueError("with cases, give laws and text on each case")
        return self


class _CategoryModel(_Model):
    label: Text | None = None
    activities: Annotated[dict[_Key, _EntryModel], Field(min_length=1)]


class _MatrixFile(_Model):
    format: Literal[1]
    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
    name: Text
    example: bool = False
    description: Text | None = None
    categories: Annotated[dict[_Key, _CategoryModel], Field(min_length=1)]


@dataclass(frozen=True)
class RegionCase:
    """One answer of a region entry: when ``condition`` holds, ``payers`` pay."""

    condition: Condition
    payers: tuple[str, ...]
    laws: tuple[str, ...]
    text: Text | None
    note: Text | None
    line: int | None

    @property
    def gap(self) -> bool:
        """No party is obliged to pay."""
        return self.payers == ("none",)


@dataclass(frozen=True)
class RegionEntry:
    """A listed activity: its labels and its cases in order."""

    category: str
    activity: str
    category_label: Text
    label: Text
    cases: tuple[RegionCase, ...]
    line: int | None


@dataclass(frozen=True)
class RegionMatrix:
    """A validated region matrix (see :meth:`load`)."""

    id: str
    name: Text
    example: bool
    description: Text | None
    entries: Mapping[tuple[str, str], RegionEntry]
    source: str | None = None

    def entry(self, category: str, activity: str) -> RegionEntry | None:
        """The region's entry for an activity, if it lists one."""
        return self.entries.get((category, activity))

    def title(self, lang: str = "en") -> str:
        """The region's name, marked as an example where it is one."""
        name = self.name(lang)
        says_so = any(w in name.lower() for w in ("example", "voorbeeld"))
        mark = " (voorbeeld)" if lang == "nl" else " (example)"
        return name + (mark if self.example and not says_so else "")

    @classmethod
    def load(cls, source: str | Path, *, text: str | None = None,
             rules: RuleSet | None = None) -> RegionMatrix:
        """Read and validate a region file against a rule set (the national default).

        Parameters
        ----------
        source : str or Path
            The file, or with ``text`` its name in messages (a web upload).
        text : str, optional
            The YAML text.
        rules : RuleSet, optional
            Laws, facts and the national catalogue to check against.

        Raises
        ------
        FundingInputError
            Every problem, each naming the file, line and field.
        """
        rules = rules or national_rules()
        try:
            marks = load_marked(source, text=text)
        except YamlError as e:
            raise FundingInputError([Problem(format_path(e.path), e.message, e.line)],
                                    file=source) from None
        except OSError as e:
            raise FundingInputError([Problem("", f"cannot read the matrix: {e.strerror}")],
                                    file=source) from None
        try:
            model = _MatrixFile.model_validate(marks.data)
        except ValidationError as e:
            raise FundingInputError(problems_from_validation(e, marks), file=source) from None
        problems: list[Problem] = []
        entries = _compile(model, marks, rules, problems)
        if problems:
            raise FundingInputError(problems, file=source)
        return cls(model.id, model.name, model.example, model.description, entries, str(source))


def _compile(model: _MatrixFile, marks: Marked, rules: RuleSet,
             problems: list[Problem]) -> dict[tuple[str, str], RegionEntry]:
    def problem(path: tuple[str | int, ...], message: str) -> None:
        problems.append(Problem(format_path(path), message, marks.line(path)))

    def laws(names: list[str] | None, payers: list[str],
             path: tuple[str | int, ...]) -> tuple[str, ...]:
        if names is None:
            return rules.laws_of_payers(payers)
        for j, name in enumerate(names):
            if name not in rules.laws and name not in rules.law_groups:
                problem((*path, j), f"unknown law {name!r}; laws are "
                        + ", ".join([*rules.laws, *rules.law_groups]))
        return tuple(names)

    def payers_ok(payers: list[str], path: tuple[str | int, ...]) -> None:
        if "none" in payers and len(payers) > 1:
            problem(path, "none (a gap) cannot be combined with a payer")

    entries: dict[tuple[str, str], RegionEntry] = {}
    for cat, cmodel in model.categories.items():
        cpath: tuple[str | int, ...] = ("categories", cat)
        national_cat = rules.category_labels.get(cat)
        if cmodel.label is None and national_cat is None:
            problem(cpath, "a category the national catalogue does not have needs a label")
        cat_label = cmodel.label or national_cat or Text(nl=cat, en=cat)
        for act, emodel in cmodel.activities.items():
            apath = (*cpath, "activities", act)
            national = rules.activity(cat, act)
            if emodel.label is None and national is None:
                problem(apath, "an activity the national catalogue does not have needs a label")
            label = emodel.label or (national.label if national else Text(nl=act, en=act))
            cases: list[RegionCase] = []
            if emodel.cases is None:
                payers = list(emodel.payers or ())
                payers_ok(payers, (*apath, "payers"))
                cases.append(RegionCase(Condition(), tuple(payers),
                                        laws(emodel.laws, payers, (*apath, "laws")),
                                        emodel.text, emodel.note, marks.line(apath)))
            else:
                for i, cm in enumerate(emodel.cases):
                    kpath = (*apath, "cases", i)
                    try:
                        cond = parse_condition(cm.when, ("activity",))
                    except ConditionError as e:
                        problem((*kpath, "when", *e.path), e.message)
                        cond = Condition()
                    payers_ok(list(cm.payers), (*kpath, "payers"))
                    cases.append(RegionCase(cond, tuple(cm.payers),
                                            laws(cm.laws, list(cm.payers), (*kpath, "laws")),
                                            cm.text, cm.note or emodel.note, marks.line(kpath)))
                if national is None and emodel.cases[-1].when is not None:
                    problem((*apath, "cases", len(emodel.cases) - 1),
                            "the national catalogue does not have this activity, so its last "
                            "case must have no `when` (the answer when no other case holds)")
            entries[(cat, act)] = RegionEntry(cat, act, cat_label, label, tuple(cases),
                                              marks.line(apath))
    return entries


def example_matrix_path() -> Path:
    """The shipped example region file (``ozamonitor/funding/data/example_region.yaml``)."""
    return Path(str(resources.files("ozamonitor.funding") / "data" / "example_region.yaml"))
