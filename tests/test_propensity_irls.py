"""The Newton-Cholesky IRLS against R 4.2's ``glm`` and statsmodels' GLM (scores to 1e-8)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from ozamonitor.causal import propensity_irls
from ozamonitor.causal.propensity import design_matrix, estimate_propensity

REF = Path(__file__).parent / "data" / "glm_reference"
COVS = ["age", "absence", "year", "special", "region", "boy"]


@pytest.fixture(scope="module")
def units() -> pd.DataFrame:
    return pd.read_csv(REF / "units.csv")


def _r_fit() -> tuple[pd.DataFrame, pd.Series, int]:
    fitted = pd.read_csv(REF / "r_fitted.csv")
    coef = pd.read_csv(REF / "r_coefficients.csv").set_index("term")["coefficient"]
    iterations = int((REF / "r_info.txt").read_text().splitlines()[1].split()[1])
    return fitted, coef, iterations


def test_scores_equal_r_glm(units):
    # year has mean ~2018 and SD ~2: an ill-conditioned design (intercept ~ -98)
    m = estimate_propensity(units, "t", COVS)
    fitted, coef, iterations = _r_fit()
    np.testing.assert_allclose(m.score, fitted["score"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(m.linear_predictor, fitted["linear_predictor"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(m.coefficients[coef.index], coef, rtol=1e-9, atol=1e-10)
    assert m.iterations == iterations and m.converged


def test_scores_equal_statsmodels_glm(units):
    m = estimate_propensity(units, "t", COVS)
    X = design_matrix(units, COVS).X
    sm_fit = sm.GLM(units["t"].to_numpy(float), X, family=sm.families.Binomial()).fit(
        tol=1e-14, maxiter=100
    )
    np.testing.assert_allclose(m.score, sm_fit.fittedvalues, rtol=0, atol=1e-8)
    np.testing.assert_allclose(m.coefficients.to_numpy(), sm_fit.params, rtol=1e-6, atol=1e-8)


def test_row_blocks_do_not_change_the_fit(units, monkeypatch):
    one = estimate_propensity(units, "t", COVS)
    monkeypatch.setattr(propensity_irls, "BLOCK", 97)  # 16 blocks, the last one short
    many = estimate_propensity(units, "t", COVS)
    np.testing.assert_allclose(many.score, one.score, rtol=0, atol=1e-13)
    assert many.iterations == one.iterations


def test_normal_equations_match_dense_products():
    rng = np.random.default_rng(1)
    X = np.asfortranarray(rng.normal(size=(1000, 5)))
    w, r = rng.random(1000), rng.normal(size=1000)
    G, b = propensity_irls.normal_equations(X, w, r)
    np.testing.assert_allclose(G, X.T @ (X * w[:, None]), rtol=1e-12)
    np.testing.assert_allclose(b, X.T @ r, rtol=1e-12)


def test_fused_working_values_equal_r_formulas():
    rng = np.random.default_rng(3)
    eta = np.r_[rng.normal(0, 8, 20_000), -40.0, -30.0, 30.0, 45.0]
    y = (rng.random(eta.size) < 0.4).astype(float)
    mu, w, r = np.empty_like(eta), np.empty_like(eta), np.empty_like(eta)
    dev = propensity_irls._working_values(eta, y, mu, w, r)
    mu_ref, mev = propensity_irls.link(eta)
    w_ref = mev * mev / (mu_ref * (1 - mu_ref))
    np.testing.assert_allclose(mu, mu_ref, rtol=1e-14, atol=0)
    np.testing.assert_allclose(w, w_ref, rtol=1e-13, atol=0)
    np.testing.assert_allclose(r, w_ref * ((y - mu_ref) / mev), rtol=1e-13, atol=0)
    assert dev == pytest.approx(propensity_irls.deviance(y, mu_ref), rel=1e-13)


def test_lazy_design_equals_dense_matrix(units, monkeypatch):
    from ozamonitor.causal.propensity import LazyDesign, design_columns

    monkeypatch.setattr(propensity_irls, "BLOCK", 256)
    y = units["t"].to_numpy(float)
    dense = propensity_irls.irls_logit(design_matrix(units, COVS).X, y)
    lazy = propensity_irls.irls_logit(LazyDesign(design_columns(units, COVS)[0], len(units)), y)
    np.testing.assert_array_equal(lazy[2], dense[2])  # the same numbers, block by block
    assert lazy[4] == dense[4]


def test_units_with_identical_covariates_get_identical_scores(units):
    # the same rows at every position of a block: no 1-ulp differences between copies
    many = pd.concat([units.iloc[:37]] * 60, ignore_index=True)
    many["t"] = np.r_[units["t"].to_numpy()[:37 * 30], 1 - units["t"].to_numpy()[:37 * 30]]
    m = estimate_propensity(many, "t", COVS)
    per_row = m.score.reshape(60, 37)
    assert (per_row == per_row[0]).all()
