"""Thuiszitter definitions as data: versioned, declarative, validated.

A definition is a TOML or YAML document::

    name = "vsvkompas"
    version = "2023"
    source = "Ingrado, Verzuimkompas / leerplichttelling"
    description = "LRV > 3 months or AV > 3 months, without exemption."
    population = "duty"          # "compulsory" (leerplichtig) or "duty" (+ kwalificatieplichtig)

    [[categories]]
    name = "lrv_3m"
    label = "langdurig relatief verzuim > 3 maanden"
    label_en = "long-term relative absence > 3 months"
    when = { all = ["enrolled", "duty", { lrv_months = { ">" = 3 } }] }

A criterion (``when``) is one of

* a base condition name (see :data:`BASE_CONDITIONS`), e.g. ``"enrolled"``;
* ``{ all = [...] }``, ``{ any = [...] }`` or ``{ not = criterion }``;
* a duration threshold ``{ <condition>_<unit> = { <op> = n, ... } }`` with unit
  ``days``, ``weeks`` or ``months`` and op ``>``, ``>=``, ``<``, ``<=``; several
  ops are combined with *and*. A duration threshold is only true while the
  condition runs: ``{ lrv_months = { "<=" = 3 } }`` means "LRV running for at
  most 3 months". Durations are measured as of the reference date: the day the
  spell starts counts as day 1; ``n months`` are calendar months (a spell from
  1 January has lasted *more than* 3 months from 1 April on).

Categories are listed in priority order and are exclusive by default: a child
counts in the first category it meets, so the categories add up to the
definition's total. For flows (a school year) a child counts in the first
category it met at any time in the year; listing longer durations first makes
this the category of the maximum duration reached.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

#: Base conditions computed per child per day (see :mod:`ozamonitor.counting.timeline`).
BASE_CONDITIONS: dict[str, str] = {
    "resident": "lives in a Dutch gemeente (has a residence spell)",
    "compulsory": "leerplichtig: from the first of the month after the 5th birthday to the "
    "end of the school year of the 16th birthday or of the 12th full school year",
    "qualification_duty": "kwalificatieplichtig: after leerplicht, before the 18th birthday, "
    "no start qualification yet",
    "duty": "compulsory or qualification_duty",
    "enrolled": "enrolled at a school (ingeschreven)",
    "rv": "relative absence reported (> 16 hours in 4 weeks) and running",
    "lrv": "long-term relative absence (LRV) report running",
    "ill": "worrying illness absence (zorgwekkend ziekteverzuim) running",
    "exempt_5a": "exemption art. 5a (physical or psychological unfitness)",
    "exempt_5b": "exemption art. 5b (objection to denomination)",
    "exempt_15": "exemption art. 15 (school abroad / other)",
    "exempt_partial": "partial exemption",
    "exempt": "full exemption: 5a, 5b or 15",
    "waiting_school": "on a waiting list for a (v)so or school place",
    "waiting_care": "on a waiting list for care",
    "waiting": "waiting_school or waiting_care",
    "care_24h": "in residential (24-hour) care",
    "care": "in care other than 24-hour care (ambulant, day treatment, foster care, nursing; "
    "context only: counts together with a non-ordinary condition such as not_enrolled)",
    "wlz_care": "in Wlz care of any kind (context only, as care)",
    "not_enrolled": "resident, under duty (leerplicht or kwalificatieplicht), not enrolled, "
    "no full exemption",
    "lapsed_exemption": "not_enrolled directly after a full exemption ended (no new school)",
    "care_24h_no_education": "not_enrolled while in 24-hour care",
    "av": "absolute absence as officially visible: not_enrolled, except lapsed exemptions and "
    "24-hour care without education (combine with `compulsory` for leerplichtigen only)",
}

UNITS = ("days", "weeks", "months")
OPS = (">", ">=", "<", "<=")

_DURATION = re.compile(r"^(?P<cond>[a-z0-9_]+)_(?P<unit>days|weeks|months)$")

Population = Literal["compulsory", "duty"]


class DefinitionError(ValueError):
    """A definition (file) is malformed or unknown."""


# --------------------------------------------------------------------------
# Criteria: parsed into a small tree, compiled to polars expressions
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Cond:
    """A base condition holds on the date."""

    name: str


@dataclass(frozen=True)
class Duration:
    """A running condition's duration compared with a threshold.

    ``true`` iff the condition runs and ``t >= start + crossing`` (``ge=True``) or
    ``t < start + crossing`` (``ge=False``), with ``crossing = months + days``.
    """

    cond: str
    months: int
    days: int
    ge: bool


@dataclass(frozen=True)
class All:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Cond | Duration | All | AnyOf | Not


#: Largest duration threshold per unit (about ten years): beyond that a threshold is
#: a typo, and huge values would overflow the date arithmetic.
MAX_THRESHOLD = {"days": 3650, "weeks": 520, "months": 120}


def _duration_atoms(cond: str, unit: str, op: str, n: float, path: str) -> Duration:
    if n < 0 or n != int(n):
        raise ValueError(f"{path}: threshold must be a non-negative whole number, got {n!r}")
    if n > MAX_THRESHOLD[unit]:
        raise ValueError(
            f"{path}: threshold {n!r} {unit} is out of range; use 0 to "
            f"{MAX_THRESHOLD[unit]} {unit}")
    k = int(n)
    months, days = (k, 0) if unit == "months" else (0, k * (7 if unit == "weeks" else 1))
    # duration on day t: days -> t - start + 1; months: > k once t >= start + k months
    if op == ">":
        return Duration(cond, months, days, True)
    if op == ">=":
        return Duration(cond, months, days - 1, True)
    if op == "<=":
        return Duration(cond, months, days, False)
    return Duration(cond, months, days - 1, False)  # "<"


def parse_criterion(obj: Any, path: str = "when") -> Node:
    """Parse a criterion (str / dict / list) into a tree; errors name the path."""
    if isinstance(obj, str):
        name = obj.strip()
        if name.startswith("!"):
            return Not(parse_criterion(name[1:], path))
        if name not in BASE_CONDITIONS:
            raise ValueError(
                f"{path}: unknown condition {name!r}; known: {', '.join(BASE_CONDITIONS)}"
            )
        return Cond(name)
    if isinstance(obj, list):
        return All(tuple(parse_criterion(o, f"{path}[{i}]") for i, o in enumerate(obj)))
    if not isinstance(obj, Mapping):
        raise ValueError(f"{path}: expected a condition name, a list or a table, got {obj!r}")
    if len(obj) != 1:
        raise ValueError(
            f"{path}: a criterion table needs exactly one key (all, any, not or "
            f"<condition>_<unit>), got {sorted(obj)}"
        )
    ((key, val),) = obj.items()
    if key in ("all", "any"):
        if not isinstance(val, list) or not val:
            raise ValueError(f"{path}.{key}: expected a non-empty list")
        items = tuple(parse_criterion(o, f"{path}.{key}[{i}]") for i, o in enumerate(val))
        return All(items) if key == "all" else AnyOf(items)
    if key == "not":
        return Not(parse_criterion(val, f"{path}.not"))
    m = _DURATION.match(key)
    if not m:
        raise ValueError(
            f"{path}: unknown key {key!r}; expected all, any, not or <condition>_<unit> "
            f"with unit in {UNITS}"
        )
    cond = m.group("cond")
    if cond not in BASE_CONDITIONS:
        raise ValueError(f"{path}.{key}: unknown condition {cond!r}")
    if not isinstance(val, Mapping) or not val:
        raise ValueError(f"{path}.{key}: expected a table of comparisons like {{'>' = 28}}")
    atoms: list[Node] = []
    for op, n in val.items():
        if op not in OPS:
            raise ValueError(f"{path}.{key}: unknown operator {op!r}; use one of {OPS}")
        if isinstance(n, bool) or not isinstance(n, int | float):
            raise ValueError(f"{path}.{key}.{op}: expected a number, got {n!r}")
        atoms.append(_duration_atoms(cond, m.group("unit"), op, n, f"{path}.{key}.{op}"))
    return atoms[0] if len(atoms) == 1 else All(tuple(atoms))


def crossing_expr(d: Duration) -> pl.Expr:
    """The date on which a duration atom flips (from the condition's run start)."""
    e = pl.col(f"s_{d.cond}")
    if d.months:
        e = e.dt.offset_by(f"{d.months}mo")
    if d.days:
        e = e.dt.offset_by(f"{d.days}d")
    return e


def compile_node(node: Node, t: pl.Expr | None = None) -> pl.Expr:
    """Polars boolean expression over a points frame (``c_*``, ``s_*``, ``t`` columns)."""
    t = pl.col("t") if t is None else t
    if isinstance(node, Cond):
        return pl.col(f"c_{node.name}")
    if isinstance(node, Duration):
        running = pl.col(f"c_{node.cond}")
        cross = crossing_expr(node)
        cmp = (t >= cross) if node.ge else (t < cross)
        return running & cmp.fill_null(False)
    if isinstance(node, All):
        return pl.all_horizontal([compile_node(i, t) for i in node.items])
    if isinstance(node, AnyOf):
        return pl.any_horizontal([compile_node(i, t) for i in node.items])
    return ~compile_node(node.item, t)


def durations_in(node: Node) -> list[Duration]:
    """All duration atoms of a criterion (their crossing dates split flow segments)."""
    if isinstance(node, Duration):
        return [node]
    if isinstance(node, All | AnyOf):
        return [d for i in node.items for d in durations_in(i)]
    if isinstance(node, Not):
        return durations_in(node.item)
    return []


# --------------------------------------------------------------------------
# Definition models
# --------------------------------------------------------------------------


class Category(BaseModel):
    """One category of a definition: a name, labels and a criterion."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    label_en: str = ""
    when: Any
    description: str = ""

    @field_validator("name")
    @classmethod
    def _not_total(cls, v: str) -> str:
        if v == "total":
            raise ValueError("'total' is reserved for the sum of the categories")
        return v

    @field_validator("when")
    @classmethod
    def _parse_when(cls, v: Any) -> Any:
        parse_criterion(v)
        return v

    @property
    def node(self) -> Node:
        return parse_criterion(self.when)

    def display(self, lang: str = "nl") -> str:
        return self.label if lang == "nl" or not self.label_en else self.label_en


class Definition(BaseModel):
    """A versioned thuiszitter definition (see the module docstring for the format)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str
    source: str
    description: str
    label: str = ""
    label_en: str = ""
    population: Population = "compulsory"
    exclusive: bool = True
    categories: tuple[Category, ...] = Field(min_length=1)

    @field_validator("version", mode="before")
    @classmethod
    def _version_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | float | dt.date) else v

    @field_validator("categories")
    @classmethod
    def _unique(cls, v: tuple[Category, ...]) -> tuple[Category, ...]:
        names = [c.name for c in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate category names: {', '.join(dup)}")
        return v

    def display(self, lang: str = "nl") -> str:
        base = self.label or self.name
        return base if lang == "nl" or not self.label_en else self.label_en

    def category_names(self) -> list[str]:
        return [c.name for c in self.categories]


def _format_validation(err: ValidationError, source: str) -> str:
    parts = []
    errors = err.errors()
    deeper = [tuple(e["loc"]) for e in errors]
    for e in errors:
        here = tuple(e["loc"])
        if e["type"] == "too_short" and any(
                len(o) > len(here) and o[:len(here)] == here for o in deeper):
            continue  # a consequence of an invalid item reported below
        loc = ".".join(str(x) for x in e["loc"]) or "(top)"
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{source}: field {loc}: {msg}")
    return "\n".join(parts)


def definition_from_mapping(data: Any, source: str = "<mapping>") -> Definition:
    """Validate a parsed mapping; errors name the source and field."""
    if not isinstance(data, Mapping):
        raise DefinitionError(f"{source}: expected a table/mapping at the top level")
    try:
        return Definition.model_validate(dict(data))
    except ValidationError as e:
        raise DefinitionError(_format_validation(e, source)) from None


def load_definition_file(path: str | Path) -> list[Definition]:
    """Load one or more definitions from a TOML or YAML file.

    A file holds one definition, or several under a top-level ``definitions``
    list (TOML: ``[[definitions]]``).
    """
    p = Path(path)
    if not p.is_file():
        raise DefinitionError(f"{p}: definition file not found")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DefinitionError(
            f"{p}: not a UTF-8 text file (byte {e.start}: {e.reason}); save it as UTF-8"
        ) from None
    except OSError as e:
        raise DefinitionError(f"{p}: cannot read: {e.strerror or e}") from None
    try:
        if p.suffix.lower() == ".toml":
            data: Any = tomllib.loads(text)
        elif p.suffix.lower() in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        else:
            raise DefinitionError(f"{p}: unknown definition file type; use .toml, .yaml or .yml")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as e:
        raise DefinitionError(f"{p}: cannot parse: {e}") from None
    if isinstance(data, Mapping) and "definitions" in data:
        items = data["definitions"]
        if not isinstance(items, list):
            raise DefinitionError(f"{p}: field definitions: expected a list")
        return [definition_from_mapping(d, f"{p} definitions[{i}]") for i, d in enumerate(items)]
    return [definition_from_mapping(data, str(p))]


BUILTIN_DIR = Path(__file__).parent / "definitions"
#: Built-in definitions, narrow to wide (the waterfall's default order).
BUILTIN_ORDER = ("vsvkompas", "inspectie", "ocw2016", "vws", "oza", "balans", "latent")


def builtin_definitions() -> dict[str, Definition]:
    """The definitions shipped with the package, keyed by name."""
    defs: dict[str, Definition] = {}
    for f in sorted(BUILTIN_DIR.glob("*.toml")):
        for d in load_definition_file(f):
            defs[d.name] = d
    order = {n: i for i, n in enumerate(BUILTIN_ORDER)}
    return dict(sorted(defs.items(), key=lambda kv: (order.get(kv[0], 99), kv[0])))


def resolve_definitions(
    names: str | Iterable[str] = "all",
    definitions_file: str | Path | Iterable[str | Path] | None = None,
) -> list[Definition]:
    """Pick definitions by name (``"all"``, ``"ocw2016,vws"`` or a list).

    ``definitions_file`` adds definitions from TOML/YAML files; with
    ``names="all"`` those are included too. A user definition may not take the
    name of a built-in one (which would silently replace the official
    definition) nor of another user definition.
    """
    available = builtin_definitions()
    builtin = set(available)
    files: list[str | Path] = []
    if definitions_file is not None:
        files = ([definitions_file] if isinstance(definitions_file, str | Path)
                 else list(definitions_file))
    origin: dict[str, str] = {}
    for f in files:
        for d in load_definition_file(f):
            if d.name in builtin:
                raise DefinitionError(
                    f"{f}: field name: {d.name!r} is the name of a built-in definition; "
                    "a user definition cannot replace it, so pick another name "
                    f"(e.g. {d.name + '_eigen'!r})")
            if d.name in origin:
                raise DefinitionError(
                    f"{f}: field name: definition {d.name!r} is also defined in "
                    f"{origin[d.name]}; pick another name")
            origin[d.name] = str(f)
            available[d.name] = d
    if isinstance(names, str):
        wanted = [n.strip() for n in names.split(",") if n.strip()]
    else:
        wanted = list(names)
    if not wanted or wanted == ["all"]:
        return list(available.values())
    unknown = [n for n in wanted if n not in available]
    if unknown:
        raise DefinitionError(
            f"unknown definition(s): {', '.join(unknown)}; available: {', '.join(available)}"
        )
    return [available[n] for n in dict.fromkeys(wanted)]
