"""Descriptive statistics of state sequences, with TraMineR's definitions.

All functions take a :class:`ozamonitor.trajectories.seqdata.SequenceData`
(or the sequence container of :mod:`ozamonitor.sequences.seqdata`, converted
with :func:`as_trajectory_data`) and an optional ``group`` (one label per
sequence); they return tidy polars frames with a ``group`` column (``"all"``
without groups). Missing positions are ignored unless ``with_missing=True``
(then they count as an extra state ``missing``), void positions always are, as
TraMineR does.

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
:func:`turbulence`         ``seqST(norm=, type=)``         Elzinga's turbulence
:func:`sequence_indicators` ``seqindic()`` (subset)        per-sequence indicators
=========================  ==============================  ==========================

Everything is vectorised over sequences (numpy, numba for the number of
distinct subsequences), so the statistics run on millions of sequences.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numba as nb
import numpy as np
import polars as pl

from ozamonitor.trajectories.seqdata import SequenceData
from ozamonitor.trajectories.states import MISSING, VOID, Alphabet, alphabet_from_codes

ALL = "all"


# ---------------------------------------------------------------------------
# Input conversion
# ---------------------------------------------------------------------------

def as_trajectory_data(obj: Any, alphabet: Alphabet | None = None) -> SequenceData:
    """Accept our :class:`SequenceData`, the ``sequences.seqdata`` container, or a
    polars/pandas frame in the tabular form (id column first).

    ``alphabet``: the :class:`~ozamonitor.trajectories.states.Alphabet` (labels,
    colours) of a ``sequences.seqdata`` container, whose alphabet holds only the
    state codes; it must have the same codes in the same order. Without it,
    known codes get the default labels and colours.

    Raises:
        ValueError: the container has unequal case weights (our container holds
            none, so they would be lost silently; the statistics of this module
            take a container's weights themselves), or ``alphabet`` does not
            match its codes.
    """
    w = None if isinstance(obj, SequenceData) else getattr(obj, "weights", None)
    if w is not None and np.asarray(w).size and np.ptp(np.asarray(w, dtype=float)) > 0:
        raise ValueError(
            "the sequences carry unequal case weights, which would be lost here; use the "
            "statistics of ozamonitor.sequences.describe (they take the weights) or drop "
            "the weights (weights=None)")
    return _convert(obj, alphabet)


def _convert(obj: Any, alphabet: Alphabet | None = None) -> SequenceData:
    """:func:`as_trajectory_data` without the check on case weights."""
    if isinstance(obj, SequenceData):
        return obj
    if hasattr(obj, "lengths") and hasattr(obj, "alphabet") and hasattr(obj, "codes"):
        labels = tuple(str(a) for a in obj.alphabet)
        if alphabet is not None and tuple(alphabet.codes) != labels:
            raise ValueError(f"alphabet {alphabet.codes} does not match the sequences' "
                             f"states {list(labels)}")
        codes = np.asarray(obj.codes).astype(np.int64)
        out = np.where(codes < 0, VOID, np.where(codes >= len(labels), MISSING, codes))
        n = out.shape[0]
        ids = np.asarray(obj.ids, dtype=object) if obj.ids is not None else np.arange(
            n).astype(str).astype(object)
        cols = list(obj.columns) if obj.columns is not None else [
            str(i + 1) for i in range(out.shape[1])]
        return SequenceData(out.astype(np.uint8), ids, cols,
                            alphabet if alphabet is not None else alphabet_from_codes(labels))
    if isinstance(obj, pl.DataFrame) or hasattr(obj, "to_numpy"):
        df = obj if isinstance(obj, pl.DataFrame) else pl.from_pandas(obj)
        return SequenceData.from_polars(df, alphabet, id_column=df.columns[0])
    raise TypeError(f"cannot read sequences from {type(obj).__name__}")


def to_seqdef(seq: SequenceData, weights: Any = None) -> Any:
    """Our sequences as :class:`ozamonitor.sequences.seqdata.SequenceData`
    (int16 codes, ``k`` = missing, ``-1`` = void) for distances and clustering.

    Void positions anywhere in a row (leading, internal or trailing) are deleted
    and the rest of the row is shifted left, as TraMineR's ``seqdef`` with
    ``left="DEL", gaps="DEL", right="DEL"`` would: void then only follows the
    sequence's last position and ``lengths`` counts the non-void positions.
    Missing positions stay the missing state ``k``.
    """
    from ozamonitor.sequences.seqdata import SequenceData as SeqDef

    k = len(seq.alphabet)
    isvoid = seq.codes == VOID
    c = np.where(isvoid, -1, np.where(seq.codes == MISSING, k, seq.codes.astype(np.int16)))
    c = c.astype(np.int16)
    if isvoid.any():
        # stable sort on "is void" moves void cells to the end, keeping the order
        order = np.argsort(isvoid, axis=1, kind="stable")
        c = np.take_along_axis(c, order, axis=1)
    lengths = (~isvoid).sum(axis=1).astype(np.int32)
    return SeqDef(codes=c, lengths=lengths, alphabet=tuple(seq.alphabet.codes), ids=seq.ids,
                  weights=weights, columns=tuple(seq.columns))


def _weights(seq: Any, weights: Any, n: int) -> np.ndarray | None:
    """Case weights: ``weights`` if given, else the container's (as TraMineR's
    ``weighted=TRUE``), else None (unweighted)."""
    w = weights
    if w is None and not isinstance(seq, SequenceData):
        w = getattr(seq, "weights", None)
    if w is None:
        return None
    w = np.asarray(w.to_numpy() if hasattr(w, "to_numpy") else w, dtype=float)
    if w.shape != (n,):
        raise ValueError(f"weights has shape {w.shape} for {n} sequences")
    if not np.all(np.isfinite(w)) or (w < 0).any():
        raise ValueError("weights must be finite and non-negative")
    return w


def _prepare(seq: Any, with_missing: bool, weights: Any = None
             ) -> tuple[SequenceData, np.ndarray, int, np.ndarray | None]:
    """Sequences, a matrix with valid states 0..K-1 and -1 elsewhere, K and the
    case weights (None: unweighted)."""
    s = _convert(seq)
    w = _weights(seq, weights, s.n)
    k = len(s.alphabet)
    codes = s.codes.astype(np.int16)
    if with_missing:
        out = np.where(s.codes == MISSING, k, np.where(s.codes == VOID, -1, codes))
        return s.with_missing_state(), out.astype(np.int16), k + 1, w
    return s, np.where(s.codes < k, codes, -1).astype(np.int16), k, w


def _wsum(w: np.ndarray | None, rows: np.ndarray) -> float | int:
    """Number of sequences in ``rows`` (the sum of their weights when weighted)."""
    return len(rows) if w is None else float(w[rows].sum())


def _groups(n: int, group: Any) -> list[tuple[str, np.ndarray]]:
    if group is None:
        return [(ALL, np.arange(n))]
    g = group.to_numpy() if hasattr(group, "to_numpy") else np.asarray(group)
    if len(g) != n:
        raise ValueError(f"group has {len(g)} values for {n} sequences")
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
    s, m, k, w = _prepare(seq, with_missing, weights)
    names = _state_names(s, k)
    frames = []
    T = m.shape[1]
    for lab, rows in _groups(s.n, group):
        counts = _counts(m[rows], k, None if w is None else w[rows])
        nvalid = counts.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(nvalid > 0, counts / np.maximum(nvalid, 1), np.nan)
        frames.append(pl.DataFrame({
            "group": [lab] * (k * T),
            "position": np.tile(np.arange(T), k).astype(np.int32),
            "period": np.tile(np.asarray(s.columns, dtype=object), k).tolist(),
            "state": np.repeat(np.asarray(names, dtype=object), T).tolist(),
            "n": counts.reshape(-1),
            "share": share.reshape(-1),
            "n_valid": np.tile(nvalid, k),
        }))
    return pl.concat(frames).sort("group", "position")


def _entropy(p: np.ndarray, axis: int = 0) -> np.ndarray:
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
    s, m, k, w = _prepare(seq, with_missing, weights)
    emax = np.log(k) if norm and k > 1 else 1.0
    frames = []
    for lab, rows in _groups(s.n, group):
        counts = _counts(m[rows], k, None if w is None else w[rows])
        nvalid = counts.sum(axis=0)
        p = counts / np.maximum(nvalid, 1)
        ent = np.where(nvalid > 0, _entropy(p, axis=0) / emax, np.nan)
        frames.append(pl.DataFrame({
            "group": [lab] * m.shape[1], "position": np.arange(m.shape[1], dtype=np.int32),
            "period": list(s.columns), "entropy": ent, "n_valid": nvalid,
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
    s, m, k, w = _prepare(seq, with_missing, weights)
    names = _state_names(s, k)
    frames = []
    for lab, rows in _groups(s.n, group):
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
    missing written ``*``)."""
    out: list[str] = []
    prev, run = None, 0
    for v in row.tolist():
        if v == VOID:
            break
        lab = "*" if v == MISSING else names[v]
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
    s = _convert(seq)
    w = _weights(seq, weights, s.n)
    c = s.codes if rows is None else s.codes[rows]
    if w is not None and rows is not None:
        w = w[rows]
    n = c.shape[0]
    if n == 0:
        return np.zeros((0, s.length), dtype=np.uint8), np.zeros(0, dtype=np.int64), 0
    view = np.ascontiguousarray(c).view(np.dtype((np.void, c.shape[1]))).ravel()
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
    s = _convert(seq)
    w = _weights(seq, weights, s.n)
    frames = []
    for lab, rows in _groups(s.n, group):
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
    _, m, k, w = _prepare(seq, with_missing, weights)
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
    s, m, k, w = _prepare(seq, with_missing, weights)
    names = _state_names(s, k)
    frames = []
    for lab, rows in _groups(s.n, group):
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

def _spell_arrays(m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
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
    s, m, k, _ = _prepare(seq, with_missing)
    names = np.asarray(_state_names(s, k), dtype=object)
    row, st, start, dur, nsp = _spell_arrays(m)
    first = np.concatenate([[0], np.cumsum(nsp)[:-1]])
    spell_no = np.arange(len(row)) - first[row] + 1
    return pl.DataFrame({
        "id": s.ids[row].tolist(), "spell": spell_no.astype(np.int32),
        "state": names[st].tolist(), "start": start.astype(np.int32),
        "start_period": np.asarray(s.columns, dtype=object)[start].tolist(),
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
    s, m, k, w = _prepare(seq, with_missing, weights)
    names = np.asarray(_state_names(s, k), dtype=object)
    row, st, _, dur, nsp = _spell_arrays(m)
    keep = np.ones(len(row), dtype=bool)
    if exclude_censored and len(row):
        first = np.concatenate([[0], np.cumsum(nsp)[:-1]])
        last = np.cumsum(nsp) - 1
        has = nsp > 0
        keep[first[has]] = False
        keep[last[has]] = False
    gid = np.full(s.n, -1, dtype=np.int64)
    groups = _groups(s.n, group)
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


# ---------------------------------------------------------------------------
# Turbulence and per-sequence indicators
# ---------------------------------------------------------------------------

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
    _, m, k, _ = _prepare(seq, with_missing)
    _, st, _, _, nsp = _spell_arrays(m)
    offsets = np.concatenate([[0], np.cumsum(nsp)]).astype(np.int64)
    return _n_subsequences(st.astype(np.int64), offsets, k)


def _turb_parts(m: np.ndarray, k: int, type_: int) -> tuple[np.ndarray, np.ndarray,
                                                              np.ndarray]:
    """phi, duration variance and its maximum per sequence (``seqivardur``)."""
    row, st, _, dur, nsp = _spell_arrays(m)
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
            raise ValueError(f"turbulence type must be 1 or 2, got {type_}")
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
    s, m, k, _ = _prepare(seq, with_missing)
    phi, var, vmax = _turb_parts(m, k, type)
    with np.errstate(invalid="ignore", divide="ignore"):
        tx = np.log2(phi * (vmax + 1) / (var + 1))
    tx[(m >= 0).sum(axis=1) == 0] = np.nan
    if norm:
        maxlen = int((s.codes != VOID).sum(axis=1).max()) if s.n else 0
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
    _, m, k, _ = _prepare(seq, with_missing)
    ist = np.stack([(m == j).sum(axis=1) for j in range(k)], axis=1).astype(float)
    tot = ist.sum(axis=1, keepdims=True)
    p = np.divide(ist, tot, out=np.zeros_like(ist), where=tot > 0)
    e = _entropy(p, axis=1)
    return e / np.log(k) if norm and k > 1 else e


def sequence_indicators(seq: Any, group: Any = None, *, with_missing: bool = False
                        ) -> pl.DataFrame:
    """Per-sequence indicators (``seqindic`` subset): id, group, length (valid
    positions), n_spells, n_transitions, n_visited, entropy (normalised),
    turbulence, turbulence_norm."""
    s, m, k, _ = _prepare(seq, with_missing)
    _, st, _, _, nsp = _spell_arrays(m)
    row = np.repeat(np.arange(s.n), nsp)
    visited = np.zeros((s.n, k), dtype=bool)
    visited[row, st] = True
    g = np.full(s.n, None, dtype=object)
    for lab, rows in _groups(s.n, group):
        g[rows] = lab
    return pl.DataFrame({
        "id": s.ids.tolist(), "group": g.tolist(),
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
