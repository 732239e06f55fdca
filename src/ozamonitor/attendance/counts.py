"""Published counts of attendance tiers and absence signals per school, gemeente and SWV.

Every number leaves through the joint disclosure control of
:mod:`ozamonitor.attendance.publication` (all region levels and measures of a
run protected together, attacker intervals checked; one symbol ``x`` for every
suppressed cell).

Tables are tidy: ``by, region, measure, count, rate, suppression``.

* tiers: ``pupils`` and its partition ``good``, ``at_risk``, ``chronic``
  (10-20% absent), ``severe`` (20% or more), and ``chronic_total`` (chronic +
  severe; its rate is the chronic absence rate); ``rate`` = count / pupils. The
  tiers of a region add up to its pupils and the regions to the national row
  (``NL``); these relations follow from the pupils' patterns.
* flags: ``early_warning``, ``improved`` and, with
  signals, ``report_16h_4w`` (children with a report of 16 hours in 4 weeks in
  the period) and ``lrv_4w``; ``rate`` per pupil.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from ozamonitor.attendance.params import SignalParams, TierParams
from ozamonitor.attendance.publication import measures, protect_attendance, table_name
from ozamonitor.attendance.tiers import attendance_per_pupil, period_bounds
from ozamonitor.errors import ConfigurationError
from ozamonitor.privacy.publication import SYMBOL, Protected
from ozamonitor.register.school_calendar import SchoolCalendar

__all__ = ["BY", "aggregate_tables", "attendance_counts", "protect", "published"]

#: Dimensions a count table can be split by (column of the per-pupil frame).
BY: dict[str, str] = {"school": "school_id", "gemeente": "gemeente_code", "swv": "swv_id",
                      "nation": ""}
NATION = "NL"
DEFAULT_THRESHOLD = 10
_COLUMNS = ("by", "region", "measure", "count", "rate", "suppression")


def protect(table: pl.DataFrame, *, sum_groups: Sequence[Any],
            threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """Disclosure control of a tidy count table (the adapter to :mod:`ozamonitor.privacy`).

    When every sum group's total is a row of ``table`` the table goes through
    the joint engine (:func:`ozamonitor.privacy.tidy.protect_tidy`); a group whose
    total is published elsewhere (``None``) falls back to the per-table rules.

    Parameters
    ----------
    table : polars.DataFrame
        Dimension columns and an integer ``count`` column.
    sum_groups : sequence
        ``(columns, total_expr_or_None)`` pairs: cells equal in ``columns`` add
        up to the row marked by ``total_expr`` (or to a total published elsewhere).
    threshold : int
        Cells counting 1..threshold-1 persons are suppressed.

    Returns
    -------
    polars.DataFrame
        ``table`` with ``count`` null where suppressed and a ``suppression``
        column (``primary``, ``secondary`` or null).
    """
    if all(total is not None for _, total in sum_groups):
        from ozamonitor.privacy.tidy import protect_tidy

        return protect_tidy(table, "count", [(list(c), t) for c, t in sum_groups],
                            threshold=threshold)[0]
    # a total published elsewhere is no row here: per-table rules
    from ozamonitor.privacy.disclosure import SumGroup, suppress

    groups = [SumGroup(list(cols), total=total) for cols, total in sum_groups]
    return suppress(table, "count", threshold=threshold, sum_groups=groups)


def attendance_counts(per_pupil: pl.DataFrame, by: str = "gemeente", *,
                      signals: pl.DataFrame | None = None,
                      threshold: int = DEFAULT_THRESHOLD,
                      protected: Protected | None = None) -> pl.DataFrame:
    """Tier and flag counts per region with disclosure control.

    Every level (school, gemeente, SWV, nation) is protected jointly
    (:func:`~ozamonitor.attendance.publication.protect_attendance`), so the
    tables of one run by different levels hide consistently.

    Parameters
    ----------
    per_pupil : polars.DataFrame
        From :func:`~ozamonitor.attendance.tiers.attendance_per_pupil`.
    by : {"school", "gemeente", "swv", "nation"}
        The region dimension (the pupil's main school, gemeente of residence,
        the main school's SWV).
    signals : polars.DataFrame, optional
        Signals of the same period (:func:`~ozamonitor.attendance.signals.detect`):
        adds ``report_16h_4w`` and ``lrv_4w`` (children with one).
    threshold : int
        Minimum published count (default 10).
    protected : Protected, optional
        The joint protection of ``per_pupil`` (computed when not given).

    Returns
    -------
    polars.DataFrame
        ``by, region, measure, count, rate, suppression`` (tidy), regions
        sorted, then the national row ``NL``; ``count`` is null where suppressed.
    """
    if by not in BY:
        raise ConfigurationError(f"unknown --by {by!r}; choose one of {', '.join(BY)}")
    res = protected or protect_attendance(per_pupil, signals, threshold=threshold)
    t = res.table(table_name(by))
    if by != "nation":
        nl = res.table(table_name("nation"))
        t = pl.concat([t, nl.select(t.columns)])
    names = measures(signals is not None)
    order = {m: i for i, m in enumerate(names)}
    is_nl = pl.col("region") == NATION
    pupils = t.filter(pl.col("measure") == "pupils").select("region", _pupils=pl.col("count"))
    out = (t.filter(pl.col("measure").is_in(names)).join(pupils, on="region", how="left")
           .with_columns(by=pl.lit(by), rate=(pl.col("count") / pl.col("_pupils")).round(4),
                         _nl=is_nl, _o=pl.col("measure").replace_strict(order,
                                                                        return_dtype=pl.Int32)))
    out = out.with_columns(rate=pl.when(pl.col("measure") == "pupils").then(None)
                           .otherwise(pl.col("rate")))
    return out.sort("_nl", "region", "_o").select(_COLUMNS)


def published(table: pl.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """A protected table for display and CSV: ``count`` as text, ``x`` where hidden.

    Every suppressed cell reads ``x`` and its ``suppression`` reads
    ``suppressed``: whether it was small or hidden to protect another cell is
    not shown (that would tell a reader the cell is 1..threshold-1).
    ``threshold`` is kept for callers' signatures.
    """
    hidden = pl.col("suppression").is_not_null()
    return table.with_columns(
        count=pl.when(hidden).then(pl.lit(SYMBOL)).otherwise(pl.col("count").cast(pl.String)),
        suppression=pl.when(hidden).then(pl.lit("suppressed")))


def aggregate_tables(register: Any, *, asof: dt.date, period: str = "schoolyear",
                     by: Sequence[str] = ("school", "gemeente", "swv", "nation"),
                     calendar: SchoolCalendar | str | Path | None = None,
                     tier_params: TierParams | None = None,
                     signal_params: SignalParams | None = None,
                     threshold: int = DEFAULT_THRESHOLD) -> dict[str, pl.DataFrame]:
    """The published attendance tables, for the count tables and the report.

    Parameters
    ----------
    register : Register or path
        The register (``absence_days`` and its other tables).
    asof, period : see :func:`~ozamonitor.attendance.tiers.attendance_per_pupil`.
    by : sequence of str
        Dimensions, one table each.
    calendar, tier_params, signal_params, threshold :
        As in the functions called.

    Returns
    -------
    dict of str to polars.DataFrame
        ``{"attendance_<by>": tidy table}`` (see :func:`attendance_counts`);
        signals count when they fall in the period.
    """
    from ozamonitor.attendance.signals import signals_from_register

    cal = SchoolCalendar.load(calendar)
    per = attendance_per_pupil(register, asof=asof, period=period, calendar=cal,
                               params=tier_params)
    lo, _ = period_bounds(asof, period)
    sig = signals_from_register(register, asof=asof, start=lo, calendar=cal,
                                params=signal_params).signals
    res = protect_attendance(per, sig, threshold=threshold)
    return {f"attendance_{b}": attendance_counts(per, b, signals=sig, threshold=threshold,
                                                 protected=res) for b in by}
