"""CLI command: publish (the protected publication folder the public dashboard serves)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from ozamonitor.cli.common import UNSAFE_THRESHOLD_HELP, check_threshold, console, staged_progress


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""

    @app.command("publish")
    def publish(
        register_path: Path = typer.Option(..., "--register", "-r", help="Register folder."),
        out: Path = typer.Option(..., "--out", "-o", help="Publication folder to write."),
        first: str = typer.Option("2014-2015", "--from", help="First school year."),
        last: str = typer.Option("2025-2026", "--to", help="Last school year."),
        geometry: Path | None = typer.Option(
            None, "--geometry", help="GeoJSON with gemeente and SWV boundaries (features with "
            "properties region_id and kind gemeente/swv_po/swv_vo); default: the register's "
            "geometry.geojson or synthetic boundaries."),
        definitions: str = typer.Option("all", "--definitions", "-d",
                                        help="Definitions (comma-separated or all)."),
        threshold: int = typer.Option(10, help="Disclosure threshold."),
        unsafe_threshold: bool = typer.Option(False, "--unsafe-threshold",
                                              help=UNSAFE_THRESHOLD_HELP),
    ) -> None:
        """Compute every public table (thuiszitters per definition, stock and flow, per
        nation, SWV, gemeente, sector and school; the OZA monitor), protect them jointly
        and write the publication folder the dashboard serves."""
        check_threshold(threshold, unsafe_threshold)
        from ozamonitor.report.publication import publish as run

        t0 = time.perf_counter()
        with staged_progress() as say:
            path = run(register_path, out, first=first, last=last, threshold=threshold,
                       geometry=geometry, definitions=definitions, progress=say)
        console.print(f"[bold green]wrote[/] {path} in {time.perf_counter() - t0:.1f} s")
