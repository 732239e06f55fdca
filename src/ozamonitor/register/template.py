"""Exchange-format templates: the files the field delivers, empty or with the example.

``export_template(outdir, "csv")`` writes one file per table with the columns
the importer expects (person tables with ``bsn`` instead of ``person_id``),
plus ``mapping.example.yaml``. With ``example=True`` the files hold the tiny
hand-made register of :mod:`ozamonitor.register.example`, which imports
cleanly with any key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl

from ozamonitor.errors import ConfigurationError, OzamonitorError
from ozamonitor.files import atomic_write, atomic_write_text, formula_safe
from ozamonitor.register.example import EXAMPLE_EXTRACTION_DATE, example_source_tables
from ozamonitor.register.schema import PERSON_TABLES, TABLES

Format = Literal["csv", "xlsx", "parquet"]

MAPPING_EXAMPLE = """\
# ozamonitor mapping file, version 1 (see docs/register.md).
# Maps source column names and values to the register schema. Every key is optional.
version: 1
date_format: "%d-%m-%Y"        # how dates are written; ISO 2024-08-01 is always accepted
# separator: ";"               # CSV separator (default: detected from the header line)
# encoding: cp1252             # CSV encoding (default utf-8)
# bsn_zero_pad: true           # left-pad BSNs of up to 8 digits (automatic for .xlsx)
columns:                       # source column -> schema column, in every table
  BSN: bsn
  Begindatum: start
  Einddatum: end
codes:                         # schema column -> {source value: code}, in every table
  sex: {jongen: M, meisje: F, man: M, vrouw: F}
tables:
  persons:
    file: leerlingen.csv       # this table is in leerlingen.csv instead of persons.csv
    columns: {Geboortedatum: birth_date, Geslacht: sex}
  exemptions:
    columns: {Artikel: article, Gemeente: gemeente_code}
    codes:
      article: {"vrijstelling 5a": "5a", "vrijstelling 5b": "5b", "vrijstelling 15": "15"}
  absence_days:                # hours, or half days (dagdelen, primary) or minutes (late)
    columns: {Datum: date, Uren: hours, Soort: kind, Dagdelen: dagdelen, Minuten: minutes}
    codes:
      kind: {ongeoorloofd: unauthorised, geoorloofd: authorised, ziek: illness,
             schorsing: suspension, "te laat": late}
"""


def source_schema(name: str) -> dict[str, pl.DataType]:
    """Columns and dtypes of a table as delivered (``bsn`` instead of ``person_id``)."""
    schema = dict(TABLES[name].polars_schema)
    if name in PERSON_TABLES:
        schema = {("bsn" if k == "person_id" else k): v for k, v in schema.items()}
    return schema


def write_source_file(df: pl.DataFrame, path: Path) -> None:
    """Write one source table as CSV, Parquet or .xlsx (by the path's suffix), atomically.

    Parameters
    ----------
    df : polars.DataFrame
        The table as delivered (see :func:`source_schema`).
    path : Path
        Target file; its suffix picks the format.
    """
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".xlsx"):
        raise ConfigurationError(f"{path}: unknown format; use .csv, .parquet or .xlsx")
    with atomic_write(path) as tmp:
        if suffix == ".csv":
            formula_safe(df).write_csv(tmp, date_format="%Y-%m-%d")
        elif suffix == ".parquet":
            df.write_parquet(tmp)
        else:
            # text cells keep BSN leading zeros; dates stay real Excel dates
            formula_safe(df).write_excel(tmp, worksheet=path.stem,
                                         dtype_formats={pl.Date: "yyyy-mm-dd"}, autofit=True)


class TemplateExistsError(OzamonitorError, FileExistsError):
    """A template file to write already exists (pass ``force=True`` to overwrite)."""


def template_paths(outdir: str | Path, fmt: Format = "csv", *,
                   example: bool = False) -> list[Path]:
    """The files :func:`export_template` writes into ``outdir``."""
    out = Path(outdir)
    paths = [out / f"{name}.{fmt}" for name in TABLES]
    paths.append(out / "mapping.example.yaml")
    if example:
        paths.append(out / "README.txt")
    return paths


def export_template(
    outdir: str | Path, fmt: Format = "csv", *, example: bool = False, force: bool = False
) -> list[Path]:
    """Write one (empty or example) source file per table and a mapping example.

    Returns the paths written. Refuses (:class:`TemplateExistsError`, naming the
    files) when any of them exists already, before writing anything, unless
    ``force=True``, which overwrites them.
    """
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise ConfigurationError(f"{out}: exists and is not a folder")
    if not force:
        existing = [p for p in template_paths(out, fmt, example=example) if p.exists()]
        if existing:
            shown = ", ".join(p.name for p in existing[:5])
            more = f" and {len(existing) - 5} more" if len(existing) > 5 else ""
            raise TemplateExistsError(
                f"{out}: {len(existing)} template file(s) exist already ({shown}{more}); "
                "choose an empty folder or pass force=True to overwrite them")
    out.mkdir(parents=True, exist_ok=True)
    data = example_source_tables() if example else {}
    paths: list[Path] = []
    for name in TABLES:
        df = data.get(name, pl.DataFrame(schema=source_schema(name)))
        p = out / f"{name}.{fmt}"
        write_source_file(df, p)
        paths.append(p)
    m = out / "mapping.example.yaml"
    atomic_write_text(m, MAPPING_EXAMPLE)
    paths.append(m)
    if example:
        readme = out / "README.txt"
        atomic_write_text(
            readme,
            "Example delivery for ozamonitor (synthetic persons, made-up BSNs).\n"
            f"Import: ozamonitor import {out} --out REGISTER "
            f"--extraction-date {EXAMPLE_EXTRACTION_DATE.isoformat()} --key-file KEYFILE\n",
        )
        paths.append(readme)
    return paths
