"""Advice and rules as output: the JSON shape (validated), table rows and the rule table.

The JSON of an advice is ``{"components": [...]}``; each component has the six
keys of the issue (``id``, ``payers``, ``laws``, ``rule``, ``explanation``,
``gap``) and, after them, ``kind``, ``activity``, ``source``, ``rule_text``
(Dutch and English) and ``facts`` (the case facts used). A saved funding map is
this JSON; :func:`validate_advice_json` reads one back with errors naming the
field, :func:`advice_json_schema` is its JSON Schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ozamonitor.funding.advisor import Advice
from ozamonitor.funding.case import KINDS, Payer
from ozamonitor.funding.problems import FundingInputError, problems_from_validation
from ozamonitor.funding.rules import RuleSet

__all__ = [
    "AdviceJSON",
    "advice_json_schema",
    "advice_rows",
    "rule_rows",
    "rules_markdown",
    "validate_advice_json",
]

Kind = Literal["education_support", "upbringing_support", "personal_care", "nursing",
               "permanent_supervision", "transport", "aids", "teaching", "activity"]
if set(Kind.__args__) != set(KINDS):  # pragma: no cover - kept in step with case.KINDS
    raise ImportError("output.Kind and case.KINDS differ")

FactValue = bool | int | str | list[str]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _RuleText(_Model):
    nl: str
    en: str


class ComponentJSON(_Model):
    """One component of the advice JSON."""

    id: Annotated[str, Field(min_length=1)]
    payers: Annotated[list[Payer], Field(min_length=1)]
    laws: list[str]
    rule: Annotated[str, Field(min_length=1)]
    explanation: Annotated[str, Field(min_length=1)]
    gap: bool
    kind: Kind
    activity: str | None
    source: Literal["national", "region"]
    rule_text: _RuleText
    facts: dict[str, FactValue]

    @model_validator(mode="after")
    def _gap_is_none(self) -> ComponentJSON:
        if self.gap != (self.payers == ["none"]):
            raise ValueError("gap is true exactly when payers is [none]")
        if "none" in self.payers and len(self.payers) > 1:
            raise ValueError("none cannot be combined with a payer")
        return self


class AdviceJSON(_Model):
    """The advice JSON: ``{"components": [...]}``."""

    components: list[ComponentJSON]


def validate_advice_json(data: Any, *, source: str | None = None) -> AdviceJSON:
    """Validate advice JSON (a saved funding map), naming the field of each problem.

    Raises
    ------
    FundingInputError
    """
    try:
        return AdviceJSON.model_validate(data)
    except ValidationError as e:
        raise FundingInputError(problems_from_validation(e), file=source) from None


def advice_json_schema() -> dict[str, Any]:
    """The JSON Schema of the advice JSON."""
    return AdviceJSON.model_json_schema()


def advice_rows(advice: Advice, lang: str = "en",
                rules: RuleSet | None = None) -> list[dict[str, str]]:
    """One row of text per component (for a table): id, kind, payers, laws, rule, gap, explanation.

    With ``rules`` the kind and payers are shown by their labels in ``lang``.
    """
    rows = []
    for c in advice:
        kind = rules.kind_labels[c.kind](lang) if rules else c.kind
        if c.activity:
            kind += f" ({c.activity})"
        payers = ", ".join(rules.payer_labels[p](lang) if rules else p for p in c.payers)
        rows.append({"id": c.id, "kind": kind, "payers": payers, "laws": ", ".join(c.laws),
                     "rule": c.rule, "gap": "GAP" if c.gap else "",
                     "explanation": c.explanation(lang)})
    return rows


def rule_rows(rules: RuleSet, lang: str = "en") -> list[dict[str, str]]:
    """The rule set as rows in order of precedence: id, kinds, when, payers, laws, text."""
    return [{"id": r.id, "kinds": ", ".join(r.kinds), "when": r.condition.describe(),
             "payers": ", ".join(r.payers), "laws": ", ".join(r.laws) or "-",
             "text": r.text(lang)} for r in rules.rules]


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def rules_markdown(rules: RuleSet, lang: str = "en",
                   columns: Mapping[str, str] | None = None) -> str:
    """The rule table in Markdown (the table in docs/funding.md is this output)."""
    columns = columns or {"#": "#", "id": "rule", "kinds": "kinds", "when": "when",
                          "payers": "payers", "laws": "laws", "text": "text"}
    lines = ["| " + " | ".join(columns.values()) + " |",
             "|" + "---|" * len(columns)]
    for i, row in enumerate(rule_rows(rules, lang), 1):
        row = {"#": str(i), **row}
        lines.append("| " + " | ".join(_cell(row[k] if k != "id" else f"`{row[k]}`")
                                       for k in columns) + " |")
    return "\n".join(lines) + "\n"
