"""Facts about a register: table sizes, date ranges, pupils per sector and year.

Everything is computed with DuckDB over the Parquet files
(:meth:`~ozamonitor.register.store.Register.sql`), so it stays fast for
registers of tens of millions of rows: sizes come from Parquet metadata, date
ranges from one aggregate per table and the pupil counts from one grouped
query.

Pupils enrolled per sector and school year are counted on the census date
*1 October* (*teldatum*) of each school year: distinct ``person_id`` with an
enrolment at a school of that sector whose ``[start, end]`` (inclusive, null
end = still enrolled) contains 1 October. Years whose 1 October lies after the
extraction date are left out. A pupil enrolled at two schools of different
sectors on that day counts in both sectors, once in ``total``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ozamonitor.register.calendar import school_year_label
from ozamonitor.register.schema import SECTORS, TABLES
from ozamonitor.register.store import Register


@dataclass
class RegisterInfo:
    """What ``ozamonitor info`` shows."""

    path: Path
    extraction_date: dt.date
    schema_version: str | None
    #: One row per table: ``table, rows, bytes``.
    sizes: pl.DataFrame
    #: One row per date column: ``table, column, min, max, nulls``.
    date_ranges: pl.DataFrame
    #: ``school_year, sector, pupils`` (sector ``total`` = distinct over sectors).
    enrolled: pl.DataFrame
    #: Manifest facts other than the tables (synthetic seed/scale, import details).
    facts: dict[str, Any] = field(default_factory=dict)

    def enrolled_wide(self) -> pl.DataFrame:
        """Pupils on 1 October: one row per school year, one column per sector."""
        if self.enrolled.height == 0:
            return pl.DataFrame(schema={"school_year": pl.String,
                                        **{s: pl.Int64 for s in (*SECTORS, "total")}})
        wide = self.enrolled.pivot(on="sector", index="school_year", values="pupils")
        for s in (*SECTORS, "total"):
            if s not in wide.columns:
                wide = wide.with_columns(pl.lit(0, pl.Int64).alias(s))
        return wide.select("school_year", *SECTORS, "total").fill_null(0).sort("school_year")


def _facts(manifest: dict[str, Any]) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    synth = manifest.get("synth")
    if isinstance(synth, dict):
        for k, v in synth.items():
            if isinstance(v, str | int | float | bool):
                facts[f"synthetic {k}"] = v
        if synth.get("ground_truth") is not None:
            facts["synthetic ground truth"] = "present"
    imp = manifest.get("import")
    if isinstance(imp, dict):
        facts["imported at"] = imp.get("imported_at")
        if imp.get("mapping"):
            facts["mapping"] = imp["mapping"]
        pseud = imp.get("pseudonym") or {}
        if pseud.get("key_id"):
            facts["pseudonym key id"] = pseud["key_id"]
        src = imp.get("sources") or {}
        facts["source files"] = ", ".join(v["file"] for v in src.values()) if src else None
    for k, v in manifest.items():
        if k not in ("tables", "synth", "import", "extraction_date", "schema_version") and (
            isinstance(v, str | int | float | bool)
        ):
            facts[k] = v
    return {k: v for k, v in facts.items() if v is not None}


def date_ranges(reg: Register) -> pl.DataFrame:
    """Min, max and null count of every date column (one DuckDB query per table)."""
    rows: list[dict[str, Any]] = []
    for name, t in TABLES.items():
        cols = [c.name for c in t.columns if c.kind == "date"]
        if not cols:
            continue
        agg = ", ".join(
            f'min("{c}"), max("{c}"), count(*) - count("{c}")' for c in cols
        )
        res = reg.sql(f"SELECT {agg} FROM {name}").fetchall()[0]
        assert res is not None
        for i, c in enumerate(cols):
            rows.append(dict(table=name, column=c, min=res[3 * i], max=res[3 * i + 1],
                             nulls=int(res[3 * i + 2])))
    return pl.DataFrame(rows, schema={"table": pl.String, "column": pl.String, "min": pl.Date,
                                      "max": pl.Date, "nulls": pl.Int64})


def enrolled_on_october_first(reg: Register) -> pl.DataFrame:
    """Distinct pupils enrolled on 1 October per school year and sector (and total)."""
    ext = reg.extraction_date.isoformat()
    q = f"""
    WITH e AS (
        SELECT e.person_id, s.sector, e.start,
               least(coalesce(e."end", DATE '{ext}'), DATE '{ext}') AS stop
        FROM enrolments e JOIN schools s USING (school_id)
        WHERE e.start IS NOT NULL
    ), y AS (
        SELECT person_id, sector,
               unnest(range(
                   CAST(year(start) + CASE WHEN start > make_date(year(start), 10, 1)
                                          THEN 1 ELSE 0 END AS BIGINT),
                   CAST(year(stop) - CASE WHEN stop < make_date(year(stop), 10, 1)
                                         THEN 1 ELSE 0 END + 1 AS BIGINT)
               )) AS y
        FROM e WHERE stop >= start
    )
    SELECT y, sector, count(DISTINCT person_id) AS pupils FROM y GROUP BY ALL
    UNION ALL
    SELECT y, 'total' AS sector, count(DISTINCT person_id) AS pupils FROM y GROUP BY y
    """
    df = reg.sql(q).pl()
    if df.height == 0:
        return pl.DataFrame(schema={"school_year": pl.String, "sector": pl.String,
                                    "pupils": pl.Int64})
    return (
        df.with_columns(
            school_year=pl.col("y").map_elements(school_year_label, return_dtype=pl.String),
            pupils=pl.col("pupils").cast(pl.Int64),
        )
        .select("school_year", "sector", "pupils")
        .sort("school_year", "sector")
    )


def register_info(register: str | Path | Register) -> RegisterInfo:
    """Collect :class:`RegisterInfo` for a register folder.

    Parameters
    ----------
    register : str, Path or Register
        The register.

    Returns
    -------
    RegisterInfo
        Table sizes, date ranges, pupils per sector on 1 October and manifest facts.
    """
    reg = Register.open(register)
    sizes = pl.DataFrame(
        [dict(table=n, rows=reg.rows(n), bytes=reg.file(n).stat().st_size) for n in TABLES],
        schema={"table": pl.String, "rows": pl.Int64, "bytes": pl.Int64},
    )
    return RegisterInfo(
        path=reg.path,
        extraction_date=reg.extraction_date,
        schema_version=reg.manifest.get("schema_version"),
        sizes=sizes,
        date_ranges=date_ranges(reg),
        enrolled=enrolled_on_october_first(reg),
        facts=_facts(reg.manifest),
    )
