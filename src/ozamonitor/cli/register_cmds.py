"""CLI commands of the register: import, validate, info, export-template."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table as RichTable

from ozamonitor.cli.common import console, err_console, fail, parse_date
from ozamonitor.register.problems import CHECKS, ValidationReport


def _one_register(arg: Path | None, opt: Path | None) -> Path:
    """The register folder, given as argument or as ``-r`` (the other commands' style)."""
    if arg is not None and opt is not None and arg != opt:
        raise fail(f"two registers given: {arg} and -r {opt}", code=2)
    path = arg if arg is not None else opt
    if path is None:
        raise fail("no register given: pass its folder (or -r FOLDER)", code=2)
    return path


def _print_problems(report: ValidationReport, max_errors: int, title: str) -> None:
    """Problem lines (at most ``max_errors``) on stderr, then counts per check."""
    for p in report[:max_errors]:
        err_console.print(str(p), highlight=False, markup=False, soft_wrap=True)
    if report.total > max_errors:
        err_console.print(f"... {report.total - max_errors} more problem(s) not shown "
                          "(--max-errors)", highlight=False)
    t = RichTable(title=title)
    t.add_column("check")
    t.add_column("problems", justify="right")
    order = {c: i for i, c in enumerate(CHECKS)}
    for check, n in sorted(report.counts.items(), key=lambda kv: order.get(kv[0], 99)):
        t.add_row(check, f"{n:,}")
    t.add_row("[bold]total[/]", f"[bold]{report.total:,}[/]")
    err_console.print(t)


def import_cmd(
    source: Path = typer.Argument(..., help="Folder of table files, or one file (with --table)."),
    out: Path = typer.Option(..., "--out", "-o", help="Register folder to write."),
    mapping: Path | None = typer.Option(
        None, "--mapping", "-m", help="Mapping file (.yaml, .toml or .json)."),
    key_file: Path | None = typer.Option(
        None, "--key-file", help="File holding the pseudonymisation key "
        "(else $OZAMONITOR_PSEUDONYM_KEY)."),
    extraction_date: str | None = typer.Option(
        None, "--extraction-date", help="Date the data were extracted, YYYY-MM-DD "
        "(default: today)."),
    table: str | None = typer.Option(None, "--table", "-t",
                                     help="Table held by a single SOURCE file."),
    max_errors: int = typer.Option(50, "--max-errors", help="Print at most N problems."),
    force: bool = typer.Option(False, "--force", help="Replace an existing register at --out."),
) -> None:
    """Import CSV, Parquet or Excel files into a register (all or nothing).

    BSNs are checked (eleven-test) and replaced by keyed pseudonyms; everything
    is validated before anything is written.
    """
    from ozamonitor.files import check_outputs
    from ozamonitor.register.importer import ImportValidationError, import_tables, write_import

    ext = parse_date(extraction_date, "--extraction-date")
    # the register replaces --out as a whole: it may not hold the delivery, mapping or key
    check_outputs({"--out": out}, inputs={"SOURCE": source, "--mapping": mapping,
                                          "--key-file": key_file}, replaced=("--out",))
    if out.exists() and not force:
        raise fail(f"{out} exists; pass --force to replace it", code=2)
    t0 = time.perf_counter()
    try:
        res = import_tables(source, mapping=mapping, key_file=key_file, extraction_date=ext,
                            table=table, max_problems=max_errors)
        write_import(res, out)
    except ImportValidationError as e:  # the problem list and the target, not only a line
        _print_problems(e.report, max_errors, "problems per check")
        raise fail(f"{e}; nothing written to {out}") from None
    for file, cols in res.dropped_columns.items():
        err_console.print(f"[yellow]note:[/] {file}: column(s) not in the schema were not "
                          f"imported: {', '.join(cols)}", highlight=False, soft_wrap=True)
    rows = sum(df.height for df in res.tables.values())
    console.print(f"imported {rows:,} rows from {len(res.tables)} table(s) into {out} "
                  f"in {time.perf_counter() - t0:.1f} s", highlight=False, soft_wrap=True)


def validate_cmd(
    register_arg: Path | None = typer.Argument(None, metavar="REGISTER",
                                               help="Register folder (or -r)."),
    register_opt: Path | None = typer.Option(None, "--register", "-r",
                                             help="Register folder, as in the other commands."),
    max_errors: int = typer.Option(50, "--max-errors", help="Print at most N problems."),
) -> None:
    """Validate a register: schema, codes, keys, dates, ages, references, overlaps.

    Prints file:row:field: message per problem (row = 1-based row of the
    Parquet file) and a count per check; exits with status 1 on problems.
    """
    from ozamonitor.register.store import Register
    from ozamonitor.register.validate import validate_register

    register_path = _one_register(register_arg, register_opt)
    reg = Register(register_path)
    t0 = time.perf_counter()
    report = validate_register(reg, max_problems=max_errors)
    secs = time.perf_counter() - t0
    if report.ok:
        console.print(f"{register_path}: valid ({sum(reg.rows(n) for n in _tables()):,} rows, "
                      f"{secs:.1f} s)", highlight=False, soft_wrap=True)
        return
    _print_problems(report, max_errors, f"{register_path}: problems per check")
    raise fail(f"{register_path}: {report.total:,} problem(s)")


def _tables() -> list[str]:
    from ozamonitor.register.schema import TABLES

    return list(TABLES)


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def info_cmd(
    register_arg: Path | None = typer.Argument(None, metavar="REGISTER",
                                               help="Register folder (or -r)."),
    register_opt: Path | None = typer.Option(None, "--register", "-r",
                                             help="Register folder, as in the other commands."),
) -> None:
    """Show a register's tables, date ranges and pupils per sector on 1 October."""
    from ozamonitor.register.info import register_info
    from ozamonitor.register.schema import label

    register_path = _one_register(register_arg, register_opt)
    info = register_info(register_path)
    facts = RichTable(title=f"register {info.path}", show_header=False)
    facts.add_column("fact")
    facts.add_column("value")
    facts.add_row("extraction date", info.extraction_date.isoformat())
    facts.add_row("schema version", _fmt(info.schema_version))
    for k, v in info.facts.items():
        facts.add_row(k, _fmt(v))
    console.print(facts)

    sizes = RichTable(title="tables")
    for c, j in (("table", "left"), ("rows", "right"), ("MiB", "right")):
        sizes.add_column(c, justify=j)  # type: ignore[arg-type]
    for name, rows, size in info.sizes.iter_rows():
        sizes.add_row(name, _fmt(rows), f"{size / 2**20:.2f}")
    console.print(sizes)

    dates = RichTable(title="date ranges")
    for c in ("table", "column", "min", "max", "empty"):
        dates.add_column(c, justify="right" if c == "empty" else "left")
    for name, col, lo, hi, nulls in info.date_ranges.iter_rows():
        dates.add_row(name, col, _fmt(lo), _fmt(hi), _fmt(nulls))
    console.print(dates)

    wide = info.enrolled_wide()
    pupils = RichTable(title="pupils enrolled on 1 October, by sector")
    pupils.add_column("school year", no_wrap=True)
    for s in wide.columns[1:]:
        pupils.add_column(s, justify="right")
    for row in wide.iter_rows():
        pupils.add_row(row[0], *(_fmt(v) for v in row[1:]))
    console.print(pupils)
    console.print("[dim]" + "; ".join(f"{s} = {label(s)}" for s in wide.columns[1:-1]) + "[/]")


def export_template_cmd(
    outdir: Path = typer.Argument(..., help="Folder to write the template files into."),
    fmt: str = typer.Option("csv", "--format", "-f", help="csv, xlsx or parquet."),
    example: bool = typer.Option(False, "--example",
                                 help="Fill the files with a tiny hand-made example register."),
    force: bool = typer.Option(False, "--force", help="Overwrite template files already there."),
) -> None:
    """Write empty source files (one per table, bsn instead of person_id) and a mapping example."""
    from ozamonitor.register.template import TemplateExistsError, export_template

    if fmt not in ("csv", "xlsx", "parquet"):
        raise fail(f"--format: {fmt!r}; use csv, xlsx or parquet", code=2)
    try:
        paths = export_template(outdir, fmt, example=example,  # type: ignore[arg-type]
                                force=force)
    except TemplateExistsError as e:  # adds the command's option to the message
        raise fail(f"{e} (use --force)") from None
    console.print(f"wrote {len(paths)} files to {outdir}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add this group's commands to app."""
    app.command("import")(import_cmd)
    app.command("validate")(validate_cmd)
    app.command("info")(info_cmd)
    app.command("export-template")(export_template_cmd)
