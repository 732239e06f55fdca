"""Storage of a register: one Parquet file per table plus ``manifest.json``.

A register is a folder::

    REGISTER/
        manifest.json
        persons.parquet
        enrolments.parquet
        ...

:func:`write_register` writes all tables at once and atomically (into a
temporary sibling folder that is renamed into place, :func:`ozamonitor.files.atomic_dir`),
so a failed import or generation never leaves a half-written register. The
folder is private (0700, files 0600): its tables are person-level. :class:`Register` opens one
for reading as polars lazy frames or as DuckDB views.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow.parquet as pq

from ozamonitor.errors import InputError
from ozamonitor.files import atomic_dir
from ozamonitor.register.schema import (
    SCHEMA_VERSION,
    TABLES,
    conform,
    empty_frame,
    table,
    version_tuple,
)

MANIFEST = "manifest.json"


class RegisterError(InputError):
    """A register folder is missing, incomplete or inconsistent.

    Exit status 2 on the command line (the folder given is not a usable register).
    """

    exit_code = 2


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_table_parquet(df: pl.DataFrame, path: Path) -> None:
    """Write one table deterministically (same frame -> same bytes).

    Parameters
    ----------
    df : polars.DataFrame
    path : Path
    """
    df.write_parquet(path, compression="zstd", statistics=True, row_group_size=1 << 20)


@dataclass
class RegisterWriter:
    """Writes a register table by table into a temporary folder, then commits it.

    Use as a context manager; on an exception nothing is left behind::

        with RegisterWriter(out, extraction_date=d) as w:
            w.write("persons", persons_df)
            ...
            w.manifest_extra["source"] = {...}

    Tables not written are stored empty. Large tables may be streamed with
    :meth:`open_stream` (a pyarrow ParquetWriter) to bound memory. The folder is
    committed with :func:`ozamonitor.files.atomic_dir` (an existing register is
    replaced as a whole) and is private: person-level tables are 0600 in a 0700
    folder.

    Parameters
    ----------
    out : Path
        The register folder to create or replace.
    extraction_date : datetime.date
        Recorded in the manifest.
    overwrite : bool, default True
        Replace an existing folder (else :class:`RegisterError`).
    manifest_extra : dict, optional
        Extra top-level manifest keys (a generator's or an import's record), stored
        as given.
    """

    out: Path
    extraction_date: dt.date
    overwrite: bool = True
    manifest_extra: dict[str, Any] = field(default_factory=dict)
    _tmp: Path | None = None
    _written: set[str] = field(default_factory=set)
    _commit: ExitStack | None = None

    def __enter__(self) -> RegisterWriter:
        self.out = Path(self.out)
        if self.out.exists() and not self.overwrite:
            raise RegisterError(f"{self.out} exists; refusing to overwrite")
        self._commit = ExitStack()
        self._tmp = self._commit.enter_context(atomic_dir(self.out, private=True))
        return self

    def _folder(self) -> Path:
        """The temporary folder being written (only inside the ``with`` block)."""
        if self._tmp is None:
            raise RuntimeError("RegisterWriter is used as a context manager (with ...)")
        return self._tmp

    def path(self, name: str) -> Path:
        """Where table ``name`` is written inside the temporary folder.

        Parameters
        ----------
        name : str
            A table.

        Returns
        -------
        Path
        """
        return self._folder() / table(name).file

    def side_file(self, filename: str) -> Path:
        """Path for a file beside the tables (not a register table), committed with them.

        Parameters
        ----------
        filename : str
            A plain file name that is not a table's or the manifest's.

        Returns
        -------
        Path

        Raises
        ------
        RegisterError
            For a name with a folder, or a table's or the manifest's name.
        """
        folder = self._folder()
        if Path(filename).name != filename or filename == MANIFEST or filename in {
            table(n).file for n in TABLES
        }:
            raise RegisterError(f"{filename!r} cannot be a side file of a register")
        return folder / filename

    def write(self, name: str, df: pl.DataFrame) -> None:
        """Write a whole table (columns are selected and cast to the schema).

        Parameters
        ----------
        name : str
            A table.
        df : polars.DataFrame
            Its rows.
        """
        write_table_parquet(conform(name, df), self.path(name))
        self._written.add(name)

    def open_stream(self, name: str) -> pq.ParquetWriter:
        """A ParquetWriter for writing ``name`` in chunks (call ``.close()``).

        Parameters
        ----------
        name : str
            A table.

        Returns
        -------
        pyarrow.parquet.ParquetWriter
        """
        schema = empty_frame(name).to_arrow().schema
        self._written.add(name)
        return pq.ParquetWriter(self.path(name), schema, compression="zstd")

    def _finish(self) -> None:
        """Write the missing tables and the manifest; make every file private."""
        folder = self._folder()
        for name in TABLES:
            if name not in self._written:
                write_table_parquet(empty_frame(name), self.path(name))
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "extraction_date": self.extraction_date.isoformat(),
            "tables": {
                name: {
                    "file": table(name).file,
                    "rows": pq.ParquetFile(self.path(name)).metadata.num_rows,
                    "sha256": _sha256(self.path(name)),
                }
                for name in TABLES
            },
            **self.manifest_extra,
        }
        (folder / MANIFEST).write_text(
            json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n"
        )
        for f in folder.iterdir():
            os.chmod(f, 0o600)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        commit = self._commit
        if commit is None:
            raise RuntimeError("RegisterWriter is used as a context manager (with ...)")
        self._commit = None
        if exc_type is not None:
            commit.__exit__(exc_type, exc, tb)  # removes the temporary folder
            return
        try:
            self._finish()
        except BaseException as e:
            if not commit.__exit__(type(e), e, e.__traceback__):
                raise
        else:
            commit.close()  # moves the folder into place


def write_register(
    out: str | Path,
    tables: Mapping[str, pl.DataFrame],
    *,
    extraction_date: dt.date,
    manifest_extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a complete register atomically and return its path.

    Parameters
    ----------
    out : str or Path
        The register folder (replaced as a whole if it exists).
    tables : Mapping[str, polars.DataFrame]
        Tables by name (columns are selected and cast to the schema); tables not
        given are stored empty.
    extraction_date : datetime.date
        Recorded in the manifest.
    manifest_extra : Mapping, optional
        Extra top-level manifest sections, stored as given.

    Returns
    -------
    Path
    """
    with RegisterWriter(Path(out), extraction_date=extraction_date) as w:
        for name, df in tables.items():
            table(name)  # clear error for an unknown table
            w.write(name, df)
        w.manifest_extra.update(manifest_extra or {})
    return Path(out)


_DUCKDB_TYPES = {"str": "VARCHAR", "date": "DATE", "int": "INTEGER", "float": "DOUBLE",
                 "bool": "BOOLEAN"}


class Register:
    """A register folder opened for reading.

    >>> reg = Register("demo-register")            # doctest: +SKIP
    >>> reg.scan("enrolments").filter(pl.col("end").is_null()).collect()  # doctest: +SKIP
    >>> reg.sql("select count(*) from persons").fetchone()  # doctest: +SKIP
    """

    def __init__(self, path: str | Path, *, check: bool = True) -> None:
        self.path = Path(path)
        mf = self.path / MANIFEST
        if not mf.is_file():
            raise RegisterError(
                f"{self.path}: not a register (no {MANIFEST}); create one with "
                "`ozamonitor import` or `ozamonitor synth`"
            )
        try:
            self.manifest: dict[str, Any] = json.loads(mf.read_text())
        except json.JSONDecodeError as e:
            raise RegisterError(f"{mf}: invalid JSON: {e}") from None
        version = version_tuple(self.manifest.get("schema_version", "1.0"))
        absent = [n for n in TABLES if not (self.path / table(n).file).is_file()]
        #: Tables added to the schema after this register was written: read as empty.
        self.later_tables = frozenset(
            n for n in absent if version_tuple(table(n).since) > version)
        #: Columns added after this register was written, per table: read as null.
        self.later_columns: dict[str, tuple[str, ...]] = {
            n: cols for n in TABLES if n not in self.later_tables
            and (cols := tuple(c.name for c in table(n).columns
                               if version_tuple(c.since) > version))}
        missing = [n for n in absent if n not in self.later_tables]
        if missing:
            raise RegisterError(f"{self.path}: missing table files: {', '.join(missing)}")
        try:
            dt.date.fromisoformat(str(self.manifest.get("extraction_date")))
        except ValueError:
            raise RegisterError(
                f"{mf}: extraction_date {self.manifest.get('extraction_date')!r} is not a "
                "date (YYYY-MM-DD)"
            ) from None
        if check:  # validate_register opens with check=False and reports in detail
            for name in TABLES:
                if name not in self.later_tables:
                    self._check_table(name)
        self._con: duckdb.DuckDBPyConnection | None = None

    def _check_table(self, name: str) -> None:
        """Check a table file's footer, columns and types (metadata only, cheap)."""
        path = self.file(name)
        try:
            got = pq.ParquetFile(path).schema_arrow
        except Exception as e:  # pyarrow raises several kinds for damaged files
            raise RegisterError(f"{path}: not a readable Parquet file ({e})") from None
        want = empty_frame(name).to_arrow().schema
        for col in want:
            if col.name not in got.names and col.name in self.later_columns.get(name, ()):
                continue
            if col.name not in got.names:
                raise RegisterError(f"{path}: column {col.name!r} is missing")
            have = got.field(col.name).type
            if have != col.type and not (
                str(have).replace("large_", "") == str(col.type).replace("large_", "")
            ):
                raise RegisterError(
                    f"{path}: column {col.name!r} has type {have}, expected {col.type}"
                )

    @classmethod
    def open(cls, register: Register | str | Path) -> Register:
        """``register`` itself if it is a :class:`Register`, else the register at that path.

        Parameters
        ----------
        register : Register, str or Path

        Returns
        -------
        Register
        """
        return register if isinstance(register, Register) else cls(register)

    @property
    def extraction_date(self) -> dt.date:
        return dt.date.fromisoformat(self.manifest["extraction_date"])

    def file(self, name: str) -> Path:
        """The Parquet file of table ``name``.

        Parameters
        ----------
        name : str
            A table of :data:`~ozamonitor.register.schema.TABLES`.

        Returns
        -------
        Path
        """
        return self.path / table(name).file

    def scan(self, name: str) -> pl.LazyFrame:
        """Lazy polars frame over one table.

        Parameters
        ----------
        name : str
            A table of :data:`~ozamonitor.register.schema.TABLES`.

        Returns
        -------
        polars.LazyFrame
        """
        if name in self.later_tables:
            return empty_frame(name).lazy()
        lf = pl.scan_parquet(self.file(name))
        return self._with_later_columns(name, lf)

    def _with_later_columns(self, name: str, lf: Any) -> Any:
        """``lf`` (lazy or eager) with the columns this register predates added as nulls."""
        later = self.later_columns.get(name, ())
        if not later:
            return lf
        t = table(name)
        have = set(lf.collect_schema().names())
        return lf.with_columns(
            [pl.lit(None, t.column(c).dtype).alias(c) for c in later if c not in have]
        ).select([c for c in t.column_names if c in have or c in later])

    def read(self, name: str, columns: Iterable[str] | None = None) -> pl.DataFrame:
        """Read one table (optionally only some columns) into memory.

        Parameters
        ----------
        name : str
            A table of :data:`~ozamonitor.register.schema.TABLES`.
        columns : iterable of str, optional
            The columns to read (default: all).

        Returns
        -------
        polars.DataFrame
        """
        if name in self.later_tables:
            df = empty_frame(name)
            return df.select(list(columns)) if columns else df
        later = self.later_columns.get(name, ())
        if later:
            df = self._with_later_columns(name, pl.read_parquet(self.file(name)))
            return df.select(list(columns)) if columns else df
        return pl.read_parquet(self.file(name), columns=list(columns) if columns else None)

    def rows(self, name: str) -> int:
        """Number of rows of table ``name`` (from the Parquet footer).

        Parameters
        ----------
        name : str
            A table.

        Returns
        -------
        int
        """
        if name in self.later_tables:
            return 0
        return int(pq.ParquetFile(self.file(name)).metadata.num_rows)

    @property
    def duckdb(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with one view per table."""
        if self._con is None:
            con = duckdb.connect(":memory:")
            for name in TABLES:
                if name in self.later_tables:
                    con.register(name, empty_frame(name).to_arrow())
                    continue
                path = str(self.file(name)).replace("'", "''")
                later = self.later_columns.get(name, ())
                nulls = "".join(
                    f", CAST(NULL AS {_DUCKDB_TYPES[table(name).column(c).kind]}) AS \"{c}\""
                    for c in later)
                con.execute(f"CREATE VIEW {name} AS SELECT *{nulls} FROM read_parquet('{path}')")
            self._con = con
        return self._con

    def sql(self, query: str) -> duckdb.DuckDBPyRelation:
        """Run SQL over the register's tables (DuckDB views named after the tables).

        Parameters
        ----------
        query : str
            The SQL.

        Returns
        -------
        duckdb.DuckDBPyRelation
        """
        return self.duckdb.sql(query)

    def __repr__(self) -> str:
        return f"Register({str(self.path)!r}, extraction_date={self.extraction_date})"
