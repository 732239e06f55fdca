"""Attribution of children without a school to a samenwerkingsverband (SWV).

A child who is not enrolled belongs to no school's SWV; it is attributed through
its gemeente (of residence, or the exemption's gemeente) and the register's
``gemeente_regions`` table: the SWV PO below age 12, the SWV VO from 12. Where
a gemeente lies in several SWVs of that kind the rule is explicit:

* ``largest_share`` (default): the SWV with the largest share of the gemeente,
  ties to the lowest SWV id;
* ``fractional``: the child counts ``share / sum of shares`` in each SWV.

Both the count tables (:mod:`~ozamonitor.counting.count`) and the Inspectie's
registration (:mod:`~ozamonitor.counting.inspectie`) use these functions, so
the rule is written once.
"""

from __future__ import annotations

from typing import Literal, TypeVar

import polars as pl

SwvRule = Literal["largest_share", "fractional"]
SWV_RULES = ("largest_share", "fractional")

#: Region kinds of SWVs in ``regions`` / ``gemeente_regions``.
SWV_KINDS = ("swv_po", "swv_vo")

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def swv_kind(age: pl.Expr) -> pl.Expr:
    """``"swv_po"`` below age 12, ``"swv_vo"`` from 12 (age in whole years)."""
    return pl.when(age < 12).then(pl.lit("swv_po")).otherwise(pl.lit("swv_vo"))


def gemeente_swv(gemeente_regions: Frame, rule: SwvRule = "largest_share") -> Frame:
    """SWV(s) of each gemeente: ``gemeente_code, kind, region_id, w`` (weight).

    ``largest_share`` gives one row per gemeente and kind (``w`` = 1);
    ``fractional`` one row per SWV with its normalised share as ``w``.
    """
    gr = gemeente_regions.filter(pl.col("kind").is_in(SWV_KINDS))
    if rule == "largest_share":
        gr = (gr.sort("share", "region_id", descending=[True, False])
              .group_by("gemeente_code", "kind", maintain_order=True).first()
              .with_columns(w=pl.lit(1.0)))
    else:
        total = pl.col("share").sum().over("gemeente_code", "kind")
        gr = gr.with_columns(w=pl.when(total > 0).then(pl.col("share") / total).otherwise(None))
    return gr.select("gemeente_code", "kind", "region_id", "w")
