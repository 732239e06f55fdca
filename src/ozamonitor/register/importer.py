"""Import of source files (CSV, Parquet, Excel) into a register, all or nothing.

``import_register(source, out)`` reads the field's files, renames columns and
translates codes with an optional mapping file (:mod:`.mapping`), parses every
value into the schema's type, checks and pseudonymises BSNs
(:mod:`.pseudonym`), validates everything (:mod:`.validate`) and only then
writes the register with :class:`~ozamonitor.register.store.RegisterWriter`
(atomic). When anything is wrong nothing is written and
:class:`ImportValidationError` carries the problems, located by *source* file,
1-based data row (header not counted) and *source* column name.

Sources
-------
* a folder: one file per table named after the table (``enrolments.csv``,
  ``persons.xlsx``, ``schools.parquet``), or files named in the mapping
  (``tables.<name>.file``); an ``.xlsx`` whose name is not a table holds one
  sheet per table (sheet name = table name, or ``tables.<name>.sheet``);
* one file plus ``table=``; or one ``.xlsx`` workbook with a sheet per table.

Person tables carry a ``bsn`` column, which is replaced by ``person_id``; a
source already pseudonymised elsewhere carries ``person_id`` and no ``bsn``
(taken as is, but refused when it looks like a BSN). Columns that are not in
the schema are dropped (and reported in :attr:`ImportResult.dropped_columns`):
names, addresses and other direct identifiers never reach the register.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ozamonitor.errors import InputError
from ozamonitor.register.absence_days import fill_hours
from ozamonitor.register.mapping import Mapping, load_mapping
from ozamonitor.register.problems import (
    PROBLEM_SCHEMA,
    ROW,
    Problem,
    ValidationReport,
    problem_frame,
)
from ozamonitor.register.pseudonym import (
    PSEUDONYM_LENGTH,
    contains_bsn_expr,
    elfproef_expr,
    key_id,
    load_key,
    normalise_bsn,
    pseudonym_digests,
)
from ozamonitor.register.schema import PERSON_TABLES, TABLES, Column
from ozamonitor.register.sources import (
    SourceError,
    SourceTable,
    discover_sources,
    read_source,
)
from ozamonitor.register.store import MANIFEST, RegisterWriter
from ozamonitor.register.validate import validate_tables

__all__ = [
    "ImportResult",
    "ImportValidationError",
    "SourceError",
    "SourceTable",
    "discover_sources",
    "import_register",
    "import_tables",
    "read_source",
    "write_import",
]

_TRUE = ("true", "1", "ja", "j", "yes", "y", "waar", "t")
_FALSE = ("false", "0", "nee", "n", "no", "onwaar", "f")
_PROBLEM_COLUMNS = list(PROBLEM_SCHEMA)
#: Extra date formats always tried after the mapping's format.
_DATE_FALLBACKS = ("%Y-%m-%d",)
#: ... and for workbooks, where date cells in a text column read as date-times.
_EXCEL_DATE_FALLBACKS = ("%Y-%m-%d %H:%M:%S",)


class ImportValidationError(InputError):
    """The source has problems; nothing was written. ``report`` holds them."""

    def __init__(self, report: ValidationReport, rows_failed: int) -> None:
        self.report = report
        self.rows_failed = rows_failed
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(report.counts.items()))
        super().__init__(
            f"import refused, nothing written: {report.total} problem(s) in "
            f"{rows_failed} source row(s) ({counts})"
        )


@dataclass
class ImportResult:
    """What an import did (returned by :func:`import_tables`)."""

    tables: dict[str, pl.DataFrame]
    sources: dict[str, SourceTable]
    report: ValidationReport
    extraction_date: dt.date
    mapping: Mapping
    dropped_columns: dict[str, list[str]] = field(default_factory=dict)
    rows_failed: int = 0
    key_id: str | None = None


# --------------------------------------------------------------------------
# Parsing values into the schema
# --------------------------------------------------------------------------


def _norm(name: str) -> str:
    return name.strip().lower()


def _rename(
    df: pl.DataFrame, name: str, m: Mapping, display: str
) -> tuple[pl.DataFrame, dict[str, str], list[str], list[dict[str, Any]]]:
    """Rename source columns to schema names.

    Returns the frame (schema names + ROW), schema->source names, dropped
    columns and schema problems (duplicates).
    """
    renames = {_norm(k): v for k, v in m.renames(name).items()}
    targets = set(TABLES[name].column_names) | ({"bsn"} if name in PERSON_TABLES else set())
    chosen: dict[str, str] = {}  # schema -> source
    dropped: list[str] = []
    problems: list[dict[str, Any]] = []
    for col in df.columns:
        if col == ROW:
            continue
        key = _norm(col)
        target = renames.get(key) or (key if key in targets else None)
        if target is None or target not in targets:
            dropped.append(col)
            continue
        if target in chosen:
            problems.append(dict(file=display, row=0, field=col, check="schema",
                                 message=f"column {col!r} maps to {target!r}, like column "
                                 f"{chosen[target]!r}"))
            continue
        chosen[target] = col
    out = df.select([pl.col(ROW), *(pl.col(src).alias(dst) for dst, src in chosen.items())])
    return out, chosen, dropped, problems


def _as_text(e: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Any column as trimmed text; integral floats lose their '.0'; empty -> null."""
    if dtype.is_float():
        e = pl.when(e == e.floor()).then(e.cast(pl.Int64).cast(pl.String)).otherwise(
            e.cast(pl.String))
    elif dtype == pl.Date or isinstance(dtype, pl.Datetime):
        e = e.cast(pl.String)
    else:
        e = e.cast(pl.String)
    e = e.str.strip_chars()
    return pl.when(e == "").then(None).otherwise(e)


def _translate(text: pl.Expr, c: Column, code_map: dict[str, Any]) -> pl.Expr:
    """Map source values to codes: mapping entries, then case-insensitive code names."""
    lookup: dict[str, str] = {}
    if c.codes is not None:
        lookup.update({str(code).lower(): str(code) for code in c.codes})
    lookup.update({_norm(k): str(v) for k, v in code_map.items()})
    if not lookup:
        return text
    if c.multi:
        parts = text.str.split(";").list.eval(
            pl.element().str.strip_chars().str.to_lowercase().replace_strict(
                lookup, default=pl.element().str.strip_chars(), return_dtype=pl.String)
        )
        return pl.when(text.is_null()).then(None).otherwise(parts.list.join(";"))
    return text.str.to_lowercase().replace_strict(lookup, default=text, return_dtype=pl.String)


def _parse_column(
    df: pl.DataFrame, name: str, c: Column, m: Mapping, excel: bool = False
) -> tuple[pl.Expr, pl.Expr]:
    """Expression parsing column ``c`` to its dtype, and the source text (for errors)."""
    dtype = df.schema[c.name]
    src = pl.col(c.name)
    if dtype == c.dtype and c.codes is None:
        return src, _as_text(src, dtype)
    text = _as_text(src, dtype)
    code_map = m.code_map(name, c.name)
    if c.kind == "str":
        return _translate(text, c, code_map), text
    if c.kind == "date":
        if dtype == pl.Date:
            return src, text
        if isinstance(dtype, pl.Datetime):
            return src.dt.date(), text
        fmts = [f for f in (m.date_format_for(name, c.name),) if f] + list(_DATE_FALLBACKS)
        if excel:
            fmts += _EXCEL_DATE_FALLBACKS
        fmts = list(dict.fromkeys(fmts))
        return pl.coalesce([text.str.to_date(f, strict=False) for f in fmts]), text
    if c.kind == "int":
        t = _translate(text, c, code_map) if (c.codes or code_map) else text
        num = t.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
        return pl.when(num == num.floor()).then(num).cast(pl.Int32, strict=False), text
    if c.kind == "float":
        if dtype.is_numeric():
            return src.cast(pl.Float64), text
        return text.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False), text
    if c.kind == "bool":
        if dtype == pl.Boolean:
            return src, text
        low = text.str.to_lowercase()
        trues = list(_TRUE) + [_norm(v) for v in m.true_values]
        falses = list(_FALSE) + [_norm(v) for v in m.false_values]
        return (pl.when(low.is_in(trues)).then(True)
                .when(low.is_in(falses)).then(False).otherwise(None)), text
    raise AssertionError(c.kind)  # pragma: no cover


class _Pseudonyms:
    """Pseudonymises BSN columns, hashing each distinct BSN once over all tables."""

    def __init__(self, key: Callable[[], bytes]) -> None:
        self.key = key
        self.known = pl.DataFrame(schema={"bsn": pl.String, "person_id": pl.String})

    def __call__(self, bsn: pl.Series) -> pl.Series:
        uniq = bsn.drop_nulls().unique()
        new = uniq.filter(~uniq.is_in(self.known.get_column("bsn").implode()))
        if len(new):
            ids = pseudonym_digests(new.to_list(), self.key())
            self.known = pl.concat([self.known, pl.DataFrame(
                {"bsn": new, "person_id": pl.Series(ids, dtype=pl.String)})])
        return (
            pl.DataFrame({"bsn": bsn})
            .join(self.known, on="bsn", how="left", maintain_order="left")
            .get_column("person_id")
        )


#: The longest text a register field may hold (longer: a damaged or wrong file).
MAX_FIELD_CHARS = 10_000
#: C0 control characters other than tab, newline and carriage return, and DEL.
CONTROL_CHARS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


def _parse_table(
    st: SourceTable, df: pl.DataFrame, m: Mapping, key: _Pseudonyms
) -> tuple[pl.DataFrame, dict[str, str], list[str], list[pl.DataFrame]]:
    """Source frame -> schema frame (+ ROW), schema->source names, dropped, problems."""
    name = st.table
    t = TABLES[name]
    df, names, dropped, schema_problems = _rename(df, name, m, st.display)
    problems: list[pl.DataFrame] = []
    if schema_problems:
        problems.append(pl.DataFrame(schema_problems, schema_overrides={"row": pl.Int64}))
    exprs: list[pl.Expr] = [pl.col(ROW)]
    present: list[Column] = []
    for c in t.columns:
        if c.name not in df.columns:
            continue  # missing columns are reported by validate_tables
        parsed, text = _parse_column(df, name, c, m, excel=st.path.suffix.lower() == ".xlsx")
        exprs += [parsed.alias(c.name), text.alias(f"_text_{c.name}")]
        present.append(c)
    full = df.select(exprs)  # parse every column once, keeping the source text beside it

    def failed(c: Column) -> pl.Expr:
        return pl.col(f"_text_{c.name}").is_not_null() & pl.col(c.name).is_null()

    flags = full.select([failed(c).any().alias(c.name) for c in present]) if present else None
    for c in present:
        if flags is None or not flags.get_column(c.name)[0]:
            continue
        fmt = m.date_format_for(name, c.name)
        what = {"date": "a date" + (f" ({fmt})" if fmt else ""), "int": "a whole number",
                "float": "a number", "bool": "true/false (ja/nee)"}.get(c.kind, c.kind)
        problems.append(problem_frame(
            full.filter(failed(c)), st.display, names[c.name],
            pl.format("cannot read '{}' as {}", pl.col(f"_text_{c.name}"), pl.lit(what)),
            "parse").collect())
    for c in present:  # text no register field holds: control characters, huge fields
        t = pl.col(f"_text_{c.name}")
        for bad, message in (
            (t.str.contains(CONTROL_CHARS), "contains a control character (a NUL byte, ...): "
             "binary data or a damaged file; remove it"),
            (t.str.len_chars() > MAX_FIELD_CHARS,
             f"field longer than {MAX_FIELD_CHARS:,} characters; a damaged file?"),
        ):
            if full.select(bad.fill_null(False).any()).item():
                problems.append(problem_frame(full.filter(bad.fill_null(False)), st.display,
                                              names[c.name], pl.lit(message), "parse").collect())
    for c in present:  # a BSN typed in a free-text or id column would be stored as it is
        if c.kind != "str" or c.codes is not None or c.name in ("person_id", "bsn"):
            continue
        hit = contains_bsn_expr(pl.col(f"_text_{c.name}")).fill_null(False)
        if full.select(hit.any()).item():
            problems.append(problem_frame(
                full.filter(hit), st.display, names[c.name],
                pl.lit("holds a number that looks like a BSN (nine digits passing the "
                       "eleven-test); a BSN belongs only in the person column, where it is "
                       "pseudonymised: remove it"), "bsn").collect())
    parsed_df = full.select(ROW, *(c.name for c in present))
    if name in PERSON_TABLES:
        parsed_df, pproblems = _person_ids(st, df, parsed_df, names, m, key)
        problems.extend(pproblems)
    return parsed_df, names, dropped, problems


def _person_ids(
    st: SourceTable,
    df: pl.DataFrame,
    parsed: pl.DataFrame,
    names: dict[str, str],
    m: Mapping,
    key: _Pseudonyms,
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Replace ``bsn`` by its pseudonym, or check a delivered ``person_id``."""
    problems: list[pl.DataFrame] = []
    if "bsn" in df.columns and "person_id" in df.columns:
        problems.append(pl.DataFrame([dict(
            file=st.display, row=0, field=names["person_id"], check="schema",
            message="both a BSN and a person_id column; deliver one of them")],
            schema_overrides={"row": pl.Int64}))
        return parsed.drop("person_id"), problems
    if "bsn" in df.columns:
        bsn = normalise_bsn(df.get_column("bsn"))
        pad = m.bsn_zero_pad or st.path.suffix.lower() == ".xlsx"
        if pad:
            bsn = pl.select(pl.when(bsn.str.contains(r"^[0-9]{1,8}$"))
                            .then(bsn.str.zfill(9)).otherwise(bsn)).to_series()
        ok = pl.select(elfproef_expr(pl.lit(bsn))).to_series()
        rows = df.get_column(ROW)
        bad = pl.DataFrame({ROW: rows, "ok": ok, "bsn": bsn}).filter(pl.col("ok").not_())
        # the message never contains the BSN itself
        problems.append(problem_frame(
            bad, st.display, names["bsn"],
            pl.when(pl.col("bsn").str.contains(r"[^\x00-\x7f]"))
            .then(pl.lit("invalid BSN: holds characters other than the digits 0-9 (a "
                         "zero-width space, full-width digits, ...)"))
            .otherwise(pl.lit("invalid BSN: not 9 digits passing the eleven-test (elfproef)")),
            "bsn").collect())
        # only valid BSNs are hashed (the rows of the others are refused)
        person_id = key(pl.select(pl.when(ok).then(bsn)).to_series())
        parsed = parsed.with_columns(person_id=person_id)
        names["person_id"] = names.pop("bsn")
    elif "person_id" in parsed.columns and m.id_kind in ("rin", "pseudonym"):
        parsed, more = _declared_ids(st, parsed, names, m.id_kind, key)
        problems.extend(more)
    elif "person_id" in parsed.columns:
        pid = parsed.get_column("person_id").cast(pl.String)
        looks = pl.select(elfproef_expr(pl.lit(pid.str.strip_chars()))).to_series().fill_null(False)
        bad = parsed.select(ROW).filter(looks)
        problems.append(problem_frame(
            bad, st.display, names["person_id"],
            pl.lit("person_id looks like a BSN; deliver it in a column named bsn so it is "
                   "pseudonymised"), "bsn").collect())
    return parsed, problems


# --------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------


def _declared_ids(st: SourceTable, parsed: pl.DataFrame, names: dict[str, str], kind: str,
                  key: _Pseudonyms) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Keyed-hash a declared ``rin`` or ``pseudonym`` person_id (a RIN: nine digits)."""
    pid = parsed.get_column("person_id").cast(pl.String).str.strip_chars()
    problems = []
    ok = pid.is_not_null()
    if kind == "rin":
        ok = pl.select(pid.str.contains(r"^[0-9]{9}$")).to_series().fill_null(False)
        problems.append(problem_frame(
            parsed.select(ROW).filter(~ok & pid.is_not_null()), st.display, names["person_id"],
            pl.lit("invalid RIN: not 9 digits"), "bsn").collect())
    hashed = key(pl.select(pl.when(ok).then(pl.lit(f"{kind}:") + pid)).to_series())
    return parsed.with_columns(person_id=hashed), problems


def _rename_fields(problems: pl.DataFrame, fields: dict[str, dict[str, str]],
                   files: dict[str, str]) -> pl.DataFrame:
    """Schema column names -> source column names in problems of each source file."""
    rows = [(files[t], schema_col, src_col)
            for t, cols in fields.items() for schema_col, src_col in cols.items()]
    if not rows or problems.height == 0:
        return problems
    lut = pl.DataFrame(rows, schema={"file": pl.String, "field": pl.String, "_src": pl.String},
                       orient="row")
    return (problems.join(lut, on=["file", "field"], how="left")
            .with_columns(field=pl.coalesce("_src", "field")).drop("_src"))


def import_tables(
    source: str | Path,
    *,
    mapping: str | Path | Mapping | dict[str, Any] | None = None,
    key: bytes | str | None = None,
    key_file: str | Path | None = None,
    extraction_date: dt.date | None = None,
    table: str | None = None,
    max_problems: int | None = 1000,
) -> ImportResult:
    """Read, parse, pseudonymise and validate sources without writing anything.

    See :func:`import_register`. The result's ``report`` lists the problems
    (by source file, row and column); ``tables`` are the parsed register
    tables (only meaningful when the report is empty).
    """
    m = load_mapping(mapping)
    ext = extraction_date or dt.date.today()
    sources = discover_sources(source, m, table)
    key_cache: dict[str, bytes] = {}

    def get_key() -> bytes:
        if "k" not in key_cache:
            key_cache["k"] = load_key(key, key_file)
        return key_cache["k"]

    raw = {st.table: read_source(st, m) for st in sources}
    # refuse before any parsing when BSNs are present and no key is given
    bsn_tables = {n for n, df in raw.items() if "bsn" in _rename(df.head(0), n, m, "")[1]}
    if bsn_tables or m.id_kind in ("rin", "pseudonym"):
        get_key()
    tables: dict[str, pl.DataFrame] = {}
    fields: dict[str, dict[str, str]] = {}
    dropped: dict[str, list[str]] = {}
    problems: list[pl.DataFrame] = []
    pseudonyms = _Pseudonyms(get_key)
    for st in sources:
        df, names, drop, probs = _parse_table(st, raw.pop(st.table), m, pseudonyms)
        tables[st.table] = df
        fields[st.table] = names
        if drop:
            dropped[st.display] = drop
        problems.extend(p.select(_PROBLEM_COLUMNS) for p in probs if p.height)
    if "absence_days" in tables:  # half days (dagdelen) and minutes become hours
        tables["absence_days"] = fill_hours(tables["absence_days"], tables.get("schools"))
    files = {st.table: st.display for st in sources}
    report = validate_tables(tables, ext, file_names=files, extra_problems=problems,
                             max_problems=None)
    report, rows_failed = _source_report(report, fields, files, bsn_tables, max_problems)
    return ImportResult(tables=tables, sources={st.table: st for st in sources},
                        report=report, extraction_date=ext, mapping=m,
                        dropped_columns=dropped, rows_failed=rows_failed,
                        key_id=key_id(key_cache["k"]) if key_cache else None)


def _source_report(
    report: ValidationReport,
    fields: dict[str, dict[str, str]],
    files: dict[str, str],
    bsn_tables: set[str],
    max_problems: int | None,
) -> tuple[ValidationReport, int]:
    """Problems in source terms (column names), deduplicated; and the failed row count."""
    if report.ok:
        return report, 0
    allp = pl.DataFrame([vars(p) for p in report], schema=PROBLEM_SCHEMA)
    allp = _rename_fields(allp, fields, files)
    # a value that failed to parse (or a bad BSN) is not reported again as empty
    first = allp.filter(pl.col("check").is_in(["parse", "bsn"])).select("file", "row", "field")
    allp = allp.join(
        allp.filter(pl.col("check") == "null").join(first, on=["file", "row", "field"],
                                                    how="semi"),
        on=_PROBLEM_COLUMNS, how="anti",
    ).with_columns(
        message=pl.when((pl.col("check") == "schema") & (pl.col("row") == 0)
                        & (pl.col("message") == "missing column 'person_id'"))
        .then(pl.lit("missing column 'bsn' (or 'person_id' when pseudonymised elsewhere)"))
        .otherwise(pl.col("message"))
    )
    # references in source terms: name the referenced source file; never show pseudonyms
    msg = pl.col("message")
    for table, file in files.items():
        msg = msg.str.replace(f"(not in {table})", f"(not in {table}: {file})", literal=True)
    bsn_files = [files[t] for t in bsn_tables]
    person_file = files.get("persons", "persons (missing)")
    allp = allp.with_columns(message=pl.when(
        (pl.col("check") == "reference") & pl.col("file").is_in(bsn_files)
        & pl.col("message").str.starts_with("unknown person_id "))
        .then(pl.lit(f"BSN not found in persons ({person_file})"))
        .otherwise(msg)).sort("file", "row", "field", "message", "check")
    counts = dict(allp.group_by("check").len().iter_rows())
    kept = allp.head(max_problems) if max_problems is not None else allp
    rows_failed = allp.filter(pl.col("row") > 0).select("file", "row").n_unique()
    return ValidationReport((Problem(*r) for r in kept.iter_rows()), counts), rows_failed


def import_register(
    source: str | Path,
    out: str | Path,
    *,
    mapping: str | Path | Mapping | dict[str, Any] | None = None,
    key: bytes | str | None = None,
    key_file: str | Path | None = None,
    extraction_date: dt.date | None = None,
    table: str | None = None,
    max_problems: int | None = 1000,
) -> Path:
    """Import source files into a register folder ``out``, all or nothing.

    Parameters
    ----------
    source : str or Path
        A folder of table files, one file (with ``table``) or one workbook with a
        sheet per table (CSV, Parquet, ``.xlsx``).
    out : str or Path
        The register folder to write.
    mapping : str, Path, Mapping or dict, optional
        A mapping file (YAML/TOML/JSON, see :mod:`ozamonitor.register.mapping`) or
        its contents: column renames, code translations, date formats.
    key : bytes or str, optional
        The pseudonymisation key; required when a source has BSNs.
    key_file : str or Path, optional
        File holding the key (else the environment variable
        ``OZAMONITOR_PSEUDONYM_KEY``).
    extraction_date : datetime.date, optional
        Date the source registers were extracted (default: today); no date may lie
        after it.
    table : str, optional
        The table held by a single source file.
    max_problems : int or None, default 1000
        Problems kept in the report (``None``: all).

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    SourceError
        An unreadable source.
    MappingError, PseudonymKeyError
        A bad mapping or key.
    ImportValidationError
        Problems by source file, row and column; nothing is written.
    """
    ext = extraction_date or dt.date.today()
    res = import_tables(source, mapping=mapping, key=key, key_file=key_file,
                        extraction_date=ext, table=table, max_problems=max_problems)
    return write_import(res, out)


def write_import(result: ImportResult, out: str | Path) -> Path:
    """Write a checked :class:`ImportResult` as a register (atomically).

    Raises :class:`ImportValidationError` when the result has problems.
    """
    if not result.report.ok:
        raise ImportValidationError(result.report, result.rows_failed)
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir())
                                              and not (out / MANIFEST).is_file())):
        raise SourceError(f"{out} exists and is not a register; refusing to replace it")
    with RegisterWriter(Path(out), extraction_date=result.extraction_date) as w:
        for name, df in result.tables.items():
            w.write(name, df.drop(ROW))
        w.manifest_extra["import"] = {
            "imported_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "mapping": Path(result.mapping.path).name if result.mapping.path else None,
            "sources": {n: {"file": st.display, "rows": result.tables[n].height}
                        for n, st in result.sources.items()},
            "dropped_columns": result.dropped_columns,
            "pseudonym": {
                "method": f"HMAC-SHA256(key, 9-digit BSN), first {PSEUDONYM_LENGTH} hex"
                if result.mapping.id_kind in (None, "bsn") else
                f"HMAC-SHA256(key, '{result.mapping.id_kind}:' + id), first "
                f"{PSEUDONYM_LENGTH} hex",
                "id_kind": result.mapping.id_kind or "bsn",
                "key_id": result.key_id,
            },
        }
    return Path(out)
