"""Problems found in a register or a source: one per file, row, field and check.

A problem is reported as ``file:row:field: message``. ``row`` is the 1-based
data row of the file (0 for a problem with the file itself); ``check`` is one
of :data:`CHECKS`. :func:`problem_frame` builds problems from a lazy frame of
offending rows, so checks run as vectorised polars expressions;
:class:`ValidationReport` is the sorted list with counts per check that
``validate``, ``import`` and the CLI print.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import polars as pl

from ozamonitor.errors import redact

__all__ = [
    "CHECKS",
    "PROBLEM_SCHEMA",
    "ROW",
    "Problem",
    "ValidationReport",
    "empty_problems",
    "problem_frame",
    "quote_expr",
]

#: Internal column holding the 1-based data row number of each row.
ROW = "_row"

CHECKS: tuple[str, ...] = (
    "schema", "parse", "bsn", "null", "code", "range", "primary_key", "spell", "date",
    "future", "age", "reference", "region_kind", "tlv", "wec", "overlap", "hours",
    "share", "manifest", "calendar", "dagdeel", "enrolment", "indication", "provider",
    "financier",
)

PROBLEM_SCHEMA: dict[str, pl.DataType] = {
    "file": pl.String(),
    "row": pl.Int64(),
    "field": pl.String(),
    "message": pl.String(),
    "check": pl.String(),
}


@dataclass(frozen=True, order=True)
class Problem:
    """One validation problem: where (file, row, field), what, and which check."""

    file: str
    row: int
    field: str
    message: str
    check: str

    def __str__(self) -> str:
        return redact(f"{self.file}:{self.row}:{self.field}: {self.message}")


class ValidationReport(list[Problem]):
    """The problems found (sorted), with counts per check over *all* problems.

    A list of :class:`Problem`; when ``max_problems`` was given it holds at
    most that many, while :attr:`counts` and :attr:`total` count all of them.
    """

    def __init__(
        self, problems: Iterable[Problem] = (), counts: Mapping[str, int] | None = None
    ) -> None:
        super().__init__(problems)
        self.counts: dict[str, int] = dict(counts) if counts is not None else {}
        if counts is None:
            for p in self:
                self.counts[p.check] = self.counts.get(p.check, 0) + 1

    @property
    def total(self) -> int:
        """Number of problems found (also those not kept in the list)."""
        return sum(self.counts.values())

    @property
    def ok(self) -> bool:
        return self.total == 0

    def lines(self) -> list[str]:
        """``file:row:field: message`` lines."""
        return [str(p) for p in self]


# --------------------------------------------------------------------------
# Helpers building problem frames
# --------------------------------------------------------------------------


def problem_frame(
    lf: pl.LazyFrame | pl.DataFrame,
    file: str,
    field: str | pl.Expr,
    message: pl.Expr,
    check: str,
) -> pl.LazyFrame:
    """Turn rows of ``lf`` (holding :data:`ROW`) into a problem frame."""
    return lf.lazy().select(
        file=pl.lit(file, pl.String),
        row=pl.col(ROW).cast(pl.Int64),
        field=(pl.lit(field, pl.String) if isinstance(field, str) else field.cast(pl.String)),
        message=message.cast(pl.String),
        check=pl.lit(check, pl.String),
    )


def quote_expr(e: pl.Expr) -> pl.Expr:
    """A value in single quotes for a problem message (null shown as ``''``)."""
    return pl.concat_str([pl.lit("'"), e.cast(pl.String).fill_null(""), pl.lit("'")])


def empty_problems() -> pl.DataFrame:
    """An empty problem frame."""
    return pl.DataFrame(schema=PROBLEM_SCHEMA)
