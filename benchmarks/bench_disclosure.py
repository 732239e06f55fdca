"""Benchmark: protecting and auditing one school year's publication.

All definitions x (nation + gemeente + SWV) for one school year (flow), as one
publication (:mod:`ozamonitor.counting.publication`): building the model
matrix, secondary suppression by Gaussian elimination with the attacker-interval
rounds (*protect*), and the full audit of every suppressed cell (exact LP
bounds, :meth:`Protected.audit`). The per-child counting of the same register
(:meth:`Counter.flow`, not part of the target) is timed in the same run as the
reference for the ratios, since wall times on a shared machine say little on
their own. Each register runs in its own process, so peak memory (maximum
resident set size, LP worker processes included) is per register.

    python benchmarks/bench_disclosure.py --register REG [REG ...]
        [--schoolyear 2022-2023] [--levels nation,gemeente,swv]

The issue's target is scale 1 under 2 minutes and 8 GiB on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np


def _cpu() -> float:
    """CPU seconds of this process and its finished children (LP workers)."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def _timed(fn):  # type: ignore[no-untyped-def]
    c0, t0 = _cpu(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, _cpu() - c0


def one(register: str, schoolyear: str, levels: tuple[str, ...]) -> dict[str, object]:
    """Time counting, protecting and auditing the publication of one register."""
    from ozamonitor.counting import Counter
    from ozamonitor.counting.publication import count_publication
    from ozamonitor.privacy.publication import Protection
    from ozamonitor.register.store import Register

    counter = Counter(Register(register), "all")
    pc, t_count, c_count = _timed(lambda: counter.flow(schoolyear))
    pub, t_model, c_model = _timed(lambda: count_publication(counter, pc, levels=levels))
    m = pub.matrix()
    res, t_prot, c_prot = _timed(lambda: pub.protect(Protection(threshold=10)))
    audit, t_audit, c_audit = _timed(res.audit)
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 2**20  # KiB -> GiB
    return {"register": register, "children": pc["pid"].n_unique(), "cells": m.shape[0],
            "inner": m.shape[1], "primary": int(res.primary.sum()),
            "suppressed": int(res.suppressed.sum()), "too_narrow": int((~audit["ok"]).sum()),
            "median_width": float(np.median((audit["upper"] - audit["lower"]).to_numpy())),
            "count": [t_count, c_count], "model": [t_model, c_model],
            "protect": [t_prot, c_prot], "audit": [t_audit, c_audit],
            "peak_gib": peak, "load": os.getloadavg()[0]}


def report(r: dict) -> None:
    tot = [r["model"][k] + r["protect"][k] + r["audit"][k] for k in (0, 1)]
    ref = max(r["count"][0], 1e-9)
    print(f"{r['register']}: {r['children']:,} children; {r['cells']:,} cells x "
          f"{r['inner']:,} inner cells; primary {r['primary']:,}, suppressed "
          f"{r['suppressed']:,}, too narrow {r['too_narrow']} (must be 0), median "
          f"interval width {r['median_width']:.0f}")
    for k in ("count", "model", "protect", "audit"):
        w, c = r[k]
        print(f"  {k:8s} {w:8.1f} s wall {c:8.1f} s CPU   {w / ref:6.1f} x counting")
    print(f"  model+protect+audit {tot[0]:.1f} s wall, {tot[1]:.1f} s CPU "
          f"({tot[0] / ref:.1f} x counting); peak RSS {r['peak_gib']:.2f} GiB; "
          f"load {r['load']:.1f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--register", required=True, nargs="+")
    ap.add_argument("--schoolyear", default="2022-2023")
    ap.add_argument("--levels", default="nation,gemeente,swv")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    levels = tuple(args.levels.split(","))
    if args.one:
        print(json.dumps(one(args.register[0], args.schoolyear, levels)))
        return
    bad = 0
    for reg in args.register:
        out = subprocess.run([sys.executable, __file__, "--one", "--register", reg,
                              "--schoolyear", args.schoolyear, "--levels", args.levels],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        report(r)
        bad += r["too_narrow"]
    if bad:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
