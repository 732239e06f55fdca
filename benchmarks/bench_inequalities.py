"""Benchmark: the cost of the definitions' declared inequalities in the joint protection.

Protects the same stock publication (all definitions, every region level) with
and without :func:`ozamonitor.counting.publication.declare_inequalities`,
alternating, and prints the time, the number of inequalities and of suppressed
cells of each run, and the ratio (with / without) of each pair.

    python benchmarks/bench_inequalities.py --register REG [--dates 2023-10-01,2024-10-01]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import ozamonitor.counting.publication as cp
from ozamonitor.counting.count import Counter


def _run(counter: Counter, pc, declare) -> tuple[float, int, int, bool]:  # type: ignore[no-untyped-def]
    cp.declare_inequalities = declare
    t = time.perf_counter()
    res = cp.protect_counts(counter, pc, threshold=10)
    el = time.perf_counter() - t
    n = 0 if res.inequalities is None else res.inequalities.shape[0]
    return el, n, int(res.suppressed.sum()), bool(res.audit()["ok"].all())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--register", required=True)
    ap.add_argument("--dates", default="2023-10-01,2024-10-01")
    ap.add_argument("--pairs", type=int, default=2)
    a = ap.parse_args()
    c = Counter(a.register, "all")
    pc = c.stock([dt.date.fromisoformat(d) for d in a.dates.split(",")])
    declare = cp.declare_inequalities

    def off(*args: object, **kw: object) -> None:
        return None

    for _ in range(a.pairs):
        t0, _n0, s0, ok0 = _run(c, pc, off)
        t1, n1, s1, ok1 = _run(c, pc, declare)
        print(f"without {t0:.1f}s ({s0} suppressed, audit ok {ok0}); with {t1:.1f}s "
              f"({n1} inequalities, {s1} suppressed, audit ok {ok1}); ratio {t1 / t0:.2f}")
    cp.declare_inequalities = declare


if __name__ == "__main__":
    main()
