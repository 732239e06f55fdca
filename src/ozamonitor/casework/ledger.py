"""The friction budget (*frictiebudget*) per case: a ledger an accountant can check.

:func:`ledger_frame` lists every entry of the given cases; :func:`ledger_totals`
sums them per case and payer, approved and unapproved apart, with a grand
total; :func:`export_ledger` writes both as CSV (two files) or one workbook
(sheets ``entries`` and ``totals``). Amounts are exact decimals (cents), never
floats: the totals equal the sum of the rows to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import polars as pl

from ozamonitor.casework.model import Case
from ozamonitor.errors import ConfigurationError
from ozamonitor.files import atomic_write, formula_safe

__all__ = ["export_ledger", "ledger_frame", "ledger_totals"]

_AMOUNT = pl.Decimal(14, 2)
_ENTRY_SCHEMA = {"case_id": pl.String, "gemeente_code": pl.String, "swv_id": pl.String,
                 "entry_id": pl.String, "date": pl.Date, "payer": pl.String,
                 "purpose": pl.String, "amount": _AMOUNT, "approved": pl.Boolean,
                 "approved_by": pl.String, "approved_on": pl.Date, "invoice": pl.String}


def ledger_frame(cases: Iterable[Case]) -> pl.DataFrame:
    """Every ledger entry of ``cases``, sorted by case, date and entry id."""
    rows = [{"case_id": c.case_id, "gemeente_code": c.gemeente_code, "swv_id": c.swv_id,
             "entry_id": e.entry_id, "date": e.date, "payer": e.payer, "purpose": e.purpose,
             "amount": e.amount, "approved": e.approved, "approved_by": e.approved_by,
             "approved_on": e.approved_on, "invoice": e.invoice}
            for c in cases for e in c.ledger]
    return pl.DataFrame(rows, schema=_ENTRY_SCHEMA).sort("case_id", "date", "entry_id")


def ledger_totals(entries: pl.DataFrame) -> pl.DataFrame:
    """Totals per case and payer, per payer over all cases, and the grand total.

    Columns ``level`` (``case``, ``payer``, ``total``), ``case_id``, ``payer``,
    ``approved``, ``unapproved``, ``total``, ``entries``.
    """
    amt = pl.col("amount")
    aggs = [amt.filter(pl.col("approved")).sum().alias("approved"),
            amt.filter(~pl.col("approved")).sum().alias("unapproved"),
            amt.sum().alias("total"), pl.len().cast(pl.Int64).alias("entries")]
    per_case = entries.group_by("case_id", "payer").agg(aggs).with_columns(
        level=pl.lit("case"))
    per_payer = entries.group_by("payer").agg(aggs).with_columns(
        level=pl.lit("payer"), case_id=pl.lit(None, pl.String))
    grand = entries.select(aggs).with_columns(level=pl.lit("total"),
                                              case_id=pl.lit(None, pl.String),
                                              payer=pl.lit(None, pl.String))
    cols = ["level", "case_id", "payer", "approved", "unapproved", "total", "entries"]
    out = pl.concat([per_case.select(cols), per_payer.select(cols), grand.select(cols)],
                    how="vertical_relaxed")
    out = out.with_columns([pl.col(c).fill_null(Decimal("0.00")).cast(_AMOUNT)
                            for c in ("approved", "unapproved", "total")])
    order = {"case": 0, "payer": 1, "total": 2}
    return (out.with_columns(_o=pl.col("level").replace_strict(order, return_dtype=pl.Int8))
            .sort("_o", "case_id", "payer", nulls_last=True).drop("_o"))


def export_ledger(cases: Iterable[Case], out: str | Path, *, private: bool = True
                  ) -> list[Path]:
    """Write the ledger and its totals for the accountant.

    Parameters
    ----------
    cases : iterable of Case
    out : str or Path
        ``*.xlsx``: one workbook with sheets ``entries`` and ``totals``;
        ``*.csv``: ``out`` with the entries and ``<stem>_totals.csv`` beside it.
    private : bool
        Case ids are person-related: written 0600 in a 0700 folder by default.

    Returns
    -------
    list of Path
        The files written.
    """
    p = Path(out)
    entries = ledger_frame(cases)
    totals = ledger_totals(entries)
    suffix = p.suffix.lower()
    if suffix == ".xlsx":
        import xlsxwriter

        with atomic_write(p, private=private) as tmp, xlsxwriter.Workbook(tmp) as wb:
            fmt = {pl.Date: "yyyy-mm-dd", _AMOUNT: "#,##0.00"}
            formula_safe(entries).write_excel(wb, worksheet="entries", dtype_formats=fmt,
                                              autofit=True)
            formula_safe(totals).write_excel(wb, worksheet="totals", dtype_formats=fmt,
                                             autofit=True)
        return [p]
    if suffix == ".csv":
        second = p.with_name(f"{p.stem}_totals.csv")
        with atomic_write(p, private=private) as tmp:
            formula_safe(entries).write_csv(tmp, date_format="%Y-%m-%d")
        with atomic_write(second, private=private) as tmp:
            formula_safe(totals).write_csv(tmp)
        return [p, second]
    raise ConfigurationError(f"{p}: write the ledger as .csv or .xlsx")
