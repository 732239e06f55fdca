"""The publication folder: write, read, ledger and audit (format ``ozamonitor-publication/1``).

Layout (written atomically, :func:`ozamonitor.files.atomic_dir`)::

    manifest.json        format, generated_at, source, threshold, protection,
                         symbols, tables [{name, file, title, unit, dims, ...}],
                         relations
    tables/<name>.csv    dimension columns, then ``count`` (integer or ``x``)
    relations.csv        relation, table, row, coef, sense: every linear
                         identity (sense ``eq``: sum of coef * cell == 0) and
                         declared inequality (sense ``le``: sum <= 0, e.g. one
                         definition never counts more than another) between
                         published cells; ``row`` is the 0-based data row in
                         the table's file (a file without ``sense`` has
                         identities only)
    ledger.json          every run's published cells, read by the next run

:func:`audit_folder` rebuilds the relations from ``relations.csv`` and the
published values and computes, per suppressed cell, the attacker interval
(:mod:`ozamonitor.privacy.attack`); it needs nothing but the folder.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from ozamonitor.files import atomic_dir, formula_safe
from ozamonitor.privacy.attack import attacker_intervals
from ozamonitor.privacy.publication import (
    COUNT,
    SYMBOL,
    Protected,
    Protection,
    Publication,
    too_narrow,
)

FORMAT = "ozamonitor-publication/1"
LEDGER_FORMAT = "ozamonitor-ledger/1"
SYMBOLS = {SYMBOL: "geheim / suppressed", ".": "niet van toepassing / not applicable"}


class FolderError(ValueError):
    """A publication folder is missing a file or does not follow the format."""


def write_folder(result: Protected, folder: str | Path, *,
                 source: Mapping[str, Any] | None = None,
                 extra: Mapping[str, Any] | None = None) -> Path:
    """Write the protected publication to ``folder`` (replacing it as a whole).

    An existing ``ledger.json`` in ``folder`` is kept and this run is appended.
    """
    folder = Path(folder)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    ledger = read_ledger(folder)
    prot = result.protection
    manifest = {
        "format": FORMAT, "generated_at": now, "source": dict(source or {}),
        "threshold": prot.threshold, "protection": prot.meta(), "symbols": SYMBOLS,
        "tables": [t.spec.meta() for t in result.publication.tables],
        "relations": "relations.csv",
        **dict(extra or {}),
    }
    run: dict[str, Any] = {"generated_at": now, "tables": {}}
    with atomic_dir(folder) as tmp:
        (tmp / "tables").mkdir()
        for name in result.table_names:
            df = result.rendered(name)
            formula_safe(df).write_csv(tmp / "tables" / f"{name}.csv")
            run["tables"][name] = {"dims": df.columns[:-1],
                                   "cells": [list(r) for r in df.iter_rows()]}
        formula_safe(_relations_frame(result)).write_csv(tmp / "relations.csv")
        ledger["runs"].append(run)
        (tmp / "ledger.json").write_text(json.dumps(ledger), encoding="utf-8")
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False),
                                           encoding="utf-8")
    return folder


def _relations_frame(result: Protected) -> pl.DataFrame:
    ineq = result.inequalities
    n_eq = result.relations.shape[0]
    both = (result.relations if ineq is None or not ineq.shape[0]
            else sp.vstack([result.relations, ineq]))
    rel = sp.coo_matrix(both)
    tabs = result.publication.tables
    offsets = np.array([t.offset for t in tabs])
    names = np.array([t.spec.name for t in tabs])
    which = np.searchsorted(offsets, rel.col, side="right") - 1
    return pl.DataFrame({"relation": rel.row.astype(np.int64), "table": names[which],
                         "row": (rel.col - offsets[which]).astype(np.int64),
                         "coef": rel.data,
                         "sense": np.where(rel.row < n_eq, "eq", "le")}
                        ).sort("relation", "table", "row")


def read_ledger(folder: str | Path) -> dict[str, Any]:
    """The ledger of ``folder`` (an empty one when there is none)."""
    p = Path(folder) / "ledger.json"
    if not p.exists():
        return {"format": LEDGER_FORMAT, "runs": []}
    data = json.loads(p.read_text(encoding="utf-8"))
    if data.get("format") != LEDGER_FORMAT:
        raise FolderError(f"{p}: not a publication ledger (format {data.get('format')!r})")
    return data


def ledger_masks(pub: Publication, ledger: Mapping[str, Any]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(forced_public, forced_hidden): cells earlier runs published / suppressed.

    The latest run that lists a cell (same table name and keys) decides. A
    published cell is published again (its value is known anyway); a suppressed
    cell is suppressed again (so that the earlier pattern stays protected).
    """
    n = pub.n_cells
    public, hidden = np.zeros(n, bool), np.zeros(n, bool)
    last: dict[tuple[str, tuple[str, ...]], str] = {}
    for run in ledger.get("runs", []):
        for name, t in run.get("tables", {}).items():
            for row in t["cells"]:
                last[(name, tuple(str(x) for x in row[:-1]))] = str(row[-1])
    if not last:
        return public, hidden
    for t in pub.tables:
        for i, row in enumerate(t.cells.iter_rows()):
            v = last.get((t.spec.name, tuple(str(x) for x in row)))
            if v is None:
                continue
            if v == SYMBOL:
                hidden[t.offset + i] = True
            else:
                public[t.offset + i] = True
    return public, hidden


def read_folder(path: str | Path) -> tuple[dict[str, Any], dict[str, pl.DataFrame], pl.DataFrame]:
    """(manifest, tables by name, relations) of a publication folder."""
    folder = Path(path)
    mpath = folder / "manifest.json"
    if not mpath.exists():
        raise FolderError(f"{folder}: no manifest.json (not a publication folder)")
    manifest = json.loads(mpath.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise FolderError(f"{mpath}: format {manifest.get('format')!r}, expected {FORMAT!r}")
    tables = {}
    for t in manifest["tables"]:
        f = folder / t["file"]
        if not f.exists():
            raise FolderError(f"{f}: listed in the manifest but missing")
        tables[t["name"]] = pl.read_csv(f, infer_schema=False)
        if COUNT not in tables[t["name"]].columns:
            raise FolderError(f"{f}: no {COUNT!r} column")
    rpath = folder / manifest.get("relations", "relations.csv")
    if not rpath.exists():
        raise FolderError(f"{rpath}: missing (the relations between published cells)")
    rel = pl.read_csv(rpath, schema_overrides={"relation": pl.Int64, "table": pl.String,
                                               "row": pl.Int64, "coef": pl.Float64,
                                               "sense": pl.String})
    if "sense" not in rel.columns:
        rel = rel.with_columns(sense=pl.lit("eq"))
    odd = rel.filter(~pl.col("sense").is_in(["eq", "le"]))
    if odd.height:
        raise FolderError(f"{rpath}: relation {odd['relation'][0]}: sense "
                          f"{odd['sense'][0]!r} is neither 'eq' nor 'le'")
    return manifest, tables, rel.select("relation", "table", "row", "coef", "sense")


def _matrix(rel: pl.DataFrame, offsets: dict[str, int], n: int) -> sp.csr_matrix:
    """The rows of ``relations.csv`` as a sparse matrix over all cells (renumbered)."""
    cols = rel["row"].to_numpy() + np.array([offsets[t] for t in rel["table"].to_list()],
                                            np.int64)
    ids, row = np.unique(rel["relation"].to_numpy(), return_inverse=True)
    return sp.csr_matrix((rel["coef"].to_numpy(), (row, cols)), shape=(ids.size, n))


def audit_folder(path: str | Path, width: int | None = None,
                 exact: bool = True) -> pl.DataFrame:
    """Attacker interval of every suppressed cell of a publication folder.

    Returns rows ``table, row, key (the dims joined by '|'), lower, upper,
    ok``; ``ok`` is False where the cell might be a small count (lower bound
    below the threshold) and its interval is narrower than the protection width
    (the manifest's, or ``width``). With ``exact=False`` a cell is not solved
    for once solutions found for other cells show its interval to be wide
    enough; ``[lower, upper]`` is then a part of its interval (``ok`` is exact
    either way), which is much faster on large publications.
    """
    manifest, tables, rel = read_folder(path)
    threshold = int(manifest["threshold"])
    w = int(width if width is not None else manifest["protection"].get("width", threshold - 1))
    prot = Protection(threshold=threshold, width=w)
    offsets, values, hidden, keys = {}, [], [], []
    off = 0
    for name, df in tables.items():
        offsets[name] = off
        c = df[COUNT]
        hid = (c == SYMBOL).to_numpy()
        bad = ~hid & c.cast(pl.Int64, strict=False).is_null().to_numpy()
        if bad.any():
            raise FolderError(f"{name}: row {int(np.flatnonzero(bad)[0])}: count "
                              f"{c[int(np.flatnonzero(bad)[0])]!r} is neither an integer nor "
                              f"{SYMBOL!r}")
        values.append(np.where(hid, 0, c.cast(pl.Int64, strict=False).fill_null(0).to_numpy()))
        hidden.append(hid)
        dims = [x for x in df.columns if x != COUNT]
        keys.append(df.select(pl.concat_str([pl.col(d).fill_null("") for d in dims],
                                            separator="|").alias("key"))["key"])
        off += df.height
    v = np.concatenate(values) if values else np.zeros(0)
    h = np.concatenate(hidden) if hidden else np.zeros(0, bool)
    unknown = set(rel["table"].unique().to_list()) - set(offsets)
    if unknown:
        raise FolderError(f"relations.csv names unknown table(s) {sorted(unknown)}")
    R, G = (_matrix(rel.filter(pl.col("sense") == s), offsets, off) for s in ("eq", "le"))
    iv = attacker_intervals(R, v, h, enough=None if exact else w, inequalities=G)
    bad = too_narrow(iv, h, prot)
    names = np.concatenate([[n] * df.height for n, df in tables.items()]) if tables else []
    rows = np.concatenate([np.arange(df.height) for df in tables.values()]) if tables else []
    idx = np.flatnonzero(h)
    return pl.DataFrame({
        "table": np.asarray(names)[idx] if idx.size else [],
        "row": np.asarray(rows, np.int64)[idx] if idx.size else [],
        "key": pl.concat(keys)[idx] if idx.size else [],
        "lower": iv.lower[idx], "upper": iv.upper[idx], "ok": ~bad[idx]},
        schema={"table": pl.String, "row": pl.Int64, "key": pl.String, "lower": pl.Float64,
                "upper": pl.Float64, "ok": pl.Boolean})
