"""Cross-table rules of schema 1.2 (care by law, the Besluit's conditions, the new tables).

Checks (the ``check`` field of a problem):

``indication``  a Wlz care spell whose start no Wlz indication (CIZ) of the person covers.
                Applied only when the register delivers ``wlz_indications`` (schema 1.2).
``enrolment``   an OZA participation whose start no enrolment of the person covers: the
                Besluit admits "pupils enrolled at a school".
``provider``    an OZA participation whose arrangement has no care provider (with its
                financier) on the participation's start date. Applied only when the
                register delivers ``arrangement_providers`` (schema 1.2 and later).
``financier``   a care spell paid by another financier than its law's (domain.md
                section 7: Jeugdwet and Wmo the gemeente, Wlz the zorgkantoor, Zvw the
                zorgverzekeraar, Wfz justitie).
``region_kind`` a TLV's ``swv_id`` that is no SWV; a care spell's ``decided_by`` that is
                no gemeente.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from ozamonitor.register.problems import ROW, problem_frame, quote_expr

__all__ = ["LAW_FINANCIER", "covered", "detail_problems"]

#: The financier of each law (domain.md section 7).
LAW_FINANCIER = {"jeugdwet": "gemeente", "wlz": "zorgkantoor", "zvw": "zorgverzekeraar",
                 "wmo": "gemeente", "wfz": "justitie"}


def covered(events: pl.LazyFrame, on: str, spells: pl.LazyFrame, *,
            keys: tuple[str, ...] = ("person_id",), start: str = "start",
            end: str = "end") -> pl.LazyFrame:
    """The rows of ``events`` (with :data:`ROW`) whose date ``on`` no spell covers.

    A spell of ``spells`` with the same ``keys`` covers the date when
    ``start <= date`` and its ``end`` is null or ``>= date`` (inclusive ends).

    Parameters
    ----------
    events : polars.LazyFrame
        Rows to check, with :data:`ROW`, ``keys`` and ``on``.
    on : str
        The date column of ``events``.
    spells : polars.LazyFrame
        Spells with ``keys``, ``start`` and ``end``.
    keys : tuple of str, default ("person_id",)
        Join keys.
    start, end : str
        The spell's columns.

    Returns
    -------
    polars.LazyFrame
        The uncovered rows of ``events`` (all its columns).
    """
    sp = spells.select(*keys, pl.col(start).alias("_cs"), pl.col(end).alias("_ce")).filter(
        pl.col("_cs").is_not_null())
    ev = events.filter(pl.col(on).is_not_null() & pl.all_horizontal(
        [pl.col(k).is_not_null() for k in keys]))
    hit = (
        ev.select(ROW, *keys, on).join(sp, on=list(keys), how="inner")
        .filter((pl.col("_cs") <= pl.col(on))
                & (pl.col("_ce").is_null() | (pl.col("_ce") >= pl.col(on))))
        .select(ROW).unique()
    )
    return ev.join(hit, on=ROW, how="anti")


def _region_kind(tables: dict[str, pl.LazyFrame], file: str, name: str, column: str,
                 kinds: list[str], what: str) -> pl.LazyFrame:
    reg = tables["regions"].select(pl.col("region_id").alias(column),
                                   pl.col("kind").alias("_rkind")).unique(column, keep="first")
    bad = tables[name].filter(pl.col(column).is_not_null()).join(
        reg, on=column, how="inner").filter(~pl.col("_rkind").is_in(kinds))
    return problem_frame(bad, file, column,
                         pl.format("region {} is a {}, expected {}", quote_expr(pl.col(column)),
                                   pl.col("_rkind"), pl.lit(what)), "region_kind")


def detail_problems(tables: dict[str, pl.LazyFrame], files: dict[str, str], *,
                    delivered: frozenset[str] | set[str] | None = None
                    ) -> Iterator[pl.LazyFrame]:
    """Problem frames of the schema 1.2 cross-table rules (see the module docstring).

    Parameters
    ----------
    tables : dict of str to polars.LazyFrame
        Every register table, cast to its schema, with :data:`ROW`.
    files : dict of str to str
        File name to report per table.
    delivered : set of str, optional
        The tables the register or source delivers (default: all of ``tables``). The
        ``indication`` and ``provider`` rules need ``wlz_indications`` and
        ``arrangement_providers``: a register of schema 1.1, or a source without those
        files, is not held to them.

    Yields
    ------
    polars.LazyFrame
        Problem frames (``file``, ``row``, ``field``, ``message``, ``check``).
    """
    given = set(tables) if delivered is None else set(delivered)
    care = tables["care_spells"]
    wlz = care.filter(pl.col("law") == "wlz")
    if "wlz_indications" in given:
        yield problem_frame(
            covered(wlz, "start", tables["wlz_indications"]), files["care_spells"], "start",
            pl.format("Wlz care from {} without a Wlz indication (CIZ) on that date",
                      pl.col("start")), "indication")
    want = pl.col("law").replace_strict(LAW_FINANCIER, default=None, return_dtype=pl.String)
    yield problem_frame(
        care.filter(pl.col("law").is_in(list(LAW_FINANCIER)) & pl.col("financier").is_not_null()
                    & (pl.col("financier") != want)),
        files["care_spells"], "financier",
        pl.format("{} care is paid by the {}, not by {}", pl.col("law"), want,
                  quote_expr(pl.col("financier"))), "financier")
    part = tables["oza_participation"]
    yield problem_frame(
        covered(part, "start", tables["enrolments"]), files["oza_participation"], "start",
        pl.format("participation starts {} but the pupil is not enrolled at a school that day",
                  pl.col("start")), "enrolment")
    if "arrangement_providers" in given:
        yield problem_frame(
            covered(part, "start", tables["arrangement_providers"].filter(
                pl.col("financier").is_not_null()), keys=("arrangement_id",)),
            files["oza_participation"], "arrangement_id",
            pl.format("arrangement {} has no care provider with a financier on {}",
                      quote_expr(pl.col("arrangement_id")), pl.col("start")), "provider")
    yield _region_kind(tables, files["tlvs"], "tlvs", "swv_id", ["swv_po", "swv_vo"],
                       "swv_po or swv_vo")
    yield _region_kind(tables, files["care_spells"], "care_spells", "decided_by", ["gemeente"],
                       "gemeente")
