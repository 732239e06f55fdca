"""CLI commands: the OZA impact pipeline (``ozamonitor impact``)."""

from __future__ import annotations

import warnings
from pathlib import Path

import typer

from ozamonitor.cli.common import (
    UNSAFE_THRESHOLD_HELP,
    check_outputs,
    check_threshold,
    console,
    fail,
    print_frame,
    staged_progress,
)


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""

    @app.command("impact")
    def impact(
        register_path: Path = typer.Option(..., "--register", "-r", help="Register folder."),
        out: Path = typer.Option(Path("impact-output"), "--out", help="Output folder."),
        by: str = typer.Option("target_group", help="Split: target_group, subgroup, primary, "
                               "deviation, financier, arrangement_type or none."),
        ratio: int = typer.Option(3, help="Controls per participant."),
        caliper: float = typer.Option(0.2, help="Caliper in SDs of the score (0 = none)."),
        exact: str = typer.Option("target_group,primary", help="Exact-matching variables."),
        max_e: int = typer.Option(23, help="Last month after the start in the overall effect."),
        lang: str = typer.Option("nl", help="Language of figures: nl or en."),
        threshold: int = typer.Option(10, help="Disclosure threshold."),
        unsafe_threshold: bool = typer.Option(False, "--unsafe-threshold",
                                              help=UNSAFE_THRESHOLD_HELP),
        control_pool: str = typer.Option("all", help="Comparison pool: all, regular or "
                                          "special education."),
        seed: int = typer.Option(0, help="Random seed."),
        outcome: str = typer.Option(
            "in_education", help="Monthly outcome: in_education, accessibility (enrolled as "
            "an education participant) or continuity (in stable education, 3 months)."),
    ) -> None:
        """Subgroups, matching and difference-in-differences for the OZA experiment."""
        check_threshold(threshold, unsafe_threshold)
        check_outputs({"--out": out}, {"--register": register_path})
        from ozamonitor.causal.outcomes import OUTCOMES

        if outcome not in OUTCOMES:
            raise fail(f"--outcome: unknown outcome {outcome!r}; use one of "
                       f"{', '.join(OUTCOMES)}")
        from ozamonitor.causal.impact import impact_analysis
        from ozamonitor.report.impact import write_impact_outputs

        with staged_progress() as say, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = impact_analysis(
                register_path,
                by=None if by == "none" else by,
                ratio=ratio,
                caliper=caliper or None,
                exact=[e for e in exact.split(",") if e],
                max_e=max_e,
                seed=seed,
                control_pool=control_pool,
                progress=say,
                outcome=outcome,
            )
        paths = write_impact_outputs(res, out, lang=lang, threshold=threshold)
        from ozamonitor.report.impact import published_summary

        print_frame(published_summary(res, threshold=threshold).drop("by"),
                    title=f"OZA effect on P({outcome}), by {by}")
        console.print(f"wrote {len(paths)} files to {out}")
