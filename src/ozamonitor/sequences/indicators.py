"""Per-sequence indicators with TraMineR's definitions (``seqindic`` and friends).

=============================  ====================  ==================================
function                       TraMineR              what
=============================  ====================  ==================================
:func:`n_subsequences`         ``seqsubsn``          distinct subsequences of the DSS
:func:`turbulence`             ``seqST``             Elzinga's turbulence
:func:`longitudinal_entropy`   ``seqient``           within-sequence entropy
:func:`sequence_indicators`    ``seqindic`` (subset) the indicators of every sequence
:func:`indicator_summary`                            their means by group
=============================  ====================  ==================================

Missing positions are ignored unless ``with_missing=True``, void positions
always are. Vectorised over sequences (numpy, numba for the number of distinct
subsequences).
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np
import polars as pl

from ozamonitor.errors import ConfigurationError
from ozamonitor.sequences.describe import entropy, group_rows, spell_arrays, state_matrix

__all__ = ["indicator_summary", "longitudinal_entropy", "n_subsequences", "sequence_indicators",
           "turbulence"]


@nb.njit(cache=True)
def _n_subsequences(states: np.ndarray, offsets: np.ndarray, k: int
                    ) -> np.ndarray:  # pragma: no cover - numba
    """Number of distinct subsequences (incl. the empty one) of each DSS.

    N(i) = 2 N(i-1) - N(last(x_i) - 1) (TraMineR ``seqsubsn``), in float64.
    """
    n = len(offsets) - 1
    out = np.empty(n, dtype=np.float64)
    last = np.zeros(k, dtype=np.int64)
    for i in range(n):
        a, b = offsets[i], offsets[i + 1]
        L = b - a
        N = np.empty(L + 1, dtype=np.float64)
        N[0] = 1.0
        last[:] = 0
        for j in range(1, L + 1):
            x = states[a + j - 1]
            N[j] = 2.0 * N[j - 1]
            if last[x] > 0:
                N[j] -= N[last[x] - 1]
            last[x] = j
        out[i] = N[L]
    return out


def n_subsequences(seq: Any, *, with_missing: bool = False) -> np.ndarray:
    """phi: distinct subsequences of each sequence's DSS (``seqsubsn``)."""
    _, m, k, _ = state_matrix(seq, with_missing)
    _, st, _, _, nsp = spell_arrays(m)
    offsets = np.concatenate([[0], np.cumsum(nsp)]).astype(np.int64)
    return _n_subsequences(st.astype(np.int64), offsets, k)


def _turb_parts(m: np.ndarray, k: int, type_: int) -> tuple[np.ndarray, np.ndarray,
                                                              np.ndarray]:
    """phi, duration variance and its maximum per sequence (``seqivardur``)."""
    row, st, _, dur, nsp = spell_arrays(m)
    n = m.shape[0]
    offsets = np.concatenate([[0], np.cumsum(nsp)]).astype(np.int64)
    phi = _n_subsequences(st.astype(np.int64), offsets, k)
    dl = nsp.astype(float)
    lg = (m >= 0).sum(axis=1).astype(float)
    sum_d = np.bincount(row, weights=dur, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        if type_ == 1:
            meand = sum_d / dl
            dev = (dur - meand[row]) ** 2
            var = np.bincount(row, weights=dev, minlength=n) / dl
            vmax = (dl - 1) * (1 - meand) ** 2
        elif type_ == 2:
            visited = np.zeros((n, k), dtype=bool)
            visited[row, st] = True
            nnv = (~visited).sum(axis=1).astype(float)
            meand = sum_d / (dl + nnv)
            dev = (dur - meand[row]) ** 2
            var = (np.bincount(row, weights=dev, minlength=n) + nnv * meand**2) / (dl + nnv)
            maxnnv = np.where(dl == 1, k - 1, k - 2) if k >= 2 else np.zeros(n)
            mdm = meand * (dl + nnv) / (dl + maxnnv)
            vmax = ((dl - 1) * (1 - mdm) ** 2 + (lg - dl + 1 - mdm) ** 2
                    + maxnnv * mdm**2) / (dl + maxnnv)
        else:
            raise ConfigurationError(f"turbulence type must be 1 or 2, got {type_}")
    return phi, var, vmax


def turbulence(seq: Any, *, norm: bool = False, type: int = 1,
               with_missing: bool = False) -> np.ndarray:
    """Elzinga's turbulence per sequence, as TraMineR ``seqST``.

    ``T(x) = log2(phi(x) * (s2max + 1) / (s2 + 1))`` with ``phi`` the number of
    distinct subsequences of the DSS, ``s2`` the (population) variance of the
    spell durations and ``s2max`` its maximum (type 1: ``(d-1)(1-mean)^2``; type 2
    also counts non-visited states as zero-length spells, :func:`_turb_parts`).
    ``norm``: ``(T - 1) / (Tmax - 1)`` with ``Tmax`` the turbulence of a sequence
    of the longest length cycling through the alphabet; values with ``T < 1``
    become 0. Empty sequences give NaN.
    """
    s, m, k, _ = state_matrix(seq, with_missing)
    phi, var, vmax = _turb_parts(m, k, type)
    with np.errstate(invalid="ignore", divide="ignore"):
        tx = np.log2(phi * (vmax + 1) / (var + 1))
    tx[(m >= 0).sum(axis=1) == 0] = np.nan
    if norm:
        maxlen = int(s.lengths.max()) if s.n_sequences else 0
        if maxlen == 0:
            return tx
        cyc = (np.arange(maxlen) % k).astype(np.int16)[None, :]
        p2, v2, vm2 = _turb_parts(cyc, k, type)
        tmax = float(np.log2(p2 * (vm2 + 1) / (v2 + 1))[0])
        zero = tx < 1
        with np.errstate(invalid="ignore", divide="ignore"):
            tx = (tx - 1) / (tmax - 1)
        tx[zero] = 0.0
    return tx


def longitudinal_entropy(seq: Any, *, norm: bool = True, with_missing: bool = False
                         ) -> np.ndarray:
    """Within-sequence entropy of the state distribution (``seqient``)."""
    _, m, k, _ = state_matrix(seq, with_missing)
    ist = np.stack([(m == j).sum(axis=1) for j in range(k)], axis=1).astype(float)
    tot = ist.sum(axis=1, keepdims=True)
    p = np.divide(ist, tot, out=np.zeros_like(ist), where=tot > 0)
    e = entropy(p, axis=1)
    return e / np.log(k) if norm and k > 1 else e


def sequence_indicators(seq: Any, group: Any = None, *, with_missing: bool = False
                        ) -> pl.DataFrame:
    """Per-sequence indicators (``seqindic`` subset): id, group, length (valid
    positions), n_spells, n_transitions, n_visited, entropy (normalised),
    turbulence, turbulence_norm."""
    s, m, k, _ = state_matrix(seq, with_missing)
    _, st, _, _, nsp = spell_arrays(m)
    row = np.repeat(np.arange(s.n_sequences), nsp)
    visited = np.zeros((s.n_sequences, k), dtype=bool)
    visited[row, st] = True
    g = np.full(s.n_sequences, None, dtype=object)
    for lab, rows in group_rows(s.n_sequences, group):
        g[rows] = lab
    return pl.DataFrame({
        "id": s.id_labels().tolist(), "group": g.tolist(),
        "length": (m >= 0).sum(axis=1).astype(np.int32),
        "n_spells": nsp.astype(np.int32),
        "n_transitions": np.maximum(nsp - 1, 0).astype(np.int32),
        "n_visited": visited.sum(axis=1).astype(np.int32),
        "entropy": longitudinal_entropy(s, with_missing=with_missing),
        "turbulence": turbulence(s, with_missing=with_missing),
        "turbulence_norm": turbulence(s, norm=True, with_missing=with_missing),
    }, schema_overrides={"group": pl.String, "id": pl.String})


def indicator_summary(ind: pl.DataFrame) -> pl.DataFrame:
    """Means of :func:`sequence_indicators` by group."""
    cols = ["length", "n_spells", "n_transitions", "n_visited", "entropy", "turbulence",
            "turbulence_norm"]
    return (ind.group_by("group").agg(n=pl.len(), **{c: pl.col(c).mean() for c in cols})
            .sort("group"))
