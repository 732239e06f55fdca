"""CLI commands: ``trajectories`` (build, cluster and describe education-care trajectories)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ozamonitor.cli.common import check_outputs, console, err_console, fail, staged_progress

if TYPE_CHECKING:
    from ozamonitor.register.store import Register
    from ozamonitor.trajectories.analysis import TrajectoryResults


def _parse_ks(value: str) -> list[int]:
    """``"5"`` -> [5]; ``"2..8"`` -> [2, ..., 8]; ``"3,5,7"`` -> [3, 5, 7]."""
    try:
        if ".." in value:
            lo, hi = (int(x) for x in value.split("..", 1))
            ks = list(range(lo, hi + 1))
        else:
            ks = [int(x) for x in value.split(",") if x.strip()]
    except ValueError:
        raise fail(f"--k: expected e.g. 5, 2..8 or 3,5,7; got {value!r}") from None
    if ".." in value and hi < lo:
        raise fail(f"--k: the range {value!r} is empty (write the smaller number first, "
                   f"e.g. {hi}..{lo})")
    if not ks or min(ks) < 2:
        raise fail(f"--k: every number of clusters must be at least 2; got {value!r}")
    return ks


def _parse_window(value: str) -> tuple[int, int]:
    try:
        lo, hi = (int(x) for x in value.split("..", 1))
    except ValueError:
        raise fail(f"expected a range like -24..24, got {value!r}") from None
    if hi < lo:
        raise fail(f"empty range {value!r}")
    return lo, hi


def register(app: typer.Typer) -> None:
    """Add this group's commands to app."""

    @app.command("trajectories")
    def trajectories_cmd(
        register_path: Path = typer.Option(..., "--register", "-r", help="Register folder."),
        out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
        period: str = typer.Option("month", "--period",
                                   help="month, week, quarter or year (school year)."),
        align: str = typer.Option("calendar", "--align",
                                  help="calendar, age or event:oza (also event:exemption, "
                                  "event:lrv, event:special, event:waiting)."),
        start: str = typer.Option("2014-08", "--from", help="First month (YYYY-MM)."),
        end: str = typer.Option("2026-07", "--to", help="Last month (YYYY-MM)."),
        window: str = typer.Option("-24..24", "--window",
                                   help="Periods around the event for --align event:..."),
        ages: str = typer.Option("48..215", "--ages",
                                 help="Ages in periods for --align age (months: 48..215 = "
                                 "4 to 17 years)."),
        population: str = typer.Option(
            "active", "--population",
            help="active (ever in a compulsory-age state), oza (ever in an OZA) or all."),
        sample: int | None = typer.Option(
            None, "--sample",
            help="Analyse a random sample of N persons of the register (drawn before "
            "--population)."),
        seed: int = typer.Option(1, "--seed", help="Seed of the sample and of CLARA."),
        k: str = typer.Option("2..8", "--k", help="Number of clusters: 5, 2..8 or 3,5,7 "
                              "(a range picks k by the average silhouette width)."),
        method: str = typer.Option("OM", "--method", help="Distance: OM, OMspell, HAM, DHD, "
                                   "LCS, LCP, CHI2, ..."),
        sm: str = typer.Option("TRATE", "--sm", help="Substitution costs: TRATE or CONSTANT."),
        rule: str = typer.Option("majority", "--rule",
                                 help="majority (state on most days) or reference "
                                 "(state on the middle day)."),
        config: Path | None = typer.Option(None, "--states",
                                           help="TOML file with alphabet and precedence."),
        pam_max: int = typer.Option(3000, "--pam-max",
                                    help="Use PAM on the full distance matrix up to this "
                                    "many sequences, CLARA above."),
        no_cluster: bool = typer.Option(False, "--no-cluster", help="Only build and describe."),
        min_observed: float = typer.Option(
            0.0, "--min-observed",
            help="Keep sequences observed in at least this share of the aligned periods "
            "(e.g. 1.0 with --align age: complete sequences only)."),
        no_report: bool = typer.Option(False, "--no-report",
                                       help="Do not write OUT/report.html."),
        lang: str = typer.Option("nl", "--lang", help="Figure labels: nl or en."),
        formats: str = typer.Option("png,svg", "--formats", help="Figure formats."),
    ) -> None:
        """Build, cluster and describe education-care trajectories; write tables and figures.

        Writes the publishable OUT/tables/*.parquet|csv, OUT/figures/*.png|svg,
        OUT/results.json (for `ozamonitor report`) and OUT/report.html (the
        disclosure-controlled report section on its own); and, owner-only in
        OUT/microdata/ (MICRODATA: never publish), sequences.parquet (id + one
        column per period), analysis_sequences.parquet|csv, clusters.parquet and the
        *_MICRODATA tables and figures that show individual records.
        """
        # Long for its typer option declarations; the checks are in _check_options.
        from ozamonitor.register.store import Register, RegisterError
        from ozamonitor.trajectories.analysis import run_trajectory_analysis
        from ozamonitor.trajectories.states import DEFAULT_CONFIG, load_config

        _check_options(period=period, align=align, population=population, rule=rule,
                       lang=lang, min_observed=min_observed, sample=sample)
        fmts = tuple(f.strip() for f in formats.split(",") if f.strip())
        bad = [f for f in fmts if f not in ("png", "svg", "pdf")]
        if bad or not fmts:
            raise fail(f"--formats: use png, svg and/or pdf; got {formats!r}")
        ks = _parse_ks(k)
        check_outputs({"--out": out}, {"--register": register_path, "--states": config},
                      replaced=("--out",))
        try:
            reg = Register(register_path)
        except RegisterError as e:
            raise fail(str(e)) from None
        try:
            cfg = load_config(config) if config is not None else DEFAULT_CONFIG
        except ValueError as e:
            raise fail(str(e)) from None

        with staged_progress() as report:
            try:
                res = run_trajectory_analysis(
                    reg, out, period=period, alignment=align, start=start, end=end,
                    window=_parse_window(window), ages=_parse_window(ages),
                    population=population, sample=sample, seed=seed, ks=ks, method=method,
                    sm=sm, pam_max=pam_max, config=cfg, rule=rule, figure_formats=fmts,
                    lang=lang, cluster=not no_cluster, progress=report,
                    min_observed=min_observed,
                )
            except (ValueError, KeyError, FileNotFoundError) as e:
                raise fail(str(e)) from None
        p = res.params
        console.print(f"[bold]{p['n_analysed']:,}[/] sequences of {len(res.sequences.columns)} "
                      f"{p['period']} periods ({p['alignment']}) from {p['n_built']:,} "
                      f"children in population {p['population']!r}")
        if res.k:
            sizes = res.tables["cluster_sizes"]
            console.print(f"k = {res.k}: sizes " + ", ".join(
                f"{c}: {n}" for c, n in sizes.iter_rows()))
        for m in res.messages:
            console.print(f"  {m}")
        if not no_report:
            _write_report(reg, res, out, lang)
        console.print(f"wrote {len(res.files)} files to {out} "
                      f"(everything in {out / 'microdata'} is MICRODATA: do not publish)")


def _check_options(*, period: str, align: str, population: str, rule: str, lang: str,
                   min_observed: float, sample: int | None) -> None:
    """Refuse bad options before anything is read or written."""
    from ozamonitor.trajectories.analysis import POPULATIONS, validate_alignment
    from ozamonitor.trajectories.build import PERIODS

    if period not in PERIODS:
        raise fail(f"--period: unknown period {period!r}; use {', '.join(PERIODS)}")
    try:
        validate_alignment(align)
    except ValueError as e:
        raise fail(f"--align: {e}") from None
    if align == "age" and period != "month":
        err_console.print("[yellow]note:[/] --ages counts periods of the chosen --period")
    if population not in POPULATIONS:
        raise fail(f"--population: use {', '.join(POPULATIONS)}; got {population!r}")
    if rule not in ("majority", "reference"):
        raise fail(f"--rule: use majority or reference; got {rule!r}")
    if lang not in ("nl", "en"):
        raise fail(f"--lang: use nl or en; got {lang!r}")
    if not 0.0 <= min_observed <= 1.0:
        raise fail(f"--min-observed must lie between 0 and 1; got {min_observed}")
    if sample is not None and sample < 1:
        raise fail("--sample must be at least 1")


def _write_report(reg: Register, res: TrajectoryResults, out: Path, lang: str) -> None:
    """OUT/report.html: the disclosure-controlled report section on its own."""
    from ozamonitor.report.document import ReportDocument
    from ozamonitor.report.trajectories import trajectories_section

    doc = ReportDocument(title="ozamonitor: " + ("trajecten" if lang == "nl"
                                                  else "trajectories"), lang=lang)
    doc.add(trajectories_section(reg, res, lang))
    doc.write(out / "report.html")
    console.print(f"report section (disclosure-controlled): {out / 'report.html'}")
