"""ATT(g,t) of one group-time cell: the estimators ``att_gt_panel`` runs per cell.

:func:`fast_cell` is the no-covariate cell (a difference of means, with its
influence function and what the fast bootstrap needs); :func:`cov_cell` runs
DRDID's doubly robust, IPW or regression estimator on the base-period
covariates (:mod:`ozamonitor.causal.did_drdid`); :func:`control_ranges` finds
a cohort's comparison units.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ozamonitor.causal.did_drdid import drdid_panel, logit_fit, reg_did_panel, std_ipw_did_panel
from ozamonitor.causal.did_panel import PanelData

__all__ = ["control_ranges", "cov_cell", "fast_cell", "separating_covariates"]


def control_ranges(
    panel: PanelData, g: float, cutoff: float | None
) -> tuple[list[tuple[int, int]], list[int]]:
    """Slices of the comparison units (never treated, or cohort > cutoff and != g).

    Returns the merged row ranges and the indices of the comparison cohorts.
    """
    vals = panel.cohort_values
    out: list[tuple[int, int]] = []
    idx: list[int] = []
    for j, c in enumerate(vals):
        ok = not np.isfinite(c) or (cutoff is not None and c > cutoff and c != g)
        if not ok:
            continue
        idx.append(j)
        s, e = int(panel.cohort_start[j]), int(panel.cohort_end[j])
        if out and out[-1][1] == s:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out, idx


def fast_cell(
    panel: PanelData,
    tslice: tuple[int, int],
    cranges: list[tuple[int, int]],
    tc: int,
    tb: int,
    psi: np.ndarray,
    col: int,
    method: str,
    label: str,
    msgs: list[str],
    coef: np.ndarray | None = None,
    jt: int = 0,
    cidx: Sequence[int] = (),
) -> float:
    """Difference in mean changes (no covariates), influence written into ``psi[:, col]``.

    Within a cohort the influence is ``w_i * (coef[c, :T, col] @ y_i + coef[c, T, col])``;
    these coefficients are recorded in ``coef`` (cohorts x (T + 1) x cells) for the
    fast bootstrap.
    """
    n = panel.n
    y, w = panel.y, panel.weights
    s, e = tslice
    dy_t = y[s:e, tc] - y[s:e, tb]
    wt = w[s:e]
    sw_t = wt.sum()
    m_t = float(wt @ dy_t) / sw_t
    sw_c = 0.0
    sy_c = 0.0
    n_c = 0
    dys = []
    for a, b in cranges:
        dy = y[a:b, tc] - y[a:b, tb]
        dys.append(dy)
        sw_c += w[a:b].sum()
        sy_c += float(w[a:b] @ dy)
        n_c += b - a
    if method in ("dr", "ipw"):
        p_unw = (e - s) / ((e - s) + n_c)
        p_w = sw_t / (sw_t + sw_c)
        if p_unw >= 0.999 or p_w >= 0.995:
            msgs.append(f"overlap condition violated for {label}; ATT set to NaN")
            psi[:, col] = np.nan
            return float("nan")
    m_c = sy_c / sw_c
    out = psi[:, col]
    np.subtract(dy_t, m_t, out=out[s:e])
    out[s:e] *= wt * (n / sw_t)
    for (a, b), dy in zip(cranges, dys, strict=True):
        np.subtract(dy, m_c, out=out[a:b])
        out[a:b] *= w[a:b] * (-n / sw_c)
    if coef is not None:
        T = panel.y.shape[1]
        coef[jt, tc, col] += n / sw_t
        coef[jt, tb, col] -= n / sw_t
        coef[jt, T, col] = -n * m_t / sw_t
        for j in cidx:
            coef[j, tc, col] -= n / sw_c
            coef[j, tb, col] += n / sw_c
            coef[j, T, col] = n * m_c / sw_c
    return m_t - m_c


def separating_covariates(X: np.ndarray, D: np.ndarray, names: Sequence[str]) -> list[str]:
    """Covariates on their own (quasi-)separating treated from comparison units."""
    out = []
    tr, co = D == 1, D == 0
    for j, name in enumerate(names):
        xt, xc = X[tr, j + 1], X[co, j + 1]
        if xt.min() >= xc.max() or xt.max() <= xc.min():
            out.append(name)
    return out


def cov_cell(
    panel: PanelData,
    tslice: tuple[int, int],
    cranges: list[tuple[int, int]],
    tc: int,
    tb: int,
    tx: int,
    psi: np.ndarray,
    col: int,
    method: str,
    label: str,
    msgs: list[str],
) -> float:
    """One ATT(g,t) with covariates through the DRDID estimators."""
    n = panel.n
    idx = np.concatenate([np.arange(*tslice)] + [np.arange(a, b) for a, b in cranges])
    n1 = len(idx)
    D = np.zeros(n1)
    D[: tslice[1] - tslice[0]] = 1.0
    y1 = panel.y[idx, tc]
    y0 = panel.y[idx, tb]
    X = np.column_stack([np.ones(n1), panel.x[idx, tx, :]])
    w = panel.weights[idx]
    ps = None
    try:
        if method in ("dr", "ipw"):
            with np.errstate(all="ignore"):
                prelim = logit_fit(X, D)
            if not np.all(np.isfinite(prelim.fitted)) or prelim.fitted.max() >= 0.999:
                sep = separating_covariates(X, D, panel.covariate_names)
                who = (
                    f"covariate(s) {', '.join(repr(s) for s in sep)} separate"
                    if sep
                    else "the covariates (jointly) nearly separate"
                )
                msgs.append(
                    f"overlap condition violated for {label}: {who} treated and comparison "
                    "units (propensity score >= 0.999); ATT set to NaN"
                )
                psi[:, col] = np.nan
                return float("nan")
            if np.all(w == w[0]):
                ps = prelim
        if method in ("dr", "reg"):
            xc = X[D == 0]
            xtx = xc.T @ xc
            if 1.0 / np.linalg.cond(xtx, 1) < np.finfo(float).eps:
                msgs.append(
                    f"not enough comparison units for {label} to run the outcome regression; "
                    "ATT set to NaN"
                )
                psi[:, col] = np.nan
                return float("nan")
        with np.errstate(all="ignore"):
            if method == "dr":
                res = drdid_panel(y1, y0, D, X, w, ps=ps)
            elif method == "ipw":
                res = std_ipw_did_panel(y1, y0, D, X, w, ps=ps)
            else:
                res = reg_did_panel(y1, y0, D, X, w)
    except np.linalg.LinAlgError as exc:
        msgs.append(f"estimation failed for {label}: {exc}; ATT set to NaN")
        psi[:, col] = np.nan
        return float("nan")
    if not np.isfinite(res.att):
        msgs.append(f"estimate for {label} is not finite; ATT set to NaN")
        psi[:, col] = np.nan
        return float("nan")
    psi[idx, col] = (n / n1) * res.inf_func
    return res.att
