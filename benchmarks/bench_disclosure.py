"""Benchmark: protecting and auditing one school year's publication.

All definitions x (nation + gemeente + SWV) for one school year (flow), as one
publication (:mod:`ozamonitor.counting.publication`): building the model
matrix, secondary suppression by Gaussian elimination, the attacker-interval
rounds, and the full audit of every suppressed cell (exact LP bounds). The
old per-table sum-group suppression of the gemeente table
(:func:`ozamonitor.privacy.disclosure.suppress`, exact recovery only) is timed
on the same data as a reference for the ratio. Peak memory is the process's
maximum resident set size.

    python benchmarks/bench_disclosure.py --register REG [--schoolyear 2022-2023]
        [--levels nation,gemeente,swv]

The issue's target is scale 1 under 2 minutes and 8 GiB on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

from ozamonitor.counting import Counter
from ozamonitor.counting.count import table_sum_groups
from ozamonitor.counting.publication import count_publication
from ozamonitor.privacy.disclosure import suppress
from ozamonitor.privacy.publication import Protection
from ozamonitor.register.store import Register


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--register", required=True)
    ap.add_argument("--schoolyear", default="2022-2023")
    ap.add_argument("--levels", default="nation,gemeente,swv")
    args = ap.parse_args()
    levels = tuple(args.levels.split(","))
    reg = Register(args.register)
    counter = Counter(reg, "all")
    t0 = time.perf_counter()
    pc = counter.flow(args.schoolyear)
    t_count = time.perf_counter() - t0

    c0 = time.process_time()
    t0 = time.perf_counter()
    pub = count_publication(counter, pc, levels=levels)
    t_model = time.perf_counter() - t0
    m = pub.matrix()
    print(f"model {t_model:.1f} s: {m.shape[0]:,} cells x {m.shape[1]:,} inner cells", flush=True)
    t0 = time.perf_counter()
    res = pub.protect(Protection(threshold=10))
    t_protect = time.perf_counter() - t0
    print(f"protect {t_protect:.1f} s (CPU so far {time.process_time() - c0:.1f} s)", flush=True)
    t0 = time.perf_counter()
    audit = res.audit()
    t_audit = time.perf_counter() - t0
    cpu = time.process_time() - c0

    table = counter.table(pc, "gemeente", threshold=None)
    groups = table_sum_groups(d.name for d in counter.definitions if d.exclusive)
    t0 = time.perf_counter()
    suppress(table, "count", sum_groups=groups)
    t_old = time.perf_counter() - t0

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    n_bad = int((~audit["ok"]).sum())
    print(f"register {args.register}, school year {args.schoolyear}, levels {levels}; "
          f"{pc['pid'].n_unique():,} children counted")
    print(f"model: {m.shape[0]:,} cells x {m.shape[1]:,} inner cells ({m.nnz:,} non-zeros); "
          f"primary {int(res.primary.sum()):,}, suppressed {int(res.suppressed.sum()):,}, "
          f"relations {res.relations.shape[0]:,}")
    print(f"per-child counting {t_count:.1f} s (not part of the target)")
    print(f"model {t_model:.1f} s + protect {t_protect:.1f} s + full audit {t_audit:.1f} s "
          f"= {t_model + t_protect + t_audit:.1f} s wall, {cpu:.1f} s CPU; "
          f"peak RSS {peak:.2f} GiB")
    print(f"reference: old per-table suppress of the gemeente table {t_old:.2f} s "
          f"(ratio new/old {(t_model + t_protect + t_audit) / max(t_old, 1e-9):.1f})")
    print(f"audit: {audit.height:,} suppressed cells, {n_bad} too narrow (must be 0); "
          f"median interval width of primary cells "
          f"{float(np.median((audit['upper'] - audit['lower']).to_numpy())):.0f}; "
          f"load {os.getloadavg()[0]:.1f}")
    if n_bad:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
