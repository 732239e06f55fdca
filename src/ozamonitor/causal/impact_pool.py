"""The OZA impact pipeline, steps 1-3: candidates, stacks by start month, matching.

See :mod:`ozamonitor.causal.impact` for the design. :func:`candidate_persons`
finds the children who could have been selected; :func:`pool_stacks` builds,
for every start month *g*, the pool of children in a target group at *g-1* with
their pre-start covariates; :func:`add_subgroups` adds the participants' Gower +
PAM subgroups; :func:`match_stacks` matches within each stack on one pooled
propensity score.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import polars as pl

from ozamonitor.causal.matching import match_nearest
from ozamonitor.causal.propensity import SeparationWarning, estimate_propensity
from ozamonitor.causal.subgroups import Kind, find_subgroups
from ozamonitor.errors import OzamonitorError
from ozamonitor.register.calendar import SECONDARY_AGE_MONTHS
from ozamonitor.register.schema import OZA_TARGET_GROUPS
from ozamonitor.register.store import Register
from ozamonitor.trajectories.states import DEFAULT_CONFIG

__all__ = [
    "SUBGROUP_KINDS",
    "SUBGROUP_VARIABLES",
    "ImpactError",
    "add_months",
    "add_subgroups",
    "candidate_persons",
    "match_stacks",
    "month_index",
    "pool_stacks",
]

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


def add_months(first: dt.date, k: int) -> dt.date:
    """The first day of the month ``k`` months after ``first``'s month."""
    m = first.month - 1 + k
    return dt.date(first.year + m // 12, m % 12 + 1, 1)


def month_index(d: dt.date, first: dt.date) -> int:
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


def pool_stacks(
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


def match_stacks(
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


def add_subgroups(stacked: pl.DataFrame, *, k: int | None, seed: int) -> pl.DataFrame:
    """Gower + PAM subgroups fitted on participants; everyone gets the nearest medoid.

    Participants are taken in ``person_id`` order (deterministic), and controls are
    assigned on the participants' Gower scale (:meth:`SubgroupResult.predict`).
    """
    tr = (
        stacked.filter(pl.col("treated") == 1)
        .sort("person_id", "stack")
        .unique("person_id", keep="first", maintain_order=True)
    )
    from ozamonitor.causal.care_history import CARE_HISTORY_COVARIATES

    extra = [c for c in CARE_HISTORY_COVARIATES if c in tr.columns and tr[c].n_unique() > 1]
    res = find_subgroups(tr, [*SUBGROUP_VARIABLES, *extra], k=k, ks=range(2, 7), n_boot=0,
                         seed=seed, kinds=SUBGROUP_KINDS)
    return stacked.with_columns(subgroup=pl.Series(res.predict(stacked).astype(str)))
