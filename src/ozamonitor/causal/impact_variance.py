"""The OZA impact pipeline, steps 4-5: set differences, aggregation, variance.

See :mod:`ozamonitor.causal.impact` for the design. :func:`components` computes,
per matched set and event time, the treated child's outcome change and the
(IPCW-weighted) changes of its controls; :func:`aggregate` turns the sets of a
group into the overall ATT, the event-time profile and the pre-trend test, with
standard errors clustered by child (:func:`child_influence`) and the
participants' interval (:func:`untreated_variance`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

__all__ = [
    "MIN_TREATED",
    "SetComponents",
    "aggregate",
    "censoring_diagnostics",
    "child_influence",
    "components",
    "estimate_cells",
    "untreated_variance",
]

@dataclass
class SetComponents:
    """Per matched set and event time: treated change, and weighted control changes."""

    es: np.ndarray  # event times
    d_t: np.ndarray  # (S, E) treated change Y(g+e) - Y(g-1)
    c_set: np.ndarray  # (C,) set of each control entry
    c_row: np.ndarray  # (C,) stacked row of each control entry
    d_c: np.ndarray  # (C, E) control changes
    w: np.ndarray  # (C, E) IPCW weight, 0 where censored or unobserved
    wsum: np.ndarray  # (S, E) sum of control weights per set

    def control_entries(self, sets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Control entries of ``sets``: a mask over all entries, and each kept entry's
        position in ``sets``."""
        pos = np.full(self.wsum.shape[0], -1)
        pos[sets] = np.arange(len(sets))
        keep = pos[self.c_set] >= 0
        return keep, pos[self.c_set[keep]]

    @cached_property
    def d(self) -> np.ndarray:
        """d[s, k]: treated minus weighted control change; NaN where unobserved."""
        sums = np.zeros_like(self.wsum)
        np.add.at(sums, self.c_set, self.w * np.nan_to_num(self.d_c))
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.d_t - sums / self.wsum


def components(
    stacked: pl.DataFrame,
    matched: pl.DataFrame,
    y: np.ndarray,
    pre: int,
    post: int,
    start_idx: np.ndarray,
) -> SetComponents:
    """Outcome changes of treated and controls for event times e = -pre..post.

    Controls are censored from the month they start an arrangement themselves.
    While uncensored, a control matched in stack g is weighted at event time e
    by the inverse probability of having stayed unselected through g+e:
    ``prod(1 / (1 - p(c, t)))`` over the start months t in (g, g+e] at which it
    was in the pool, with ``p`` the pooled propensity model's probability
    (inverse probability of censoring weighting).
    """
    rows = stacked["row"].to_numpy()
    stack = stacked["stack"].to_numpy()
    es = np.arange(-pre, post + 1)
    n_rows, T = y.shape
    # cumulative log-survival of not being selected, per child and month
    haz = np.zeros((n_rows, T), dtype=np.float64)
    p = np.clip(stacked["p_start"].to_numpy(), 0.0, 0.99)
    untreated = stacked["treated"].to_numpy() == 0
    haz[rows[untreated], stack[untreated]] = -np.log1p(-p[untreated])
    cumhaz = np.cumsum(haz, axis=1)

    def cols_of(i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cols = stack[i][:, None] + es[None, :]
        return cols, (cols >= 0) & (cols < T)

    def dy(i: np.ndarray) -> np.ndarray:
        cols, ok = cols_of(i)
        vals = np.where(ok, y[rows[i][:, None], np.clip(cols, 0, T - 1)], np.nan)
        return vals - y[rows[i], stack[i] - 1][:, None]

    t_i = matched["treated_i"].to_numpy().astype(np.int64)
    d_t = dy(t_i)
    ctrl = matched.explode("control_i")
    c_i = ctrl["control_i"].to_numpy().astype(np.int64)
    c_set = ctrl["set"].to_numpy().astype(np.int64)
    d_c = dy(c_i)
    cols, ok = cols_of(c_i)
    cc = np.clip(cols, 0, T - 1)
    r = rows[c_i][:, None]
    g = stack[c_i][:, None]
    logw = np.where(es[None, :] > 0, cumhaz[r, cc] - cumhaz[r, g], 0.0)
    uncensored = cols < start_idx[rows[c_i]][:, None]
    w = np.where(ok & uncensored & np.isfinite(d_c), np.exp(logw), 0.0)
    wsum = np.zeros((matched.height, len(es)))
    np.add.at(wsum, c_set, w)
    return SetComponents(es, d_t, c_set, c_i, d_c, w, wsum)


def child_influence(
    comp: SetComponents, sets: np.ndarray, treated_child: np.ndarray, child_of_row: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """ATT(e) over ``sets`` and its influence matrix clustered by child.

    ATT(e) is the mean over observed sets of ``T(s, e) - C(s, e)``, with
    ``C(s, e)`` the weighted mean change of the set's controls. Treating
    the matching and the weights as given, each child's contribution is
    ``(T(s, e) - mean T(e)) / n(e)`` for every set in which it is the treated
    child, minus ``w_c (dY_c - mean C(e)) / (W_s n(e))`` for every set in which
    it is a control; contributions of one child are summed, because a child can
    be a control in several start months, and a control in one and treated in
    another. Returns ``(att (E,), psi (G, E), n_sets (E,), psi_c (G, E))``,
    ``psi_c`` the control entries of ``psi`` alone.
    """
    d = comp.d[sets]
    ok = np.isfinite(d)
    n_e = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        att = np.where(n_e > 0, np.nansum(np.where(ok, d, 0.0), axis=0) / n_e, np.nan)
        t_vals = np.where(ok, comp.d_t[sets], 0.0)
        c_vals = t_vals - np.where(ok, d, 0.0)
        mu_t = t_vals.sum(axis=0) / n_e
        mu_c = c_vals.sum(axis=0) / n_e
    n_children = int(child_of_row.max()) + 1
    psi = np.zeros((n_children, len(comp.es)))
    inv_n = np.where(n_e > 0, 1.0 / np.maximum(n_e, 1), 0.0)
    np.add.at(psi, treated_child[sets], np.where(ok, comp.d_t[sets] - mu_t, 0.0) * inv_n)
    psi_t = psi.copy()
    keep, k_set = comp.control_entries(sets)
    wsum = comp.wsum[sets][k_set]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(wsum > 0, comp.w[keep] / wsum, 0.0)
    contrib = share * np.nan_to_num(comp.d_c[keep] - mu_c) * ok[k_set] * inv_n
    np.add.at(psi, child_of_row[comp.c_row[keep]], -contrib)
    used = np.abs(psi).sum(axis=1) > 0
    return att, psi[used], n_e, (psi - psi_t)[used]


def untreated_variance(comp: SetComponents, sets: np.ndarray, post: np.ndarray,
                        tot: float) -> float:
    """Variance of the participants' untreated luck in the overall ATT.

    A set's share of the overall ATT is ``n_obs(s) / tot`` times its mean
    difference over its observed post months. The variance of a participant's
    untreated mean change is estimated by the (unbiased) variance of the mean
    changes of its matched controls that are observed in all of those months;
    sets with fewer than two such controls take the mean of the others.
    """
    ok = np.isfinite(comp.d[sets][:, post])
    n_obs = ok.sum(axis=1)
    keep, k_set = comp.control_entries(sets)
    d_c = comp.d_c[keep][:, post]
    seen = comp.w[keep][:, post] > 0
    full = np.all(seen | ~ok[k_set], axis=1) & (n_obs[k_set] > 0)
    mean_c = np.where(ok[k_set], np.nan_to_num(d_c), 0.0).sum(axis=1) / np.maximum(
        n_obs[k_set], 1)
    var = np.full(len(sets), np.nan)
    for s_i in np.unique(k_set[full]).tolist():
        m = mean_c[full & (k_set == s_i)]
        if m.size >= 2:
            var[s_i] = m.var(ddof=1)
    have = np.isfinite(var) & (n_obs > 0)
    if not have.any():
        return 0.0
    var = np.where(have, var, np.nanmean(var[have]))
    return float(np.sum((n_obs / tot) ** 2 * var))


def censoring_diagnostics(comp: SetComponents, entries: np.ndarray, max_e: int) -> dict[str, float]:
    """How much of the control side rests on reweighting (overlap over time).

    ``censored_share``: share of observed control-months (e = 0..``max_e``) lost
    because the control started an arrangement itself; ``max_ipcw``: the largest
    weight of a remaining control-month. When most controls start later
    (``censored_share`` well above a half, weights in the tens) the few
    controls who stay unselected carry the long-run comparison and the
    estimate is unreliable; see docs/impact.md.
    """
    post = (comp.es >= 0) & (comp.es <= max_e)
    obs = np.isfinite(comp.d_c[entries][:, post])
    w = comp.w[entries][:, post]
    n = int(obs.sum())
    return {
        "censored_share": float(1 - (w > 0).sum() / n) if n else float("nan"),
        "max_ipcw": float(w.max()) if w.size else float("nan"),
    }


#: Groups with fewer matched participants get no estimate (unreliable, and
#: below the disclosure threshold of published cells).
MIN_TREATED = 10


def aggregate(
    comp: SetComponents,
    sets: np.ndarray,
    treated_child: np.ndarray,
    child_of_row: np.ndarray,
    max_e: int,
    alpha: float,
) -> dict[str, Any]:
    """Overall ATT (post months 0..max_e), event-time profile and pre-trend test.

    Standard errors are clustered by child (see :func:`child_influence`). The
    pre-trend test is Hotelling's T-squared of ATT(e) = 0 for e = -pre..-2 with
    its F(p, G - p) small-sample distribution (G children); it is left out
    when G < 3p.
    """
    nan = float("nan")
    if len(sets) < MIN_TREATED:
        return {"att": nan, "se": nan, "lower": nan, "upper": nan}
    z = stats.norm.ppf(1 - alpha / 2)
    es = comp.es
    att_e, psi, n_e, psi_c = child_influence(comp, sets, treated_child, child_of_row)
    G = psi.shape[0]
    corr = G / max(G - 1, 1)
    post = (es >= 0) & (es <= max_e) & (n_e > 0)
    tot = n_e[post].sum()
    if tot == 0:
        return {"att": nan, "se": nan, "lower": nan, "upper": nan}
    wts = n_e[post] / tot
    att = float(att_e[post] @ wts)
    se = float(np.sqrt(corr * np.sum((psi[:, post] @ wts) ** 2)))
    out: dict[str, Any] = {"att": att, "se": se, "lower": att - z * se, "upper": att + z * se}
    # interval for the participants' sample effect (Abadie-Imbens type): the control
    # part of the influence function plus the participants' untreated variance,
    # estimated per set from its matched controls. The control part is centred on the
    # group's mean control change, not per set, so it also counts differences between
    # sets' expected changes (conservative; 2-5% of se_sample at scale 0.1), and the
    # covariance of a child's roles as control and as treated is left out (< 1% there)
    v0 = untreated_variance(comp, sets, post, tot)
    se_s = float(np.sqrt(corr * np.sum((psi_c[:, post] @ wts) ** 2) + v0))
    out.update(se_sample=se_s, lower_sample=att - z * se_s, upper_sample=att + z * se_s)
    se_e = np.sqrt(corr * np.sum(psi**2, axis=0))
    # event-time cells with fewer than MIN_TREATED sets are not estimated (nor published)
    out["profile"] = [
        (
            int(e),
            float(a) if n >= MIN_TREATED else nan,
            float(s) if n >= MIN_TREATED else nan,
            int(n),
        )
        for e, a, s, n in zip(es, att_e, se_e, n_e, strict=True)
    ]
    pre = (es <= -2) & (n_e >= MIN_TREATED)
    p = int(pre.sum())
    if p and 3 * p <= G:
        a = att_e[pre]
        V = corr * psi[:, pre].T @ psi[:, pre]
        rank = int(np.linalg.matrix_rank(V))
        if rank:
            t2 = float(a @ np.linalg.pinv(V) @ a)
            f = (G - rank) / (rank * (G - 1)) * t2
            out.update(
                pretrend_chi2=t2, pretrend_df=rank, pretrend_p=float(stats.f.sf(f, rank, G - rank))
            )
    return out



def estimate_cells(matched: pl.DataFrame, comp: SetComponents, max_e: int) -> pl.DataFrame:
    """Participant-months of the overall ATT: ``person_id, start, e, group``."""
    es = comp.es
    post = np.flatnonzero((es >= 0) & (es <= max_e))
    s_idx, k = np.nonzero(np.isfinite(comp.d[: matched.height, post]))
    return pl.DataFrame(
        {
            "person_id": matched["treated"].to_numpy()[s_idx].astype(str),
            "start": matched["start"].to_numpy()[s_idx],
            "e": es[post][k].astype(np.int16),
            "group": matched["group"].to_numpy()[s_idx].astype(str),
        }
    )


