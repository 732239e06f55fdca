"""Two-period panel DiD estimators of Sant'Anna & Zhao (2020), as in R's ``DRDID``.

These are the building blocks R's ``did::att_gt`` calls for every ATT(g,t) cell with
panel data: ``drdid_panel`` ("dr", improved locally efficient doubly robust),
``std_ipw_did_panel`` ("ipw", standardised / Hajek inverse probability weighting) and
``reg_did_panel`` ("reg", outcome regression). Each returns the ATT and its influence
function (one value per unit, ``V = mean(psi^2)``), following the R formulas line by
line: logit propensity score by maximum likelihood (own IRLS; statsmodels' GLM would
add a per-cell model object and formula overhead for thousands of small fits),
weighted least squares for the outcome change of the comparison units, propensity
scores capped at ``1 - 1e-6`` and comparison units with a score above ``trim_level``
(0.995) trimmed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ozamonitor.causal.did_panel import DidInputError

__all__ = ["DRDIDResult", "drdid_panel", "logit_fit", "reg_did_panel", "std_ipw_did_panel"]

_EPS = np.finfo(float).eps


@dataclass
class DRDIDResult:
    """ATT of a two-period panel DiD and its influence function (length n)."""

    att: float
    inf_func: np.ndarray


@dataclass
class LogitFit:
    """Logistic regression fit: coefficients, fitted probabilities, convergence flag."""

    coef: np.ndarray
    fitted: np.ndarray
    converged: bool


def logit_fit(
    X: np.ndarray, d: np.ndarray, w: np.ndarray | None = None, maxit: int = 50, tol: float = 1e-12
) -> LogitFit:
    """Weighted logistic regression by IRLS (Newton), started as R's ``glm`` does.

    Stops when the relative change in deviance is below ``tol`` (tighter than R's
    1e-8, so the coefficients agree with R's to well below 1e-6).
    """
    n, _ = X.shape
    w = np.ones(n) if w is None else w
    mu = (w * d + 0.5) / (w + 1.0)
    eta = np.log(mu / (1.0 - mu))
    dev_old = np.inf
    coef = np.zeros(X.shape[1])
    converged = False
    for _ in range(maxit):
        var = np.maximum(mu * (1.0 - mu), 1e-300)
        z = eta + (d - mu) / var
        ww = w * var
        xtw = X.T * ww
        try:
            coef = np.linalg.solve(xtw @ X, xtw @ z)
        except np.linalg.LinAlgError:
            coef = np.linalg.lstsq(xtw @ X, xtw @ z, rcond=None)[0]
        eta = X @ coef
        mu = 1.0 / (1.0 + np.exp(-eta))
        mu_c = np.clip(mu, 1e-300, 1.0 - 1e-16)
        dev = -2.0 * np.sum(w * (d * np.log(mu_c) + (1.0 - d) * np.log1p(-mu_c)))
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            converged = True
            break
        dev_old = dev
    return LogitFit(coef=coef, fitted=mu, converged=converged)


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    xtw = X.T * w
    return np.linalg.solve(xtw @ X, xtw @ y)


def _check_rcond(m: np.ndarray, what: str) -> None:
    if 1.0 / np.linalg.cond(m, 1) < _EPS:
        raise np.linalg.LinAlgError(f"the {what} design matrix is singular")


def _prep(
    y1: np.ndarray, y0: np.ndarray, D: np.ndarray, X: np.ndarray | None, w: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    D = np.asarray(D, dtype=np.float64)
    n = D.shape[0]
    dy = np.asarray(y1, dtype=np.float64) - np.asarray(y0, dtype=np.float64)
    X = np.ones((n, 1)) if X is None else np.asarray(X, dtype=np.float64).reshape(n, -1)
    w = np.ones(n) if w is None else np.asarray(w, dtype=np.float64)
    if np.any(w < 0):
        raise DidInputError("weights must be non-negative")
    w = w / w.mean()
    return D, dy, X, w, n


def _ps_and_trim(
    X: np.ndarray, D: np.ndarray, w: np.ndarray, trim_level: float, ps: LogitFit | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fit = ps if ps is not None else logit_fit(X, D, w)
    if not np.all(np.isfinite(fit.coef)):
        raise np.linalg.LinAlgError("propensity score coefficients are not finite")
    p = np.minimum(fit.fitted, 1.0 - 1e-6)
    trim = np.where(D == 0, p < trim_level, True)
    W = p * (1.0 - p) * w
    return p, trim.astype(np.float64), W


def _ps_linrep(X: np.ndarray, D: np.ndarray, p: np.ndarray, w: np.ndarray, W: np.ndarray, n: int):
    xtwx = (X.T * W) @ X
    _check_rcond(xtwx, "propensity score")
    hessian = np.linalg.inv(xtwx) * n
    return ((w * (D - p))[:, None] * X) @ hessian


def _ols_linrep(X: np.ndarray, D: np.ndarray, dy: np.ndarray, out: np.ndarray, w: np.ndarray, n):
    wo = w * (1.0 - D)
    xpx = (X.T * wo) @ X / n
    _check_rcond(xpx, "regression")
    return ((wo * (dy - out))[:, None] * X) @ np.linalg.inv(xpx)


def drdid_panel(
    y1: np.ndarray,
    y0: np.ndarray,
    D: np.ndarray,
    X: np.ndarray | None = None,
    w: np.ndarray | None = None,
    trim_level: float = 0.995,
    ps: LogitFit | None = None,
) -> DRDIDResult:
    """Improved locally efficient doubly robust DiD (``DRDID::drdid_panel``)."""
    D, dy, X, w, n = _prep(y1, y0, D, X, w)
    p, trim, W = _ps_and_trim(X, D, w, trim_level, ps)
    ctrl = D == 0
    _check_rcond((X[ctrl].T * w[ctrl]) @ X[ctrl], "regression")
    beta = _wls(X[ctrl], dy[ctrl], w[ctrl])
    out = X @ beta
    w_t = trim * w * D
    w_c = trim * w * p * (1.0 - D) / (1.0 - p)
    att_t = w_t * (dy - out)
    att_c = w_c * (dy - out)
    eta_t = att_t.mean() / w_t.mean()
    eta_c = att_c.mean() / w_c.mean()
    lin_ols = _ols_linrep(X, D, dy, out, w, n)
    lin_ps = _ps_linrep(X, D, p, w, W, n)
    inf_t1 = att_t - w_t * eta_t
    inf_t2 = lin_ols @ (w_t[:, None] * X).mean(axis=0)
    inf_c1 = att_c - w_c * eta_c
    inf_c2 = lin_ps @ ((w_c * (dy - out - eta_c))[:, None] * X).mean(axis=0)
    inf_c3 = lin_ols @ (w_c[:, None] * X).mean(axis=0)
    inf_treat = (inf_t1 - inf_t2) / w_t.mean()
    inf_cont = (inf_c1 + inf_c2 - inf_c3) / w_c.mean()
    return DRDIDResult(att=float(eta_t - eta_c), inf_func=inf_treat - inf_cont)


def std_ipw_did_panel(
    y1: np.ndarray,
    y0: np.ndarray,
    D: np.ndarray,
    X: np.ndarray | None = None,
    w: np.ndarray | None = None,
    trim_level: float = 0.995,
    ps: LogitFit | None = None,
) -> DRDIDResult:
    """Standardised (Hajek) IPW DiD (``DRDID::std_ipw_did_panel``)."""
    D, dy, X, w, n = _prep(y1, y0, D, X, w)
    p, trim, W = _ps_and_trim(X, D, w, trim_level, ps)
    w_t = trim * w * D
    w_c = trim * w * p * (1.0 - D) / (1.0 - p)
    att_t = w_t * dy
    att_c = w_c * dy
    eta_t = att_t.mean() / w_t.mean()
    eta_c = att_c.mean() / w_c.mean()
    lin_ps = _ps_linrep(X, D, p, w, W, n)
    inf_treat = (att_t - w_t * eta_t) / w_t.mean()
    inf_c1 = att_c - w_c * eta_c
    inf_c2 = lin_ps @ ((w_c * (dy - eta_c))[:, None] * X).mean(axis=0)
    inf_cont = (inf_c1 + inf_c2) / w_c.mean()
    return DRDIDResult(att=float(eta_t - eta_c), inf_func=inf_treat - inf_cont)


def reg_did_panel(
    y1: np.ndarray,
    y0: np.ndarray,
    D: np.ndarray,
    X: np.ndarray | None = None,
    w: np.ndarray | None = None,
) -> DRDIDResult:
    """Outcome-regression DiD (``DRDID::reg_did_panel``)."""
    D, dy, X, w, n = _prep(y1, y0, D, X, w)
    ctrl = D == 0
    _check_rcond((X[ctrl].T * w[ctrl]) @ X[ctrl], "regression")
    beta = _wls(X[ctrl], dy[ctrl], w[ctrl])
    out = X @ beta
    w_t = w * D
    w_c = w * D
    att_t = w_t * dy
    att_c = w_c * out
    eta_t = att_t.mean() / w_t.mean()
    eta_c = att_c.mean() / w_c.mean()
    lin_ols = _ols_linrep(X, D, dy, out, w, n)
    inf_treat = (att_t - w_t * eta_t) / w_t.mean()
    inf_c1 = att_c - w_c * eta_c
    inf_c2 = lin_ols @ (w_c[:, None] * X).mean(axis=0)
    inf_cont = (inf_c1 + inf_c2) / w_c.mean()
    return DRDIDResult(att=float(eta_t - eta_c), inf_func=inf_treat - inf_cont)
