"""Benchmark: ozamonitor ``seqdist`` against sequenzo (same run, same data, same cores).

1. OM with TRATE costs (indel "auto") on ``--n`` synthetic education-care
   trajectories of 72 months over 8 states; checks that both give the same
   distances (max abs diff < 1e-6) and prints the speed ratio.
2. Optionally (``--n-big``, e.g. 20000) the full OM/TRATE matrix as float32
   condensed: time and peak memory.

Both wall-clock and CPU time (``time.process_time``, all threads of the process)
are reported: on a shared machine wall-clock ratios are noisy, CPU time is not.
OpenMP (sequenzo) is set to a passive wait policy so that spinning threads do
not inflate its CPU time.

Run:  python benchmarks/bench_seqdist.py --n 2000 --threads 2 --n-big 20000
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import sys
import time

import numpy as np

STATES = ["REG", "SPEC", "SBO", "VSO", "ZORG", "THUIS", "VRIJ", "WERK"]


def synth_trajectories(n: int, months: int = 72, seed: int = 1) -> np.ndarray:
    """Synthetic monthly trajectories: a persistent Markov chain over 8 states.

    Most children start in regular education; monthly transition probability
    ~4 % with destination probabilities depending on the current state, giving
    a few spells per child (realistic, mostly distinct sequences).
    """
    rng = np.random.default_rng(seed)
    k = len(STATES)
    start = np.array([0.55, 0.15, 0.08, 0.07, 0.05, 0.04, 0.03, 0.03])
    dest = rng.dirichlet(np.full(k, 0.6), size=k)
    np.fill_diagonal(dest, 0.0)
    leave = rng.uniform(0.02, 0.06, size=k)
    trans = dest / dest.sum(axis=1, keepdims=True) * leave[:, None]
    np.fill_diagonal(trans, 1.0 - leave)
    cum = trans.cumsum(axis=1)
    x = np.empty((n, months), dtype=np.int64)
    x[:, 0] = rng.choice(k, size=n, p=start)
    for t in range(1, months):
        u = rng.random(n)
        x[:, t] = np.minimum((u[:, None] > cum[x[:, t - 1]]).sum(axis=1), k - 1)
    return x


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_sequenzo(x: np.ndarray) -> tuple[np.ndarray, float, float]:
    """OM/TRATE distances with sequenzo; returns (matrix, wall seconds, CPU seconds)."""
    import pandas as pd
    from sequenzo import SequenceData as SzData
    from sequenzo import get_distance_matrix

    cols = [f"m{t + 1}" for t in range(x.shape[1])]
    df = pd.DataFrame(np.array(STATES, dtype=object)[x], columns=cols)
    df.insert(0, "id", np.arange(len(df)))
    t0, c0 = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        sd = SzData(df, time=cols, states=STATES, id_col="id")
        d = get_distance_matrix(sd, method="OM", sm="TRATE", indel="auto")
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    return np.asarray(d, dtype=np.float64), secs, cpu


def run_ours(x: np.ndarray, threads: int, **kw: object) -> tuple[np.ndarray, float, float]:
    """OM/TRATE distances with ozamonitor; returns (result, wall seconds, CPU seconds)."""
    from ozamonitor.sequences.define import seqdef
    from ozamonitor.sequences.distances import seqdist

    t0, c0 = time.perf_counter(), time.process_time()
    seqs = seqdef(np.array(STATES, dtype=object)[x], alphabet=STATES)
    d = seqdist(seqs, "OM", sm="TRATE", indel="auto", n_threads=threads, **kw)
    return d, time.perf_counter() - t0, time.process_time() - c0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print timings and ratios."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--months", type=int, default=72)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--n-big", type=int, default=0, help="also run float32 condensed on N sequences"
    )
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

    x = synth_trajectories(args.n, args.months)
    n_unique = len(np.unique(x, axis=0))
    print(f"data: {args.n} sequences x {args.months} months, 8 states, {n_unique} distinct")

    # warm-up: numba compilation (cached on disk after the first run)
    t0 = time.perf_counter()
    run_ours(synth_trajectories(64, args.months, seed=2), args.threads)
    run_ours(
        synth_trajectories(64, args.months, seed=2), args.threads, dtype=np.float32, condensed=True
    )
    print(f"ozamonitor warm-up (JIT compile or cache load): {time.perf_counter() - t0:.2f} s")

    ref, t_ref, c_ref = run_sequenzo(x)
    print(f"sequenzo   OM/TRATE: wall {t_ref:8.3f} s, CPU {c_ref:8.3f} s")
    ours_t, ours_c = [], []
    ours = None
    for _ in range(args.repeat):
        ours, t, c = run_ours(x, args.threads)
        ours_t.append(t)
        ours_c.append(c)
    assert ours is not None
    t_ours, c_ours = min(ours_t), min(ours_c)
    diff = float(np.abs(ours - ref).max())
    walls = ", ".join(f"{t:.3f}" for t in ours_t)
    print(
        f"ozamonitor OM/TRATE: wall {t_ours:8.3f} s, CPU {c_ours:8.3f} s "
        f"(best of {args.repeat}; walls {walls})"
    )
    print(f"max |ours - sequenzo| = {diff:.3e}")
    print(
        f"speed ratio sequenzo / ozamonitor: wall {t_ref / t_ours:.1f}x, CPU {c_ref / c_ours:.1f}x"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if diff >= 1e-6:
        print("FAIL: distances differ", file=sys.stderr)
        return 1

    if args.n_big:
        xb = synth_trajectories(args.n_big, args.months, seed=3)
        nb_unique = len(np.unique(xb, axis=0))
        rss0 = _peak_rss_mib()
        d, t_big, c_big = run_ours(xb, args.threads, dtype=np.float32, condensed=True)
        rss1 = _peak_rss_mib()
        print(
            f"big: {args.n_big} sequences ({nb_unique} distinct), float32 condensed "
            f"({d.nbytes / 2**20:.0f} MiB result): wall {t_big:.1f} s, CPU {c_big:.1f} s, "
            f"peak RSS {rss1:.0f} MiB (before: {rss0:.0f} MiB); load average "
            f"{os.getloadavg()[0]:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
