"""CHI2 and EUCLID distances between state sequences, as TraMineR's ``CHI2.R``.

The sequences are cut into intervals (``breaks``, or every ``step`` positions,
optionally overlapping); each sequence becomes the vector of its state
proportions in every interval, and the distance is the (chi-squared weighted)
Euclidean distance between those vectors. :func:`chi2_margins` fixes the
column weights on reference data (the ``pdot`` margins, TraMineR's scaling and
``global.pdotj``), :func:`chi2_features` turns any sequences into vectors whose
plain Euclidean distance is the CHI2/EUCLID distance, so
:func:`~ozamonitor.sequences.distances.seqdist` and CLARA use scipy's
``pdist``/``cdist`` on them.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ozamonitor.errors import ConfigurationError
from ozamonitor.sequences.seqdata import SequenceData

__all__ = ["chi2_breaks", "chi2_counts", "chi2_features", "chi2_margins"]


def chi2_breaks(
    width: int, breaks: list[tuple[int, int]] | None, step: int, overlap: bool
) -> tuple[tuple[int, int], ...]:
    """Intervals (1-based, inclusive) as TraMineR's ``CHI2()`` builds them."""
    if breaks is not None:
        out = []
        for b in breaks:
            if len(b) != 2:
                raise ConfigurationError("breaks must be (start, end) pairs")
            s, e = int(b[0]), int(b[1])
            if not 1 <= s <= e <= width:
                raise ConfigurationError(f"break {b} outside positions 1..{width}")
            out.append((s, e))
        if not out:
            raise ConfigurationError("breaks is empty")
        return tuple(out)
    if overlap and step % 2 != 0:
        raise ConfigurationError("'step' must be even when overlap=True")
    if step == 1:
        return tuple((i, i) for i in range(1, width + 1))
    if step == width:
        return ((1, width),)
    if step > width:
        # TraMineR: seq(1, ncol, by = step) is just 1, so one interval 1..ncol
        warnings.warn(
            f"'step' ({step}) is larger than the sequence length ({width}); using one interval",
            stacklevel=3,
        )
        return ((1, width),)
    bb = list(range(1, width + 1, step))
    if bb[-1] != 1 + width - step:
        warnings.warn(f"With step={step} last episode is shorter than the others", stacklevel=3)
    bb.append(width + 1)
    out = []
    half = step // 2
    if overlap:
        out.append((1, 1 + half))
    for i in range(1, len(bb)):
        out.append((bb[i - 1], bb[i] - 1))
        if overlap:
            s, e = out[-1]
            out.append((min(s + half, width), min(e + half, width)))
    return tuple(out)


def chi2_counts(
    seqs: SequenceData, breaks: tuple[tuple[int, int], ...], with_missing: bool
) -> np.ndarray:
    """Per-interval state counts ``(N, n_breaks, S)`` (missing counted when ``with_missing``)."""
    k = seqs.n_states + (1 if with_missing else 0)
    codes = seqs.codes.astype(np.int64)
    n = codes.shape[0]
    onehot = np.zeros((n, codes.shape[1], k))
    valid = (codes >= 0) & (codes < k)
    r, c = np.nonzero(valid)
    onehot[r, c, codes[r, c]] = 1.0
    csum = np.concatenate([np.zeros((n, 1, k)), np.cumsum(onehot, axis=1)], axis=1)
    blocks = [csum[:, e, :] - csum[:, s - 1, :] for s, e in breaks]
    return np.stack(blocks, axis=1)  # (N, B, k) counts


def chi2_margins(
    seqs: SequenceData,
    breaks: tuple[tuple[int, int], ...],
    *,
    with_missing: bool,
    norm: bool,
    weighted: bool,
    euclid: bool,
    global_pdotj: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Column weights ``pdot`` (already scaled as TraMineR) and the kept columns.

    Parameters
    ----------
    seqs : SequenceData
        The reference data.
    breaks : tuple of (int, int)
        The intervals (:func:`chi2_breaks`).
    with_missing : bool
        The missing state counts as a state.
    norm : bool
        TraMineR's ``norm=TRUE`` scaling.
    weighted : bool
        Use the case weights (CHI2).
    euclid : bool
        EUCLID (unit column weights) instead of CHI2.
    global_pdotj : ndarray or "obs", optional
        CHI2: global state proportions instead of each interval's.

    Returns
    -------
    pdot : ndarray
        The weights of the kept columns.
    keep : ndarray
        Boolean mask of the kept (non-empty) columns.
    """
    counts = chi2_counts(seqs, breaks, with_missing)
    k = counts.shape[2]
    w = seqs.case_weights(weighted)
    gp = None
    if global_pdotj is not None and not euclid:
        if isinstance(global_pdotj, str):
            if global_pdotj != "obs":
                raise ConfigurationError("global_pdotj must be 'obs' or a vector of proportions")
            tot = chi2_counts(seqs, ((1, seqs.max_length),), with_missing)[:, 0, :]
            tot = tot / np.maximum(tot.sum(axis=1, keepdims=True), 1e-300)
            gp = (w[:, None] * tot).sum(axis=0) / w.sum()
        else:
            gp = np.asarray(global_pdotj, dtype=np.float64)
            if gp.shape != (k,) or np.any(gp < 0) or gp.sum() == 0:
                raise ConfigurationError("global_pdotj must be non-negative, one value per state")
        gp = gp / gp.sum()
    pdots = []
    for b in range(counts.shape[1]):
        ndot = (w[:, None] * counts[:, b, :]).sum(axis=0)
        tot = ndot.sum()
        pdot = ndot / tot if tot > 0 else ndot.copy()
        if euclid:
            pdot = np.where(ndot == 0, 0.0, 2.0 if norm else 1.0)
        else:
            if gp is not None:
                pdot = np.where(ndot == 0, 0.0, gp)
            nz = pdot[ndot != 0]
            if len(nz) > 1:
                srt = np.sort(nz)
                maxd = (1.0 / srt[0] + 1.0 / srt[1]) if norm else 1.0
                pdot = pdot * maxd
        pdots.append(pdot)
    allp = np.concatenate(pdots)
    keep = allp > 0
    return allp[keep], keep


def chi2_features(
    seqs: SequenceData,
    breaks: tuple[tuple[int, int], ...],
    pdot: np.ndarray,
    keep: np.ndarray,
    *,
    with_missing: bool,
    norm: bool,
) -> np.ndarray:
    """Rows scaled so that their Euclidean distance is TraMineR's CHI2/EUCLID distance.

    Parameters
    ----------
    seqs : SequenceData
    breaks, pdot, keep
        The intervals and the column weights and kept columns of
        :func:`chi2_margins` (computed on the reference data).
    with_missing : bool
        The missing state counts as a state.
    norm : bool
        TraMineR's ``norm=TRUE``: divide by the square root of the number of intervals.
    """
    counts = chi2_counts(seqs, breaks, with_missing)
    rs = counts.sum(axis=2, keepdims=True)
    props = np.where(rs > 0, counts / np.where(rs > 0, rs, 1.0), 0.0)
    x = props.reshape(props.shape[0], -1)[:, keep]
    x = x / np.sqrt(pdot)
    if norm:
        x = x / np.sqrt(len(breaks))
    return x
