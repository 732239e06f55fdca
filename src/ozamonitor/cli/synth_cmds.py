"""CLI commands: synth (generate a synthetic national register)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from ozamonitor.cli.common import console, fail, parse_date, progress

_STAGES = {"regions": "Regions and schools", "persons": "Persons",
           "simulate": "Careers, absence, attendance, OZA (months)",
           "tables": "Spells and tables"}


def register(app: typer.Typer) -> None:
    """Add this group's commands to app."""

    @app.command("synth")
    def synth(
        out: Path = typer.Option(..., "--out", "-o", help="Register folder to write."),
        scale: float = typer.Option(
            0.01, "--scale", "-s", help="Fraction of the Dutch population (1 = national)."),
        seed: int = typer.Option(1, "--seed", help="Random seed (same seed = same bytes)."),
        extraction_date: str = typer.Option(
            "2026-07-31", "--extraction-date", help="Extraction date (YYYY-MM-DD)."),
        params_file: Path | None = typer.Option(
            None, "--params", help="JSON file with SynthParams overrides (calibration)."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    ) -> None:
        """Generate a synthetic national register (all tables, school years 2014-2015 to
        2025-2026) with planted OZA effects recorded in the manifest."""
        from ozamonitor.synth import SynthParams, generate

        ed = parse_date(extraction_date, "--extraction-date")
        params = None
        if params_file is not None:
            try:
                params = SynthParams.from_dict(json.loads(params_file.read_text()))
            except (OSError, json.JSONDecodeError, TypeError) as e:  # not ours: name the file
                raise fail(f"{params_file}: cannot read SynthParams overrides: {e}") from None
        t0 = time.perf_counter()
        with progress(disable=quiet) as bar:
            tasks: dict[str, int] = {}

            def report(stage: str, done: float, total: float) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total)
                bar.update(tasks[stage], completed=done, total=total)

            path = generate(out, scale=scale, seed=seed, extraction_date=ed, params=params,
                            progress=report)
        from ozamonitor.register.store import Register
        from ozamonitor.synth.evaluate import ground_truth

        reg = Register(path)
        rows = {n: t["rows"] for n, t in reg.manifest["tables"].items()}
        gt = ground_truth(reg) or {}
        console.print(f"[bold green]wrote[/] {path} in {time.perf_counter() - t0:.1f} s "
                      f"(scale {scale}, seed {seed}, extraction {ed})")
        console.print("  " + ", ".join(f"{n} {r:,}" for n, r in rows.items()))
        if gt:
            w = gt.get("overall", {}).get("windows", {}).get("0_23", {})
            console.print(f"  OZA participants {gt.get('n_participants')}, true ATT on "
                          f"in_education (event months 0-23) {w.get('att')}")
        intensity = reg.manifest.get("synth", {}).get("oza", {}).get("selection_intensity", 1)
        if intensity > 2:
            console.print(f"  [yellow]note:[/] the floor of OZA participants selects "
                          f"{intensity:.0f} times the national monthly rate at this scale; "
                          "impact estimates on this register are biased (use --scale 0.1 or "
                          "more for impact work, docs/impact.md)")

    @app.command("geometry")
    def geometry(
        register_path: Path = typer.Option(..., "--register", "-r", help="Register folder."),
        out: Path = typer.Option(..., "--out", "-o", help="GeoJSON file to write."),
        seed: int | None = typer.Option(
            None, "--seed", help="Seed of the points (default: the register's synth seed, "
            "so the file equals the one `synth` wrote)."),
    ) -> None:
        """Write synthetic gemeente and SWV boundaries (GeoJSON) for a register's regions."""
        from ozamonitor.files import atomic_write_text
        from ozamonitor.register.store import Register
        from ozamonitor.synth.boundaries import geometry_geojson

        reg = Register.open(register_path)
        s = seed if seed is not None else int(reg.manifest.get("synth", {}).get("seed", 0))
        text = geometry_geojson(reg.read("regions"), reg.read("gemeente_regions"), s)
        atomic_write_text(out, text)
        console.print(f"[bold green]wrote[/] {out} (seed {s})")
