"""Nearest-neighbour matching against an independent brute-force MatchIt implementation."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ozamonitor.causal.matching import (
    MatchingError,
    RRandom,
    match_nearest,
    nearest_neighbour_indices,
)
from ozamonitor.causal.propensity import SeparationWarning, estimate_propensity

# ---------------------------------------------------------------------------
# Brute force, written from MatchIt's nn_matchC_vec / nn_matchC source: O(n_t * n)
# ---------------------------------------------------------------------------


def brute_vec(
    dist, treat, *, ratio=1, replace=False, caliper=None, strata=None, order="largest", perm=None
):
    """MatchIt 4.5 nn_matchC_vec: scan left/right in the distance-sorted sample."""
    n = len(dist)
    strata = [0] * n if strata is None else list(strata)
    t_idx = [i for i in range(n) if treat[i] == 1]
    n1 = len(t_idx)
    if replace:
        order = "data"
    if order == "largest":
        ord_ = sorted(range(n1), key=lambda j: (-dist[t_idx[j]], j))
    elif order == "smallest":
        ord_ = sorted(range(n1), key=lambda j: (dist[t_idx[j]], j))
    elif order == "random":
        ord_ = list(perm)
    else:
        ord_ = list(range(n1))
    srt = sorted(range(n), key=lambda i: (dist[i], i))  # R's order(): stable
    pos = {u: p for p, u in enumerate(srt)}
    times = dict.fromkeys(range(n), 0)
    reuse_max = 10**9 if replace else 1
    mm = [[-1] * ratio for _ in range(n1)]

    def ok(i, k, mine):
        u = srt[k]
        return treat[u] == 0 and u not in mine and times[u] < reuse_max

    for r in range(ratio):
        for j in ord_:
            i = t_idx[j]
            mine = {c for c in mm[j] if c >= 0}
            cand = []
            for step in (-1, 1):
                k = pos[i] + step
                found = None
                while 0 <= k < n:
                    if not ok(i, k, mine):
                        k += step
                        continue
                    u = srt[k]
                    if caliper is not None and abs(dist[i] - dist[u]) > caliper:
                        break
                    if strata[u] != strata[i]:
                        k += step
                        continue
                    found = u
                    break
                cand.append(found)
            left, right = cand
            if left is not None and right is not None:
                c = left if abs(dist[left] - dist[i]) <= abs(dist[right] - dist[i]) else right
            elif left is not None:
                c = left
            elif right is not None:
                c = right
            else:
                continue
            mm[j][r] = c
            times[c] += 1
    return np.array(mm)


def brute_mahal(
    Z, treat, *, ratio=1, replace=False, strata=None, ps=None, caliper=None, order=None
):
    """MatchIt nn_matchC with Mahalanobis covariates (already transformed)."""
    n = len(treat)
    strata = [0] * n if strata is None else list(strata)
    t_idx = [i for i in range(n) if treat[i] == 1]
    c_idx = [i for i in range(n) if treat[i] == 0]
    used = set()
    mm = [[-1] * ratio for _ in t_idx]
    seq = range(len(t_idx)) if order is None else order
    for r in range(1 if replace else ratio):
        for j in seq:
            i = t_idx[j]
            elig = [c for c in c_idx if c not in used and strata[c] == strata[i]]
            if caliper is not None:
                elig = [c for c in elig if abs(ps[c] - ps[i]) <= caliper]
            if not elig:
                continue
            d = [float(np.sqrt(((Z[i] - Z[c]) ** 2).sum())) for c in elig]
            if replace:
                ranked = sorted(range(len(elig)), key=lambda q: (d[q], q))[:ratio]
                for q, e in enumerate(ranked):
                    mm[j][q] = elig[e]
            else:
                best = min(range(len(elig)), key=lambda q: (d[q], q))
                mm[j][r] = elig[best]
                used.add(elig[best])
    return np.array(mm)


def brute_weights(mm, treat):
    w = np.zeros(len(treat))
    t_idx = np.flatnonzero(treat == 1)
    for j, row in enumerate(mm):
        got = [c for c in row if c >= 0]
        if got:
            w[t_idx[j]] = 1
            for c in got:
                w[c] += 1 / len(got)
    c = treat == 0
    w[c] *= (w[c] > 0).sum() / w[c].sum()
    return w


def _data(n=120, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "id": [f"p{i:03d}" for i in range(n)],
            "x1": rng.normal(size=n),
            "x2": rng.integers(0, 4, n).astype(float),
            "region": rng.choice(["noord", "zuid", "oost"], n),
        }
    )
    lin = -1.2 + 0.8 * df.x1 + 0.3 * df.x2
    df["t"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    dist = rng.random(n)
    if ties:
        dist = np.round(dist * 6) / 6
    return df, dist


SETTINGS = list(
    itertools.product(
        [1, 2, 3], [False, True], [None, 0.05], [False, True], ["largest", "smallest", "data"]
    )
)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize(("ratio", "replace", "caliper", "exact", "order"), SETTINGS)
def test_vec_matches_bruteforce(ratio, replace, caliper, exact, order, ties):
    df, dist = _data(seed=ratio * 7 + int(replace) + int(exact) * 3, ties=ties)
    treat = df.t.to_numpy()
    strata = pd.factorize(df.region, sort=True)[0] if exact else None
    res = match_nearest(
        df,
        "t",
        id_col="id",
        distance=dist,
        ratio=ratio,
        replace=replace,
        caliper=caliper,
        std_caliper=False,
        exact=["region"] if exact else None,
        m_order=order,
    )
    ref = brute_vec(
        dist, treat, ratio=ratio, replace=replace, caliper=caliper, strata=strata, order=order
    )
    np.testing.assert_array_equal(res.match_matrix, ref)
    np.testing.assert_allclose(res.weights, brute_weights(ref, treat))


def test_random_order_matches_bruteforce_with_same_permutation():
    df, dist = _data(seed=5)
    treat = df.t.to_numpy()
    res = match_nearest(df, "t", distance=dist, m_order="random", seed=11)
    perm = RRandom(11).sample_int(int(treat.sum())) - 1
    np.testing.assert_array_equal(
        res.match_matrix, brute_vec(dist, treat, order="random", perm=perm)
    )


def test_r_random_stream_matches_r():
    # R >= 3.6: set.seed(42); runif(3) / set.seed(42); sample(10) / set.seed(1); sample(5)
    r = RRandom(42)
    assert [round(r.unif_rand(), 7) for _ in range(3)] == [0.914806, 0.9370754, 0.2861395]
    assert RRandom(42).sample_int(10).tolist() == [1, 5, 10, 8, 2, 4, 6, 9, 7, 3]
    assert RRandom(1).sample_int(5).tolist() == [1, 4, 3, 5, 2]


def test_random_order_with_exact_draws_per_stratum():
    df, dist = _data(seed=3)
    treat = df.t.to_numpy()
    res = match_nearest(df, "t", distance=dist, m_order="random", seed=7, exact=["region"])
    strata = pd.factorize(df.region, sort=True)[0]
    t_str = strata[treat == 1]
    rng = RRandom(7)
    perm = []
    for stratum in pd.unique(t_str):  # strata in order of their first treated unit
        members = np.flatnonzero(t_str == stratum)
        perm.extend(members[rng.sample_int(len(members)) - 1])
    ref = brute_vec(dist, treat, strata=strata, order="random", perm=perm)
    np.testing.assert_array_equal(res.match_matrix, ref)


def test_more_treated_than_controls_warns_and_matches_greedily():
    rng = np.random.default_rng(3)
    dist = rng.random(30)
    treat = np.r_[np.ones(20, int), np.zeros(10, int)]
    df = pd.DataFrame({"t": treat})
    with pytest.warns(UserWarning, match="fewer control units"):
        res = match_nearest(df, "t", distance=dist)
    np.testing.assert_array_equal(res.match_matrix, brute_vec(dist, treat))
    assert res.n_matched_treated == 10


def test_left_preferred_on_equal_distance_and_ties_by_data_order():
    # treated at 0.5; controls at 0.4 and 0.6 (equal distance) -> left (0.4)
    df = pd.DataFrame({"t": [0, 1, 0]})
    res = match_nearest(df, "t", distance=[0.6, 0.5, 0.4])
    assert res.match_matrix.tolist() == [[2]]
    # identical control scores left of the treated unit: the one closest in sorted order (last)
    df = pd.DataFrame({"t": [0, 0, 1]})
    res = match_nearest(df, "t", distance=[0.3, 0.3, 0.5])
    assert res.match_matrix.tolist() == [[1]]


def test_caliper_in_sd_of_all_units():
    df, _ = _data(seed=2)
    dist = np.random.default_rng(9).random(len(df))
    res = match_nearest(df, "t", distance=dist, caliper=0.1)
    assert res.caliper == pytest.approx(0.1 * np.std(dist, ddof=1))
    ref = brute_vec(dist, df.t.to_numpy(), caliper=res.caliper)
    np.testing.assert_array_equal(res.match_matrix, ref)


@pytest.mark.parametrize(
    ("ratio", "replace", "exact"),
    [(1, False, False), (2, False, True), (2, True, False), (1, True, True)],
)
def test_mahalanobis_matches_bruteforce(ratio, replace, exact):
    from ozamonitor.causal.matching import mahalanobis_transform

    df, _ = _data(n=90, seed=4)
    treat = df.t.to_numpy()
    Z = mahalanobis_transform(df, ["x1", "x2"], treat)
    strata = pd.factorize(df.region, sort=True)[0] if exact else None
    res = match_nearest(
        df,
        "t",
        ["x1", "x2"],
        distance="mahalanobis",
        ratio=ratio,
        replace=replace,
        exact=["region"] if exact else None,
    )
    ref = brute_mahal(Z, treat, ratio=ratio, replace=replace, strata=strata)
    if replace:  # column order among equidistant controls is unspecified in MatchIt
        np.testing.assert_array_equal(np.sort(res.match_matrix, 1), np.sort(ref, 1))
    else:
        np.testing.assert_array_equal(res.match_matrix, ref)


@pytest.mark.parametrize("ratio", [1, 2])
def test_mahvars_within_ps_caliper_matches_bruteforce(ratio):
    from ozamonitor.causal.matching import mahalanobis_transform

    df, dist = _data(n=150, seed=12)
    treat = df.t.to_numpy()
    res = match_nearest(df, "t", distance=dist, mahvars=["x1", "x2"], caliper=0.1, ratio=ratio)
    Z = mahalanobis_transform(df, ["x1", "x2"], treat)
    order = sorted(range(int(treat.sum())), key=lambda j: (-dist[treat == 1][j], j))
    ref = brute_mahal(Z, treat, ratio=ratio, ps=dist, caliper=res.caliper, order=order)
    np.testing.assert_array_equal(res.match_matrix, ref)


def test_mahalanobis_distance_uses_pooled_within_group_covariance():
    from ozamonitor.causal.matching import mahalanobis_transform

    df, _ = _data(n=60, seed=8)
    t = df.t.to_numpy().astype(bool)
    X = df[["x1", "x2"]].to_numpy()
    X = (X - X.mean(0)) / X.std(0, ddof=1)
    Xc = X.copy()
    for g in (t, ~t):
        Xc[g] -= Xc[g].mean(0)
    S = Xc.T @ Xc / (len(X) - 2)
    Z = mahalanobis_transform(df, ["x1", "x2"], t.astype(int))
    d_ref = (X[0] - X[1]) @ np.linalg.solve(S, X[0] - X[1])
    assert ((Z[0] - Z[1]) ** 2).sum() == pytest.approx(d_ref)


def test_weights_with_replacement_hand_example():
    # treated at 0.5 and 0.52, controls at 0.51 (shared), 0.2, 0.8; ratio 2 with replacement
    df = pd.DataFrame({"t": [1, 1, 0, 0, 0]})
    res = match_nearest(df, "t", distance=[0.5, 0.52, 0.51, 0.2, 0.8], ratio=2, replace=True)
    assert res.match_matrix.tolist() == [[2, 3], [2, 4]]
    raw = np.array([1, 1, 0.5 + 0.5, 0.5, 0.5])  # control 2 serves both treated units
    expected = raw.copy()
    expected[2:] *= 3 / raw[2:].sum()
    np.testing.assert_allclose(res.weights, expected)
    assert np.isnan(res.subclass).all()


def test_pairs_frame_and_matched_data():
    df, dist = _data(seed=1)
    res = match_nearest(
        df, "t", id_col="id", distance=dist, ratio=2, caliper=0.02, std_caliper=False
    )
    pf = res.pairs_frame()
    assert list(pf.columns) == ["treated", "control1", "control2"]
    assert len(pf) == df.t.sum()
    md = res.matched_data(pl.from_pandas(df))
    assert isinstance(md, pl.DataFrame)
    assert md.height == int((res.weights > 0).sum())
    assert {"weights", "subclass", "distance"} <= set(md.columns)
    pairs = res.pairs()
    some = next(k for k, v in pairs.items() if v)
    sub = md.filter(pl.col("id") == some)["subclass"][0]
    assert set(md.filter(pl.col("subclass") == sub)["id"].to_list()) == {some, *pairs[some]}


def test_matched_data_lines_rows_up_by_id_col():
    """With ``id_col`` the data may come in another order, with extra rows: each row
    gets its own unit's weight, subclass and distance (it used to be ignored)."""
    df, dist = _data(seed=1)
    res = match_nearest(
        df, "t", id_col="id", distance=dist, ratio=2, caliper=0.02, std_caliper=False
    )
    by_row = res.matched_data(df).set_index("id")
    extra = pd.DataFrame({"id": ["nobody"], "t": [0]})
    shuffled = pd.concat([df.sample(frac=1.0, random_state=3), extra], ignore_index=True)
    by_id = res.matched_data(shuffled, id_col="id")
    # data's order, matched units only, the same values unit by unit
    order = [i for i in shuffled["id"] if i in by_row.index]
    assert by_id["id"].tolist() == order
    got = by_id.set_index("id").loc[by_row.index]
    np.testing.assert_allclose(got["weights"], by_row["weights"])
    np.testing.assert_allclose(got["distance"], by_row["distance"])
    assert got["subclass"].tolist() == by_row["subclass"].tolist()
    # positional use of shuffled data would have mixed the units up
    wrong = res.matched_data(shuffled.iloc[: len(df)])
    assert wrong["id"].tolist() != by_row.index.tolist()
    with pytest.raises(MatchingError, match="not in the data"):
        res.matched_data(shuffled[shuffled["id"] != by_row.index[0]], id_col="id")
    with pytest.raises(MatchingError, match="not unique"):
        res.matched_data(pd.concat([df, df.iloc[:1]]), id_col="id")
    with pytest.raises(MatchingError, match="different number of rows"):
        res.matched_data(shuffled)


def test_glm_distance_and_linear_logit():
    df, _ = _data(n=400, seed=6)
    r1 = match_nearest(df, "t", ["x1", "x2", "region"])
    ps = estimate_propensity(df, "t", ["x1", "x2", "region"])
    np.testing.assert_allclose(r1.distance, ps.score)
    ref = brute_vec(ps.score, df.t.to_numpy())
    np.testing.assert_array_equal(r1.match_matrix, ref)
    r2 = match_nearest(df, "t", ["x1", "x2", "region"], link="linear.logit", caliper=0.2)
    lp = ps.linear_predictor
    ref2 = brute_vec(lp, df.t.to_numpy(), caliper=0.2 * np.std(lp, ddof=1))
    np.testing.assert_array_equal(r2.match_matrix, ref2)


def test_gbm_distance_runs():
    df, _ = _data(n=300, seed=2)
    res = match_nearest(df, "t", ["x1", "x2"], distance="gbm", seed=1)
    assert res.n_matched_treated == df.t.sum()


def test_fast_path_scales():
    rng = np.random.default_rng(0)
    n_c, n_t = 200_000, 2_000
    dist = np.r_[rng.beta(2, 5, n_t), rng.beta(2, 8, n_c)]
    treat = np.r_[np.ones(n_t, int), np.zeros(n_c, int)]
    mm = nearest_neighbour_indices(dist, treat, ratio=2)
    assert (mm >= 0).all() and len(np.unique(mm)) == mm.size


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------


def test_errors():
    df, dist = _data(seed=1)
    with pytest.raises(ValueError, match="no control units"):
        match_nearest(df.assign(t=1), "t", distance=dist)
    with pytest.raises(ValueError, match="no treated units"):
        match_nearest(df.assign(t=0), "t", distance=dist)
    with pytest.raises(ValueError, match="not in the data"):
        match_nearest(df, "t", ["nope"])
    with pytest.raises(ValueError, match="'x9' has no variance"):
        match_nearest(df.assign(x9=1.0), "t", ["x1", "x9"])
    bad = df.copy()
    bad.loc[5, "x1"] = np.nan
    with pytest.raises(ValueError, match=r"'x1' has 1 missing value"):
        match_nearest(bad, "t", ["x1"])
    with pytest.raises(ValueError, match="m_order"):
        match_nearest(df, "t", ["x1"], distance="mahalanobis", m_order="largest")
    with pytest.raises(ValueError, match="caliper needs a propensity"):
        match_nearest(df, "t", ["x1"], distance="mahalanobis", caliper=0.2)
    with pytest.raises(ValueError, match="not unique"):
        match_nearest(df.assign(id="a"), "t", id_col="id", distance=dist)
    with pytest.raises(ValueError, match="0/1"):
        match_nearest(df.assign(t=2), "t", distance=dist)


def test_separation_warning_names_covariate():
    df, _ = _data(n=200, seed=3)
    df["flag"] = np.where(df.t == 1, "ja", "nee")
    df.loc[df.index[:40], "flag"] = "nee"
    df.loc[(df.t == 1), "flag"] = "ja"
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = match_nearest(df, "t", ["x1", "flag"])
    msgs = [str(w.message) for w in rec if issubclass(w.category, SeparationWarning)]
    assert msgs and "'flag'" in msgs[0]
    assert np.isfinite(res.distance).all()


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(4, 40),
    levels=st.integers(2, 8),
    ratio=st.integers(1, 3),
    replace=st.booleans(),
    caliper=st.sampled_from([None, 0.0, 0.1, 0.3]),
    exact=st.booleans(),
    order=st.sampled_from(["largest", "smallest", "data"]),
    seed=st.integers(0, 10_000),
)
def test_property_matches_bruteforce(n, levels, ratio, replace, caliper, exact, order, seed):
    rng = np.random.default_rng(seed)
    treat = rng.integers(0, 2, n)
    assume(0 < treat.sum() < n)
    dist = rng.integers(0, levels, n) / levels  # many ties
    strata = rng.integers(0, 2, n) if exact else None
    df = pd.DataFrame({"t": treat, "s": strata if exact else 0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = match_nearest(
                df,
                "t",
                distance=dist,
                ratio=ratio,
                replace=replace,
                caliper=caliper,
                std_caliper=False,
                exact=["s"] if exact else None,
                m_order=order,
            )
        except ValueError as e:  # nothing matched at all
            ref = brute_vec(
                dist,
                treat,
                ratio=ratio,
                replace=replace,
                caliper=caliper,
                strata=strata,
                order=order,
            )
            assert (ref < 0).all() or "stratum" in str(e)
            return
    ref = brute_vec(
        dist, treat, ratio=ratio, replace=replace, caliper=caliper, strata=strata, order=order
    )
    np.testing.assert_array_equal(res.match_matrix, ref)


@pytest.mark.parametrize("ties", [0, 5, 200, 5000])
def test_stable_argsort_equals_numpy_stable(ties):
    from ozamonitor.causal.matching import stable_argsort

    rng = np.random.default_rng(ties)
    x = rng.random(20_000)
    if ties:
        x[rng.integers(0, x.size, ties)] = rng.choice(x[:7], ties)  # runs of equal values
        x[:3] = [-0.0, 0.0, -0.0]
    np.testing.assert_array_equal(stable_argsort(x), np.argsort(x, kind="stable"))
    np.testing.assert_array_equal(stable_argsort(-x), np.argsort(-x, kind="stable"))
