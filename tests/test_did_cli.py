"""CLI: ozamonitor did."""

from __future__ import annotations

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from ozamonitor.cli.main import app


def _panel_csv(path, n: int = 300, T: int = 5, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    g = rng.choice([0, 3, 4, 5], size=n)
    rows = []
    for t in range(1, T + 1):
        y = rng.normal(size=n) + 0.1 * t + np.where((g > 0) & (t >= g), 1.0, 0.0)
        rows.append(
            pd.DataFrame(
                {"id": np.arange(n), "year": t, "start": g, "y": y, "x": rng.normal(size=n)}
            )
        )
    df = pd.concat(rows)
    df["start"] = df["start"].astype("float").where(df["start"] > 0)  # empty = never
    df.to_csv(path, index=False)


def test_cli_writes_attgt_aggregates_and_plot(tmp_path):
    src = tmp_path / "panel.csv"
    _panel_csv(src)
    out = tmp_path / "res" / "attgt.csv"
    r = CliRunner().invoke(
        app,
        [
            "did",
            "--input",
            str(src),
            "--unit",
            "id",
            "--time",
            "year",
            "--cohort",
            "start",
            "--outcome",
            "y",
            "--control",
            "notyet",
            "--biters",
            "99",
            "--seed",
            "1",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    attgt = pd.read_csv(out)
    assert list(attgt.columns) == ["group", "time", "att", "se"]
    assert len(attgt) == 3 * 4 and attgt.att.notna().all()
    agg = pd.read_csv(tmp_path / "res" / "attgt_aggregate.csv")
    assert list(agg.columns) == ["type", "e", "group", "time", "att", "se", "lower", "upper"]
    assert set(agg.type) == {"simple", "dynamic", "group", "calendar"}
    assert (tmp_path / "res" / "attgt_event_study.png").stat().st_size > 1000


def test_cli_covariates_svg_and_no_bootstrap(tmp_path):
    src = tmp_path / "panel.csv"
    _panel_csv(src, seed=1)
    out = tmp_path / "attgt.csv"
    plot = tmp_path / "es.svg"
    r = CliRunner().invoke(
        app,
        [
            "did",
            "--input",
            str(src),
            "--unit",
            "id",
            "--time",
            "year",
            "--cohort",
            "start",
            "--outcome",
            "y",
            "--covariates",
            "x",
            "--method",
            "ipw",
            "--base-period",
            "universal",
            "--no-bootstrap",
            "--out",
            str(out),
            "--plot",
            str(plot),
        ],
    )
    assert r.exit_code == 0, r.output
    assert plot.read_text().lstrip().startswith("<?xml")
    assert len(pd.read_csv(out)) == 3 * 5


def test_cli_bad_input_names_file_and_column(tmp_path):
    src = tmp_path / "panel.csv"
    _panel_csv(src)
    r = CliRunner().invoke(
        app,
        [
            "did",
            "--input",
            str(src),
            "--unit",
            "id",
            "--time",
            "year",
            "--cohort",
            "start",
            "--outcome",
            "missing_col",
            "--out",
            str(tmp_path / "a.csv"),
        ],
    )
    assert r.exit_code == 1
    assert "missing_col" in r.output and "panel.csv" in r.output
    assert not (tmp_path / "a.csv").exists()
