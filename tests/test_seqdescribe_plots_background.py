"""Sequence plots render; cluster-background cross-tabs and MNLogit on planted data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from ozamonitor.sequences.alphabet import VOID_CODE as VOID
from ozamonitor.sequences.plots import (
    plot_distribution,
    plot_entropy,
    plot_frequencies,
    plot_index,
    plot_mean_time,
    save_figure,
)
from ozamonitor.sequences.seqdata import SequenceData
from ozamonitor.trajectories.background import (
    ConstantCovariateError,
    SeparationError,
    crosstab,
    mnlogit,
)
from ozamonitor.trajectories.states import DEFAULT_CONFIG

MISSING = DEFAULT_CONFIG.alphabet.missing_code


def _random_seq(n: int = 120, t: int = 24, seed: int = 0) -> SequenceData:
    rng = np.random.default_rng(seed)
    k = len(DEFAULT_CONFIG.alphabet)
    codes = np.empty((n, t), dtype=np.int16)
    s = rng.integers(0, 4, n)
    for j in range(t):
        move = rng.random(n) < 0.15
        s = np.where(move, rng.integers(0, k, n), s)
        codes[:, j] = s
    codes[rng.random((n, t)) < 0.02] = MISSING
    codes[:5, -3:] = VOID
    return SequenceData(codes, DEFAULT_CONFIG.alphabet, ids=[f"p{i}" for i in range(n)],
                        columns=[f"2020-{m:02d}" for m in range(1, 13)]
                        + [f"2021-{m:02d}" for m in range(1, 13)])


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_plots_render(tmp_path: Path, lang: str) -> None:
    seq = _random_seq()
    group = np.where(np.arange(seq.n_sequences) % 3 == 0, "a", "b")
    figs = {
        "dist": plot_distribution(seq, lang=lang),
        "dist_g": plot_distribution(seq, group, lang=lang),
        "index": plot_index(seq, lang=lang, max_rows=50),
        "index_g": plot_index(seq, group, lang=lang, sort=np.arange(seq.n_sequences) % 4),
        "freq": plot_frequencies(seq, group, top=5, lang=lang),
        "mean": plot_mean_time(seq, group, lang=lang),
        "entropy": plot_entropy(seq, group, lang=lang),
    }
    for name, fig in figs.items():
        paths = save_figure(fig, tmp_path / name)
        assert [p.suffix for p in paths] == [".png", ".svg"]
        for p in paths:
            assert p.stat().st_size > 1000, p
    with pytest.raises(ValueError, match="unsupported figure format"):
        save_figure(figs["dist"], tmp_path / "x", formats=("bmp",))


def _planted(n: int = 3000, seed: int = 7) -> tuple[np.ndarray, pl.DataFrame, np.ndarray]:
    """Clusters from a known multinomial logit: base 'A', then 'B', 'C'."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n)
    edu = rng.choice(["low", "middle", "high"], n)
    income = rng.normal(0, 1, n)
    # true coefficients (rows: intercept, sex[M], edu[low], edu[middle], income)
    beta = np.array([[-0.5, 0.2], [1.0, -0.8], [0.9, 0.0], [0.3, 0.4], [0.0, 0.7]])
    X = np.column_stack([np.ones(n), sex == "M", edu == "low", edu == "middle", income])
    eta = np.column_stack([np.zeros(n), X @ beta])
    p = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    u = rng.random(n)
    y = (u[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    labels = np.array(["A", "B", "C"])[y]
    bg = pl.DataFrame({"sex": sex, "parent_education": edu, "income": income})
    return labels, bg, beta


def test_mnlogit_recovers_planted_coefficients() -> None:
    labels, bg, beta = _planted()
    res = mnlogit(labels, bg, ["sex", "parent_education", "income"],
                  reference={"parent_education": "high"}, base_cluster="A")
    tab = res.coefficients
    assert res.base_cluster == "A" and res.references == {"sex": "F",
                                                          "parent_education": "high"}
    terms = ["(intercept)", "sex[M]", "parent_education[low]", "parent_education[middle]",
             "income"]
    assert res.terms == terms
    for j, cl in enumerate(["B", "C"]):
        for i, term in enumerate(terms):
            row = tab.filter((pl.col("cluster") == cl) & (pl.col("term") == term))
            coef, se = row["coef"][0], row["se"][0]
            assert abs(coef - beta[i, j]) < 4 * se + 0.05, (cl, term, coef, beta[i, j])
            assert row["odds_ratio"][0] == pytest.approx(np.exp(coef))
            assert row["ci_low"][0] < row["odds_ratio"][0] < row["ci_high"][0]
    strong = tab.filter((pl.col("cluster") == "B") & (pl.col("term") == "sex[M]"))
    assert strong["coef"][0] > 0.7 and strong["p"][0] < 1e-6
    assert 0 < res.pseudo_r2 < 1
    # pandas input gives the same answer
    res2 = mnlogit(pd.Series(labels), bg.to_pandas(), ["sex", "parent_education", "income"],
                   reference={"parent_education": "high"}, base_cluster="A")
    np.testing.assert_allclose(res2.coefficients["coef"], tab["coef"])


def test_mnlogit_clear_errors() -> None:
    labels, bg, _ = _planted(600)
    with pytest.raises(ConstantCovariateError, match="'const'"):
        mnlogit(labels, bg.with_columns(const=pl.lit("x")), ["sex", "const"])
    # a category present only in cluster A: quasi-complete separation
    sep = bg.with_columns(group=pl.Series(np.where(labels == "A", "only_a", "other")))
    sep = sep.with_columns(group=pl.when(pl.arange(0, sep.height) % 2 == 0)
                           .then(pl.lit("other")).otherwise(pl.col("group")))
    with pytest.raises(SeparationError, match="never occurs in cluster") as info:
        mnlogit(labels, sep, ["group"], reference={"group": "other"})
    assert info.value.variable == "group"
    # a numeric covariate that separates perfectly
    x = np.where(labels == "A", -1.0, 1.0) * (1 + np.random.default_rng(0).random(len(labels)))
    with pytest.raises(SeparationError):
        mnlogit(labels, bg.with_columns(x=pl.Series(x)), ["x"])
    with pytest.raises(ValueError, match="collinear"):
        mnlogit(labels, bg.with_columns(inc2=pl.col("income") * 2), ["income", "inc2"])
    with pytest.raises(ValueError, match="no column"):
        mnlogit(labels, bg, ["nope"])


def test_crosstab_row_percentages() -> None:
    labels = np.array(["1", "1", "2", "2", "2", "1"])
    bg = pl.DataFrame({"sex": ["F", "F", "F", "M", "M", None]})
    ct = crosstab(labels, bg)
    f1 = ct.filter((pl.col("category") == "F") & (pl.col("cluster") == "1"))
    assert f1["n"][0] == 2 and f1["n_category"][0] == 3
    assert f1["row_pct"][0] == pytest.approx(200 / 3)
    m1 = ct.filter((pl.col("category") == "M") & (pl.col("cluster") == "1"))
    assert m1["n"][0] == 0  # zero cells are present
    assert ct.filter(pl.col("category") == "(missing)")["n"].sum() == 1
    sums = ct.group_by("category").agg(pl.col("row_pct").sum())
    assert np.allclose(sums["row_pct"].to_numpy(), 100.0)
