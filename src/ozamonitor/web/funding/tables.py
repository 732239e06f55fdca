"""Funding maps as tables: counts across arrangements (per SWV), disclosure, CSV and xlsx.

The counts are :func:`ozamonitor.funding.summarise` over the saved maps. The
*published* form of a count table passes :mod:`ozamonitor.privacy`: a cell
counting fewer than :data:`~ozamonitor.privacy.disclosure.DEFAULT_THRESHOLD`
arrangements (but more than none) is suppressed (``<10``), and the number of
components in that row with it (it would reveal the arrangements' size). No sum
group is declared because a component shared by two payers counts under both,
so the rows of one kind do not add up to a published total.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl

from ozamonitor.funding import FundingSummary, national_rules, summarise
from ozamonitor.privacy.disclosure import DEFAULT_THRESHOLD, SUPPRESSION_COL, suppress

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"

#: Columns of the per-SWV count table.
SWV_COLUMNS = ("swv", "kind", "payer", "components", "arrangements")
#: Columns of the component export (one row per component of a saved map).
MAP_COLUMNS = ("arrangement", "swv", "component", "kind", "activity", "payers", "laws", "rule",
               "gap", "source", "explanation")


def summary_of(maps: Iterable[Any]) -> FundingSummary:
    """:func:`~ozamonitor.funding.summarise` over saved :class:`FundingMap` rows."""
    return summarise({m.arrangement.code: m.advice_en for m in maps})


def by_swv(maps: Iterable[Any]) -> pl.DataFrame:
    """``swv, kind, payer, components, arrangements``: the kind x payer counts per SWV.

    The same counts as ``summarise(...).by_kind_payer`` of each SWV's maps (a
    test compares them), in one pass over the saved JSON.
    """
    from ozamonitor.funding import KINDS, PAYERS

    rows = [(m.arrangement.swv.code, c["kind"], p, m.arrangement.code)
            for m in maps for c in m.advice_en["components"] for p in c["payers"]]
    schema = {"swv": pl.String, "kind": pl.String, "payer": pl.String, "arrangement": pl.String}
    df = pl.DataFrame(rows, schema=schema, orient="row")
    return (df.group_by("swv", "kind", "payer")
            .agg(pl.len().cast(pl.Int64).alias("components"),
                 pl.col("arrangement").n_unique().cast(pl.Int64).alias("arrangements"))
            .with_columns(pl.col("kind").cast(pl.Enum(list(KINDS))).alias("_k"),
                          pl.col("payer").cast(pl.Enum(list(PAYERS))).alias("_p"))
            .sort("swv", "_k", "_p").select(SWV_COLUMNS))


def published(df: pl.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """``df`` (with ``components`` and ``arrangements``) with small cells suppressed, as text.

    Returns the same columns; the two counts are strings (``<10`` where
    suppressed) and a ``suppressed`` column says which rows were.
    """
    if df.height == 0:
        return df.with_columns(pl.col("components").cast(pl.String),
                               pl.col("arrangements").cast(pl.String),
                               pl.lit(False).alias("suppressed"))
    out = suppress(df, "arrangements", threshold=threshold)
    hidden = pl.col(SUPPRESSION_COL).is_not_null()
    mark = pl.lit(f"<{threshold}")
    return out.with_columns(
        pl.when(hidden).then(mark).otherwise(pl.col("components").cast(pl.String))
        .alias("components"),
        pl.when(hidden).then(mark).otherwise(pl.col("arrangements").cast(pl.String))
        .alias("arrangements"),
        hidden.alias("suppressed"),
    ).drop(SUPPRESSION_COL)


def labelled(df: pl.DataFrame, lang: str) -> list[dict[str, Any]]:
    """Rows of ``df`` with the kind and payer labels in ``lang`` added."""
    rules = national_rules()
    rows = []
    for r in df.iter_rows(named=True):
        r = dict(r)
        if "kind" in r:
            r["kind_label"] = rules.kind_labels[r["kind"]](lang)
        if "payer" in r:
            r["payer_label"] = rules.payer_labels[r["payer"]](lang)
        rows.append(r)
    return rows


def map_rows(maps: Iterable[Any], lang: str) -> list[dict[str, Any]]:
    """One row per component of each saved map (the component export)."""
    rows = []
    for m in maps:
        for c in m.advice(lang)["components"]:
            rows.append({"arrangement": m.arrangement.code, "swv": m.arrangement.swv.code,
                         "component": c["id"], "kind": c["kind"],
                         "activity": c.get("activity") or "", "payers": ";".join(c["payers"]),
                         "laws": ";".join(c["laws"]), "rule": c["rule"], "gap": c["gap"],
                         "source": c["source"], "explanation": c["explanation"]})
    return rows


def to_bytes(sheets: Sequence[tuple[str, Sequence[str], Iterable[dict[str, Any]]]],
             fmt: str) -> tuple[bytes, str]:
    """Sheets ``(name, columns, rows)`` as xlsx (one sheet each) or CSV (the first sheet).

    Raises
    ------
    ValueError
        For a format other than ``csv`` or ``xlsx``.
    """
    if fmt == "csv":
        name, columns, rows = sheets[0]
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)
        return buf.getvalue().encode("utf-8"), CSV
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        wb.remove(wb.active)
        for name, columns, rows in sheets:
            ws = wb.create_sheet(name[:31])
            ws.append(list(columns))
            for r in rows:
                ws.append([r.get(c) for c in columns])
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue(), XLSX
    raise ValueError(f"unknown format {fmt!r}; use csv or xlsx")


def summary_sheets(maps: Sequence[Any], *, public: bool) -> list[tuple[str, Sequence[str],
                                                                      list[dict[str, Any]]]]:
    """The sheets of the summary export: per SWV, across SWVs, and (internal only) the gaps.

    ``public`` applies disclosure control and leaves the list of gaps out (it
    names arrangements and components).
    """
    total = summary_of(maps)
    swv = by_swv(maps)
    across = total.by_kind_payer
    if public:
        swv, across = published(swv), published(across)
    sheets: list[tuple[str, Sequence[str], list[dict[str, Any]]]] = [
        ("by_swv", SWV_COLUMNS, swv.to_dicts()),
        ("by_kind_payer", ("kind", "payer", "components", "arrangements"), across.to_dicts()),
    ]
    if not public:
        sheets.append(("by_kind", total.by_kind.columns, total.by_kind.to_dicts()))
        sheets.append(("gaps", total.gaps.columns, total.gaps.to_dicts()))
    return sheets
