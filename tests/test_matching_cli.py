"""``ozamonitor match``: outputs, formats and clear errors with nothing half-written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from typer.testing import CliRunner

from ozamonitor.causal.matching import match_nearest
from ozamonitor.cli.main import app

runner = CliRunner()


@pytest.fixture
def units() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    n = 400
    df = pd.DataFrame(
        {
            "leerling": [f"{i:06d}" for i in range(n)],
            "leeftijd": rng.normal(12, 3, n).round(1),
            "sector": rng.choice(["po", "vo", "so"], n),
            "regio": rng.choice(["noord", "zuid"], n),
        }
    )
    lin = -2 + 0.1 * (df.leeftijd - 12) + np.where(df.sector == "so", 1.0, 0.0)
    df["oza"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    return df


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_match_writes_pairs_and_balance(tmp_path, units, fmt):
    src = tmp_path / f"units.{fmt}"
    if fmt == "csv":
        units.to_csv(src, index=False)
    elif fmt == "parquet":
        units.to_parquet(src)
    else:
        pl.from_pandas(units).write_excel(src)
    out = tmp_path / "pairs.csv"
    res = runner.invoke(
        app,
        [
            "match",
            "--input",
            str(src),
            "--id",
            "leerling",
            "--treatment",
            "oza",
            "--covariates",
            "leeftijd,sector",
            "--exact",
            "regio",
            "--ratio",
            "2",
            "--caliper",
            "0.25",
            "--out",
            str(out),
            "--love-plot",
            str(tmp_path / "love.svg"),
        ],
    )
    assert res.exit_code == 0, res.output
    pairs = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(pairs.columns) == ["treated", "control1", "control2"]
    ref = match_nearest(
        units,
        "oza",
        ["leeftijd", "sector"],
        id_col="leerling",
        exact=["regio"],
        ratio=2,
        caliper=0.25,
    )
    expected = ref.pairs_frame().fillna("")
    assert pairs.to_dict("list") == expected.astype(str).replace("None", "").to_dict("list")
    bal = pd.read_csv(tmp_path / "pairs_balance.csv")
    assert bal["variable"].iloc[0] == "distance"
    assert {"diff_un", "diff_adj", "var_ratio_adj", "ecdf_max_adj"} <= set(bal.columns)
    assert (tmp_path / "love.svg").exists()


def test_match_errors_leave_nothing(tmp_path, units):
    src = tmp_path / "units.csv"
    units.to_csv(src, index=False)
    out = tmp_path / "pairs.csv"
    base = [
        "match",
        "--input",
        str(src),
        "--id",
        "leerling",
        "--treatment",
        "oza",
        "--out",
        str(out),
    ]
    cases = [
        (["--covariates", "leeftijd,nope"], "not in the data"),
        (["--covariates", "leeftijd", "--treatment", "geen"], "not in the data"),
        (["--covariates", "leeftijd", "--distance", "forest"], "--distance must be"),
        (["--covariates", "leeftijd", "--order", "biggest"], "--order must be"),
        (
            ["--covariates", "leeftijd", "--distance", "mahalanobis", "--caliper", "0.1"],
            "caliper needs a propensity",
        ),
    ]
    for extra, msg in cases:
        res = runner.invoke(app, base + extra)
        assert res.exit_code == 1
        assert msg in res.output.replace("\n", " ")
    res = runner.invoke(
        app,
        [
            "match",
            "--input",
            str(tmp_path / "missing.csv"),
            "--id",
            "x",
            "--treatment",
            "t",
            "--covariates",
            "a",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 1 and "does not exist" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["units.csv"]
