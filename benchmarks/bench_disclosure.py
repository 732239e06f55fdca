"""Benchmark: the exact disclosure audit on a national count table.

Builds the unprotected stock table (all definitions x every quarterly
reference date x every gemeente, or SWV) of a register, then times
:func:`ozamonitor.privacy.disclosure.suppress` with the count tables' sum
groups, and checks the result with the dense (SVD) route of the audit, which
is timed too: the ratio dense / graphic is printed.

    python benchmarks/bench_disclosure.py --register REG [--by gemeente|swv]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from bench_counting import quarterly_dates
from ozamonitor.counting import Counter
from ozamonitor.counting.count import table_sum_groups
from ozamonitor.privacy.audit import determined_cells
from ozamonitor.privacy.disclosure import _sum_system, suppress
from ozamonitor.register.store import Register


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--register", required=True)
    ap.add_argument("--by", default="gemeente", choices=["gemeente", "swv"])
    args = ap.parse_args()
    reg = Register(args.register)
    counter = Counter(reg, "all")
    dates = quarterly_dates(counter.timeline.range_start, reg.extraction_date)
    table = counter.table(counter.stock(dates), args.by, threshold=None)
    groups = table_sum_groups(d.name for d in counter.definitions if d.exclusive)
    t0 = time.perf_counter()
    out = suppress(table, "count", sum_groups=groups)
    t_graphic = time.perf_counter() - t0
    hidden = out["count"].is_null().to_numpy()
    system = _sum_system(table, groups, table["count"].cast(pl.Float64).to_numpy())
    t1 = time.perf_counter()
    left = determined_cells(system, hidden, dense=True)
    t_dense = time.perf_counter() - t1
    flags = out["suppression"].value_counts().sort("suppression")
    print(f"{table.height:,} cells ({args.by}, {len(dates)} dates); suppression: "
          + ", ".join(f"{k or 'shown'} {v:,}" for k, v in flags.iter_rows()))
    print(f"suppress (graphic audit): {t_graphic:.2f} s; dense audit of the result: "
          f"{t_dense:.2f} s (ratio {t_dense / max(t_graphic, 1e-9):.1f}); cells still "
          f"determined: {left.size} (must be 0)")
    if left.size:
        sys.exit(1)


if __name__ == "__main__":
    main()
