"""R's default random stream (Mersenne-Twister, ``set.seed``, ``sample.int``).

Private to :mod:`ozamonitor.causal.matching`: ``m_order="random"`` with
``seed=s`` reproduces the order MatchIt draws after ``set.seed(s)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RRandom"]


class RRandom:
    """R's default generator: ``set.seed(seed)`` + Mersenne-Twister + ``sample.int``.

    Reproduces R (>= 3.6, ``sample.kind = "Rejection"``) so that
    ``m_order="random"`` with ``seed=s`` gives the order MatchIt draws after
    ``set.seed(s)``. Written here because no Python package exposes R's stream.
    """

    _N, _M = 624, 397

    def __init__(self, seed: int) -> None:
        s = int(seed) & 0xFFFFFFFF
        for _ in range(50):  # R's initial scrambling
            s = (69069 * s + 1) & 0xFFFFFFFF
        state = []
        for _ in range(self._N + 1):
            s = (69069 * s + 1) & 0xFFFFFFFF
            state.append(s)
        self.mt = state[1:]
        self.mti = self._N  # FixupSeeds: dummy[0] = 624

    def _genrand(self) -> float:
        mt = self.mt
        n, m = self._N, self._M
        if self.mti >= n:
            for kk in range(n):
                y = (mt[kk] & 0x80000000) | (mt[(kk + 1) % n] & 0x7FFFFFFF)
                mt[kk] = mt[(kk + m) % n] ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)
            self.mti = 0
        y = mt[self.mti]
        self.mti += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        y ^= y >> 18
        return y * 2.3283064365386963e-10

    def unif_rand(self) -> float:
        """R's ``unif_rand()`` (values in (0, 1))."""
        x = self._genrand()
        i2_32m1 = 2.328306437080797e-10
        if x <= 0.0:
            return 0.5 * i2_32m1
        if 1.0 - x <= 0.0:
            return 1.0 - 0.5 * i2_32m1
        return x

    def unif_index(self, dn: int) -> int:
        """R's ``R_unif_index`` with rejection sampling."""
        if dn <= 0:
            return 0
        bits = int(np.ceil(np.log2(dn)))
        while True:
            v = 0
            for _ in range(0, bits + 1, 16):
                v = 65536 * v + int(np.floor(self.unif_rand() * 65536))
            dv = v & ((1 << bits) - 1)
            if dv < dn:
                return dv

    def sample_int(self, n: int) -> np.ndarray:
        """``sample.int(n)``: a random permutation of ``1..n``."""
        x = list(range(n))
        out = np.empty(n, dtype=np.int64)
        m = n
        for i in range(n):
            j = self.unif_index(m)
            out[i] = x[j] + 1
            m -= 1
            x[j] = x[m]
        return out
