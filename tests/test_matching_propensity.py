"""Propensity scores: closed form, statsmodels GLM, R-style dummy coding, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest
import statsmodels.api as sm

from ozamonitor.causal.propensity import (
    SeparationWarning,
    design_matrix,
    estimate_propensity,
)


def test_saturated_binary_covariate_closed_form():
    # group A: 3 treated of 10; group B: 6 treated of 8
    df = pd.DataFrame({"grp": ["A"] * 10 + ["B"] * 8, "t": [1] * 3 + [0] * 7 + [1] * 6 + [0] * 2})
    m = estimate_propensity(df, "t", ["grp"])
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    assert m.coefficients["(Intercept)"] == pytest.approx(logit(0.3), abs=1e-7)
    assert m.coefficients["grpB"] == pytest.approx(logit(0.75) - logit(0.3), abs=1e-7)
    np.testing.assert_allclose(m.score, np.r_[np.full(10, 0.3), np.full(8, 0.75)], atol=1e-9)
    assert m.converged


def test_matches_statsmodels_glm():
    rng = np.random.default_rng(4)
    n = 800
    df = pd.DataFrame(
        {
            "age": rng.normal(12, 3, n),
            "sector": rng.choice(["vo", "po", "so"], n),
            "boy": rng.integers(0, 2, n),
        }
    )
    lin = -2 + 0.15 * df.age + np.where(df.sector == "so", 0.8, 0.0) - 0.3 * df.boy
    df["t"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    m = estimate_propensity(pl.from_pandas(df), "t", ["age", "sector", "boy"])
    # R: factor levels sorted alphabetically, first level ("po") is the reference
    assert list(m.coefficients.index) == ["(Intercept)", "age", "sectorso", "sectorvo", "boy"]
    X = design_matrix(df, ["age", "sector", "boy"]).X
    ref = sm.GLM(df.t.to_numpy(), X, family=sm.families.Binomial()).fit(tol=1e-12)
    np.testing.assert_allclose(m.coefficients.to_numpy(), ref.params, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(m.score, ref.fittedvalues, atol=1e-8)
    lp = estimate_propensity(df, "t", ["age", "sector", "boy"], link="linear.logit")
    np.testing.assert_allclose(lp.distance, X @ ref.params, atol=1e-6)


def test_categorical_dtype_keeps_declared_order_and_bool_is_factor():
    df = pd.DataFrame(
        {
            "lvl": pd.Categorical(
                ["hoog", "laag", "midden"] * 4, categories=["laag", "midden", "hoog"]
            ),
            "flag": [True, False, False, True] * 3,
            "t": [1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0],
        }
    )
    dm = design_matrix(df, ["lvl", "flag"])
    assert dm.columns == ["(Intercept)", "lvlmidden", "lvlhoog", "flagTRUE"]
    assert dm.reference == {"lvl": "laag", "flag": "FALSE"}


def test_gbm_scores_are_probabilities():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"x": rng.normal(size=300)})
    df["t"] = (rng.random(300) < 1 / (1 + np.exp(-df.x))).astype(int)
    m = estimate_propensity(df, "t", ["x"], method="gbm", seed=3)
    assert m.method == "gbm" and ((m.score > 0) & (m.score < 1)).all()


def test_bad_input_messages():
    df = pd.DataFrame({"x": [1.0, 2, 3, 4], "c": [5.0] * 4, "t": [1, 0, 1, 0]})
    with pytest.raises(ValueError, match="'c' has no variance"):
        estimate_propensity(df, "t", ["x", "c"])
    with pytest.raises(ValueError, match="no treated units"):
        estimate_propensity(df.assign(t=0), "t", ["x"])
    with pytest.raises(ValueError, match="no control units"):
        estimate_propensity(df.assign(t=1), "t", ["x"])
    with pytest.raises(ValueError, match=r"'x' has 1 missing value.*rows: 2"):
        estimate_propensity(df.assign(x=[1.0, 2, None, 4]), "t", ["x"])
    with pytest.raises(ValueError, match="treatment column 't' has missing"):
        estimate_propensity(df.assign(t=[1, None, 0, 1]), "t", ["x"])
    with pytest.raises(ValueError, match="unknown propensity method"):
        estimate_propensity(df, "t", ["x"], method="forest")  # type: ignore[arg-type]


def test_complete_separation_warns_and_stays_finite():
    df = pd.DataFrame({"x": np.arange(20.0), "z": np.tile([0.0, 1.0], 10)})
    df["t"] = (df.x >= 10).astype(int)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        m = estimate_propensity(df, "t", ["x", "z"])
    msgs = [str(w.message) for w in rec if issubclass(w.category, SeparationWarning)]
    assert msgs and "covariate 'x' separates" in msgs[0]
    assert np.isfinite(m.score).all() and np.isfinite(m.linear_predictor).all()


def test_collinear_column_dropped_with_warning():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=50)})
    df["b"] = 2 * df.a
    df["t"] = (rng.random(50) < 0.4).astype(int)
    with pytest.warns(UserWarning, match="'b' are linearly dependent"):
        m = estimate_propensity(df, "t", ["a", "b"])
    assert np.isnan(m.coefficients["b"]) and np.isfinite(m.score).all()


def test_separation_by_a_level_and_a_binary_covariate_is_named():
    rng = np.random.default_rng(8)
    n = 400
    df = pd.DataFrame({"age": rng.normal(0, 1, n), "grp": rng.choice(["a", "b", "c"], n),
                       "flag": rng.integers(0, 2, n)})
    df["t"] = (rng.random(n) < 0.4).astype(int)
    df.loc[df.grp == "c", "t"] = 1  # level c only among treated
    df.loc[df.flag == 1, "t"] = np.where(df.grp[df.flag == 1] == "c", 1, 0)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        estimate_propensity(df, "t", ["age", "grp", "flag"])
    msg = " ".join(str(w.message) for w in rec if issubclass(w.category, SeparationWarning))
    n_c = int((df.grp == "c").sum())
    assert f"level 'c' of covariate 'grp' occurs only among treated units ({n_c} units)" in msg
    assert "covariate 'flag' = 1" not in msg  # flag = 1 has treated (level c) and controls
