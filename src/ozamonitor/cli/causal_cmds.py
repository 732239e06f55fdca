"""CLI commands: causal (propensity-score matching and balance)."""

from __future__ import annotations

import warnings
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import typer

from ozamonitor.cli.common import check_outputs, console, err_console, fail, naming_file
from ozamonitor.files import atomic_write, formula_safe


def _read_table(path: Path, id_col: str):
    """Read CSV, Parquet or xlsx into a pandas DataFrame (clear error on failure).

    In a CSV the id column is read as text, so ids such as ``007`` come back unchanged.
    """
    import polars as pl

    if not path.exists():
        raise fail(f"input file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pl.read_csv(
                path, infer_schema_length=100_000, schema_overrides={id_col: pl.Utf8}
            )
        elif suffix in (".parquet", ".pq"):
            frame = pl.read_parquet(path)
        elif suffix in (".xlsx", ".xls"):
            frame = pl.read_excel(path)
        else:
            raise fail(
                f"{path.name}: unsupported input type {suffix!r} (use .csv, .parquet, .xlsx)"
            )
    except typer.Exit:
        raise
    except Exception as exc:  # polars raises many error types on bad files
        raise fail(f"{path.name}: could not read the file: {exc}") from exc
    return frame.to_pandas()


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


def _write_csvs(frames: list[tuple[Any, Path]]) -> None:
    """Write each (pandas DataFrame, path); all files appear only when all are written."""
    with ExitStack() as stack:
        for frame, path in frames:
            formula_safe(frame).to_csv(stack.enter_context(atomic_write(path)), index=False)


def register(app: typer.Typer) -> None:
    """Add this group's commands to app."""

    @app.command("match")
    def match_cmd(
        input: Path = typer.Option(..., "--input", help="Units: CSV, Parquet or xlsx."),
        id_col: str = typer.Option(..., "--id", help="Unit identifier column."),
        treatment: str = typer.Option(..., "--treatment", help="0/1 treatment column."),
        covariates: str = typer.Option(..., "--covariates", help="Comma-separated covariates."),
        exact: str = typer.Option(None, "--exact", help="Comma-separated exact-match columns."),
        ratio: int = typer.Option(1, "--ratio", min=1, help="Controls per treated unit."),
        caliper: float = typer.Option(None, "--caliper", help="Caliper in SDs of the distance."),
        replace: bool = typer.Option(False, "--replace", help="Match with replacement."),
        distance: str = typer.Option(
            "glm", "--distance", help="glm | linear.logit | gbm | mahalanobis."
        ),
        mahvars: str = typer.Option(
            None, "--mahvars", help="Mahalanobis matching on these columns within a PS caliper."
        ),
        order: str = typer.Option(
            None, "--order", help="largest | smallest | data | random (MatchIt's m.order)."
        ),
        seed: int = typer.Option(
            None, "--seed", help="R set.seed() value for --order random (as MatchIt); seeds gbm."
        ),
        out: Path = typer.Option(..., "--out", help="Pairs CSV (balance goes to *_balance.csv)."),
        love_plot: Path = typer.Option(None, "--love-plot", help="Love plot (.png or .svg)."),
    ) -> None:
        """Propensity-score nearest-neighbour matching (MatchIt 4.5 rules) with balance table."""
        from ozamonitor.causal.balance import balance_from_match
        from ozamonitor.causal.balance import love_plot as draw_love_plot
        from ozamonitor.causal.matching import match_nearest

        if distance not in ("glm", "linear.logit", "gbm", "mahalanobis"):
            raise fail(
                f"--distance must be glm, linear.logit, gbm or mahalanobis, not {distance!r}"
            )
        if order is not None and order not in ("largest", "smallest", "data", "random"):
            raise fail(f"--order must be largest, smallest, data or random, not {order!r}")
        if out.suffix.lower() != ".csv":
            raise fail(f"--out must be a .csv file, got {out.name!r}")
        if not out.parent.exists():
            raise fail(f"output folder {str(out.parent)!r} does not exist")
        if love_plot is not None and love_plot.suffix.lower() not in (".png", ".svg"):
            raise fail(f"--love-plot must end in .png or .svg, got {love_plot.name!r}")
        check_outputs({"--out": out, "balance table": out.with_name(f"{out.stem}_balance.csv"),
                       "--love-plot": love_plot}, {"--input": input})
        df = _read_table(input, id_col)
        covs = _split(covariates)
        if not covs:
            raise fail("--covariates is empty")
        with warnings.catch_warnings(record=True) as caught, naming_file(input.name):
            warnings.simplefilter("always")
            result = match_nearest(
                df,
                treatment,
                covs,
                id_col=id_col,
                distance="glm" if distance == "linear.logit" else distance,
                link="linear.logit" if distance == "linear.logit" else "logit",
                exact=_split(exact) or None,
                mahvars=_split(mahvars) or None,
                ratio=ratio,
                replace=replace,
                caliper=caliper,
                m_order=order,  # type: ignore[arg-type]
                seed=seed,
            )
            balance = balance_from_match(result, df)
        for w in caught:
            err_console.print(f"[yellow]warning:[/] {w.message}", highlight=False, soft_wrap=True)
        balance_path = out.with_name(f"{out.stem}_balance.csv")
        _write_csvs([(result.pairs_frame(), out), (balance, balance_path)])
        if love_plot is not None:
            draw_love_plot(balance, love_plot)
        n_t = int(result.treat.sum())
        console.print(
            f"matched {result.n_matched_treated} of {n_t} treated units to "
            f"{result.n_matched_controls} distinct controls -> {out} (balance: {balance_path.name})"
        )
        worst = balance["diff_adj"].abs().max()
        console.print(f"max |mean difference| after matching: {worst:.3f}")
