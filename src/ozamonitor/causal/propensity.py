"""Propensity scores: logistic regression like R's ``glm(binomial)`` and boosting.

The default estimator mirrors ``MatchIt``'s ``distance = "glm"``: an *unpenalised*
logistic regression by maximum likelihood, fitted with the same iteratively
reweighted least squares (IRLS) scheme, starting values, clamping of the logit
link and stopping rule as R's ``glm.fit`` (``epsilon = 1e-8``, ``maxit = 25``).
We write the IRLS loop ourselves (about 40 lines) instead of calling statsmodels
because statsmodels stops on a different criterion; mirroring ``glm.fit``'s
iteration reproduces R's fitted scores to ~1e-12, which matters because greedy
matching is sensitive to the last digits of near-tied scores. The tests check
the coefficients against statsmodels' ``GLM(Binomial)`` and a closed form.

Covariates are dummy-coded as R's ``model.matrix`` does with treatment contrasts:
numeric columns enter as they are; boolean, string and categorical columns become
factors whose first level (alphabetical for strings and booleans, the declared
order for categoricals) is the reference; a dummy column is named
``<covariate><level>`` as in R.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ozamonitor.causal.propensity_irls import DBL_EPS as _DBL_EPS
from ozamonitor.causal.propensity_irls import irls_logit, normal_equations
from ozamonitor.errors import InputError

__all__ = [
    "DesignColumn",
    "DesignMatrix",
    "LazyDesign",
    "PropensityModel",
    "SeparationWarning",
    "as_pandas",
    "design_columns",
    "design_matrix",
    "estimate_propensity",
    "treatment_vector",
]



class MatchingError(InputError):
    """The data or the options do not allow a propensity model or a match.

    An :class:`~ozamonitor.errors.InputError`, so also a :class:`ValueError` as before.
    """


class SeparationWarning(UserWarning):
    """Perfect or quasi-complete separation in the propensity model."""


def as_pandas(data: Any) -> pd.DataFrame:
    """Return ``data`` (pandas or polars frame) as a pandas DataFrame."""
    if isinstance(data, pd.DataFrame):
        return data
    try:
        import polars as pl
    except ImportError:  # pragma: no cover - polars is a dependency
        pl = None
    if pl is not None and isinstance(data, pl.LazyFrame):
        data = data.collect()
    if pl is not None and isinstance(data, pl.DataFrame):
        return data.to_pandas()
    raise TypeError(f"expected a pandas or polars DataFrame, got {type(data).__name__}")


def _check_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise MatchingError(f"{what} column(s) not in the data: {', '.join(missing)}")


def treatment_vector(df: pd.DataFrame, treatment: str) -> np.ndarray:
    """The treatment column as a 0/1 integer array (bool or 0/1 numeric accepted).

    Raises :class:`MatchingError` on missing values, other codes, or when the treated or
    the control group is empty.
    """
    _check_columns(df, [treatment], "treatment")
    col = df[treatment]
    if col.isna().any():
        rows = np.flatnonzero(col.isna().to_numpy())[:5]
        raise MatchingError(
            f"treatment column {treatment!r} has missing values (rows {', '.join(map(str, rows))})"
        )
    values = col.to_numpy()
    if values.dtype == bool:
        t = values.astype(np.int8)
    else:
        try:
            num = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise MatchingError(
                f"treatment column {treatment!r} must be 0/1 or boolean, found non-numeric values"
            ) from None
        bad = ~np.isin(num, (0.0, 1.0))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise MatchingError(
                f"treatment column {treatment!r} must be 0/1 or boolean; "
                f"row {row} has {values[row]!r}"
            )
        t = num.astype(np.int8)
    if t.sum() == 0:
        raise MatchingError(f"no treated units (treatment column {treatment!r} has no 1s)")
    if t.sum() == len(t):
        raise MatchingError(f"no control units (treatment column {treatment!r} has no 0s)")
    return t


@dataclass
class DesignMatrix:
    """A numeric model matrix with R-style column names.

    ``columns[j]`` names column ``j``; ``source[j]`` is the covariate it came
    from and ``level[j]`` the factor level (``None`` for numeric covariates).
    ``reference`` maps each factor covariate to its reference level.
    """

    X: np.ndarray
    columns: list[str]
    source: list[str]
    level: list[str | None]
    reference: dict[str, str] = field(default_factory=dict)


def _is_factor(col: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype)
    )


def _level_str(level: Any) -> str:
    """A level as R prints it (``TRUE``/``FALSE`` for logicals)."""
    if isinstance(level, bool | np.bool_):
        return "TRUE" if level else "FALSE"
    return str(level)


def _factor_levels(col: pd.Series) -> list[Any]:
    """Levels as R's ``factor()`` would order them (categoricals keep their order)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        present = set(col.dropna().unique().tolist())
        return [c for c in col.cat.categories.tolist() if c in present]
    uniq = col.dropna().unique().tolist()
    if pd.api.types.is_bool_dtype(col.dtype):
        return sorted(uniq)  # FALSE < TRUE as in R
    try:
        return sorted(uniq)
    except TypeError:
        return sorted(uniq, key=str)


def design_matrix(
    data: Any, covariates: Sequence[str], *, intercept: bool = True, full_dummies: bool = False
) -> DesignMatrix:
    """Build the model matrix for ``covariates`` as R's ``model.matrix`` does.

    With ``full_dummies=True`` every level gets a column (R's
    ``contrasts = FALSE``, used for Mahalanobis distances).
    Raises ``ValueError`` naming the covariate and row on missing or non-finite
    values.
    """
    df = as_pandas(data)
    specs, reference = design_columns(df, covariates, intercept=intercept,
                                      full_dummies=full_dummies)
    # one preallocated column-major matrix: no n x p temporaries, contiguous columns
    X = np.empty((len(df), len(specs)), order="F")
    for j, spec in enumerate(specs):
        spec.fill(X[:, j])
    return DesignMatrix(X=X, columns=[c.name for c in specs], source=[c.source for c in specs],
                        level=[c.level for c in specs], reference=reference)


@dataclass
class DesignColumn:
    """One model-matrix column, not yet materialised.

    ``values`` is a float array, or a scalar (the intercept's 1.0); for a factor
    level ``codes`` and ``code`` give the dummy (``codes == code``).
    """

    name: str
    source: str
    level: str | None
    values: Any = 0.0
    codes: np.ndarray | None = None
    code: int = 0

    def fill(self, out: np.ndarray) -> np.ndarray:
        """Write the column into ``out`` (float64, length n) and return it."""
        if self.codes is None:
            out[:] = self.values
        else:
            np.equal(self.codes, self.code, out=out, casting="unsafe")
        return out

    def array(self, n: int) -> np.ndarray:
        """The column as a new float64 array (numeric columns are returned as they are)."""
        if self.codes is None and isinstance(self.values, np.ndarray):
            return self.values
        return self.fill(np.empty(n))

    def fill_rows(self, start: int, stop: int, out: np.ndarray) -> None:
        """Write rows ``start:stop`` of the column into ``out``."""
        if self.codes is not None:
            np.equal(self.codes[start:stop], self.code, out=out, casting="unsafe")
        elif isinstance(self.values, np.ndarray):
            out[:] = self.values[start:stop]
        else:
            out[:] = self.values


class LazyDesign:
    """A model matrix that is never built whole: columns and row blocks on demand.

    The logistic fit reads it in row blocks (:func:`irls_logit`), so 2.5 million
    units with 16 dummy-coded columns need no 320 MB matrix; only the numeric
    covariates and the factor codes are held.
    """

    def __init__(self, specs: list[DesignColumn], n: int) -> None:
        self.specs = specs
        self.shape = (n, len(specs))
        self.columns = [c.name for c in specs]
        self.source = [c.source for c in specs]
        self.level = [c.level for c in specs]

    def column(self, j: int) -> np.ndarray:
        """Column ``j`` as a float64 array."""
        return self.specs[j].array(self.shape[0])

    def subset(self, keep: list[int]) -> LazyDesign:
        """The design restricted to the columns ``keep``."""
        return LazyDesign([self.specs[j] for j in keep], self.shape[0])

    def block(self, start: int, stop: int, out: np.ndarray) -> np.ndarray:
        """Rows ``start:stop`` filled into ``out`` (at least that many rows, p columns)."""
        rows = out[: stop - start]
        for j, c in enumerate(self.specs):
            c.fill_rows(start, stop, rows[:, j])
        return rows


def design_columns(
    df: pd.DataFrame, covariates: Sequence[str], *, intercept: bool = True,
    full_dummies: bool = False,
) -> tuple[list[DesignColumn], dict[str, str]]:
    """The columns of :func:`design_matrix` (checked, named) without building the matrix.

    Returns the columns and the reference level of each factor.
    """
    covariates = list(covariates)
    if not covariates:
        raise MatchingError("at least one covariate is needed")
    _check_columns(df, covariates, "covariate")
    specs: list[DesignColumn] = []
    reference: dict[str, str] = {}
    if intercept:
        specs.append(DesignColumn("(Intercept)", "(Intercept)", None, 1.0))
    for cov in covariates:
        col = df[cov]
        na = col.isna().to_numpy()
        if na.any():
            rows = np.flatnonzero(na)
            raise MatchingError(
                f"covariate {cov!r} has {len(rows)} missing value(s) (first rows: "
                f"{', '.join(map(str, rows[:5]))}); remove or impute them before matching"
            )
        if _is_factor(col):
            levels = _factor_levels(col)
            codes, uniques = pd.factorize(col)
            code_of = {u: k for k, u in enumerate(uniques.tolist())}
            reference[cov] = _level_str(levels[0])
            for lev in levels if full_dummies else levels[1:]:
                name = _level_str(lev)
                specs.append(DesignColumn(f"{cov}{name}", cov, name, codes=codes,
                                          code=code_of[lev]))
        else:
            x = col.to_numpy(dtype=float)
            bad = ~np.isfinite(x)
            if bad.any():
                raise MatchingError(
                    f"covariate {cov!r} has non-finite values "
                    f"(first row {int(np.flatnonzero(bad)[0])})"
                )
            specs.append(DesignColumn(cov, cov, None, x))
    return specs, reference


def _check_variance(dm: LazyDesign, covariates: Sequence[str]) -> None:
    for cov in covariates:
        idx = [j for j, s in enumerate(dm.source) if s == cov]
        if not idx:
            raise MatchingError(f"covariate {cov!r} has no variance (a single level); drop it")
        if not any(np.any((x := dm.column(j)) != x[0]) for j in idx):
            raise MatchingError(f"covariate {cov!r} has no variance (constant); drop it")


def _aliased_columns(X: Any, tol: float = 1e-9) -> list[int]:
    """Columns linearly dependent on earlier ones (R's pivoting keeps earlier columns).

    ``X`` is a matrix or a :class:`LazyDesign`; the Gram matrix is accumulated over row
    blocks and the columns are equilibrated on it.
    """
    n = X.shape[0]
    G, _ = normal_equations(X, np.ones(n), np.zeros(n))
    scale = np.sqrt(np.diag(G))
    scale[scale == 0] = 1.0
    G = G / np.outer(scale, scale)
    kept: list[int] = []
    aliased: list[int] = []
    for j in range(G.shape[0]):
        if kept:
            Gkk = G[np.ix_(kept, kept)]
            gkj = G[kept, j]
            try:
                resid = G[j, j] - gkj @ np.linalg.solve(Gkk, gkj)
            except np.linalg.LinAlgError:
                resid = 0.0
        else:
            resid = G[j, j]
        if resid > tol * max(G[j, j], 1e-300):
            kept.append(j)
        else:
            aliased.append(j)
    return aliased


def _separating_columns(dm: LazyDesign, y: np.ndarray, keep: list[int]) -> list[str]:
    """Human-readable descriptions of design columns that separate treatment.

    0/1 columns are judged from counts (``sum(x)``, ``x @ y``: exact integers),
    not by selecting rows.
    """
    out: list[str] = []
    n, n_treated = y.size, float(y.sum())
    treated = y == 1
    for j in keep:
        if dm.source[j] == "(Intercept)":
            continue
        x = dm.column(j)
        if dm.level[j] is not None or not np.any((x != 0.0) & (x != 1.0)):
            ones, t_ones = float(x.sum()), float(x @ y)
            for val, units, t_units in ((1.0, ones, t_ones),
                                        (0.0, n - ones, n_treated - t_ones)):
                if units == 0 or 0 < t_units < units:
                    continue
                grp = "treated" if t_units == units else "control"
                if dm.level[j] is not None and val == 1.0:
                    what = f"level {dm.level[j]!r} of covariate {dm.source[j]!r}"
                elif dm.level[j] is not None:
                    what = f"covariate {dm.source[j]!r} other than level {dm.level[j]!r}"
                else:
                    what = f"covariate {dm.source[j]!r} = {int(val)}"
                out.append(f"{what} occurs only among {grp} units ({int(units)} units)")
        else:
            xt, xc = x[treated], x[~treated]
            if xt.min() >= xc.max() or xt.max() <= xc.min():
                out.append(f"covariate {dm.source[j]!r} separates treated from control units")
    return out


@dataclass
class PropensityModel:
    """A fitted propensity model.

    ``score`` holds P(treated | covariates); ``linear_predictor`` the logit
    (``None`` for boosting); ``distance`` is what matching uses: the score, or
    the linear predictor for ``link="linear.logit"``.
    """

    method: str
    link: str
    score: np.ndarray
    distance: np.ndarray
    linear_predictor: np.ndarray | None = None
    coefficients: pd.Series | None = None
    converged: bool = True
    iterations: int = 0
    deviance: float = float("nan")
    columns: list[str] = field(default_factory=list)


def estimate_propensity(
    data: Any,
    treatment: str,
    covariates: Sequence[str],
    *,
    method: Literal["glm", "gbm"] = "glm",
    link: Literal["logit", "linear.logit"] = "logit",
    seed: int | None = 0,
) -> PropensityModel:
    """Estimate propensity scores for ``treatment`` from ``covariates``.

    Parameters
    ----------
    data : pandas.DataFrame or polars.DataFrame
        One row per unit.
    treatment : str
        0/1 (or boolean) treatment column.
    covariates : sequence of str
        Covariates (factors get dummies with R's reference level).
    method : {"glm", "gbm"}, default "glm"
        ``"glm"``: unpenalised logistic regression exactly like R's ``glm(treat ~
        covariates, family = binomial)`` (MatchIt's ``distance = "glm"``);
        ``"gbm"``: scikit-learn's ``HistGradientBoostingClassifier`` (an
        alternative score; not MatchIt's gbm).
    link : {"logit", "linear.logit"}, default "logit"
        ``"linear.logit"`` makes ``distance`` the linear predictor (MatchIt's
        ``link = "linear.logit"``).
    seed : int or None, default 0
        Seed of the boosting.

    Returns
    -------
    PropensityModel
        ``score`` (probabilities), ``distance`` (what matching uses), coefficients.

    Raises
    ------
    MatchingError
        Missing values, an empty treatment group, or a covariate without variance
        (naming it).

    Warns
    -----
    SeparationWarning
        Naming the covariate, on perfect or quasi-complete separation.
    RuntimeWarning
        When IRLS does not converge; scores stay finite.
    """
    df = as_pandas(data)
    y = treatment_vector(df, treatment).astype(float)
    covariates = list(covariates)
    dm = LazyDesign(design_columns(df, covariates)[0], len(df))
    _check_variance(dm, covariates)
    if method == "gbm":
        from sklearn.ensemble import HistGradientBoostingClassifier

        X = design_matrix(df, covariates).X[:, 1:]
        clf = HistGradientBoostingClassifier(random_state=seed)
        clf.fit(X, y.astype(int))
        score = clf.predict_proba(X)[:, 1]
        return PropensityModel(
            method="gbm", link="logit", score=score, distance=score, columns=dm.columns[1:]
        )
    if method != "glm":
        raise MatchingError(f"unknown propensity method {method!r}; use 'glm' or 'gbm'")
    if link not in ("logit", "linear.logit"):
        raise MatchingError(f"unknown link {link!r}; use 'logit' or 'linear.logit'")
    aliased = _aliased_columns(dm)
    if aliased:
        warnings.warn(
            "propensity model: column(s) "
            + ", ".join(repr(dm.columns[j]) for j in aliased)
            + " are linearly dependent on earlier columns and were dropped (R reports NA)",
            UserWarning,
            stacklevel=2,
        )
    keep = [j for j in range(dm.shape[1]) if j not in aliased]
    coef, eta, mu, converged, iterations, dev = irls_logit(dm.subset(keep), y)
    issues = _separating_columns(dm, y, keep)
    eps = 10 * _DBL_EPS
    extreme = int(((mu > 1 - eps) | (mu < eps)).sum())
    if issues or extreme:
        msg = "perfect or quasi-complete separation in the propensity model"
        if issues:
            msg += ": " + "; ".join(issues)
        if extreme:
            msg += f"; fitted probabilities numerically 0 or 1 for {extreme} unit(s)"
        if not issues:
            sds = np.array([dm.column(j).std() for j in keep[1:]])
            big = int(np.argmax(np.abs(coef[1:]) * sds)) + 1
            msg += f" (largest standardised coefficient: {dm.columns[keep[big]]!r})"
        warnings.warn(msg, SeparationWarning, stacklevel=2)
    if not converged:
        warnings.warn(
            f"propensity model: IRLS did not converge in {iterations} iterations",
            RuntimeWarning,
            stacklevel=2,
        )
    full = np.full(dm.shape[1], np.nan)
    full[keep] = coef
    coefs = pd.Series(full, index=dm.columns, name="coefficient")
    return PropensityModel(
        method="glm",
        link=link,
        score=mu,
        distance=eta.copy() if link == "linear.logit" else mu,
        linear_predictor=eta,
        coefficients=coefs,
        converged=converged,
        iterations=iterations,
        deviance=dev,
        columns=dm.columns,
    )
