"""What works for whom: the OZA impact pipeline (subgroups -> matching -> DiD).

Design (seed 000, phase 2), as implemented here:

1. **Monthly trajectories** of every child who could have been selected
   (any long absence, exemption, waiting list, OZA participation or a
   disrupted enrolment since ``history_from``): the default state alphabet
   (:mod:`ozamonitor.trajectories.states`) and the education outcome
   (:data:`ozamonitor.causal.outcomes.OUTCOME_CONFIG`).
2. **Stacks by start month.** Participation starts at different months
   (staggered adoption). For every start month *g*, the *pool* is every child
   of compulsory age (61-203 months old at *g*) who, in month *g-1*, belonged
   to an OZA target group - ``long_term_absent`` (state ``lrv``),
   ``not_enrolled`` (``av`` or ``wait``), ``exempt_5a`` (``ex5a``) or
   ``at_risk`` (in education with a long absence in the 24 months before) - and
   had not started an arrangement yet. Participants starting in *g* are the
   treated; pool members not starting in *g* are the candidate controls
   (not-yet-treated: they may start later).
3. **Matching** within each stack (:func:`ozamonitor.causal.matching.match_nearest`):
   logistic propensity score on pre-*g* history and background, greedy
   nearest neighbour 1:``ratio`` without replacement, caliper in SDs, exact
   on target group, primary age (< 12 at *g*) and the ``by`` variable (and
   optionally region).
4. **Difference-in-differences** per matched set with the month before the
   start as the base period: ``d(s, e) = dY(treated, e) - mean dY(controls, e)``
   with ``dY(., e) = Y(g+e) - Y(g-1)`` and ``Y`` = in education
   (:func:`ozamonitor.causal.outcomes.in_education`). For a single stack this
   equals Callaway and Sant'Anna's ATT(g, g+e) with a universal base period
   and the matched controls as comparison group (tested against
   :func:`ozamonitor.causal.did.att_gt`).
5. **Aggregation** per group: ATT(e) = mean over matched sets; the overall ATT
   averages all post cells (e = 0..``max_e``) with equal weight per treated
   child-month, as did's ``simple`` aggregation does. Standard errors are
   clustered by child (a child can be a control in several start months, or a
   control in one and treated in another), treating matching and weights as
   given; the pre-trend test is Hotelling's T-squared of ATT(e) = 0 for
   e = ``-pre``..-2 with its F(p, G - p) distribution (G children).

The estimand is the effect of starting an arrangement in *g* against not
starting in *g* among comparable children. Because controls may start later,
it is slightly diluted relative to the effect against never starting when
arrangements take a large share of the pool (small synthetic scales).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
import polars as pl
from scipy import stats

from ozamonitor.causal.matching import match_nearest
from ozamonitor.causal.outcomes import OUTCOME_CONFIG, in_education
from ozamonitor.causal.propensity import SeparationWarning, estimate_propensity
from ozamonitor.causal.subgroups import Kind
from ozamonitor.errors import OzamonitorError
from ozamonitor.register.calendar import (
    AGE_17_MONTHS,
    COMPULSORY_START_MONTHS,
    SECONDARY_AGE_MONTHS,
)
from ozamonitor.register.schema import OZA_TARGET_GROUPS
from ozamonitor.register.store import Register
from ozamonitor.trajectories.build import build_trajectories
from ozamonitor.trajectories.states import DEFAULT_CONFIG

#: Covariates of the propensity model (pre-start history and background).
DEFAULT_COVARIATES = (
    "state_months",
    "waiting",
    "recent_newcomer",
    "lrv_months_6",
    "lrv_months_24",
    "lrv_months_total",
    "months_since_lrv",
    "no_education_months_12",
    "special_education",
    "age_months",
    "sex",
    "parent_education",
    "migration_background",
    "household_type",
    "income_decile",
    "child_protection",
)


#: Comparison pool: everyone in the target group, or only those whose last school
#: before the start was regular (po/vo) or special (sbo/so/vso) education.
ControlPool = Literal["all", "regular", "special"]

#: Variables of the participants' subgroups (``by="subgroup"``): history and background.
SUBGROUP_VARIABLES = (
    "target_group",
    "age_months",
    "lrv_months_24",
    "no_education_months_12",
    "special_education",
    "parent_education",
    "migration_background",
    "household_type",
    "child_protection",
)
#: 0/1 codes that are categories, not amounts.
SUBGROUP_KINDS: dict[str, Kind] = {"special_education": "nominal", "child_protection": "nominal"}

#: Matching errors that only mean "nothing comparable in this start month".
_NO_MATCH_MESSAGES = ("no units were matched", "no exact-matching stratum")


class ImpactError(OzamonitorError, ValueError):
    """The register does not support an impact analysis (e.g. no participants)."""


@dataclass
class ImpactResult:
    """Estimates of :func:`impact_analysis`."""

    #: overall ATT per group: by, group, n_treated, n_unmatched, n_controls,
    #: n_control_slots, censored_share, max_ipcw, att; se, lower, upper (population
    #: interval: child-clustered influence function, as R's did); se_sample,
    #: lower_sample, upper_sample (interval for the effect on exactly these matched
    #: participants, Abadie-Imbens; the one the recovery study checks, see
    #: docs/impact.md); pretrend_chi2, pretrend_df, pretrend_p
    summary: pl.DataFrame
    #: ATT per event time: by, group, e, att, se, lower, upper, n_sets
    event_study: pl.DataFrame
    #: balance before/after matching, pooled over stacks (pandas, cobalt-style columns)
    balance: pd.DataFrame
    #: matched sets: stack (start month index), start (date), treated, controls, group
    matched: pl.DataFrame
    #: stacked analysis data (one row per child per stack) with covariates and weights
    data: pl.DataFrame
    #: the participant-months that entered the overall ATT (event months 0..max_e
    #: where the set difference is defined): person_id, start, e, group. A synthetic
    #: register's truth is averaged over exactly these cells
    #: (:func:`ozamonitor.synth.evaluate.impact_truth`)
    cells: pl.DataFrame
    #: the options used, and ``register``: the register's folder
    settings: dict[str, Any] = field(default_factory=dict)


def _add_months(first: dt.date, k: int) -> dt.date:
    """The first day of the month ``k`` months after ``first``'s month."""
    m = first.month - 1 + k
    return dt.date(first.year + m // 12, m % 12 + 1, 1)


def _month_index(d: dt.date, first: dt.date) -> int:
    return (d.year - first.year) * 12 + (d.month - first.month)


def candidate_persons(register: Register | str, history_from: dt.date) -> list[str]:
    """Children who could belong to an OZA target group since ``history_from``.

    Anyone with a long absence or illness report, an exemption, a waiting-list
    spell or an OZA participation ending on or after ``history_from`` (or
    open), an enrolment that ended then for a reason other than a transfer or
    diploma, or a newcomer arriving then.
    """
    reg = Register.open(register)
    h = pl.lit(history_from)

    def open_after(lf: pl.LazyFrame, end: str) -> pl.LazyFrame:
        return lf.filter(pl.col(end).is_null() | (pl.col(end) >= h)).select("person_id")

    parts = [
        open_after(
            reg.scan("absence_reports").filter(pl.col("kind").is_in(["lrv", "ill"])), "absence_end"
        ),
        open_after(reg.scan("exemptions"), "end"),
        open_after(reg.scan("waiting_lists"), "end"),
        reg.scan("oza_participation").select("person_id"),
        reg.scan("enrolments")
        .filter(
            (pl.col("end") >= h)
            & ~pl.col("end_reason").is_in(["transfer", "diploma", "start_qualification"])
        )
        .select("person_id"),
        reg.scan("persons").filter(pl.col("newcomer_arrival_date") >= h).select("person_id"),
    ]
    ids = pl.concat(parts).unique().sort("person_id").collect()
    return ids["person_id"].to_list()


def _months_since(mask: np.ndarray) -> np.ndarray:
    """Months since the last True per row (0 = the last column); row length + 1 if never."""
    t = mask.shape[1]
    last = np.where(mask.any(axis=1), t - 1 - np.argmax(mask[:, ::-1], axis=1), -1)
    return np.where(last >= 0, t - 1 - last, t + 1).astype(np.float64)


def _run_length(codes: np.ndarray) -> np.ndarray:
    """Consecutive months, up to the last column, in the state of the last column."""
    same = codes == codes[:, -1:]
    rev = same[:, ::-1]
    return np.where(rev.all(axis=1), rev.shape[1], np.argmin(rev, axis=1)).astype(np.float64)


def _stacks(
    reg: Register,
    ids: np.ndarray,
    codes: np.ndarray,
    y: np.ndarray,
    first: dt.date,
    starts: dict[str, int],
    persons: pl.DataFrame,
    min_age: int,
    max_age: int,
) -> pl.DataFrame:
    """One row per (stack g, child in the pool at g-1) with covariates."""
    alph = DEFAULT_CONFIG.alphabet
    ix = {c: alph.index(c) for c in alph.codes}
    edu_states = np.array([ix["regular"], ix["special"], ix["mbo"], ix["oza"]])
    enrolled_states = np.array([*edu_states, ix["ill"]])
    not_enrolled_states = np.array([ix["av"], ix["wait"], ix["notcomp"]])
    lrv = codes == ix["lrv"]
    no_edu = y == 0
    special = codes == ix["special"]
    n, T = codes.shape
    bm = persons["birth_date"].to_numpy().astype("datetime64[M]")
    first_m = np.datetime64(first, "M")
    birth_idx = (bm - first_m).astype(np.int64)  # month index of birth
    start_idx = np.array([starts.get(p, 10**6) for p in ids.tolist()], dtype=np.int64)
    arr = persons["newcomer_arrival_date"].to_numpy().astype("datetime64[M]")
    arrival_idx = np.where(np.isnat(arr), -(10**6), (arr - first_m).astype(np.int64))
    frames = []
    for g in sorted(set(starts.values())):
        pre = g - 1
        if pre < 25 or g >= T:
            continue
        age = g - birth_idx
        st = codes[:, pre]
        # Target groups on the last day of month g-1 (the day before a start on the 1st):
        # at_risk: enrolled, not in LRV, LRV at one of the 24 month-ends before;
        # not_enrolled: not enrolled, not exempt, not in 24-hour care, on this and the
        # previous month-end.
        had_lrv = lrv[:, pre - 24 : pre].any(axis=1)
        out_now = np.isin(st, not_enrolled_states)
        out_before = np.isin(codes[:, pre - 1], not_enrolled_states)
        group = np.full(n, -1, dtype=np.int64)  # index into OZA_TARGET_GROUPS
        group[np.isin(st, enrolled_states) & had_lrv] = OZA_TARGET_GROUPS.index("at_risk")
        group[st == ix["lrv"]] = OZA_TARGET_GROUPS.index("long_term_absent")
        group[out_now & out_before] = OZA_TARGET_GROUPS.index("not_enrolled")
        group[st == ix["ex5a"]] = OZA_TARGET_GROUPS.index("exempt_5a")
        # last school type before g: special if the last enrolled state was special
        enrolled_cols = np.isin(codes[:, : pre + 1], edu_states[:3])
        last_enr = np.where(
            enrolled_cols.any(axis=1), pre - np.argmax(enrolled_cols[:, ::-1], axis=1), -1
        )
        last_special = (last_enr >= 0) & (
            codes[np.arange(n), np.maximum(last_enr, 0)] == ix["special"]
        )
        in_pool = (group >= 0) & (age >= min_age) & (age <= max_age) & (start_idx >= g)
        rows = np.flatnonzero(in_pool)
        treated = start_idx[rows] == g
        if not treated.any():
            continue
        frames.append(
            pl.DataFrame(
                {
                    "stack": np.full(len(rows), g, dtype=np.int32),
                    "row": rows.astype(np.int64),
                    "person_id": ids[rows].astype(str),
                    "treated": treated.astype(np.int8),
                    "target_group": np.asarray(OZA_TARGET_GROUPS, dtype=object)[group[rows]].astype(
                        str
                    ),
                    "primary": (age[rows] < SECONDARY_AGE_MONTHS).astype(np.int8),
                    "age_months": age[rows].astype(np.float64),
                    "lrv_months_6": lrv[rows, pre - 5 : pre + 1].sum(axis=1).astype(np.float64),
                    "lrv_months_24": lrv[rows, pre - 23 : pre + 1].sum(axis=1).astype(np.float64),
                    "lrv_months_total": np.minimum(lrv[rows, :pre].sum(axis=1), 24).astype(
                        np.float64
                    ),
                    "months_since_lrv": _months_since(lrv[rows, : pre + 1]),
                    "no_education_months_12": np.nansum(
                        no_edu[rows, pre - 11 : pre + 1], axis=1
                    ).astype(np.float64),
                    "special_education": special[rows, pre].astype(np.int8),
                    "last_school_special": last_special[rows].astype(np.int8),
                    "waiting": (st[rows] == ix["wait"]).astype(np.int8),
                    "state_months": _run_length(codes[rows, : pre + 1]),
                    "recent_newcomer": (
                        (arrival_idx[rows] > g - 25) & (arrival_idx[rows] <= g)
                    ).astype(np.int8),
                }
            )
        )
    if not frames:
        raise ImpactError("no participant starts inside the window; nothing to estimate")
    stacked = pl.concat(frames)
    bg = persons.select(
        "person_id",
        "sex",
        "parent_education",
        "migration_background",
        "household_type",
        pl.col("income_decile").fill_null(0).cast(pl.Float64),
        pl.col("child_protection").cast(pl.Int8),
    )
    return stacked.join(bg, on="person_id", how="left")


def _match_stacks(
    stacked: pl.DataFrame,
    covariates: Sequence[str],
    exact: Sequence[str],
    ratio: int,
    caliper: float | None,
    seed: int,
    on_stack: Callable[[int, int], None] | None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Match within each stack on one propensity score estimated on all stacks.

    Pooling the score model over stacks keeps it stable when a start month has
    few participants (a per-stack logit on a dozen covariates overfits and
    leaves scores at 0 or 1). Matching itself stays within the stack, exactly
    on ``exact``. Returns (matched sets, stacked data with ``score`` and
    ``weight``).
    """
    pdf_all = stacked.to_pandas()
    usable = [c for c in covariates if pdf_all[c].nunique() > 1]
    model_vars = usable + [e for e in exact if e in pdf_all and pdf_all[e].nunique() > 1]
    # Start-month fixed effects: the number of places per month varies, so the
    # probability of starting in month g given the pool at g-1 does too.
    pdf_all["start_month"] = pdf_all["stack"].astype(str)
    if pdf_all["start_month"].nunique() > 1:
        model_vars.append("start_month")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeparationWarning)
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        ps = estimate_propensity(pdf_all, "treated", model_vars, link="linear.logit")
    score = np.asarray(ps.distance, dtype=float)
    prob = 1.0 / (1.0 + np.exp(-score))
    sets = []
    weights = np.zeros(stacked.height)
    stack = stacked["stack"].to_numpy()
    stacks = np.unique(stack)
    for k, g in enumerate(stacks):
        if on_stack:
            on_stack(k, len(stacks))
        idx = np.flatnonzero(stack == g)
        pdf = pdf_all.iloc[idx].assign(_i=idx)
        if pdf["treated"].sum() == 0 or (pdf["treated"] == 0).sum() == 0:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                res = match_nearest(
                    pdf,
                    "treated",
                    id_col="_i",
                    distance=score[idx],
                    exact=[e for e in exact if pdf[e].nunique() > 1] or None,
                    ratio=ratio,
                    caliper=caliper,
                    seed=seed,
                )
        except ValueError as e:
            if not any(m in str(e) for m in _NO_MATCH_MESSAGES):
                raise
            continue  # no comparable control in this stack: its participants stay unmatched
        weights[idx] = res.weights
        for t, ctrls in res.pairs().items():
            if ctrls:
                sets.append((int(t), [int(c) for c in ctrls]))
    if not sets:
        raise ImpactError("no participant could be matched to a comparable non-participant")
    matched = pl.DataFrame(
        {
            "set": np.arange(len(sets), dtype=np.int32),
            "treated_i": [t for t, _ in sets],
            "control_i": [c for _, c in sets],
        },
        schema={"set": pl.Int32, "treated_i": pl.UInt32, "control_i": pl.List(pl.UInt32)},
    )
    return matched, stacked.with_columns(
        score=pl.Series(score), p_start=pl.Series(prob), weight=pl.Series(weights)
    )


@dataclass
class _Components:
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


def _components(
    stacked: pl.DataFrame,
    matched: pl.DataFrame,
    y: np.ndarray,
    pre: int,
    post: int,
    start_idx: np.ndarray,
) -> _Components:
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
    return _Components(es, d_t, c_set, c_i, d_c, w, wsum)


def _child_influence(
    comp: _Components, sets: np.ndarray, treated_child: np.ndarray, child_of_row: np.ndarray
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


def _untreated_variance(comp: _Components, sets: np.ndarray, post: np.ndarray,
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


def _censoring_diagnostics(comp: _Components, entries: np.ndarray, max_e: int) -> dict[str, float]:
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


def _aggregate(
    comp: _Components,
    sets: np.ndarray,
    treated_child: np.ndarray,
    child_of_row: np.ndarray,
    max_e: int,
    alpha: float,
) -> dict[str, Any]:
    """Overall ATT (post months 0..max_e), event-time profile and pre-trend test.

    Standard errors are clustered by child (see :func:`_child_influence`). The
    pre-trend test is Hotelling's T-squared of ATT(e) = 0 for e = -pre..-2 with
    its F(p, G - p) small-sample distribution (G children); it is left out
    when G < 3p.
    """
    nan = float("nan")
    if len(sets) < MIN_TREATED:
        return {"att": nan, "se": nan, "lower": nan, "upper": nan}
    z = stats.norm.ppf(1 - alpha / 2)
    es = comp.es
    att_e, psi, n_e, psi_c = _child_influence(comp, sets, treated_child, child_of_row)
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
    v0 = _untreated_variance(comp, sets, post, tot)
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


def impact_analysis(
    register: Register | str,
    *,
    by: str | None = "target_group",
    covariates: Sequence[str] = DEFAULT_COVARIATES,
    exact: Sequence[str] = ("target_group", "primary"),
    ratio: int = 3,
    caliper: float | None = 0.2,
    pre: int = 12,
    max_e: int = 23,
    history_from: dt.date | None = None,
    subgroup_k: int | None = None,
    alpha: float = 0.05,
    seed: int = 0,
    control_pool: ControlPool = "all",
    progress: Callable[[str, int, int], None] | None = None,
) -> ImpactResult:
    """Run subgroups -> matching -> DiD for the OZA experiment on a register.

    Parameters
    ----------
    by:
        Split estimates by ``"target_group"`` (default), ``"subgroup"`` (Gower +
        PAM clusters of participants on history and background; controls take
        their nearest medoid's cluster), ``"primary"``, any covariate column, or
        ``None`` for one overall estimate.
    exact:
        Variables matched exactly (add ``"swv"`` for matching within region).
    ratio, caliper:
        Controls per participant and caliper (SDs of the propensity score).
    pre, max_e:
        Months before the start shown in the event study (and tested for
        pre-trends), and the last month after the start in the overall ATT.
    control_pool:
        ``"all"`` (default), ``"regular"`` or ``"special"``: compare with pool
        members whose last school before the start was regular (po/vo) or
        special (sbo/so/vso) education - the study's comparison with regular
        and special education.
    """
    if control_pool not in ("all", "regular", "special"):
        raise ImpactError(f"control_pool must be all, regular or special, not {control_pool!r}")
    reg = Register.open(register)
    part = reg.read("oza_participation")
    if part.is_empty():
        raise ImpactError(f"{reg.path}: no OZA participation in the register")
    first_start = part["start"].min()
    # Trajectories from the start of the register period, so the LRV history that
    # drives selection is observed as far back as the register goes.
    history_from = history_from or dt.date(2014, 8, 1)
    end = reg.extraction_date
    ids_list = candidate_persons(reg, dt.date(first_start.year - 3, first_start.month, 1))
    say = progress or (lambda *_: None)
    say("trajectories", 0, 2)
    kw = {
        "start": history_from.strftime("%Y-%m"),
        "end": end.strftime("%Y-%m"),
        "person_ids": ids_list,
    }
    # States on the last day of each month: the pool at g-1 is what a child was on
    # the day before an arrangement can start (on the 1st of month g).
    seq = build_trajectories(reg, config=DEFAULT_CONFIG, rule="reference", reference="last", **kw)
    say("trajectories", 1, 2)
    status = build_trajectories(
        reg, config=OUTCOME_CONFIG, rule="reference", reference="last", **kw
    )
    say("trajectories", 2, 2)
    if not np.array_equal(seq.ids, status.ids):  # both built from the same ids and period
        raise RuntimeError("state and outcome trajectories list different children")
    y = in_education(status)
    first_starts = part.group_by("person_id").agg(pl.col("start").min())
    starts = {
        p: _month_index(d, history_from)
        for p, d in zip(
            first_starts["person_id"].to_list(), first_starts["start"].to_list(), strict=True
        )
    }
    persons = (
        reg.scan("persons")
        .join(pl.DataFrame({"person_id": seq.ids.astype(str)}).lazy(), on="person_id", how="semi")
        .collect()
    )
    order = {p: i for i, p in enumerate(persons["person_id"].to_list())}
    persons = persons[[order[p] for p in seq.ids.tolist()]]
    stacked = _stacks(reg, seq.ids, seq.codes, y, history_from, starts, persons,
                      COMPULSORY_START_MONTHS, AGE_17_MONTHS - 1)

    if control_pool != "all":
        want = 1 if control_pool == "special" else 0
        stacked = stacked.filter((pl.col("treated") == 1) | (pl.col("last_school_special") == want))
    by_col = by
    if by == "subgroup":
        stacked = _add_subgroups(stacked, k=subgroup_k, seed=seed)
    if by is not None and by not in stacked.columns:
        raise ImpactError(
            f"unknown split variable {by!r}; use target_group, subgroup, "
            f"primary or one of {', '.join(covariates)}"
        )
    exact_all = list(dict.fromkeys([*exact, *([by_col] if by_col else [])]))
    covs = [c for c in covariates if c not in exact_all]
    matched, stacked = _match_stacks(
        stacked,
        covs,
        exact_all,
        ratio,
        caliper,
        seed,
        (lambda k, n: say("matching", k + 1, n)) if progress else None,
    )
    start_idx = np.array([starts.get(p, 10**6) for p in seq.ids.tolist()], dtype=np.int64)
    comp = _components(stacked, matched, y, pre, max_e, start_idx)
    _, child_of_row = np.unique(stacked["person_id"].to_numpy(), return_inverse=True)
    t_i = matched["treated_i"].to_numpy().astype(np.int64)
    treated_child = child_of_row[t_i]
    labels = stacked[by_col].to_numpy()[t_i] if by_col else np.array(["all"] * len(t_i))
    treated_rows = stacked.filter(pl.col("treated") == 1)
    z = stats.norm.ppf(1 - alpha / 2)
    summary_rows, es_rows = [], []
    groups = [(str(g), labels == g) for g in sorted(set(labels.tolist()), key=str)]
    if by_col:
        groups.append(("all", np.ones(len(t_i), dtype=bool)))
    for grp, sel in groups:
        sets = np.flatnonzero(sel)
        agg = _aggregate(comp, sets, treated_child, child_of_row, max_e, alpha)
        in_sets = np.isin(comp.c_set, sets)
        ctrl_rows = comp.c_row[in_sets]
        eligible = (
            treated_rows
            if grp == "all" or not by_col
            else treated_rows.filter(pl.col(by_col).cast(pl.String) == grp)
        )
        summary_rows.append(
            {
                "by": by_col or "all",
                "group": grp,
                "n_treated": int(sel.sum()),
                "n_unmatched": int(eligible.height - sel.sum()),
                "n_controls": len(np.unique(child_of_row[ctrl_rows])),
                "n_control_slots": len(ctrl_rows),
                **_censoring_diagnostics(comp, in_sets, max_e),
                "att": agg["att"],
                "se": agg["se"],
                "lower": agg.get("lower", np.nan),
                "upper": agg.get("upper", np.nan),
                "se_sample": agg.get("se_sample", np.nan),
                "lower_sample": agg.get("lower_sample", np.nan),
                "upper_sample": agg.get("upper_sample", np.nan),
                "pretrend_chi2": agg.get("pretrend_chi2", np.nan),
                "pretrend_df": agg.get("pretrend_df", 0),
                "pretrend_p": agg.get("pretrend_p", np.nan),
            }
        )
        if grp == "all" and by_col:
            continue
        for e, a, se_e, nn in agg.get("profile", []):
            es_rows.append(
                {
                    "by": by_col or "all",
                    "group": grp,
                    "e": e,
                    "att": a,
                    "se": se_e,
                    "lower": a - z * se_e,
                    "upper": a + z * se_e,
                    "n_sets": nn,
                }
            )
    summary = pl.DataFrame(summary_rows)
    event_study = pl.DataFrame(
        es_rows,
        schema={
            "by": pl.String,
            "group": pl.String,
            "e": pl.Int64,
            "att": pl.Float64,
            "se": pl.Float64,
            "lower": pl.Float64,
            "upper": pl.Float64,
            "n_sets": pl.Int64,
        },
    )

    from ozamonitor.causal.balance import balance_table

    bal_covs = [c for c in [*exact_all, *covs] if stacked[c].n_unique() > 1]
    balance = balance_table(stacked.to_pandas(), "treated", bal_covs, stacked["weight"].to_numpy())
    set_stack = stacked["stack"].to_numpy()[t_i]
    matched_out = matched.with_columns(
        stack=pl.Series(set_stack),
        start=pl.Series(
            [_add_months(history_from, int(g)) for g in set_stack.tolist()], dtype=pl.Date
        ),
        treated=pl.Series(stacked["person_id"].to_numpy()[t_i]),
        group=pl.Series(labels.astype(str)),
    )
    return ImpactResult(
        summary=summary,
        event_study=event_study,
        balance=balance,
        matched=matched_out,
        data=stacked,
        cells=_cells(matched_out, comp, max_e),
        settings={
            "by": by_col,
            "exact": exact_all,
            "covariates": covs,
            "ratio": ratio,
            "caliper": caliper,
            "pre": pre,
            "max_e": max_e,
            "alpha": alpha,
            "history_from": history_from.isoformat(),
            "seed": seed,
            "register": str(reg.path),
        },
    )


def _cells(matched: pl.DataFrame, comp: _Components, max_e: int) -> pl.DataFrame:
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


def _add_subgroups(stacked: pl.DataFrame, *, k: int | None, seed: int) -> pl.DataFrame:
    """Gower + PAM subgroups fitted on participants; everyone gets the nearest medoid.

    Participants are taken in ``person_id`` order (deterministic), and controls are
    assigned on the participants' Gower scale (:meth:`SubgroupResult.predict`).
    """
    from ozamonitor.causal.subgroups import find_subgroups

    tr = (
        stacked.filter(pl.col("treated") == 1)
        .sort("person_id", "stack")
        .unique("person_id", keep="first", maintain_order=True)
    )
    res = find_subgroups(tr, SUBGROUP_VARIABLES, k=k, ks=range(2, 7), n_boot=0, seed=seed,
                         kinds=SUBGROUP_KINDS)
    return stacked.with_columns(subgroup=pl.Series(res.predict(stacked).astype(str)))
