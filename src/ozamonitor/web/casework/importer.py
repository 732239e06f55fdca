"""Cases from absence signals, OOGO agreements from a file (shared by the pages and the CLI).

A signals file is the ``ozamonitor signals`` CSV (``person_id, signal, date,
detail``), optionally with ``gemeente_code``, ``swv_id`` and ``school_id``
columns; without them the case's gemeente, SWV and school come from a register
(:func:`locator_from_register`: the gemeente of residence on the signal's date,
else the school's; the school of the last absence day up to that date and its
SWV) or from a gemeente chosen on the import page. One case opens per child and
absence episode, from the first signal of the chosen kinds
(:data:`CASE_SIGNALS`): a signal of a child whose case of that episode exists,
or whose earlier case is still open on the signal's date, opens no new case.
An import is all or nothing: the first bad row stops it with the
file, row and field.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from django.db import transaction

from ozamonitor.casework.engine import open_from_signal
from ozamonitor.errors import InputError
from ozamonitor.web.casework.models import Case, CaseEvent, OOGOAgreement
from ozamonitor.web.core.models import Organisation

__all__ = ["CASE_SIGNALS", "ImportResult", "import_oogo", "import_signals",
           "locator_from_register", "read_signals"]

#: Signals that open a case by default (the 16-hour report and 4 weeks of absence).
CASE_SIGNALS: tuple[str, ...] = ("report_16h_4w", "lrv_4w")
_EPISODE = re.compile(r"(?:episode from|since) (\d{4}-\d{2}-\d{2})")
Locator = Callable[[str, dt.date], tuple[str | None, str | None, str | None]]


@dataclass
class ImportResult:
    """What an import did."""

    created: list[str] = field(default_factory=list)
    skipped: int = 0


def read_signals(data: bytes | str | Path, name: str = "signals.csv") -> pl.DataFrame:
    """Read a signals CSV (bytes from an upload or a path); dates checked per row."""
    label = str(data) if isinstance(data, (str, Path)) else name
    try:
        df = pl.read_csv(io.BytesIO(data) if isinstance(data, bytes) else Path(data),
                         infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as e:
        raise InputError(f"cannot read the signals ({e})", file=label) from None
    for col in ("person_id", "signal", "date"):
        if col not in df.columns:
            raise InputError(f"column {col} is missing", file=label, field=col)
    dates = df["date"].str.to_date("%Y-%m-%d", strict=False)
    bad = (dates.is_null() & df["date"].is_not_null()) | df["date"].is_null()
    if bad.any():
        row = int(bad.arg_max()) + 2  # 1-based, after the header
        raise InputError("not a date (YYYY-MM-DD)", file=label, row=row, field="date")
    return df.with_columns(date=dates)


def locator_from_register(register: Any, persons: Iterable[str]) -> Locator:
    """Where a child's case belongs on a date, from a register.

    Returns ``locate(person_id, date) -> (gemeente_code, swv_id, school_id)``.
    """
    from ozamonitor.register.store import Register

    reg = Register.open(register)
    ids = sorted(set(persons))
    res = reg.read("residences").filter(pl.col("person_id").is_in(ids)).sort("start")
    ab = (reg.scan("absence_days").filter(pl.col("person_id").is_in(ids))
          .select("person_id", "school_id", "date").sort("date").collect())
    schools = {r["school_id"]: r for r in reg.read("schools").iter_rows(named=True)}
    by_res: dict[str, list[dict]] = {}
    for r in res.iter_rows(named=True):
        by_res.setdefault(r["person_id"], []).append(r)
    by_ab: dict[str, list[tuple[dt.date, str]]] = {}
    for p, s, d in ab.iter_rows():
        by_ab.setdefault(p, []).append((d, s))

    def locate(person: str, day: dt.date) -> tuple[str | None, str | None, str | None]:
        school = next((s for d, s in reversed(by_ab.get(person, [])) if d <= day), None)
        srow = schools.get(school) if school else None
        gem = next((r["gemeente_code"] for r in reversed(by_res.get(person, []))
                    if r["start"] <= day and (r["end"] is None or r["end"] >= day)), None)
        return (gem or (srow or {}).get("gemeente_code"), (srow or {}).get("swv_id"), school)

    return locate


def _episode_start(row: dict, episodes: pl.DataFrame | None) -> dt.date:
    if episodes is not None:
        hit = episodes.filter((pl.col("person_id") == row["person_id"])
                              & (pl.col("start") <= row["date"])
                              & (pl.col("end").is_null() | (pl.col("end") >= row["date"])))
        if hit.height:
            return hit["start"].max()
    m = _EPISODE.search(row.get("detail") or "")
    return dt.date.fromisoformat(m.group(1)) if m else row["date"]


def _has_case(person: str, start: dt.date, day: dt.date,
              seen: set[tuple[str, dt.date]]) -> bool:
    """Whether the child has a case of this episode, or one still open on ``day``."""
    from ozamonitor.casework.engine import case_state
    from ozamonitor.web.casework.bridge import to_engine

    if any(p == person and s <= day for p, s in seen):
        return True
    for c in Case.objects.filter(person_id=person, start__lte=day).select_related(
            "gemeente", "swv", "director"):
        if c.start == start or case_state(to_engine(c), day).active:
            return True
    return False


def _next_code(gemeente: str, year: int, taken: dict[str, int]) -> str:
    key = f"{gemeente}-{year}-"
    if key not in taken:
        taken[key] = Case.objects.filter(code__startswith=key).count()
    while True:
        taken[key] += 1
        code = f"{key}{taken[key]:04d}"
        if not Case.objects.filter(code=code).exists():
            return code


def _org(code: str | None, kinds: tuple[str, ...]) -> Organisation | None:
    return Organisation.objects.filter(code=code, kind__in=kinds).first() if code else None


def import_signals(signals: pl.DataFrame, *, file: str = "signals.csv",
                   locate: Locator | None = None, gemeente: str | None = None,
                   episodes: pl.DataFrame | None = None,
                   kinds: Iterable[str] = CASE_SIGNALS, opened_on: dt.date | None = None,
                   user: Any = None, allowed: Callable[[Organisation], bool] | None = None
                   ) -> ImportResult:
    """Open one case per child and absence episode from ``signals`` (all or nothing).

    Parameters
    ----------
    signals : polars.DataFrame
        From :func:`read_signals`.
    file : str
        The file's name, for errors.
    locate : callable, optional
        ``locate(person_id, date) -> (gemeente, swv, school)`` (a register's).
    gemeente : str, optional
        Gemeente code for rows without one (the import page's choice).
    episodes : polars.DataFrame, optional
        The ``--episodes`` output (``person_id, start, end``): the case's start.
        Without it, the episode's start in the signal's detail, else its date.
    kinds : iterable of str
        Signals that open a case.
    opened_on : date, optional
        The opening date (default: the signal's date).
    user : User, optional
        Recorded as the one who opened the cases (audit log and the open event).
    allowed : callable, optional
        ``allowed(gemeente_org) -> bool``: refuse rows of other gemeenten.

    Raises
    ------
    InputError
        A row without a known gemeente, of a gemeente not allowed, or a bad date.
    """
    keep = set(kinds)
    rows = (signals.with_row_index("_row", offset=2).filter(pl.col("signal").is_in(keep))
            .sort("date", "_row"))
    result = ImportResult()
    taken: dict[str, int] = {}
    seen: set[tuple[str, dt.date]] = set()
    with transaction.atomic():
        for r in rows.iter_rows(named=True):
            start = _episode_start(r, episodes)
            if _has_case(r["person_id"], start, r["date"], seen):
                result.skipped += 1
                continue
            seen.add((r["person_id"], start))
            found = locate(r["person_id"], r["date"]) if locate else (None, None, None)
            gem_code = r.get("gemeente_code") or found[0] or gemeente
            gem = _org(gem_code, ("gemeente",))
            if gem is None:
                raise InputError(f"no gemeente {gem_code!r} for this pupil" if gem_code else
                                 "no gemeente: add the column, a register or choose one",
                                 file=file, row=r["_row"], field="gemeente_code")
            if allowed is not None and not allowed(gem):
                raise InputError(f"you may not open cases in {gem.code}", file=file,
                                 row=r["_row"], field="gemeente_code")
            swv = _org(r.get("swv_id") or found[1], ("swv_po", "swv_vo"))
            school = _org(r.get("school_id") or found[2], ("school",))
            opened = max(opened_on or r["date"], r["date"])
            code = _next_code(gem.code, opened.year, taken)
            eng = open_from_signal(r, case_id=code, gemeente_code=gem.code,
                                   swv_id=swv.code if swv else None, opened_on=opened,
                                   episode_start=start)
            case = Case(code=code, person_id=r["person_id"], gemeente=gem, swv=swv,
                        school=school, start=eng.start, opened_on=eng.opened_on,
                        source="signal", signal=eng.signal or "")
            _save(case, user)
            ev = eng.events[0]
            _save(CaseEvent(case=case, date=ev.date, kind=ev.kind, actor=user,
                            note=ev.note or ""), user)
            result.created.append(code)
    return result


def _save(obj: Any, user: Any) -> None:
    if user is not None:
        obj._history_user = user
    obj.save()


def import_oogo(path: str | Path, *, user: Any = None,
                allowed: Callable[[Organisation], bool] | None = None) -> ImportResult:
    """Record the agreements of a YAML/TOML/JSON file (:func:`ozamonitor.casework.oogo.
    load_agreements`); one already recorded (same region, kind, title, start) is kept."""
    from ozamonitor.casework.oogo import load_agreements

    result = ImportResult()
    items = load_agreements(path)
    with transaction.atomic():
        for i, a in enumerate(items):
            region = _org(a.region_id, ("gemeente", "swv_po", "swv_vo"))
            if region is None:
                raise InputError(f"no gemeente or SWV {a.region_id!r}", file=path,
                                 field=f"agreements[{i}].region_id")
            if allowed is not None and not allowed(region):
                raise InputError(f"you may not record agreements of {region.code}", file=path,
                                 field=f"agreements[{i}].region_id")
            if OOGOAgreement.objects.filter(region=region, kind=a.kind, title=a.title,
                                            valid_from=a.valid_from).exists():
                result.skipped += 1
                continue
            _save(OOGOAgreement(region=region, kind=a.kind, title=a.title,
                                valid_from=a.valid_from, valid_to=a.valid_to,
                                reference=a.reference or "",
                                case_director_body=a.case_director_body or "",
                                parties="; ".join(a.parties)), user)
            result.created.append(f"{region.code}:{a.kind}")
    return result
