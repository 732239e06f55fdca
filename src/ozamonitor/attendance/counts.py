"""Published counts of attendance tiers and absence signals per school, gemeente and SWV.

Every number leaves through :func:`protect`, the one adapter between this
package and :mod:`ozamonitor.privacy` (disclosure control: primary and
secondary suppression of counts below the threshold).

Tables are tidy: ``by, region, measure, count, rate, suppression``.

* tiers: ``pupils`` and its partition ``good``, ``at_risk``, ``chronic``
  (10-20% absent), ``severe`` (20% or more), and ``chronic_total`` (chronic +
  severe; its rate is the chronic absence rate); ``rate`` = count / pupils. The
  tiers of a region add up to its pupils and the regions to the national row
  (``NL``), both declared as sum groups; chronic_total is derived
  (``pupils - good - at_risk``, see :func:`_chronic_total`).
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
from ozamonitor.attendance.tiers import TIERS, attendance_per_pupil, period_bounds
from ozamonitor.errors import ConfigurationError
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
    from ozamonitor.privacy.disclosure import SumGroup, suppress

    groups = [SumGroup(list(cols), total=total) for cols, total in sum_groups]
    return suppress(table, "count", threshold=threshold, sum_groups=groups)


def _regions(per_pupil: pl.DataFrame, by: str) -> pl.Expr:
    if by not in BY:
        raise ConfigurationError(f"unknown --by {by!r}; choose one of {', '.join(BY)}")
    return pl.lit(NATION) if by == "nation" else pl.col(BY[by]).fill_null("unknown")


def attendance_counts(per_pupil: pl.DataFrame, by: str = "gemeente", *,
                      signals: pl.DataFrame | None = None,
                      threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """Tier and flag counts per region with disclosure control.

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

    Returns
    -------
    polars.DataFrame
        ``by, region, measure, count, rate, suppression`` (tidy), regions
        sorted, then the national row ``NL``.
    """
    reg = _regions(per_pupil, by)
    pp = per_pupil.with_columns(region=reg)
    cells = pp.group_by("region").agg(
        pupils=pl.len(),
        **{t: (pl.col("tier") == t).sum() for t in TIERS},
        chronic_total=pl.col("chronic").sum(),
        early_warning=pl.col("early_warning").sum(),
        improved=pl.col("improved").fill_null(False).sum(),
    )
    flags = ["early_warning", "improved"]
    if signals is not None:
        for name in ("report_16h_4w", "lrv_4w"):
            who = signals.filter(pl.col("signal") == name).select("person_id").unique()
            n = pp.join(who, on="person_id", how="semi").group_by("region").agg(
                pl.len().alias(name))
            cells = cells.join(n, on="region", how="left").with_columns(pl.col(name)
                                                                          .fill_null(0))
            flags.append(name)
    tiers = ["pupils", *TIERS]
    measures = [*tiers, "chronic_total", *flags]
    long = cells.unpivot(index="region", on=measures, variable_name="measure",
                         value_name="count").with_columns(pl.col("count").cast(pl.Int64))
    nation = long.group_by("measure").agg(pl.col("count").sum()).with_columns(
        region=pl.lit(NATION))
    if by != "nation":
        long = pl.concat([long, nation.select(long.columns)])
    is_nl = pl.col("region") == NATION
    m = pl.col("measure")
    tier_part = long.filter(m.is_in(tiers))
    flag_part = long.filter(m.is_in(flags))
    t = protect(tier_part, threshold=threshold,
                sum_groups=[(["region"], m == "pupils"),
                            (["measure"], is_nl if by != "nation" else None)])
    t = pl.concat([t, _chronic_total(t, threshold)])
    f = protect(flag_part, threshold=threshold,
                sum_groups=[(["measure"], is_nl if by != "nation" else None)])
    pupils = t.filter(pl.col("measure") == "pupils").select("region",
                                                             _pupils=pl.col("count"))
    order = {m: i for i, m in enumerate(measures)}
    out = (pl.concat([t, f]).join(pupils, on="region", how="left")
           .with_columns(by=pl.lit(by),
                         rate=(pl.col("count") / pl.col("_pupils")).round(4),
                         _nl=is_nl, _o=pl.col("measure").replace_strict(order,
                                                                        return_dtype=pl.Int32)))
    out = out.with_columns(rate=pl.when(pl.col("measure") == "pupils").then(None)
                           .otherwise(pl.col("rate")))
    return out.sort("_nl", "region", "_o").select(_COLUMNS)


def _chronic_total(t: pl.DataFrame, threshold: int) -> pl.DataFrame:
    """chronic + severe per region, derived from the protected tiers.

    It equals ``pupils - good - at_risk``, so it is shown exactly when those
    three are: a reader can compute it from them anyway. Publishing it as a
    cell of its own (a sum group chronic + severe) would force far more
    suppression without hiding anything more. A derived value below the
    threshold is shown as ``<threshold`` like a primary cell; where one of the
    three is hidden it is hidden too (``secondary``).
    """
    w = t.pivot(on="measure", index="region", values="count")
    val = pl.col("pupils") - pl.col("good") - pl.col("at_risk")
    small = (val > 0) & (val < threshold)
    return w.select(
        "region", measure=pl.lit("chronic_total"),
        count=pl.when(small).then(None).otherwise(val).cast(pl.Int64),
        suppression=pl.when(small).then(pl.lit("primary"))
        .when(val.is_null()).then(pl.lit("secondary")).otherwise(pl.lit(None, pl.String)),
    ).select(t.columns)


def published(table: pl.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """A protected table for display and CSV: ``count`` as text, ``<10`` / ``x`` where hidden.

    Primary suppression reads ``<threshold``, secondary ``x`` (as elsewhere in
    ozamonitor); the ``suppression`` column is kept.
    """
    flag = pl.col("suppression")
    return table.with_columns(
        count=pl.when(flag == "primary").then(pl.lit(f"<{threshold}"))
        .when(flag == "secondary").then(pl.lit("x"))
        .otherwise(pl.col("count").cast(pl.String)))


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
    return {f"attendance_{b}": attendance_counts(per, b, signals=sig, threshold=threshold)
            for b in by}
