"""2x2 DiD by regression with cluster-robust standard errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from ozamonitor.causal.did import DidInputError, did_2x2


def _panel(n: int = 400, seed: int = 0, att: float = 1.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    d = rng.integers(0, 2, n)
    a = rng.normal(size=n) + 0.5 * d
    rows = []
    for post in (0, 1):
        y = a + 0.3 * post + att * d * post + rng.normal(size=n)
        rows.append(pd.DataFrame({"id": np.arange(n), "treat": d, "post": post, "y": y}))
    return pd.concat(rows, ignore_index=True)


def test_att_equals_difference_of_mean_changes():
    df = _panel()
    res = did_2x2(df, "y", "treat", "post", cluster="id")
    m = df.groupby(["treat", "post"])["y"].mean()
    by_hand = (m[1, 1] - m[1, 0]) - (m[0, 1] - m[0, 0])
    assert res.att == pytest.approx(by_hand, abs=1e-10)
    assert res.n_clusters == 400 and res.n_obs == 800
    assert res.lower < res.att < res.upper


def test_cluster_se_equals_se_of_unit_level_change_regression():
    """With a balanced 2-period panel, the unit-clustered SE of the interaction equals
    the HC1-type SE of regressing the unit change on treat (up to the df correction)."""
    df = _panel(n=300, seed=1)
    res = did_2x2(df, "y", "treat", "post", cluster="id")
    w = df.pivot(index="id", columns="post", values="y")
    d = df.groupby("id")["treat"].first()
    dy = (w[1] - w[0]).to_numpy()
    dd = d.to_numpy()
    r = np.where(dd == 1, dy - dy[dd == 1].mean(), dy - dy[dd == 0].mean())
    n1, n0 = (dd == 1).sum(), (dd == 0).sum()
    v = np.sum(r[dd == 1] ** 2) / n1**2 + np.sum(r[dd == 0] ** 2) / n0**2
    g = 300
    # statsmodels' cluster correction: G/(G-1) * (N-1)/(N-K)
    corr = g / (g - 1) * (600 - 1) / (600 - 4)
    assert res.se == pytest.approx(np.sqrt(v * corr), rel=1e-8)


def test_weighted_regression_with_matching_weights():
    df = _panel(n=300, seed=2)
    rng = np.random.default_rng(3)
    wts = pd.Series(rng.uniform(0.2, 3.0, 300))
    df["w"] = wts[df.id].to_numpy()
    res = did_2x2(pl.from_pandas(df), "y", "treat", "post", cluster="id", weights="w")
    m = df.assign(wy=df.y * df.w).groupby(["treat", "post"])[["wy", "w"]].sum()
    mu = m.wy / m.w
    assert res.att == pytest.approx((mu[1, 1] - mu[1, 0]) - (mu[0, 1] - mu[0, 0]), abs=1e-10)
    # zero weights drop units
    df.loc[df.id < 10, "w"] = 0.0
    assert did_2x2(df, "y", "treat", "post", cluster="id", weights="w").n_clusters == 290


def test_planted_effect_recovered_and_covariates():
    df = _panel(n=3000, seed=4, att=2.0)
    df["x"] = np.random.default_rng(5).normal(size=len(df))
    res = did_2x2(df, "y", "treat", "post", cluster="id", covariates=["x"])
    assert abs(res.att - 2.0) < 4 * res.se


def test_bad_input():
    df = _panel(n=50)
    with pytest.raises(DidInputError, match="not in the data"):
        did_2x2(df, "nope", "treat", "post", cluster="id")
    bad = df.copy()
    bad.loc[0, "treat"] = 2
    with pytest.raises(DidInputError, match="must be 0/1; row 1"):
        did_2x2(bad, "y", "treat", "post", cluster="id")
    only_treated = df[df.treat == 1]
    with pytest.raises(DidInputError, match="all four"):
        did_2x2(only_treated, "y", "treat", "post", cluster="id")
    df["c"] = 3.0
    with pytest.raises(DidInputError, match="no variance"):
        did_2x2(df, "y", "treat", "post", cluster="id", covariates=["c"])
    df["w"] = -1.0
    with pytest.raises(DidInputError, match="non-negative"):
        did_2x2(df, "y", "treat", "post", cluster="id", weights="w")
