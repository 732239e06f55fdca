"""Compile the sequence kernels ahead of use, so no analysis waits on numba.

The kernels are numba functions compiled on first call and cached on disk
(``cache=True``): the first call after an installation compiles (seconds per
kernel), every later process loads the machine code (milliseconds). Numba keeps
the cache in ``__pycache__`` beside the installed modules, or, where that folder
is not writable, in the user-wide cache (``~/.cache/numba`` or
``$NUMBA_CACHE_DIR`` when set). :func:`precompile` fills it by running every
distance method, PAM and CLARA once on a handful of sequences;
``ozamonitor precompile`` runs it, and ``ozamonitor demo`` starts it in a
background process while it generates the synthetic register.

Run: ``python -m ozamonitor.sequences.precompile``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

__all__ = ["cache_location", "precompile"]


def cache_location() -> Path:
    """Folder where numba caches this package's kernels (as numba's locators decide)."""
    import numba

    from ozamonitor.sequences import _kernels

    if numba.config.CACHE_DIR:
        return Path(numba.config.CACHE_DIR)
    from numba.core.caching import _CacheLocator

    for locator in _CacheLocator.__subclasses__():
        here = locator.from_function(_kernels.normalize.py_func, _kernels.__file__)
        if here is not None:
            return Path(here.get_cache_path())
    return Path(_kernels.__file__).parent / "__pycache__"


def _toy(n: int = 24, width: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.repeat(rng.integers(0, 4, size=(n, 4)), width // 4, axis=1)
    flip = rng.random(x.shape) < 0.1
    x[flip] = rng.integers(0, 4, size=int(flip.sum()))
    return x


def precompile(say: Callable[[str], None] | None = None,
               methods: Sequence[str] | None = None) -> dict[str, float]:
    """Compile (or load from the cache) the sequence kernels; seconds per step.

    Parameters
    ----------
    say : callable, optional
        Called with one line per step (e.g. ``print``).
    methods : sequence of str, optional
        Distance methods to prepare (default: all); PAM and CLARA always.

    Returns
    -------
    dict
        ``step -> seconds``.
    """
    from ozamonitor.sequences.clara import clara
    from ozamonitor.sequences.cluster import pam_range
    from ozamonitor.sequences.define import seqdef
    from ozamonitor.sequences.distances import METHODS, seqdist, seqdist_cross

    seqs = seqdef(_toy().astype(str).astype(object), alphabet=["0", "1", "2", "3"])
    steps: dict[str, float] = {}

    def step(name: str, fn: Callable[[], object]) -> None:
        t0 = time.perf_counter()
        fn()
        steps[name] = time.perf_counter() - t0
        if say is not None:
            say(f"{name}: {steps[name]:.2f} s")

    for m in METHODS if methods is None else methods:
        kw = {"sm": "TRATE"} if m == "OM" else {}
        step(f"seqdist {m}", lambda m=m, kw=kw: (
            seqdist(seqs, m, **kw),
            seqdist(seqs, m, dtype=np.float32, condensed=True, **kw),
            seqdist_cross(seqs, seqs[:5], m, **kw)))
    d = seqdist(seqs, "OM", sm="TRATE")
    step("pam", lambda: pam_range(d, [2, 3]))
    step("clara", lambda: clara(seqs, [2, 3], dist_kwargs={"method": "OM", "sm": "TRATE"},
                                R=2, seed=1, sample_size=16))
    return steps


def main(argv: list[str] | None = None) -> int:
    """``python -m ozamonitor.sequences.precompile [--quiet] [--methods OM,LCS]``."""
    args = sys.argv[1:] if argv is None else argv
    quiet = "--quiet" in args
    methods = None
    if "--methods" in args:
        methods = args[args.index("--methods") + 1].split(",")
    t0 = time.perf_counter()
    precompile(None if quiet else print, methods)
    if not quiet:
        print(f"kernels ready in {time.perf_counter() - t0:.1f} s; cache: {cache_location()}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
