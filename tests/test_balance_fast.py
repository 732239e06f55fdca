"""The one-pass balance table against the per-covariate definitions it replaced (1e-12)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ozamonitor.causal.balance import balance_from_match, balance_table
from ozamonitor.causal.matching import match_nearest


def _wmean(x, w):
    return (w * x).sum() / w.sum() if w.sum() > 0 else np.nan


def _wvar(x, w):
    sw, sw2 = w.sum(), (w * w).sum()
    if sw <= 0 or sw * sw - sw2 <= 0:
        return np.nan
    m = (w * x).sum() / sw
    return (w * (x - m) ** 2).sum() * sw / (sw * sw - sw2)


def _ecdf(x, t, w, binary):
    """Weighted eCDFs over every unit, stable sort, read at each run of equal values."""
    wt, wc = w * t, w * (1 - t)
    if wt.sum() <= 0 or wc.sum() <= 0:
        return np.nan, np.nan
    if binary:
        d = abs(_wmean(x[t == 1], w[t == 1]) - _wmean(x[t == 0], w[t == 0]))
        return d, d
    o = np.argsort(x, kind="stable")
    xs = x[o]
    diffs = np.abs(np.cumsum(wt[o]) / wt.sum() - np.cumsum(wc[o]) / wc.sum())
    diffs = diffs[np.append(np.diff(xs) != 0, True)]
    return diffs.mean(), diffs.max()


def _reference_row(x, t, w, is_bin, binary):
    tr = t == 1
    if is_bin:
        p = np.mean(x[tr] == x.max())
        sd = np.sqrt(p * (1 - p))
    else:
        sd = np.std(x[tr], ddof=1)
    mt, mc = _wmean(x[tr], w[tr]), _wmean(x[~tr], w[~tr])
    diff = mt - mc
    if not is_bin or binary == "std":
        diff = diff / sd if sd > 0 else np.nan
    vr = np.nan
    if not is_bin:
        vc = _wvar(x[~tr], w[~tr])
        vr = _wvar(x[tr], w[tr]) / vc if vc > 0 else np.nan
    return [mt, mc, diff, vr, *_ecdf(x, t, w, is_bin)]


def _units(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = (rng.random(n) < 0.2).astype(int)
    return pd.DataFrame(
        {
            "t": t,
            "age": np.round(rng.normal(12 + t, 3), 1),  # many ties
            "year": 2015 + rng.normal(0, 1, n),  # large mean, small SD
            "flag": rng.integers(0, 2, n),
            "two": np.where(rng.random(n) < 0.5, 3.5, 7.0),  # two-valued, not 0/1
            "g": rng.choice(["a", "b", "c"], n),
        }
    )


@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("binary", ["raw", "std"])
def test_equals_per_covariate_definitions(replace, binary):
    df = _units(3000, 5)
    covs = ["age", "year", "flag", "two", "g"]
    res = match_nearest(df, "t", covs, ratio=3, replace=replace)
    got = balance_from_match(res, df, binary=binary)
    t = df["t"].to_numpy()
    cols = [("distance", res.distance, False), ("age", df["age"].to_numpy(float), False),
            ("year", df["year"].to_numpy(float), False),
            ("flag", df["flag"].to_numpy(float), True), ("two", df["two"].to_numpy(float), True)]
    cols += [(f"g_{lv}", (df["g"] == lv).to_numpy(float), True) for lv in "abc"]
    assert got["variable"].tolist() == [c[0] for c in cols]
    stats = ["mean_treated", "mean_control", "diff", "var_ratio", "ecdf_mean", "ecdf_max"]
    for k, (_, x, is_bin) in enumerate(cols):
        for suffix, w in (("un", np.ones(len(df))), ("adj", res.weights)):
            want = _reference_row(x, t, w, is_bin, binary)
            have = got.loc[k, [f"{s}_{suffix}" for s in stats]].to_numpy(float)
            np.testing.assert_allclose(have, want, rtol=1e-12, atol=1e-12, equal_nan=True)


def test_zero_weight_group_gives_nan():
    df = _units(200, 2)
    w = np.where(df["t"] == 1, 1.0, 0.0)
    tab = balance_table(df, "t", ["age", "flag"], w)
    assert tab[["ecdf_mean_adj", "ecdf_max_adj", "mean_control_adj"]].isna().all().all()
