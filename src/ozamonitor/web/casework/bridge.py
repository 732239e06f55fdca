"""Between the stored records and the library's engine (:mod:`ozamonitor.casework`).

:func:`to_engine` turns a stored case (with its events, consent and ledger) into
an :class:`ozamonitor.casework.model.Case`; :func:`check_event` replays a case
with a new event and turns a refused transition into a form error naming the
field. State, due steps and the timeline are always computed, never stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from ozamonitor.casework import model as cm
from ozamonitor.casework.engine import case_state, due_steps, timeline
from ozamonitor.casework.machine import STATE_LABELS_NL
from ozamonitor.casework.oogo import OOGOAgreement, agreements_for
from ozamonitor.errors import InputError

#: What to prefetch for :func:`to_engine` over many cases.
PREFETCH = ("events__actor", "consents__recorded_by", "ledger")

__all__ = ["PREFETCH", "agreements_of", "case_steps", "check_event", "engine_event", "state_of",
           "timeline_rows", "to_engine"]


def _user(u: Any) -> str | None:
    return u.get_username() if u is not None else None


def engine_event(e: Any) -> cm.CaseEvent:
    """A stored :class:`~ozamonitor.web.casework.models.CaseEvent` as the engine's event."""
    return cm.CaseEvent(date=e.date, kind=e.kind, actor=_user(e.actor), note=e.note or None,
                        outcome=e.outcome or None, step=e.step or None)


def to_engine(case: Any) -> cm.Case:
    """The engine's :class:`~ozamonitor.casework.model.Case` of a stored case.

    Reads ``events``, ``consents`` and ``ledger`` through ``.all()``, so a list of
    cases fetched with :data:`PREFETCH` costs no query per case.
    """
    return cm.Case(
        case_id=case.code, person_id=case.person_id, gemeente_code=case.gemeente.code,
        swv_id=case.swv.code if case.swv_id else None, start=case.start,
        opened_on=case.opened_on, source=case.source, signal=case.signal or None,
        case_director=_user(case.director),
        mandated_by=tuple(x.strip() for x in case.mandated_by.split(";") if x.strip()),
        events=tuple(engine_event(e) for e in case.events.all()),
        consents=tuple(cm.Consent(party=c.party, given=c.given, date=c.date, scope=c.scope,
                                  recorded_by=_user(c.recorded_by))
                       for c in case.consents.all()),
        ledger=tuple(cm.LedgerEntry(entry_id=le.entry_id, date=le.date, amount=le.amount,
                                    payer=le.payer, purpose=le.purpose,
                                    approved_by=le.approved_by or None,
                                    approved_on=le.approved_on, invoice=le.invoice or None)
                     for le in case.ledger.all()),
    )


def check_event(case: Any, event: cm.CaseEvent) -> None:
    """Raise :class:`InputError` (field ``kind`` or ``date``) if the chain refuses ``event``."""
    eng = to_engine(case).with_events(event)
    try:
        case_state(eng)
    except InputError as e:
        field = "date" if (e.field or "").endswith(".date") else "kind"
        raise InputError(e.message, field=field) from None


def case_steps(cases: Iterable[Any], asof: dt.date, *, only_open: bool = False) -> list[dict]:
    """Due steps of stored cases (rows of :func:`ozamonitor.casework.engine.due_steps`)."""
    return due_steps([to_engine(c) for c in cases], asof, only_open=only_open).to_dicts()


def state_of(case: Any, asof: dt.date) -> tuple[str, str]:
    """The case's state and its Dutch label as of ``asof``."""
    st = case_state(to_engine(case), asof).state
    return st, STATE_LABELS_NL[st]


def timeline_rows(case: Any, asof: dt.date) -> list[dict]:
    """The case's timeline (events, consent, ledger, deadlines) as of ``asof``."""
    return timeline(to_engine(case), asof).to_dicts()


def agreements_of(agreements: Iterable[Any], case: Any) -> list[Any]:
    """The stored OOGO agreements of the case's gemeente and SWV valid on its opening date."""
    stored = list(agreements)
    lib = [OOGOAgreement(region_id=a.region.code, kind=a.kind, title=a.title,
                         valid_from=a.valid_from, valid_to=a.valid_to) for a in stored]
    keep = {(a.region_id, a.kind, a.title, a.valid_from)
            for a in agreements_for(lib, to_engine(case))}
    return [a for a in stored if (a.region.code, a.kind, a.title, a.valid_from) in keep]
