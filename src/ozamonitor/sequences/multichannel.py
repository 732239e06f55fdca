"""Multichannel sequence distances, as TraMineR's ``seqdistmc`` (``seqMD``).

Several channels describe the same persons over the same positions (e.g. education and
care). TraMineR's algorithm, followed step by step:

1. the channels are combined into one sequence of combined states (one state per
   observed tuple of channel states): :func:`combine_channels`;
2. each channel gets its substitution costs (``"CONSTANT"`` or ``"TRATE"`` by
   ``seqcost`` with ``cval`` (default 2, as ``seqdistmc``) and, for DHD, time-varying;
   or a matrix), multiplied by the channel weight;
3. the cost of substituting one combined state for another is the sum over channels of
   the channel costs of their states; the indel cost is ``sum(indel_c * cweight_c)``;
   with ``link="mean"`` both are divided by ``sum(cweight)``;
4. the distance is ``seqdist`` (OM, HAM or DHD) of the combined sequences with those
   costs. ``LCS`` is OM with CONSTANT costs 2 and indel 1 on every channel.

The *combined-alphabet alternative* is :func:`combine_channels` followed by any
:func:`~ozamonitor.sequences.distances.seqdist` on the combined sequences, with costs
estimated on the combined states themselves (e.g. TRATE of the combined states).

The module is part of the sequence library: it imports nothing of ozamonitor above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.sequences.alphabet import VOID_CODE
from ozamonitor.sequences.costs import check_cost_matrix, seqcost
from ozamonitor.sequences.define import as_seqdata
from ozamonitor.sequences.distances import seqdist
from ozamonitor.sequences.seqdata import SequenceData

__all__ = ["MC_METHODS", "MultichannelCosts", "combine_channels", "multichannel_costs",
           "seqdistmc"]

MC_METHODS = ("OM", "HAM", "DHD", "LCS")


def _channels(channels: Sequence[Any]) -> list[SequenceData]:
    chans = [as_seqdata(c) for c in channels]
    if len(chans) < 2:
        raise ConfigurationError("give at least two channels")
    n = chans[0].n_sequences
    for i, c in enumerate(chans[1:], start=2):
        if c.n_sequences != n:
            raise InputError(f"channel {i} has {c.n_sequences} sequences, channel 1 has {n}")
        if c.max_length != chans[0].max_length or np.any(c.lengths != chans[0].lengths):
            bad = np.nonzero(c.lengths != chans[0].lengths)[0] if c.max_length == \
                chans[0].max_length else np.array([0])
            raise InputError(f"channel {i}: sequence {int(bad[0]) + 1} has another length "
                             "than in channel 1 (the channels must cover the same positions)")
    return chans


def combine_channels(channels: Sequence[Any], *, sep: str = "+",
                     with_missing: bool = False) -> tuple[SequenceData, np.ndarray]:
    """Combine channels into one sequence of combined states (TraMineR's combined object).

    Parameters
    ----------
    channels : sequence of SequenceData or array-like
        Two or more channels: the same persons in the same order, the same lengths.
    sep : str, default "+"
        Separator of the channel labels in a combined state's label.
    with_missing : bool, default False
        Keep a channel's missing state as a state of its own (else missing is an error).

    Returns
    -------
    combined : SequenceData
        One state per observed tuple, in lexicographic order of the channel codes; ids,
        weights and columns of the first channel.
    tuples : ndarray
        ``(K, C)`` the channel codes of each combined state (a channel's missing state
        has code ``n_states`` of that channel).
    """
    chans = _channels(channels)
    for i, c in enumerate(chans, start=1):
        if c.has_missing and not with_missing:
            raise InputError(f"channel {i} has missing values: use with_missing=True")
    stack = np.stack([c.codes.astype(np.int64) for c in chans], axis=-1)  # (N, L, C)
    valid = chans[0].codes != VOID_CODE
    tuples, inv = np.unique(stack[valid], axis=0, return_inverse=True)
    codes = np.full(chans[0].codes.shape, VOID_CODE, dtype=np.int16)
    codes[valid] = inv.reshape(-1)
    labels = []
    for t in tuples:
        parts = [(c.alphabet.codes[k] if k < c.n_states else "*") for c, k in zip(
            chans, t, strict=True)]
        labels.append(sep.join(str(p) for p in parts))
    first = chans[0]
    combined = SequenceData(codes, labels, lengths=first.lengths, ids=first.ids,
                            weights=first.weights, columns=first.columns, period=first.period,
                            meta={"channels": len(chans), "sep": sep})
    return combined, tuples


class MultichannelCosts:
    """The combined substitution costs and indel of :func:`seqdistmc` (``what="sm"``).

    Attributes
    ----------
    sm : ndarray
        ``(K, K)`` costs between combined states, or ``(L, K, K)`` for DHD.
    indel : float
        The combined indel cost.
    channel_sm : list of ndarray
        Each channel's costs, already multiplied by its weight.
    """

    def __init__(self, sm: np.ndarray, indel: float, channel_sm: list[np.ndarray]) -> None:
        self.sm = sm
        self.indel = indel
        self.channel_sm = channel_sm


def _per_channel(values: Any, n: int, what: str) -> list[Any]:
    if isinstance(values, (str, int, float)) or values is None or (
            isinstance(values, np.ndarray) and values.ndim >= 2):
        return [values] * n
    vals = list(values)
    if len(vals) != n:
        raise ConfigurationError(f"give one {what} per channel ({n}), got {len(vals)}")
    return vals


def multichannel_costs(channels: Sequence[SequenceData], tuples: np.ndarray, method: str, *,
                       sm: Any = None, indel: Any = 1.0, cweight: Any = None,
                       link: str = "sum", cval: float = 2.0, miss_cost: float = 2.0,
                       with_missing: bool = False) -> MultichannelCosts:
    """Steps 2 and 3 of :func:`seqdistmc`: channel costs summed onto the combined states.

    Parameters are those of :func:`seqdistmc`; ``tuples`` comes from
    :func:`combine_channels`.

    Returns
    -------
    MultichannelCosts
    """
    n = len(channels)
    tv = method == "DHD"
    w = np.ones(n) if cweight is None else np.asarray(_per_channel(cweight, n, "weight"),
                                                     dtype=np.float64)
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ConfigurationError("channel weights must be finite and non-negative")
    sms = _per_channel(sm if sm is not None else ("TRATE" if tv else "CONSTANT"), n, "sm")
    indels = _per_channel(indel, n, "indel")
    chan_sm: list[np.ndarray] = []
    chan_indel: list[float] = []
    for i, (c, s, ind) in enumerate(zip(channels, sms, indels, strict=True), start=1):
        k = c.n_states + (1 if with_missing else 0)
        if isinstance(s, str):
            if s.upper() not in ("CONSTANT", "TRATE"):
                raise ConfigurationError(f"channel {i}: sm must be CONSTANT, TRATE or a matrix")
            costs = seqcost(c, s.upper(), cval=cval, with_missing=with_missing,
                            miss_cost=miss_cost, time_varying=tv)
            mat = np.asarray(costs.sm, dtype=np.float64)
            auto = float(np.max(mat)) / 2 if s.upper() == "TRATE" else float(
                np.asarray(costs.indel).max())
        else:
            mat = check_cost_matrix(np.asarray(s, dtype=np.float64), k)
            if tv and mat.ndim != 3:
                raise ConfigurationError(f"channel {i}: DHD needs an (L, S, S) cost array")
            if not tv and mat.ndim != 2:
                raise ConfigurationError(f"channel {i}: a time-varying sm needs method DHD")
            auto = float(mat.max()) / 2
        if isinstance(ind, str):
            if ind != "auto":
                raise ConfigurationError(f"indel must be a number or 'auto', got {ind!r}")
            chan_indel.append(auto)
        else:
            chan_indel.append(float(ind))
        chan_sm.append(mat * w[i - 1])
    if method in ("OM",) and any(x <= 0 for x in chan_indel):
        raise ConfigurationError("indel costs must be positive")
    total = None
    for i, mat in enumerate(chan_sm):
        idx = tuples[:, i]
        part = mat[..., idx[:, None], idx[None, :]]
        total = part if total is None else total + part
    assert total is not None
    new_indel = float(np.sum(np.asarray(chan_indel) * w))
    if link == "mean":
        total = total / w.sum()
        new_indel = new_indel / float(w.sum())
    elif link != "sum":
        raise ConfigurationError(f"link must be 'sum' or 'mean', got {link!r}")
    return MultichannelCosts(sm=total, indel=new_indel, channel_sm=chan_sm)


def seqdistmc(channels: Sequence[Any], method: str = "OM", *, sm: Any = None,
              indel: Any = 1.0, cweight: Any = None, norm: str | bool = "none",
              link: str = "sum", cval: float = 2.0, miss_cost: float = 2.0,
              with_missing: bool = False, what: str = "diss") -> Any:
    """Multichannel distances as TraMineR's ``seqdistmc``.

    Parameters
    ----------
    channels : sequence of SequenceData or array-like
        Two or more channels (same persons in the same order, same lengths).
    method : {"OM", "HAM", "DHD", "LCS"}, default "OM"
        The distance on the combined sequences.
    sm : str, ndarray or list, optional
        Per channel ``"CONSTANT"``, ``"TRATE"`` or a matrix (``(L, S, S)`` for DHD); one
        value for all channels or a list. Default ``"CONSTANT"`` (DHD: ``"TRATE"``).
    indel : float, "auto" or list, default 1.0
        Per channel indel cost (``"auto"``: half the channel's largest substitution cost,
        1 for CONSTANT).
    cweight : list of float, optional
        Channel weights (default 1 each).
    norm : str or bool, default "none"
        Normalisation, as :func:`~ozamonitor.sequences.distances.seqdist`.
    link : {"sum", "mean"}, default "sum"
        ``"mean"`` divides the combined costs by the sum of the weights.
    cval, miss_cost : float, default 2.0
        ``seqcost``'s constant (CONSTANT cost, TRATE base) and the missing state's cost.
    with_missing : bool, default False
        Each channel's missing state is a state of its own.
    what : {"diss", "sm", "seq"}, default "diss"
        The distances, the :class:`MultichannelCosts`, or the combined sequences.

    Returns
    -------
    ndarray, MultichannelCosts or SequenceData
        ``(N, N)`` distances by default.
    """
    m = method.upper()
    if m not in MC_METHODS:
        raise ConfigurationError(f"method must be one of {', '.join(MC_METHODS)}, got {method!r}")
    if m == "LCS":
        m, sm, indel, cval, miss_cost = "OM", "CONSTANT", 1.0, 2.0, 2.0
    chans = _channels(channels)
    if m in ("HAM", "DHD") and len(np.unique(chans[0].lengths)) > 1:
        raise InputError(f"{m} is not defined for sequences of different length")
    combined, tuples = combine_channels(chans, with_missing=with_missing)
    if what == "seq":
        return combined
    costs = multichannel_costs(chans, tuples, m, sm=sm, indel=indel, cweight=cweight, link=link,
                               cval=cval, miss_cost=miss_cost, with_missing=with_missing)
    if what == "sm":
        return costs
    if what != "diss":
        raise ConfigurationError(f"what must be 'diss', 'sm' or 'seq', got {what!r}")
    if m == "OM" and costs.indel <= 0:
        raise ConfigurationError("the combined indel cost must be positive")
    return seqdist(combined, m, sm=costs.sm, indel=costs.indel if m == "OM" else "auto",
                   norm=norm)
