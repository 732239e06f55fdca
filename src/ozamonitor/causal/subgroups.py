"""Subgroups of pupils with comparable support needs: Gower distance + PAM.

The study design (seed 000) clusters pupils on mixed background
characteristics before matching, so that every impact estimate can be split
by subgroup. This module implements:

* :func:`gower_distance` - Gower's (1971) dissimilarity for mixed data with
  the conventions of R's ``cluster::daisy(metric = "gower")``: numeric
  columns scaled by their range, nominal columns 0/1, ordered columns as
  ranks scaled by their range, a missing value drops that variable for that
  pair, variable weights supported.
* :func:`find_subgroups` - PAM for each k (FasterPAM from the BUILD start:
  :func:`ozamonitor.sequences.cluster.pam`, the package's one PAM), k chosen by
  the average silhouette width (:func:`ozamonitor.sequences.quality.silhouette`,
  WeightedCluster's definition), cluster profiles, and cluster
  stability by bootstrap (mean Jaccard of each cluster with its best match in
  a reclustered bootstrap sample, as ``fpc::clusterboot`` with
  ``bootmethod = "boot"``). Above ``max_fit`` rows the medoids are fitted on
  a random sample and every row is assigned to its nearest medoid (CLARA
  style), so memory stays bounded.
* k-prototypes (``kmodes``) as an alternative method.

Why our own Gower: the ``gower`` package on PyPI does not follow daisy's
ordinal and missing-value rules and is slow; the computation is a few
vectorised lines per variable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import polars as pl

from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.sequences.cluster import pam
from ozamonitor.sequences.quality import silhouette

Kind = Literal["numeric", "nominal", "ordinal"]


def _to_polars(df: Any) -> pl.DataFrame:
    if isinstance(df, pl.DataFrame):
        return df
    try:
        return pl.from_pandas(df)
    except Exception as e:  # pragma: no cover - defensive
        raise TypeError(f"expected a polars or pandas DataFrame, got {type(df).__name__}") from e


@dataclass(frozen=True)
class _Encoded:
    """Variables encoded as float columns with per-variable scale and kind."""

    values: np.ndarray  # (n, p) float64, NaN = missing
    nominal: np.ndarray  # (p,) bool
    scale: np.ndarray  # (p,) range used to scale numeric / ordinal columns
    weights: np.ndarray  # (p,)
    names: tuple[str, ...]
    kinds: tuple[Kind, ...]
    #: level order of each ordinal column (given or inferred)
    levels: dict[str, list[Any]] = field(default_factory=dict)


def _infer_kind(s: pl.Series) -> Kind:
    if s.dtype == pl.Enum:
        return "ordinal"
    if s.dtype.is_numeric() and s.dtype != pl.Boolean:
        return "numeric"
    return "nominal"


def _encode(
    df: pl.DataFrame,
    columns: Sequence[str] | None,
    kinds: dict[str, Kind] | None,
    weights: dict[str, float] | None,
    ordinal_levels: dict[str, Sequence[Any]] | None,
) -> _Encoded:
    columns = list(columns) if columns is not None else df.columns
    if not columns:
        raise ConfigurationError("no variables given for the Gower distance")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"unknown column(s) for the Gower distance: {', '.join(missing)}")
    kinds = dict(kinds or {})
    ordinal_levels = dict(ordinal_levels or {})
    for c in ordinal_levels:
        kinds.setdefault(c, "ordinal")
    n, p = df.height, len(columns)
    values = np.empty((n, p), dtype=np.float64)
    nominal = np.zeros(p, dtype=bool)
    scale = np.ones(p, dtype=np.float64)
    w = np.ones(p, dtype=np.float64)
    used_kinds: list[Kind] = []
    used_levels: dict[str, list[Any]] = {}
    for j, c in enumerate(columns):
        s = df.get_column(c)
        kind = kinds.get(c) or _infer_kind(s)
        used_kinds.append(kind)
        if kind == "numeric":
            v = s.cast(pl.Float64, strict=False).to_numpy().astype(np.float64, copy=True)
        else:
            if kind == "ordinal":
                levels = list(ordinal_levels.get(c) or s.drop_nulls().unique().sort().to_list())
                used_levels[c] = levels
            else:
                levels = s.drop_nulls().unique().sort().to_list()
            codes = {lv: i for i, lv in enumerate(levels)}
            unknown = set(s.drop_nulls().unique().to_list()) - set(codes)
            if unknown:
                raise InputError(
                    f"column {c!r}: values {sorted(map(str, unknown))} are not "
                    "among the given ordinal levels"
                )
            v = np.array([np.nan if x is None else codes[x] for x in s.to_list()], dtype=np.float64)
            nominal[j] = kind == "nominal"
        values[:, j] = v
        if kind != "nominal":
            finite = v[np.isfinite(v)]
            rng = float(finite.max() - finite.min()) if finite.size else 0.0
            # daisy: a constant column contributes 0 (range taken as 1).
            scale[j] = rng if rng > 0 else 1.0
        if weights and c in weights:
            if weights[c] < 0:
                raise ConfigurationError(f"weight of {c!r} must be non-negative")
            w[j] = float(weights[c])
    return _Encoded(values, nominal, scale, w, tuple(columns), tuple(used_kinds), used_levels)


def _gower_block(a: _Encoded, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """Gower dissimilarities between rows ``ia`` and rows ``ib`` of the same encoding."""
    xa = a.values[ia]
    xb = a.values[ib]
    num = np.zeros((len(ia), len(ib)), dtype=np.float64)
    den = np.zeros_like(num)
    for j in range(xa.shape[1]):
        if a.weights[j] == 0:
            continue
        u = xa[:, j][:, None]
        v = xb[:, j][None, :]
        ok = np.isfinite(u) & np.isfinite(v)
        d = (u != v).astype(np.float64) if a.nominal[j] else np.abs(u - v) / a.scale[j]
        num += np.where(ok, a.weights[j] * d, 0.0)
        den += a.weights[j] * ok
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    if np.isnan(out).any():
        raise InputError("some pairs have no variable observed in common; Gower distance undefined")
    return out


def gower_distance(
    df: Any,
    columns: Sequence[str] | None = None,
    *,
    kinds: dict[str, Kind] | None = None,
    weights: dict[str, float] | None = None,
    ordinal_levels: dict[str, Sequence[Any]] | None = None,
    dtype: type = np.float64,
) -> np.ndarray:
    """Full N x N Gower dissimilarity matrix (as ``cluster::daisy(metric="gower")``).

    Parameters
    ----------
    df : polars.DataFrame or pandas.DataFrame
        The rows.
    columns : sequence of str, optional
        Variables to use (default: all).
    kinds : dict, optional
        Override a column's type: ``"numeric"``, ``"nominal"`` or ``"ordinal"``. By
        default numeric dtypes are numeric, ``pl.Enum`` is ordinal, the rest nominal.
    weights : dict, optional
        Variable weights (default 1).
    ordinal_levels : dict, optional
        Level order for ordinal columns (implies ``"ordinal"``).
    dtype : type, default numpy.float64

    Returns
    -------
    numpy.ndarray
        Symmetric, zero diagonal.

    Raises
    ------
    InputError
        Unknown columns, values outside the ordinal levels, or a pair with no
        variable observed in common.

    Examples
    --------
    >>> import polars as pl
    >>> d = gower_distance(pl.DataFrame({"x": [0.0, 5.0, 10.0], "g": ["a", "a", "b"]}))
    >>> float(d[0, 2])
    1.0
    """
    enc = _encode(_to_polars(df), columns, kinds, weights, ordinal_levels)
    idx = np.arange(enc.values.shape[0])
    return _gower_block(enc, idx, idx).astype(dtype)


@dataclass
class SubgroupResult:
    """Outcome of :func:`find_subgroups`."""

    k: int
    labels: np.ndarray  # (n,) cluster 1..k, in input order
    medoids: np.ndarray  # (k,) row indices of the medoids in the input
    silhouette: dict[int, float]  # average silhouette width per k tried
    stability: np.ndarray  # (k,) mean bootstrap Jaccard per cluster (NaN if not computed)
    profiles: pl.DataFrame  # per cluster: size, share, mean / modal category per variable
    method: str
    variables: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict)
    #: the medoids' rows and the fit's Gower encoding, for :meth:`predict`
    _model: _GowerModel | None = field(default=None, repr=False)

    def assign(self) -> pl.Series:
        """Cluster labels as a polars Series named ``subgroup``."""
        return pl.Series("subgroup", self.labels, dtype=pl.Int32)

    def predict(self, new: Any, *, block: int = 20_000) -> np.ndarray:
        """The subgroup (1..k) of each row of ``new``: its nearest medoid.

        Distances are Gower distances on the fit's scale (the ranges of the
        numeric and ordinal variables among the rows clustered, the fit's ordinal
        levels and variable weights), so a row of the fit gets its own label
        back (with PAM) and new rows are placed as the fit would place them; ties
        go to the lower label.

        Parameters
        ----------
        new : polars.DataFrame or pandas.DataFrame
            Rows with (at least) the fit's variables.
        block : int, default 20000
            Rows compared with the medoids at a time (bounds memory).

        Returns
        -------
        numpy.ndarray
            Labels ``1..k`` (int64), one per row of ``new``.

        Raises
        ------
        InputError
            When a variable is missing, or an ordinal value is not among the fit's
            levels.
        """
        if self._model is None:
            raise ConfigurationError("this SubgroupResult was not made by find_subgroups")
        m = self._model
        frame = _to_polars(new)
        variables = list(self.variables)
        both = pl.concat([m.medoid_rows, frame.select(variables)], how="vertical_relaxed")
        enc = _encode(both, variables, m.kinds, m.weights, m.ordinal_levels)
        enc = replace(enc, scale=m.scale)
        k = m.medoid_rows.height
        med = np.arange(k)
        medoid_label = self.labels[self.medoids]
        out = np.empty(frame.height, dtype=np.int64)
        for lo in range(0, frame.height, block):
            idx = np.arange(lo, min(frame.height, lo + block))
            out[idx] = medoid_label[np.argmin(_gower_block(enc, idx + k, med), axis=1)]
        return out


@dataclass(frozen=True)
class _GowerModel:
    """What :meth:`SubgroupResult.predict` needs of a fit."""

    medoid_rows: pl.DataFrame  # the medoids' variables, in label order
    kinds: dict[str, Kind]
    weights: dict[str, float] | None
    ordinal_levels: dict[str, list[Any]]
    scale: np.ndarray


def _pam(d: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """FasterPAM from the BUILD start: the one PAM of :mod:`ozamonitor.sequences.cluster`.

    Deterministic (BUILD is greedy), so no seed: the labels of a fit depend on the
    data alone. (Before version 0.2 a random start drawn by ``kmedoids`` with the
    seed was used; see docs/impact.md for how that changed the subgroups.)
    """
    res = pam(d, k, init="build")
    return res.labels, res.medoids


def _asw(d: np.ndarray, labels: np.ndarray) -> float:
    """Average silhouette width (:func:`ozamonitor.sequences.quality.silhouette`, as
    WeightedCluster; NaN for a single cluster)."""
    if len(np.unique(labels)) < 2:
        return float("nan")
    return float(np.mean(silhouette(d, labels)))


def _jaccard_stability(
    d: np.ndarray, labels: np.ndarray, k: int, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Mean over bootstrap samples of each cluster's best Jaccard (fpc::clusterboot, "boot")."""
    n = len(labels)
    acc = np.zeros(k)
    for _ in range(n_boot):
        draw = rng.integers(0, n, size=n)
        bl, _ = _pam(d[np.ix_(draw, draw)], k)
        uniq, first = np.unique(draw, return_index=True)
        boot_lab = bl[first]
        orig = labels[uniq]
        for c in range(k):
            in_c = orig == c
            if not in_c.any():
                continue
            best = 0.0
            for c2 in range(k):
                in_b = boot_lab == c2
                inter = np.count_nonzero(in_c & in_b)
                union = np.count_nonzero(in_c | in_b)
                if union:
                    best = max(best, inter / union)
            acc[c] += best
    return acc / max(n_boot, 1)


def _profiles(df: pl.DataFrame, variables: Sequence[str], labels: np.ndarray) -> pl.DataFrame:
    frame = df.select(variables).with_columns(subgroup=pl.Series(labels, dtype=pl.Int32))
    aggs: list[pl.Expr] = [pl.len().alias("size")]
    for c in variables:
        s = df.get_column(c)
        if s.dtype.is_numeric() and s.dtype != pl.Boolean:
            aggs.append(pl.col(c).mean().alias(f"{c}_mean"))
        else:
            aggs.append(pl.col(c).drop_nulls().mode().first().cast(pl.String).alias(f"{c}_mode"))
            aggs.append(
                (pl.col(c) == pl.col(c).drop_nulls().mode().first()).mean().alias(f"{c}_mode_share")
            )
    out = frame.group_by("subgroup").agg(aggs).sort("subgroup")
    return out.with_columns(share=pl.col("size") / pl.col("size").sum())


def find_subgroups(
    df: Any,
    variables: Sequence[str],
    *,
    k: int | None = None,
    ks: Sequence[int] = range(2, 9),
    method: Literal["pam", "kprototypes"] = "pam",
    kinds: dict[str, Kind] | None = None,
    weights: dict[str, float] | None = None,
    ordinal_levels: dict[str, Sequence[Any]] | None = None,
    n_boot: int = 20,
    max_fit: int = 4000,
    seed: int = 0,
) -> SubgroupResult:
    """Cluster pupils on mixed characteristics into subgroups (Gower distance + PAM).

    Labels run 1..k, ordered by cluster size (largest first), so results are
    stable and readable.

    Parameters
    ----------
    df : polars.DataFrame or pandas.DataFrame
        One row per pupil.
    variables : sequence of str
        The characteristics clustered on.
    k : int, optional
        Fix the number of clusters; otherwise each k in ``ks`` is tried and the one
        with the largest average silhouette width (on the Gower distances of the
        fitted rows) is kept.
    ks : sequence of int, default range(2, 9)
    method : {"pam", "kprototypes"}, default "pam"
        PAM (:func:`ozamonitor.sequences.cluster.pam`, FasterPAM from BUILD) or the
        ``kmodes`` package's k-prototypes (numeric columns standardised; the
        silhouette is still computed on Gower distances so both are comparable).
    kinds : dict, optional
        A column's kind (``"numeric"``, ``"nominal"``, ``"ordinal"``) where the
        dtype would say otherwise.
    weights : dict, optional
        Variable weights (default 1).
    ordinal_levels : dict, optional
        Level order of ordinal columns.
    n_boot : int, default 20
        Bootstrap samples for the clusters' stability (0: none).
    max_fit : int, default 4000
        Above this many rows the medoids are fitted on a random sample and every
        row is assigned to its nearest medoid.
    seed : int, default 0
        Seeds the sample, the bootstrap and k-prototypes.

    Returns
    -------
    SubgroupResult
        Labels, medoids, silhouette per k, stability, profiles; ``predict(new)``
        places new rows.
    """
    frame = _to_polars(df)
    variables = list(variables)
    n = frame.height
    candidates = [k] if k is not None else [int(x) for x in ks]
    if not candidates or min(candidates) < 2:
        raise ConfigurationError("k must be at least 2")
    if n < max(candidates) + 1:
        raise InputError(f"{n} rows are too few for {max(candidates)} subgroups")
    rng = np.random.default_rng(seed)
    enc = _encode(frame, variables, kinds, weights, ordinal_levels)
    fit_idx = np.sort(rng.choice(n, size=max_fit, replace=False)) if n > max_fit else np.arange(n)
    d_fit = _gower_block(enc, fit_idx, fit_idx)

    sil: dict[int, float] = {}
    fits: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for kk in candidates:
        if method == "pam":
            lab, med = _pam(d_fit, kk)
        elif method == "kprototypes":
            lab, med = _kprototypes(enc, fit_idx, d_fit, kk, seed)
        else:
            raise ConfigurationError(
                f"unknown subgroup method {method!r}; use 'pam' or 'kprototypes'")
        fits[kk] = (lab, med)
        sil[kk] = _asw(d_fit, lab)
    best_k = k if k is not None else max(sil, key=lambda x: (np.nan_to_num(sil[x], nan=-2), -x))
    lab_fit, med_fit = fits[best_k]
    medoids = fit_idx[med_fit]

    # Assign every row to its nearest medoid (identical to the fit for fitted rows with PAM).
    if n > max_fit:
        labels = np.empty(n, dtype=np.int64)
        for start in range(0, n, 20_000):
            block = np.arange(start, min(n, start + 20_000))
            labels[block] = np.argmin(_gower_block(enc, block, medoids), axis=1)
        if method == "pam":
            labels[fit_idx] = lab_fit
    else:
        labels = lab_fit

    stability = np.full(best_k, np.nan)
    if n_boot > 0 and method == "pam":
        stability = _jaccard_stability(d_fit, lab_fit, best_k, n_boot, rng)

    # Relabel 1..k by decreasing size (ties: by medoid row index).
    sizes = np.bincount(labels, minlength=best_k)
    order = sorted(range(best_k), key=lambda c: (-sizes[c], medoids[c]))
    remap = np.empty(best_k, dtype=np.int64)
    remap[order] = np.arange(1, best_k + 1)
    labels = remap[labels]
    medoids = medoids[order]
    stability = stability[order]
    return SubgroupResult(
        k=best_k,
        labels=labels,
        medoids=medoids,
        silhouette=sil,
        stability=stability,
        profiles=_profiles(frame, variables, labels),
        method=method,
        variables=tuple(variables),
        extra={"n_fit": len(fit_idx)},
        _model=_GowerModel(
            medoid_rows=frame.select(variables)[medoids.tolist()],
            kinds=dict(zip(enc.names, enc.kinds, strict=True)),
            weights=dict(weights) if weights else None,
            ordinal_levels=enc.levels,
            scale=enc.scale,
        ),
    )


def _kprototypes(
    enc: _Encoded, fit_idx: np.ndarray, d_fit: np.ndarray, k: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    from kmodes.kprototypes import KPrototypes

    x = enc.values[fit_idx].copy()
    if np.isnan(x).any():
        raise InputError("k-prototypes does not accept missing values; use method='pam'")
    cat = [j for j in range(x.shape[1]) if enc.kinds[j] == "nominal"]
    num = [j for j in range(x.shape[1]) if j not in cat]
    for j in num:
        sd = x[:, j].std()
        x[:, j] = (x[:, j] - x[:, j].mean()) / (sd if sd > 0 else 1.0)
    if not cat:
        raise InputError("k-prototypes needs at least one nominal variable; use method='pam'")
    kp = KPrototypes(n_clusters=k, random_state=seed, n_init=4, init="Cao")
    lab = np.asarray(kp.fit_predict(x.astype(object), categorical=cat), dtype=np.int64)
    # Representative rows: the member with the smallest total Gower distance to its cluster.
    med = np.array(
        [
            np.flatnonzero(lab == c)[np.argmin(d_fit[np.ix_(lab == c, lab == c)].sum(axis=1))]
            if (lab == c).any()
            else 0
            for c in range(k)
        ],
        dtype=np.int64,
    )
    return lab, med
