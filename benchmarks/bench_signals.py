"""Benchmark: absence signals and attendance tiers for every pupil over a school year.

Target: signals (``report_16h_4w``, ``lrv_4w``, ``lrv_3m``, episode timers) and
tiers (present share, tier, improvement, early warning) for every pupil of a
scale-0.1 register for the school year 2024-2025 in under 30 s and 4 GiB on 2
cores; scale 1 under 5 minutes. The signals read all absence up to the as-of
date (31 July 2025: two school years, so episodes running into the year are
whole); the tiers compare with the previous school year. Counts per gemeente
(disclosure-controlled) are timed as well.

Each job runs in a fresh subprocess (peak memory per job). ``--replicate K``
stacks K copies of a register's pupils (new person ids, same schools) in
memory: a register K times the size, to estimate a scale the machine cannot
generate (e.g. scale 1 from scale 0.1 with K = 10). The time ratio against
the first job shows how time grows with the rows.

    python benchmarks/bench_signals.py                         # scales 0.01 and 0.1
    python benchmarks/bench_signals.py --scales 0.1 --replicate 1,10
    python benchmarks/bench_signals.py --register REG

Run with ``POLARS_MAX_THREADS=2`` and ``NUMBA_NUM_THREADS=2`` (and e.g.
``taskset -c 0,1``) to hold it to two cores.
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

TARGET_S = {0.1: 30.0, 1.0: 300.0}
TARGET_GIB = 4.0
ASOF = dt.date(2025, 7, 31)
YEAR_START = dt.date(2024, 8, 1)


def _tables(register: str, k: int) -> dict:
    """The register's tables for the attendance engine, pupils copied ``k`` times."""
    import polars as pl

    from ozamonitor.register.store import Register

    reg = Register(register)
    names = ("persons", "residences", "enrolments", "absence_days")
    t = {n: reg.scan(n) for n in names}
    t["absence_days"] = t["absence_days"].filter(pl.col("date") <= ASOF)
    t["enrolments"] = t["enrolments"].filter(pl.col("end").is_null()
                                             | (pl.col("end") >= dt.date(2023, 8, 1)))
    out = {}
    for n, lf in t.items():
        if k > 1:
            lf = pl.concat([lf.with_columns(person_id=pl.col("person_id") + f"-{i}")
                            for i in range(k)])
        out[n] = lf.collect()
    out["schools"] = reg.read("schools")
    return out


def run_one(register: str, k: int) -> dict[str, float]:
    """Time signals, tiers and counts on one (replicated) register, in this process."""
    import polars as pl

    from ozamonitor.attendance.counts import attendance_counts
    from ozamonitor.attendance.signals import detect
    from ozamonitor.attendance.tiers import attendance_per_pupil

    t0 = time.perf_counter()
    t = _tables(register, k)
    t1 = time.perf_counter()
    c0 = time.process_time()
    # warm the numba kernel on a tiny input so compilation is not timed
    detect(t["absence_days"].head(50), asof=ASOF, schools=t["schools"])
    t2 = time.perf_counter()
    sig = detect(t["absence_days"], asof=ASOF, start=YEAR_START, schools=t["schools"])
    t3 = time.perf_counter()
    per = attendance_per_pupil(t, asof=ASOF, period="schoolyear")
    t4 = time.perf_counter()
    cnt = attendance_counts(per, "gemeente", signals=sig.signals)
    t5 = time.perf_counter()
    return {
        "rows": float(t["absence_days"].height),
        "pupils": float(per.height),
        "signals": float(sig.signals.height),
        "episodes": float(sig.episodes.height),
        "load_s": t1 - t0,
        "signals_s": t3 - t2,
        "tiers_s": t4 - t3,
        "counts_s": t5 - t4,
        "target_s": t4 - t2,
        "cpu_s": time.process_time() - c0,
        "count_rows": float(cnt.height),
        "chronic": float(per["chronic"].mean() or 0.0),
        "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "threads": float(pl.thread_pool_size()),
    }


def ensure_register(scale: float, cache: Path, seed: int) -> Path:
    """Generate (or reuse) the synthetic register at ``scale``."""
    path = cache / f"synth-{scale:g}-{seed}"
    if not (path / "manifest.json").is_file():
        from ozamonitor.synth import generate

        t = time.perf_counter()
        generate(path, scale=scale, seed=seed)
        print(f"  generated scale {scale:g} in {time.perf_counter() - t:.1f} s", flush=True)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="0.01,0.1")
    ap.add_argument("--replicate", default="1", help="copies of the pupils, e.g. 1,10")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "oza-bench")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--register", action="append", help="existing register(s) instead")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child[0], int(args.child[1]))))
        return
    if args.register:
        regs = [(Path(r).name[:10], 0.0, Path(r)) for r in args.register]
    else:
        args.cache.mkdir(parents=True, exist_ok=True)
        regs = [(f"{s}", float(s), ensure_register(float(s), args.cache, args.seed))
                for s in args.scales.split(",")]
    jobs = [(f"{label}x{k}", scale * int(k), path, int(k))
            for label, scale, path in regs for k in args.replicate.split(",")]
    rows = []
    for label, scale, path, k in jobs:
        res = subprocess.run([sys.executable, __file__, "--child", str(path), str(k)],
                             capture_output=True, text=True, env=os.environ.copy())
        if res.returncode != 0:
            sys.exit(f"benchmark failed on {path} x{k}:\n{res.stderr}")
        rows.append((label, scale, json.loads(res.stdout.strip().splitlines()[-1])))
    ref = rows[0][2]
    print(f"\n{'job':>10} {'rows':>12} {'pupils':>10} {'signals':>10} {'sig s':>7} "
          f"{'tier s':>7} {'target':>7} {'cpu':>7} {'GiB':>6} {'t/t0':>6} {'n/n0':>6}")
    for label, _, r in rows:
        print(f"{label:>10} {r['rows']:>12,.0f} {r['pupils']:>10,.0f} {r['signals']:>10,.0f} "
              f"{r['signals_s']:>7.1f} {r['tiers_s']:>7.1f} {r['target_s']:>7.1f} "
              f"{r['cpu_s']:>7.1f} {r['peak_gib']:>6.2f} "
              f"{r['target_s'] / ref['target_s']:>6.2f} {r['rows'] / ref['rows']:>6.2f}")
    for label, scale, r in rows:
        target = TARGET_S.get(round(scale, 3))
        if target is None:
            continue
        gib = TARGET_GIB if scale < 0.5 else None
        ok = r["target_s"] < target and (gib is None or r["peak_gib"] < gib)
        print(f"{label}: signals + tiers for {r['pupils']:,.0f} pupils, school year 2024-2025, "
              f"in {r['target_s']:.1f} s (target {target:.0f} s)"
              + (f", peak {r['peak_gib']:.2f} GiB (target {gib:.0f})" if gib else "")
              + f", {r['threads']:.0f} polars threads: {'OK' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
