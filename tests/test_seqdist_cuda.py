"""CUDA kernels (numba.cuda) against the CPU reference.

The kernels are checked on every machine under numba's CUDA simulator (in a
subprocess, since the simulator is chosen when numba is imported); the real-GPU
test is skipped where ``numba.cuda.is_available()`` is False.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

SCRIPT = textwrap.dedent(
    """
    import numpy as np
    from ozamonitor.sequences.define import seqdef
    from ozamonitor.sequences.distances import seqdist, seqdist_cross

    rng = np.random.default_rng(0)
    x = np.array(list("ABC"), dtype=object)[rng.integers(0, 3, (9, 6))]
    x[2, 4:] = None
    x[5] = x[1]
    s = seqdef(x)
    cases = [("OM", dict(sm="TRATE")), ("OM", dict(sm="CONSTANT", norm="gmean")),
             ("LCS", dict(norm="auto")), ("OM", dict(sm="TRATE", indel=[0.5, 1.0, 1.5]))]
    for method, kw in cases:
        a = seqdist(s, method, **kw)
        b = seqdist(s, method, backend="cuda", **kw)
        assert np.abs(a - b).max() < 1e-10, (method, kw)
        c = seqdist_cross(s, s[[0, 3]], method, backend="cuda", **kw)
        assert np.abs(c - a[:, [0, 3]]).max() < 1e-10, (method, kw)
    e = seqdef(np.array(list("ABC"), dtype=object)[rng.integers(0, 3, (7, 5))])
    for method, kw in (("HAM", {}), ("HAM", dict(sm="TRATE", norm="maxdist")), ("DHD", {})):
        a = seqdist(e, method, **kw)
        b = seqdist(e, method, backend="cuda", **kw)
        assert np.abs(a - b).max() < 1e-10, (method, kw)
    print("OK")
    """
)


def test_cuda_kernels_in_simulator() -> None:
    pytest.importorskip("numba.cuda")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    res = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0 and "OK" in res.stdout, res.stderr[-3000:]


def _gpu() -> bool:
    try:
        from numba import cuda

        return bool(cuda.is_available())
    except Exception:
        return False


@pytest.mark.skipif(not _gpu(), reason="no CUDA GPU")
def test_cuda_matches_cpu_on_gpu() -> None:
    from ozamonitor.sequences.define import seqdef
    from ozamonitor.sequences.distances import seqdist

    rng = np.random.default_rng(1)
    x = np.array(list("ABCDEFGH"), dtype=object)[rng.integers(0, 8, (300, 40))]
    s = seqdef(x)
    for method, kw in (("OM", {"sm": "TRATE"}), ("HAM", {}), ("LCS", {"norm": "auto"})):
        cpu = seqdist(s, method, condensed=True, **kw)
        gpu = seqdist(s, method, condensed=True, backend="cuda", **kw)
        np.testing.assert_allclose(gpu, cpu, atol=1e-9)


def test_backend_errors() -> None:
    from ozamonitor.sequences.define import seqdef
    from ozamonitor.sequences.distances import seqdist

    s = seqdef([["A", "B"], ["B", "A"]])
    with pytest.raises(ValueError, match="backend"):
        seqdist(s, "OM", backend="tpu")
    with pytest.raises(ValueError, match="no CUDA kernel"):
        seqdist(s, "LCP", backend="cuda")
    # "auto" falls back to the CPU where no GPU (or no GPU kernel) exists
    np.testing.assert_array_equal(seqdist(s, "LCP", backend="auto"), seqdist(s, "LCP"))
