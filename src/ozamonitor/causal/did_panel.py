"""Balanced-panel preparation for staggered DiD, with R ``did``'s data conventions.

A long frame (one row per unit and period) becomes wide numpy arrays with the units
sorted by cohort, so that every cohort is one contiguous slice. The conventions follow
``did``'s pre-processing for ``panel = TRUE``:

- cohort 0, empty or NaN means never treated; cohorts after the last period are
  treated as never treated (with a warning naming how many units);
- units already treated in the first period are dropped (warning);
- without a never-treated cohort, the last cohort serves as comparison and the periods
  from its start (minus anticipation) on are dropped (warning);
- units not observed in every period are dropped (``balance="drop"``, warning with the
  number) or rejected (``balance="error"``);
- rows with missing outcome or covariates are dropped first (warning).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import polars as pl

from ozamonitor.errors import InputError

__all__ = ["DidInputError", "PanelData", "prepare_panel"]


#: What to do with units not observed in every period: drop them (warning) or refuse.
Balance = Literal["drop", "error"]


class DidInputError(InputError):
    """Input that the DiD estimators cannot use; the message names the field."""


@dataclass
class PanelData:
    """A balanced panel in wide form, units sorted by cohort (never treated last).

    Attributes
    ----------
    unit_ids: unit identifiers, length ``n``.
    periods: sorted periods, length ``T``.
    cohort: first treatment period per unit, ``inf`` for never treated.
    y: outcomes, shape ``(n, T)``.
    x: covariates, shape ``(n, T, k)`` (``k = 0`` without covariates).
    covariate_names: names of the ``k`` covariates.
    weights: unit weights normalised to mean 1.
    cluster: integer cluster codes (or ``None``: units are the clusters).
    groups: treated cohorts that get ATT(g,t) (R's ``glist``).
    cohort_values: distinct cohorts in unit order (treated ascending, then ``inf``).
    cohort_start, cohort_end: slice bounds of every entry of ``cohort_values``.
    """

    unit_ids: np.ndarray
    periods: np.ndarray
    cohort: np.ndarray
    y: np.ndarray
    x: np.ndarray
    covariate_names: list[str]
    weights: np.ndarray
    cluster: np.ndarray | None
    groups: np.ndarray
    cohort_values: np.ndarray
    cohort_start: np.ndarray
    cohort_end: np.ndarray

    @property
    def n(self) -> int:
        """Number of units."""
        return int(self.y.shape[0])


def _to_polars(data: pd.DataFrame | pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    if isinstance(data, pl.LazyFrame):
        return data.collect()
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, pd.DataFrame):
        return pl.from_pandas(data)
    raise TypeError(f"expected a pandas or polars DataFrame, got {type(data).__name__}")


def _numeric(df: pl.DataFrame, col: str, role: str) -> pl.Series:
    s = df.get_column(col)
    if not s.dtype.is_numeric() and s.dtype != pl.Boolean:
        try:
            s = s.cast(pl.Float64, strict=True)
        except Exception as exc:
            raise DidInputError(f"column {col!r} ({role}) must be numeric, got {s.dtype}") from exc
    s = s.cast(pl.Float64)
    return s.fill_nan(None)


def prepare_panel(
    data: pd.DataFrame | pl.DataFrame | pl.LazyFrame,
    unit: str,
    time: str,
    cohort: str,
    outcome: str,
    *,
    covariates: Sequence[str] = (),
    weights: str | None = None,
    cluster: str | None = None,
    control_group: Literal["never", "notyet"] = "never",
    anticipation: int | float = 0,
    balance: Balance = "drop",
) -> PanelData:
    """Check a long panel and bring it into the wide :class:`PanelData` form.

    Raises :class:`DidInputError` with the offending column/unit for bad input.
    """
    # Long on purpose: did's pre_process_did checks in R's order, each with its own
    # message naming the column or unit; splitting would scatter one checklist.
    df = _to_polars(data)
    covariates = list(covariates)
    needed = [unit, time, cohort, outcome, *covariates]
    if weights:
        needed.append(weights)
    if cluster:
        needed.append(cluster)
    missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if missing:
        raise DidInputError(f"column(s) not in the data: {', '.join(missing)}")
    if df.height == 0:
        raise DidInputError("the panel has no rows")
    if anticipation < 0:
        raise DidInputError("anticipation must be >= 0")
    if balance not in ("drop", "error"):
        raise DidInputError("balance must be 'drop' or 'error'")

    cols: dict[str, pl.Series] = {
        "_u": df.get_column(unit),
        "_t": _numeric(df, time, "time"),
        "_g": _numeric(df, cohort, "cohort").fill_null(0.0),
        "_y": _numeric(df, outcome, "outcome"),
    }
    # categorical covariates become 0/1 columns, first level (sorted) left out, as R's
    # model.matrix does; the ATT does not depend on which level is left out
    x_names: list[str] = []
    x_series: list[pl.Series] = []
    for c in covariates:
        s = df.get_column(c)
        if s.dtype in (pl.String, pl.Categorical, pl.Enum, pl.Boolean):
            s = s.cast(pl.String)
            levels = sorted(v for v in s.unique().to_list() if v is not None)
            if len(levels) < 2:
                raise DidInputError(f"covariate {c!r} has no variance (one level)")
            for lev in levels[1:]:
                x_names.append(f"{c}={lev}")
                x_series.append((s == lev).cast(pl.Float64))  # null stays null
        else:
            x_names.append(c)
            x_series.append(_numeric(df, c, "covariate"))
    for j, xs in enumerate(x_series):
        cols[f"_x{j}"] = xs
    if weights:
        cols["_w"] = _numeric(df, weights, "weights")
    if cluster:
        cols["_c"] = df.get_column(cluster)
    work = pl.DataFrame(cols)
    if work.get_column("_u").null_count():
        raise DidInputError(f"column {unit!r} (unit) has empty values")
    if work.get_column("_t").null_count():
        row = int(work.get_column("_t").is_null().arg_true()[0])
        raise DidInputError(f"column {time!r} (time) is empty in row {row + 1}")
    value_cols = [c for c in work.columns if c.startswith(("_y", "_x", "_w"))]
    n_rows = work.height
    work = work.drop_nulls(subset=value_cols)
    if work.height < n_rows:
        warnings.warn(
            f"dropped {n_rows - work.height} rows with missing {outcome!r}"
            + (" or covariates/weights" if len(value_cols) > 1 else ""),
            stacklevel=2,
        )
    if weights and (work.get_column("_w") < 0).any():
        raise DidInputError(f"column {weights!r} (weights) has negative values")

    work = work.sort(["_u", "_t"])
    u = work.get_column("_u").to_numpy()
    t = work.get_column("_t").to_numpy()
    g = work.get_column("_g").to_numpy()
    same_unit = u[1:] == u[:-1]
    dup = same_unit & (t[1:] == t[:-1])
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise DidInputError(
            f"unit {u[i]!r} appears more than once in period {t[i]:g} (columns {unit!r}, {time!r})"
        )
    bad_g = same_unit & (g[1:] != g[:-1])
    if bad_g.any():
        i = int(np.flatnonzero(bad_g)[0])
        raise DidInputError(
            f"column {cohort!r} (cohort) must be constant within a unit; unit {u[i]!r} has "
            f"{g[i]:g} and {g[i + 1]:g}"
        )
    if weights:
        wv = work.get_column("_w").to_numpy()
        if (same_unit & (wv[1:] != wv[:-1])).any():
            raise DidInputError(f"column {weights!r} (weights) must be constant within a unit")
    if cluster:
        cv = work.get_column("_c").to_numpy()
        if (same_unit & (cv[1:] != cv[:-1])).any():
            raise DidInputError(f"column {cluster!r} (cluster) must be constant within a unit")

    periods = np.unique(t)
    g = np.where(g == 0, np.inf, g)
    late = np.isfinite(g) & (g > periods[-1])
    if late.any():
        n_late = len(np.unique(u[late]))
        warnings.warn(
            f"{n_late} units have a cohort after the last period ({periods[-1]:g}); they are "
            "treated as never treated (as R's did does)",
            stacklevel=2,
        )
        g = np.where(late, np.inf, g)
    finite = np.isfinite(g)
    off = finite & ~np.isin(g, periods) & (g > periods[0])
    if off.any():
        bad = np.unique(g[off])
        raise DidInputError(
            f"column {cohort!r} (cohort) has value(s) {', '.join(f'{v:g}' for v in bad[:5])} "
            f"that are not periods of the panel ({periods[0]:g}..{periods[-1]:g})"
        )
    if not finite.any():
        raise DidInputError(f"no treated units: every value of {cohort!r} is 0/empty")
    keep = np.ones(len(u), dtype=bool)

    if not (~finite).any():
        latest = g[finite].max()
        cutoff = latest - anticipation
        if control_group == "never":
            warnings.warn(
                f"no never-treated units; the last cohort ({latest:g}) is used as the "
                f"never-treated comparison and periods from {cutoff:g} on are dropped "
                "(as R's did does)",
                stacklevel=2,
            )
            g = np.where(g == latest, np.inf, g)
        else:
            warnings.warn(
                f"no never-treated units; periods from {cutoff:g} on are dropped and the "
                f"last cohort ({latest:g}) only serves as not-yet-treated comparison",
                stacklevel=2,
            )
        keep &= t < cutoff
        if not keep.any():
            raise DidInputError("no periods left before the last cohort starts")
    first = t[keep].min()
    early = np.isfinite(g) & (g <= first)
    if early.any():
        n_early = len(np.unique(u[early & keep]))
        warnings.warn(
            f"dropped {n_early} units that were already treated in the first period ({first:g})",
            stacklevel=2,
        )
        keep &= ~early
    u, t, g = u[keep], t[keep], g[keep]
    rows = np.flatnonzero(keep)
    periods = np.unique(t)
    T = len(periods)
    if T < 2:
        raise DidInputError("the panel needs at least two periods")

    starts = np.flatnonzero(np.r_[True, u[1:] != u[:-1]])
    counts = np.diff(np.r_[starts, len(u)])
    full = counts == T
    if not full.all():
        n_bad = int((~full).sum())
        example = u[starts[np.flatnonzero(~full)[0]]]
        if balance == "error":
            raise DidInputError(
                f"unbalanced panel: {n_bad} units are not observed in all {T} periods "
                f"(e.g. unit {example!r}); use balance='drop' to drop them"
            )
        warnings.warn(
            f"unbalanced panel: dropped {n_bad} units that are not observed in all {T} "
            f"periods (e.g. unit {example!r})",
            stacklevel=2,
        )
        row_keep = np.repeat(full, counts)
        u, t, g, rows = u[row_keep], t[row_keep], g[row_keep], rows[row_keep]
        starts = np.flatnonzero(np.r_[True, u[1:] != u[:-1]]) if len(u) else starts[:0]
    n = len(starts)
    if n == 0:
        raise DidInputError("no units are observed in all periods")

    unit_g = g[starts]
    order = np.argsort(unit_g, kind="stable")
    sel = (starts[order][:, None] + np.arange(T)[None, :]).ravel()
    src = rows[sel]
    # Fortran order: one period of all units is contiguous (cell computations read columns)
    y = np.asfortranarray(work.get_column("_y").to_numpy()[src].reshape(n, T))
    k = len(x_names)
    x = np.empty((n, T, k))
    for j in range(k):
        x[:, :, j] = work.get_column(f"_x{j}").to_numpy()[src].reshape(n, T)
    first_rows = src.reshape(n, T)[:, 0]
    w = work.get_column("_w").to_numpy()[first_rows] if weights else np.ones(n)
    if weights and w.mean() <= 0:
        raise DidInputError(f"column {weights!r} (weights) sums to zero")
    w = w / w.mean()
    cl = None
    if cluster:
        cl = np.unique(work.get_column("_c").to_numpy()[first_rows], return_inverse=True)[1]
    unit_ids = work.get_column("_u").to_numpy()[first_rows]
    coh = unit_g[order]

    for j, c in enumerate(x_names):
        if np.ptp(x[:, :, j]) == 0:
            raise DidInputError(f"covariate {c!r} has no variance")

    cohort_values, cohort_start = np.unique(coh, return_index=True)
    cohort_end = np.r_[cohort_start[1:], n]
    sizes = cohort_end - cohort_start
    req = len(covariates) + 5  # did: number of covariate variables + 5
    small = [v for v, sz in zip(cohort_values, sizes, strict=True) if sz < req]
    if small:
        names = ", ".join("never" if not np.isfinite(v) else f"{v:g}" for v in small)
        if control_group == "never" and not np.all(np.isfinite(small)):
            raise DidInputError(
                f"the never-treated group is too small (< {req} units); use the not-yet-"
                "treated comparison (control_group='notyet')"
            )
        warnings.warn(f"small cohorts (< {req} units): {names}", stacklevel=2)
    groups = cohort_values[np.isfinite(cohort_values) & (cohort_values > periods[0] + anticipation)]
    if control_group == "notyet" and not (~np.isfinite(g)).any():
        groups = groups[groups < groups.max()] if groups.size else groups
    if groups.size == 0:
        raise DidInputError(
            "no treated cohort with a pre-treatment period: cohorts must start after the "
            f"first period ({periods[0]:g}) plus anticipation ({anticipation:g})"
        )
    return PanelData(
        unit_ids=unit_ids,
        periods=periods,
        cohort=coh,
        y=y,
        x=x,
        covariate_names=x_names,
        weights=w,
        cluster=cl,
        groups=groups,
        cohort_values=cohort_values,
        cohort_start=cohort_start,
        cohort_end=cohort_end,
    )
