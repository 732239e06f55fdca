"""Tests for Gower distance and subgroup clustering."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ozamonitor.causal.subgroups import find_subgroups, gower_distance


def _brute_gower(rows, kinds, ranges, weights=None):
    """Gower per daisy, written out pair by pair."""
    n, p = len(rows), len(kinds)
    w = weights or [1.0] * p
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            num = den = 0.0
            for f in range(p):
                a, b = rows[i][f], rows[j][f]
                if a is None or b is None:
                    continue
                if kinds[f] == "nominal":
                    d = 0.0 if a == b else 1.0
                else:
                    d = abs(a - b) / (ranges[f] or 1.0)
                num += w[f] * d
                den += w[f]
            out[i, j] = num / den
    return out


def test_gower_hand_example():
    df = pl.DataFrame({"x": [0.0, 5.0, 10.0], "g": ["a", "a", "b"]})
    d = gower_distance(df)
    assert d[0, 1] == pytest.approx((0.5 + 0) / 2)
    assert d[0, 2] == pytest.approx(1.0)
    assert d[1, 2] == pytest.approx((0.5 + 1) / 2)
    assert np.allclose(d, d.T) and np.all(np.diag(d) == 0)


def test_gower_ordinal_and_weights_and_missing():
    df = pl.DataFrame(
        {
            "edu": ["low", "high", "middle", None],
            "inc": [1.0, 10.0, None, 4.0],
            "mig": ["nl", "eu", "nl", "nl"],
        }
    )
    d = gower_distance(
        df, ordinal_levels={"edu": ["low", "middle", "high"]}, weights={"mig": 2.0}
    )
    rows = [(0, 1.0, "nl"), (2, 10.0, "eu"), (1, None, "nl"), (None, 4.0, "nl")]
    ref = _brute_gower(rows, ["ordinal", "numeric", "nominal"], [2, 9.0, None], [1, 1, 2])
    assert np.allclose(d, ref)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-100, 100), st.sampled_from(["a", "b", "c"]), st.integers(0, 5)),
        min_size=2,
        max_size=12,
    )
)
def test_gower_matches_brute_force(rows):
    df = pd.DataFrame(rows, columns=["x", "g", "n"])
    d = gower_distance(df)
    xs = [r[0] for r in rows]
    ns = [r[2] for r in rows]
    ref = _brute_gower(
        [tuple(r) for r in rows],
        ["numeric", "nominal", "numeric"],
        [max(xs) - min(xs), None, max(ns) - min(ns)],
    )
    assert np.allclose(d, ref)


def _planted(n_per=60, seed=0):
    rng = np.random.default_rng(seed)
    parts = []
    for c, (mu, cat) in enumerate([(0.0, "a"), (10.0, "b"), (20.0, "c")]):
        parts.append(
            pl.DataFrame(
                {
                    "score": rng.normal(mu, 1.0, n_per),
                    "kind": [cat] * n_per,
                    "truth": [c] * n_per,
                }
            )
        )
    return pl.concat(parts)


def test_planted_subgroups_recovered_with_k_chosen_by_silhouette():
    df = _planted()
    res = find_subgroups(df, ["score", "kind"], ks=range(2, 6), n_boot=5, seed=1)
    assert res.k == 3
    # each true group maps to exactly one label
    tab = pl.DataFrame({"t": df["truth"], "l": res.labels}).unique()
    assert tab.height == 3
    assert res.silhouette[3] > res.silhouette[2]
    assert np.all(res.stability > 0.9)
    assert res.profiles["size"].to_list() == [60, 60, 60]
    assert set(res.profiles.columns) >= {"subgroup", "size", "share", "score_mean", "kind_mode"}


def test_sampled_fit_assigns_everyone():
    df = _planted(n_per=400)
    res = find_subgroups(df, ["score", "kind"], k=3, n_boot=0, max_fit=300, seed=2)
    assert res.labels.shape == (1200,)
    tab = pl.DataFrame({"t": df["truth"], "l": res.labels}).unique()
    assert tab.height == 3
    assert res.extra["n_fit"] == 300


def test_predict_places_rows_at_the_nearest_medoid_on_the_fit_scale():
    df = _planted(n_per=40, seed=3).with_columns(
        edu=pl.Series(["low", "middle", "high"] * 40))
    variables = ["score", "kind", "edu"]
    res = find_subgroups(df, variables, k=3, n_boot=0, seed=0,
                         ordinal_levels={"edu": ["low", "middle", "high"]})
    # the fitted rows get their own labels back, in any order
    assert (res.predict(df) == res.labels).all()
    perm = np.random.default_rng(0).permutation(df.height)
    assert (res.predict(df[perm.tolist()]) == res.labels[perm]).all()
    # new rows: brute force on the fit's scale (score range of the fit, edu ranks 0..2)
    new = pl.DataFrame({"score": [-50.0, 9.0, 35.0], "kind": ["c", "b", "a"],
                        "edu": ["high", "low", "middle"]})
    rng_score = float(df["score"].max() - df["score"].min())
    rank = {"low": 0, "middle": 1, "high": 2}
    med = df[res.medoids.tolist()]
    want = []
    for row in new.iter_rows(named=True):
        d = [(abs(row["score"] - m["score"]) / rng_score + (row["kind"] != m["kind"])
              + abs(rank[row["edu"]] - rank[m["edu"]]) / 2) / 3
             for m in med.iter_rows(named=True)]
        want.append(res.labels[res.medoids][int(np.argmin(d))])
    assert res.predict(new.to_pandas()).tolist() == want
    with pytest.raises(ValueError, match="not among the given ordinal levels"):
        res.predict(new.with_columns(edu=pl.lit("none")))


def test_kprototypes_option():
    df = _planted()
    res = find_subgroups(df, ["score", "kind"], k=3, method="kprototypes", n_boot=0)
    tab = pl.DataFrame({"t": df["truth"], "l": res.labels}).unique()
    assert tab.height == 3


def test_errors():
    df = _planted(n_per=2)
    with pytest.raises(ValueError, match="too few"):
        find_subgroups(df, ["score"], k=8)
    with pytest.raises(ValueError, match="unknown column"):
        gower_distance(df, ["nope"])
    with pytest.raises(ValueError, match="unknown subgroup method"):
        find_subgroups(_planted(), ["score"], k=2, method="kmeans")  # type: ignore[arg-type]
