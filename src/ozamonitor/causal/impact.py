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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import polars as pl
from scipy import stats

from ozamonitor.causal.care_history import (
    ARRANGEMENT_SPLITS,
    CARE_HISTORY_COVARIATES,
    MULTI_SPLITS,
    add_arrangement_splits,
    add_care_history,
    estimates_by_value,
)
from ozamonitor.causal.impact_pool import (
    ImpactError,
    add_months,
    add_subgroups,
    candidate_persons,
    match_stacks,
    month_index,
    pool_stacks,
)
from ozamonitor.causal.impact_variance import (
    MIN_TREATED,
    SetComponents,
    aggregate,
    censoring_diagnostics,
    components,
    estimate_cells,
)
from ozamonitor.causal.outcomes import OUTCOME_CONFIG, OUTCOMES, in_education, outcome_matrix
from ozamonitor.register.calendar import AGE_17_MONTHS, COMPULSORY_START_MONTHS
from ozamonitor.register.store import Register
from ozamonitor.trajectories.build import build_trajectories
from ozamonitor.trajectories.states import DEFAULT_CONFIG

__all__ = [
    "DEFAULT_COVARIATES",
    "MIN_TREATED",
    "ControlPool",
    "ImpactError",
    "ImpactResult",
    "candidate_persons",
    "impact_analysis",
]

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
    *CARE_HISTORY_COVARIATES,
)


#: Comparison pool: everyone in the target group, or only those whose last school
#: before the start was regular (po/vo) or special (sbo/so/vso) education.
ControlPool = Literal["all", "regular", "special"]

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
    outcome: str = "in_education",
) -> ImpactResult:
    """Run subgroups -> matching -> DiD for the OZA experiment on a register.

    Parameters
    ----------
    register : Register or str
        The register (real or synthetic: the result does not depend on which).
    by : str or None, default "target_group"
        Split estimates by ``"target_group"``, ``"subgroup"`` (Gower + PAM clusters
        of participants on history and background; controls take their nearest
        medoid's cluster), ``"primary"``, any covariate column, or ``None`` for one
        overall estimate.
    covariates : sequence of str, default DEFAULT_COVARIATES
        Covariates of the pooled propensity model.
    exact : sequence of str, default ("target_group", "primary")
        Variables matched exactly (add ``"swv"`` for matching within region).
    ratio : int, default 3
        Controls per participant.
    caliper : float or None, default 0.2
        Caliper in SDs of the propensity score (``None``: none).
    pre : int, default 12
        Months before the start shown in the event study (and tested for
        pre-trends).
    max_e : int, default 23
        The last month after the start in the overall ATT.
    history_from : datetime.date, optional
        First month of the trajectories (default 2014-08-01).
    subgroup_k : int, optional
        Number of subgroups for ``by="subgroup"`` (default: by silhouette, 2-6).
    alpha : float, default 0.05
        Level of the intervals.
    seed : int, default 0
        Seeds matching ties and the subgroups' sample.
    control_pool : {"all", "regular", "special"}, default "all"
        Compare with pool members whose last school before the start was regular
        (po/vo) or special (sbo/so/vso) education - the study's comparison with
        regular and special education.
    progress : callable, optional
        Called as ``progress(stage, done, total)``.
    outcome : {"in_education", "accessibility", "continuity"}, default "in_education"
        The monthly outcome the effect is estimated on
        (:func:`ozamonitor.causal.outcomes.outcome_matrix`: in education; enrolled as an
        education participant, the study's accessibility; in stable education, its
        continuity). The pool and the covariates do not depend on it.

    Returns
    -------
    ImpactResult
        Summary and event study per group, balance, matched sets, the stacked data,
        the participant-months of the estimate (``cells``) and the settings. On a
        synthetic register, :func:`ozamonitor.synth.evaluate.impact_truth` gives the
        planted truth for exactly these estimates.

    Raises
    ------
    ImpactError
        No participation, no participant start inside the window, nobody matched,
        or an unknown split variable or control pool.
    """
    if control_pool not in ("all", "regular", "special"):
        raise ImpactError(f"control_pool must be all, regular or special, not {control_pool!r}")
    reg = Register.open(register)
    part = reg.read("oza_participation")
    if part.is_empty():
        raise ImpactError(f"{reg.path}: no OZA participation in the register")
    say = progress or (lambda *_: None)
    if outcome not in OUTCOMES:
        raise ImpactError(f"unknown outcome {outcome!r}; use one of {', '.join(OUTCOMES)}")
    seq_ids, codes, y, starts, persons, history_from, y_out = _histories(
        reg, part, history_from, say, outcome)
    stacked = pool_stacks(reg, seq_ids, codes, y, history_from, starts, persons,
                          COMPULSORY_START_MONTHS, AGE_17_MONTHS - 1)

    if control_pool != "all":
        want = 1 if control_pool == "special" else 0
        stacked = stacked.filter((pl.col("treated") == 1) | (pl.col("last_school_special") == want))
    stacked = add_care_history(reg, stacked, history_from)
    if by in ARRANGEMENT_SPLITS:
        stacked = add_arrangement_splits(reg, stacked, history_from)
    by_col = by
    if by == "subgroup":
        stacked = add_subgroups(stacked, k=subgroup_k, seed=seed)
    if by is not None and by not in stacked.columns:
        raise ImpactError(
            f"unknown split variable {by!r}; use target_group, subgroup, primary, "
            f"{', '.join(ARRANGEMENT_SPLITS)} or one of {', '.join(covariates)}"
        )
    split_exact = [by_col] if by_col and by_col not in ARRANGEMENT_SPLITS else []
    exact_all = list(dict.fromkeys([*exact, *split_exact]))
    covs = [c for c in covariates if c not in exact_all and (
        c not in CARE_HISTORY_COVARIATES or stacked[c].n_unique() > 1)]
    matched, stacked = match_stacks(
        stacked,
        covs,
        exact_all,
        ratio,
        caliper,
        seed,
        (lambda k, n: say("matching", k + 1, n)) if progress else None,
    )
    start_idx = np.array([starts.get(p, 10**6) for p in seq_ids.tolist()], dtype=np.int64)
    comp = components(stacked, matched, y_out, pre, max_e, start_idx)
    t_i = matched["treated_i"].to_numpy().astype(np.int64)
    labels = stacked[by_col].to_numpy()[t_i] if by_col else np.array(["all"] * len(t_i))
    if by_col in MULTI_SPLITS:
        summary, event_study = estimates_by_value(_estimates, stacked, matched, comp, by_col,
                                                  max_e, alpha)
    else:
        summary, event_study = _estimates(stacked, matched, comp, labels, by_col, max_e, alpha)

    from ozamonitor.causal.balance import balance_table

    bal_covs = [c for c in [*exact_all, *covs] if stacked[c].n_unique() > 1]
    balance = balance_table(stacked.to_pandas(), "treated", bal_covs, stacked["weight"].to_numpy())
    set_stack = stacked["stack"].to_numpy()[t_i]
    matched_out = matched.with_columns(
        stack=pl.Series(set_stack),
        start=pl.Series(
            [add_months(history_from, int(g)) for g in set_stack.tolist()], dtype=pl.Date
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
        cells=estimate_cells(matched_out, comp, max_e),
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
            "outcome": outcome,
            "register": str(reg.path),
        },
    )


def _histories(
    reg: Register, part: pl.DataFrame, history_from: dt.date | None,
    say: Callable[[str, int, int], None], outcome: str = "in_education",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int], pl.DataFrame, dt.date,
           np.ndarray]:
    """Monthly states and outcomes of the candidates, their first starts and background.

    Returns ``(ids, codes, y, starts, persons, history_from, y_out)``: the
    candidates' ids, state codes and in-education outcome (children x months from
    ``history_from``), the month index of each participant's first start, the
    ``persons`` rows in the order of ``ids``, and the ``outcome``'s matrix.
    """
    first_start = part["start"].min()
    # Trajectories from the start of the register period, so the LRV history that
    # drives selection is observed as far back as the register goes.
    history_from = history_from or dt.date(2014, 8, 1)
    end = reg.extraction_date
    ids_list = candidate_persons(reg, dt.date(first_start.year - 3, first_start.month, 1))
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
        p: month_index(d, history_from)
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
    return seq.ids, seq.codes, y, starts, persons, history_from, outcome_matrix(status, outcome)


def _estimates(
    stacked: pl.DataFrame, matched: pl.DataFrame, comp: SetComponents, labels: np.ndarray,
    by_col: str | None, max_e: int, alpha: float,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The summary (one row per group, and ``all``) and the event study per group."""
    _, child_of_row = np.unique(stacked["person_id"].to_numpy(), return_inverse=True)
    t_i = matched["treated_i"].to_numpy().astype(np.int64)
    treated_child = child_of_row[t_i]
    treated_rows = stacked.filter(pl.col("treated") == 1)
    z = stats.norm.ppf(1 - alpha / 2)
    summary_rows, es_rows = [], []
    groups = [(str(g), labels == g) for g in sorted(set(labels.tolist()), key=str)]
    if by_col:
        groups.append(("all", np.ones(len(t_i), dtype=bool)))
    for grp, sel in groups:
        sets = np.flatnonzero(sel)
        agg = aggregate(comp, sets, treated_child, child_of_row, max_e, alpha)
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
                **censoring_diagnostics(comp, in_sets, max_e),
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
    return summary, event_study
