"""Mapping files: how the field's source files translate to the register schema.

A mapping file (YAML, TOML or JSON; the same structure in each) says which
source file holds which table, how source columns are named, how source
values translate to codes and how dates are written. Everything is optional:
a source that already uses the schema's names needs no mapping at all.

.. code-block:: yaml

    version: 1
    date_format: "%d-%m-%Y"      # default for every date column; ISO 2024-08-01 always works
    separator: ";"               # CSV separator; default: detected from the header line
    encoding: cp1252             # CSV encoding; default utf-8
    bsn_zero_pad: true           # left-pad BSNs of 8 digits or fewer with zeros
    id_kind: rin                 # the person column holds: bsn, rin or pseudonym (see below)
    true_values: [ja, j]         # extra spellings of true/false for bool columns
    false_values: [nee, n]
    columns:                     # source column -> schema column, in every table
      BSN: bsn
      Begindatum: start
      Einddatum: end
    codes:                       # schema column -> {source value: code}, in every table
      sex: {jongen: M, meisje: F}
    tables:
      persons:
        file: leerlingen.csv     # file (in the source folder) holding this table
        sheet: Leerlingen        # sheet, for a workbook
        columns: {Geboortedatum: birth_date, Geslacht: sex}
        codes: {parent_education: {laag: low, midden: middle, hoog: high}}
        date_format: "%d-%m-%Y"  # for this table
        date_formats: {birth_date: "%Y%m%d"}  # for one column

``id_kind`` declares what identifies a person. ``bsn`` (the default for a
``bsn`` column): checked with the eleven-test. ``rin``: CBS microdata's RIN
numbers (nine digits; about one in eleven passes the eleven-test, so the BSN
rule would refuse legitimate ones) in the ``person_id`` column (map
``RINPERSOON: person_id``). ``pseudonym``: ids pseudonymised elsewhere, in
``person_id``, taken as they are. With a declared kind every id is keyed-hashed
(HMAC-SHA256 with the pseudonymisation key, the kind as a prefix) before it is
stored. Without one, a delivered ``person_id`` is stored as it is and refused
when it looks like a BSN.

Matching is forgiving where it is safe: column names and code values are
compared after trimming spaces and ignoring case, so ``Person_ID`` finds
``person_id`` and ``PO`` finds ``po`` without a mapping. Code translations
apply to each element of ``;``-separated multi-valued columns.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ozamonitor.errors import ConfigurationError
from ozamonitor.register.schema import TABLES


class MappingError(ConfigurationError):
    """A mapping file is malformed (names the file and the offending key)."""


@dataclass
class TableMapping:
    """Mapping of one table: source file/sheet, column renames, codes, date formats."""

    file: str | None = None
    sheet: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    date_format: str | None = None
    date_formats: dict[str, str] = field(default_factory=dict)


@dataclass
class Mapping:
    """A whole mapping file (see the module docstring for the format)."""

    date_format: str | None = None
    separator: str | None = None
    encoding: str = "utf-8"
    bsn_zero_pad: bool = False
    id_kind: str | None = None
    true_values: list[str] = field(default_factory=list)
    false_values: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tables: dict[str, TableMapping] = field(default_factory=dict)
    path: str | None = None

    def table(self, name: str) -> TableMapping:
        return self.tables.get(name, TableMapping())

    def renames(self, name: str) -> dict[str, str]:
        """Source -> schema column renames for a table (table entries win)."""
        return {**self.columns, **self.table(name).columns}

    def code_map(self, name: str, column: str) -> dict[str, Any]:
        """Source value -> code translations for a column (table entries win)."""
        return {**self.codes.get(column, {}), **self.table(name).codes.get(column, {})}

    def date_format_for(self, name: str, column: str) -> str | None:
        t = self.table(name)
        return t.date_formats.get(column) or t.date_format or self.date_format


_TOP = {"version", "date_format", "separator", "encoding", "bsn_zero_pad", "true_values",
        "false_values", "columns", "codes", "tables", "id_kind"}
#: What may identify a person (``id_kind``).
ID_KINDS = ("bsn", "rin", "pseudonym")
_TABLE = {"file", "sheet", "columns", "codes", "date_format", "date_formats"}


def _schema_columns(table: str | None) -> set[str]:
    if table is None:
        cols = {c for t in TABLES.values() for c in t.column_names}
    else:
        cols = set(TABLES[table].column_names)
    return cols | {"bsn"}


def _str_dict(where: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise MappingError(f"{where}: expected a mapping of names, got {type(value).__name__}")
    return {str(k): str(v) for k, v in value.items()}


def _columns(where: str, value: Any, table: str | None) -> dict[str, str]:
    d = _str_dict(where, value)
    known = _schema_columns(table)
    for src, dst in d.items():
        if dst not in known:
            raise MappingError(f"{where}.{src}: {dst!r} is not a column of "
                               f"{'table ' + table if table else 'any table'}")
    return d


def _codes(where: str, value: Any, table: str | None) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise MappingError(f"{where}: expected column: {{source value: code}}")
    known = _schema_columns(table)
    out: dict[str, dict[str, Any]] = {}
    for col, m in value.items():
        if col not in known:
            raise MappingError(f"{where}.{col}: not a column of "
                               f"{'table ' + table if table else 'any table'}")
        if not isinstance(m, dict):
            raise MappingError(f"{where}.{col}: expected {{source value: code}}")
        out[str(col)] = {str(k): v for k, v in m.items()}
    return out


def mapping_from_dict(data: dict[str, Any], where: str = "mapping") -> Mapping:
    """Build a :class:`Mapping` from parsed YAML/TOML/JSON, checking every key."""
    if not isinstance(data, dict):
        raise MappingError(f"{where}: expected a mapping at the top level")
    unknown = set(data) - _TOP
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
                           f"allowed: {', '.join(sorted(_TOP))}")
    if data.get("version", 1) != 1:
        raise MappingError(f"{where}.version: only version 1 is known")
    if data.get("id_kind") is not None and data["id_kind"] not in ID_KINDS:
        raise MappingError(f"{where}.id_kind: {data['id_kind']!r}; use {', '.join(ID_KINDS)}")
    m = Mapping(
        date_format=data.get("date_format"),
        separator=data.get("separator"),
        encoding=str(data.get("encoding", "utf-8")),
        bsn_zero_pad=bool(data.get("bsn_zero_pad", False)),
        id_kind=data.get("id_kind"),
        true_values=[str(v) for v in data.get("true_values", [])],
        false_values=[str(v) for v in data.get("false_values", [])],
        columns=_columns(f"{where}.columns", data.get("columns", {}), None),
        codes=_codes(f"{where}.codes", data.get("codes", {}), None),
    )
    tables = data.get("tables", {})
    if not isinstance(tables, dict):
        raise MappingError(f"{where}.tables: expected table: {{...}}")
    for name, spec in tables.items():
        w = f"{where}.tables.{name}"
        if name not in TABLES:
            raise MappingError(f"{w}: unknown table; known: {', '.join(TABLES)}")
        if not isinstance(spec, dict):
            raise MappingError(f"{w}: expected a mapping")
        bad = set(spec) - _TABLE
        if bad:
            raise MappingError(f"{w}: unknown key(s) {', '.join(sorted(bad))}; "
                               f"allowed: {', '.join(sorted(_TABLE))}")
        m.tables[name] = TableMapping(
            file=spec.get("file"),
            sheet=spec.get("sheet"),
            columns=_columns(f"{w}.columns", spec.get("columns", {}), name),
            codes=_codes(f"{w}.codes", spec.get("codes", {}), name),
            date_format=spec.get("date_format"),
            date_formats=_str_dict(f"{w}.date_formats", spec.get("date_formats", {})),
        )
    return m


def load_mapping(path: str | Path | Mapping | dict[str, Any] | None) -> Mapping:
    """Read a mapping file (``.yaml``/``.yml``, ``.toml`` or ``.json``).

    Also accepts an already-built :class:`Mapping`, a dict, or None (no mapping).
    """
    if path is None:
        return Mapping()
    if isinstance(path, Mapping):
        return path
    if isinstance(path, dict):
        return mapping_from_dict(path)
    p = Path(path)
    if not p.is_file():
        raise MappingError(f"{p}: mapping file not found")
    text = p.read_text(encoding="utf-8")
    suffix = p.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        elif suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise MappingError(f"{p}: unknown mapping format {suffix!r}; use .yaml, .toml or .json")
    except (yaml.YAMLError, tomllib.TOMLDecodeError, json.JSONDecodeError) as e:
        raise MappingError(f"{p}: cannot parse: {e}") from None
    m = mapping_from_dict(data, where=p.name)
    m.path = str(p)
    return m
