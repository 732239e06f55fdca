"""Group-time average treatment effects, Callaway & Sant'Anna (2021), as R's ``did::att_gt``.

For every treated cohort ``g`` and period ``t`` a two-period DiD compares cohort ``g``
with a comparison group between ``t`` and a base period:

- ``base_period="varying"`` (default): before treatment the base is the previous
  period (``t-1``), after treatment the last period before ``g - anticipation``;
- ``base_period="universal"``: always the last period before ``g - anticipation``;
  the cell of the base period itself is reported as 0 (with zero influence).

The comparison group is the never treated (``control_group="never"``) or the never
treated plus the cohorts not yet treated by ``max(t, base) + anticipation`` other than
``g`` (``"notyet"``). Covariates are taken from the earlier of the two periods, as
``did`` does for panel data. Estimation per cell uses :mod:`did_drdid` ("dr", "ipw",
"reg"); without covariates all three reduce to the difference in mean changes, which is
computed from cohort sums in O(n) per cell (only the influence function touches the
units). Influence functions are kept per unit (``psi``, shape ``n x cells``) and scaled
as in ``did`` (``V = psi' psi / n``, analytical ``se = sqrt(diag(V) / n)``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import polars as pl
from scipy import stats

from ozamonitor.causal.did_bootstrap import (
    bootstrap_se,
    multiplier_bootstrap,
    segment_sums_bootstrap,
    sup_t_critical_value,
)
from ozamonitor.causal.did_cells import control_ranges, cov_cell, fast_cell
from ozamonitor.causal.did_panel import Balance, DidInputError, PanelData, prepare_panel

__all__ = ["AttGtResult", "att_gt", "att_gt_panel"]

_TINY = float(np.sqrt(np.finfo(float).eps) * 10)
#: Comparison group: never treated or not yet treated (R's spellings accepted too).
ControlGroup = Literal["never", "notyet", "nevertreated", "notyettreated"]
#: ATT(g,t) estimator: doubly robust, inverse probability weighting or regression.
EstMethod = Literal["dr", "ipw", "reg"]
#: Base period of pre-treatment cells.
BasePeriod = Literal["varying", "universal"]
#: Multiplier-bootstrap weights.
BootWeights = Literal["rademacher", "mammen"]

_CONTROL_ALIASES = {
    "never": "never",
    "nevertreated": "never",
    "notyet": "notyet",
    "notyettreated": "notyet",
}


@dataclass
class AttGtResult:
    """ATT(g,t) estimates with influence functions and inference.

    ``inf_func`` has one row per unit in the order of ``panel.unit_ids`` (units sorted
    by cohort) and one column per cell.

    ``se`` is the bootstrap standard error when ``bootstrap`` is true, else analytical
    (``se_analytical`` always holds the latter). ``crit_val`` is the sup-t critical value
    of the uniform band (pointwise normal value without bootstrap / ``cband``).
    ``wald_stat``/``wald_pvalue`` test that all pre-treatment ATT(g,t) are zero, with the
    analytical covariance as ``did`` does (``None`` when not computable).
    """

    group: np.ndarray
    time: np.ndarray
    att: np.ndarray
    se: np.ndarray
    se_analytical: np.ndarray
    inf_func: np.ndarray
    n: int
    crit_val: float
    alpha: float
    wald_stat: float | None
    wald_pvalue: float | None
    panel: PanelData
    control_group: str
    est_method: str
    base_period: str
    anticipation: float
    bootstrap: bool
    biters: int
    cband: bool
    seed: int | None
    boot_weights: str
    base_time: np.ndarray = field(default_factory=lambda: np.empty(0))
    boot_draws: np.ndarray | None = None
    boot_cohort_draws: np.ndarray | None = None
    boot_n_clusters: int = 0
    messages: list[str] = field(default_factory=list)

    @property
    def post(self) -> np.ndarray:
        """True for post-treatment cells (``group <= time``)."""
        return self.group <= self.time

    @property
    def vcov_analytical(self) -> np.ndarray:
        """Analytical covariance of the estimates, ``psi' psi / n^2``."""
        psi = np.nan_to_num(self.inf_func)
        return psi.T @ psi / self.n**2

    def to_frame(self) -> pd.DataFrame:
        """One row per cell: group, time, att, se, lower, upper (uniform band if cband)."""
        lo = self.att - self.crit_val * self.se
        hi = self.att + self.crit_val * self.se
        return pd.DataFrame(
            {
                "group": _maybe_int(self.group),
                "time": _maybe_int(self.time),
                "att": self.att,
                "se": self.se,
                "lower": lo,
                "upper": hi,
                "post": self.post.astype(int),
            }
        )

    def summary(self) -> str:
        """A short text summary as ``did``'s ``summary(att_gt)``."""
        lines = [
            f"Group-time ATT ({self.est_method}, control: {self.control_group}, "
            f"base period: {self.base_period}, n = {self.n})"
        ]
        band = "simultaneous" if (self.bootstrap and self.cband) else "pointwise"
        lines.append(f"{'group':>8} {'time':>8} {'att':>10} {'se':>10}  [{band} 95% band]")
        for row in self.to_frame().itertuples():
            lines.append(
                f"{row.group:8g} {row.time:8g} {row.att:10.4f} {row.se:10.4f}  "
                f"[{row.lower:.4f}, {row.upper:.4f}]"
            )
        if self.wald_pvalue is not None:
            lines.append(
                f"P-value for pre-test of parallel trends assumption: {self.wald_pvalue:.5f}"
            )
        return "\n".join(lines)


def _maybe_int(v: np.ndarray) -> np.ndarray:
    """Integer array when every value is integral (periods are usually years)."""
    v = np.asarray(v, dtype=float)
    if v.size and np.all(np.isfinite(v)) and np.all(v == np.round(v)):
        return v.astype(np.int64)
    return v


def att_gt_panel(
    panel: PanelData,
    *,
    control_group: ControlGroup = "never",
    est_method: EstMethod = "dr",
    base_period: BasePeriod = "varying",
    anticipation: float = 0,
    bootstrap: bool = True,
    biters: int = 999,
    cband: bool = True,
    alpha: float = 0.05,
    seed: int | None = None,
    boot_weights: BootWeights = "rademacher",
) -> AttGtResult:
    """ATT(g,t) for a prepared :class:`PanelData` (see :func:`att_gt`)."""
    # Long on purpose: it follows did::att_gt's compute.att_gt and its inference step by
    # step (cells, influence functions, bootstrap, pre-test), so it can be read against R.
    control_group = _CONTROL_ALIASES.get(control_group, control_group)
    if control_group not in ("never", "notyet"):
        raise DidInputError("control_group must be 'never' or 'notyet'")
    if est_method not in ("dr", "ipw", "reg"):
        raise DidInputError("est_method must be 'dr', 'ipw' or 'reg'")
    if base_period not in ("varying", "universal"):
        raise DidInputError("base_period must be 'varying' or 'universal'")
    periods = panel.periods
    T = len(periods)
    tfac = 1 if base_period == "varying" else 0
    n = panel.n
    has_x = panel.x.shape[2] > 0
    cells: list[tuple[float, int, int | None]] = []
    for g in panel.groups:
        pre = np.flatnonzero(periods + anticipation < g)
        pret_g = int(pre[-1]) if pre.size else None
        for tt in range(T - tfac):
            tc = tt + tfac
            pret: int | None = tt if base_period == "varying" else pret_g
            if g <= periods[tc]:
                pret = pret_g
            cells.append((float(g), tc, pret))
    K = len(cells)
    psi = np.zeros((n, K), order="F")
    att = np.full(K, np.nan)
    base = np.full(K, np.nan)
    msgs: list[str] = []
    slices = {
        float(v): (int(s), int(e))
        for v, s, e in zip(panel.cohort_values, panel.cohort_start, panel.cohort_end, strict=True)
    }
    # without covariates psi is, within a cohort, linear in (w * y, w): keep coefficients
    coef = np.zeros((len(panel.cohort_values), T + 1, K)) if not has_x else None
    structured = bootstrap and not has_x and panel.cluster is None
    cohort_index = {float(v): j for j, v in enumerate(panel.cohort_values)}
    for k, (g, tc, pret) in enumerate(cells):
        label = f"group {g:g} in period {periods[tc]:g}"
        if pret is None:
            msgs.append(f"no pre-treatment period for group {g:g}; cell dropped (NaN)")
            psi[:, k] = np.nan
            continue
        base[k] = periods[pret]
        if base_period == "universal" and pret == tc:
            att[k] = 0.0
            continue
        cutoff = None
        if control_group == "notyet":
            cutoff = periods[max(tc - tfac, pret) + tfac] + anticipation
        cranges, cidx = control_ranges(panel, g, cutoff)
        tsl = slices[g]
        if not cranges or tsl[1] <= tsl[0]:
            msgs.append(f"no comparison units for {label}; ATT set to NaN")
            psi[:, k] = np.nan
            continue
        if has_x:
            tx = min(pret, tc - tfac)
            att[k] = cov_cell(panel, tsl, cranges, tc, pret, tx, psi, k, est_method, label, msgs)
        else:
            att[k] = fast_cell(
                panel,
                tsl,
                cranges,
                tc,
                pret,
                psi,
                k,
                est_method,
                label,
                msgs,
                coef=coef,
                jt=cohort_index[g],
                cidx=cidx,
            )
    for m in msgs:
        warnings.warn(m, stacklevel=3)

    group = np.array([c[0] for c in cells])
    time = np.array([periods[c[1]] for c in cells])
    basis = None
    if coef is not None:
        # V = psi' psi / n from per-cohort second moments of (w * y, w): O(n T^2)
        # outcomes centred within cohort (constant absorbed in the coefficients), so
        # that large outcome levels do not cancel in the moments and draws
        basis = np.empty((n, T + 1), order="F")
        for j, (a, b) in enumerate(zip(panel.cohort_start, panel.cohort_end, strict=True)):
            ybar = panel.y[a:b].mean(axis=0)
            basis[a:b, :T] = (panel.y[a:b] - ybar) * panel.weights[a:b, None]
            coef[j, T] += ybar @ coef[j, :T]
        basis[:, T] = panel.weights
        V_an = np.zeros((K, K))
        for j, (a, b) in enumerate(zip(panel.cohort_start, panel.cohort_end, strict=True)):
            m = basis[a:b].T @ basis[a:b]
            V_an += coef[j].T @ m @ coef[j]
        V_an /= n
        bad = np.isnan(att)
        V_an[bad, :] = np.nan
        V_an[:, bad] = np.nan
        ss = np.diag(V_an) * n
    else:
        V_an = None
        ss = np.einsum("ij,ij->j", psi, psi)
    se_an = np.sqrt(np.maximum(ss, 0.0) / n) / np.sqrt(n)
    se_an[~(se_an > _TINY)] = np.nan
    se = se_an.copy()
    crit = float(stats.norm.ppf(1 - alpha / 2))
    draws = None
    cohort_draws = None
    n_clusters = n
    do_band = cband and bootstrap and T > 2
    if bootstrap:
        if structured:
            # no covariates: psi is linear in (w * y, w) within each cohort, so the
            # draws follow from per-cohort multiplier sums (n x biters x (T + 1) work)
            S = segment_sums_bootstrap(
                basis,
                panel.cohort_start,
                panel.cohort_end,
                biters=biters,
                seed=seed,
                weights=boot_weights,
            )
            scale = np.sqrt(n) / n
            draws = scale * np.einsum("cbm,cmk->bk", S, coef)
            draws[:, np.isnan(att)] = np.nan
            cohort_draws = scale * S[:, :, T].T
            n_clusters = n
            del S
        else:
            # cohort indicators (times weights) ride along, so that aggregations can
            # reuse these draws: their influence functions are psi @ A + H @ alpha
            H = np.zeros((n, len(panel.cohort_values)), order="F")
            for j, (a, b) in enumerate(zip(panel.cohort_start, panel.cohort_end, strict=True)):
                H[a:b, j] = panel.weights[a:b]
            bd = multiplier_bootstrap(
                [psi, H], biters=biters, seed=seed, cluster=panel.cluster, weights=boot_weights
            )
            draws = bd.draws[0]
            cohort_draws = bd.draws[1]
            n_clusters = bd.n_clusters
        se_b = bootstrap_se(draws, n_clusters)
        ok = ~np.isnan(se_an)
        se[ok] = se_b[ok]
        se[~(se > _TINY)] = np.nan
        if do_band:
            cv = sup_t_critical_value(draws, alpha)
            if np.isfinite(cv):
                crit = cv
                if cv >= 7:
                    warnings.warn(
                        "simultaneous critical value is >= 7 and arguably too "
                        "large to be reliable (small groups?)",
                        stacklevel=2,
                    )
    wald, wp = _pretest(psi, att, group, time, se_an, n, V_an)
    del basis
    return AttGtResult(
        group=group,
        time=time,
        att=att,
        se=se,
        se_analytical=se_an,
        inf_func=psi,
        n=n,
        crit_val=crit,
        alpha=alpha,
        wald_stat=wald,
        wald_pvalue=wp,
        panel=panel,
        control_group=control_group,
        est_method=est_method,
        base_period=base_period,
        anticipation=float(anticipation),
        bootstrap=bootstrap,
        biters=biters,
        cband=do_band,
        seed=seed,
        boot_weights=boot_weights,
        base_time=base,
        boot_draws=draws,
        boot_cohort_draws=cohort_draws,
        boot_n_clusters=n_clusters,
        messages=msgs,
    )


def _pretest(
    psi: np.ndarray,
    att: np.ndarray,
    group: np.ndarray,
    time: np.ndarray,
    se_an: np.ndarray,
    n: int,
    V_all: np.ndarray | None = None,
) -> tuple[float | None, float | None]:
    """Wald test of all pre-treatment ATT(g,t) = 0 with the analytical covariance."""
    pre = np.flatnonzero((group > time) & ~np.isnan(se_an))
    if pre.size == 0:
        return None, None
    if np.isnan(att[pre]).any():
        return None, None
    if V_all is not None:
        V = V_all[np.ix_(pre, pre)]
    else:
        sub = psi[:, pre]
        if np.isnan(sub).any():
            return None, None
        V = sub.T @ sub / n
    if np.isnan(V).any():
        return None, None
    if 1.0 / np.linalg.cond(V, 1) <= np.finfo(float).eps:
        warnings.warn(
            "no pre-test Wald statistic: singular covariance of pre-treatment ATT(g,t)",
            stacklevel=3,
        )
        return None, None
    a = att[pre]
    W = float(n * a @ np.linalg.solve(V, a))
    return W, float(stats.chi2.sf(W, pre.size))


def att_gt(
    data: pd.DataFrame | pl.DataFrame | pl.LazyFrame,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    *,
    covariates: Sequence[str] = (),
    control_group: ControlGroup = "never",
    est_method: EstMethod = "dr",
    base_period: BasePeriod = "varying",
    anticipation: float = 0,
    weights: str | None = None,
    cluster: str | None = None,
    bootstrap: bool = True,
    biters: int = 999,
    cband: bool = True,
    alpha: float = 0.05,
    seed: int | None = None,
    boot_weights: BootWeights = "rademacher",
    balance: Balance = "drop",
) -> AttGtResult:
    """Callaway & Sant'Anna group-time ATTs from a long, balanced panel (R ``did::att_gt``).

    Parameters
    ----------
    data : pandas.DataFrame, polars.DataFrame or polars.LazyFrame
        Long frame, one row per unit and period.
    unit, time, cohort, outcome : str
        Column names; ``cohort`` is the first treated period (0 or empty: never
        treated), R's ``gname``.
    covariates : sequence of str, default ()
        Covariate columns (values of the base period are used), R's ``xformla``.
    control_group : {"never", "notyet"}, default "never"
        Never treated or not yet treated (R's ``"nevertreated"``,
        ``"notyettreated"`` accepted).
    est_method : {"dr", "ipw", "reg"}, default "dr"
        Doubly robust, inverse probability weighting or outcome regression.
    base_period : {"varying", "universal"}, default "varying"
    anticipation : float, default 0
        Periods of anticipation (R's ``anticipation``).
    weights : str, optional
        Time-invariant sampling weights column (R's ``weightsname``).
    cluster : str, optional
        Time-invariant cluster column for the bootstrap (``clustervars``).
    bootstrap : bool, default True
        Multiplier bootstrap (Rademacher weights, as ``did``).
    biters : int, default 999
    cband : bool, default True
        Uniform confidence bands.
    alpha : float, default 0.05
    seed : int, optional
    boot_weights : {"rademacher", "mammen"}, default "rademacher"
    balance : {"drop", "error"}, default "drop"
        Drop units not observed in every period (with a warning) or refuse.

    Returns
    -------
    AttGtResult
        ATT(g,t), influence functions, standard errors, the pre-test of parallel
        trends; ``to_frame()`` for a table.

    Raises
    ------
    DidInputError
        Bad columns, values or options, naming the column or unit.
    """
    panel = prepare_panel(
        data,
        unit,
        time,
        cohort,
        outcome,
        covariates=covariates,
        weights=weights,
        cluster=cluster,
        control_group=_CONTROL_ALIASES.get(control_group, control_group),
        anticipation=anticipation,
        balance=balance,
    )
    return att_gt_panel(
        panel,
        control_group=control_group,
        est_method=est_method,
        base_period=base_period,
        anticipation=anticipation,
        bootstrap=bootstrap,
        biters=biters,
        cband=cband,
        alpha=alpha,
        seed=seed,
        boot_weights=boot_weights,
    )
