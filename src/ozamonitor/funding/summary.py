"""Across arrangements: where the gaps fall (counts by component kind and payer).

Each arrangement keeps a funding map: the advice for its components (an
:class:`~ozamonitor.funding.Advice` or the JSON saved from one). The study team
wants, across arrangements, how many components each payer carries per kind and
where no party is obliged to pay. The counts are of components and arrangements,
not of children; publish them through :mod:`ozamonitor.privacy` like any table
when arrangements are few.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ozamonitor.funding.advisor import Advice
from ozamonitor.funding.case import KINDS, PAYERS
from ozamonitor.funding.output import validate_advice_json
from ozamonitor.funding.problems import FundingInputError, Problem

if TYPE_CHECKING:
    import polars as pl

__all__ = ["FundingSummary", "summarise"]


@dataclass(frozen=True)
class FundingSummary:
    """Counts across arrangements' funding maps.

    Attributes
    ----------
    arrangements : int
        The number of funding maps.
    by_kind_payer : polars.DataFrame
        ``kind, payer, components, arrangements``: components of each kind whose
        answer names the payer (a component with two payers counts under
        both), and in how many arrangements; ``payer == "none"`` are the gaps.
    by_kind : polars.DataFrame
        ``kind, components, gaps, shared, region, arrangements,
        arrangements_with_gap``: per kind, every component once; ``shared``
        have more than one payer, ``region`` were answered by a region matrix.
    gaps : polars.DataFrame
        ``arrangement, component, kind, activity, rule``: every gap, to look into.
    """

    arrangements: int
    by_kind_payer: pl.DataFrame
    by_kind: pl.DataFrame
    gaps: pl.DataFrame


def _records(arrangement: str, fmap: Advice | Mapping[str, Any]) -> list[dict[str, Any]]:
    if isinstance(fmap, Advice):
        comps = [c.to_json() for c in fmap]
    else:
        try:
            comps = validate_advice_json(fmap).model_dump()["components"]
        except FundingInputError as e:
            raise FundingInputError(
                [Problem(f"{arrangement}: {p.field}" if p.field else arrangement, p.message)
                 for p in e.problems]) from None
    return [{"arrangement": arrangement, "component": c["id"], "kind": c["kind"],
             "activity": c["activity"], "payers": list(c["payers"]), "gap": c["gap"],
             "source": c["source"], "rule": c["rule"]} for c in comps]


def summarise(maps: Mapping[str, Advice | Mapping[str, Any]]) -> FundingSummary:
    """Count components by kind and payer, and the gaps, across arrangements.

    Parameters
    ----------
    maps : mapping
        Arrangement id -> its funding map (an :class:`Advice` or its JSON,
        ``Advice.to_json()``, as saved with the arrangement).

    Returns
    -------
    FundingSummary

    Raises
    ------
    FundingInputError
        When a saved map is not advice JSON; the field names the arrangement.
    """
    import polars as pl

    rows = [r for arr, fmap in maps.items() for r in _records(str(arr), fmap)]
    schema = {"arrangement": pl.String, "component": pl.String, "kind": pl.String,
              "activity": pl.String, "payers": pl.List(pl.String), "gap": pl.Boolean,
              "source": pl.String, "rule": pl.String}
    df = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    kind_order = pl.Enum(list(KINDS))
    payer_order = pl.Enum(list(PAYERS))

    by_kind_payer = (
        df.explode("payers").rename({"payers": "payer"})
        .group_by("kind", "payer")
        .agg(pl.len().alias("components"), pl.col("arrangement").n_unique().alias("arrangements"))
        .with_columns(pl.col("kind").cast(kind_order), pl.col("payer").cast(payer_order))
        .sort("kind", "payer")
        .with_columns(pl.col("kind").cast(pl.String), pl.col("payer").cast(pl.String))
        .with_columns(pl.col("components").cast(pl.Int64), pl.col("arrangements").cast(pl.Int64))
    )
    by_kind = (
        df.group_by("kind")
        .agg(pl.len().alias("components"),
             pl.col("gap").sum().alias("gaps"),
             (pl.col("payers").list.len() > 1).sum().alias("shared"),
             (pl.col("source") == "region").sum().alias("region"),
             pl.col("arrangement").n_unique().alias("arrangements"),
             pl.col("arrangement").filter(pl.col("gap")).n_unique()
             .alias("arrangements_with_gap"))
        .with_columns(pl.col("kind").cast(kind_order))
        .sort("kind")
        .with_columns(pl.col("kind").cast(pl.String),
                      *(pl.col(c).cast(pl.Int64) for c in
                        ("components", "gaps", "shared", "region", "arrangements",
                         "arrangements_with_gap")))
    )
    gaps = (df.filter(pl.col("gap"))
            .select("arrangement", "component", "kind", "activity", "rule")
            .sort("arrangement", "component"))
    return FundingSummary(len(maps), by_kind_payer, by_kind, gaps)
