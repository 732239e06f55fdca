"""Table and column specifications: the building blocks of :mod:`ozamonitor.register.schema`."""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict

__all__ = ["Column", "Kind", "Table", "version_tuple"]

Kind = Literal["str", "date", "int", "float", "bool"]

_DTYPES: dict[str, pl.DataType] = {
    "str": pl.String(),
    "date": pl.Date(),
    "int": pl.Int32(),
    "float": pl.Float64(),
    "bool": pl.Boolean(),
}


class Column(BaseModel):
    """One column: its name, type, whether it may be null and its allowed values."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: Kind
    nullable: bool = False
    codes: tuple[str | int, ...] | None = None
    #: ``"table.column"`` this column must reference (foreign key).
    references: str | None = None
    #: Semicolon-separated list of codes (e.g. financiers of an arrangement).
    multi: bool = False
    min: float | None = None
    max: float | None = None
    description: str = ""
    #: The schema version that added the column (registers of an older version lack it
    #: and read it as null; sources may leave it out).
    since: str = "1.0"

    @property
    def dtype(self) -> pl.DataType:
        return _DTYPES[self.kind]


class Table(BaseModel):
    """A register table: its columns, primary key and spell columns."""

    model_config = ConfigDict(frozen=True)

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    #: (start, end) column names for tables that hold dated spells.
    spell: tuple[str, str] | None = None
    description: str = ""
    #: The schema version that added the table (registers of an older version lack it).
    since: str = "1.0"

    @property
    def file(self) -> str:
        return f"{self.name}.parquet"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def polars_schema(self) -> dict[str, pl.DataType]:
        return {c.name: c.dtype for c in self.columns}


def version_tuple(version: str) -> tuple[int, ...]:
    """``"1.10"`` -> ``(1, 10)``, for comparing schema versions."""
    return tuple(int(x) for x in str(version).split("."))


def _c(name: str, kind: Kind, **kw: object) -> Column:
    return Column(name=name, kind=kind, **kw)  # type: ignore[arg-type]
