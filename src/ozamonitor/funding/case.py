"""A case for the funding advisor: the child, the setting and the components of support.

The schema is the one of ``CASE.yaml`` (docs/funding.md)::

    child: {age: 12, enrolled: true, wlz_indication: false,
            chronic_condition: false, care_over_one_year: false}
    setting: {location: school, brin: true, oza: false, oza_deviations: []}
    components:
      - {id: c1, kind: education_support}
      - {id: c3, kind: personal_care, cause: psychological}
      - {id: c6, kind: transport, to: school}
      - {id: c9, kind: activity, category: eating_drinking, activity: tube_feeding}

Every fact is optional in the schema: the advisor asks for a fact only when a
rule needs it (a form asks only those, see :func:`ozamonitor.funding.facts_needed`),
and a missing fact the rule needs is an error naming the field, never a guess.
Values are strict: ``age: "12"`` or ``enrolled: 1`` are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ozamonitor.funding.problems import FundingInputError, Problem, problems_from_validation
from ozamonitor.funding.yamlmarks import Marked, YamlError, format_path, load_marked

__all__ = [
    "AGE_MAX",
    "CAUSES",
    "DESTINATIONS",
    "DEVIATIONS",
    "FACTS",
    "KINDS",
    "LOCATIONS",
    "PAYERS",
    "SECTORS",
    "Case",
    "Child",
    "Component",
    "FactSpec",
    "Setting",
    "case_field",
]

#: Payer codes, in the order the advisor lists them.
PAYERS = ("swv", "school", "gemeente", "zorgkantoor", "zorgverzekeraar", "none")
LOCATIONS = ("school", "care_location", "home", "private", "distance")
#: The four points an OZA may deviate on (Besluit experiment onderwijszorgarrangementen).
DEVIATIONS = ("teaching_time", "core_objectives", "location", "funding")
SECTORS = ("po", "vo", "so", "vso")
CAUSES = ("upbringing", "psychological", "illness", "disability")
DESTINATIONS = ("school", "care_location")
KINDS = ("education_support", "upbringing_support", "personal_care", "nursing",
         "permanent_supervision", "transport", "aids", "teaching", "activity")
#: The oldest age the advisor answers for: young people up to 27, the Dutch policy
#: boundary for *jongeren*; beyond it neither youth nor school law is in play.
AGE_MAX = 27

Payer = Literal["swv", "school", "gemeente", "zorgkantoor", "zorgverzekeraar", "none"]
Location = Literal["school", "care_location", "home", "private", "distance"]
Deviation = Literal["teaching_time", "core_objectives", "location", "funding"]
Sector = Literal["po", "vo", "so", "vso"]
Cause = Literal["upbringing", "psychological", "illness", "disability"]
Destination = Literal["school", "care_location"]


@dataclass(frozen=True)
class FactSpec:
    """A fact rules may test: its type, allowed values and the kinds that carry it.

    ``type`` is ``bool``, ``int``, ``enum`` (one of ``choices``) or ``set`` (a
    subset of ``choices``). ``kinds`` is empty for child and setting facts and
    names the component kinds that have the fact otherwise.
    """

    type: Literal["bool", "int", "enum", "set"]
    choices: tuple[str, ...] = ()
    lo: int | None = None
    hi: int | None = None
    kinds: tuple[str, ...] = ()


#: Every fact a rule can test, by its path in rule files.
FACTS: dict[str, FactSpec] = {
    "child.age": FactSpec("int", lo=0, hi=AGE_MAX),
    "child.enrolled": FactSpec("bool"),
    "child.wlz_indication": FactSpec("bool"),
    "child.chronic_condition": FactSpec("bool"),
    "child.care_over_one_year": FactSpec("bool"),
    "setting.location": FactSpec("enum", LOCATIONS),
    "setting.brin": FactSpec("bool"),
    "setting.oza": FactSpec("bool"),
    "setting.oza_deviations": FactSpec("set", DEVIATIONS),
    "setting.sector": FactSpec("enum", SECTORS),
    "component.cause": FactSpec("set", CAUSES, kinds=("personal_care", "activity")),
    "component.to": FactSpec("enum", DESTINATIONS, kinds=("transport", "activity")),
    "component.brin": FactSpec("bool", kinds=("transport", "activity")),
}


def _as_list(value: Any) -> Any:
    """``cause: illness`` is shorthand for ``cause: [illness]``."""
    return [value] if isinstance(value, str) else value


Causes = Annotated[list[Cause], BeforeValidator(_as_list), Field(min_length=1)]
ComponentId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Child(_Strict):
    """Facts about the child; each is needed only where a rule tests it."""

    age: int | None = Field(None, ge=0, le=AGE_MAX, description="Age in years (0-27).")
    enrolled: bool | None = Field(None, description="Enrolled (ingeschreven) at a school.")
    wlz_indication: bool | None = Field(None, description="Has a CIZ indication for the Wlz.")
    chronic_condition: bool | None = Field(
        None, description="Chronic illness or physical, sensory or mild intellectual disability.")
    care_over_one_year: bool | None = Field(None, description="Needs care for more than a year.")


class Setting(_Strict):
    """Where the arrangement takes place and under which OZA deviations."""

    location: Location | None = None
    brin: bool | None = Field(None, description="The location has a BRIN number (a school "
                              "location or branch).")
    oza: bool | None = Field(None, description="Part of an education-care arrangement (OZA).")
    oza_deviations: list[Deviation] | None = None
    sector: Sector | None = Field(None, description="po, vo, so or vso (narrows the school law).")


class _Component(_Strict):
    id: ComponentId


class EducationSupport(_Component):
    """Extra education support (didactic, pedagogical) to reach education goals."""

    kind: Literal["education_support"]


class UpbringingSupport(_Component):
    """Help and support with upbringing or psychological problems and disorders."""

    kind: Literal["upbringing_support"]


class _Causes(_Component):
    cause: Causes | None = None
    main_cause: Cause | None = None

    @field_validator("main_cause")
    @classmethod
    def _main_in_causes(cls, value: str | None, info: ValidationInfo) -> str | None:
        causes = info.data.get("cause")
        if value is not None and (not causes or value not in causes):
            raise ValueError("main_cause must be one of the causes listed in cause")
        return value


class PersonalCare(_Causes):
    """Personal care (ADL), with its cause(s); ``main_cause`` when there are several."""

    kind: Literal["personal_care"]


class Nursing(_Component):
    """Nursing (verpleging)."""

    kind: Literal["nursing"]


class PermanentSupervision(_Component):
    """Permanent supervision or 24-hour care nearby."""

    kind: Literal["permanent_supervision"]


class Transport(_Component):
    """Transport to school or to a care location; ``brin`` of the destination."""

    kind: Literal["transport"]
    to: Destination | None = None
    brin: bool | None = Field(None, description="The destination has a BRIN number "
                              "(defaults to setting.brin).")


class Aids(_Component):
    """Aids such as a wheelchair."""

    kind: Literal["aids"]


class Teaching(_Component):
    """Teaching itself (onderwijs)."""

    kind: Literal["teaching"]


class Activity(_Causes):
    """One activity of a matrix category (``eating_drinking`` / ``tube_feeding``).

    The optional ``cause``, ``to`` and ``brin`` are passed on to the kind the
    national catalogue resolves the activity to.
    """

    kind: Literal["activity"]
    category: Annotated[str, Field(min_length=1, max_length=64)]
    activity: Annotated[str, Field(min_length=1, max_length=64)]
    to: Destination | None = None
    brin: bool | None = None


Component = Annotated[
    EducationSupport | UpbringingSupport | PersonalCare | Nursing | PermanentSupervision
    | Transport | Aids | Teaching | Activity,
    Field(discriminator="kind"),
]


def case_field(fact: str, index: int | None = None) -> str:
    """The case field of a rule fact: ``component.cause`` -> ``components[2].cause``."""
    scope, _, name = fact.partition(".")
    if scope == "component":
        return f"components[{index}].{name}" if index is not None else f"components[].{name}"
    return fact


class Case(_Strict):
    """A child, a setting and the components of support to find payers for.

    Build one with :meth:`from_yaml` (a file or text, errors name the line) or
    :meth:`from_dict` (a web form, an API body); both raise
    :class:`~ozamonitor.funding.FundingInputError` listing every problem.
    """

    child: Child = Field(default_factory=Child)
    setting: Setting = Field(default_factory=Setting)
    components: list[Component] = Field(min_length=1)

    _source: str | Path | None = PrivateAttr(None)
    _marks: Marked | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _unique_ids(self) -> Case:
        seen: set[str] = set()
        for comp in self.components:
            if comp.id in seen:
                raise ValueError(f"component id {comp.id!r} is used twice")
            seen.add(comp.id)
        return self

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | Path | None = None,
                  marks: Marked | None = None, strict: bool = True) -> Case:
        """Validate a mapping (a web form, an API body, parsed YAML).

        Parameters
        ----------
        data : mapping
            ``child``, ``setting`` and ``components``.
        source : str or Path, optional
            The file the data came from (for messages).
        marks : Marked, optional
            Line numbers of the YAML the data came from.
        strict : bool
            Refuse ``"12"`` for a number and ``"true"`` or ``1`` for a yes/no
            (files). ``strict=False`` converts them, for the strings of an HTML form.

        Raises
        ------
        FundingInputError
            Listing every problem with its field (``components[2].cause``).
        """
        if not isinstance(data, Mapping):
            raise FundingInputError([Problem("", "a case is a mapping with child, setting "
                                              "and components", 1)], file=source)
        try:
            case = cls.model_validate(dict(data), strict=strict)
        except ValidationError as e:
            problems = problems_from_validation(e, marks, kinds=KINDS)
            problems = [_nicer(_duplicate_id_problem(p, data, marks)) for p in problems]
            raise FundingInputError(problems, file=source) from None
        case._source = source
        case._marks = marks
        return case

    @classmethod
    def from_yaml(cls, source: str | Path, *, text: str | None = None) -> Case:
        """Read a ``CASE.yaml`` file (or ``text``, named ``source`` in messages)."""
        try:
            marks = load_marked(source, text=text)
        except YamlError as e:
            raise FundingInputError([Problem(format_path(e.path), e.message, e.line)],
                                    file=source) from None
        except OSError as e:
            raise FundingInputError([Problem("", f"cannot read the file: {e.strerror}")],
                                    file=source) from None
        return cls.from_dict(marks.data if marks.data is not None else {}, source=source,
                             marks=marks)

    # -- facts ------------------------------------------------------------------------
    @property
    def source(self) -> str | Path | None:
        """The file the case came from, if any."""
        return self._source

    def line_of(self, field: str) -> int | None:
        """The line of a case field (``components[2].cause``) in its YAML, if known."""
        if self._marks is None:
            return None
        path: list[str | int] = []
        for part in field.replace("[", ".[").split("."):
            if part.startswith("[") and part.endswith("]"):
                path.append(int(part[1:-1]))
            elif part:
                path.append(part)
        return self._marks.line(tuple(path))

    def facts(self, component: Any | None = None) -> dict[str, Any]:
        """The facts rules can test, by path; a missing fact is ``None``.

        Sets (``oza_deviations``, ``cause``) are frozensets; ``component.cause`` is
        the main cause alone when one is given.
        """
        out: dict[str, Any] = {}
        for name in Child.model_fields:
            out[f"child.{name}"] = getattr(self.child, name)
        for name in Setting.model_fields:
            value = getattr(self.setting, name)
            out[f"setting.{name}"] = frozenset(value) if isinstance(value, list) else value
        if component is not None:
            cause = getattr(component, "cause", None)
            main = getattr(component, "main_cause", None)
            out["component.cause"] = (frozenset([main]) if main is not None
                                      else frozenset(cause) if cause is not None else None)
            out["component.to"] = getattr(component, "to", None)
            out["component.brin"] = getattr(component, "brin", None)
        return out


def _nicer(p: Problem) -> Problem:
    """Say why an age is refused."""
    if p.field == "child.age" and "than or equal to" in p.message:
        return Problem(p.field, f"outside the advisor's range 0-{AGE_MAX}: it answers for "
                       "children and young people (youth, school and care law for them)", p.line)
    return p


def _duplicate_id_problem(p: Problem, data: Mapping[str, Any], marks: Marked | None) -> Problem:
    """Point the duplicate-id problem at the second use of the id."""
    if "is used twice" not in p.message:
        return p
    seen: set[Any] = set()
    comps = data.get("components") or []
    for i, comp in enumerate(comps):
        cid = comp.get("id") if isinstance(comp, Mapping) else None
        if cid in seen:
            path = ("components", i, "id")
            return Problem(format_path(path), p.message.removeprefix("Value error, "),
                           marks.line(path) if marks else None)
        seen.add(cid)
    return p  # pragma: no cover - the validator found one
