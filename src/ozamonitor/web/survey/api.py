"""The questionnaire's JSON API (Django Ninja), mounted at /api/survey/ with Bearer auth.

Routes ask ``ozamonitor.web.access`` exactly as the pages do, and answers go
through the same form engine (:func:`ozamonitor.survey.answers.evaluate_part`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from ozamonitor.web import access
from ozamonitor.web.registry.concurrency import StaleEditError
from ozamonitor.web.survey import rules, service
from ozamonitor.web.survey.models import Response, Wave
from ozamonitor.web.survey.views import find_response

router = Router(tags=["survey"])


class Problem(Schema):
    detail: str
    field: str | None = None


class WaveOut(Schema):
    year: int
    instrument_version: str
    deadline: dt.date | None
    is_open: bool
    arrangements: list[str]


class FieldErrorOut(Schema):
    field: str
    kind: str
    message: str


class ResponseOut(Schema):
    wave: int
    arrangement: str
    part: str
    instrument_version: str
    status: str
    answers: dict[str, Any]
    prefilled: list[str]
    shown: int
    answered: int
    version: int
    errors: list[FieldErrorOut] = []


class AnswersIn(Schema):
    answers: dict[str, Any]
    submit: bool = False
    version: int | None = None


def _lang(request: HttpRequest) -> str:
    lang = request.GET.get("lang", getattr(request, "LANGUAGE_CODE", "nl")) or "nl"
    return "en" if lang.startswith("en") else "nl"


def _out(r: Response, errors: list[Any] | None = None, lang: str = "nl") -> dict[str, Any]:
    return {"wave": r.wave.year, "arrangement": r.arrangement.code, "part": r.part,
            "instrument_version": r.instrument_version,
            "status": r.status if r.pk else "not_started", "answers": r.answers or {},
            "prefilled": list(r.prefilled or []), "shown": r.shown, "answered": r.answered,
            "version": r.version if r.pk else 0,
            "errors": [{"field": e.field, "kind": e.kind, "message": e.message(lang)}
                       for e in errors or []]}


@router.get("/waves", response=list[WaveOut])
def list_waves(request: HttpRequest) -> list[dict[str, Any]]:
    """The waves you take part in (the study team: all)."""
    from ozamonitor.web.registry.models import Arrangement

    out = []
    for w in access.visible(request, Wave).distinct().order_by("year"):
        codes = access.visible(request, Arrangement).filter(survey_waves=w).order_by("code")
        out.append({"year": w.year, "instrument_version": w.instrument_version,
                    "deadline": w.deadline, "is_open": w.is_open,
                    "arrangements": list(codes.values_list("code", flat=True))})
    return out


@router.get("/waves/{year}/responses", response={200: list[ResponseOut], 404: Problem})
def list_responses(request: HttpRequest, year: int) -> Any:
    """The saved parts of a wave you may see."""
    wave = access.get_visible_or_404(request, Wave, year=year)
    rows = access.visible(request, wave.responses.all()).select_related(
        "wave", "arrangement").order_by("arrangement__code", "part")
    return [_out(r) for r in rows]


@router.get("/waves/{year}/{code}/{part}", response={200: ResponseOut, 404: Problem})
def get_response(request: HttpRequest, year: int, code: str, part: str) -> Any:
    """One part (``status: not_started`` when nothing is saved yet)."""
    return _out(find_response(request, year, code, part))


@router.put("/waves/{year}/{code}/{part}",
            response={200: ResponseOut, 400: ResponseOut, 403: Problem, 404: Problem,
                      409: Problem})
def put_response(request: HttpRequest, year: int, code: str, part: str,
                 payload: AnswersIn) -> Any:
    """Save a part (``submit: true`` to submit it). Answers with errors are stored as a
    draft and the errors returned, each naming its field (HTTP 400)."""
    resp = find_response(request, year, code, part)
    access.require_change(request, resp)
    p = access.principal(request.user)
    try:
        res = service.save_part(resp, dict(payload.answers), submit=payload.submit,
                                user=request.user, version=payload.version,
                                role=rules.role_for(p, resp.arrangement, part))
    except StaleEditError as e:
        err = HttpError(409, str(e))
        err.field = "version"  # type: ignore[attr-defined]
        raise err from None
    status = 400 if res.state.errors and (payload.submit or any(
        e.kind != "required" for e in res.state.errors)) else 200
    return Status(status, _out(res.response, res.state.errors, _lang(request)))
