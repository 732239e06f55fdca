"""Aggregations of ATT(g,t) as R's ``did::aggte`` (``compute.aggte``).

- ``simple``: post-treatment cells weighted by cohort size ``pg = mean(w * 1{G = g})``;
- ``dynamic`` (event study): by event time ``e = t - g`` with ``pg`` weights within each
  ``e`` (``min_e``/``max_e``, ``balance_e``); overall = mean over ``e >= 0``;
- ``group``: mean of the post-treatment cells per cohort; overall = ``pg``-weighted;
- ``calendar``: by period over treated cohorts with ``pg`` weights; overall = mean.

Influence functions are linear in the cell influence functions plus the term for the
estimated weights (``wif``); every such term equals ``w_i * alpha[G_i]`` for a
cohort-level vector ``alpha``, so all aggregated influence functions come from one
matrix product ``psi @ A`` plus a lookup, whatever the number of units.

R quirk kept on purpose: for the overall ``group`` aggregate, ``did`` evaluates the
weight term with ``group[k]`` of the first ``n_groups`` ATT(g,t) cells instead of the
cohort list; ``mirror_r=False`` uses the cohort list instead (the textbook term).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from ozamonitor.causal.did_bootstrap import (
    bootstrap_se,
    multiplier_bootstrap,
    sup_t_critical_value,
)
from ozamonitor.causal.did_panel import DidInputError
from ozamonitor.causal.did_staggered import AttGtResult

__all__ = ["AggteResult", "aggte", "aggte_all"]

_TINY = float(np.sqrt(np.finfo(float).eps) * 10)
#: Aggregations of ATT(g,t), as ``did::aggte``'s ``type``.
AggregationType = Literal["simple", "dynamic", "group", "calendar"]
_TYPES: tuple[AggregationType, ...] = ("simple", "dynamic", "group", "calendar")


@dataclass
class AggteResult:
    """One aggregation: the overall ATT and, except for ``simple``, its components.

    ``egt`` holds the event times / cohorts / periods of the components, ``crit_val``
    the critical value of their (uniform, when bootstrapped with cband) band.
    """

    type: str
    overall_att: float
    overall_se: float
    egt: np.ndarray
    att_egt: np.ndarray
    se_egt: np.ndarray
    crit_val: float
    alpha: float
    inf_func_overall: np.ndarray
    inf_func_egt: np.ndarray
    min_e: float = -np.inf
    max_e: float = np.inf
    balance_e: int | None = None
    messages: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """Rows: the overall estimate (key NaN) then the components.

        Columns: type, key name (``e``, ``group`` or ``time``), att, se, lower, upper.
        The overall row uses the pointwise normal interval.
        """
        z = float(stats.norm.ppf(1 - self.alpha / 2))
        key = {"dynamic": "e", "group": "group", "calendar": "time"}.get(self.type, "e")
        rows = [
            {
                "type": self.type,
                "level": "overall",
                key: np.nan,
                "att": self.overall_att,
                "se": self.overall_se,
                "lower": self.overall_att - z * self.overall_se,
                "upper": self.overall_att + z * self.overall_se,
            }
        ]
        for v, a, s in zip(self.egt, self.att_egt, self.se_egt, strict=True):
            rows.append(
                {
                    "type": self.type,
                    "level": key,
                    key: v,
                    "att": a,
                    "se": s,
                    "lower": a - self.crit_val * s,
                    "upper": a + self.crit_val * s,
                }
            )
        return pd.DataFrame(rows)


def _alpha_of(groups_k: np.ndarray, pg_k: np.ndarray, att_k: np.ndarray) -> dict[float, float]:
    """Cohort coefficients of ``wif(keepers) @ att[keepers]`` (R's ``wif``).

    ``wif_i @ att = w_i * alpha[G_i]`` with
    ``alpha[g] = sum_{k: g_k = g} att_k / S - #{k: g_k = g} * sum_k pg_k att_k / S^2``.
    """
    S = pg_k.sum()
    T = float(pg_k @ att_k)
    out: dict[float, float] = {}
    for g in np.unique(groups_k):
        m = groups_k == g
        out[float(g)] = float(att_k[m].sum() / S - m.sum() * T / S**2)
    return out


class _Builder:
    """Collects aggregated influence functions as ``psi @ a + w * alpha[G]``."""

    def __init__(self, n_cells: int, cohorts: np.ndarray) -> None:
        self.cols_a: list[np.ndarray] = []
        self.alphas: list[dict[float, float]] = []
        self.n_cells = n_cells
        self.cohorts = cohorts

    def add(self, a: np.ndarray, alpha: dict[float, float] | None = None) -> int:
        self.cols_a.append(a)
        self.alphas.append(alpha or {})
        return len(self.cols_a) - 1

    def combine(self, idx: list[int], weights: np.ndarray, extra: dict[float, float] | None):
        """A new column as a weighted sum of existing columns (plus a weight term)."""
        a = sum(wt * self.cols_a[i] for i, wt in zip(idx, weights, strict=True))
        alpha: dict[float, float] = {}
        for i, wt in zip(idx, weights, strict=True):
            for g, v in self.alphas[i].items():
                alpha[g] = alpha.get(g, 0.0) + wt * v
        for g, v in (extra or {}).items():
            alpha[g] = alpha.get(g, 0.0) + v
        return self.add(np.asarray(a, dtype=float), alpha)

    def matrices(self) -> tuple[np.ndarray, np.ndarray]:
        """``A`` (cells x aggregates) and ``Alpha`` (cohorts x aggregates)."""
        A = np.column_stack(self.cols_a) if self.cols_a else np.zeros((self.n_cells, 0))
        Alpha = np.array(
            [[alpha.get(float(c), 0.0) for alpha in self.alphas] for c in self.cohorts]
        ).reshape(len(self.cohorts), len(self.alphas))
        return A, Alpha

    def build(self, psi: np.ndarray, w: np.ndarray, unit_cohort: np.ndarray) -> np.ndarray:
        """Aggregated influence functions ``psi @ A + w * Alpha[cohort]`` (n x aggregates)."""
        A, Alpha = self.matrices()
        out = psi @ A if A.shape[1] else np.zeros((psi.shape[0], 0))
        codes = np.searchsorted(self.cohorts, unit_cohort)
        for j in range(Alpha.shape[1]):
            if np.any(Alpha[:, j]):
                out[:, j] += w * Alpha[codes, j]
        return out


def aggte_all(
    res: AttGtResult,
    types: tuple[AggregationType, ...] = _TYPES,
    *,
    min_e: float = -np.inf,
    max_e: float = np.inf,
    balance_e: int | None = None,
    na_rm: bool = False,
    bootstrap: bool | None = None,
    biters: int | None = None,
    cband: bool | None = None,
    alpha: float | None = None,
    seed: int | None = None,
    mirror_r: bool = False,
) -> dict[str, AggteResult]:
    """Several aggregations at once, sharing one influence-matrix product and bootstrap.

    Parameters
    ----------
    res : AttGtResult
        From :func:`~ozamonitor.causal.did.att_gt`.
    types : tuple of {"simple", "dynamic", "group", "calendar"}, default all four
        The aggregations, as ``did::aggte``'s ``type``.
    min_e, max_e : float, default -inf, inf
        Event times kept in the dynamic aggregation.
    balance_e : int, optional
        Keep only groups observed for ``balance_e`` periods after treatment.
    na_rm : bool, default False
        Drop NaN cells instead of failing.
    bootstrap, biters, cband, alpha, seed : optional
        Inference options; default: those of the ATT(g,t) estimation, as in
        ``did::aggte``.
    mirror_r : bool, default False
        Reproduce R's handling of the simple aggregation's weights exactly.

    Returns
    -------
    dict of str to AggteResult
    """
    # Long on purpose: it follows did::aggte's compute.aggte branch by branch (simple,
    # dynamic, group, calendar share one influence product), so it can be read against R.
    for t in types:
        if t not in _TYPES:
            raise DidInputError(f"unknown aggregation type {t!r}; use one of {_TYPES}")
    bootstrap = res.bootstrap if bootstrap is None else bootstrap
    biters = res.biters if biters is None else biters
    if cband is None:
        cband = res.cband and bootstrap
    alpha = res.alpha if alpha is None else alpha
    seed = res.seed if seed is None else seed

    group, tt, att, psi = res.group, res.time, res.att, res.inf_func
    keep_cells = np.arange(len(att))
    if na_rm:
        keep_cells = np.flatnonzero(~np.isnan(att))
    elif np.isnan(att).any():
        bad = [
            f"({g:g},{t:g})" for g, t in zip(group[np.isnan(att)], tt[np.isnan(att)], strict=True)
        ]
        raise DidInputError(
            "missing ATT(g,t) for cells "
            + ", ".join(bad[:10])
            + "; set na_rm=True to aggregate without them"
        )
    K = len(att)
    panel = res.panel
    w = panel.weights
    n = panel.n
    glist_all = np.unique(group[keep_cells])
    pg_g = {float(g): float(np.mean(w * (panel.cohort == g))) for g in glist_all}
    # recode periods to 1..T as compute.aggte does (orig2t)
    uniq_t = np.unique(tt[keep_cells])

    def rec(v: np.ndarray) -> np.ndarray:
        return np.searchsorted(uniq_t, v).astype(float) + 1.0

    grp = group[keep_cells]
    tim = tt[keep_cells]
    at = att[keep_cells]
    m = np.ones(len(grp), dtype=bool)
    if na_rm:
        # R keeps, for type "group", only cohorts with a post-treatment cell left
        okg = [g for g in np.unique(grp) if ((grp == g) & (g <= tim)).any()]
        m = np.isin(grp, okg)
    pg = np.array([pg_g[float(g)] for g in grp])
    rg, rt = rec(grp), rec(tim)
    b = _Builder(K, panel.cohort_values)

    def cell_vec(sel: np.ndarray, wts: np.ndarray) -> np.ndarray:
        a = np.zeros(K)
        a[keep_cells[sel]] = wts
        return a

    plan: dict[str, dict] = {}
    msgs: list[str] = []
    for typ in types:
        if typ == "simple":
            sel = np.flatnonzero((rg <= rt) & (rt <= rg + max_e))
            wts = pg[sel] / pg[sel].sum()
            est = float(wts @ at[sel])
            j = b.add(cell_vec(sel, wts), _alpha_of(grp[sel], pg[sel], at[sel]))
            plan[typ] = {"overall": (est, j), "egt": np.array([]), "comp": []}
        elif typ == "group":
            sub = np.flatnonzero(m)
            gl = np.unique(grp[sub])
            comps, atts = [], []
            for g in gl:
                sel = sub[(grp[sub] == g) & (rg[sub] <= rt[sub]) & (rt[sub] <= rg[sub] + max_e)]
                wts = pg[sel] / pg[sel].sum() if sel.size else np.zeros(0)
                atts.append(float(np.mean(at[sel])) if sel.size else np.nan)
                comps.append(b.add(cell_vec(sel, wts)))
            atts_a = np.array(atts)
            pgg = np.array([pg_g[float(g)] for g in gl])
            est = float(atts_a @ pgg / pgg.sum())
            wif_groups = grp[sub][: len(gl)] if mirror_r else gl
            extra = _alpha_of(wif_groups, pgg, atts_a)
            j = b.combine(comps, pgg / pgg.sum(), extra)
            plan[typ] = {
                "overall": (est, j),
                "egt": gl,
                "comp": list(zip(atts, comps, strict=True)),
            }
        elif typ == "dynamic":
            e_all = tim - grp
            eseq = np.unique(e_all)
            incl = np.ones(len(grp), dtype=bool)
            if balance_e is not None:
                tmax, tmin = tim.max(), tim.min()
                eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - tmax + tmin)]
                incl = (tmax - grp) >= balance_e
            eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
            comps, atts = [], []
            for e in eseq:
                sel = np.flatnonzero((e_all == e) & incl)
                wts = pg[sel] / pg[sel].sum()
                atts.append(float(wts @ at[sel]))
                comps.append(b.add(cell_vec(sel, wts), _alpha_of(grp[sel], pg[sel], at[sel])))
            epos = np.flatnonzero(eseq >= 0)
            if epos.size:
                est = float(np.mean(np.array(atts)[epos]))
                j = b.combine([comps[i] for i in epos], np.full(epos.size, 1 / epos.size), None)
            else:
                est, j = float("nan"), None
            plan[typ] = {
                "overall": (est, j),
                "egt": eseq,
                "comp": list(zip(atts, comps, strict=True)),
            }
        elif typ == "calendar":
            tl = np.unique(rt)
            tl = tl[tl >= rg.min()]
            comps, atts = [], []
            for t1 in tl:
                sel = np.flatnonzero((rt == t1) & (rg <= rt))
                wts = pg[sel] / pg[sel].sum()
                atts.append(float(wts @ at[sel]))
                comps.append(b.add(cell_vec(sel, wts), _alpha_of(grp[sel], pg[sel], at[sel])))
            est = float(np.mean(atts))
            j = b.combine(comps, np.full(len(comps), 1 / len(comps)), None)
            plan[typ] = {
                "overall": (est, j),
                "egt": uniq_t[(tl - 1).astype(int)],
                "comp": list(zip(atts, comps, strict=True)),
            }

    psi_clean = psi if not na_rm else np.where(np.isnan(psi), 0.0, psi)
    IF = b.build(psi_clean, w, panel.cohort)
    se_an = np.sqrt(np.mean(IF**2, axis=0) / n)
    se = se_an.copy()
    draws = None
    if bootstrap:
        reuse = (
            res.boot_draws is not None
            and res.boot_cohort_draws is not None
            and biters == res.biters
            and seed == res.seed
        )
        if reuse:
            # same multipliers as the ATT(g,t) draws; the map to aggregates is linear
            A, Alpha = b.matrices()
            draws = np.nan_to_num(res.boot_draws) @ A + res.boot_cohort_draws @ Alpha
            n_cl = res.boot_n_clusters
        else:
            bd = multiplier_bootstrap(
                [IF],
                biters=biters,
                seed=None if seed is None else seed + 1,
                cluster=panel.cluster,
                weights=res.boot_weights,
            )
            draws, n_cl = bd.draws[0], bd.n_clusters
        se = bootstrap_se(draws, n_cl)
    se[~(se > _TINY)] = np.nan
    z = float(stats.norm.ppf(1 - alpha / 2))
    out: dict[str, AggteResult] = {}
    for typ in types:
        p = plan[typ]
        est, j = p["overall"]
        comp_idx = [c for _, c in p["comp"]]
        crit = z
        if comp_idx and cband:
            if not bootstrap:
                msgs.append(f"{typ}: a simultaneous band needs the bootstrap; pointwise used")
            else:
                cv = sup_t_critical_value(draws[:, comp_idx], alpha)
                if not np.isfinite(cv):
                    msgs.append(f"{typ}: simultaneous critical value is NaN; pointwise used")
                elif cv < z:
                    msgs.append(f"{typ}: simultaneous band narrower than pointwise; pointwise used")
                else:
                    crit = cv
        out[typ] = AggteResult(
            type=typ,
            overall_att=est,
            overall_se=float(se[j]) if j is not None else float("nan"),
            egt=np.asarray(p["egt"], dtype=float),
            att_egt=np.array([a for a, _ in p["comp"]], dtype=float),
            se_egt=se[comp_idx] if comp_idx else np.array([]),
            crit_val=crit,
            alpha=alpha,
            inf_func_overall=IF[:, j] if j is not None else np.full(n, np.nan),
            inf_func_egt=IF[:, comp_idx] if comp_idx else np.zeros((n, 0)),
            min_e=min_e,
            max_e=max_e,
            balance_e=balance_e,
            messages=[mm for mm in msgs if mm.startswith(typ)],
        )
    for mm in msgs:
        warnings.warn(mm, stacklevel=2)
    return out


def aggte(
    res: AttGtResult,
    type: AggregationType = "group",
    *,
    min_e: float = -np.inf,
    max_e: float = np.inf,
    balance_e: int | None = None,
    na_rm: bool = False,
    bootstrap: bool | None = None,
    biters: int | None = None,
    cband: bool | None = None,
    alpha: float | None = None,
    seed: int | None = None,
    mirror_r: bool = False,
) -> AggteResult:
    """One aggregation of ATT(g,t), as ``did::aggte(MP, type=...)``.

    Parameters
    ----------
    res : AttGtResult
        From :func:`~ozamonitor.causal.did.att_gt`.
    type : {"simple", "dynamic", "group", "calendar"}, default "group"
    min_e, max_e, balance_e, na_rm, bootstrap, biters, cband, alpha, seed, mirror_r
        As in :func:`aggte_all`.

    Returns
    -------
    AggteResult
    """
    return aggte_all(
        res,
        (type,),
        min_e=min_e,
        max_e=max_e,
        balance_e=balance_e,
        na_rm=na_rm,
        bootstrap=bootstrap,
        biters=biters,
        cband=cband,
        alpha=alpha,
        seed=seed,
        mirror_r=mirror_r,
    )[type]
