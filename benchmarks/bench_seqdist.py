"""Benchmark: ozamonitor ``seqdist`` against sequenzo (same run, same data, same cores).

Prints one table row per (method, size, threads) with

* in-process time of the distance call of ozamonitor and of sequenzo, the
  sequence objects built beforehand (wall and CPU: on a shared
  machine wall-clock ratios are noisy, CPU time much less so), their ratios and
  the largest difference between the two matrices;
* DP cells per second (OM, LCS: one cell per pair of positions; HAM, DHD, LCP:
  one per position) and that rate over the machine's peak
  ``threads x vector lanes x clock`` (float64 lanes of the widest unit: 8 with
  AVX-512, 4 with AVX2; bit-parallel LCS handles 64 cells per lane, so it can
  pass 1);
* for OM, the share of DP cells an exact diagonal band would prune: cells
  with ``indel_min (|d| + |d - (n - m)|) > UB`` (``d = j - i``) lie on no
  optimal path, ``UB`` being the cost of the diagonal alignment (substitutions
  along the diagonal, indels for the longer tail); per pair, and per block of
  8 targets as the lane kernel would see it (the band of the widest lane);

then the whole command as a user runs it (``ozamonitor seqdist ... --out D.csv``
against a sequenzo script reading the same CSV and writing its matrix with
pandas), the CSV writer on an N x N matrix, and the first call in a new process
(cold: empty numba cache; cached) against a warm call.

sequenzo 0.1.42 crashes on DHD; DHD's row then uses sequenzo's HAM time on the
same data as the reference (the same work: one cost per position).

Run (short, for a shared machine)::

    python benchmarks/bench_seqdist.py --sizes 2000x72 --threads 1,2
    python benchmarks/bench_seqdist.py --sizes 2000x72,4000x144 --methods LCS,LCP,HAM,DHD
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

STATES = ["REG", "SPEC", "SBO", "VSO", "ZORG", "THUIS", "VRIJ", "WERK"]
CASES = {  # name -> (ozamonitor method, kwargs, sequenzo kwargs)
    "OM/TRATE": ("OM", {"sm": "TRATE", "indel": "auto"}, {"method": "OM", "sm": "TRATE",
                                                          "indel": "auto"}),
    "OM/CONSTANT": ("OM", {"sm": "CONSTANT"}, {"method": "OM", "sm": "CONSTANT", "indel": 1}),
    "LCS": ("LCS", {}, {"method": "LCS"}),
    "LCP": ("LCP", {}, {"method": "LCP"}),
    "HAM": ("HAM", {}, {"method": "HAM", "sm": "CONSTANT"}),
    "DHD": ("DHD", {}, None),
}



def f64_lanes() -> int:
    """float64 lanes of the widest vector unit (/proc/cpuinfo flags): 8 AVX-512, 4 AVX2, 2."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return 2
    return 8 if " avx512f" in flags else 4 if " avx2" in flags else 2


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


def clock_ghz() -> float:
    """The CPU clock from /proc/cpuinfo (first core), in GHz (nan when unknown)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("cpu MHz"):
                return float(line.split(":")[1]) / 1000.0
    except OSError:
        pass
    return float("nan")


def _timed(fn: object) -> tuple[object, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    res = fn()  # type: ignore[operator]
    return res, time.perf_counter() - t0, time.process_time() - c0


def sequenzo_data(x: np.ndarray) -> object:
    import pandas as pd
    from sequenzo import SequenceData as SzData

    cols = [f"m{t + 1}" for t in range(x.shape[1])]
    df = pd.DataFrame(np.array(STATES, dtype=object)[x], columns=cols)
    df.insert(0, "id", np.arange(len(df)))
    with contextlib.redirect_stdout(io.StringIO()):
        return SzData(df, time=cols, states=STATES, id_col="id")


def run_sequenzo(sd: object, kw: dict, threads: int) -> tuple[np.ndarray, float, float]:
    """sequenzo distances (OpenMP limited to ``threads``): (matrix, wall s, CPU s)."""
    from sequenzo import get_distance_matrix
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads, user_api="openmp"), \
            contextlib.redirect_stdout(io.StringIO()):
        d, wall, cpu = _timed(lambda: get_distance_matrix(sd, **kw))
    return np.asarray(d, dtype=np.float64), wall, cpu


def run_ours(x: np.ndarray, method: str, kw: dict, threads: int,
             **extra: object) -> tuple[np.ndarray, float, float]:
    """ozamonitor distances (the sequences defined beforehand, as for sequenzo): (matrix,
    wall s, CPU s)."""
    from ozamonitor.sequences.define import seqdef
    from ozamonitor.sequences.distances import seqdist

    seqs = seqdef(np.array(STATES, dtype=object)[x], alphabet=STATES)
    d, wall, cpu = _timed(lambda: seqdist(seqs, method, n_threads=threads, **kw, **extra))
    return d, wall, cpu  # type: ignore[return-value]


def cells(x: np.ndarray, method: str) -> float:
    """DP cells over distinct pairs (as the kernels see them)."""
    u = np.unique(x, axis=0)
    pairs = len(u) * (len(u) - 1) / 2
    width = x.shape[1]
    return pairs * width * (width if method in ("OM", "LCS") else 1)


def band_share(x: np.ndarray, kw: dict, n_max: int = 1000, lanes: int = 8) -> tuple[float, float]:
    """Share of OM DP cells outside the exact band, per pair and per block of ``lanes``
    targets (equal lengths: ``|j - i| > UB / (2 indel_min)``), on the first ``n_max``
    distinct sequences."""
    from ozamonitor.sequences.define import seqdef
    from ozamonitor.sequences.distances import DistanceSetup

    u = np.unique(x, axis=0)[:n_max]
    setup = DistanceSetup.create(seqdef(np.array(STATES, dtype=object)[x], alphabet=STATES),
                                 "OM", **kw)
    sm, indel = setup.costs()
    n, width = u.shape
    ub = np.zeros((n, n))
    for t in range(width):  # cost of the diagonal alignment
        ub += sm[u[:, None, t], u[None, :, t]]
    half = np.minimum(np.floor(ub / (2.0 * float(indel.min()))), width - 1)
    full = float(width * width)

    def kept(w: np.ndarray) -> np.ndarray:
        return full - (width - w - 1) * (width - w)

    per_pair = 1.0 - kept(half[np.triu_indices(n, 1)]).mean() / full
    nb = n // lanes * lanes
    block = half[:, :nb].reshape(n, nb // lanes, lanes).max(axis=2)
    return per_pair, 1.0 - kept(block).mean() / full


def in_process(args: argparse.Namespace, threads_list: list[int]) -> list[str]:
    rows = []
    ghz = clock_ghz()
    for size in args.sizes.split(","):
        n, months = (int(v) for v in size.split("x"))
        x = synth_trajectories(n, months)
        sd = sequenzo_data(x)
        ham_ref: dict[int, tuple[float, float]] = {}
        for name in args.methods.split(","):
            method, kw, szkw = CASES[name]
            run_ours(x[:64], method, kw, max(threads_list))  # compile / load
            if method == "OM":
                pair, block = band_share(x, kw)
                print(f"<!-- {name} {n} x {months}: an exact band would prune {pair:.1%} of the "
                      f"cells per pair, {block:.1%} per block of 8 targets -->", flush=True)
            for t in threads_list:
                if szkw is not None:
                    ref, rw, rc = run_sequenzo(sd, szkw, t)
                    if name == "HAM":
                        ham_ref[t] = (rw, rc)
                else:
                    ref, (rw, rc) = None, ham_ref.get(t, (float("nan"), float("nan")))
                d, w, c = min((run_ours(x, method, kw, t) for _ in range(args.repeat)),
                              key=lambda r: r[1])
                diff = "-" if ref is None else f"{np.abs(d - ref).max():.1e}"
                rate = cells(x, method) / w
                peak = t * f64_lanes() * ghz * 1e9
                rows.append(f"| {name} | {n} x {months} | {t} | {w:.3f} | {c:.3f} | "
                            f"{rw:.2f} | {rc:.2f} | {rw / w:.1f}x | {rc / c:.1f}x | {diff} | "
                            f"{rate:.2e} | {rate / peak:.2f} |")
                print(rows[-1], flush=True)
    return rows


SEQUENZO_SCRIPT = """
import contextlib, io, sys, numpy as np, pandas as pd
from sequenzo import SequenceData, get_distance_matrix
df = pd.read_csv(sys.argv[1])
cols = [c for c in df.columns if c != "id"]
states = sorted(set(np.unique(df[cols].to_numpy().astype(str))))
with contextlib.redirect_stdout(io.StringIO()):
    sd = SequenceData(df, time=cols, states=states, id_col="id")
    d = get_distance_matrix(sd, method=sys.argv[3], **eval(sys.argv[4]))
pd.DataFrame(np.asarray(d)).to_csv(sys.argv[2], header=False, index=False)
"""


def whole_command(args: argparse.Namespace, threads_list: list[int], tmp: Path) -> list[str]:
    rows = []
    n, months = (int(v) for v in args.sizes.split(",")[0].split("x"))
    x = synth_trajectories(n, months)
    src = tmp / "seq.csv"
    lab = np.array(STATES, dtype=object)[x]
    with src.open("w") as fh:
        fh.write("id," + ",".join(f"m{t + 1}" for t in range(months)) + "\n")
        for i, r in enumerate(lab):
            fh.write(f"{i}," + ",".join(r) + "\n")
    exe = Path(sys.executable).parent / "ozamonitor"
    for name in args.whole.split(","):
        method, kw, szkw = CASES[name]
        if szkw is None:
            continue
        sz_kw = {k: v for k, v in szkw.items() if k != "method"}
        for t in threads_list:
            env = dict(os.environ, OMP_NUM_THREADS=str(t))
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", SEQUENZO_SCRIPT, str(src), str(tmp / "r.csv"),
                            szkw["method"], repr(sz_kw)], check=True, env=env,
                           capture_output=True)
            tr = time.perf_counter() - t0
            cmd = [str(exe), "seqdist", "-i", str(src), "-o", str(tmp / "o.csv"), "--method",
                   method, "--threads", str(t)]
            if "sm" in kw:
                cmd += ["--sm", str(kw["sm"])]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            to = time.perf_counter() - t0
            a = np.loadtxt(tmp / "o.csv", delimiter=",")
            b = np.loadtxt(tmp / "r.csv", delimiter=",")
            rows.append(f"| {name} | {n} x {months} | {t} | {to:.2f} | {tr:.2f} | "
                        f"{tr / to:.1f}x | {np.abs(a - b).max():.1e} |")
            print(rows[-1], flush=True)
    return rows


def csv_writer(n: int, tmp: Path) -> str:
    from ozamonitor.cli.sequence_cmds import _write_matrix

    rng = np.random.default_rng(0)
    a = rng.random((n, n)) * 40
    d = np.round(a + a.T, 6)
    np.fill_diagonal(d, 0.0)
    t0 = time.perf_counter()
    _write_matrix(tmp / "big.csv", d, n)
    t = time.perf_counter() - t0
    sub = d[:500, :500]
    t0 = time.perf_counter()
    np.savetxt(tmp / "ref.csv", sub, delimiter=",", fmt="%.17g")
    t_ref = (time.perf_counter() - t0) * (n / 500) ** 2
    back = np.loadtxt(tmp / "big.csv", delimiter=",", max_rows=3)
    assert np.array_equal(back, d[:3])
    return (f"CSV writer, {n} x {n} float64: {t:.2f} s (numpy savetxt %.17g, scaled from "
            f"500 x 500: {t_ref:.1f} s, {t_ref / t:.0f}x); "
            f"{(tmp / 'big.csv').stat().st_size / 2**20:.0f} MiB, exact round trip")


FIRST_CALL = """
import time, numpy as np, sys
t0 = time.perf_counter()
sys.path.insert(0, {bench!r})
from bench_seqdist import synth_trajectories, STATES
from ozamonitor.sequences.define import seqdef
from ozamonitor.sequences.distances import seqdist
x = synth_trajectories(2000, 72)
s = seqdef(np.array(STATES, dtype=object)[x], alphabet=STATES)
t1 = time.perf_counter(); seqdist(s, "OM", sm="TRATE"); t2 = time.perf_counter()
seqdist(s, "OM", sm="TRATE"); t3 = time.perf_counter()
print(f"{{t2 - t1:.2f}} {{t3 - t2:.2f}}")
"""


def first_call(tmp: Path) -> list[str]:
    code = FIRST_CALL.format(bench=str(Path(__file__).parent))
    out = []
    cache = tmp / "numba-cache"
    for label in ("cold (empty numba cache)", "cached (second process)"):
        env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
        res = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                             capture_output=True, text=True)
        first, warm = (float(v) for v in res.stdout.split())
        out.append(f"first OM/TRATE 2000 x 72 call, {label}: {first:.2f} s; warm call "
                   f"{warm:.2f} s; extra {first - warm:.2f} s")
        print(out[-1], flush=True)
    return out


def big(n: int, threads: int) -> None:
    import resource

    x = synth_trajectories(n, 72, seed=3)
    d, wall, cpu = run_ours(x, "OM", CASES["OM/TRATE"][1], threads, dtype=np.float32,
                            condensed=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"big: {n} x 72 OM/TRATE float32 condensed ({d.nbytes / 2**20:.0f} MiB): "
          f"wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss:.0f} MiB")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the tables (Markdown)."""
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="2000x72", help="comma-separated NxL")
    ap.add_argument("--methods", default=",".join(CASES))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--whole", default="OM/TRATE,LCS",
                    help="methods for the whole-command comparison ('' to skip)")
    ap.add_argument("--csv-n", type=int, default=4000, help="CSV writer size (0 to skip)")
    ap.add_argument("--first-call", action="store_true", help="also time the first call")
    ap.add_argument("--n-big", type=int, default=0,
                    help="also OM/TRATE float32 condensed on N sequences (time, peak RSS)")
    args = ap.parse_args(argv)
    threads_list = [int(t) for t in args.threads.split(",")]
    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} CPUs, "
          f"clock {clock_ghz():.2f} GHz")
    print("| work | data | threads | ozamonitor wall s | CPU s | sequenzo wall s | CPU s | "
          "ratio wall | ratio CPU | max diff | cells/s | of peak |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    in_process(args, threads_list)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if args.whole:
            print("\n| whole command | data | threads | ozamonitor s | sequenzo script s | ratio |"
                  " max diff |")
            print("|---|---|---|---|---|---|---|")
            whole_command(args, threads_list, tmp)
        if args.csv_n:
            print("\n" + csv_writer(args.csv_n, tmp))
        if args.first_call:
            first_call(tmp)
    if args.n_big:
        big(args.n_big, max(threads_list))
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
