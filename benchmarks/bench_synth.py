"""Benchmark of the synthetic register generator: time and peak memory by scale.

Each scale runs in its own subprocess (so peak memory is that run's own), and
the table shows wall time, CPU time, peak resident memory, rows written, and
time per unit of scale relative to the smallest scale (near 1 = linear).

    python benchmarks/bench_synth.py                     # scales 0.1 0.3 1
    python benchmarks/bench_synth.py --scales 0.01 0.1   # quick

Targets: scale 1 under 10 minutes and 8 GiB on 2 cores; scale 0.01 in seconds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = r"""
import json, resource, sys, time
from ozamonitor.synth import generate
from ozamonitor.register.store import Register
out, scale, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
t0 = time.perf_counter(); c0 = time.process_time()
generate(out, scale=scale, seed=seed)
wall = time.perf_counter() - t0; cpu = time.process_time() - c0
ru = resource.getrusage(resource.RUSAGE_SELF)
reg = Register(out)
print(json.dumps({"wall": wall, "cpu": cpu, "maxrss_mib": ru.ru_maxrss / 1024,
                  "rows": {n: t["rows"] for n, t in reg.manifest["tables"].items()}}))
"""


def run_one(scale: float, seed: int, workdir: Path) -> dict:
    """Generate one register in a subprocess and return its measurements."""
    out = workdir / f"reg_{scale:g}"
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(out), str(scale), str(seed)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"scale {scale} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print a table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scales", type=float, nargs="+", default=[0.1, 0.3, 1.0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, default=None, help="folder to keep the registers in")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        results = []
        for s in sorted(args.scales):
            r = run_one(s, args.seed, work)
            results.append((s, r))
            print(f"scale {s:g}: {r['wall']:.1f} s wall, {r['cpu']:.1f} s cpu, "
                  f"{r['maxrss_mib']:.0f} MiB peak", flush=True)
    ref = results[0][1]["wall"] / results[0][0]
    print()
    print(f"{'scale':>7} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} {'persons':>11} "
          f"{'attendance':>12} {'wall/scale':>11} {'ratio':>6}")
    for s, r in results:
        per = r["wall"] / s
        print(f"{s:>7g} {r['wall']:>8.1f} {r['cpu']:>8.1f} {r['maxrss_mib']:>9.0f} "
              f"{r['rows']['persons']:>11,} {r['rows']['attendance']:>12,} {per:>11.1f} "
              f"{per / ref:>6.2f}")
    print("\nratio = (wall/scale) / (wall/scale at the smallest scale); < 1 means fixed costs "
          "dominate small scales, about 1 means linear growth.")


if __name__ == "__main__":
    main()
