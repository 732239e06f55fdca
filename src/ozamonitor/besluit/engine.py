"""Evaluate the Besluit OZA conditions of a rule file against an application.

The conditions are data (``rules.toml`` beside this module; the format is
described at its top). This module is the small interpreter for them: every
condition evaluates to ``pass``, ``fail`` or ``unknown`` (a field it reads is
missing) with a message, in Dutch and English, that names the field. The
command line (``ozamonitor besluit-check``) and the web registry both call
:func:`check_application`, so the two never disagree.

No library fits this: the rule language has to be three-valued (missing
facts give "unknown", not "fail"), name the field in every message and be
readable by policy staff, which rules out general expression engines.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ozamonitor.errors import ConfigurationError

__all__ = [
    "STATUSES",
    "CheckReport",
    "Condition",
    "ConditionResult",
    "RuleSet",
    "check_application",
    "default_rules",
    "load_rules",
]

STATUSES = ("pass", "fail", "unknown")
_COMPARE = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "subset")
_LOGIC = ("all", "any", "not")
_LISTS = ("some", "each")
_SYMBOL = {"eq": "=", "ne": "≠", "lt": "<", "le": "≤", "gt": ">", "ge": "≥"}
_WORDS = {  # (en, nl)
    "in": ("one of", "een van"),
    "not_in": ("none of", "geen van"),
    "subset": ("only values from", "alleen waarden uit"),
}
_MISSING = object()


@dataclass(frozen=True)
class Condition:
    """One condition of the rule file."""

    id: str
    nl: str
    en: str
    fields: tuple[str, ...]
    test: Mapping[str, Any]

    def text(self, lang: str) -> str:
        """The condition's text in ``lang`` (``nl`` or ``en``)."""
        return self.nl if lang == "nl" else self.en


@dataclass(frozen=True)
class RuleSet:
    """A parsed rule file."""

    name: str
    version: str
    source: str
    conditions: tuple[Condition, ...]
    path: str = ""

    def condition(self, cid: str) -> Condition:
        """The condition with id ``cid``."""
        for c in self.conditions:
            if c.id == cid:
                return c
        raise KeyError(cid)


@dataclass(frozen=True)
class ConditionResult:
    """The outcome of one condition for one application."""

    id: str
    status: str
    message_nl: str
    message_en: str
    text_nl: str
    text_en: str
    fields: tuple[str, ...]

    def message(self, lang: str = "nl") -> str:
        """The message in ``lang``."""
        return self.message_nl if lang == "nl" else self.message_en

    def text(self, lang: str = "nl") -> str:
        """The condition's text in ``lang``."""
        return self.text_nl if lang == "nl" else self.text_en


@dataclass(frozen=True)
class CheckReport:
    """Every condition's result; ``ok`` when none fails."""

    results: tuple[ConditionResult, ...]
    rules: RuleSet = field(repr=False)

    @property
    def ok(self) -> bool:
        """True when no condition fails (unknown conditions are listed, not failed)."""
        return not any(r.status == "fail" for r in self.results)

    def counts(self) -> dict[str, int]:
        """How many conditions pass, fail and are unknown."""
        return {s: sum(r.status == s for r in self.results) for s in STATUSES}

    def as_dict(self, lang: str = "nl") -> dict[str, Any]:
        """The JSON shape of ``ozamonitor besluit-check --format json``."""
        return {
            "conditions": [
                {"id": r.id, "status": r.status, "message": r.message(lang),
                 "text": r.text(lang), "fields": list(r.fields)}
                for r in self.results
            ],
            "ok": self.ok,
        }


# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------

def _check_test(test: Any, where: str) -> None:
    """Validate a test table's shape (raises ConfigurationError naming the condition)."""
    if not isinstance(test, Mapping):
        raise ConfigurationError(f"{where}: a test must be a table, got {test!r}")
    ops = [k for k in test if k in (*_COMPARE, *_LOGIC, *_LISTS)]
    if len(ops) != 1:
        raise ConfigurationError(f"{where}: a test needs exactly one operator, got {sorted(test)}")
    op = ops[0]
    extra = set(test) - {op, "where", "test"}
    if extra or (op not in _LISTS and set(test) != {op}):
        raise ConfigurationError(f"{where}: unexpected keys {sorted(set(test) - {op})}")
    arg = test[op]
    if op in _COMPARE:
        if not (isinstance(arg, list) and len(arg) == 2):
            raise ConfigurationError(f"{where}: {op} takes a list of two operands")
        for operand in arg:
            _check_operand(operand, where)
    elif op in ("all", "any"):
        if not isinstance(arg, list) or not arg:
            raise ConfigurationError(f"{where}: {op} takes a non-empty list of tests")
        for t in arg:
            _check_test(t, where)
    elif op == "not":
        _check_test(arg, where)
    else:
        if not isinstance(arg, str) or "test" not in test:
            raise ConfigurationError(f"{where}: {op} takes a list path and a 'test'")
        _check_test(test["test"], where)
        if "where" in test:
            _check_test(test["where"], where)


def _check_operand(operand: Any, where: str) -> None:
    if not isinstance(operand, Mapping):
        return
    keys = set(operand) - {"default", "required"}
    if len(keys) != 1 or next(iter(keys)) not in ("field", "count", "sum", "product"):
        raise ConfigurationError(f"{where}: bad operand {dict(operand)!r}")
    kind = next(iter(keys))
    if kind in ("sum", "product"):
        if not isinstance(operand[kind], list):
            raise ConfigurationError(f"{where}: {kind} takes a list of operands")
        for o in operand[kind]:
            _check_operand(o, where)


def load_rules(path: str | Path) -> RuleSet:
    """Read and validate a rule file (TOML).

    Parameters
    ----------
    path : str or Path
        The rule file.

    Returns
    -------
    RuleSet

    Raises
    ------
    ConfigurationError
        When the file is not valid TOML or a condition is malformed (the
        message names the condition).
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigurationError(f"{p}: cannot read the rule file: {e}") from None
    return _parse(data, str(p))


def _parse(data: Mapping[str, Any], where: str) -> RuleSet:
    conditions = []
    seen: set[str] = set()
    for i, c in enumerate(data.get("conditions", []), start=1):
        cid = c.get("id") if isinstance(c, Mapping) else None
        name = f"{where}: condition {cid or i}"
        if not isinstance(cid, str) or not cid:
            raise ConfigurationError(f"{name}: every condition needs an id")
        if cid in seen:
            raise ConfigurationError(f"{name}: duplicate id")
        seen.add(cid)
        for key in ("nl", "en", "fields", "test"):
            if key not in c:
                raise ConfigurationError(f"{name}: missing {key!r}")
        _check_test(c["test"], name)
        conditions.append(Condition(id=cid, nl=c["nl"], en=c["en"],
                                    fields=tuple(c["fields"]), test=c["test"]))
    if not conditions:
        raise ConfigurationError(f"{where}: no conditions")
    return RuleSet(name=str(data.get("name", "")), version=str(data.get("version", "")),
                   source=str(data.get("source", "")), conditions=tuple(conditions), path=where)


@lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    """The rule file shipped with ozamonitor (``besluit/rules.toml``)."""
    ref = resources.files("ozamonitor.besluit") / "rules.toml"
    return _parse(tomllib.loads(ref.read_text(encoding="utf-8")), "rules.toml")


# ---------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Out:
    status: str
    en: str
    nl: str


def _fmt(v: Any, lang: str) -> str:
    if v is _MISSING or v is None:
        return "—"
    if isinstance(v, bool):
        return ("ja" if v else "nee") if lang == "nl" else ("yes" if v else "no")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float):
        return f"{v:,.2f}".replace(",", "_").replace(".", "," if lang == "nl" else ".") \
            .replace("_", "." if lang == "nl" else ",")
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_fmt(x, lang) for x in v) + "]"
    return str(v)


def _lookup(scope: Any, path: str) -> Any:
    cur = scope
    for part in path.split("."):
        if isinstance(cur, Mapping) and part in cur:
            cur = cur[part]
        else:
            return _MISSING
    return _MISSING if cur is None else cur


def _value(operand: Any, scope: Any, prefix: str) -> tuple[Any, str]:
    """(value or _MISSING, the name of the field it came from)."""
    if not isinstance(operand, Mapping):
        return operand, ""
    if "field" in operand:
        name = prefix + operand["field"]
        v = _lookup(scope, operand["field"])
        if v is _MISSING and "default" in operand:
            v = operand["default"]
        return v, name
    if "count" in operand:
        v = _lookup(scope, operand["count"])
        return (0 if v is _MISSING else len(v)), f"#{prefix}{operand['count']}"
    kind = "sum" if "sum" in operand else "product"
    total: Any = 0 if kind == "sum" else 1
    names = []
    for o in operand[kind]:
        v, n = _value(o, scope, prefix)
        if n:
            names.append(n)
        if v is _MISSING:
            return _MISSING, n
        total = total + v if kind == "sum" else total * v
    return total, (" + " if kind == "sum" else " × ").join(names)


def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, dt.datetime):
        a = a.date()
    if isinstance(b, dt.datetime):
        b = b.date()
    if op == "in":
        return a in b
    if op == "not_in":
        return a not in b
    if op == "subset":
        return set(a) <= set(b)
    return {"eq": a == b, "ne": a != b}[op] if op in ("eq", "ne") else {
        "lt": lambda: a < b, "le": lambda: a <= b, "gt": lambda: a > b, "ge": lambda: a >= b,
    }[op]()


def _eval(test: Mapping[str, Any], scope: Any, prefix: str) -> _Out:
    op = next(k for k in test if k in (*_COMPARE, *_LOGIC, *_LISTS))
    arg = test[op]
    if op in _COMPARE:
        (a, an), (b, bn) = (_value(x, scope, prefix) for x in arg)
        if a is _MISSING or b is _MISSING:
            name = an if a is _MISSING else bn
            required = isinstance(arg[0 if a is _MISSING else 1], Mapping) and \
                arg[0 if a is _MISSING else 1].get("required", False)
            return _Out("fail" if required else "unknown", f"{name}: missing",
                        f"{name}: ontbreekt")
        try:
            ok = _compare(op, a, b)
        except TypeError:
            return _Out("fail", f"{an}: {_fmt(a, 'en')} cannot be compared with {_fmt(b, 'en')}",
                        f"{an}: {_fmt(a, 'nl')} is niet te vergelijken met {_fmt(b, 'nl')}")
        en_rel, nl_rel = (_SYMBOL[op], _SYMBOL[op]) if op in _SYMBOL else _WORDS[op]
        name = an or bn
        if ok:
            return _Out("pass", f"{name} is {_fmt(a, 'en')}", f"{name} is {_fmt(a, 'nl')}")
        return _Out("fail", f"{name} is {_fmt(a, 'en')}; required: {en_rel} {_fmt(b, 'en')}",
                    f"{name} is {_fmt(a, 'nl')}; vereist: {nl_rel} {_fmt(b, 'nl')}")
    if op == "not":
        inner = _eval(arg, scope, prefix)
        flip = {"pass": "fail", "fail": "pass", "unknown": "unknown"}[inner.status]
        return _Out(flip, f"not ({inner.en})", f"niet ({inner.nl})")
    if op in ("all", "any"):
        outs = [_eval(t, scope, prefix) for t in arg]
        by = {s: [o for o in outs if o.status == s] for s in STATUSES}
        decisive, other = ("fail", "pass") if op == "all" else ("pass", "fail")
        if by[decisive]:
            pick = by[decisive]
            return _Out(decisive, "; ".join(o.en for o in pick), "; ".join(o.nl for o in pick))
        if by["unknown"]:
            pick = by["unknown"]
            return _Out("unknown", "; ".join(o.en for o in pick), "; ".join(o.nl for o in pick))
        return _Out(other, "; ".join(o.en for o in outs), "; ".join(o.nl for o in outs))
    # some / each over a list
    name = prefix + arg
    items = _lookup(scope, arg)
    if items is _MISSING:
        return _Out("unknown", f"{name}: missing", f"{name}: ontbreekt")
    if not isinstance(items, Sequence) or isinstance(items, str):
        return _Out("fail", f"{name}: not a list", f"{name}: geen lijst")
    outs = []
    for i, item in enumerate(items):
        sub = f"{name}[{i + 1}]."
        if "where" in test and _eval(test["where"], item, sub).status != "pass":
            continue
        outs.append(_eval(test["test"], item, sub))
    by = {s: [o for o in outs if o.status == s] for s in STATUSES}
    if op == "some":
        if by["pass"]:
            return _Out("pass", by["pass"][0].en, by["pass"][0].nl)
        if by["unknown"]:
            return _Out("unknown", by["unknown"][0].en, by["unknown"][0].nl)
        if not outs:
            return _Out("fail", f"{name}: no entries", f"{name}: geen items")
        return _Out("fail", f"{name}: none qualifies ({'; '.join(o.en for o in outs)})",
                    f"{name}: geen enkele voldoet ({'; '.join(o.nl for o in outs)})")
    if by["fail"]:
        return _Out("fail", "; ".join(o.en for o in by["fail"]),
                    "; ".join(o.nl for o in by["fail"]))
    if by["unknown"]:
        return _Out("unknown", "; ".join(o.en for o in by["unknown"]),
                    "; ".join(o.nl for o in by["unknown"]))
    return _Out("pass", f"{name}: all {len(outs)} qualify",
                f"{name}: alle {len(outs)} voldoen")


def check_application(application: Mapping[str, Any], *,
                      context: Mapping[str, Any] | None = None,
                      rules: RuleSet | None = None) -> CheckReport:
    """Evaluate every condition of ``rules`` for one application.

    Parameters
    ----------
    application : mapping
        The application in the shape of the YAML schema (see
        :mod:`ozamonitor.besluit.application`); a pydantic
        :class:`~ozamonitor.besluit.application.Application` can be passed
        through its ``as_mapping()``.
    context : mapping, optional
        Values across records that override the application's own: ``national``
        (``registered_arrangements``: arrangements admitted in *other*
        applications) and ``swv_budget`` (``support_budget_eur``,
        ``oza_spend_eur`` summed over all the SWV's arrangements).
    rules : RuleSet, optional
        Defaults to :func:`default_rules`.

    Returns
    -------
    CheckReport

    Examples
    --------
    >>> r = check_application({"applicant": {"kind": "gemeente"}})
    >>> r.results[0].status, r.results[0].message("en")
    ('fail', "applicant.kind is gemeente; required: one of [school_board, swv]")
    """
    rules = rules or default_rules()
    scope = {**application, **(context or {})}
    results = []
    for c in rules.conditions:
        out = _eval(c.test, scope, "")
        results.append(ConditionResult(id=c.id, status=out.status, message_nl=out.nl,
                                       message_en=out.en, text_nl=c.nl, text_en=c.en,
                                       fields=c.fields))
    return CheckReport(results=tuple(results), rules=rules)
