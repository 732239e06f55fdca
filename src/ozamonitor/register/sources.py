"""Finding and reading the source files of an import (CSV, Parquet, Excel).

:func:`discover_sources` maps a folder, a file or a workbook to one
:class:`SourceTable` per register table (see :mod:`ozamonitor.register.importer`
for the naming rules); :func:`read_source` reads one as text columns, with a
clear :class:`SourceError` for unreadable or ragged files.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ozamonitor.errors import InputError
from ozamonitor.register.mapping import Mapping
from ozamonitor.register.problems import ROW
from ozamonitor.register.schema import TABLES

__all__ = ["SOURCE_SUFFIXES", "SourceError", "SourceTable", "discover_sources", "read_source"]

SOURCE_SUFFIXES = (".csv", ".parquet", ".xlsx")


class SourceError(InputError):
    """The source as a whole cannot be read (missing file, unknown table, ...).

    Exit status 2 on the command line: the command was pointed at the wrong thing.
    """

    exit_code = 2


@dataclass
class SourceTable:
    """Where one table comes from."""

    table: str
    path: Path
    sheet: str | None = None
    #: whether the workbook has several sheets (then reports name the sheet)
    several_sheets: bool = False

    @property
    def display(self) -> str:
        """File name used in problem reports: ``file``, or ``file[sheet]`` in a workbook."""
        if self.sheet and self.several_sheets:
            return f"{self.path.name}[{self.sheet}]"
        return self.path.name


# --------------------------------------------------------------------------
# Finding and reading sources
# --------------------------------------------------------------------------


def _excel_sheets(path: Path) -> list[str]:
    import fastexcel

    try:
        return list(fastexcel.read_excel(str(path)).sheet_names)
    except Exception as e:  # calamine raises its own kinds for a damaged workbook
        raise SourceError(f"{path.name}: not a readable xlsx file ({type(e).__name__}); "
                          "save it again from Excel or deliver CSV") from None


def _file_matches(name: str | None, path: Path) -> bool:
    """A mapping's ``file`` matches a path by name, or by stem when it has no suffix."""
    if not name:
        return False
    if Path(name).suffix.lower() in SOURCE_SUFFIXES:
        return path.name.lower() == name.lower()
    return path.stem.lower() == name.lower()


#: Files a delivery folder may hold beside its tables: mappings and documentation.
SIDE_SUFFIXES = (".yaml", ".yml", ".toml", ".json", ".md", ".txt", ".pdf")


def _names_a_table(name: str, by_mapping: dict[str, str]) -> bool:
    words = {w for w in name.lower().replace("-", ".").replace("_", ".").split(".") if w}
    return bool(words & (set(TABLES) | {Path(f).stem.lower() for f in by_mapping}))


def _refuse_unknown_files(src: Path, by_mapping: dict[str, str]) -> None:
    """A file in the delivery folder that is not read is an error, never silently skipped.

    Allowed beside the tables: mapping and documentation files (README.txt)
    (:data:`SIDE_SUFFIXES`) that do not look like a table, Excel's lock files
    (``~$...``), macOS' ``._`` files and hidden files that do not look like a
    table. Everything else (``enrolments.tsv``, ``.txt``, ``.xls``,
    ``.csv.gz``, a hidden ``.enrolments.csv``, a folder named after a table) is
    refused, naming the formats that are read.
    """
    supported = ", ".join(SOURCE_SUFFIXES)
    for p in sorted(src.iterdir()):
        name = p.name
        if name.startswith(("~$", "._")):
            continue
        table_like = _names_a_table(name, by_mapping)
        if name.startswith("."):
            if table_like:
                raise SourceError(f"{name}: a hidden file is not read; rename it if it holds "
                                  "a table, or move it out of the delivery folder")
            continue
        if p.is_dir():
            if table_like:
                raise SourceError(f"{name}: a folder is not read; deliver each table as one "
                                  f"file ({supported})")
            continue
        suffix = "".join(p.suffixes[-2:]).lower() if len(p.suffixes) > 1 else p.suffix.lower()
        if p.suffix.lower() in SOURCE_SUFFIXES:
            continue
        if p.suffix.lower() in SIDE_SUFFIXES and not table_like:
            continue
        raise SourceError(f"{name}: unsupported file type {suffix or '(none)'!r}; the delivery "
                          f"folder may hold tables as {supported} (plus a mapping file): "
                          "convert it or move it out of the folder")


def discover_sources(
    source: str | Path, mapping: Mapping | None = None, table: str | None = None
) -> list[SourceTable]:
    """Work out which file (and sheet) holds which table. Raises :class:`SourceError`."""
    m = mapping or Mapping()
    src = Path(source)
    if not src.exists():
        raise SourceError(f"{src}: no such file or folder")
    if table is not None and table not in TABLES:
        raise SourceError(f"unknown table {table!r}; known tables: {', '.join(TABLES)}")
    found: dict[str, SourceTable] = {}

    def add(st: SourceTable) -> None:
        if st.table in found:
            raise SourceError(f"table {st.table!r} found twice: {found[st.table].display} "
                              f"and {st.display}")
        found[st.table] = st

    def workbook(path: Path) -> None:
        sheets = _excel_sheets(path)
        wanted = {(m.table(n).sheet or n): n for n in TABLES}
        lower = {s.strip().lower(): s for s in sheets}
        hits = [(lower[k.lower()], n) for k, n in wanted.items() if k.lower() in lower]
        if not hits:
            raise SourceError(f"{path.name}: no sheet named after a table "
                              f"(sheets: {', '.join(sheets)}; tables: {', '.join(TABLES)})")
        for sheet, n in hits:
            add(SourceTable(n, path, sheet, several_sheets=len(sheets) > 1))

    def single(path: Path, name: str) -> None:
        sheet = m.table(name).sheet
        several = False
        if path.suffix.lower() == ".xlsx":
            sheets = _excel_sheets(path)
            several = len(sheets) > 1
            if sheet is None:
                sheet = next((s for s in sheets if s.strip().lower() == name), sheets[0])
        add(SourceTable(name, path, sheet, several_sheets=several))

    if src.is_file():
        if src.suffix.lower() not in SOURCE_SUFFIXES:
            raise SourceError(f"{src}: unsupported file type; use {', '.join(SOURCE_SUFFIXES)}")
        name = table or next((n for n in TABLES if _file_matches(m.table(n).file, src)), None)
        if name is None and src.stem.lower() in TABLES:
            name = src.stem.lower()
        if name is not None:
            single(src, name)
        elif src.suffix.lower() == ".xlsx":
            workbook(src)
        else:
            raise SourceError(f"{src}: cannot tell which table this is; pass --table")
        return list(found.values())
    if table is not None:
        raise SourceError("--table goes with a single source file, not a folder")
    by_mapping = {str(m.table(n).file): n for n in TABLES if m.table(n).file}
    _refuse_unknown_files(src, by_mapping)
    files = sorted(p for p in src.iterdir()
                   if p.is_file() and p.suffix.lower() in SOURCE_SUFFIXES
                   and not p.name.startswith(("~$", ".")))
    for f, n in by_mapping.items():
        if not any(_file_matches(f, p) for p in files):
            raise SourceError(f"{src / f}: file named in the mapping (tables.{n}.file) not found")
    for p in files:
        mapped = next((n for f, n in by_mapping.items() if _file_matches(f, p)), None)
        if mapped is not None:
            single(p, mapped)
        elif p.stem.lower() in TABLES:
            single(p, p.stem.lower())
        elif p.suffix.lower() == ".xlsx":
            workbook(p)
        else:
            raise SourceError(f"{p}: not a table name ({', '.join(TABLES)}); rename the file "
                              "or name it under tables.<table>.file in the mapping")
    if not found:
        raise SourceError(f"{src}: no source files ({', '.join(SOURCE_SUFFIXES)}) found")
    return [found[n] for n in TABLES if n in found]


def _check_ragged(display: str, raw: bytes, sep: str, limit: int = 10) -> None:
    """Refuse a CSV whose rows have a different number of fields than its header.

    polars would pad short rows with nulls (giving misleading errors later) and
    reject long ones without a row number; this names every such row
    (``file:row``, 1-based data rows, header excluded).
    """
    # a field of any size is read here; the importer refuses oversized ones by row and field
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    reader = csv.reader(io.StringIO(raw.decode("utf-8", errors="replace").lstrip("\ufeff")),
                        delimiter=sep)
    header = next(reader, None)
    if header is None:
        return
    width = len(header)
    bad = []
    for row_no, fields in enumerate(reader, start=1):
        if fields and len(fields) != width:
            bad.append(f"{display}:{row_no}: {len(fields)} fields, the header has {width}")
            if len(bad) >= limit:
                bad.append("... (more rows with a wrong number of fields)")
                break
    if bad:
        raise SourceError("\n".join(bad))


def _detect_separator(head: str) -> str:
    line = head.splitlines()[0] if head else ""
    counts = {sep: line.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def read_source(st: SourceTable, mapping: Mapping | None = None) -> pl.DataFrame:
    """Read one source table as it is, adding :data:`ROW` (1-based data row).

    CSV is read as text; Parquet and Excel keep their types. Rows that are
    entirely empty are dropped (their numbers are skipped, not reused).
    """
    m = mapping or Mapping()
    suffix = st.path.suffix.lower()
    try:
        if suffix == ".csv":
            raw = st.path.read_bytes()
            enc = m.encoding.lower().replace("_", "-")
            if enc not in ("utf-8", "utf8"):
                raw = raw.decode(m.encoding).encode("utf-8")
            text_head = raw[:4096].decode("utf-8", errors="replace").lstrip("\ufeff")
            sep = m.separator or _detect_separator(text_head)
            _check_ragged(st.display, raw, sep)
            df = pl.read_csv(io.BytesIO(raw), separator=sep, infer_schema=False,
                             truncate_ragged_lines=False, raise_if_empty=False)
        elif suffix == ".parquet":
            df = pl.read_parquet(st.path)
        elif suffix == ".xlsx":
            # fastexcel logs a warning for every all-empty column; that is not news here
            log = logging.getLogger("fastexcel")
            level = log.level
            log.setLevel(logging.ERROR)
            try:
                df = pl.read_excel(st.path, sheet_name=st.sheet, drop_empty_rows=False,
                                   infer_schema_length=None, raise_if_empty=False)
            finally:
                log.setLevel(level)
        else:  # pragma: no cover - discover_sources filters suffixes
            raise SourceError(f"{st.path}: unsupported file type")
    except SourceError:
        raise
    except Exception as e:  # polars/fastexcel/pyarrow raise many kinds
        raise SourceError(f"{st.display}: cannot read: {e}") from None
    if ROW in df.columns:  # a source column with our internal name is not a schema column
        df = df.drop(ROW)
    df = df.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    data_cols = [c for c in df.columns if c != ROW]
    if data_cols:
        df = df.filter(~pl.all_horizontal(pl.col(c).is_null() for c in data_cols))
    return df
