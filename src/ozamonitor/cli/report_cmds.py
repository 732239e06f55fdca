"""CLI commands: ``ozamonitor report`` (the HTML report) and ``ozamonitor demo``."""

from __future__ import annotations

import datetime as dt
import tempfile
import time
import warnings
from pathlib import Path

import typer

from ozamonitor.cli.common import (
    check_outputs,
    console,
    fail,
    parse_date,
    print_frame,
    progress,
    staged_progress,
)

SECTIONS = ("counting", "attendance", "trajectories", "impact")


def build_report(
    register_path: Path,
    out: Path,
    *,
    lang: str = "nl",
    sections: tuple[str, ...] = SECTIONS,
    peildatum: dt.date | None = None,
    schoolyear: str | None = None,
    trajectories_dir: Path | None = None,
    trajectory_sample: int = 3000,
    threshold: int = 10,
    seed: int = 1,
    geometry: Path | None = None,
) -> Path:
    """Assemble the HTML report from the chosen sections and write it atomically.

    The regional counts go into a CSV beside the report (``<out stem>-regions.csv``).
    """
    from ozamonitor.register.calendar import (
        school_year_bounds,
        school_year_label,
        school_year_of,
    )
    from ozamonitor.register.store import Register
    from ozamonitor.report.document import ReportDocument, tr

    reg = Register(register_path)
    x = reg.extraction_date
    if peildatum is None:
        year = school_year_of(x) - (0 if x.month >= 10 else 1)
        peildatum = dt.date(year, 10, 1)
    schoolyear = schoolyear or school_year_label(school_year_of(peildatum) - 1)
    doc = ReportDocument(
        title=tr(
            lang,
            "ozamonitor: thuiszitters, trajecten en effecten van OZA",
            "ozamonitor: children out of school, trajectories and OZA effects",
        ),
        subtitle=tr(
            lang,
            f"Register {reg.path.name}, extractiedatum {x.isoformat()}",
            f"Register {reg.path.name}, extraction date {x.isoformat()}",
        ),
        lang=lang,
    )
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown report section(s) {sorted(unknown)}; choose from {SECTIONS}")
    with progress() as bar:
        task = bar.add_task("report", total=len(sections))
        if "counting" in sections:
            from ozamonitor.report.counting import counting_section

            doc.add(
                counting_section(
                    reg, peildatum=peildatum, schoolyear=schoolyear, lang=lang,
                    threshold=threshold, geometry=geometry,
                    csv_name=f"{Path(out).stem}-regions.csv",
                )
            )
            bar.advance(task)
        if "attendance" in sections:
            from ozamonitor.report.attendance import attendance_section

            # the school year of the flow counts, up to its end or the extraction date
            doc.add(attendance_section(reg, asof=min(school_year_bounds(schoolyear)[1], x),
                                       lang=lang, threshold=threshold, geometry=geometry))
            bar.advance(task)
        if "trajectories" in sections:
            from ozamonitor.report.trajectories import trajectories_section
            from ozamonitor.trajectories.analysis import MICRODATA_DIR, run_trajectory_analysis

            # The trajectory pipeline writes person-level files (microdata): without a
            # --trajectories-dir they stay in a temporary folder, never beside the report.
            with tempfile.TemporaryDirectory(prefix="ozamonitor-traj-") as tmp:
                tdir = trajectories_dir or Path(tmp)
                if not (tdir / MICRODATA_DIR / "sequences.parquet").exists():
                    run_trajectory_analysis(
                        reg,
                        tdir,
                        sample=trajectory_sample,
                        seed=seed,
                        lang=lang,
                        ks=(2, 3, 4, 5, 6),
                    )
                doc.add(trajectories_section(reg, tdir, lang, threshold=threshold))
            bar.advance(task)
        if "impact" in sections:
            from ozamonitor.causal.impact import ImpactError, impact_analysis
            from ozamonitor.report.impact import impact_section

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = impact_analysis(reg, seed=seed)
                doc.add(impact_section(res, lang=lang, threshold=threshold))
            except ImpactError as e:
                console.print(f"[yellow]impact section skipped:[/] {e}")
            bar.advance(task)
    return doc.write(out)


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""

    @app.command("report")
    def report(
        register_path: Path = typer.Option(..., "--register", "-r", help="Register folder."),
        out: Path = typer.Option(Path("ozamonitor-report.html"), "--out", help="HTML file."),
        lang: str = typer.Option("nl", help="Language: nl (default) or en."),
        sections: str = typer.Option(",".join(SECTIONS), help="Sections to include."),
        peildatum: str | None = typer.Option(
            None, help="Reference date (default: the last 1 October in the register)."
        ),
        schoolyear: str | None = typer.Option(None, help="School year of the flow counts."),
        trajectories_dir: Path | None = typer.Option(
            None, help="Output folder of `ozamonitor trajectories` to reuse."
        ),
        threshold: int = typer.Option(10, help="Disclosure threshold."),
        seed: int = typer.Option(1, help="Random seed (samples, matching)."),
        geometry: Path | None = typer.Option(
            None, "--geometry", help="GeoJSON with gemeente and SWV boundaries for the maps "
            "(features with properties region_id and kind); default: the register's "
            "geometry.geojson or synthetic boundaries."),
    ) -> None:
        """Write the self-contained HTML report (counts, absence, trajectories, impact)."""
        from ozamonitor.errors import ConfigurationError
        from ozamonitor.privacy.disclosure import DEFAULT_THRESHOLD
        from ozamonitor.register.store import RegisterError

        if threshold < DEFAULT_THRESHOLD:
            raise fail(f"--threshold {threshold}: a report is a published output; cells below "
                       f"{DEFAULT_THRESHOLD} persons are always suppressed")
        check_outputs({"--out": out}, {"--register": register_path,
                                       "--trajectories-dir": trajectories_dir,
                                       "--geometry": geometry})
        try:
            path = build_report(
                register_path,
                out,
                lang=lang,
                sections=tuple(s.strip() for s in sections.split(",") if s.strip()),
                peildatum=parse_date(peildatum, "--peildatum"),
                schoolyear=schoolyear,
                trajectories_dir=trajectories_dir,
                threshold=threshold,
                seed=seed,
                geometry=geometry,
            )
        except (RegisterError, ConfigurationError, ValueError) as e:
            raise fail(str(e)) from None
        console.print(f"report written to [bold]{path}[/]")

    @app.command("demo")
    def demo(
        out: Path = typer.Option(Path("demo-output"), "--out", help="Output folder."),
        scale: float = typer.Option(0.01, help="Population scale (1 = the whole country)."),
        seed: int = typer.Option(1, help="Random seed."),
        lang: str = typer.Option("nl", help="Report language: nl or en."),
    ) -> None:
        """Generate a small synthetic population, validate it, summarise it, write a report."""
        import subprocess
        import sys

        from ozamonitor.cli.register_cmds import info_cmd
        from ozamonitor.counting.calibration import calibration_table
        from ozamonitor.register.validate import validate_register
        from ozamonitor.synth import generate

        out.mkdir(parents=True, exist_ok=True)
        reg_path = out / "register"
        t0 = time.perf_counter()
        # compile (or load) the sequence kernels the report needs
        # (OM as the trajectory step uses, PAM, CLARA) while the register is generated
        warm = subprocess.Popen([sys.executable, "-m", "ozamonitor.sequences.precompile",
                                 "--quiet", "--methods", "OM"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        console.rule("1. synthetic national population")
        with staged_progress() as say:
            generate(reg_path, scale=scale, seed=seed, progress=say)
        console.rule("2. validation")
        problems = validate_register(reg_path)
        if problems:
            for p in list(problems)[:20]:
                console.print(str(p))
            raise fail(f"{len(problems)} validation problems in the synthetic register")
        console.print("[green]no problems found[/]")
        from ozamonitor.cli.web_cmds import finish_demo_app, start_demo_app

        web_demo = start_demo_app(out / "app", reg_path)
        console.rule("3. summary")
        info_cmd(reg_path, None)
        console.rule("4. thuiszitters: published figures vs this register (scaled)")
        print_frame(
            calibration_table(reg_path).select(
                "definition", "school_year", "published", "expected", "observed", "ratio"
            )
        )
        console.rule("5. report")
        warm.wait()
        report_path = build_report(
            reg_path,
            out / "report.html",
            lang=lang,
            trajectories_dir=out / "trajectories",
            seed=seed,
        )
        serve_cmd = finish_demo_app(web_demo, out / "app")
        console.print(
            f"[bold green]done[/] in {time.perf_counter() - t0:.0f} s: "
            f"register in {reg_path}, report in {report_path}, web demo in {out / 'app'} "
            f"(accounts in {out / 'app' / 'demo-accounts.csv'})"
        )
        console.print(f"serve the web demo with: [bold]{serve_cmd}[/]")
