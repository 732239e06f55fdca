"""Benchmark: CLARA on 1,000,000 sequences of 120 months (target < 15 min on 2 cores),
and PAM + all quality indices on a 5,000 x 5,000 distance matrix.

Sequences are synthetic: a sticky 8-state Markov chain (stay probability 0.96 by
default, a skewed start distribution), which gives realistic long spells and some
duplicate trajectories. Distances come from ``sequences.distances.seqdist_cross``
(``--method HAM`` by default, or ``OM``) when that module is importable; otherwise
(or with ``--backend numba``) the numba ``hamming_cross`` fallback is used and the
output says so. ``--eval-sample`` scores CLARA iterations on a subsample (needed for
OM at this scale, see ``docs/sequences-clustering.md``).

References measured in the same run, printed as ratios:

* CLARA at ``--ref-n`` cases (default 100,000) with identical settings: the ratio
  full / reference against the case ratio shows how close to linear the run scales;
* scikit-learn's ``silhouette_score`` (ASW only) on the same 5,000 x 5,000 matrix,
  against our PAM + all ten WeightedCluster indices for each k.

Example::

    python benchmarks/bench_clara.py                       # full benchmark
    python benchmarks/bench_clara.py --n 200000 --ref-n 20000 --pam-n 2000   # quick
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from typing import Any

import numpy as np

from ozamonitor.sequences.clara import clara, hamming_cross
from ozamonitor.sequences.cluster import pam_range

TARGET_S = 15 * 60


def markov_sequences(
    n: int, length: int = 120, states: int = 8, stay: float = 0.96, seed: int = 0
) -> np.ndarray:
    """``n`` sequences of a sticky Markov chain, uint8 codes ``0..states-1``."""
    rng = np.random.default_rng(seed)
    trans = np.empty((states, states))
    for s in range(states):
        row = rng.dirichlet(np.ones(states - 1)) * (1 - stay)
        trans[s] = np.insert(row, s, stay)
    cum = np.cumsum(trans, axis=1)
    start = np.array([0.5] + [0.5 / (states - 1)] * (states - 1))
    x = np.empty((n, length), dtype=np.uint8)
    x[:, 0] = rng.choice(states, size=n, p=start)
    for t in range(1, length):
        u = rng.random(n)
        x[:, t] = (u[:, None] > cum[x[:, t - 1]]).sum(axis=1)
    return x


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far (GiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024**2


#: distance evaluations (pairs requested from sequences.distances, before deduplication)
EVALUATIONS = [0]


def count_evaluations(distances: Any) -> None:
    """Count the pairs CLARA asks ``distances`` for (its default distance calls these two)."""
    cross, square = distances.seqdist_cross_setup, distances.seqdist_setup

    def counted_cross(a: Any, b: Any, *args: Any, **kw: Any) -> Any:
        EVALUATIONS[0] += a.n_sequences * b.n_sequences
        return cross(a, b, *args, **kw)

    def counted_square(a: Any, *args: Any, **kw: Any) -> Any:
        EVALUATIONS[0] += a.n_sequences * (a.n_sequences - 1) // 2
        return square(a, *args, **kw)

    distances.seqdist_cross_setup = counted_cross
    distances.seqdist_setup = counted_square


def distance_backend(method: str, backend: str,
                     sm: str = "CONSTANT") -> tuple[str, dict[str, Any] | None, Any]:
    """``(description, dist_kwargs or None for the numba fallback, wrap)``; ``wrap``
    turns a code matrix into CLARA's input."""
    distances = None
    if backend == "seqdist":
        try:
            from ozamonitor.sequences import distances
            from ozamonitor.sequences.seqdata import SequenceData
        except ImportError:
            distances = None
    if distances is None:
        if method != "HAM":
            sys.exit(f"sequences.distances is not available; {method} needs it")
        why = "requested" if backend == "numba" else "sequences.distances not available"
        return f"numba hamming_cross FALLBACK ({why})", None, lambda codes: codes
    kw: dict[str, Any] = {"method": method}
    if method == "OM":
        kw.update(sm=sm, indel=1.0 if sm == "CONSTANT" else "auto")
    count_evaluations(distances)

    def wrap(codes: np.ndarray) -> Any:
        # built directly: seqdef would re-derive the alphabet from 120M cells
        return SequenceData(
            codes=codes.astype(np.int16),
            lengths=np.full(codes.shape[0], codes.shape[1], dtype=np.int32),
            alphabet=tuple(str(i) for i in range(8)),
        )

    return f"sequences.distances (seqdist_cross_setup) {kw}", kw, wrap


def run_clara(x: Any, args: argparse.Namespace, dist_kwargs: dict[str, Any] | None) -> Any:
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 30 or done == total:
            last[0] = now
            print(f"    {stage}: {done}/{total}", flush=True)

    return clara(
        x,
        ks=args.ks,
        dist=hamming_cross if dist_kwargs is None else None,
        dist_kwargs=dist_kwargs,
        R=args.R,
        sample_size=args.sample_size,
        eval_sample=args.eval_sample,
        stability=args.stability,
        quality_sample=args.quality_sample,
        seed=1,
        progress=progress,
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=1_000_000, help="cases for the CLARA target")
    p.add_argument("--ref-n", type=int, default=100_000, help="cases of the reference run")
    p.add_argument("--length", type=int, default=120, help="months per sequence")
    p.add_argument("--ks", type=int, nargs="+", default=[4, 5, 6, 7, 8])
    p.add_argument("--R", type=int, default=100, help="CLARA iterations")
    p.add_argument("--sample-size", type=int, default=1000)
    p.add_argument("--eval-sample", type=int, default=None)
    p.add_argument("--stability", action="store_true")
    p.add_argument("--quality-sample", type=int, default=2000)
    p.add_argument("--method", default="HAM", choices=["HAM", "OM"])
    p.add_argument("--sm", default="CONSTANT", choices=["CONSTANT", "TRATE"],
                   help="OM substitution costs (TRATE: estimated on the data, indel auto)")
    p.add_argument(
        "--backend",
        default="seqdist",
        choices=["seqdist", "numba"],
        help="sequences.distances (default) or the numba hamming_cross fallback",
    )
    p.add_argument("--pam-n", type=int, default=5000, help="size of the PAM matrix (0: skip)")
    p.add_argument("--skip-clara", action="store_true")
    args = p.parse_args()

    desc, dist_kwargs, wrap = distance_backend(args.method, args.backend, args.sm)
    print(f"distance backend: {desc}")

    if not args.skip_clara:
        t = time.perf_counter()
        x = markov_sequences(args.n, args.length, seed=0)
        print(f"generated {args.n:,} x {args.length} in {time.perf_counter() - t:.1f} s")
        xs = wrap(x)
        t = time.perf_counter()
        warm = argparse.Namespace(**{**vars(args), "R": 2, "quality_sample": 200})
        run_clara(wrap(x[:3000]), warm, dist_kwargs)  # numba compilation, not timed below
        print(f"warm-up (JIT compilation) {time.perf_counter() - t:.1f} s")
        print(f"reference CLARA on {args.ref_n:,} cases ...")
        t, c = time.perf_counter(), time.process_time()
        ref = run_clara(wrap(x[: args.ref_n]), args, dist_kwargs)
        t_ref = time.perf_counter() - t
        print(
            f"  {t_ref:.1f} s wall, {time.process_time() - c:.1f} s CPU (all threads), "
            f"{ref.n_distinct:,} distinct sequences"
        )
        print(f"CLARA on {args.n:,} cases, k = {args.ks}, R = {args.R}, ")
        print(f"  sample_size = {args.sample_size}, eval_sample = {args.eval_sample} ...")
        t, c = time.perf_counter(), time.process_time()
        EVALUATIONS[0] = 0
        res = run_clara(xs, args, dist_kwargs)
        t_full = time.perf_counter() - t
        print(
            f"  {t_full:.1f} s wall ({t_full / 60:.2f} min), {time.process_time() - c:.1f} s CPU "
            f"(all threads), {res.n_distinct:,} distinct sequences, "
            f"{EVALUATIONS[0]:,} distance evaluations requested"
        )
        print(f"  peak RSS so far {peak_rss_gib():.2f} GiB")
        print(
            f"  ratio full/reference time {t_full / t_ref:.2f} for {args.n / args.ref_n:.0f}x "
            f"the cases; target {TARGET_S} s: {'OK' if t_full < TARGET_S else 'MISSED'} "
            f"({t_full / TARGET_S:.2f} of budget)"
        )
        table = res.to_polars()
        cols = ["k", "avg_dist", "PBM", "DB", "XB", "AMS", "best_iter"]
        cols += [c for c in ("sample_ASW", "sample_PBC", "sample_HC") if c in table.columns]
        print(table.select(cols))
        del x, xs, res, ref

    if args.pam_n:
        n = args.pam_n
        xq = wrap(markov_sequences(n, args.length, seed=2))
        t = time.perf_counter()
        if dist_kwargs is None:
            d = hamming_cross(xq, xq)
        else:
            from ozamonitor.sequences.distances import seqdist

            d = np.asarray(seqdist(xq, **dist_kwargs), dtype=np.float64)
        t_dist = time.perf_counter() - t
        print(f"{n:,} x {n:,} distance matrix in {t_dist:.1f} s")
        t, c = time.perf_counter(), time.process_time()
        rng_res = pam_range(d, ks=range(2, 11))
        t_ours, c_ours = time.perf_counter() - t, time.process_time() - c
        from sklearn.metrics import silhouette_score

        t, c = time.perf_counter(), time.process_time()
        for k in rng_res.ks:
            silhouette_score(d, rng_res.labels_for(k), metric="precomputed")
        t_sk, c_sk = time.perf_counter() - t, time.process_time() - c
        print(
            f"PAM k=2..10 + all 10 indices: {t_ours:.1f} s wall / {c_ours:.1f} s CPU; "
            f"sklearn silhouette_score (ASW only) for the same 9 partitions: {t_sk:.1f} s "
            f"wall / {c_sk:.1f} s CPU; ratio ours/sklearn {t_ours / t_sk:.2f} wall, "
            f"{c_ours / c_sk:.2f} CPU"
        )
        print(f"  peak RSS so far {peak_rss_gib():.2f} GiB")
        print(rng_res.to_polars())


if __name__ == "__main__":
    main()
