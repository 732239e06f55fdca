"""Descriptive statistics of state sequences, with TraMineR's definitions.

All functions take a :class:`~ozamonitor.sequences.seqdata.SequenceData` (or
anything :func:`~ozamonitor.sequences.define.seqdef` reads) and an optional
``group`` (one label per sequence); with case weights (given, or the
container's) counts are sums of weights, as TraMineR's ``weighted=TRUE``. They
return tidy polars frames with a ``group`` column (``"all"`` without groups).
Missing positions are ignored unless ``with_missing=True`` (then they count
as an extra state ``missing``), void positions always are, as TraMineR does.

=========================  ==============================  ==========================
function                   TraMineR                        what
=========================  ==============================  ==========================
:func:`state_distribution` ``seqstatd()$Frequencies``      state shares per position
:func:`transversal_entropy` ``seqstatd()$Entropy``         Shannon entropy / log(K)
:func:`mean_time`          ``seqmeant(serr=TRUE)``         mean periods in each state
:func:`sequence_frequencies` ``seqtab()``                  most frequent sequences
:func:`transition_rates`   ``seqtrate()``                  P(state at t+1 | state at t)
:func:`spells`             ``seqdss()`` / ``seqdur()``     spells (state, start, length)
:func:`spell_durations`    mean of ``seqdur()`` by state   mean/median spell length
=========================  ==============================  ==========================

Turbulence and the other per-sequence indicators are in
:mod:`~ozamonitor.sequences.indicators`. Everything is vectorised over
sequences, so the statistics run on millions of sequences.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from ozamonitor.errors import InputError
from ozamonitor.sequences.alphabet import MISSING_LABEL
from ozamonitor.sequences.define import as_seqdata
from ozamonitor.sequences.seqdata import SequenceData

__all__ = [
    "ALL",
    "entropy",
    "group_rows",
    "mean_time",
    "sequence_frequencies",
    "spell_arrays",
    "spell_durations",
    "spells",
    "state_distribution",
    "state_matrix",
    "top_sequences",
    "transition_counts",
    "transition_rates",
    "transversal_entropy",
]

#: The group label of statistics over all sequences.
ALL = "all"


# ---------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------

def _weights(s: SequenceData, weights: Any) -> np.ndarray | None:
    """Case weights: ``weights`` if given, else the container's (as TraMineR's
    ``weighted=TRUE``), else None (unweighted)."""
    w = s.weights if weights is None else weights
    if w is None:
        return None
    w = np.asarray(w.to_numpy() if hasattr(w, "to_numpy") else w, dtype=float)
    if w.shape != (s.n_sequences,):
        raise InputError(f"weights has shape {w.shape} for {s.n_sequences} sequences")
    if not np.all(np.isfinite(w)) or (w < 0).any():
        raise InputError("weights must be finite and non-negative")
    return w


def state_matrix(seq: Any, with_missing: bool = False, weights: Any = None
                 ) -> tuple[SequenceData, np.ndarray, int, np.ndarray | None]:
    """The sequences prepared for counting.

    Parameters
    ----------
    seq : SequenceData or anything :func:`~ozamonitor.sequences.define.seqdef` reads
    with_missing : bool, default False
        Count the missing state as an extra state ``missing``.
    weights : array-like, optional
        Case weights; default: the container's.

    Returns
    -------
    seq : SequenceData
        The container (with the ``missing`` state in its alphabet when
        ``with_missing``).
    matrix : ndarray
        ``(N, L)`` int16: the counted states ``0..K-1``, ``-1`` elsewhere.
    k : int
        The number of counted states ``K``.
    weights : ndarray or None
        The case weights (None: unweighted).
    """
    s = as_seqdata(seq)
    w = _weights(s, weights)
    k = len(s.alphabet)
    if with_missing:
        return s.with_missing_state(), np.where(s.codes >= 0, s.codes, -1).astype(np.int16), \
            k + 1, w
    return s, np.where(s.valid, s.codes, -1).astype(np.int16), k, w


def _wsum(w: np.ndarray | None, rows: np.ndarray) -> float | int:
    """Number of sequences in ``rows`` (the sum of their weights when weighted)."""
    return len(rows) if w is None else float(w[rows].sum())


def group_rows(n: int, group: Any) -> list[tuple[str, np.ndarray]]:
    """``(label, rows)`` of each group, labels sorted; one group :data:`ALL` without ``group``.

    Sequences whose group is None belong to no group.
    """
    if group is None:
        return [(ALL, np.arange(n))]
    g = group.to_numpy() if hasattr(group, "to_numpy") else np.asarray(group)
    if len(g) != n:
        raise InputError(f"group has {len(g)} values for {n} sequences")
    g = np.asarray([None if v is None else str(v) for v in g.tolist()], dtype=object)
    labels = sorted({v for v in g.tolist() if v is not None})
    return [(lab, np.nonzero(g == lab)[0]) for lab in labels]


def _state_names(seq: SequenceData, k: int) -> list[str]:
    names = list(seq.alphabet.codes)
    return names + ["missing"] * (k - len(names))


# ---------------------------------------------------------------------------
# Cross-sectional
# ---------------------------------------------------------------------------

def _counts(m: np.ndarray, k: int, w: np.ndarray | None = None) -> np.ndarray:
    """``k x T`` (weighted) counts of each state per position (invalid = -1 ignored)."""
    T = m.shape[1]
    flat = m.astype(np.int64) * T + np.arange(T)[None, :]
    ok = m >= 0
    wt = None if w is None else np.broadcast_to(w[:, None], m.shape)[ok]
    return np.bincount(flat[ok], weights=wt, minlength=k * T).reshape(k, T)


def state_distribution(seq: Any, group: Any = None, *, with_missing: bool = False,
                       weights: Any = None) -> pl.DataFrame:
    """State shares per position (``seqstatd()$Frequencies``; chronogram data).

    Columns: group, position, period, state, n, share, n_valid (``ValidStates``).
    With case ``weights`` (or a weighted container) ``n`` and ``n_valid`` are
    sums of weights, as in TraMineR.
    """
    s, m, k, w = state_matrix(seq, with_missing, weights)
    names = _state_names(s, k)
    frames = []
    T = m.shape[1]
    for lab, rows in group_rows(s.n_sequences, group):
        counts = _counts(m[rows], k, None if w is None else w[rows])
        nvalid = counts.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(nvalid > 0, counts / np.maximum(nvalid, 1), np.nan)
        frames.append(pl.DataFrame({
            "group": [lab] * (k * T),
            "position": np.tile(np.arange(T), k).astype(np.int32),
            "period": np.tile(np.asarray(s.column_labels(), dtype=object), k).tolist(),
            "state": np.repeat(np.asarray(names, dtype=object), T).tolist(),
            "n": counts.reshape(-1),
            "share": share.reshape(-1),
            "n_valid": np.tile(nvalid, k),
        }))
    return pl.concat(frames).sort("group", "position")


def entropy(p: np.ndarray, axis: int = 0) -> np.ndarray:
    """Shannon entropy (natural logarithm) of distributions ``p`` along ``axis``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return t.sum(axis=axis)


def transversal_entropy(seq: Any, group: Any = None, *, with_missing: bool = False,
                        norm: bool = True, weights: Any = None) -> pl.DataFrame:
    """Cross-sectional Shannon entropy per position (``seqstatd()$Entropy``).

    Natural logarithm; with ``norm`` divided by ``log(K)``, ``K`` the alphabet
    size (+1 with missing), so 0 = everyone in one state, 1 = uniform; from the
    weighted shares when weighted. Columns: group, position, period, entropy, n_valid.
    """
    s, m, k, w = state_matrix(seq, with_missing, weights)
    emax = np.log(k) if norm and k > 1 else 1.0
    frames = []
    for lab, rows in group_rows(s.n_sequences, group):
        counts = _counts(m[rows], k, None if w is None else w[rows])
        nvalid = counts.sum(axis=0)
        p = counts / np.maximum(nvalid, 1)
        ent = np.where(nvalid > 0, entropy(p, axis=0) / emax, np.nan)
        frames.append(pl.DataFrame({
            "group": [lab] * m.shape[1], "position": np.arange(m.shape[1], dtype=np.int32),
            "period": list(s.column_labels()), "entropy": ent, "n_valid": nvalid,
        }))
    return pl.concat(frames)


def mean_time(seq: Any, group: Any = None, *, with_missing: bool = False,
              prop: bool = False, weights: Any = None) -> pl.DataFrame:
    """Mean number of periods spent in each state (``seqmeant(serr=TRUE)``).

    The mean is over all sequences of the group (also those with missing or
    void positions); with ``prop`` each sequence's time is a proportion of its
    valid length. Weighted as TraMineR: with ``W`` the sum of the weights,
    ``var = sum w (x - mean)^2 * W / (W^2 - sum w^2)`` and ``se = sqrt(var / W)``
    (the unbiased variance when all weights are 1). Columns: group, state,
    mean, var, sd, se, n (``W`` when weighted).
    """
    s, m, k, w = state_matrix(seq, with_missing, weights)
    names = _state_names(s, k)
    frames = []
    for lab, rows in group_rows(s.n_sequences, group):
        sub = m[rows]
        ist = np.stack([(sub == j).sum(axis=1) for j in range(k)], axis=1).astype(float)
        if prop:
            tot = ist.sum(axis=1, keepdims=True)
            ist = np.divide(ist, tot, out=np.zeros_like(ist), where=tot > 0)
        wr = np.ones(len(rows)) if w is None else w[rows]
        wtot, w2tot = float(wr.sum()), float((wr**2).sum())
        mean = wr @ ist / wtot if wtot > 0 else np.full(k, np.nan)
        den = wtot**2 - w2tot
        var = (wr @ (ist - mean) ** 2) * wtot / den if den > 0 else np.full(k, np.nan)
        frames.append(pl.DataFrame({
            "group": [lab] * k, "state": names, "mean": mean, "var": var,
            "sd": np.sqrt(var), "se": np.sqrt(var / max(wtot, 1e-300)),
            "n": [_wsum(w, rows)] * k,
        }))
    return pl.concat(frames)


# ---------------------------------------------------------------------------
# Sequence frequencies
# ---------------------------------------------------------------------------

def _sps(row: np.ndarray, names: Sequence[str]) -> str:
    """Compact state-permanence string: ``regular/12-oza/6`` (runs of valid states;
    missing, the code past ``names``, written ``*``)."""
    out: list[str] = []
    prev, run = None, 0
    for v in row.tolist():
        if v < 0:  # void: the sequence has ended
            break
        lab = MISSING_LABEL if v >= len(names) else names[v]
        if lab == prev:
            run += 1
        else:
            if prev is not None:
                out.append(f"{prev}/{run}")
            prev, run = lab, 1
    if prev is not None:
        out.append(f"{prev}/{run}")
    return "-".join(out)


def top_sequences(seq: Any, top: int = 10, rows: np.ndarray | None = None,
                  weights: Any = None) -> tuple[np.ndarray, np.ndarray, float | int]:
    """The ``top`` most frequent distinct sequences: (codes, counts, n).

    With case weights (given, or a weighted container's) counts and ``n`` are
    sums of weights. Ties are ordered by first occurrence (deterministic).
    """
    s = as_seqdata(seq)
    w = _weights(s, weights)
    c = s.codes if rows is None else s.codes[rows]
    if w is not None and rows is not None:
        w = w[rows]
    n = c.shape[0]
    if n == 0:
        return np.zeros((0, s.max_length), dtype=np.int16), np.zeros(0, dtype=np.int64), 0
    view = np.ascontiguousarray(c).view(np.dtype((np.void, c.itemsize * c.shape[1]))).ravel()
    _, first, inv, counts = np.unique(view, return_index=True, return_inverse=True,
                                      return_counts=True)
    if w is not None:
        counts = np.bincount(inv.ravel(), weights=w, minlength=len(first))
        n = float(w.sum())
    order = np.lexsort((first, -counts))[:top]
    return c[first[order]], counts[order], n


def sequence_frequencies(seq: Any, top: int = 10, group: Any = None, *,
                         weights: Any = None) -> pl.DataFrame:
    """Most frequent sequences (``seqtab()``), as state-permanence strings.

    Columns: group, rank, sequence, n, pct, cum_pct (percent of the group's
    sequences; weighted frequencies when weighted, as TraMineR).
    """
    s = as_seqdata(seq)
    w = _weights(s, weights)
    frames = []
    for lab, rows in group_rows(s.n_sequences, group):
        codes, counts, n = top_sequences(s, top, rows, weights=w)
        pct = 100.0 * counts / max(n, 1)
        frames.append(pl.DataFrame({
            "group": [lab] * len(counts),
            "rank": np.arange(1, len(counts) + 1, dtype=np.int32),
            "sequence": [_sps(r, s.alphabet.codes) for r in codes],
            "n": counts if w is not None else counts.astype(np.int64), "pct": pct,
            "cum_pct": np.cumsum(pct),
        }, schema={"group": pl.String, "rank": pl.Int32, "sequence": pl.String,
                   "n": pl.Int64 if w is None else pl.Float64, "pct": pl.Float64,
                   "cum_pct": pl.Float64}))
    return pl.concat(frames)


# ---------------------------------------------------------------------------
# Transitions
# ---------------------------------------------------------------------------

def transition_counts(seq: Any, *, with_missing: bool = False, weights: Any = None
                      ) -> np.ndarray:
    """``K x K`` (weighted) counts of state pairs at consecutive positions (both valid)."""
    _, m, k, w = state_matrix(seq, with_missing, weights)
    return _pair_counts(m[:, :-1], m[:, 1:], k, w)


def _pair_counts(a: np.ndarray, b: np.ndarray, k: int, w: np.ndarray | None) -> np.ndarray:
    """``K x K`` counts of (a, b) state pairs, rows weighted by ``w``."""
    ok = (a >= 0) & (b >= 0)
    wt = None if w is None else np.broadcast_to(w[:, None], a.shape)[ok]
    return np.bincount(a[ok].astype(np.int64) * k + b[ok], weights=wt,
                       minlength=k * k).reshape(k, k)


def transition_rates(seq: Any, group: Any = None, *, with_missing: bool = False,
                     time_varying: bool = False, weights: Any = None) -> pl.DataFrame:
    """Transition rates ``P(s_{t+1}=j | s_t=i)`` (``seqtrate()``).

    Pooled over positions (default) or per position (``time_varying``).
    Rows whose origin state never occurs with a valid successor have rate 0, as
    in TraMineR; with case weights the transitions are weighted
    (``seqtrate(weighted=TRUE)``). Columns: group, [position,] from, to,
    n_from, n, rate.
    """
    s, m, k, w = state_matrix(seq, with_missing, weights)
    names = _state_names(s, k)
    frames = []
    for lab, rows in group_rows(s.n_sequences, group):
        sub = m[rows]
        wr = None if w is None else w[rows]
        positions = range(sub.shape[1] - 1) if time_varying else [None]
        for t in positions:
            a = sub[:, :-1] if t is None else sub[:, t:t + 1]
            b = sub[:, 1:] if t is None else sub[:, t + 1:t + 2]
            cnt = _pair_counts(a, b, k, wr)
            nfrom = cnt.sum(axis=1)
            rate = np.divide(cnt, nfrom[:, None], out=np.zeros((k, k)),
                             where=nfrom[:, None] > 0)
            d: dict[str, Any] = {"group": [lab] * (k * k)}
            if time_varying:
                d["position"] = [t] * (k * k)
            d.update({"from": np.repeat(names, k).tolist(), "to": names * k,
                      "n_from": np.repeat(nfrom, k), "n": cnt.reshape(-1),
                      "rate": rate.reshape(-1)})
            frames.append(pl.DataFrame(d))
    return pl.concat(frames)


# ---------------------------------------------------------------------------
# Spells
# ---------------------------------------------------------------------------

def spell_arrays(m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                          np.ndarray]:
    """Spells of every sequence after dropping invalid positions (``seqdss``).

    Returns (row, state, start position, duration, n_spells per row); spells are
    in row order, then time order.
    """
    r, c = np.nonzero(m >= 0)
    v = m[r, c]
    new = np.ones(len(r), dtype=bool)
    if len(r) > 1:
        new[1:] = (r[1:] != r[:-1]) | (v[1:] != v[:-1])
    sid = np.cumsum(new) - 1
    dur = np.bincount(sid, minlength=int(new.sum()))
    nsp = np.bincount(r[new], minlength=m.shape[0])
    return r[new], v[new].astype(np.int64), c[new], dur.astype(np.int64), nsp


def spells(seq: Any, *, with_missing: bool = False) -> pl.DataFrame:
    """One row per spell: id, spell (1..), state, start (position, 0-based),
    start_period, duration (``seqdss`` + ``seqdur``; missing positions are
    dropped first, so a spell may span a gap)."""
    s, m, k, _ = state_matrix(seq, with_missing)
    names = np.asarray(_state_names(s, k), dtype=object)
    row, st, start, dur, nsp = spell_arrays(m)
    first = np.concatenate([[0], np.cumsum(nsp)[:-1]])
    spell_no = np.arange(len(row)) - first[row] + 1
    return pl.DataFrame({
        "id": s.id_labels()[row].tolist(), "spell": spell_no.astype(np.int32),
        "state": names[st].tolist(), "start": start.astype(np.int32),
        "start_period": np.asarray(s.column_labels(), dtype=object)[start].tolist(),
        "duration": dur,
    }, schema={"id": pl.String, "spell": pl.Int32, "state": pl.String, "start": pl.Int32,
               "start_period": pl.String, "duration": pl.Int64})


def spell_durations(seq: Any, group: Any = None, *, with_missing: bool = False,
                    exclude_censored: bool = False, weights: Any = None) -> pl.DataFrame:
    """Spell lengths by state: group, state, n_spells, mean, median, min, max.

    With ``exclude_censored`` the first and last spell of each sequence (which
    may be cut by the observation window) are left out. With case weights each
    spell weighs as its sequence (weight 0: left out): ``n_spells`` is a sum of
    weights, ``mean`` the weighted mean and ``median`` the weighted median
    (the midpoint of the first durations whose cumulative weight reaches and
    passes half the total, so integer weights give the median of the
    replicated spells).
    """
    s, m, k, w = state_matrix(seq, with_missing, weights)
    names = np.asarray(_state_names(s, k), dtype=object)
    row, st, _, dur, nsp = spell_arrays(m)
    keep = np.ones(len(row), dtype=bool)
    if exclude_censored and len(row):
        first = np.concatenate([[0], np.cumsum(nsp)[:-1]])
        last = np.cumsum(nsp) - 1
        has = nsp > 0
        keep[first[has]] = False
        keep[last[has]] = False
    gid = np.full(s.n_sequences, -1, dtype=np.int64)
    groups = group_rows(s.n_sequences, group)
    for i, (_, rows) in enumerate(groups):
        gid[rows] = i
    df = pl.DataFrame({"g": gid[row][keep], "state": names[st][keep].tolist(),
                       "duration": dur[keep],
                       "w": np.ones(keep.sum()) if w is None else w[row][keep]},
                      schema={"g": pl.Int64, "state": pl.String, "duration": pl.Int64,
                              "w": pl.Float64})
    if w is None:
        stats = [pl.len().alias("n_spells"), pl.col("duration").mean().alias("mean"),
                 pl.col("duration").median().alias("median")]
    else:
        d, wt = pl.col("duration"), pl.col("w")
        half = wt.sum() / 2
        cw = wt.sort_by(d).cum_sum()
        tol = 1e-9 * wt.sum()
        lo = d.sort().filter(cw >= half - tol).first()
        hi = d.sort().filter(cw > half + tol).first()
        stats = [wt.sum().alias("n_spells"), ((d * wt).sum() / wt.sum()).alias("mean"),
                 ((lo + hi.fill_null(lo)) / 2).alias("median")]
    out = (
        df.filter((pl.col("g") >= 0) & (pl.col("w") > 0)).group_by("g", "state")
        .agg(*stats, min=pl.col("duration").min(), max=pl.col("duration").max())
        .with_columns(group=pl.col("g").replace_strict(
            list(range(len(groups))), [g for g, _ in groups], return_dtype=pl.String))
    )
    order = {c: i for i, c in enumerate(names.tolist())}
    return (out.with_columns(_o=pl.col("state").replace_strict(order, return_dtype=pl.Int64))
            .sort("g", "_o").select("group", "state", "n_spells", "mean", "median", "min",
                                    "max"))
