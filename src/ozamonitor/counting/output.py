"""Writing count tables atomically (:func:`ozamonitor.files.atomic_write`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from ozamonitor.files import atomic_write, formula_safe

FORMATS = ("csv", "parquet", "xlsx")


class OutputError(ValueError):
    """Unknown output format or unwritable path."""


def infer_format(path: Path, fmt: str | None) -> str:
    """The format from ``fmt`` or the file suffix."""
    f = (fmt or path.suffix.lstrip(".")).lower()
    if f not in FORMATS:
        raise OutputError(
            f"{path}: unknown output format {f or '(none)'!r}; use one of {', '.join(FORMATS)} "
            "(--format or the file suffix)")
    return f


def write_table(df: pl.DataFrame, path: str | Path, fmt: str | None = None,
                sheet: str = "data", *, private: bool = False) -> Path:
    """Write one table; a failure leaves no partial file behind.

    ``private=True`` for person-level rows: the file is 0600 in a 0700 folder.
    """
    return write_sheets({sheet: df}, path, fmt, private=private)


def write_sheets(sheets: Mapping[str, pl.DataFrame], path: str | Path,
                 fmt: str | None = None, *, private: bool = False) -> Path:
    """Write one table (csv/parquet) or several sheets (xlsx) atomically."""
    p = Path(path)
    f = infer_format(p, fmt)
    if f != "xlsx" and len(sheets) != 1:
        raise OutputError(f"{p}: several tables need the xlsx format")
    with atomic_write(p, private=private) as tmp:
        if f == "csv":
            formula_safe(next(iter(sheets.values()))).write_csv(tmp)
        elif f == "parquet":
            next(iter(sheets.values())).write_parquet(tmp)
        else:
            import xlsxwriter

            with xlsxwriter.Workbook(tmp) as wb:
                for name, df in sheets.items():
                    formula_safe(df).write_excel(wb, worksheet=name[:31], autofit=True)
    return p
