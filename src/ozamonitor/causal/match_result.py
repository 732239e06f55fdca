"""The result of nearest-neighbour matching: pairs, weights, subclasses, matched data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ozamonitor.causal.propensity import MatchingError, PropensityModel, as_pandas

__all__ = ["MatchResult"]


@dataclass
class MatchResult:
    """Result of :func:`match_nearest`.

    ``match_matrix``: ``(n_treated, ratio)`` row positions (into the input
    data) of the matched controls, ``-1`` where none; rows follow the treated
    units in data order (``treated_rows``). ``weights`` (one per input row),
    ``subclass`` (pair/set number, ``NaN`` for unmatched; all ``NaN`` with
    replacement, as MatchIt omits it), ``distance`` (the score used, if any).
    """

    treated_rows: np.ndarray
    match_matrix: np.ndarray
    weights: np.ndarray
    subclass: np.ndarray
    treat: np.ndarray
    ids: np.ndarray
    distance: np.ndarray | None
    caliper: float | None
    settings: dict[str, Any] = field(default_factory=dict)
    propensity: PropensityModel | None = None

    @property
    def n_matched_treated(self) -> int:
        """Number of treated units with at least one match."""
        return int((self.match_matrix >= 0).any(axis=1).sum())

    @property
    def n_matched_controls(self) -> int:
        """Number of distinct controls used."""
        return int(((self.weights > 0) & (self.treat == 0)).sum())

    def pairs(self) -> dict[Any, list[Any]]:
        """Mapping treated id -> list of matched control ids (empty if unmatched)."""
        out: dict[Any, list[Any]] = {}
        for i, row in enumerate(self.treated_rows):
            out[self.ids[row]] = [self.ids[c] for c in self.match_matrix[i] if c >= 0]
        return out

    def pairs_frame(self) -> pd.DataFrame:
        """One row per treated unit: ``treated, control1..controlK`` (missing where none)."""
        k = self.match_matrix.shape[1]
        frame: dict[str, Any] = {"treated": self.ids[self.treated_rows]}
        for j in range(k):
            col = self.match_matrix[:, j]
            vals = pd.Series(self.ids[np.maximum(col, 0)], dtype=object)
            vals[col < 0] = None
            frame[f"control{j + 1}"] = vals.to_numpy()
        return pd.DataFrame(frame)

    def matched_data(self, data: Any, *, id_col: str | None = None) -> Any:
        """The matched units of ``data`` with ``weights``, ``subclass`` and ``distance``.

        Units with weight 0 are left out, as MatchIt's ``match.data()`` does.

        Parameters
        ----------
        data : pandas.DataFrame or polars.DataFrame
            The units. Without ``id_col``, the frame that was matched (same rows,
            same order). With ``id_col``, any frame holding every matched unit once
            under that column, in any order; its other rows are left out.
        id_col : str, optional
            Identifier column of ``data`` to line its rows up with the matched
            units' ids (the ``id_col`` given to :func:`match_nearest`).

        Returns
        -------
        pandas.DataFrame or polars.DataFrame
            The same kind of frame as given, in ``data``'s row order.

        Raises
        ------
        MatchingError
            When the rows cannot be lined up (a different number of rows without
            ``id_col``; a matched unit missing or repeated with it).
        """
        is_polars = not isinstance(data, pd.DataFrame)
        df = as_pandas(data)
        if id_col is None:
            if len(df) != len(self.weights):
                raise MatchingError("data has a different number of rows than the matched data")
            rows = np.arange(len(df))
            out = df.copy()
        else:
            if id_col not in df.columns:
                raise MatchingError(f"id column {id_col!r} not in the data")
            keys = df[id_col].to_numpy()
            if pd.Series(keys).duplicated().any():
                dup = pd.Series(keys)[pd.Series(keys).duplicated()].iloc[0]
                raise MatchingError(f"id column {id_col!r} is not unique (e.g. {dup!r})")
            unit_of = {k: i for i, k in enumerate(self.ids.tolist())}
            rows = np.array([unit_of.get(k, -1) for k in keys.tolist()], dtype=np.int64)
            used = self.weights > 0
            missing = np.setdiff1d(np.flatnonzero(used), rows[rows >= 0])
            if missing.size:
                raise MatchingError(
                    f"{missing.size} matched unit(s) are not in the data "
                    f"(e.g. {id_col} {self.ids[missing[0]]!r})"
                )
            keep = rows >= 0
            out = df[keep].copy()
            rows = rows[keep]
        sub = self.subclass[rows]
        out["weights"] = self.weights[rows]
        out["subclass"] = pd.array(np.where(np.isnan(sub), 0, sub).astype(int), dtype="Int64")
        out.loc[np.isnan(sub), "subclass"] = pd.NA
        if self.distance is not None:
            out["distance"] = self.distance[rows]
        out = out[self.weights[rows] > 0].reset_index(drop=True)
        if is_polars:
            import polars as pl

            return pl.from_pandas(out)
        return out
