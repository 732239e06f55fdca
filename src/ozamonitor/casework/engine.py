"""The case engine: replay a case's events, compute its state, due steps and timeline.

Pure functions: a :class:`~ozamonitor.casework.model.Case` in, state and due
steps out; nothing is stored. The steps and their deadlines (from the case's
start, the first day of the absence episode; :class:`ChainTimers`):

``consent``      consent of the parents and the child recorded (advice 5), due on
                 the opening date (+ ``consent`` days); done while the latest
                 record of each party gives consent.
``casusregie``   a case director took over (advice 7), due start + 28 days; done
                 on entering ``casusregie`` or a later state.
``doorbraak``    the breakthrough team was mobilised (advice 8), due start + 56;
                 done on entering ``doorbraak`` or ``arbitration``.
``arbitration``  binding arbitration started (advice 9; the 3-month alarm), due
                 start + 84; done on entering ``arbitration``.

A resolved or closed case has no open steps; a step can be waived
(``waive_step`` with a reason, e.g. an offer within 4 weeks makes the
breakthrough team unnecessary). As of a date a step is ``done``, ``done_late``,
``waived``, ``overdue`` (deadline passed), ``due`` (deadline within
``horizon_days``) or ``upcoming``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from statemachine.exceptions import TransitionNotAllowed

from ozamonitor.casework.machine import ACTIVE_STATES, STATE_LABELS_NL, CaseChain
from ozamonitor.casework.model import (
    CONSENT_PARTIES,
    TRANSITIONS,
    Case,
    CaseEvent,
    ChainTimers,
)
from ozamonitor.errors import ConfigurationError, InputError

__all__ = [
    "STEPS",
    "CaseState",
    "case_state",
    "due_steps",
    "open_from_signal",
    "states_of",
    "step_summary",
    "timeline",
]

#: Steps with a deadline, in chain order.
STEPS: tuple[str, ...] = ("consent", "casusregie", "doorbraak", "arbitration")
#: The state that completes each timed step (or any later state in this list).
_DONE_BY: dict[str, tuple[str, ...]] = {
    "casusregie": ("casusregie", "doorbraak", "arbitration"),
    "doorbraak": ("doorbraak", "arbitration"),
    "arbitration": ("arbitration",),
}


class _Holder:
    """The model python-statemachine keeps the state on."""

    state: str | None = None


@dataclass(frozen=True)
class CaseState:
    """A case replayed up to a date.

    Attributes
    ----------
    state : str
        Current state (see :data:`~ozamonitor.casework.machine.STATES`).
    entered : dict of str to date
        First date each state was entered.
    outcome : str or None
        Outcome of the last ``resolve`` or ``close``.
    waived : dict of str to date
        Steps waived and when.
    consent : bool
        Whether every party of :data:`CONSENT_PARTIES` currently consents.
    consent_since : date or None
        Since when (the latest of the parties' current consent dates).
    """

    state: str
    entered: dict[str, dt.date] = field(default_factory=dict)
    outcome: str | None = None
    waived: dict[str, dt.date] = field(default_factory=dict)
    consent: bool = False
    consent_since: dt.date | None = None

    @property
    def active(self) -> bool:
        """Whether the timers run (not resolved or closed)."""
        return self.state in ACTIVE_STATES


def _ordered(events: Iterable[CaseEvent]) -> list[tuple[int, CaseEvent]]:
    return sorted(enumerate(events), key=lambda ie: (ie[1].date, ie[0]))


def case_state(case: Case, asof: dt.date | None = None, *,
               parties: tuple[str, ...] = CONSENT_PARTIES) -> CaseState:
    """Replay ``case``'s events (up to ``asof``) through the state machine.

    Events are applied in date order (recorded order within a day).

    Raises
    ------
    InputError
        An event the chain does not allow in the state it finds (``field`` =
        ``events[i].kind``, ``i`` the event's position in ``case.events``), or
        an event dated before the case's start.
    """
    holder = _Holder()
    sm = CaseChain(holder)
    entered: dict[str, dt.date] = {"signalled": case.start}
    outcome = None
    waived: dict[str, dt.date] = {}
    for i, e in _ordered(case.events):
        if asof is not None and e.date > asof:
            break
        if e.date < case.start:
            raise InputError(f"event dated {e.date}, before the case's start {case.start}",
                             file=case.case_id, field=f"events[{i}].date")
        if e.kind in TRANSITIONS:
            before = holder.state
            try:
                sm.send(e.kind)
            except TransitionNotAllowed:
                raise InputError(f"{e.kind} is not allowed in state {before} "
                                 f"({STATE_LABELS_NL.get(str(before), before)})",
                                 file=case.case_id, field=f"events[{i}].kind") from None
            entered.setdefault(str(holder.state), e.date)
            if e.kind in ("resolve", "close"):
                outcome = e.outcome
            elif e.kind == "reopen":
                outcome = None
        elif e.kind == "waive_step" and e.step is not None:
            waived.setdefault(e.step, e.date)
    latest: dict[str, Any] = {}
    for c in sorted(case.consents, key=lambda c: c.date):
        if asof is None or c.date <= asof:
            latest[c.party] = c
    ok = all(p in latest and latest[p].given for p in parties)
    since = max((latest[p].date for p in parties), default=None) if ok else None
    return CaseState(state=str(holder.state), entered=entered, outcome=outcome,
                     waived=waived, consent=ok, consent_since=since)


def _step_rows(case: Case, st: CaseState, asof: dt.date, timers: ChainTimers,
               horizon_days: int) -> list[dict[str, Any]]:
    deadlines = {
        "consent": case.opened_on + dt.timedelta(days=timers.consent),
        "casusregie": case.start + dt.timedelta(days=timers.casusregie),
        "doorbraak": case.start + dt.timedelta(days=timers.doorbraak),
        "arbitration": case.start + dt.timedelta(days=timers.arbitration),
    }
    ended = st.entered.get("resolved") or st.entered.get("closed")
    rows = []
    for step in STEPS:
        due = deadlines[step]
        if step == "consent":
            done_on = st.consent_since if st.consent else None
        else:
            reached = [st.entered[s] for s in _DONE_BY[step] if s in st.entered]
            done_on = min(reached) if reached else None
        if step in st.waived:
            status, done_on = "waived", st.waived[step]
        elif done_on is not None:
            status = "done_late" if done_on > due else "done"
        elif not st.active:
            status = "not_needed"  # resolved or closed before the step
            done_on = ended
        elif asof > due:
            status = "overdue"
        elif (due - asof).days <= horizon_days:
            status = "due"
        else:
            status = "upcoming"
        rows.append({
            "case_id": case.case_id, "person_id": case.person_id,
            "gemeente_code": case.gemeente_code, "swv_id": case.swv_id,
            "state": st.state, "step": step, "due": due, "status": status,
            "done_on": done_on,
            "days_overdue": (asof - due).days if status == "overdue" else None,
        })
    return rows


_STEP_SCHEMA = {"case_id": pl.String, "person_id": pl.String, "gemeente_code": pl.String,
                "swv_id": pl.String, "state": pl.String, "step": pl.String, "due": pl.Date,
                "status": pl.String, "done_on": pl.Date, "days_overdue": pl.Int64}


def due_steps(cases: Iterable[Case], asof: dt.date, *, timers: ChainTimers | None = None,
              horizon_days: int = 14, only_open: bool = False) -> pl.DataFrame:
    """The steps of every case as of ``asof`` with their deadline and status.

    Parameters
    ----------
    cases : iterable of Case
    asof : datetime.date
    timers : ChainTimers, optional
        Default 28 / 56 / 84 days (and consent on the opening day).
    horizon_days : int
        A step whose deadline is at most this many days away is ``due``.
    only_open : bool
        Keep only ``overdue`` and ``due`` steps (the work lists).

    Returns
    -------
    polars.DataFrame
        ``case_id, person_id, gemeente_code, swv_id, state, step, due, status,
        done_on, days_overdue`` sorted by due date. Cases opened after ``asof``
        are left out.
    """
    t = timers or ChainTimers()
    rows: list[dict[str, Any]] = []
    for c in cases:
        if c.opened_on > asof:
            continue
        rows += _step_rows(c, case_state(c, asof), asof, t, horizon_days)
    df = pl.DataFrame(rows, schema=_STEP_SCHEMA)
    if only_open:
        df = df.filter(pl.col("status").is_in(["overdue", "due"]))
    return df.sort("due", "case_id", "step")


def step_summary(steps: pl.DataFrame, by: str = "gemeente") -> pl.DataFrame:
    """Counts of steps per region, step and status (a work list's header).

    ``by`` is ``gemeente`` or ``swv``. These are counts of cases for staff with
    access to them, not a publication: apply disclosure control before
    publishing (``ozamonitor.attendance.counts.protect``).
    """
    col = {"gemeente": "gemeente_code", "swv": "swv_id"}.get(by)
    if col is None:
        raise ConfigurationError(f"by must be gemeente or swv, not {by!r}")
    return (steps.group_by(pl.col(col).alias("region"), "step", "status").len("cases")
            .sort("region", "step", "status"))


def timeline(case: Case, asof: dt.date | None = None, *,
             timers: ChainTimers | None = None) -> pl.DataFrame:
    """Everything that happened and is due in a case, in date order.

    Rows: the events (with the state after each transition), consent records,
    ledger entries and the deadlines of the steps (``kind`` = ``deadline``,
    with the status as of ``asof``, default the last event's date or today).

    Returns
    -------
    polars.DataFrame
        ``date, kind, what, state, actor, note``.
    """
    t = timers or ChainTimers()
    last = max([e.date for e in case.events] + [case.opened_on])
    when = asof or max(last, dt.date.today())
    holder = _Holder()
    sm = CaseChain(holder)
    rows: list[dict[str, Any]] = [
        {"date": case.start, "kind": "episode_start", "what": "first day of absence",
         "state": "signalled", "actor": None, "note": case.signal}]
    for _, e in _ordered(case.events):
        if e.date > when:
            break
        if e.kind in TRANSITIONS:
            try:
                sm.send(e.kind)
            except TransitionNotAllowed:
                case_state(case, when)  # raises the located InputError
        what = e.kind + (f" ({e.outcome})" if e.outcome else "") + (
            f" ({e.step})" if e.step else "")
        rows.append({"date": e.date, "kind": e.kind, "what": what,
                     "state": str(holder.state), "actor": e.actor, "note": e.note})
    for c in case.consents:
        if c.date <= when:
            rows.append({"date": c.date, "kind": "consent",
                         "what": f"{c.party} {'gives' if c.given else 'withdraws'} consent",
                         "state": None, "actor": c.recorded_by, "note": c.scope})
    for le in case.ledger:
        if le.date <= when:
            rows.append({"date": le.date, "kind": "ledger",
                         "what": f"EUR {le.amount} paid by {le.payer}", "state": None,
                         "actor": le.approved_by, "note": le.purpose})
    for r in _step_rows(case, case_state(case, when), when, t, 14):
        rows.append({"date": r["due"], "kind": "deadline", "what": f"{r['step']}: "
                     f"{r['status']}", "state": None, "actor": None, "note": None})
    order = {"episode_start": 0, "deadline": 3, "consent": 1, "ledger": 2}
    df = pl.DataFrame(rows, schema={"date": pl.Date, "kind": pl.String, "what": pl.String,
                                    "state": pl.String, "actor": pl.String,
                                    "note": pl.String}, orient="row")
    return (df.with_row_index("_i")
            .with_columns(_o=pl.col("kind").replace_strict(order, default=1,
                                                           return_dtype=pl.Int32))
            .sort("date", "_o", "_i").drop("_i", "_o"))


def open_from_signal(signal: Mapping[str, Any], *, case_id: str, gemeente_code: str,
                     swv_id: str | None, opened_on: dt.date,
                     episode_start: dt.date | None = None, actor: str | None = None) -> Case:
    """A new case from a signal row (``person_id, signal, date, detail``).

    The case starts on ``episode_start`` (the first day of the absence
    episode; the signals' ``--episodes`` output has it) or, without it, on the
    signal's date; it is ``signalled`` on the signal's date and ``opened`` on
    ``opened_on``.
    """
    try:
        person, name, date = signal["person_id"], signal["signal"], signal["date"]
    except KeyError as e:
        raise InputError(f"a signal needs person_id, signal and date; {e} is missing",
                         field=str(e.args[0])) from None
    if isinstance(date, str):
        date = dt.date.fromisoformat(date)
    start = episode_start or date
    if opened_on < date:
        raise InputError(f"opened_on {opened_on} is before the signal's date {date}",
                         field="opened_on")
    return Case(case_id=case_id, person_id=str(person), gemeente_code=gemeente_code,
                swv_id=swv_id, start=start, opened_on=opened_on, source="signal",
                signal=f"{name} {date}",
                events=(CaseEvent(date=opened_on, kind="open", actor=actor,
                                  note=f"from signal {name} of {date}"),))


def states_of(cases: Iterable[Case], asof: dt.date) -> pl.DataFrame:
    """Current state, outcome and consent of each case (one row per case)."""
    rows = []
    for c in cases:
        if c.opened_on > asof:
            continue
        s = case_state(c, asof)
        rows.append({"case_id": c.case_id, "gemeente_code": c.gemeente_code,
                     "swv_id": c.swv_id, "state": s.state, "outcome": s.outcome,
                     "consent": s.consent, "days_since_start": (asof - c.start).days})
    return pl.DataFrame(rows, schema={"case_id": pl.String, "gemeente_code": pl.String,
                                      "swv_id": pl.String, "state": pl.String,
                                      "outcome": pl.String, "consent": pl.Boolean,
                                      "days_since_start": pl.Int64})

