"""CLI commands: sequence distances (``ozamonitor seqdist``, ``ozamonitor seqdistmc``)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import typer

from ozamonitor.cli.common import check_outputs, console, fail
from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.files import atomic_write, formula_safe

_MISSING_RULES = ("none", "del", "state")


def _read_sequence_csv(
    path: Path, id_col: str, missing: str
) -> tuple[list[str], list[str], list[list[str | None]]]:
    """Read ``id, t1, t2, ...`` rows; returns (ids, time columns, cells with None = missing)."""
    if not path.exists():
        raise InputError(f"{path}: file not found")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise InputError(f"{path}: empty file")
    header = [h.strip() for h in rows[0]]
    if id_col not in header:
        raise InputError(f"{path}: id column {id_col!r} not in header {header}")
    if len(rows) < 2:
        raise InputError(f"{path}: no sequences (header only)")
    id_idx = header.index(id_col)
    tcols = [h for i, h in enumerate(header) if i != id_idx]
    if not tcols:
        raise InputError(f"{path}: no time columns besides {id_col!r}")
    ids: list[str] = []
    cells: list[list[str | None]] = []
    for lineno, r in enumerate(rows[1:], start=2):
        if len(r) > len(header):
            raise InputError(f"{path}: row {lineno} has {len(r)} fields, header has {len(header)}")
        if len(r) < len(header) and missing == "none":
            raise InputError(
                f"{path}: row {lineno} has {len(r)} fields, header has {len(header)} "
                "(non-rectangular data: use --missing del or --missing state)"
            )
        r = r + [""] * (len(header) - len(r))
        vals: list[str | None] = []
        for i, c in enumerate(r):
            if i == id_idx:
                continue
            c = c.strip()
            if c in ("", "NA"):
                if missing == "none":
                    raise InputError(
                        f"{path}: row {lineno}, column {header[i]!r}: missing value "
                        "(use --missing del or --missing state)"
                    )
                vals.append(None)
            else:
                vals.append(c)
        ids.append(r[id_idx].strip())
        cells.append(vals)
    return ids, tcols, cells


def _parse_indel(text: str) -> float | np.ndarray | str:
    if text.strip().lower() == "auto":
        return "auto"
    try:
        parts = [float(x) for x in text.split(",")]
    except ValueError:
        raise ConfigurationError(
            f"--indel must be 'auto', a number or comma-separated numbers: {text!r}"
        ) from None
    return parts[0] if len(parts) == 1 else np.array(parts)


_OUT_SUFFIXES = (".csv", ".npy", ".parquet")


def _write_matrix(out: Path, d: np.ndarray, n: int) -> None:
    """Write the distances ``d`` to ``out`` atomically; the suffix picks the format.

    ``.csv``: the ``N x N`` matrix without header, each value in its shortest
    round-trip form (polars, multi-threaded); ``.npy``: the ``N x N`` array;
    ``.parquet``: the condensed upper triangle as columns ``i``, ``j``,
    ``distance`` (0-based row numbers, ``i < j``, scipy ``squareform`` order).
    ``d`` is the square matrix for ``.csv``/``.npy`` and the condensed vector for
    ``.parquet``; ``n`` is the number of sequences. A distance matrix between
    persons' sequences is person-level: owner-only (0600).
    """
    import polars as pl

    suffix = out.suffix.lower()
    if suffix not in _OUT_SUFFIXES:
        raise ConfigurationError(f"{out}: output must end in .csv, .npy or .parquet")
    with atomic_write(out, private=True) as tmp:
        if suffix == ".npy":
            with tmp.open("wb") as fh:
                np.save(fh, d)
        elif suffix == ".parquet":
            i, j = np.triu_indices(n, k=1)
            pl.DataFrame({"i": i.astype(np.int32), "j": j.astype(np.int32), "distance": d}
                         ).write_parquet(tmp, compression="zstd")
        else:
            # symmetric: column k is row k, a contiguous view (no transpose copy); numbers
            # only, so formula_safe has nothing to change (it only looks at text columns)
            frame = pl.DataFrame([pl.Series(f"c{k}", d[k]) for k in range(d.shape[0])])
            formula_safe(frame).write_csv(tmp, include_header=False)


def register(app: typer.Typer) -> None:
    """Add this group's commands to app."""
    _register_seqdist(app)
    register_mc(app)

    @app.command("precompile")
    def precompile_cmd() -> None:
        """Compile the sequence kernels now (once per installation), so analyses start fast."""
        import time

        from ozamonitor.sequences.precompile import cache_location, precompile

        t0 = time.perf_counter()
        precompile(lambda line: console.print(line, highlight=False))
        console.print(f"kernels ready in {time.perf_counter() - t0:.1f} s; "
                      f"cache: {cache_location()}")


def _register_seqdist(app: typer.Typer) -> None:
    @app.command("seqdist")
    def seqdist_cmd(
        input: Path = typer.Option(
            ..., "--input", "-i", help="CSV: id column + one column per period."
        ),
        out: Path = typer.Option(
            ...,
            "--out",
            "-o",
            help="Output D.csv (N x N, no header), D.npy (N x N) or D.parquet (condensed: "
            "i, j, distance for i < j).",
        ),
        method: str = typer.Option("OM", help="OM|HAM|DHD|LCS|LCP|RLCP|OMspell|CHI2|EUCLID."),
        sm: str = typer.Option(
            None, help="CONSTANT, TRATE, or a CSV cost-matrix file (default as TraMineR)."
        ),
        indel: str = typer.Option(
            "auto", help="'auto', a number, or one cost per state (a,b,...)."
        ),
        norm: str = typer.Option("none", help="none|auto|maxlength|gmean|maxdist|YujianBo."),
        id_col: str = typer.Option("id", "--id-col", help="Identifier column."),
        alphabet: str = typer.Option(
            None, help="Comma-separated states in order; other values are an error."
        ),
        missing: str = typer.Option(
            "none",
            help="none: missing/ragged input is an error; del: TraMineR seqdef defaults "
            "(trailing missing deleted, others the missing state); state: all missing "
            "values are the missing state.",
        ),
        expcost: float = typer.Option(0.5, help="OMspell: duration cost."),
        tpow: float = typer.Option(1.0, help="OMspell: duration exponent."),
        step: int = typer.Option(1, help="CHI2/EUCLID: interval length."),
        float32: bool = typer.Option(False, "--float32", help="Store float32."),
        threads: int = typer.Option(None, help="Number of threads (default: all)."),
        backend: str = typer.Option("cpu", help="cpu | cuda (OM/LCS/HAM/DHD on a GPU) | auto."),
    ) -> None:
        """Pairwise sequence distances as TraMineR's seqdist (rows in input order)."""
        from ozamonitor.sequences.costs import read_cost_matrix
        from ozamonitor.sequences.define import seqdef
        from ozamonitor.sequences.distances import seqdist

        try:
            if missing not in _MISSING_RULES:
                raise ConfigurationError(f"--missing must be one of {', '.join(_MISSING_RULES)}")
            if out.suffix.lower() not in _OUT_SUFFIXES:
                raise ConfigurationError(f"{out}: output must end in .csv, .npy or .parquet")
            ids, tcols, cells = _read_sequence_csv(input, id_col, missing)
            alpha = [a.strip() for a in alphabet.split(",")] if alphabet else None
            right = "NA" if missing == "state" else "DEL"
            try:
                seqs = seqdef(cells, alphabet=alpha, right=right)
            except ValueError as exc:
                raise InputError(f"{input}: {exc}") from None
            sm_arg: str | np.ndarray | None = sm
            if sm is not None and sm.upper() not in ("CONSTANT", "TRATE", "INDELS", "INDELSLOG"):
                try:
                    sm_arg = read_cost_matrix(sm, seqs.alphabet)
                except OSError as exc:
                    raise ConfigurationError(
                        f"--sm {sm}: not CONSTANT, TRATE, INDELS or INDELSLOG, and not a "
                        f"readable cost-matrix file ({exc.strerror or exc})"
                    ) from None
            d = seqdist(
                seqs,
                method,
                sm=sm_arg,
                indel=_parse_indel(indel),
                norm=norm,
                with_missing=seqs.has_missing,
                expcost=expcost,
                tpow=tpow,
                step=step,
                dtype=np.float32 if float32 else np.float64,
                n_threads=threads,
                backend=backend,
                condensed=out.suffix.lower() == ".parquet",
            )
            _write_matrix(out, d, len(ids))
        except ValueError as exc:
            raise fail(str(exc)) from None
        console.print(
            f"{method}: {len(ids)} sequences x {len(tcols)} periods, "
            f"{len(seqs.alphabet)} states -> {out}"
        )


def _read_channels(paths: list[Path], id_col: str) -> tuple[list[str], list[Any]]:
    """Read channel files in the ``seqdist`` input format; the ids must agree in order."""
    from ozamonitor.sequences.define import seqdef

    if len(paths) < 2:
        raise ConfigurationError("give at least two --channel files")
    ids0: list[str] = []
    seqs: list[Any] = []
    for k, path in enumerate(paths):
        ids, _tcols, cells = _read_sequence_csv(path, id_col, "none")
        if k == 0:
            ids0 = ids
        elif ids != ids0:
            if len(ids) != len(ids0):
                raise InputError(f"{path}: {len(ids)} sequences, {paths[0]} has {len(ids0)}")
            i = next(i for i, (a, b) in enumerate(zip(ids, ids0, strict=True)) if a != b)
            raise InputError(f"{path}: row {i + 2} has id {ids[i]!r}, {paths[0]} has "
                             f"{ids0[i]!r} there (the channels need the same ids in the "
                             "same order)")
        try:
            seqs.append(seqdef(cells))
        except ValueError as exc:
            raise InputError(f"{path}: {exc}") from None
    return ids0, seqs


def register_mc(app: typer.Typer) -> None:
    """Add ``seqdistmc`` to app."""

    @app.command("seqdistmc")
    def seqdistmc_cmd(
        channel: list[Path] = typer.Option(
            ..., "--channel", "-c",
            help="A channel CSV in the seqdist input format (repeat; same ids, same order)."),
        out: Path = typer.Option(..., "--out", "-o", help="Output D.csv (N x N) or D.npy."),
        method: str = typer.Option("OM", help="OM|HAM|DHD|LCS."),
        sm: str = typer.Option(
            None, help="CONSTANT or TRATE, for all channels or one per channel (a,b); "
            "default CONSTANT (DHD: TRATE)."),
        indel: str = typer.Option("1", help="A number, 'auto', or one per channel (a,b)."),
        cweight: str = typer.Option(None, help="Channel weights, e.g. 1,1 (default 1 each)."),
        norm: str = typer.Option("none", help="none|auto|maxlength|gmean|maxdist|YujianBo."),
        link: str = typer.Option("sum", help="sum|mean: how channel costs combine."),
        id_col: str = typer.Option("id", "--id-col", help="Identifier column."),
    ) -> None:
        """Multichannel distances as TraMineR's seqdistmc (rows in input order)."""
        from ozamonitor.sequences.multichannel import seqdistmc

        check_outputs({"--out": out},
                      {f"--channel {i}": p for i, p in enumerate(channel, start=1)})
        try:
            if out.suffix.lower() not in (".csv", ".npy"):
                raise ConfigurationError(f"{out}: output must end in .csv or .npy")
            ids, seqs = _read_channels(channel, id_col)
            sms = [s.strip() for s in sm.split(",")] if sm else None
            ind = [x.strip() for x in indel.split(",")]
            ind_arg: Any = [x if x == "auto" else float(x) for x in ind]
            try:
                w = [float(x) for x in cweight.split(",")] if cweight else None
            except ValueError:
                raise ConfigurationError(f"--cweight must be numbers: {cweight!r}") from None
            d = seqdistmc(seqs, method, sm=sms[0] if sms and len(sms) == 1 else sms,
                          indel=ind_arg[0] if len(ind_arg) == 1 else ind_arg, cweight=w,
                          norm=norm, link=link)
            _write_matrix(out, d, len(ids))
        except ValueError as exc:
            raise fail(str(exc)) from None
        console.print(f"{method}: {len(ids)} persons x {len(channel)} channels -> {out}")
