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
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ozamonitor.causal.propensity import as_pandas, design_matrix, treatment_vector
from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.files import atomic_write

__all__ = ["balance_from_match", "balance_table", "love_plot"]


def _wmean(x: np.ndarray, w: np.ndarray) -> float:
    sw = w.sum()
    return float((w * x).sum() / sw) if sw > 0 else float("nan")


def _wvar(x: np.ndarray, w: np.ndarray) -> float:
    sw = w.sum()
    sw2 = (w * w).sum()
    if sw <= 0 or sw * sw - sw2 <= 0:
        return float("nan")
    m = (w * x).sum() / sw
    return float((w * (x - m) ** 2).sum() * sw / (sw * sw - sw2))


def _ecdf_stats(x: np.ndarray, t: np.ndarray, w: np.ndarray, binary: bool) -> tuple[float, float]:
    wt, wc = w * t, w * (1 - t)
    if wt.sum() <= 0 or wc.sum() <= 0:
        return float("nan"), float("nan")
    if binary:
        d = abs(_wmean(x[t == 1], w[t == 1]) - _wmean(x[t == 0], w[t == 0]))
        return d, d
    o = np.argsort(x, kind="stable")
    xs = x[o]
    diffs = np.abs(np.cumsum(wt[o]) / wt.sum() - np.cumsum(wc[o]) / wc.sum())
    last = np.append(np.diff(xs) != 0, True)
    diffs = diffs[last]
    return float(diffs.mean()), float(diffs.max())


def _columns(df: pd.DataFrame, covariates: Sequence[str]) -> list[tuple[str, np.ndarray, bool]]:
    """(row name, values, is_binary) for each covariate, factors split by level."""
    dm = design_matrix(df, covariates, intercept=False, full_dummies=True)
    out = []
    for j, name in enumerate(dm.columns):
        x = dm.X[:, j]
        if dm.level[j] is not None:
            out.append((f"{dm.source[j]}_{dm.level[j]}", x, True))
        else:
            out.append((name, x, np.unique(x).size <= 2))
    return out


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
    ones = np.ones(n)
    tr = t == 1
    records = []
    for name, x, is_bin in rows:
        if is_bin:  # cobalt/MatchIt: binary SD is sqrt(p (1 - p)), no n - 1 correction
            p_t = float(np.mean(x[tr] == x.max()))
            sd_t = float(np.sqrt(p_t * (1 - p_t)))
        else:
            sd_t = float(np.std(x[tr], ddof=1)) if tr.sum() > 1 else float("nan")
        rec: dict[str, Any] = {"variable": name, "type": "Binary" if is_bin else "Contin."}
        for suffix, w in (("un", ones), ("adj", w_adj)):
            if w is None:
                continue
            mt = _wmean(x[tr], w[tr])
            mc = _wmean(x[~tr], w[~tr])
            diff = mt - mc
            if not is_bin or binary == "std":
                diff = diff / sd_t if sd_t > 0 else float("nan")
            vr = float("nan")
            if not is_bin:
                vc = _wvar(x[~tr], w[~tr])
                vr = _wvar(x[tr], w[tr]) / vc if vc > 0 else float("nan")
            em, ex = _ecdf_stats(x, t, w, is_bin)
            rec.update(
                {
                    f"mean_treated_{suffix}": mt,
                    f"mean_control_{suffix}": mc,
                    f"diff_{suffix}": diff,
                    f"var_ratio_{suffix}": vr,
                    f"ecdf_mean_{suffix}": em,
                    f"ecdf_max_{suffix}": ex,
                }
            )
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
