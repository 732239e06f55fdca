"""Simulation study: does subgroups -> matching -> DiD recover the planted OZA effects?

For each seed a synthetic register is generated (``ozamonitor.synth``), the
impact pipeline runs on it, and every group's 95% interval is checked against
the generator's truth (e = 0..23, person-month weighted) in two versions:

* ``true_att_matched`` - the true effect on exactly the participant-months that
  entered the estimate (the sample ATT of the matched participants, from the
  per-participant potential outcomes the generator writes);
* ``true_att`` - the true effect averaged over *all* participants (differs when
  participants without a comparable non-participant are left out);
* ``true_att_matched_cond`` - the same cells as ``true_att_matched`` with each
  participant's untreated outcome replaced by its expectation given its full
  simulated state at the start (mean of the generator's independent untreated
  replicates): a diagnostic that separates the control side's error from the
  participants' own luck in Y(0).

Coverage of ``true_att_matched`` is the recovery criterion (target >= 0.90).
The script also reports coverage of the other truths, of the population effect
of the data-generating process (mean of ``true_att_matched`` over the seeds
run, ``coverage_pop``), and the ratio of the mean SE to the SD of the error,
which tells whether an interval is too narrow (< 1) or too wide (> 1).
``censored_share`` is the share of control-months lost to controls who start
later themselves; well above a half means the long-run comparison rests on a
few heavily reweighted controls (see docs/impact.md, "Overlap over time").

    python benchmarks/bench_impact_recovery.py --seeds 10 --scale 0.1
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import polars as pl

from ozamonitor.causal.impact import impact_analysis
from ozamonitor.synth import generate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=100)
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--by", default="target_group")
    ap.add_argument("--save", type=Path, help="write all group-seed rows to this Parquet file")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            t0 = time.perf_counter()
            reg = generate(Path(tmp) / f"r{seed}", scale=args.scale, seed=seed)
            t1 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = impact_analysis(reg, by=args.by, seed=seed)
            t2 = time.perf_counter()
            tab = res.summary.join(res.truth, on="group", how="inner").filter(
                pl.col("att").is_not_nan()
            )

            def covers(col: str, suffix: str = "") -> pl.Expr:
                lo, hi = pl.col(f"lower{suffix}"), pl.col(f"upper{suffix}")
                return (lo <= pl.col(col)) & (pl.col(col) <= hi)

            tab = tab.with_columns(
                seed=pl.lit(seed),
                covered=covers("true_att_matched"),
                covered_cond=covers("true_att_matched_cond"),
                covered_si=covers("true_att_matched", "_sample"),
                covered_all=covers("true_att"),
            )
            rows.append(tab)
            g = tab.filter(pl.col("group") != "all")
            print(f"seed {seed}: synth {t1 - t0:.1f}s, impact {t2 - t1:.1f}s, "
                  f"covered {g['covered'].sum()}/{g.height} groups", flush=True)
            shutil_rm(reg)
    allrows = pl.concat(rows)
    pop = allrows.group_by("group").agg(true_att_pop=pl.col("true_att_matched").mean())
    allrows = allrows.join(pop, on="group").with_columns(
        covered_pop=(pl.col("lower") <= pl.col("true_att_pop"))
        & (pl.col("true_att_pop") <= pl.col("upper"))
    )
    if args.save:
        allrows.write_parquet(args.save)
    per_group = (
        allrows.group_by("group")
        .agg(
            seeds=pl.len(),
            coverage=pl.col("covered").mean(),
            coverage_cond=pl.col("covered_cond").mean(),
            coverage_si=pl.col("covered_si").mean(),
            mean_se_sample=pl.col("se_sample").mean(),
            coverage_all=pl.col("covered_all").mean(),
            coverage_pop=pl.col("covered_pop").mean(),
            mean_att=pl.col("att").mean(),
            mean_truth_matched=pl.col("true_att_matched").mean(),
            mean_truth_cond=pl.col("true_att_matched_cond").mean(),
            mean_truth_all=pl.col("true_att").mean(),
            mean_se=pl.col("se").mean(),
            sd_error=(pl.col("att") - pl.col("true_att_matched")).std(),
            sd_error_cond=(pl.col("att") - pl.col("true_att_matched_cond")).std(),
            censored=pl.col("censored_share").mean(),
        )
        .with_columns(se_over_sd=pl.col("mean_se") / pl.col("sd_error"),
                      se_over_sd_cond=pl.col("mean_se") / pl.col("sd_error_cond"))
        .sort("group")
    )
    with pl.Config(tbl_cols=18, tbl_width_chars=260, float_precision=3):
        print(per_group)
    groups = allrows.filter(pl.col("group") != "all")
    print(f"coverage of 95% intervals (groups, sample ATT of the matched participants): "
          f"{groups['covered'].mean():.3f} over {groups.height} group-seed estimates "
          f"(target >= 0.90); against their effect given their simulated state: "
          f"{groups['covered_cond'].mean():.3f}; sample interval (se_sample) against the "
          f"sample ATT: {groups['covered_si'].mean():.3f}; against the all-participant truth: "
          f"{groups['covered_all'].mean():.3f}; against the population effect "
          f"(mean over seeds): {groups['covered_pop'].mean():.3f}; incl. the pooled 'all' rows: "
          f"{allrows['covered'].mean():.3f} of {allrows.height}")


def shutil_rm(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
