"""Covariate balance before and after matching, with cobalt's ATT conventions.

Definitions (binary treatment, ATT, as ``cobalt::bal.tab`` on a ``matchit`` object):

* **Mean difference**: weighted treated mean minus weighted control mean. For
  continuous covariates it is standardised by the SD of the *treated* group in
  the *unadjusted* sample (``s.d.denom = "treated"``; the same denominator
  before and after matching, ``n - 1`` in the variance). For binary covariates
  (two values, including each level of a factor) cobalt's default
  ``binary = "raw"`` reports the raw difference in proportions; pass
  ``binary="std"`` to standardise them too (as ``MatchIt::summary`` does).
* **Variance ratio** (continuous only): weighted treated variance over weighted
  control variance, with the bias-corrected weighted variance
  ``sum(w (x - m)^2) * sum(w) / (sum(w)^2 - sum(w^2))`` (``n - 1`` unweighted).
* **eCDF mean / max**: mean and maximum absolute difference between the
  weighted empirical CDFs of the two groups, evaluated at every distinct value
  of the covariate in the *full* sample (unmatched units contribute evaluation
  points but no weight), exactly as ``MatchIt::summary`` (``qqsum``) computes
  them. For binary covariates both equal the absolute difference in proportions.
* For ``binary="std"`` the SD of a binary covariate is ``sqrt(p (1 - p))`` of
  the treated group (no ``n - 1`` correction), as in cobalt and MatchIt.

Factors are split into one binary row per level named ``<covariate>_<level>``,
as cobalt does; the propensity score, when given, is the first row
(``distance``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numba as nb
import numpy as np
import pandas as pd

from ozamonitor.causal.propensity import (
    DesignColumn,
    as_pandas,
    design_columns,
    treatment_vector,
)
from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.files import atomic_write

__all__ = ["balance_from_match", "balance_table", "love_plot"]


def _wmean(x: np.ndarray, w: np.ndarray | None) -> float:
    if w is None:  # unit weights: the same number as (1 * x).sum() / n, one pass
        return float(x.sum() / x.size) if x.size else float("nan")
    sw = w.sum()
    return float((w * x).sum() / sw) if sw > 0 else float("nan")


def _wvar(x: np.ndarray, w: np.ndarray | None) -> float:
    if w is None:
        n = float(x.size)
        if n * n - n <= 0:
            return float("nan")
        return float(((x - x.sum() / n) ** 2).sum() * n / (n * n - n))
    sw = w.sum()
    sw2 = (w * w).sum()
    if sw <= 0 or sw * sw - sw2 <= 0:
        return float("nan")
    m = (w * x).sum() / sw
    return float((w * (x - m) ** 2).sum() * sw / (sw * sw - sw2))


def _ecdf_points(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of ``x`` (sorted) and how many units have ``x <=`` each.

    One unstable sort (vectorised in numpy); the order within ties does not
    matter because the eCDFs are read at the end of each run of equal values.
    """
    xs = np.sort(x)
    last = np.empty(xs.size, dtype=bool)
    np.not_equal(xs[1:], xs[:-1], out=last[:-1])
    last[-1] = True
    ends = np.flatnonzero(last)
    return xs[ends], ends + 1


@nb.njit(cache=True)
def _ecdf_gap_stats(
    k: int, pos_t: np.ndarray, w_t: np.ndarray, tot_t: float, pos_c: np.ndarray,
    w_c: np.ndarray, tot_c: float, below: np.ndarray,
) -> tuple[float, float]:  # pragma: no cover - compiled; tested against the definitions
    """Mean and max of |F_t - F_c| over ``k`` distinct values, in one pass.

    ``pos_*`` give the distinct-value index of each weighted unit. With ``below``
    (the number of units at or below each value) the control eCDF is counted as
    ``below - treated count`` and ``pos_c`` is not needed (unit weights). The
    mean is summed in blocks of 4096 terms, all non-negative.
    """
    bt = np.zeros(k)
    bc = np.zeros(k)
    for i in range(pos_t.size):
        bt[pos_t[i]] += w_t[i]
    for i in range(pos_c.size):
        bc[pos_c[i]] += w_c[i]
    counts = below.size > 0
    ct = 0.0
    cc = 0.0
    total = 0.0
    block = 0.0
    mx = 0.0
    for j in range(k):
        ct += bt[j]
        if counts:
            fc = (below[j] - ct) / tot_c
        else:
            cc += bc[j]
            fc = cc / tot_c
        d = abs(ct / tot_t - fc)
        block += d
        mx = max(mx, d)
        if (j & 4095) == 4095:
            total += block
            block = 0.0
    return (total + block) / k, mx


def _two_valued(x: np.ndarray) -> bool:
    """At most two distinct values (linear time, no sort)."""
    other = x != x[0]
    if not other.any():
        return True
    return bool(np.all(other <= (x == x[int(np.argmax(other))])))


def _columns(df: pd.DataFrame, covariates: Sequence[str]) -> list[tuple[str, Any, bool]]:
    """(row name, column, is_binary) for each covariate, factors split by level.

    A column is an array or a :class:`DesignColumn` made into one only when its row
    is computed (no n x p matrix of dummies).
    """
    specs, _ = design_columns(df, covariates, intercept=False, full_dummies=True)
    out: list[tuple[str, Any, bool]] = []
    for c in specs:
        if c.level is not None:
            out.append((f"{c.source}_{c.level}", c, True))
        else:
            out.append((c.name, c.values, _two_valued(c.values)))
    return out


@dataclass
class _Sample:
    """The units with weight in each group, their weights and the group totals."""

    rows_t: np.ndarray
    w_t: np.ndarray | None  # None: unit weights
    rows_c: np.ndarray
    w_c: np.ndarray | None
    totals: tuple[float, float]
    unweighted: bool


def _sample(t: np.ndarray, w: np.ndarray, unweighted: bool) -> _Sample:
    tr = t == 1
    totals = (float((w * t).sum()), float((w * (1 - t)).sum()))
    keep = np.ones(t.size, dtype=bool) if unweighted else w > 0
    rows_t, rows_c = np.flatnonzero(keep & tr), np.flatnonzero(keep & ~tr)
    if unweighted:
        return _Sample(rows_t, None, rows_c, None, totals, unweighted)
    return _Sample(rows_t, w[rows_t], rows_c, w[rows_c], totals, unweighted)


def _ecdf_row(
    x: np.ndarray, s: _Sample, points: tuple[np.ndarray, np.ndarray]
) -> tuple[float, float]:
    """eCDF mean and max for a continuous row (no second sort of the full sample).

    Each weighted unit's value is located among the distinct values by a binary
    search (few units, not the many evaluation points); unit weights use counts.
    """
    values, below = points
    xt = x[s.rows_t]
    pos_t = np.searchsorted(values, xt)
    if s.unweighted:  # counts: the same numbers as cumulative sums of ones
        return _ecdf_gap_stats(values.size, pos_t, np.ones(xt.size), s.totals[0],
                               np.empty(0, np.int64), np.empty(0), s.totals[1], below)
    pos_c = np.searchsorted(values, x[s.rows_c])
    return _ecdf_gap_stats(values.size, pos_t, s.w_t, s.totals[0], pos_c, s.w_c, s.totals[1],
                           np.empty(0, np.int64))


def _row_stats(
    x: np.ndarray, s: _Sample, is_bin: bool, sd_t: float, binary: str,
    points: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[float, float, float, float, float, float]:
    """Means, difference, variance ratio and eCDF statistics of one row for one sample."""
    xt, xc = x[s.rows_t], x[s.rows_c]
    mt, mc = _wmean(xt, s.w_t), _wmean(xc, s.w_c)
    diff = mt - mc
    if not is_bin or binary == "std":
        diff = diff / sd_t if sd_t > 0 else float("nan")
    vr = float("nan")
    if not is_bin:
        vc = _wvar(xc, s.w_c)
        vr = _wvar(xt, s.w_t) / vc if vc > 0 else float("nan")
    if s.totals[0] <= 0 or s.totals[1] <= 0:
        em = ex = float("nan")
    elif is_bin or points is None:
        em = ex = abs(mt - mc)
    else:
        em, ex = _ecdf_row(x, s, points)
    return mt, mc, diff, vr, em, ex


def balance_table(
    data: Any,
    treatment: str,
    covariates: Sequence[str],
    weights: np.ndarray | Sequence[float] | None = None,
    *,
    distance: np.ndarray | Sequence[float] | None = None,
    binary: Literal["raw", "std"] = "raw",
) -> pd.DataFrame:
    """Balance statistics before (``*_un``) and, given ``weights``, after (``*_adj``) matching.

    Parameters
    ----------
    data : pandas.DataFrame or polars.DataFrame
        One row per unit.
    treatment : str
        0/1 treatment column.
    covariates : sequence of str
        Covariates; factors get one row per level.
    weights : array-like, optional
        Matching weights (one per row); without them only ``*_un`` columns.
    distance : array-like, optional
        The propensity score, shown as the first row (``distance``).
    binary : {"raw", "std"}, default "raw"
        Binary rows as the raw difference in proportions (cobalt's default) or
        standardised.

    Returns
    -------
    pandas.DataFrame
        Columns ``variable, type, mean_treated_un, mean_control_un, diff_un,
        var_ratio_un, ecdf_mean_un, ecdf_max_un`` and the same with ``_adj``.
        ``diff`` is the standardised mean difference for continuous rows.
    """
    df = as_pandas(data)
    t = treatment_vector(df, treatment).astype(float)
    n = len(df)
    rows = _columns(df, covariates)
    if distance is not None:
        dist = np.asarray(distance, dtype=float)
        rows.insert(0, ("distance", dist, False))
    w_adj = None
    if weights is not None:
        w_adj = np.asarray(weights, dtype=float)
        if w_adj.shape != (n,):
            raise InputError(f"weights have length {w_adj.size}, expected {n}")
        if (w_adj < 0).any() or not np.isfinite(w_adj).all():
            raise InputError("weights must be finite and non-negative")
    samples = [("un", _sample(t, np.ones(n), True))]
    if w_adj is not None:
        samples.append(("adj", _sample(t, w_adj, False)))
    t_rows = samples[0][1].rows_t
    stats = ("mean_treated", "mean_control", "diff", "var_ratio", "ecdf_mean", "ecdf_max")
    records = []
    for name, col, is_bin in rows:
        x = col.array(n) if isinstance(col, DesignColumn) else col
        if is_bin:  # cobalt/MatchIt: binary SD is sqrt(p (1 - p)), no n - 1 correction
            p_t = float(np.mean(x[t_rows] == x.max()))
            sd_t = float(np.sqrt(p_t * (1 - p_t)))
        else:
            sd_t = float(np.std(x[t_rows], ddof=1)) if t_rows.size > 1 else float("nan")
        points = None if is_bin else _ecdf_points(x)  # one sort, shared by both samples
        rec: dict[str, Any] = {"variable": name, "type": "Binary" if is_bin else "Contin."}
        for suffix, smp in samples:
            values = _row_stats(x, smp, is_bin, sd_t, binary, points)
            rec.update({f"{k}_{suffix}": v for k, v in zip(stats, values, strict=True)})
        records.append(rec)
    return pd.DataFrame.from_records(records)


def balance_from_match(
    result: Any, data: Any, *, binary: Literal["raw", "std"] = "raw"
) -> pd.DataFrame:
    """Balance table for a :class:`~ozamonitor.causal.matching.MatchResult`."""
    s = result.settings
    covs = list(dict.fromkeys(s["covariates"] + s["exact"] + s["mahvars"]))
    return balance_table(
        data, s["treatment"], covs, result.weights, distance=result.distance, binary=binary
    )


def love_plot(
    table: pd.DataFrame,
    path: str | Path,
    *,
    threshold: float = 0.1,
    title: str = "Covariate balance",
) -> Path:
    """Draw a Love plot (absolute mean differences before/after) to PNG or SVG.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`balance_table` or :func:`balance_from_match`.
    path : str or Path
        ``.png`` or ``.svg``; written atomically, its mode follows the umask.
    threshold : float, default 0.1
        Dashed reference line.
    title : str, default "Covariate balance"

    Returns
    -------
    Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg"):
        raise ConfigurationError(f"love plot must be .png or .svg, got {path.name!r}")
    tab = table.iloc[::-1]
    y = np.arange(len(tab))
    fig, ax = plt.subplots(figsize=(6.5, 0.32 * len(tab) + 1.6))
    ax.scatter(
        np.abs(tab["diff_un"]),
        y,
        marker="o",
        facecolors="none",
        edgecolors="#c0392b",
        label="Unadjusted",
    )
    if "diff_adj" in tab:
        ax.scatter(np.abs(tab["diff_adj"]), y, marker="o", color="#2c3e50", label="Matched")
    ax.axvline(threshold, linestyle="--", color="grey", linewidth=1)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(tab["variable"])
    ax.set_xlabel("Absolute mean difference (standardised for continuous covariates)")
    ax.set_title(title)
    ax.legend(loc="lower right", frameon=False)
    fig.tight_layout()
    try:
        with atomic_write(path) as tmp:
            fig.savefig(tmp, format=path.suffix[1:].lower(), dpi=150)
    finally:
        plt.close(fig)
    return path
