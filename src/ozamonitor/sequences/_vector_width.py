"""Let numba use 512-bit vectors on CPUs with AVX-512 (internal).

LLVM tunes recent Xeons with ``prefer-256-bit``: it vectorises with 256-bit
registers even where AVX-512 is present (older Xeons lowered their clock for
512-bit instructions). The sequence kernels keep 8 float64 pairs per DP column,
exactly one 512-bit register; with 512-bit code the OM kernel does about 1.7x
more DP cells per second (2.3e9 -> 4.0e9 per thread on an Emerald Rapids VM)
and gives the same values (element-wise ``min``/``+`` round the same way in
any width, and numba does not reorder floating-point sums).

:func:`prefer_512_bit_vectors` sets numba's CPU features to the host's plus
``-prefer-256-bit`` before numba builds its code generator. It changes nothing
when the CPU lacks AVX-512, when ``NUMBA_CPU_FEATURES`` is set, when
``OZAMONITOR_VECTOR_256`` is set (opt out), or when numba has already compiled
or loaded code in this process. Numba's on-disk cache keys include the
features, so cached kernels stay consistent.
"""

from __future__ import annotations

import os

__all__ = ["prefer_512_bit_vectors"]


def prefer_512_bit_vectors() -> bool:
    """Ask numba for 512-bit vectors where AVX-512 is present; whether it was set."""
    if os.environ.get("NUMBA_CPU_FEATURES") or os.environ.get("OZAMONITOR_VECTOR_256"):
        return False
    import llvmlite.binding as ll
    import numba

    if numba.config.CPU_FEATURES is not None or numba.config.CPU_NAME is not None:
        return False
    try:
        features = ll.get_host_cpu_features()
    except RuntimeError:  # llvmlite cannot read the host's features
        return False
    if not features.get("avx512f", False):
        return False
    numba.config.CPU_FEATURES = features.flatten() + ",-prefer-256-bit"
    return True
