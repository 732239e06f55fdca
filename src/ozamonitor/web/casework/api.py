"""The case chain's JSON API (Django Ninja), mounted at /api/cases with Bearer auth.

Every route asks ``ozamonitor.web.access`` exactly as the pages do, and every
read of one case is logged with its legal basis.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from ozamonitor.casework.model import CaseEvent as EngineEvent
from ozamonitor.errors import InputError
from ozamonitor.web import access
from ozamonitor.web.casework import bridge, rules
from ozamonitor.web.casework.models import Case, CaseEvent, Consent
from ozamonitor.web.casework.views import _URGENCY

router = Router(tags=["cases"])


class StepOut(Schema):
    step: str
    due: dt.date
    status: str
    done_on: dt.date | None
    days_overdue: int | None


class CaseOut(Schema):
    code: str
    person_id: str
    gemeente: str
    swv: str | None
    start: dt.date
    opened_on: dt.date
    state: str
    next_step: StepOut | None


class TimelineOut(Schema):
    date: dt.date
    kind: str
    what: str
    state: str | None
    actor: str | None
    note: str | None


class CaseDetailOut(CaseOut):
    source: str
    signal: str
    director: str | None
    steps: list[StepOut]
    timeline: list[TimelineOut]


class DueOut(StepOut):
    case: str
    gemeente: str
    swv: str | None
    state: str


class EventIn(Schema):
    date: dt.date
    kind: str
    outcome: str | None = None
    step: str | None = None
    note: str = Field("", max_length=4000)


class ConsentIn(Schema):
    party: str
    given: bool
    date: dt.date
    scope: str = "case"


class Problem(Schema):
    detail: str
    field: str | None = None


def _asof(asof: dt.date | None) -> dt.date:
    return asof or dt.date.today()


def _out(case: Case, steps: list[dict], when: dt.date) -> dict[str, Any]:
    mine = [s for s in steps if s["case_id"] == case.code]
    urgent = sorted((s for s in mine if s["status"] in _URGENCY),
                    key=lambda s: (_URGENCY[s["status"]], s["due"]))
    return {"code": case.code, "person_id": case.person_id, "gemeente": case.gemeente.code,
            "swv": case.swv.code if case.swv_id else None, "start": case.start,
            "opened_on": case.opened_on,
            "state": mine[0]["state"] if mine else bridge.state_of(case, when)[0],
            "next_step": urgent[0] if urgent else None}


def _visible(request: HttpRequest) -> Any:
    return access.visible(request, Case).select_related("gemeente", "swv", "director")


@router.get("", response=list[CaseOut])
def list_cases(request: HttpRequest, asof: dt.date | None = None) -> Any:
    """The cases you may see, with state and the most urgent open step as of ``asof``."""
    when = _asof(asof)
    cases = list(_visible(request).prefetch_related(*bridge.PREFETCH))
    steps = bridge.case_steps(cases, when)
    return [_out(c, steps, when) for c in cases]


@router.get("/due", response=list[DueOut])
def due(request: HttpRequest, asof: dt.date | None = None) -> Any:
    """The work list: due and overdue steps of the cases you may see."""
    when = _asof(asof)
    cases = {c.code: c for c in _visible(request).prefetch_related(*bridge.PREFETCH)}
    out = []
    for s in bridge.case_steps(cases.values(), when, only_open=True):
        c = cases[s["case_id"]]
        out.append(s | {"case": c.code, "gemeente": c.gemeente.code,
                        "swv": c.swv.code if c.swv_id else None})
    return out


@router.get("/{code}", response=CaseDetailOut)
def get_case(request: HttpRequest, code: str, asof: dt.date | None = None) -> Any:
    """One case: state, steps with their deadlines, and the timeline (the read is logged)."""
    case = access.get_visible_or_404(request, _visible(request), code=code)
    rules.record_read(request, case, "api")
    when = _asof(asof)
    steps = bridge.case_steps([case], when) if case.opened_on <= when else []
    return {**_out(case, steps, when), "source": case.source, "signal": case.signal,
            "director": case.director.get_username() if case.director_id else None,
            "steps": steps, "timeline": bridge.timeline_rows(case, when)}


@router.post("/{code}/events", response={201: TimelineOut, 403: Problem, 404: Problem,
                                         422: Problem})
def add_event(request: HttpRequest, code: str, payload: EventIn) -> Any:
    """Record a step or a record; the chain refuses what its state does not allow (422)."""
    case = access.get_visible_or_404(request, _visible(request), code=code)
    access.require_change(request, case)
    try:
        ev = EngineEvent(date=payload.date, kind=payload.kind, outcome=payload.outcome,
                         step=payload.step, note=payload.note or None)
        bridge.check_event(case, ev)
    except InputError as e:
        raise _field_error(e.message, e.field or "kind") from None
    except ValueError as e:
        raise _field_error(str(e).splitlines()[-1] if str(e) else "invalid", "kind") from None
    row = CaseEvent(case=case, date=ev.date, kind=ev.kind, actor=request.user,
                    note=payload.note, outcome=ev.outcome or "", step=ev.step or "")
    row.save()
    return Status(201, {"date": row.date, "kind": row.kind, "what": row.kind,
                        "state": bridge.state_of(case, row.date)[0],
                        "actor": request.user.get_username(), "note": row.note})


@router.post("/{code}/consents", response={201: ConsentIn, 403: Problem, 404: Problem,
                                           422: Problem})
def add_consent(request: HttpRequest, code: str, payload: ConsentIn) -> Any:
    """Record consent given or withdrawn by ``parent`` or ``child``."""
    case = access.get_visible_or_404(request, _visible(request), code=code)
    access.require_change(request, case)
    if payload.party not in ("parent", "child"):
        raise _field_error("party must be parent or child", "party")
    Consent(case=case, party=payload.party, given=payload.given, date=payload.date,
            scope=payload.scope, recorded_by=request.user).save()
    return Status(201, payload.dict())


def _field_error(detail: str, field: str) -> HttpError:
    err = HttpError(422, detail)
    err.field = field  # type: ignore[attr-defined]
    return err
