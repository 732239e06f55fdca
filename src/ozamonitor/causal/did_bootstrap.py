"""Multiplier bootstrap for influence functions (as in R's ``did::mboot``).

R's ``did`` draws Rademacher weights (``BMisc::multiplier_bootstrap``) and forms, for
every draw ``b`` and column ``k``, ``sqrt(n) * mean_i(v_ib * psi_ik)``. Standard errors
are the interquartile range of the draws divided by ``qnorm(.75) - qnorm(.25)`` and
``sqrt(n)``; the uniform (sup-t) critical value is the ``1 - alpha`` quantile of
``max_k |draw_bk / sigma_k|``. Quantiles use R's ``type = 1`` (inverse empirical CDF).

The draws are formed tile by tile (``U_tile' @ psi_tile``) so the ``n x biters``
weight matrix never exists in memory; one set of draws serves several influence
matrices at once (ATT(g,t) cells and their aggregations), which keeps a 2.5-million
unit bootstrap to a few matrix products.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from ozamonitor.errors import ConfigurationError, InputError

__all__ = ["BootstrapDraws", "bootstrap_se", "multiplier_bootstrap", "sup_t_critical_value"]

_IQR_NORM = float(stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
_TINY = float(np.sqrt(np.finfo(float).eps) * 10)
_MAMMEN_LO = (1.0 - np.sqrt(5.0)) / 2.0
_MAMMEN_HI = (1.0 + np.sqrt(5.0)) / 2.0
_MAMMEN_P = (1.0 + np.sqrt(5.0)) / (2.0 * np.sqrt(5.0))


@dataclass
class BootstrapDraws:
    """Bootstrap draws ``sqrt(n_clusters) * mean(v * psi)``, one array per input matrix.

    ``draws[j]`` has shape ``(biters, k_j)``; ``n_clusters`` is the number of
    independent multiplier weights (units, or clusters when clustering).
    """

    draws: list[np.ndarray]
    n_clusters: int


def _weights_tile(rng: np.random.Generator, rows: int, biters: int, kind: str) -> np.ndarray:
    """A ``rows x biters`` matrix of multiplier weights (mean 0, variance 1)."""
    if kind == "rademacher":
        nbytes = (rows * biters + 7) // 8
        bits = np.unpackbits(rng.integers(0, 256, size=nbytes, dtype=np.uint8))
        u = bits[: rows * biters].reshape(rows, biters).astype(np.float64)
        u *= 2.0
        u -= 1.0
        return u
    if kind == "mammen":
        draw = rng.random((rows, biters))
        return np.where(draw < _MAMMEN_P, _MAMMEN_LO, _MAMMEN_HI)
    raise ConfigurationError(f"unknown multiplier weights {kind!r}; use 'rademacher' or 'mammen'")


def _cluster_means(psi: np.ndarray, codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """Average the rows of ``psi`` within clusters (``rowsum(psi, cluster) / n_c`` in R)."""
    counts = np.bincount(codes, minlength=n_clusters).astype(np.float64)
    out = np.zeros((n_clusters, psi.shape[1]))
    for k in range(psi.shape[1]):
        out[:, k] = np.bincount(codes, weights=psi[:, k], minlength=n_clusters)
    out /= counts[:, None]
    return out


def multiplier_bootstrap(
    psis: Sequence[np.ndarray],
    biters: int = 999,
    *,
    seed: int | None = None,
    cluster: np.ndarray | None = None,
    weights: Literal["rademacher", "mammen"] = "rademacher",
    tile_rows: int = 4096,
) -> BootstrapDraws:
    """Multiplier bootstrap draws for one or more ``n x k`` influence matrices.

    Parameters
    ----------
    psis:
        Influence matrices with the same number of rows ``n`` (units), scaled as in
        R's ``did`` (``V = psi' psi / n``). Columns with NaN give NaN draws.
    biters:
        Number of bootstrap draws (R's ``biters``).
    seed:
        Seed for ``numpy.random.default_rng``.
    cluster:
        Optional integer cluster codes (length ``n``, time invariant). Influence values
        are averaged within clusters and one weight is drawn per cluster, as in
        ``did::mboot`` with ``clustervars``. Without it, units are the clusters.
    weights:
        ``"rademacher"`` (R's ``did``) or ``"mammen"`` (two-point, as in ``DRDID``).
    tile_rows:
        Rows per tile of the weight matrix.
    """
    if biters < 2:
        raise ConfigurationError("biters must be at least 2")
    mats = [np.asarray(p, dtype=np.float64) for p in psis]
    mats = [m[:, None] if m.ndim == 1 else m for m in mats]
    n = mats[0].shape[0]
    if any(m.shape[0] != n for m in mats):
        raise InputError("all influence matrices must have the same number of rows")
    if cluster is not None:
        codes = np.unique(np.asarray(cluster), return_inverse=True)[1].ravel()
        n_cl = int(codes.max()) + 1 if codes.size else 0
        mats = [_cluster_means(m, codes, n_cl) for m in mats]
        n = n_cl
    rng = np.random.default_rng(seed)
    acc = [np.zeros((biters, m.shape[1])) for m in mats]
    for r0 in range(0, n, tile_rows):
        r1 = min(n, r0 + tile_rows)
        u = _weights_tile(rng, r1 - r0, biters, weights)
        for a, m in zip(acc, mats, strict=True):
            if m.shape[1]:
                a += u.T @ m[r0:r1]
    scale = np.sqrt(n) / n
    return BootstrapDraws(draws=[a * scale for a in acc], n_clusters=n)


def segment_sums_bootstrap(
    basis: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    biters: int = 999,
    *,
    seed: int | None = None,
    weights: Literal["rademacher", "mammen"] = "rademacher",
    tile_rows: int = 4096,
) -> np.ndarray:
    """Per-segment multiplier sums ``S[c] = U_c' @ basis_c`` (shape ``segments x biters x m``).

    When every influence column is, within a segment (cohort) of rows, a fixed linear
    combination of the few ``basis`` columns (outcomes by period and a constant, as for
    ATT(g,t) without covariates), the draws of all columns follow from these sums with
    ``n x biters x m`` work instead of ``n x biters x n_cells``.
    """
    if biters < 2:
        raise ConfigurationError("biters must be at least 2")
    rng = np.random.default_rng(seed)
    m = basis.shape[1]
    out = np.zeros((len(starts), biters, m))
    for c, (s, e) in enumerate(zip(starts, ends, strict=True)):
        for r0 in range(int(s), int(e), tile_rows):
            r1 = min(int(e), r0 + tile_rows)
            u = _weights_tile(rng, r1 - r0, biters, weights)
            out[c] += u.T @ basis[r0:r1]
    return out


def _quantile_type1(x: np.ndarray, q: float, axis: int = 0) -> np.ndarray:
    """R's ``quantile(x, q, type = 1)`` ignoring NaN."""
    return np.nanquantile(x, q, axis=axis, method="inverted_cdf")


def bootstrap_se(draws: np.ndarray, n_clusters: int) -> np.ndarray:
    """IQR-based bootstrap standard errors; NaN for degenerate (all-zero or NaN) columns."""
    draws = np.atleast_2d(draws)
    se = np.full(draws.shape[1], np.nan)
    ok = _nondegenerate(draws)
    if ok.any():
        sub = draws[:, ok]
        iqr = _quantile_type1(sub, 0.75) - _quantile_type1(sub, 0.25)
        se[ok] = iqr / _IQR_NORM / np.sqrt(n_clusters)
    return se


def _nondegenerate(draws: np.ndarray) -> np.ndarray:
    colsum = draws.sum(axis=0)
    return np.isfinite(colsum) & ((draws**2).sum(axis=0) > _TINY)


def sup_t_critical_value(draws: np.ndarray, alpha: float = 0.05) -> float:
    """Critical value of the uniform (sup-t) band, as in ``did::mboot`` / ``att_gt``.

    Degenerate columns are left out; the column scale is the IQR-based sigma of the
    draws (``bSigma``). NaN when no column is usable.
    """
    draws = np.atleast_2d(draws)
    ok = _nondegenerate(draws)
    if not ok.any():
        return float("nan")
    sub = draws[:, ok]
    sigma = (_quantile_type1(sub, 0.75) - _quantile_type1(sub, 0.25)) / _IQR_NORM
    sigma = np.where(sigma <= _TINY, np.nan, sigma)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.abs(sub / sigma)
    t = np.where(np.isnan(t), -np.inf, t)
    bt = t.max(axis=1)
    bt = bt[np.isfinite(bt)]
    if bt.size == 0:
        return float("nan")
    return float(_quantile_type1(bt, 1.0 - alpha))
