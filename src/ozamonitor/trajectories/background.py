"""Link trajectory clusters to background characteristics of the children.

* :func:`crosstab` - cluster membership by each background characteristic, with
  row percentages (the share of each category in every cluster) and column
  percentages;
* :func:`mnlogit` - a multinomial logit (statsmodels ``MNLogit``) of the cluster
  on background covariates: categorical covariates are dummy coded against a
  reference category, numeric ones enter as they are; the result is a tidy
  table with one row per (cluster, term): coefficient, standard error, z, p,
  odds ratio (relative risk ratio) and its confidence interval, each cluster
  against the base cluster.

Clear errors instead of silent nonsense: a covariate with one value
(:class:`ConstantCovariateError`), a category that never occurs in some
cluster or any other (quasi-)complete separation (:class:`SeparationError`),
collinear terms.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from ozamonitor.errors import ConfigurationError, InputError

#: A coefficient above this (in absolute value) or a standard error above
#: :data:`DIVERGENT_SE` means the estimates diverge: (quasi-)complete separation.
DIVERGENT_COEF = 20.0
DIVERGENT_SE = 1e3


class ConstantCovariateError(InputError):
    """A covariate takes a single value: it cannot be estimated."""


class SeparationError(InputError):
    """(Quasi-)complete separation: some coefficient has no finite estimate.

    ``variable`` names the covariate responsible when it is known.
    """

    def __init__(self, message: str, variable: str | None = None) -> None:
        super().__init__(message)
        self.variable = variable


def _frame(df: Any) -> pl.DataFrame:
    if isinstance(df, pl.DataFrame):
        return df
    if isinstance(df, pl.LazyFrame):
        return df.collect()
    return pl.from_pandas(df)


def _labels(clusters: Any, n: int) -> pl.Series:
    s = (
        clusters
        if isinstance(clusters, pl.Series)
        else pl.Series("cluster", np.asarray(clusters).tolist())
    )
    if len(s) != n:
        raise InputError(f"{len(s)} cluster labels for {n} rows of background data")
    return s.cast(pl.String).alias("cluster")


def crosstab(
    clusters: Any, background: Any, variables: Sequence[str] | None = None
) -> pl.DataFrame:
    """Counts of cluster x category for every background variable.

    Returns a long frame: variable, category, cluster, n, n_category (row
    total), row_pct (percent of the category in this cluster), col_pct
    (percent of the cluster in this category). Missing values form the
    category ``"(missing)"``. Publish counts through
    :mod:`ozamonitor.privacy.disclosure`.
    """
    bg = _frame(background)
    cl = _labels(clusters, bg.height)
    variables = list(variables) if variables is not None else bg.columns
    frames = []
    for v in variables:
        if v not in bg.columns:
            raise InputError(f"background data has no column {v!r}")
        d = pl.DataFrame({"category": bg[v].cast(pl.String).fill_null("(missing)"), "cluster": cl})
        cnt = d.group_by("category", "cluster").len("n")
        cats = pl.Series("category", sorted(d["category"].unique().to_list(), key=_natural),
                         dtype=pl.String)
        cls = d["cluster"].unique().sort()
        full = (
            pl.DataFrame({"category": cats})
            .join(pl.DataFrame({"cluster": cls}), how="cross")
            .join(cnt, on=["category", "cluster"], how="left")
            .with_columns(pl.col("n").fill_null(0).cast(pl.Int64))
        )
        full = full.with_columns(
            n_category=pl.col("n").sum().over("category"),
            n_cluster=pl.col("n").sum().over("cluster"),
        ).with_columns(
            row_pct=100.0 * pl.col("n") / pl.col("n_category"),
            col_pct=100.0 * pl.col("n") / pl.col("n_cluster"),
        )
        frames.append(
            full.select(
                pl.lit(v).alias("variable"),
                "category",
                "cluster",
                "n",
                "n_category",
                "row_pct",
                "col_pct",
            )
        )
    return pl.concat(frames)


@dataclass
class MNLogitResult:
    """Tidy coefficients plus fit information."""

    coefficients: pl.DataFrame
    base_cluster: str
    references: dict[str, str]
    n: int
    n_dropped: int
    llf: float
    llnull: float
    converged: bool
    terms: list[str] = field(default_factory=list)

    @property
    def pseudo_r2(self) -> float:
        """McFadden's pseudo R-squared."""
        return 1.0 - self.llf / self.llnull if self.llnull else float("nan")


def _design(
    bg: pl.DataFrame, covariates: Sequence[str], categorical: set[str], reference: Mapping[str, str]
) -> tuple[np.ndarray, list[str], dict[str, str], list[tuple[str, str, str]]]:
    cols: list[np.ndarray] = [np.ones(bg.height)]
    names = ["(intercept)"]
    refs: dict[str, str] = {}
    dummies: list[tuple[str, str, str]] = []  # (term, variable, category)
    for v in covariates:
        col = bg[v]
        if col.n_unique() < 2:
            raise ConstantCovariateError(
                f"covariate {v!r} takes a single value ({col[0]!r}) in the analysed rows; "
                "drop it from the model"
            )
        if v in categorical:
            vals = col.cast(pl.String)
            levels = sorted(vals.unique().to_list())
            ref = str(reference.get(v, levels[0]))
            if ref not in levels:
                raise ConfigurationError(
                    f"reference category {ref!r} of {v!r} does not occur; "
                    f"categories: {', '.join(levels)}"
                )
            refs[v] = ref
            arr = vals.to_numpy()
            for lev in levels:
                if lev == ref:
                    continue
                term = f"{v}[{lev}]"
                cols.append((arr == lev).astype(float))
                names.append(term)
                dummies.append((term, v, lev))
        else:
            cols.append(col.cast(pl.Float64).to_numpy())
            names.append(v)
    return np.column_stack(cols), names, refs, dummies


def mnlogit(
    clusters: Any,
    background: Any,
    covariates: Sequence[str],
    *,
    categorical: Sequence[str] | None = None,
    reference: Mapping[str, str] | None = None,
    base_cluster: str | int | None = None,
    alpha: float = 0.05,
    maxiter: int = 200,
) -> MNLogitResult:
    """Multinomial logit of cluster membership on background covariates.

    Rows with a missing covariate are dropped (``n_dropped``).

    Parameters
    ----------
    clusters : array-like
        One cluster label per row of ``background``.
    background : polars or pandas DataFrame
        The covariates.
    covariates : sequence of str
        Columns to use. String, boolean and categorical columns (or those named
        in ``categorical``) are dummy coded; others are numeric.
    categorical : sequence of str, optional
        Further columns to dummy code.
    reference : mapping, optional
        Reference category per categorical covariate (default: the first in
        sorted order).
    base_cluster : str or int, optional
        The cluster the others are compared with (default: the largest).
    alpha : float, default 0.05
        One minus the confidence level of the odds-ratio intervals.
    maxiter : int, default 200
        Newton iterations.

    Returns
    -------
    MNLogitResult

    Raises
    ------
    ConstantCovariateError
        A covariate with one value.
    SeparationError
        (Quasi-)complete separation: some coefficient has no finite estimate.
    InputError
        Missing columns, no rows, fewer than two clusters, collinear terms.
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import (
        ConvergenceWarning,
        PerfectSeparationError,
        PerfectSeparationWarning,
    )

    data, n_dropped, cats = _model_frame(clusters, background, covariates, categorical)
    order, y = _outcome(data["cluster"], base_cluster)
    X, names, refs, dummies = _design(data, covariates, cats, reference or {})
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise InputError(
            f"covariates are collinear (design matrix of rank "
            f"{np.linalg.matrix_rank(X)} < {X.shape[1]} terms: {', '.join(names)})"
        )
    _check_separation(X, y, names, order, dummies)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            res = sm.MNLogit(y, X).fit(method="newton", maxiter=maxiter, disp=False)
        except (PerfectSeparationError, PerfectSeparationWarning, np.linalg.LinAlgError) as e:
            raise SeparationError(
                f"perfect separation or singular information matrix: {e}"
            ) from None
    params = np.asarray(res.params)
    bse = np.asarray(res.bse)
    if (not np.all(np.isfinite(bse))) or np.any(np.abs(params) > DIVERGENT_COEF) or np.any(
            bse > DIVERGENT_SE):
        bad = np.unravel_index(np.nanargmax(np.where(np.isfinite(bse), bse, np.inf)), bse.shape)
        raise SeparationError(
            f"estimates diverge (term {names[bad[0]]!r}, cluster {order[bad[1] + 1]!r}: "
            f"coef {params[bad]:.3g}, se {bse[bad]:.3g}): (quasi-)complete separation"
        )
    return MNLogitResult(
        coefficients=_tidy(params, bse, names, order, alpha),
        base_cluster=order[0],
        references=refs,
        n=int(data.height),
        n_dropped=n_dropped,
        llf=float(res.llf),
        llnull=float(res.llnull),
        converged=bool(res.mle_retvals.get("converged", True)),
        terms=names,
    )


def _model_frame(clusters: Any, background: Any, covariates: Sequence[str],
                 categorical: Sequence[str] | None) -> tuple[pl.DataFrame, int, set[str]]:
    """Covariates and ``cluster`` of the complete rows, rows dropped, categorical columns."""
    bg = _frame(background)
    cl = _labels(clusters, bg.height)
    missing = [c for c in covariates if c not in bg.columns]
    if missing:
        raise InputError(f"background data has no column(s) {', '.join(missing)}")
    if not covariates:
        raise ConfigurationError("mnlogit needs at least one covariate")
    data = bg.select(covariates).with_columns(cl)
    n_all = data.height
    data = data.drop_nulls()
    if data.height == 0:
        raise InputError("no rows left after dropping rows with missing covariates")
    cats = set(categorical or [])
    for c in covariates:
        dt = data.schema[c]
        if dt in (pl.String, pl.Boolean, pl.Categorical) or isinstance(dt, pl.Enum):
            cats.add(c)
    return data, n_all - data.height, cats


def _outcome(y_lab: pl.Series, base_cluster: str | int | None) -> tuple[list[str], np.ndarray]:
    """Cluster levels (the base first) and the outcome coded 0.. in that order."""
    levels = sorted(y_lab.unique().to_list(), key=_natural)
    if len(levels) < 2:
        raise InputError("mnlogit needs at least two clusters")
    if base_cluster is None:
        counts = y_lab.value_counts()
        base = str(counts.sort(["count", "cluster"], descending=[True, False])["cluster"][0])
    else:
        base = str(base_cluster)
        if base not in levels:
            raise ConfigurationError(f"base cluster {base!r} not among clusters {levels}")
    order = [base] + [lv for lv in levels if lv != base]
    y = y_lab.replace_strict(
        {lv: i for i, lv in enumerate(order)}, return_dtype=pl.Int64
    ).to_numpy()
    return order, y


def _check_separation(X: np.ndarray, y: np.ndarray, names: list[str], order: list[str],
                      dummies: list[tuple[str, str, str]]) -> None:
    """Quasi-complete separation by a category: a dummy that is 1 in no row of a cluster."""
    for term, v, lev in dummies:
        col = X[:, names.index(term)] == 1
        for j, lv in enumerate(order):
            if not (col & (y == j)).any():
                raise SeparationError(
                    f"perfect separation: category {lev!r} of {v!r} never occurs in cluster "
                    f"{lv!r}, so its coefficient is infinite; merge categories or clusters",
                    variable=v,
                )


def _tidy(params: np.ndarray, bse: np.ndarray, names: list[str], order: list[str],
          alpha: float) -> pl.DataFrame:
    """One row per (cluster, term): coefficient, se, z, p, odds ratio and its interval."""
    z = params / bse
    p = 2 * stats.norm.sf(np.abs(z))
    q = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for j in range(params.shape[1]):
        for i, term in enumerate(names):
            rows.append(
                {
                    "cluster": order[j + 1],
                    "term": term,
                    "coef": params[i, j],
                    "se": bse[i, j],
                    "z": z[i, j],
                    "p": p[i, j],
                    "odds_ratio": float(np.exp(params[i, j])),
                    "ci_low": float(np.exp(params[i, j] - q * bse[i, j])),
                    "ci_high": float(np.exp(params[i, j] + q * bse[i, j])),
                }
            )
    return pl.DataFrame(rows)


def _natural(v: str) -> tuple[int, Any]:
    """Sort cluster labels numerically when they are numbers."""
    try:
        return (0, float(v))
    except ValueError:
        return (1, v)
