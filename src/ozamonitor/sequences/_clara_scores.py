"""The scoring pass of :func:`ozamonitor.sequences.clara.clara` (private).

Assigning every case to its nearest medoid and adding up
``seqclararange``'s criteria (mean distance to the medoid, Davies-Bouldin,
XB, PBM, average medoid silhouette) for several medoid sets at once, in
chunks, with a numba kernel, as scikit-learn keeps ``_k_means_lloyd`` beside
``_kmeans.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np

from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.sequences.seqdata import SequenceData

DistFn = Callable[[Any, Any], np.ndarray]
#: Criteria where larger is better.
MAXIMISE = {"pbm", "ams"}


class Data:
    """Uniform access to the sequence container or a 2-D code array."""

    def __init__(self, seqs: SequenceData | np.ndarray) -> None:
        self.obj = seqs
        self.is_array = not isinstance(seqs, SequenceData)
        codes = seqs if self.is_array else seqs.codes
        self.codes = np.ascontiguousarray(np.asarray(codes))
        if self.codes.ndim != 2:
            raise InputError(f"sequences must be 2-D (cases x positions), got {self.codes.shape}")
        self.n = self.codes.shape[0]

    def take(self, idx: np.ndarray) -> Any:
        """Rows ``idx`` (of the array or the container)."""
        idx = np.asarray(idx, dtype=np.int64)
        if self.is_array:
            return self.codes[idx]
        return self.obj[idx]

    def aggregate(self) -> tuple[np.ndarray, np.ndarray]:
        """First row of each distinct sequence and the distinct id of every row."""
        rows = self.codes
        if not self.is_array:
            lens = np.asarray(self.obj.lengths).astype(rows.dtype)[:, None]
            rows = np.ascontiguousarray(np.hstack([rows, lens]))
        view = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
        _, first, inverse = np.unique(view, return_index=True, return_inverse=True)
        # keep the distinct sequences in order of first appearance
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.shape[0])
        return first[order], rank[inverse.ravel()]


@dataclass
class Scores:
    """The criteria of one partition scored by :func:`score_partitions`."""

    labels: np.ndarray
    avg_dist: float
    pbm: float
    db: float
    xb: float
    ams: float
    sizes: np.ndarray

    def value(self, criterion: str) -> float:
        """The value of ``criterion`` (``"distance"``, ``"db"``, ``"xb"``, ``"pbm"``, ``"ams"``)."""
        return {
            "distance": self.avg_dist,
            "db": self.db,
            "xb": self.xb,
            "pbm": self.pbm,
            "ams": self.ams,
        }[criterion]


@nb.njit(cache=True)
def score_chunk(
    dc: np.ndarray,
    w: np.ndarray,
    cols: np.ndarray,
    offs: np.ndarray,
    labels: np.ndarray,
    start: int,
    d1sum: np.ndarray,
    silsum: np.ndarray,
    diam: np.ndarray,
    size: np.ndarray,
) -> None:  # pragma: no cover - numba
    """Nearest and second-nearest medoid of every row for every medoid set; adds the
    weighted sums of the criteria (``seqclararange``'s crisp branch)."""
    m = dc.shape[0]
    for s in range(offs.shape[0] - 1):
        a, b = offs[s], offs[s + 1]
        for r in range(m):
            best = 0
            d1 = np.inf
            d2 = np.inf
            for c in range(a, b):
                v = dc[r, cols[c]]
                if v < d1:
                    d2 = d1
                    d1 = v
                    best = c - a
                elif v < d2:
                    d2 = v
            wr = w[r]
            labels[s, start + r] = best
            d1sum[s] += wr * d1
            hi = d2 if d2 > d1 else d1
            if hi > 0:
                silsum[s] += wr * (d2 - d1) / hi
            diam[s, best] += wr * d1
            size[s, best] += wr


def score_partitions(
    data: Data,
    units: np.ndarray,
    unit_w: np.ndarray,
    medoid_sets: dict[int, np.ndarray],
    dist: DistFn,
    chunk_size: int,
    tick: Callable[[int], None] | None = None,
) -> dict[int, Scores]:
    """Assign ``units`` to each medoid set in chunks and compute the criteria."""
    keys = list(medoid_sets)
    cand, inv = np.unique(np.concatenate([medoid_sets[k] for k in keys]), return_inverse=True)
    cols = inv.astype(np.int64)
    offs = np.concatenate([[0], np.cumsum([medoid_sets[k].shape[0] for k in keys])])
    cand_obj = data.take(cand)
    n_u = units.shape[0]
    nk, kmax = len(keys), max(medoid_sets[k].shape[0] for k in keys)
    labels = np.empty((nk, n_u), dtype=np.int16 if kmax < 32000 else np.int32)
    d1sum = np.zeros(nk)
    silsum = np.zeros(nk)
    diam_a = np.zeros((nk, kmax))
    size_a = np.zeros((nk, kmax))
    w_all = np.ascontiguousarray(unit_w, dtype=np.float64)
    for start in range(0, n_u, chunk_size):
        idx = units[start : start + chunk_size]
        dc = np.ascontiguousarray(dist(data.take(idx), cand_obj), dtype=np.float64)
        if dc.shape != (idx.shape[0], cand.shape[0]):
            raise ConfigurationError(
                f"dist returned shape {dc.shape}, expected {(idx.shape[0], cand.shape[0])}"
            )
        score_chunk(
            dc,
            w_all[start : start + idx.shape[0]],
            cols,
            offs,
            labels,
            start,
            d1sum,
            silsum,
            diam_a,
            size_a,
        )
        if tick is not None:
            tick(idx.shape[0])
    pos = {k: i for i, k in enumerate(keys)}
    diam = {k: diam_a[pos[k], :k] for k in keys}
    size = {k: size_a[pos[k], :k] for k in keys}
    total = float(unit_w.sum())
    out = {}
    for k, meds in medoid_sets.items():
        mm = np.asarray(dist(data.take(meds), data.take(meds)), dtype=np.float64)
        mean_d = d1sum[pos[k]] / total
        off = mm[~np.eye(k, dtype=bool)]
        with np.errstate(divide="ignore", invalid="ignore"):
            # Davies-Bouldin: diameters = weighted mean distance to the medoid;
            # per cluster the largest (diam_i + diam_j) / d(m_i, m_j) over finite ratios
            dm = np.where(size[k] > 0, diam[k] / size[k], 0.0)
            ratio = (dm[:, None] + dm[None, :]) / mm
            ratio[~np.isfinite(ratio)] = -np.inf
            per = ratio.max(axis=1)
            db = float(np.mean(per[np.isfinite(per)])) if np.any(np.isfinite(per)) else np.nan
            pbm = float(((1.0 / k) * (mm.max() / mean_d)) ** 2) if mean_d > 0 else np.inf
            xb = float(mean_d / off.min()) if off.min() > 0 else np.inf
        out[k] = Scores(
            labels=labels[pos[k]],
            avg_dist=mean_d,
            pbm=pbm,
            db=db,
            xb=xb,
            ams=silsum[pos[k]] / total,
            sizes=size[k],
        )
    return out


def better(new: float, old: float, criterion: str) -> bool:
    """Whether ``new`` beats ``old`` on ``criterion`` (a NaN never wins)."""
    if np.isnan(old):
        return not np.isnan(new)
    return new > old if criterion in MAXIMISE else new < old
