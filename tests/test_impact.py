"""Impact pipeline: estimator against brute force and R-did semantics, planted-truth recovery."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest

from ozamonitor.causal import impact as im
from ozamonitor.causal.impact_variance import SetComponents, components, untreated_variance
from ozamonitor.synth.evaluate import coverage, impact_truth, participant_truth


def _tiny():
    """Two stacks; y is children x months; child 4 (a control of stack 3) starts at 6."""
    y = np.array(
        [
            [0, 0, 0, 1, 1, 1, 1, 1, 1],  # 0 treated, stack 3
            [0, 0, 0, 0, 1, 0, 1, 1, 1],  # 1 control of 0
            [0, 0, 0, 0, 0, 1, 1, 0, 0],  # 2 control of 0
            [1, 0, 0, 0, 0, 1, 1, 1, 1],  # 3 treated, stack 5
            [0, 0, 0, 0, 0, 0, 1, 1, 1],  # 4 control of 3 (stack 5), starts itself at 6
        ],
        dtype=float,
    )
    stacked = pl.DataFrame(
        {
            "stack": [3, 3, 3, 5, 5, 6],
            "row": [0, 1, 2, 3, 4, 4],
            "treated": [1, 0, 0, 1, 0, 1],
            "p_start": [0.5, 0.2, 0.1, 0.4, 0.25, 0.3],
        }
    )
    # stack 4 row for child 1 (in pool at month 3, not selected): hazard applies at month 4
    stacked = pl.concat(
        [stacked, pl.DataFrame({"stack": [4], "row": [1], "treated": [0], "p_start": [0.5]})]
    )
    matched = pl.DataFrame(
        {"set": [0, 1], "treated_i": [0, 3], "control_i": [[1, 2], [4]]},
        schema={"set": pl.Int32, "treated_i": pl.UInt32, "control_i": pl.List(pl.UInt32)},
    )
    start_idx = np.array([3, 10**6, 10**6, 5, 6])
    return stacked, matched, y, start_idx


def test_set_differences_brute_force():
    stacked, matched, y, start_idx = _tiny()
    comp = components(stacked, matched, y, pre=2, post=3, start_idx=start_idx)
    d, es = comp.d, comp.es
    assert es.tolist() == [-2, -1, 0, 1, 2, 3]

    def dy(r, g, e):
        return y[r, g + e] - y[r, g - 1]

    # set 0 (g=3): control 1 has hazard 0.5 at month 4 -> weight 2 from e >= 1
    for k, e in enumerate(es):
        w1 = 2.0 if e >= 1 else 1.0
        ctrl = (w1 * dy(1, 3, e) + 1.0 * dy(2, 3, e)) / (w1 + 1.0)
        assert d[0, k] == pytest.approx(dy(0, 3, e) - ctrl)
    # set 1 (g=5): control 4 censored from month 6 (its own start): e >= 1 unobserved
    assert d[1, es.tolist().index(0)] == pytest.approx(dy(3, 5, 0) - dy(4, 5, 0))
    assert np.isnan(d[1, es.tolist().index(1)])
    # e = 3 is beyond the panel for stack 5 (5 + 3 = 8 is the last column: observed)
    assert np.isnan(d[1, es.tolist().index(3)])


def test_single_stack_equals_callaway_santanna_universal_base():
    """Without censoring and with 1:1 sets, mean d(s, e) = ATT(g, g+e) of R's did
    (universal base period g-1, the matched controls as never-treated group)."""
    from ozamonitor.causal.did import att_gt

    rng = np.random.default_rng(5)
    n_pairs, T, g = 40, 10, 5
    y = (rng.random((2 * n_pairs, T)) < 0.5).astype(float)
    y[:n_pairs, g:] = np.maximum(y[:n_pairs, g:], rng.random((n_pairs, T - g)) < 0.4)
    stacked = pl.DataFrame(
        {
            "stack": [g] * (2 * n_pairs),
            "row": list(range(2 * n_pairs)),
            "treated": [1] * n_pairs + [0] * n_pairs,
            "p_start": [0.1] * (2 * n_pairs),
        }
    )
    matched = pl.DataFrame(
        {
            "set": list(range(n_pairs)),
            "treated_i": list(range(n_pairs)),
            "control_i": [[n_pairs + i] for i in range(n_pairs)],
        },
        schema={"set": pl.Int32, "treated_i": pl.UInt32, "control_i": pl.List(pl.UInt32)},
    )
    start_idx = np.array([g] * n_pairs + [10**6] * n_pairs)
    # hazards only exist for months where the control was in a stack; here just stack g
    comp = components(stacked, matched, y, pre=4, post=4, start_idx=start_idx)
    d, es = comp.d, comp.es
    panel = pl.DataFrame(
        {
            "id": np.repeat(np.arange(2 * n_pairs), T),
            "t": np.tile(np.arange(1, T + 1), 2 * n_pairs),
            "cohort": np.repeat([g + 1] * n_pairs + [0] * n_pairs, T),
            "y": y.ravel(),
        }
    )
    res = att_gt(
        panel,
        "id",
        "t",
        "cohort",
        "y",
        control_group="never",
        est_method="reg",
        base_period="universal",
        bootstrap=False,
    )
    tab = res.to_frame() if hasattr(res, "to_frame") else res.table
    tab = pl.from_pandas(tab) if not isinstance(tab, pl.DataFrame) else tab
    for k, e in enumerate(es):
        if e == -1:
            continue
        row = tab.filter(pl.col("time") == g + 1 + e)
        assert d[:, k].mean() == pytest.approx(row["att"][0], abs=1e-10)


@pytest.fixture(scope="module")
def small_register(synthetic_register):
    """Scale 0.01: the floor of 300 participants selects ~12x the national rate."""
    return synthetic_register(0.01, 11)


@pytest.fixture(scope="module")
def realistic_register(synthetic_register):
    """Scale 0.1: the 300 participants start at about the national monthly rate."""
    return synthetic_register(0.1, 3)


@pytest.fixture(scope="module")
def by_target_group(small_register):
    """The pipeline by target group on the small register (seed 1), run once."""
    return _run(small_register, seed=1)


def _run(reg, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return im.impact_analysis(reg, by="target_group", **kw)


def _truth(reg, res):
    return impact_truth(reg, res.cells, by=res.settings["by"], max_e=res.settings["max_e"])


def test_truth_on_the_matched_participant_months(small_register, by_target_group):
    res = by_target_group
    truth = _truth(small_register, res)
    assert {"true_att", "true_att_expected", "true_att_matched",
            "n_person_months_matched"} <= set(truth.columns)
    # the planted effect (means of the replicates) and its realisation differ by luck
    # only: at this scale by up to ~0.15 (24 exempt children, whose months move together)
    diff = (truth["true_att_matched"] - truth["true_att_expected"]).abs()
    assert (diff < 0.2).all(), truth
    # the matched truth averages exactly the participant-months of the estimate
    prof = res.event_study.filter((pl.col("e") >= 0) & (pl.col("e") <= 23))
    for row in res.summary.filter(pl.col("att").is_not_nan()).iter_rows(named=True):
        if row["group"] == "all":
            continue
        cells = prof.filter(pl.col("group") == row["group"])["n_sets"].sum()
        got = truth.filter(pl.col("group") == row["group"])["n_person_months_matched"][0]
        assert got == cells
    # the cells are participant-months of the matched participants, whose truth
    # comes from the generator's per-participant side file
    assert res.cells.height == truth.filter(pl.col("group") == "all")[
        "n_person_months_matched"][0]
    pt = participant_truth(small_register)
    m = res.matched.select(pl.col("treated").alias("person_id"), "start", "group")
    pm = pt.join(m, on=["person_id", "start"]).filter(pl.col("e") <= 23)
    assert pm.select("person_id").n_unique() == m.height
    for g in ("long_term_absent", "at_risk"):
        n = truth.filter(pl.col("group") == g)["n_person_months_matched"][0]
        assert 0 < n <= pm.filter(pl.col("group") == g).height


def test_truth_for_subgroup_clusters(small_register):
    """Clusters are not in the generator's manifest, but the per-participant truth
    gives the planted effect of any split, here the subgroups (Gower + PAM)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = im.impact_analysis(small_register, by="subgroup", subgroup_k=2, seed=1)
    truth = _truth(small_register, res)
    assert truth is not None
    est = res.summary.filter(pl.col("att").is_not_nan())["group"].to_list()
    assert set(est) <= set(truth["group"].to_list()), (est, truth)
    assert truth["true_att_expected"].is_not_null().all()


def test_recovers_planted_effects(realistic_register):
    """At a realistic selection intensity the estimates track the effect on the matched
    participants: every group within 3 SEs, most within the 95% interval (coverage over
    seeds: the benchmark). The population SE is used here on purpose: this register is
    a tail case of the participants' interval for at-risk children (estimate -0.087,
    realised -0.012, se_sample 0.016: z = -4.7; docs/impact.md, "Tails")."""
    res = _run(realistic_register, seed=1)
    tab = coverage(res.summary, _truth(realistic_register, res))
    groups = tab.filter(pl.col("group") != "all")
    assert groups.height >= 3, tab
    z = ((groups["att"] - groups["true_att_matched"]) / groups["se"]).abs()
    show = tab.select("group", "n_treated", "att", "se", "se_sample", "true_att_matched",
                      "true_att_expected", "censored_share")
    assert (z < 3).all(), show
    assert (z < 1.96).sum() >= groups.height - 1, show
    # few controls start later, so the comparison needs little reweighting
    assert (tab["censored_share"] < 0.2).all(), tab
    assert tab.filter(pl.col("group") == "all")["att"][0] > 0
    # balance after matching: |SMD| of continuous covariates below 0.25
    bal = res.balance
    cont = bal[bal["type"] == "Contin."]
    assert (cont["diff_adj"].abs() < 0.25).all(), cont[["variable", "diff_un", "diff_adj"]]
    assert set(res.event_study.columns) >= {"group", "e", "att", "se", "n_sets"}


@pytest.mark.slow
def test_small_simulation_study(tmp_path):
    """Smoke test of the recovery study on four fresh registers at scale 0.1: the
    participants' 95% interval covers the realised effect of the matched participants
    in most group estimates. Too few estimates to test 90% coverage (it would pass
    at 85% with probability 0.8); benchmarks/bench_impact_recovery.py does that."""
    synth = pytest.importorskip("ozamonitor.synth")
    rows = []
    for seed in (500, 501, 502, 503):
        reg = synth.generate(tmp_path / f"r{seed}", scale=0.1, seed=seed)
        res = _run(reg, seed=seed)
        rows.append(coverage(res.summary, _truth(reg, res)).filter(pl.col("group") != "all"))
    tab = pl.concat(rows, how="diagonal_relaxed").with_columns(
        z=(pl.col("att") - pl.col("true_att_matched")) / pl.col("se_sample"))
    covered = (tab["z"].abs() <= 1.96).sum()
    assert tab.height >= 12 and covered >= tab.height - 3, tab
    assert (tab["z"].abs() < 4).all(), tab


def test_small_register_flags_weak_overlap(by_target_group):
    """At scale 0.01 most controls start later (selection ~12x the national rate):
    the summary says so, and the pooled effect is still positive."""
    res = by_target_group
    s = res.summary.filter(pl.col("att").is_not_nan())
    lta = s.filter(pl.col("group") == "long_term_absent")
    assert lta["censored_share"][0] > 0.4 and lta["max_ipcw"][0] > 10, s
    assert s.filter(pl.col("group") == "all")["att"][0] > 0
    # and the report says so next to the estimates
    from ozamonitor.report.impact import impact_section

    if (s["censored_share"] > 0.5).any():
        assert "Caution (" in impact_section(res, lang="en").html
        assert "Let op (" in impact_section(res, lang="nl").html


def test_impact_outputs_are_published_files(by_target_group, tmp_path):
    """Tables and figures follow the umask (they were 0600 before ozamonitor.files),
    and the written summary carries the truth columns on a synthetic register."""
    import os
    import stat

    from ozamonitor.report.impact import write_impact_outputs

    old = os.umask(0o022)
    try:
        paths = write_impact_outputs(by_target_group, tmp_path / "out")
    finally:
        os.umask(old)
    assert {p.name for p in paths} == {"impact_summary.csv", "impact_event_study.csv",
                                       "impact_balance.csv", "impact_balance.png",
                                       "impact_event_study.png"}
    assert {stat.S_IMODE(p.stat().st_mode) for p in paths} == {0o644}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths)
    summary = pl.read_csv(tmp_path / "out" / "impact_summary.csv")
    assert {"true_att_expected", "true_att_matched"} <= set(summary.columns)


def test_no_participants_is_a_clear_error(tmp_path):
    import datetime as dt

    from ozamonitor.register.store import write_register

    out = write_register(tmp_path / "r", {}, extraction_date=dt.date(2025, 7, 31))
    with pytest.raises(im.ImpactError, match="no OZA participation"):
        im.impact_analysis(out)


def test_untreated_variance_by_hand():
    """The participants' untreated variance from their matched controls' mean changes."""
    es = np.array([-1, 0, 1])
    d_t = np.array([[0.0, 1.0, 1.0], [0.0, 1.0, np.nan]])  # set 1 unobserved at e = 1
    # set 0: three controls observed throughout; set 1: two controls, one censored at e = 0
    d_c = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0],
                    [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    w = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0],
                  [1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    c_set = np.array([0, 0, 0, 1, 1])
    wsum = np.zeros((2, 3))
    np.add.at(wsum, c_set, w)
    comp = SetComponents(es, d_t, c_set, np.arange(5), d_c, w, wsum)
    post = es >= 0
    tot = 3.0  # set 0 observed at e = 0, 1; set 1 at e = 0
    got = untreated_variance(comp, np.array([0, 1]), post, tot)
    # set 0: control mean changes over e = 0, 1: 0.5, 1.0, 0.0 -> variance 0.25
    # set 1: only control 3 is observed at e = 0 -> too few: takes set 0's 0.25
    want = (2 / 3) ** 2 * 0.25 + (1 / 3) ** 2 * 0.25
    assert got == pytest.approx(want)


def test_outcomes_accessibility_and_continuity(small_register, by_target_group):
    """The pool and matched sets do not depend on the outcome. By construction of the
    generator, long-term absent participants are enrolled before and after the start, as
    their controls are, so the effect on *accessibility* (enrolled) is about 0, while for
    5a-exempt children (not enrolled before) it is the effect on being in education."""
    base = by_target_group
    acc = _run(small_register, seed=1, outcome="accessibility")
    con = _run(small_register, seed=1, outcome="continuity")
    for res in (acc, con):
        assert res.matched.select("treated", "start").equals(
            base.matched.select("treated", "start"))
    assert acc.settings["outcome"] == "accessibility"

    def row(res, g):
        return res.summary.filter(pl.col("group") == g).row(0, named=True)

    lta = row(acc, "long_term_absent")
    assert abs(lta["att"]) < 2.5 * lta["se"] + 0.02
    assert row(base, "long_term_absent")["att"] > lta["att"] + 0.05
    ex_acc, ex_edu = row(acc, "exempt_5a"), row(base, "exempt_5a")
    assert ex_acc["att"] > 0.2 and abs(ex_acc["att"] - ex_edu["att"]) < 0.1
    with pytest.raises(im.ImpactError, match="unknown outcome"):
        im.impact_analysis(small_register, outcome="happiness")
