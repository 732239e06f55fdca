"""Weighted descriptive statistics: integer weights act as replicated sequences,
and the mean-time standard error follows TraMineR's ``seqmeant`` formula."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from ozamonitor.sequences.describe import (
    mean_time,
    sequence_frequencies,
    spell_durations,
    state_distribution,
    transition_rates,
    transversal_entropy,
)
from ozamonitor.sequences.seqdata import SequenceData as SeqDef


def _data(seed: int = 0) -> tuple[SeqDef, SeqDef, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n, t = 40, 9
    codes = rng.integers(0, 3, (n, t)).astype(np.int16)
    codes[rng.random((n, t)) < 0.05] = 3  # missing
    lengths = rng.integers(5, t + 1, n).astype(np.int32)
    for i, ln in enumerate(lengths):
        codes[i, ln:] = -1
    w = rng.integers(0, 4, n).astype(float)
    group = rng.integers(0, 2, n).astype(str)
    weighted = SeqDef(codes=codes, lengths=lengths, alphabet=("a", "b", "c"), weights=w)
    rep = np.repeat(np.arange(n), w.astype(int))
    replicated = SeqDef(codes=codes[rep], lengths=lengths[rep], alphabet=("a", "b", "c"))
    return weighted, replicated, group, group[rep]


def _same(a: pl.DataFrame, b: pl.DataFrame, cols: list[str]) -> None:
    for c in cols:
        x = a[c].cast(pl.Float64).to_numpy()
        y = b[c].cast(pl.Float64).to_numpy()
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12, err_msg=c)


@pytest.mark.parametrize("with_missing", [False, True])
def test_integer_weights_equal_replication(with_missing: bool) -> None:
    wd, rep, g, grep = _data()
    _same(state_distribution(wd, g, with_missing=with_missing),
          state_distribution(rep, grep, with_missing=with_missing), ["n", "share", "n_valid"])
    _same(transversal_entropy(wd, g, with_missing=with_missing),
          transversal_entropy(rep, grep, with_missing=with_missing), ["entropy", "n_valid"])
    _same(mean_time(wd, g, with_missing=with_missing),
          mean_time(rep, grep, with_missing=with_missing), ["mean", "n"])
    _same(transition_rates(wd, g, with_missing=with_missing, time_varying=True),
          transition_rates(rep, grep, with_missing=with_missing, time_varying=True),
          ["n_from", "n", "rate"])
    _same(spell_durations(wd, g, with_missing=with_missing),
          spell_durations(rep, grep, with_missing=with_missing),
          ["n_spells", "mean", "median", "min", "max"])
    a = sequence_frequencies(wd, top=5, group=g)
    b = sequence_frequencies(rep, top=5, group=grep)
    _same(a, b, ["n", "pct", "cum_pct"])


def test_mean_time_se_is_traminer_formula() -> None:
    wd, _, _, _ = _data(3)
    w = np.asarray(wd.weights, dtype=float) + 0.5  # non-integer weights
    mt = mean_time(wd, weights=w)
    codes = np.asarray(wd.codes)
    x = np.stack([(codes == j).sum(axis=1) for j in range(3)], axis=1).astype(float)
    wtot, w2 = w.sum(), (w**2).sum()
    mean = (w[:, None] * x).sum(axis=0) / wtot
    var = (w[:, None] * (x - mean) ** 2).sum(axis=0) * wtot / (wtot**2 - w2)
    np.testing.assert_allclose(mt["mean"].to_numpy(), mean, rtol=1e-12)
    np.testing.assert_allclose(mt["var"].to_numpy(), var, rtol=1e-12)
    np.testing.assert_allclose(mt["se"].to_numpy(), np.sqrt(var / wtot), rtol=1e-12)
    assert mt["n"][0] == pytest.approx(wtot)


def test_unit_weights_change_nothing_and_bad_weights_fail() -> None:
    wd, _, _, _ = _data(5)
    plain = SeqDef(codes=wd.codes, lengths=wd.lengths, alphabet=wd.alphabet)
    ones = np.ones(plain.codes.shape[0])
    _same(mean_time(plain), mean_time(plain, weights=ones), ["mean", "var", "se", "n"])
    _same(spell_durations(plain), spell_durations(plain, weights=ones),
          ["n_spells", "mean", "median"])
    with pytest.raises(ValueError, match="shape"):
        mean_time(plain, weights=ones[:-1])
    with pytest.raises(ValueError, match="non-negative"):
        state_distribution(plain, weights=-ones)
