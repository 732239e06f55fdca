"""The ledger export and the study team's counts of cases.

The ledger goes out through the library (:func:`ozamonitor.casework.ledger.
export_ledger`): ``xlsx`` holds the entries and the totals (per case and payer,
per payer, grand total, approved and unapproved apart), ``csv`` the entries.
The counts of cases per gemeente and state are the study team's only view of
the chain: pseudonymised (no case number or pupil), and every number passes
disclosure control (:func:`ozamonitor.attendance.counts.protect`).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl
from django.http import HttpResponse

from ozamonitor.attendance.counts import DEFAULT_THRESHOLD, protect, published
from ozamonitor.casework.engine import due_steps, states_of
from ozamonitor.casework.ledger import export_ledger
from ozamonitor.casework.machine import STATES
from ozamonitor.web.casework.bridge import to_engine

__all__ = ["case_counts", "ledger_bytes", "ledger_response"]

_CTYPE = {"csv": "text/csv; charset=utf-8",
          "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
NATION = "NL"


def ledger_bytes(cases: Iterable[Any], fmt: str) -> bytes:
    """The ledger of stored ``cases`` as ``csv`` (entries) or ``xlsx`` (entries and totals)."""
    with tempfile.TemporaryDirectory(prefix="ozm-ledger-") as tmp:
        out = Path(tmp) / f"ledger.{fmt}"
        export_ledger([to_engine(c) for c in cases], out)
        return out.read_bytes()


def ledger_response(cases: Iterable[Any], fmt: str) -> HttpResponse:
    """A download of :func:`ledger_bytes`."""
    resp = HttpResponse(ledger_bytes(cases, fmt), content_type=_CTYPE[fmt])
    resp["Content-Disposition"] = f'attachment; filename="ledger.{fmt}"'
    resp["X-Content-Type-Options"] = "nosniff"
    return resp


def case_counts(cases: Iterable[Any], asof: dt.date, *,
                threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """Cases per gemeente by state, and the overdue 3-month alarms, disclosure-controlled.

    Returns
    -------
    polars.DataFrame
        ``region, measure, count, suppression`` (``count`` as text: ``<10`` for a
        primary, ``x`` for a secondary suppression), the gemeenten sorted, then ``NL``.
        Measures: ``cases``, one per state (they add up to ``cases``), and
        ``alarm_overdue`` (no arbitration 84 days after the start, case still open).
    """
    eng = [to_engine(c) for c in cases]
    st = states_of(eng, asof)
    if st.height == 0:
        return pl.DataFrame(schema={"region": pl.String, "measure": pl.String,
                                    "count": pl.String, "suppression": pl.String})
    steps = due_steps(eng, asof)
    alarm = steps.filter((pl.col("step") == "arbitration") & (pl.col("status") == "overdue"))
    regions = st.select("gemeente_code").unique()
    per_state = (regions.join(pl.DataFrame({"state": list(STATES)}), how="cross")
                 .join(st.group_by("gemeente_code", "state").len("count"),
                       on=["gemeente_code", "state"], how="left")
                 .select(region="gemeente_code", measure="state",
                         count=pl.col("count").fill_null(0).cast(pl.Int64)))
    total = st.group_by("gemeente_code").len("count").select(
        region="gemeente_code", measure=pl.lit("cases"), count=pl.col("count").cast(pl.Int64))
    tidy = pl.concat([total, per_state])
    tidy = pl.concat([tidy, tidy.group_by("measure").agg(pl.col("count").sum())
                      .select(region=pl.lit(NATION), measure="measure", count="count")])
    m, r = pl.col("measure"), pl.col("region")
    t = protect(tidy, threshold=threshold,
                sum_groups=[(["region"], m == "cases"), (["measure"], r == NATION)])
    al = (regions.join(alarm.group_by("gemeente_code").len("count"), on="gemeente_code",
                       how="left")
          .select(region="gemeente_code", measure=pl.lit("alarm_overdue"),
                  count=pl.col("count").fill_null(0).cast(pl.Int64)))
    al = pl.concat([al, al.select(region=pl.lit(NATION), measure="measure",
                                  count=pl.col("count").sum()).unique()])
    a = protect(al, threshold=threshold, sum_groups=[(["measure"], r == NATION)])
    order = {k: i for i, k in enumerate(["cases", *STATES, "alarm_overdue"])}
    out = pl.concat([t, a])
    return (published(out, threshold)
            .with_columns(_nl=r == NATION,
                          _o=m.replace_strict(order, return_dtype=pl.Int32))
            .sort("_nl", "region", "_o").select("region", "measure", "count", "suppression"))
