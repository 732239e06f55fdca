"""CLI commands: who pays (funding advice, the rule table, a summary across arrangements)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ozamonitor.cli.common import check_outputs, console, err_console, fail

_FORMATS = ("table", "json")
_LANGS = ("en", "nl")


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise fail(f"{option}: {value!r} is not one of {', '.join(allowed)}", code=2)
    return value


def _input_error(e: Exception) -> typer.Exit:
    """Print every problem of an input error (file, line, field), one per line; exit 1 (2)."""
    from rich.markup import escape

    from ozamonitor.funding import FundingInputError

    lines = e.report().splitlines() if isinstance(e, FundingInputError) else [str(e)]
    for line in lines:
        err_console.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
    return typer.Exit(getattr(e, "exit_code", 1))


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    from ozamonitor.files import atomic_write_text

    atomic_write_text(out, text if text.endswith("\n") else text + "\n")
    err_console.print(f"wrote {out}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""

    @app.command("funding")
    def funding_command(
        case: Path = typer.Argument(..., help="CASE.yaml: child, setting and components."),
        matrix: Path | None = typer.Option(
            None, "--matrix", help="A region's own matrix (REGION.yaml) on top of the "
            "national default."),
        fmt: str = typer.Option("table", "--format", help="table | json"),
        lang: str = typer.Option("en", "--lang", help="Language of the explanations: en | nl"),
        out: Path | None = typer.Option(None, "--out", help="Write the output to this file."),
    ) -> None:
        """Who pays for each component of a case: payers, laws, the rule and the facts used.

        Exit status 0 with an answer (gaps included), 1 for a bad case or matrix
        (every problem with its file, line and field), 2 for bad options.
        """
        from ozamonitor.errors import OzamonitorError
        from ozamonitor.funding import Case, RegionMatrix, advise
        from ozamonitor.funding.output import advice_rows

        _choice(fmt, _FORMATS, "--format")
        _choice(lang, _LANGS, "--lang")
        check_outputs({"--out": out}, {"CASE": case, "--matrix": matrix})
        try:
            region = RegionMatrix.load(matrix) if matrix is not None else None
            advice = advise(Case.from_yaml(case), region)
        except OzamonitorError as e:
            raise _input_error(e) from None
        if fmt == "json":
            _emit(json.dumps(advice.to_json(lang), indent=2, ensure_ascii=False), out)
            return
        from rich.markup import escape
        from rich.table import Table

        title = {"en": "Who pays", "nl": "Wie betaalt"}[lang]
        if region is not None:
            title += f" — {region.title(lang)}"
        table = Table(title=escape(title), header_style="bold")
        for col in ("id", "kind", "payers", "laws", "rule", "gap"):
            table.add_column(col, overflow="fold")
        rows = advice_rows(advice, lang)
        for row in rows:
            table.add_row(*(escape(row[c]) for c in ("id", "kind", "payers", "laws", "rule",
                                                      "gap")),
                          style="red" if row["gap"] else None)
        if out is not None:
            import io

            from rich.console import Console

            target = Console(record=True, width=120, file=io.StringIO())
        else:
            target = console
        target.print(table)
        for row in rows:
            target.print(f"[bold]{escape(row['id'])}[/]: {escape(row['explanation'])}",
                         highlight=False)
        if out is not None:
            _emit(target.export_text(), out)
        gaps = len(advice.gaps)
        err_console.print(
            f"{len(advice)} components, {gaps} gap{'s' if gaps != 1 else ''} "
            f"(no party obliged to pay)" if lang == "en" else
            f"{len(advice)} onderdelen, {gaps} zonder verplichte betaler", highlight=False)

    @app.command("funding-rules")
    def funding_rules_command(
        matrix: Path | None = typer.Option(
            None, "--matrix", help="Also list this region matrix's entries."),
        fmt: str = typer.Option("table", "--format", help="table | markdown | json"),
        lang: str = typer.Option("en", "--lang", help="en | nl"),
    ) -> None:
        """The national rules in order of precedence (and a region matrix's entries)."""
        from ozamonitor.errors import OzamonitorError
        from ozamonitor.funding import RegionMatrix
        from ozamonitor.funding.output import rule_rows, rules_markdown
        from ozamonitor.funding.rules import national_rules

        _choice(fmt, ("table", "markdown", "json"), "--format")
        _choice(lang, _LANGS, "--lang")
        rules = national_rules()
        try:
            region = RegionMatrix.load(matrix) if matrix is not None else None
        except OzamonitorError as e:
            raise _input_error(e) from None
        region_rows = []
        if region is not None:
            for e in region.entries.values():
                for i, c in enumerate(e.cases, 1):
                    region_rows.append({
                        "id": f"{e.category}/{e.activity}" + (f"#{i}" if len(e.cases) > 1 else ""),
                        "when": c.condition.describe(), "payers": ", ".join(c.payers),
                        "laws": ", ".join(c.laws) or "-"})
        if fmt == "json":
            typer.echo(json.dumps({"rule_set": f"{rules.id} {rules.version}",
                                   "rules": rule_rows(rules, lang),
                                   "region": region_rows}, indent=2, ensure_ascii=False))
            return
        if fmt == "markdown":
            typer.echo(rules_markdown(rules, lang), nl=False)
            return
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=escape(f"{rules.name(lang)} ({rules.version})"), header_style="bold")
        for col in ("#", "rule", "kinds", "when", "payers", "laws"):
            table.add_column(col, overflow="fold")
        for i, row in enumerate(rule_rows(rules, lang), 1):
            table.add_row(str(i), *(escape(row[c]) for c in ("id", "kinds", "when", "payers",
                                                             "laws")),
                          style="red" if row["payers"] == "none" else None)
        console.print(table)
        if region_rows and region is not None:
            rt = Table(title=escape(region.title(lang)), header_style="bold")
            for col in ("activity", "when", "payers", "laws"):
                rt.add_column(col, overflow="fold")
            for row in region_rows:
                rt.add_row(*(escape(row[c]) for c in ("id", "when", "payers", "laws")))
            console.print(rt)

    @app.command("funding-summary")
    def funding_summary_command(
        maps: list[Path] = typer.Argument(
            ..., help="Saved funding maps (the JSON of `ozamonitor funding --format json`); "
            "the file name is the arrangement."),
        fmt: str = typer.Option("table", "--format", help="table | json"),
    ) -> None:
        """Across arrangements: components by kind and payer, and where the gaps fall."""
        from ozamonitor.errors import OzamonitorError
        from ozamonitor.funding import summarise
        from ozamonitor.funding.problems import FundingInputError, Problem

        _choice(fmt, _FORMATS, "--format")
        loaded = {}
        try:
            for path in maps:
                if path.stem in loaded:
                    raise FundingInputError(
                        [Problem("", f"another map is also named {path.stem!r}")], file=path)
                try:
                    loaded[path.stem] = json.loads(path.read_text(encoding="utf-8"))
                except OSError as e:
                    raise FundingInputError([Problem("", f"cannot read: {e.strerror}")],
                                            file=path) from None
                except json.JSONDecodeError as e:
                    raise FundingInputError([Problem("", f"not JSON: {e.msg}", e.lineno)],
                                            file=path) from None
            summary = summarise(loaded)
        except OzamonitorError as e:
            raise _input_error(e) from None
        if fmt == "json":
            typer.echo(json.dumps({
                "arrangements": summary.arrangements,
                "by_kind": summary.by_kind.to_dicts(),
                "by_kind_payer": summary.by_kind_payer.to_dicts(),
                "gaps": summary.gaps.to_dicts()}, indent=2, ensure_ascii=False))
            return
        from ozamonitor.cli.common import print_frame

        print_frame(summary.by_kind, title=f"{summary.arrangements} arrangements: by kind")
        print_frame(summary.by_kind_payer, title="by kind and payer")
