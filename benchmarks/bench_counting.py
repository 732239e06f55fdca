"""Benchmark: thuiszitter counts under all definitions at scale 0.1, 0.3 and 1.

Target: all definitions, quarterly reference dates 2014-2026, tables for every
gemeente and every SWV (disclosure-controlled), on the scale-1 population in
under 60 seconds and 8 GiB on 2 cores. The school-year flows are timed as
well. Each scale runs in a fresh subprocess (so peak memory is per scale); the
ratios against the smallest scale show how time grows with the population
(linear growth: the time ratio follows the scale ratio).

    python benchmarks/bench_counting.py                       # 0.1, 0.3, 1 (generates)
    python benchmarks/bench_counting.py --scales 0.1 --cache /tmp/regs
    python benchmarks/bench_counting.py --register REG1 --register REG2  # existing ones

Run with ``POLARS_MAX_THREADS=2`` (and e.g. ``taskset -c 0,1``) to hold it to
two cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 60.0
TARGET_GIB = 8.0


def quarterly_dates(first: dt.date, last: dt.date) -> list[dt.date]:
    """1 Jan, 1 Apr, 1 Jul, 1 Oct of 2014-2026 that lie in [first, last]."""
    return [d for y in range(2014, 2027) for m in (1, 4, 7, 10)
            if first <= (d := dt.date(y, m, 1)) <= last]


def run_one(register: str) -> dict[str, float]:
    """Time the counting pipeline on one register (in this process)."""
    import polars as pl

    from ozamonitor.counting import Counter
    from ozamonitor.register.calendar import school_year_label, school_year_of
    from ozamonitor.register.store import Register

    reg = Register(register)
    out: dict[str, float] = {"persons": float(reg.rows("persons")),
                             "enrolments": float(reg.rows("enrolments"))}
    t0 = time.perf_counter()
    c0 = time.process_time()
    counter = Counter(reg, "all")
    t1 = time.perf_counter()
    dates = quarterly_dates(counter.timeline.range_start, reg.extraction_date)
    pc = counter.stock(dates)
    gem = counter.table(pc, "gemeente")
    swv = counter.table(pc, "swv")
    nat = counter.table(pc, "nation")
    t2 = time.perf_counter()
    years = [school_year_label(y) for y in range(school_year_of(counter.timeline.range_start),
                                                 school_year_of(reg.extraction_date) + 1)]
    flows = counter.flow(years)
    ftab = counter.table(flows, "gemeente")
    t3 = time.perf_counter()
    out.update(
        build_s=t1 - t0,
        stock_tables_s=t2 - t1,
        target_s=t2 - t0,
        flows_s=t3 - t2,
        total_s=t3 - t0,
        cpu_s=time.process_time() - c0,
        dates=float(len(dates)),
        years=float(len(years)),
        candidates=float(counter.timeline.segments["pid"].n_unique()),
        segments=float(counter.timeline.segments.height),
        table_rows=float(gem.height + swv.height + nat.height + ftab.height),
        suppressed=float(gem["suppression"].is_not_null().sum()),
        peak_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        threads=float(pl.thread_pool_size()),
    )
    return out


def ensure_register(scale: float, cache: Path, seed: int) -> Path:
    """Generate (or reuse) the synthetic register at ``scale``."""
    path = cache / f"synth-{scale:g}-{seed}"
    if not (path / "manifest.json").is_file():
        try:
            from ozamonitor.synth import generate
        except ImportError as e:  # pragma: no cover - depends on the generator
            sys.exit(f"ozamonitor.synth.generate is not available ({e}); pass --register")
        t = time.perf_counter()
        generate(path, scale=scale, seed=seed)
        print(f"  generated scale {scale:g} in {time.perf_counter() - t:.1f} s", flush=True)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="0.1,0.3,1")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "oza-bench")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--register", action="append",
                    help="benchmark existing register(s) instead (repeatable)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child)))
        return
    if args.register:
        jobs = [(Path(r).name[:12], Path(r)) for r in args.register]
    else:
        args.cache.mkdir(parents=True, exist_ok=True)
        jobs = [(s, ensure_register(float(s), args.cache, args.seed))
                for s in args.scales.split(",")]
    rows = []
    for label, path in jobs:
        res = subprocess.run([sys.executable, __file__, "--child", str(path)],
                             capture_output=True, text=True, env=os.environ.copy())
        if res.returncode != 0:
            sys.exit(f"benchmark failed on {path}:\n{res.stderr}")
        r = json.loads(res.stdout.strip().splitlines()[-1])
        rows.append((label, r))
    ref = rows[0][1]
    print(f"\n{'register':>12} {'persons':>10} {'cands':>8} {'build':>7} {'stock+tab':>9} "
          f"{'target':>7} {'flows':>7} {'cpu':>7} {'GiB':>6} {'t/t0':>6} {'n/n0':>6}")
    for label, r in rows:
        print(f"{label!s:>12} {r['persons']:>10,.0f} {r['candidates']:>8,.0f} "
              f"{r['build_s']:>7.1f} {r['stock_tables_s']:>9.1f} {r['target_s']:>7.1f} "
              f"{r['flows_s']:>7.1f} {r['cpu_s']:>7.1f} {r['peak_gib']:>6.2f} "
              f"{r['target_s'] / ref['target_s']:>6.2f} {r['persons'] / ref['persons']:>6.2f}")
    last_label, last = rows[-1]
    ok = last["target_s"] < TARGET_SECONDS and last["peak_gib"] < TARGET_GIB
    print(f"\n{last_label}: {last['dates']:.0f} quarterly dates x all definitions x every "
          f"gemeente and SWV in {last['target_s']:.1f} s (target {TARGET_SECONDS:.0f} s), "
          f"peak {last['peak_gib']:.2f} GiB (target {TARGET_GIB:.0f}), "
          f"{last['threads']:.0f} polars threads: {'OK' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
