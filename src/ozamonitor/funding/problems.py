"""Errors of the funding advisor, with every problem's field and line.

A case file, a web form or a region matrix can have several problems at once;
the web form shows each beside its field, the command line prints them all.
:class:`FundingInputError` (an :class:`~ozamonitor.errors.InputError`) carries
the list; its message names the first problem's file, line and field, as every
ozamonitor input error does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ozamonitor.errors import ConfigurationError, InputError, location
from ozamonitor.funding.yamlmarks import Marked, format_path

__all__ = [
    "FundingInputError",
    "Problem",
    "RuleSetError",
    "problems_from_validation",
]


@dataclass(frozen=True)
class Problem:
    """One problem: the field (``components[2].cause``), what is wrong, the 1-based line.

    ``message_nl`` is the Dutch message where the advisor has one (contradiction
    checks and missing facts, from the rule file), for a Dutch form.
    """

    field: str
    message: str
    line: int | None = None
    message_nl: str | None = None

    def where(self, file: str | Path | None) -> str:
        """``case.yaml:7: components[2].cause`` (what is known of it)."""
        return location(file, self.line, self.field)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def _summary(problems: Sequence[Problem], file: str | Path | None) -> tuple[str, str]:
    first = problems[0]
    more = len(problems) - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return first.message + tail, first.where(file)


class FundingInputError(InputError):
    """Bad input to the advisor (a case or a region matrix), naming field and line.

    Parameters
    ----------
    problems : sequence of Problem
        At least one; the message is built from the first.
    file : str or Path, optional
        The file the input came from (``None`` for a dict or a web form).

    Attributes
    ----------
    problems : list of Problem
        Every problem found, for a form to show beside its field.
    """

    def __init__(self, problems: Sequence[Problem], *, file: str | Path | None = None) -> None:
        self.problems = list(problems)
        first = self.problems[0]
        message, _ = _summary(self.problems, file)
        super().__init__(message, file=file, row=first.line, field=first.field or None)

    def report(self) -> str:
        """All problems, one per line, each with file, line and field."""
        return "\n".join(
            f"{p.where(self.file)}: {p.message}" if p.where(self.file) else p.message
            for p in self.problems)


class RuleSetError(ConfigurationError):
    """A national rule set file that is not valid (bad shape, unknown fact or law)."""

    def __init__(self, problems: Sequence[Problem], *, file: str | Path | None = None) -> None:
        self.problems = list(problems)
        self.file = file
        message, where = _summary(self.problems, file)
        super().__init__(f"{where}: {message}" if where else message)


def _message(err: dict[str, Any], kinds: Sequence[str]) -> str:
    typ = err["type"]
    if typ == "union_tag_invalid":
        tag = err.get("ctx", {}).get("tag")
        return f"unknown kind {tag!r}; known kinds: {', '.join(kinds)}"
    if typ == "union_tag_not_found":
        return "kind is missing; known kinds: " + ", ".join(kinds)
    if typ == "extra_forbidden":
        return "unknown field (not part of this schema)"
    if typ == "missing":
        return "missing (required)"
    return str(err["msg"]).removeprefix("Value error, ")


def problems_from_validation(exc: ValidationError, marks: Marked | None = None,
                             prefix: tuple[str | int, ...] = (),
                             kinds: Sequence[str] = ()) -> list[Problem]:
    """Turn a pydantic ``ValidationError`` into problems with field paths and lines.

    Parameters
    ----------
    exc : ValidationError
    marks : Marked, optional
        The YAML the data came from, for line numbers.
    prefix : tuple
        Path of the validated object inside the YAML document.
    kinds : sequence of str
        The tags of discriminated unions (component kinds), which pydantic puts
        in the error location and which are dropped from the field path.
    """
    tags = set(kinds)
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc: list[str | int] = []
        for part in err["loc"]:
            if isinstance(part, str) and (part in tags or part.startswith(("function-", "list["))):
                continue
            loc.append(part)
        path = (*prefix, *loc)
        line = marks.line(path) if marks is not None else None
        out.append(Problem(format_path(path), _message(err, kinds), line))
    return out
