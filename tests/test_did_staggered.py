"""Staggered DiD (Callaway & Sant'Anna) against brute force, planted effects and R numbers."""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from ozamonitor.causal.did import (
    DidInputError,
    aggte,
    aggte_all,
    att_gt,
)
from ozamonitor.causal.did_bootstrap import multiplier_bootstrap


def simulate(
    n: int = 600,
    T: int = 5,
    seed: int = 0,
    effect: float = 1.0,
    slope: float = 0.5,
    never_share: float = 0.3,
    x_trend: float = 0.0,
) -> pd.DataFrame:
    """Long panel: cohorts 3..T (+ never), ATT(g,t) = effect + slope * (t - g) after g."""
    rng = np.random.default_rng(seed)
    periods = np.arange(1, T + 1)
    cohorts = np.r_[0, periods[2:]]
    p = np.r_[never_share, np.full(len(cohorts) - 1, (1 - never_share) / (len(cohorts) - 1))]
    g = rng.choice(cohorts, size=n, p=p)
    x = rng.normal(size=n) + 0.5 * (g > 0)
    a = rng.normal(size=n)
    frames = []
    for j, t in enumerate(periods):
        eff = np.where((g > 0) & (t >= g), effect + slope * (t - g), 0.0)
        y = a + 0.2 * j + x_trend * x * j + eff + rng.normal(scale=0.5, size=n)
        frames.append(pd.DataFrame({"id": np.arange(n), "t": t, "g": g, "y": y, "x": x}))
    return pd.concat(frames, ignore_index=True)


def _wide(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    y = df.pivot(index="id", columns="t", values="y")
    g = df.groupby("id")["g"].first()
    return y, g


def brute_att(df: pd.DataFrame, g: int, t: int, base: int, control: str) -> float:
    """Difference in mean changes from ``base`` to ``t`` between cohort g and controls."""
    y, coh = _wide(df)
    dy = y[t] - y[base]
    ctrl = coh == 0 if control == "never" else (coh == 0) | (coh > max(t, base)) & (coh != g)
    return float(dy[coh == g].mean() - dy[ctrl].mean())


@pytest.mark.parametrize("control", ["never", "notyet"])
@pytest.mark.parametrize("base_period", ["varying", "universal"])
@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_att_gt_without_covariates_is_difference_of_mean_changes(control, base_period, method):
    df = simulate(n=300, T=5, seed=1)
    res = att_gt(
        df,
        "id",
        "t",
        "g",
        "y",
        control_group=control,
        est_method=method,
        base_period=base_period,
        bootstrap=False,
    )
    periods = list(range(1, 6))
    for g, t, a in zip(res.group, res.time, res.att, strict=True):
        g, t = int(g), int(t)
        base = g - 1 if t >= g or base_period == "universal" else t - 1
        if base == t:
            assert a == 0.0
            continue
        assert base in periods
        assert a == pytest.approx(brute_att(df, g, t, base, control), abs=1e-10)


def test_att_gt_cells_match_did_layout():
    df = simulate(n=200, T=5)
    res = att_gt(df, "id", "t", "g", "y", bootstrap=False)
    # varying base: every cohort x periods 2..T
    assert len(res.att) == 3 * 4
    assert set(res.time) == {2, 3, 4, 5}
    res_u = att_gt(df, "id", "t", "g", "y", base_period="universal", bootstrap=False)
    assert len(res_u.att) == 3 * 5
    ref = res_u.time == res_u.group - 1
    assert np.all(res_u.att[ref] == 0) and np.all(np.isnan(res_u.se[ref]))


def test_influence_function_gives_analytical_se_by_hand():
    df = simulate(n=250, T=4, seed=3)
    res = att_gt(df, "id", "t", "g", "y", bootstrap=False)
    y, coh = _wide(df)
    coh = coh.to_numpy()
    # cell (3, 3): base 2, treated cohort 3 vs never treated
    k = int(np.flatnonzero((res.group == 3) & (res.time == 3))[0])
    dy = (y[3] - y[2]).to_numpy()
    tr, co = coh == 3, coh == 0
    n = len(coh)
    psi = np.zeros(n)
    psi[tr] = n * (dy[tr] - dy[tr].mean()) / tr.sum()
    psi[co] = -n * (dy[co] - dy[co].mean()) / co.sum()
    order = np.argsort(res.panel.unit_ids)
    np.testing.assert_allclose(res.inf_func[order, k], psi, atol=1e-10)
    assert res.se[k] == pytest.approx(np.sqrt(np.mean(psi**2) / n), rel=1e-12)


def test_reg_with_covariates_matches_hand_ols():
    df = simulate(n=400, T=4, seed=4, x_trend=0.3)
    res = att_gt(df, "id", "t", "g", "y", covariates=["x"], est_method="reg", bootstrap=False)
    y, coh = _wide(df)
    x = df.groupby("id")["x"].first().to_numpy()
    coh = coh.to_numpy()
    for g, t, a in zip(res.group, res.time, res.att, strict=True):
        g, t = int(g), int(t)
        base = g - 1 if t >= g else t - 1
        dy = (y[t] - y[base]).to_numpy()
        co, tr = coh == 0, coh == g
        X = np.column_stack([np.ones(co.sum()), x[co]])
        beta = np.linalg.lstsq(X, dy[co], rcond=None)[0]
        pred = beta[0] + beta[1] * x[tr]
        assert a == pytest.approx(float(np.mean(dy[tr] - pred)), abs=1e-9)


def test_dr_and_ipw_with_covariates_match_drdid_building_blocks():
    from ozamonitor.causal.did_drdid import drdid_panel, logit_fit, std_ipw_did_panel

    df = simulate(n=500, T=4, seed=5, x_trend=0.3)
    y, coh = _wide(df)
    x = df.groupby("id")["x"].first().to_numpy()
    coh = coh.to_numpy()
    sel = (coh == 3) | (coh == 0)
    D = (coh[sel] == 3).astype(float)
    X = np.column_stack([np.ones(sel.sum()), x[sel]])
    dy = (y[3] - y[2]).to_numpy()[sel]
    # hand IPW (Hajek): treated mean change minus odds-weighted control mean change
    ps = logit_fit(X, D).fitted
    wc = ps * (1 - D) / (1 - ps)
    ipw_hand = dy[D == 1].mean() - np.sum(wc * dy) / np.sum(wc)
    res_ipw = std_ipw_did_panel(dy, np.zeros_like(dy), D, X)
    assert res_ipw.att == pytest.approx(ipw_hand, abs=1e-10)
    # logit matches statsmodels
    import statsmodels.api as sm

    sm_ps = sm.Logit(D, X).fit(disp=0).predict(X)
    np.testing.assert_allclose(ps, sm_ps, atol=1e-8)
    # DR: odds-weighted residuals of the control outcome regression
    co = D == 0
    beta = np.linalg.lstsq(X[co], dy[co], rcond=None)[0]
    r = dy - X @ beta
    dr_hand = r[D == 1].mean() - np.sum(wc * r) / np.sum(wc)
    assert drdid_panel(dy, np.zeros_like(dy), D, X).att == pytest.approx(dr_hand, abs=1e-10)
    res = att_gt(df, "id", "t", "g", "y", covariates=["x"], est_method="dr", bootstrap=False)
    k = int(np.flatnonzero((res.group == 3) & (res.time == 3))[0])
    assert res.att[k] == pytest.approx(dr_hand, abs=1e-10)


@pytest.mark.parametrize("control", ["never", "notyet"])
def test_planted_effects_are_recovered(control):
    df = simulate(n=6000, T=6, seed=7, effect=2.0, slope=0.5)
    res = att_gt(df, "id", "t", "g", "y", control_group=control, bootstrap=False)
    truth = np.where(res.time >= res.group, 2.0 + 0.5 * (res.time - res.group), 0.0)
    z = (res.att - truth) / res.se
    assert np.all(np.abs(z) < 4.5)
    dyn = aggte(res, "dynamic", bootstrap=False)
    for e, a, s in zip(dyn.egt, dyn.att_egt, dyn.se_egt, strict=True):
        assert abs(a - (2.0 + 0.5 * e if e >= 0 else 0.0)) < 4.5 * s
    assert res.wald_pvalue is not None and res.wald_pvalue > 1e-4


def test_pretest_detects_violated_parallel_trends():
    df = simulate(n=3000, T=5, seed=8)
    # cohort 5 drifts before treatment
    df.loc[df.g == 5, "y"] += 0.3 * df.loc[df.g == 5, "t"]
    res = att_gt(df, "id", "t", "g", "y", bootstrap=False)
    assert res.wald_pvalue < 1e-6


def test_covariates_are_taken_from_the_base_period():
    df = simulate(n=400, T=4, seed=9, x_trend=0.2)
    # time-varying covariate: only the base-period value should matter
    df2 = df.copy()
    df2.loc[df2.t == 4, "x"] += np.random.default_rng(0).normal(size=(df2.t == 4).sum())
    a = att_gt(df, "id", "t", "g", "y", covariates=["x"], est_method="reg", bootstrap=False)
    b = att_gt(df2, "id", "t", "g", "y", covariates=["x"], est_method="reg", bootstrap=False)
    np.testing.assert_allclose(a.att, b.att, atol=1e-12)


def test_anticipation_shifts_base_period():
    df = simulate(n=500, T=6, seed=10)
    res = att_gt(df, "id", "t", "g", "y", anticipation=1, bootstrap=False)
    k = int(np.flatnonzero((res.group == 4) & (res.time == 4))[0])
    assert res.base_time[k] == 2
    assert res.att[k] == pytest.approx(brute_att(df, 4, 4, 2, "never"), abs=1e-10)
    # cohort 3 has no base period at or before 3 - 1 - 1 = 1 -> still 1 -> kept
    assert 3 in res.group


def test_bootstrap_se_close_to_analytical():
    df = simulate(n=20000, T=4, seed=11)
    res = att_gt(df, "id", "t", "g", "y", biters=999, seed=3)
    ratio = res.se / res.se_analytical
    assert np.all(np.abs(ratio - 1) < 0.15)
    assert abs(np.mean(ratio) - 1) < 0.06
    assert res.crit_val > 1.96
    aggs = aggte_all(res)
    aggs_an = aggte_all(res, bootstrap=False)
    for k in aggs:
        assert aggs[k].overall_se == pytest.approx(aggs_an[k].overall_se, rel=0.15)


def test_multiplier_bootstrap_matches_clt_variance():
    rng = np.random.default_rng(0)
    psi = rng.normal(size=(5000, 3)) * np.array([1.0, 2.0, 0.5])
    for kind in ("rademacher", "mammen"):
        bd = multiplier_bootstrap([psi], biters=2000, seed=1, weights=kind)
        sd = bd.draws[0].std(axis=0)
        np.testing.assert_allclose(sd, psi.std(axis=0), rtol=0.08)
    # clustering with singleton clusters = no clustering (same draws, same seed)
    a = multiplier_bootstrap([psi], biters=50, seed=2).draws[0]
    b = multiplier_bootstrap([psi], biters=50, seed=2, cluster=np.arange(5000)).draws[0]
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_aggregation_weights_on_hand_example():
    df = simulate(n=900, T=5, seed=12)
    res = att_gt(df, "id", "t", "g", "y", bootstrap=False)
    size = df.groupby("id")["g"].first().value_counts()
    post = res.time >= res.group
    pg = np.array([size[g] for g in res.group], dtype=float)
    simple = aggte(res, "simple", bootstrap=False)
    assert simple.overall_att == pytest.approx(
        np.sum(res.att[post] * pg[post]) / np.sum(pg[post]), abs=1e-12
    )
    grp = aggte(res, "group", bootstrap=False)
    by_g = {g: res.att[post & (res.group == g)].mean() for g in (3, 4, 5)}
    np.testing.assert_allclose(grp.att_egt, [by_g[3], by_g[4], by_g[5]], atol=1e-12)
    sizes = np.array([size[3], size[4], size[5]], dtype=float)
    assert grp.overall_att == pytest.approx(np.sum(grp.att_egt * sizes) / sizes.sum(), abs=1e-12)
    dyn = aggte(res, "dynamic", bootstrap=False)
    e_cell = res.time - res.group
    for e, a in zip(dyn.egt, dyn.att_egt, strict=True):
        m = e_cell == e
        assert a == pytest.approx(np.sum(res.att[m] * pg[m]) / pg[m].sum(), abs=1e-12)
    assert dyn.overall_att == pytest.approx(dyn.att_egt[dyn.egt >= 0].mean(), abs=1e-12)
    cal = aggte(res, "calendar", bootstrap=False)
    assert list(cal.egt) == [3, 4, 5]
    for t, a in zip(cal.egt, cal.att_egt, strict=True):
        m = post & (res.time == t)
        assert a == pytest.approx(np.sum(res.att[m] * pg[m]) / pg[m].sum(), abs=1e-12)
    bal = aggte(res, "dynamic", balance_e=1, bootstrap=False)
    # only cohorts observed at least 1 period after start (3 and 4) enter
    # R: e <= balance_e and e >= balance_e - max(t) + min(t) = 1 - 5 + 2
    assert set(bal.egt) == {-2, -1, 0, 1}
    m = (e_cell == 1) & (res.group <= 4)
    assert bal.att_egt[list(bal.egt).index(1)] == pytest.approx(
        np.sum(res.att[m] * pg[m]) / pg[m].sum(), abs=1e-12
    )
    lim = aggte(res, "dynamic", min_e=-1, max_e=1, bootstrap=False)
    assert list(lim.egt) == [-1, 0, 1]


def test_aggregate_influence_matches_numerical_derivative_of_weights():
    """The weight term makes the simple-aggregate IF equal to a delta-method IF."""
    df = simulate(n=800, T=4, seed=13)
    res = att_gt(df, "id", "t", "g", "y", bootstrap=False)
    s = aggte(res, "simple", bootstrap=False)
    # by hand: theta = sum_k pg_k att_k / sum_k pg_k over post cells
    post = res.time >= res.group
    coh = res.panel.cohort
    n = res.n
    pg = np.array([np.mean(coh == g) for g in res.group])
    S = pg[post].sum()
    theta = np.sum(pg[post] * res.att[post]) / S
    psi_att = res.inf_func[:, post] @ (pg[post] / S)
    dpg = np.column_stack([(coh == g) - p for g, p in zip(res.group[post], pg[post], strict=True)])
    psi_w = dpg @ (res.att[post] - theta) / S
    np.testing.assert_allclose(s.inf_func_overall, psi_att + psi_w, atol=1e-9)
    assert s.overall_se == pytest.approx(np.sqrt(np.mean((psi_att + psi_w) ** 2) / n))


def test_polars_input_and_string_ids_give_same_result():
    df = simulate(n=200, T=4, seed=14)
    a = att_gt(df, "id", "t", "g", "y", bootstrap=False)
    pdf = pl.from_pandas(df).with_columns(pl.format("u{}", pl.col("id")).alias("uid"))
    b = att_gt(pdf, "uid", "t", "g", "y", bootstrap=False)
    np.testing.assert_allclose(a.att, b.att, atol=1e-12)


# ---------------------------------------------------------------- bad input


def test_unbalanced_panel_dropped_with_warning_or_rejected():
    df = simulate(n=200, T=4, seed=15)
    df = df.drop(index=df.index[(df.id < 3) & (df.t == 2)])
    with pytest.warns(UserWarning, match="dropped 3 units"):
        res = att_gt(df, "id", "t", "g", "y", bootstrap=False)
    assert res.n == 197
    with pytest.raises(DidInputError, match="unbalanced panel: 3 units"):
        att_gt(df, "id", "t", "g", "y", bootstrap=False, balance="error")


def test_no_treated_units_is_an_error():
    df = simulate(n=100, T=4)
    df["g"] = 0
    with pytest.raises(DidInputError, match="no treated units"):
        att_gt(df, "id", "t", "g", "y", bootstrap=False)


def test_no_never_treated_follows_did():
    df = simulate(n=300, T=5, never_share=0.0)
    with pytest.warns(UserWarning, match="no never-treated"):
        res = att_gt(df, "id", "t", "g", "y", bootstrap=False)
    assert 5 not in res.group and res.time.max() == 4
    assert np.all(np.isfinite(res.att))


def test_cohort_outside_panel_periods():
    df = simulate(n=100, T=4)
    df["g"] = df["g"].astype(float)
    df.loc[df.id == 0, "g"] = 2.5
    with pytest.raises(DidInputError, match="not periods of the panel"):
        att_gt(df, "id", "t", "g", "y", bootstrap=False)
    df = simulate(n=100, T=4)
    df.loc[df.id == 0, "g"] = 9
    with pytest.warns(UserWarning, match="1 units have a cohort after the last period"):
        att_gt(df, "id", "t", "g", "y", bootstrap=False)
    df = simulate(n=100, T=4)
    df.loc[df.id < 2, "g"] = 1
    with pytest.warns(UserWarning, match="dropped 2 units that were already treated"):
        res = att_gt(df, "id", "t", "g", "y", bootstrap=False)
    assert res.n == 98


def test_bad_columns_and_duplicates():
    df = simulate(n=50, T=3)
    with pytest.raises(DidInputError, match="not in the data: nope"):
        att_gt(df, "id", "t", "g", "nope", bootstrap=False)
    dup = pd.concat([df, df.iloc[[0]]])
    with pytest.raises(DidInputError, match="more than once"):
        att_gt(dup, "id", "t", "g", "y", bootstrap=False)
    bad = df.copy()
    bad.loc[(bad.id == 1) & (bad.t == 3), "g"] = 99
    with pytest.raises(DidInputError, match="constant within a unit"):
        att_gt(bad, "id", "t", "g", "y", bootstrap=False)


def test_covariate_without_variance():
    df = simulate(n=100, T=3)
    df["c"] = 1.0
    with pytest.raises(DidInputError, match="covariate 'c' has no variance"):
        att_gt(df, "id", "t", "g", "y", covariates=["c"], bootstrap=False)


def test_perfect_separation_warns_naming_the_covariate():
    df = simulate(n=400, T=4, seed=16)
    df["sep"] = (df.g == 3).astype(float) + 0.01 * df.id / 400
    with pytest.warns(UserWarning, match="covariate.*'sep'"):
        res = att_gt(df, "id", "t", "g", "y", covariates=["sep"], bootstrap=False)
    bad = res.group == 3
    assert np.all(np.isnan(res.att[bad]))
    assert np.all(np.isfinite(res.att[~bad]))
    with pytest.raises(DidInputError, match="missing ATT"):
        aggte(res, "simple", bootstrap=False)
    s = aggte(res, "simple", bootstrap=False, na_rm=True)
    assert np.isfinite(s.overall_att) and np.isfinite(s.overall_se)


def test_notyet_without_controls_gives_nan_with_warning():
    # every unit eventually treated and no never treated: the last cohort is the
    # only comparison; with notyet it is dropped from the groups (as in did)
    df = simulate(n=300, T=4, never_share=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = att_gt(df, "id", "t", "g", "y", control_group="notyet", bootstrap=False)
    assert np.all(np.isfinite(res.att))


# ---------------------------------------------------------------- R's did on mpdta


def _find_mpdta() -> Path | None:
    env = os.environ.get("OZAMONITOR_MPDTA")
    if env and Path(env).exists():
        return Path(env)
    spec = importlib.util.find_spec("csdid")
    if spec is None or not spec.origin:
        return None
    root = Path(spec.origin).parent
    for cand in [
        root / "data" / "mpdta.csv",
        root.parent / "data" / "mpdta.csv",
        *root.rglob("mpdta*.csv"),
    ]:
        if cand.exists():
            return cand
    return None


def test_mpdta_matches_r_did():
    """R: att_gt(lemp ~ first.treat, never treated, dr, xformla=~1) on did's mpdta."""
    path = _find_mpdta()
    if path is None:
        pytest.skip("mpdta not bundled with the installed csdid (set OZAMONITOR_MPDTA)")
    df = pd.read_csv(path)
    res = att_gt(
        df,
        "countyreal",
        "year",
        "first.treat",
        "lemp",
        est_method="dr",
        control_group="never",
        bootstrap=False,
    )
    got = {(int(g), int(t)): a for g, t, a in zip(res.group, res.time, res.att, strict=True)}
    assert got[(2004, 2004)] == pytest.approx(-0.0105, abs=5e-5)
    assert got[(2004, 2005)] == pytest.approx(-0.0704, abs=5e-5)
    assert got[(2004, 2006)] == pytest.approx(-0.1373, abs=5e-5)
    assert got[(2004, 2007)] == pytest.approx(-0.1008, abs=5e-5)
    s = aggte(res, "simple", bootstrap=False)
    assert s.overall_att == pytest.approx(-0.0400, abs=5e-5)
    assert s.overall_se == pytest.approx(0.0118, abs=1.5e-3)


def test_matches_csdid_port_of_r_did():
    """csdid (Python port of R's did) on the same simulated panel: ATT(g,t) and SEs."""
    pytest.importorskip("csdid")
    import contextlib
    import io

    from csdid.att_gt import ATTgt

    df = simulate(n=400, T=5, seed=17, x_trend=0.3)
    for control, cg in (("never", "nevertreated"), ("notyet", "notyettreated")):
        for method in ("dr", "ipw", "reg"):
            ours = att_gt(
                df,
                "id",
                "t",
                "g",
                "y",
                covariates=["x"],
                control_group=control,
                est_method=method,
                bootstrap=False,
            )
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                ref = ATTgt(
                    yname="y",
                    tname="t",
                    idname="id",
                    gname="g",
                    data=df,
                    control_group=[cg],
                    xformla="y~x",
                ).fit(est_method=method, bstrap=False)
                agg = ref.aggte(typec="dynamic", bstrap=False, cband=False).atte
            np.testing.assert_allclose(ours.att, np.asarray(ref.results["att"], float), atol=1e-9)
            np.testing.assert_allclose(ours.se, np.asarray(ref.results["se"], float), rtol=1e-7)
            dyn = aggte(ours, "dynamic", bootstrap=False)
            np.testing.assert_allclose(dyn.att_egt, np.asarray(agg["att_egt"], float), atol=1e-9)
            np.testing.assert_allclose(dyn.se_egt, np.asarray(agg["se_egt"], float), rtol=1e-7)


@pytest.mark.parametrize("base_period", ["varying", "universal"])
@pytest.mark.parametrize("control", ["never", "notyet"])
def test_structured_bootstrap_equals_generic_with_same_multipliers(
    monkeypatch, base_period, control
):
    """Without covariates the draws come from cohort sums; they must equal U' psi."""
    import ozamonitor.causal.did_bootstrap as bs

    df = simulate(n=700, T=5, seed=18)
    biters = 40
    U = np.random.default_rng(0).choice([-1.0, 1.0], size=(700, biters))
    pos = {"i": 0}

    def fake_tile(rng, rows, b, kind):
        out = U[pos["i"] : pos["i"] + rows]
        pos["i"] += rows
        return out

    monkeypatch.setattr(bs, "_weights_tile", fake_tile)
    res = att_gt(
        df,
        "id",
        "t",
        "g",
        "y",
        control_group=control,
        base_period=base_period,
        biters=biters,
        seed=1,
    )
    assert pos["i"] == 700
    expected = np.sqrt(700) / 700 * (U.T @ res.inf_func)
    np.testing.assert_allclose(res.boot_draws, expected, atol=1e-9)
    H = np.column_stack(
        [res.panel.weights * (res.panel.cohort == c) for c in res.panel.cohort_values]
    )
    np.testing.assert_allclose(res.boot_cohort_draws, np.sqrt(700) / 700 * (U.T @ H), atol=1e-9)


def test_sampling_weights_match_csdid():
    pytest.importorskip("csdid")
    import contextlib
    import io

    from csdid.att_gt import ATTgt

    df = simulate(n=500, T=5, seed=21, x_trend=0.3)
    wu = np.random.default_rng(1).uniform(0.5, 2.0, 500)
    df["w"] = wu[df.id]
    for method in ("dr", "ipw", "reg"):
        ours = att_gt(
            df,
            "id",
            "t",
            "g",
            "y",
            covariates=["x"],
            est_method=method,
            weights="w",
            control_group="notyet",
            bootstrap=False,
        )
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            ref = ATTgt(
                yname="y",
                tname="t",
                idname="id",
                gname="g",
                data=df,
                control_group=["notyettreated"],
                xformla="y~x",
                weights_name="w",
            ).fit(est_method=method, bstrap=False)
            simple = ref.aggte(typec="simple", bstrap=False, cband=False).atte
        np.testing.assert_allclose(ours.att, np.asarray(ref.results["att"], float), atol=1e-9)
        np.testing.assert_allclose(ours.se, np.asarray(ref.results["se"], float), rtol=1e-7)
        s = aggte(ours, "simple", bootstrap=False)
        assert s.overall_att == pytest.approx(simple["overall_att"], abs=1e-9)
        assert s.overall_se == pytest.approx(simple["overall_se"], rel=1e-7)


def test_cluster_bootstrap():
    df = simulate(n=4000, T=4, seed=22)
    # singleton clusters: same distribution as the unit bootstrap
    df["cl"] = df["id"]
    a = att_gt(df, "id", "t", "g", "y", cluster="cl", seed=1)
    assert np.all(np.abs(a.se / a.se_analytical - 1) < 0.15)
    # 40 schools, treatment start and a shock per period shared within the school:
    # the clustered SE is larger
    rng = np.random.default_rng(2)
    n, T = 4000, 4
    school = np.arange(n) % 40
    g_school = rng.choice([0, 3, 4], size=40)
    shock = rng.normal(size=(40, T + 1))
    rows = []
    for t in range(1, T + 1):
        g = g_school[school]
        y = rng.normal(size=n) + shock[school, t] + np.where((g > 0) & (t >= g), 1.0, 0.0)
        rows.append(pd.DataFrame({"id": np.arange(n), "t": t, "g": g, "y": y, "cl": school}))
    df2 = pd.concat(rows, ignore_index=True)
    b = att_gt(df2, "id", "t", "g", "y", cluster="cl", seed=1)
    c = att_gt(df2, "id", "t", "g", "y", seed=1)
    assert b.boot_n_clusters == 40
    assert np.nanmean(b.se / c.se) > 1.5
    agg = aggte_all(b)
    assert np.isfinite(agg["dynamic"].overall_se)


def test_categorical_covariate_expands_to_dummies():
    df = simulate(n=600, T=4, seed=24, x_trend=0.3)
    df["cat"] = np.where(df.x > 0.5, "b", np.where(df.x < -0.5, "a", "c"))
    a = att_gt(df, "id", "t", "g", "y", covariates=["cat", "x"], est_method="reg", bootstrap=False)
    assert a.panel.covariate_names == ["cat=b", "cat=c", "x"]
    df["cb"] = (df.cat == "b").astype(float)
    df["cc"] = (df.cat == "c").astype(float)
    b = att_gt(
        df, "id", "t", "g", "y", covariates=["cb", "cc", "x"], est_method="reg", bootstrap=False
    )
    np.testing.assert_allclose(a.att, b.att, atol=1e-12)


def test_small_never_treated_group_is_rejected_like_did():
    df = simulate(n=300, T=4, seed=25)
    keep_never = df[df.g == 0].id.unique()[:3]
    df = df[(df.g > 0) | df.id.isin(keep_never)]
    with pytest.raises(DidInputError, match="never-treated group is too small"):
        att_gt(df, "id", "t", "g", "y", bootstrap=False)
    with pytest.warns(UserWarning, match="small cohorts"):
        att_gt(df, "id", "t", "g", "y", control_group="notyet", bootstrap=False)
