"""Writing count tables atomically (temporary file, then ``os.replace``)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import polars as pl

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
                sheet: str = "data") -> Path:
    """Write one table; a failure leaves no partial file behind."""
    return write_sheets({sheet: df}, path, fmt)


def write_sheets(sheets: Mapping[str, pl.DataFrame], path: str | Path,
                 fmt: str | None = None) -> Path:
    """Write one table (csv/parquet) or several sheets (xlsx) atomically."""
    p = Path(path)
    f = infer_format(p, fmt)
    if f != "xlsx" and len(sheets) != 1:
        raise OutputError(f"{p}: several tables need the xlsx format")
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    os.close(fd)
    try:
        if f == "csv":
            next(iter(sheets.values())).write_csv(tmp)
        elif f == "parquet":
            next(iter(sheets.values())).write_parquet(tmp)
        else:
            import xlsxwriter

            with xlsxwriter.Workbook(tmp) as wb:
                for name, df in sheets.items():
                    df.write_excel(wb, worksheet=name[:31], autofit=True)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p
