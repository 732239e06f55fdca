"""CLI commands: difference-in-differences."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import polars as pl
import typer

from ozamonitor.cli.common import check_outputs, console, err_console, fail, naming_file
from ozamonitor.files import atomic_write, formula_safe


def _aggregate_frame(aggs: dict) -> pd.DataFrame:
    """Rows of all aggregations: type, e, group, time, att, se, lower, upper."""
    frames = []
    for typ, agg in aggs.items():
        f = agg.to_frame()
        out = pd.DataFrame(
            {
                "type": typ,
                "e": f["e"] if "e" in f and typ == "dynamic" else float("nan"),
                "group": f["group"] if "group" in f else float("nan"),
                "time": f["time"] if "time" in f else float("nan"),
                "att": f["att"],
                "se": f["se"],
                "lower": f["lower"],
                "upper": f["upper"],
            }
        )
        frames.append(out)
    res = pd.concat(frames, ignore_index=True)
    for c in ("e", "group", "time"):
        v = res[c]
        if v.notna().any() and (v.dropna() == v.dropna().round()).all():
            res[c] = v.astype("Int64")
    return res


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""

    @app.command("did")
    def did_command(
        input: Path = typer.Option(..., "--input", help="Long panel CSV or Parquet."),
        unit: str = typer.Option(..., "--unit", help="Unit id column."),
        time: str = typer.Option(..., "--time", help="Period column (numeric)."),
        cohort: str = typer.Option(
            ..., "--cohort", help="First treated period; 0 or empty = never treated."
        ),
        outcome: str = typer.Option(..., "--outcome", help="Outcome column."),
        out: Path = typer.Option(..., "--out", help="ATT(g,t) CSV to write."),
        covariates: str = typer.Option("", "--covariates", help="Comma-separated covariates."),
        control: str = typer.Option("never", "--control", help="never | notyet"),
        method: str = typer.Option("dr", "--method", help="dr | ipw | reg"),
        base_period: str = typer.Option("varying", "--base-period", help="varying | universal"),
        anticipation: int = typer.Option(0, "--anticipation", min=0),
        bootstrap: bool = typer.Option(True, "--bootstrap/--no-bootstrap"),
        biters: int = typer.Option(999, "--biters", min=2),
        seed: int | None = typer.Option(None, "--seed"),
        alpha: float = typer.Option(0.05, "--alpha", min=1e-6, max=0.5),
        cband: bool = typer.Option(True, "--cband/--no-cband", help="Uniform bands."),
        weights: str | None = typer.Option(None, "--weights", help="Unit weights column."),
        cluster: str | None = typer.Option(None, "--cluster", help="Cluster column."),
        balance: str = typer.Option("drop", "--balance", help="drop | error (unbalanced)"),
        min_e: float = typer.Option(float("-inf"), "--min-e"),
        max_e: float = typer.Option(float("inf"), "--max-e"),
        balance_e: int | None = typer.Option(None, "--balance-e"),
        plot: Path | None = typer.Option(
            None, "--plot", help="Event-study plot (.png/.svg); default OUT_event_study.png."
        ),
    ) -> None:
        """Staggered DiD (Callaway & Sant'Anna, as R's did): ATT(g,t) and aggregations.

        Writes OUT (group, time, att, se), OUT_aggregate.csv (type, e, group, time, att,
        se, lower, upper) and an event-study plot.
        """
        from ozamonitor.causal.did import aggte_all, att_gt
        from ozamonitor.causal.did_plot import save_event_study_plot

        if not input.exists():
            raise fail(f"{input}: file not found")
        check_outputs({"--out": out,
                       "aggregate table": out.with_name(out.stem + "_aggregate.csv"),
                       "--plot": plot or out.with_name(out.stem + "_event_study.png")},
                      {"--input": input})
        try:
            if input.suffix.lower() == ".parquet":
                df = pl.read_parquet(input)
            else:
                df = pl.read_csv(input, infer_schema_length=100_000)
        except Exception as exc:
            raise fail(f"{input}: cannot read ({exc})") from exc
        covs = [c.strip() for c in covariates.split(",") if c.strip()]
        with warnings.catch_warnings(record=True) as caught, naming_file(input):
            warnings.simplefilter("always")
            res = att_gt(
                df,
                unit,
                time,
                cohort,
                outcome,
                covariates=covs,
                control_group=control,
                est_method=method,
                base_period=base_period,
                anticipation=anticipation,
                weights=weights,
                cluster=cluster,
                bootstrap=bootstrap,
                biters=biters,
                cband=cband,
                alpha=alpha,
                seed=seed,
                balance=balance,
            )
            na = bool(pd.isna(res.att).any())
            aggs = aggte_all(res, min_e=min_e, max_e=max_e, balance_e=balance_e, na_rm=na)
        for w in caught:
            err_console.print(f"[yellow]warning:[/] {w.message}", highlight=False)
        attgt = res.to_frame()[["group", "time", "att", "se"]]
        agg_path = out.with_name(out.stem + "_aggregate.csv")
        # both tables or neither: each is moved into place when the block ends
        with atomic_write(out) as tmp_attgt, atomic_write(agg_path) as tmp_agg:
            formula_safe(attgt).to_csv(tmp_attgt, index=False)
            formula_safe(_aggregate_frame(aggs)).to_csv(tmp_agg, index=False)
        plot_path = plot or out.with_name(out.stem + "_event_study.png")
        save_event_study_plot(aggs["dynamic"], plot_path)
        s = aggs["simple"]
        console.print(
            f"{len(attgt)} ATT(g,t) cells, {res.n} units -> {out}; aggregations -> {agg_path}; "
            f"plot -> {plot_path}"
        )
        console.print(f"overall ATT (simple) = {s.overall_att:.4f} (se {s.overall_se:.4f})")
        if res.wald_pvalue is not None:
            console.print(
                f"P-value for pre-test of parallel trends assumption: {res.wald_pvalue:.5f}"
            )
