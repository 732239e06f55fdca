"""CLI command ``audit-disclosure``: attack published tables as an outsider would."""

from __future__ import annotations

from pathlib import Path

import typer

from ozamonitor.cli.common import console, err_console, fail


def register(app: typer.Typer) -> None:
    """Add this group's commands to app."""

    @app.command("audit-disclosure")
    def audit_cmd(
        paths: list[Path] = typer.Argument(
            ..., help="Publication folder(s), or files inside one (manifest.json, tables/*.csv)."),
        width: int | None = typer.Option(
            None, "--width", help="Required interval width (default: the manifest's)."),
        out: Path | None = typer.Option(
            None, "--out", "-o", help="Also write every suppressed cell's interval (CSV)."),
        show: int = typer.Option(20, "--show", help="Print at most this many failing cells."),
        exact: bool = typer.Option(
            False, "--exact/--fast", help="Exact bounds for every cell (--exact), or stop "
            "solving for a cell once it is shown to be wide enough (--fast, default: the "
            "verdict is the same, the bounds of such cells are then a part of the interval)."),
    ) -> None:
        """Attacker intervals of every suppressed cell; exit 1 if one is too narrow.

        Reads only what is published (tables, manifest, relations.csv): for each
        suppressed cell the attacker's interval from the published values, the
        relations between cells, non-negativity and integrality. A cell fails when
        the attacker cannot show it is at least the threshold and its interval is
        narrower than the protection width.
        """
        import polars as pl

        from ozamonitor.privacy.folder import FolderError, audit_folder

        folders = list(dict.fromkeys(_folder_of(p) for p in paths))
        failed = 0
        frames = []
        for folder in folders:
            try:
                res = audit_folder(folder, width=width, exact=exact)
            except FolderError as e:
                raise fail(str(e)) from None
            bad = res.filter(~pl.col("ok"))
            failed += bad.height
            console.print(f"{folder}: {res.height} suppressed cell(s), {bad.height} too narrow")
            for r in bad.head(show).iter_rows(named=True):
                err_console.print(f"  {r['table']} row {r['row']} ({r['key']}): "
                                  f"[{r['lower']:g}, {r['upper']:g}]", highlight=False)
            frames.append(res.with_columns(folder=pl.lit(str(folder))))
        if out is not None and frames:
            from ozamonitor.files import atomic_write, formula_safe

            with atomic_write(out) as tmp:
                formula_safe(pl.concat(frames)).write_csv(tmp)
        if failed:
            raise typer.Exit(1)


def _folder_of(path: Path) -> Path:
    """The publication folder a path belongs to (itself, or a parent with manifest.json)."""
    for p in [path, *path.parents]:
        if p.is_dir() and (p / "manifest.json").exists():
            return p
    raise fail(f"{path}: not in a publication folder (no manifest.json found)")
