"""Greedy nearest-neighbour matching that mirrors MatchIt 4.5's ``method = "nearest"``.

What is mirrored (ATT; treated units are matched to controls):

* **Order** (``m_order``): ``"largest"`` (default when the distance is a
  propensity score: treated units in descending score, ties in data order),
  ``"smallest"``, ``"data"`` (default for Mahalanobis) or ``"random"``. As in
  MatchIt, matching *with* replacement always uses data order (the order does
  not change the result then).
* **Rounds**: with ``ratio = k`` every treated unit gets its first control, then
  every treated unit its second, and so on.
* **Propensity-score distance** (MatchIt's ``nn_matchC_vec``): all units are
  sorted by the distance (stable, so ties keep data order); a treated unit looks
  for the nearest eligible control to its left and to its right in that order
  and takes the left one when both are equally far (``<=``). A caliper is
  checked against these two nearest candidates.
* **Mahalanobis distance** (MatchIt's ``nn_matchC``): the distance to every
  eligible control is computed and the first control (in data order) with the
  smallest distance is taken; with replacement the ``k`` nearest (ties in data
  order). The covariance is the pooled within-group covariance of the scaled
  covariates; factors enter with one column per level divided by sqrt(2), as in
  MatchIt's ``transform_covariates``.
* **Caliper** in standard deviations of the distance (``std_caliper=True``):
  ``caliper * sd(distance)`` with the SD over *all* units (treated and control,
  ``n - 1`` denominator), a control is eligible when ``|d_t - d_c| <= caliper``.
* **Exact** matching restricts candidates to the treated unit's stratum.
* **Weights** as ``MatchIt``'s ``weights.matrix``: matched treated units get 1,
  each control the sum over the treated units it serves of ``1 / (number of
  controls of that treated unit)``; control weights are then scaled to sum to
  the number of distinct matched controls. Unmatched units get 0.

``m_order="random"`` reproduces R: ``seed`` plays the part of ``set.seed(seed)``
before ``matchit()``, and the permutation comes from a re-implementation of R's
Mersenne-Twister and ``sample.int`` (rejection sampling, R >= 3.6); with exact
strata one permutation is drawn per stratum, as MatchIt does.

Speed: the propensity-score path keeps, over the controls sorted by distance,
two union-find "next available" arrays (to the left and to the right) so each
match costs near-constant time after one ``O(n log n)`` sort; exact strata are
handled by sorting on (stratum, distance) and rejecting candidates from another
stratum. Mahalanobis matching scans all eligible controls of the stratum for
every treated unit (``O(n_t * n_c * p)``): use exact strata for large pools.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ozamonitor.causal import _matching_kernels as kernels
from ozamonitor.causal._rrandom import RRandom
from ozamonitor.causal.match_result import MatchResult
from ozamonitor.causal.propensity import (
    MatchingError,
    PropensityModel,
    as_pandas,
    design_matrix,
    estimate_propensity,
    treatment_vector,
)

__all__ = [
    "MatchResult",
    "MatchingError",
    "RRandom",
    "mahalanobis_transform",
    "match_nearest",
    "nearest_neighbour_indices",
]

Order = Literal["largest", "smallest", "data", "random"]
#: How units are compared: a propensity score (logistic or boosted) or Mahalanobis.
Distance = Literal["glm", "gbm", "mahalanobis"]


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def stable_argsort(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind="stable")``, faster for a float vector with few ties.

    numpy's stable sort is a merge sort; its default sort is vectorised (AVX2 /
    AVX-512) and about 4x faster but leaves equal values in any order. So sort
    with it, then put each run of equal values back in data order; with many
    ties (an eighth of the values or more) the stable sort is used directly.
    """
    order = np.argsort(values)
    tie = values[order[1:]] == values[order[:-1]]
    if not tie.any():
        return order
    in_run = np.zeros(order.size, dtype=bool)
    in_run[:-1] |= tie
    in_run[1:] |= tie
    pos = np.flatnonzero(in_run)
    if pos.size * 8 > order.size:
        return np.argsort(values, kind="stable")
    run = np.cumsum(np.r_[True, ~tie])[pos]  # run number of each tied position
    sub = order[pos]
    order[pos] = sub[np.lexsort((sub, run))]
    return order


def _stable_order(values: np.ndarray, decreasing: bool) -> np.ndarray:
    """R's ``order(x, decreasing=)`` with the radix method: stable for ties."""
    return stable_argsort(-values if decreasing else values)


def _duplicate(ids: np.ndarray) -> Any:
    """The first repeated id in data order, or ``None`` (numeric ids: one vectorised sort)."""
    if ids.dtype.kind in "iu":
        srt = np.sort(ids)
        if not (srt[1:] == srt[:-1]).any():
            return None
    dup = pd.Series(ids).duplicated()
    return ids[int(np.argmax(dup.to_numpy()))] if dup.any() else None


def _strata_codes(df: pd.DataFrame, exact: Sequence[str]) -> np.ndarray:
    """Integer stratum code per row from the ``exact`` variables."""
    missing = [c for c in exact if c not in df.columns]
    if missing:
        raise MatchingError(f"exact-matching column(s) not in the data: {', '.join(missing)}")
    for c in exact:
        if df[c].isna().any():
            row = int(np.flatnonzero(df[c].isna().to_numpy())[0])
            raise MatchingError(f"exact-matching column {c!r} has missing values (first row {row})")
    codes = np.zeros(len(df), dtype=np.int64)
    for c in exact:
        k, uniq = pd.factorize(df[c], sort=True)
        codes = codes * (len(uniq) + 1) + k
    _, inv = np.unique(codes, return_inverse=True)
    return inv.astype(np.int64)


def _random_order(strata: np.ndarray, treat: np.ndarray, seed: int | None) -> np.ndarray:
    """MatchIt's random order: ``sample.int(n1)`` after ``set.seed(seed)``.

    With exact strata MatchIt draws one permutation per stratum, visiting the
    strata that hold both groups in order of their first treated unit.
    """
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
    rng = RRandom(seed)
    t_str = strata[treat == 1]
    c_set = set(np.unique(strata[treat == 0]).tolist())
    _, first = np.unique(t_str, return_index=True)
    visit = [int(t_str[i]) for i in np.sort(first) if int(t_str[i]) in c_set]
    parts = []
    for st in visit:
        members = np.flatnonzero(t_str == st)
        parts.append(members[rng.sample_int(len(members)) - 1])
    rest = np.flatnonzero(~np.isin(t_str, visit))
    return np.concatenate([*parts, rest]).astype(np.int64)


def nearest_neighbour_indices(
    distance: np.ndarray,
    treat: np.ndarray,
    *,
    ratio: int = 1,
    replace: bool = False,
    caliper: float | None = None,
    strata: np.ndarray | None = None,
    order: np.ndarray | None = None,
) -> np.ndarray:
    """Greedy matching on a 1-D distance; returns row indices of controls.

    Parameters
    ----------
    distance : numpy.ndarray
        One value per unit.
    treat : numpy.ndarray
        0/1 per unit.
    ratio : int, default 1
    replace : bool, default False
    caliper : float, optional
        In raw units of ``distance``.
    strata : numpy.ndarray, optional
        Exact-matching stratum code per unit.
    order : numpy.ndarray, optional
        Positions (among treated units, in data order) in the order they are
        matched (default: data order).

    Returns
    -------
    numpy.ndarray
        ``(n_treated, ratio)`` row indices into the data (``-1`` where unmatched),
        rows in treated data order.
    """
    distance = np.asarray(distance, dtype=float)
    treat = np.asarray(treat).astype(bool)
    n = len(distance)
    strata = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata, np.int64)
    rows = np.arange(n)
    # Sort all units by (stratum, distance), stable: ties keep data order, as R's order().
    srt = np.lexsort((distance, strata)) if strata.any() else stable_argsort(distance)
    is_c_sorted = ~treat[srt]
    ctrl_before = np.cumsum(is_c_sorted) - is_c_sorted  # controls strictly before each position
    c_rows = srt[is_c_sorted]
    pos_of = np.empty(n, dtype=np.int64)
    pos_of[srt] = np.arange(n)
    t_rows = rows[treat]
    tsplit = ctrl_before[pos_of[t_rows]].astype(np.int64)
    cdist = distance[c_rows]
    cstrat = strata[c_rows]
    tdist = distance[t_rows]
    tstrat = strata[t_rows]
    cal = float(caliper) if caliper is not None else np.inf
    if order is None:
        order = np.arange(len(t_rows))
    if replace:
        mm = kernels.vec_rep(cdist, cstrat, tdist, tstrat, tsplit, int(ratio), cal,
                             caliper is not None)
    else:
        mm = kernels.vec_norep(
            cdist,
            cstrat,
            tdist,
            tstrat,
            tsplit,
            np.asarray(order, np.int64),
            int(ratio),
            cal,
            caliper is not None,
        )
    if len(c_rows) == 0:
        return mm
    return np.where(mm >= 0, c_rows[np.maximum(mm, 0)], -1)


def mahalanobis_transform(data: Any, covariates: Sequence[str], treat: np.ndarray) -> np.ndarray:
    """Covariates transformed so Euclidean distance equals MatchIt's Mahalanobis distance.

    Factor dummies (all levels) are divided by sqrt(2); constant columns are
    dropped; columns are standardised; the scaling matrix is the pooled
    within-group covariance (group-mean centred, denominator ``n - 2``), inverted
    or pseudo-inverted when singular.

    Parameters
    ----------
    data : pandas.DataFrame or polars.DataFrame
    covariates : sequence of str
    treat : numpy.ndarray
        0/1 per row.

    Returns
    -------
    numpy.ndarray
        One row per unit.
    """
    dm = design_matrix(data, covariates, intercept=False, full_dummies=True)
    X = dm.X.copy()
    for j, lev in enumerate(dm.level):
        if lev is not None:
            X[:, j] /= np.sqrt(2.0)
    keep = np.abs(X.max(axis=0) - X.min(axis=0)) >= np.sqrt(np.finfo(float).eps)
    if not keep.any():
        return X[:, :1]
    X = X[:, keep]
    X = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
    t = np.asarray(treat).astype(bool)
    Xc = X.copy()
    for g in (t, ~t):
        Xc[g] -= Xc[g].mean(axis=0)
    n = X.shape[0]
    S = Xc.T @ Xc / (n - 2)
    # MatchIt: solve() when det > 1e-8, else a generalised inverse (MASS::ginv tolerance)
    if np.linalg.det(S) > 1e-8:
        inv = np.linalg.inv(S)
    else:
        inv = np.linalg.pinv(S, rtol=np.sqrt(np.finfo(float).eps), hermitian=True)
    w, V = np.linalg.eigh((inv + inv.T) / 2)
    w = np.clip(w, 0, None)
    root = V * np.sqrt(w)
    return X @ root


def _weights_from_mm(mm: np.ndarray, t_rows: np.ndarray, n: int, treat: np.ndarray) -> np.ndarray:
    w = np.zeros(n)
    counts = (mm >= 0).sum(axis=1)
    has = mm[:, 0] >= 0 if mm.shape[1] else np.zeros(len(t_rows), bool)
    has = has | (counts > 0)
    w[t_rows[has]] = 1.0
    for j in range(mm.shape[1]):
        sel = (mm[:, j] >= 0) & has
        np.add.at(w, mm[sel, j], 1.0 / counts[sel])
    ctrl = treat == 0
    total = w[ctrl].sum()
    if total > 0:
        w[ctrl] *= (w[ctrl] > 0).sum() / total
    return w


def _subclass_from_mm(mm: np.ndarray, t_rows: np.ndarray, n: int) -> np.ndarray:
    sub = np.full(n, np.nan)
    k = 0
    for i in range(mm.shape[0]):
        row = mm[i][mm[i] >= 0]
        if len(row):
            k += 1
            sub[t_rows[i]] = k
            sub[row] = k
    return sub


def match_nearest(
    data: Any,
    treatment: str,
    covariates: Sequence[str] | None = None,
    *,
    id_col: str | None = None,
    distance: Distance | np.ndarray | Sequence[float] = "glm",
    link: Literal["logit", "linear.logit"] = "logit",
    exact: Sequence[str] | None = None,
    mahvars: Sequence[str] | None = None,
    ratio: int = 1,
    replace: bool = False,
    caliper: float | None = None,
    std_caliper: bool = True,
    m_order: Order | None = None,
    seed: int | None = None,
) -> MatchResult:
    """Greedy nearest-neighbour matching (ATT) mirroring MatchIt 4.5.

    Parameters
    ----------
    data : pandas.DataFrame or polars.DataFrame
        One row per unit.
    treatment : str
        0/1 (or boolean) treatment column.
    covariates : sequence of str, optional
        Covariates of the propensity model (or of the Mahalanobis distance when
        ``distance="mahalanobis"``).
    id_col : str, optional
        Unit identifier used in :meth:`MatchResult.pairs`; row numbers if omitted.
    distance : {"glm", "gbm", "mahalanobis"} or array-like, default "glm"
        ``"glm"`` (logistic propensity score, MatchIt's default), ``"gbm"``
        (gradient boosting score), ``"mahalanobis"``, or a numeric vector of scores
        (MatchIt's user-supplied distance).
    link : {"logit", "linear.logit"}, default "logit"
        For ``distance="glm"``.
    exact : sequence of str, optional
        Variables to match exactly on (e.g. region, sector).
    mahvars : sequence of str, optional
        Match on the Mahalanobis distance of these variables while the propensity
        score is used for the caliper (MatchIt's ``mahvars``).
    ratio : int, default 1
        Controls per treated unit (``k`` in 1:k).
    replace : bool, default False
        Match with replacement.
    caliper : float, optional
        Caliper width, in SDs of the distance (``std_caliper=True``) or raw.
    std_caliper : bool, default True
    m_order : {"largest", "smallest", "data", "random"}, optional
        Order in which treated units are matched (default: ``"largest"`` for a
        score, ``"data"`` for Mahalanobis).
    seed : int, optional
        R's ``set.seed()`` value for ``m_order="random"``; also seeds boosting.

    Returns
    -------
    MatchResult

    Raises
    ------
    MatchingError
        Missing columns or values, a non-unique id, bad options, or nothing matched.
    """
    df = as_pandas(data)
    treat = treatment_vector(df, treatment).astype(np.int64)
    n = len(df)
    if id_col is not None and id_col not in df.columns:
        raise MatchingError(f"id column {id_col!r} not in the data")
    ids = df[id_col].to_numpy() if id_col is not None else np.arange(n)
    if id_col is not None and (dup := _duplicate(ids)) is not None:
        raise MatchingError(f"id column {id_col!r} is not unique (e.g. {dup!r})")
    ratio = int(ratio)
    if ratio < 1:
        raise MatchingError("ratio must be a whole number >= 1")
    if caliper is not None and not np.isfinite(caliper):
        caliper = None
    covariates = list(covariates) if covariates is not None else []

    dname, score, propensity = _distance(df, treatment, covariates, distance, link=link,
                                         mahvars=mahvars, seed=seed)
    use_mah = dname == "mahalanobis" or bool(mahvars)
    order_name = _order_name(score, m_order, replace)
    cal_raw: float | None = None
    if caliper is not None:
        if score is None:
            raise MatchingError(
                "a caliper needs a propensity score; with distance='mahalanobis' use "
                "distance='glm' with mahvars instead"
            )
        if np.unique(score).size > 1:
            cal_raw = abs(caliper) * (float(np.std(score, ddof=1)) if std_caliper else 1.0)

    t_rows = np.flatnonzero(treat == 1)
    strata = _strata_codes(df, list(exact)) if exact else np.zeros(n, dtype=np.int64)
    order = _treated_order(order_name, score, t_rows, strata, treat, seed)
    if not replace:
        _check_supply(strata, treat, ratio, exact=bool(exact))
    if use_mah:
        Z = mahalanobis_transform(df, list(mahvars) if mahvars else covariates, treat)
        mm = _mahalanobis_matches(Z, score, treat, strata, order, ratio=ratio, replace=replace,
                                  caliper=cal_raw)
    else:
        mm = nearest_neighbour_indices(
            score, treat, ratio=ratio, replace=replace, caliper=cal_raw, strata=strata, order=order
        )

    if not (mm >= 0).any():
        raise MatchingError("no units were matched (check the caliper and exact variables)")
    weights = _weights_from_mm(mm, t_rows, n, treat)
    subclass = np.full(n, np.nan) if replace else _subclass_from_mm(mm, t_rows, n)
    settings = {
        "distance": dname,
        "link": link if dname == "glm" else None,
        "ratio": ratio,
        "replace": bool(replace),
        "caliper": caliper,
        "std_caliper": std_caliper,
        "exact": list(exact) if exact else [],
        "mahvars": list(mahvars) if mahvars else [],
        "m_order": order_name,
        "seed": seed,
        "covariates": covariates,
        "treatment": treatment,
    }
    return MatchResult(
        treated_rows=t_rows,
        match_matrix=mm,
        weights=weights,
        subclass=subclass,
        treat=treat,
        ids=ids,
        distance=score,
        caliper=cal_raw,
        settings=settings,
        propensity=propensity,
    )


def _distance(
    df: pd.DataFrame, treatment: str, covariates: list[str],
    distance: str | np.ndarray | Sequence[float], *, link: str,
    mahvars: Sequence[str] | None, seed: int | None,
) -> tuple[str, np.ndarray | None, PropensityModel | None]:
    """The distance's name, the score (``None`` for Mahalanobis) and the propensity model."""
    n = len(df)
    propensity: PropensityModel | None = None
    score: np.ndarray | None
    if isinstance(distance, str):
        dname = distance.lower()
        if dname == "mahalanobis":
            if not covariates:
                raise MatchingError("covariates must be given when distance='mahalanobis'")
            if mahvars:
                raise MatchingError("mahvars cannot be combined with distance='mahalanobis'")
            score = None
        elif dname in ("glm", "gbm"):
            if not covariates:
                raise MatchingError(f"covariates must be given when distance={distance!r}")
            propensity = estimate_propensity(
                df, treatment, covariates, method=dname, link=link, seed=seed
            )
            score = propensity.distance
        else:
            raise MatchingError(
                f"unknown distance {distance!r}; use 'glm', 'gbm', 'mahalanobis' or a vector"
            )
    else:
        dname = "user"
        score = np.asarray(distance, dtype=float)
        if score.shape != (n,):
            raise MatchingError(f"distance vector has length {score.size}, expected {n}")
        if not np.isfinite(score).all():
            raise MatchingError("distance vector has missing or non-finite values")
    return dname, score, propensity


def _order_name(score: np.ndarray | None, m_order: Order | None, replace: bool) -> str:
    """MatchIt's ``m.order``: its default for the distance, checked."""
    if score is None:
        order_name = m_order or "data"
        if order_name not in ("data", "random"):
            raise MatchingError("m_order must be 'data' or 'random' when distance='mahalanobis'")
    else:
        order_name = m_order or "largest"
        if order_name not in ("largest", "smallest", "data", "random"):
            raise MatchingError(f"unknown m_order {order_name!r}")
    if replace:
        order_name = "data"  # MatchIt: reuse.max >= n1 forces data order
    return order_name


def _treated_order(order_name: str, score: np.ndarray | None, t_rows: np.ndarray,
                   strata: np.ndarray, treat: np.ndarray, seed: int | None) -> np.ndarray:
    """Positions of the treated units (in data order) in the order they are matched."""
    if order_name == "largest":
        return _stable_order(score[t_rows], decreasing=True)  # type: ignore[index]
    if order_name == "smallest":
        return _stable_order(score[t_rows], decreasing=False)  # type: ignore[index]
    if order_name == "random":
        return _random_order(strata, treat, seed)
    return np.arange(len(t_rows))


def _check_supply(strata: np.ndarray, treat: np.ndarray, ratio: int, *, exact: bool) -> None:
    """Without replacement: refuse strata without controls, warn when controls run short."""
    n1 = int((treat == 1).sum())
    n0 = len(treat) - n1

    if exact:
        nt_s = np.bincount(strata[treat == 1], minlength=strata.max() + 1)
        nc_s = np.bincount(strata[treat == 0], minlength=strata.max() + 1)
        if not ((nt_s > 0) & (nc_s > 0)).any():
            raise MatchingError(
                "no exact-matching stratum contains both treated and control units"
            )
        if (nc_s[nt_s > 0] < nt_s[nt_s > 0]).any():
            warnings.warn(
                "fewer control units than treated units in some exact strata; not all "
                "treated units will get a match",
                UserWarning,
                stacklevel=3,
            )
        elif ratio > 1 and (nc_s[nt_s > 0] < ratio * nt_s[nt_s > 0]).any():
            warnings.warn(
                f"not all treated units will get {ratio} matches", UserWarning, stacklevel=3
            )
    elif n0 < n1:
        warnings.warn(
            "fewer control units than treated units; not all treated units will get a match",
            UserWarning,
            stacklevel=3,
        )
    elif n0 < ratio * n1:
        warnings.warn(
            f"not all treated units will get {ratio} matches", UserWarning, stacklevel=3
        )


def _mahalanobis_matches(
    Z: np.ndarray, score: np.ndarray | None, treat: np.ndarray, strata: np.ndarray,
    order: np.ndarray, *, ratio: int, replace: bool, caliper: float | None,
) -> np.ndarray:
    """MatchIt's ``nn_matchC`` on Mahalanobis-transformed covariates ``Z`` (within strata,
    optionally within a caliper on ``score``): ``(n_treated, ratio)`` control rows."""
    cal_raw = caliper
    t_rows = np.flatnonzero(treat == 1)
    n1 = len(t_rows)
    c_rows_all = np.flatnonzero(treat == 0)
    c_str = strata[c_rows_all]
    csort = np.argsort(c_str, kind="stable")
    c_rows = c_rows_all[csort]
    c_str = c_str[csort]
    n_str = int(strata.max()) + 1
    starts = np.searchsorted(c_str, np.arange(n_str), side="left").astype(np.int64)
    ends = np.searchsorted(c_str, np.arange(n_str), side="right").astype(np.int64)
    tps = score[t_rows] if score is not None else np.zeros(n1)
    cps = score[c_rows] if score is not None else np.zeros(len(c_rows))
    mm_pos = kernels.mah_match(
        np.ascontiguousarray(Z[t_rows]),
        np.ascontiguousarray(Z[c_rows]),
        strata[t_rows].astype(np.int64),
        starts,
        ends,
        tps,
        cps,
        cal_raw if cal_raw is not None else np.inf,
        cal_raw is not None,
        order.astype(np.int64),
        ratio,
        bool(replace),
    )
    return np.where(mm_pos >= 0, c_rows[np.maximum(mm_pos, 0)], -1)
