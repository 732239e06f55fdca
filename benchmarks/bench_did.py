"""Benchmark: staggered DiD (ATT(g,t), aggregations, 999 bootstrap draws) vs csdid.

Target: 2.5 million units x 12 periods, no covariates, 999 multiplier-bootstrap draws,
under 2 minutes on 2 cores. The Python package ``csdid`` (a port of R's ``did``) is run
in the same process on a subsample (it is much slower) and the time per unit is
compared; the ATT(g,t) on that subsample are checked to agree.

    python benchmarks/bench_did.py                 # full size
    python benchmarks/bench_did.py --units 200000  # quicker
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import time
import warnings

import numpy as np
import polars as pl

from ozamonitor.causal.did import aggte_all
from ozamonitor.causal.did_panel import prepare_panel
from ozamonitor.causal.did_staggered import att_gt_panel


def simulate(n: int, T: int = 12, seed: int = 0) -> pl.DataFrame:
    """Long panel: cohorts start in periods 3..T or never (25%), effect 1 + 0.2 * e."""
    rng = np.random.default_rng(seed)
    periods = np.arange(1, T + 1)
    cohorts = np.r_[0, periods[2:]]
    p = np.r_[0.25, np.full(len(cohorts) - 1, 0.75 / (len(cohorts) - 1))]
    g = rng.choice(cohorts, size=n, p=p)
    a = rng.normal(size=n)
    t = np.tile(periods, n)
    gg = np.repeat(g, T)
    e = t - gg
    eff = np.where((gg > 0) & (e >= 0), 1.0 + 0.2 * e, 0.0)
    y = np.repeat(a, T) + 0.1 * t + eff + rng.normal(size=n * T)
    return pl.DataFrame({"id": np.repeat(np.arange(n, dtype=np.int64), T), "t": t, "g": gg, "y": y})


def run_ours(
    df: pl.DataFrame, biters: int, seed: int = 1, verbose: bool = False
) -> tuple[float, object, dict]:
    """Time prepare + att_gt + all aggregations (bootstrap) on ``df``.

    With ``verbose``, prints wall and CPU (all threads) seconds per stage: on a shared
    machine the wall time depends on the load, the CPU time much less.
    """
    t0 = time.perf_counter()
    stages = []
    w, c = time.perf_counter(), time.process_time()
    panel = prepare_panel(df, "id", "t", "g", "y")
    stages.append(("prepare panel", w, c))
    w, c = time.perf_counter(), time.process_time()
    res = att_gt_panel(panel, biters=biters, seed=seed)
    stages.append(("ATT(g,t) + IF + bootstrap", w, c))
    w, c = time.perf_counter(), time.process_time()
    aggs = aggte_all(res)
    stages.append(("4 aggregations", w, c))
    total = time.perf_counter() - t0
    if verbose:
        ends = [*(s[1:] for s in stages[1:]), (time.perf_counter(), time.process_time())]
        for (name, w0, c0), (w1, c1) in zip(stages, ends, strict=True):
            print(f"  {name:28s} wall {w1 - w0:6.1f} s   cpu {c1 - c0:6.1f} s")
    return total, res, aggs


def run_csdid(df: pl.DataFrame, biters: int) -> tuple[float, np.ndarray]:
    """Time csdid's ATTgt(...).fit() + simple aggregation (bootstrap) on ``df``."""
    from csdid.att_gt import ATTgt

    pdf = df.to_pandas()
    t0 = time.perf_counter()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        m = ATTgt(yname="y", tname="t", idname="id", gname="g", data=pdf, biters=biters)
        m = m.fit(est_method="dr", bstrap=True)
        m.aggte(typec="simple")
    el = time.perf_counter() - t0
    return el, np.asarray(m.results["att"], dtype=float)


def main() -> None:
    """Run the benchmark and print timings and the per-unit speed ratio."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--units", type=int, default=2_500_000)
    ap.add_argument("--periods", type=int, default=12)
    ap.add_argument("--biters", type=int, default=999)
    ap.add_argument("--csdid-units", type=int, default=20_000)
    args = ap.parse_args()

    t0 = time.perf_counter()
    df = simulate(args.units, args.periods)
    print(
        f"simulated {args.units:,} units x {args.periods} periods in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    c0 = time.process_time()
    el, res, aggs = run_ours(df, args.biters, verbose=True)
    cpu = time.process_time() - c0
    n_cells = len(res.att)
    print(
        f"ozamonitor att_gt + 4 aggregations, {args.biters} draws: {el:.1f} s "
        f"({n_cells} cells; target < 120 s) -> {el / args.units * 1e6:.2f} us/unit; "
        f"cpu {cpu:.1f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    s = aggs["simple"]
    print(f"  simple ATT {s.overall_att:.4f} (se {s.overall_se:.5f})")
    del df, res, aggs

    try:
        import csdid  # noqa: F401
    except ImportError:
        print("csdid not installed (pip install csdid); no reference timing")
        return
    sub = simulate(args.csdid_units, args.periods, seed=2)
    el_c, att_c = run_csdid(sub, args.biters)
    el_o, res_o, _ = run_ours(sub, args.biters)
    diff = float(np.nanmax(np.abs(att_c - res_o.att)))
    print(
        f"csdid on {args.csdid_units:,} units: {el_c:.1f} s "
        f"({el_c / args.csdid_units * 1e6:.1f} us/unit); ozamonitor on the same: "
        f"{el_o:.2f} s; max |ATT diff| = {diff:.1e}"
    )
    per_unit_full = el / args.units
    print(
        f"ratio per unit (csdid on {args.csdid_units:,} / ozamonitor on "
        f"{args.units:,}): {el_c / args.csdid_units / per_unit_full:.0f}x; "
        f"same subsample: {el_c / el_o:.0f}x"
    )


if __name__ == "__main__":
    main()
