"""Canonical 2x2 difference-in-differences by regression with cluster-robust errors.

``y = a + b * treat + c * post + ATT * treat x post (+ covariates)``, estimated by OLS
(or WLS with, e.g., matching weights from :mod:`ozamonitor.causal.matching`; the
weights are just a column) with statsmodels' cluster-robust covariance
(``cov_type="cluster"``, clustered by unit unless another column is given).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import polars as pl
import statsmodels.api as sm

from ozamonitor.causal.did_panel import DidInputError

__all__ = ["Did2x2Result", "did_2x2"]


@dataclass
class Did2x2Result:
    """ATT of the treat x post interaction with its cluster-robust inference."""

    att: float
    se: float
    pvalue: float
    lower: float
    upper: float
    n_obs: int
    n_clusters: int
    params: pd.Series
    bse: pd.Series

    def to_frame(self) -> pd.DataFrame:
        """One-row frame: att, se, pvalue, lower, upper, n_obs, n_clusters."""
        return pd.DataFrame(
            [
                {
                    "att": self.att,
                    "se": self.se,
                    "pvalue": self.pvalue,
                    "lower": self.lower,
                    "upper": self.upper,
                    "n_obs": self.n_obs,
                    "n_clusters": self.n_clusters,
                }
            ]
        )


def _binary(s: pd.Series, name: str) -> np.ndarray:
    v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    if np.isnan(v).any() or not np.isin(v, (0.0, 1.0)).all():
        bad = int(np.flatnonzero(np.isnan(v) | ~np.isin(v, (0.0, 1.0)))[0])
        raise DidInputError(f"column {name!r} must be 0/1; row {bad + 1} has {s.iloc[bad]!r}")
    return v


def did_2x2(
    data: pd.DataFrame | pl.DataFrame,
    outcome: str,
    treat: str,
    post: str,
    cluster: str,
    *,
    weights: str | None = None,
    covariates: Sequence[str] = (),
    alpha: float = 0.05,
) -> Did2x2Result:
    """Two-group, two-period DiD: coefficient of ``treat x post`` with clustered SEs.

    Parameters
    ----------
    data : pandas.DataFrame or polars.DataFrame
        Long frame, one row per unit and period.
    outcome : str
        Outcome column.
    treat : str
        0/1 column, 1 for the treated group.
    post : str
        0/1 column, 1 for the post-treatment period(s).
    cluster : str
        Cluster column (normally the unit id).
    weights : str, optional
        Non-negative weights column (e.g. matching weights); rows with weight 0
        drop out.
    covariates : sequence of str, default ()
        Extra regressors.
    alpha : float, default 0.05
        Level of the confidence interval.

    Returns
    -------
    Did2x2Result

    Raises
    ------
    DidInputError
        A missing column, non-0/1 indicators, negative weights or an empty cell.
    """
    df = data.to_pandas() if isinstance(data, pl.DataFrame) else data
    cols = [outcome, treat, post, cluster, *covariates] + ([weights] if weights else [])
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DidInputError(f"column(s) not in the data: {', '.join(missing)}")
    df = df[cols].dropna()
    if weights:
        w = pd.to_numeric(df[weights], errors="coerce").to_numpy(dtype=float)
        if np.isnan(w).any() or (w < 0).any():
            raise DidInputError(f"column {weights!r} (weights) must be non-negative numbers")
        df = df[w > 0]
    if df.empty:
        raise DidInputError("no rows left after dropping missing values / zero weights")
    d = _binary(df[treat], treat)
    p = _binary(df[post], post)
    for dv in (0, 1):
        for pv in (0, 1):
            if not ((d == dv) & (p == pv)).any():
                raise DidInputError(
                    f"no rows with {treat}={dv} and {post}={pv}: a 2x2 DiD needs all four "
                    "treated/post cells"
                )
    X = pd.DataFrame({"const": 1.0, treat: d, post: p, f"{treat}:{post}": d * p}, index=df.index)
    for c in covariates:
        x = pd.to_numeric(df[c], errors="coerce")
        if x.isna().any():
            raise DidInputError(f"covariate {c!r} must be numeric")
        if x.std() == 0:
            raise DidInputError(f"covariate {c!r} has no variance")
        X[c] = x.to_numpy(dtype=float)
    y = pd.to_numeric(df[outcome], errors="coerce")
    if y.isna().any():
        raise DidInputError(f"outcome {outcome!r} must be numeric")
    groups = pd.factorize(df[cluster])[0]
    if weights:
        model = sm.WLS(y.to_numpy(float), X, weights=df[weights].to_numpy(float))
    else:
        model = sm.OLS(y.to_numpy(float), X)
    fit = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
    name = f"{treat}:{post}"
    ci = fit.conf_int(alpha=alpha).loc[name]
    return Did2x2Result(
        att=float(fit.params[name]),
        se=float(fit.bse[name]),
        pvalue=float(fit.pvalues[name]),
        lower=float(ci.iloc[0]),
        upper=float(ci.iloc[1]),
        n_obs=int(fit.nobs),
        n_clusters=int(groups.max() + 1),
        params=fit.params,
        bse=fit.bse,
    )
