"""The registry's JSON API (Django Ninja), mounted at /api/ with Bearer authentication.

Every route asks ``ozamonitor.web.access`` exactly as the pages do.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from ozamonitor.web import access
from ozamonitor.web.core.models import Organisation
from ozamonitor.web.registry.concurrency import StaleEditError, save_if_current
from ozamonitor.web.registry.models import Arrangement, Initiative, Partner

router = Router(tags=["registry"])


class PartnerOut(Schema):
    organisation: str
    name: str
    role: str
    financier: str


class ArrangementOut(Schema):
    code: str
    name: str
    initiative: str
    swv: str
    sector: str
    type: str
    locations: list[str]
    school_id: str
    gemeente: str | None
    teaching_hours_per_week: float | None
    deviations: list[str]
    target_groups: list[str]
    support_needs: list[str]
    capacity: int | None
    start: dt.date | None
    end: dt.date | None
    status: str
    swv_spend_eur: float | None
    version: int
    partners: list[PartnerOut]


class ArrangementIn(Schema):
    code: str = Field(..., max_length=20)
    name: str = Field(..., max_length=200)
    initiative: str
    swv: str | None = Field(None, description="SWV code; default: the initiative's SWV.")
    sector: str
    type: str
    locations: list[str] = []
    school_id: str = ""
    gemeente: str | None = None
    teaching_hours_per_week: Decimal | None = None
    deviations: list[str] = []
    target_groups: list[str] = []
    support_needs: list[str] = []
    capacity: int | None = Field(None, ge=0)
    start: dt.date | None = None
    end: dt.date | None = None
    status: str = "planned"
    swv_spend_eur: Decimal | None = Field(None, ge=0)


class ArrangementPatch(Schema):
    name: str | None = Field(None, max_length=200)
    sector: str | None = None
    type: str | None = None
    locations: list[str] | None = None
    school_id: str | None = None
    gemeente: str | None = None
    teaching_hours_per_week: Decimal | None = None
    deviations: list[str] | None = None
    target_groups: list[str] | None = None
    support_needs: list[str] | None = None
    capacity: int | None = Field(None, ge=0)
    start: dt.date | None = None
    end: dt.date | None = None
    status: str | None = None
    swv_spend_eur: Decimal | None = Field(None, ge=0)
    version: int | None = Field(None, description="The version you read; a stale one gets 409.")


class CheckOut(Schema):
    id: str
    status: str
    message: str
    text: str


class ChecksOut(Schema):
    conditions: list[CheckOut]
    ok: bool


class InitiativeOut(Schema):
    code: str
    name: str
    applicant: str
    swv: str
    received_by_duo: dt.date | None
    admitted: bool | None
    arrangements: list[str]
    version: int


class Problem(Schema):
    detail: str
    field: str | None = None


def _out(a: Arrangement) -> dict[str, Any]:
    return {
        "code": a.code, "name": a.name, "initiative": a.initiative.code,
        "swv": a.swv.code, "sector": a.sector, "type": a.type,
        "locations": a.locations, "school_id": a.school_id,
        "gemeente": a.gemeente.code if a.gemeente else None,
        "teaching_hours_per_week": a.teaching_hours_per_week, "deviations": a.deviations,
        "target_groups": a.target_groups, "support_needs": a.support_needs,
        "capacity": a.capacity, "start": a.start, "end": a.end, "status": a.status,
        "swv_spend_eur": a.swv_spend_eur, "version": a.version,
        "partners": [{"organisation": p.organisation.code, "name": p.organisation.name,
                      "role": p.role, "financier": p.financier} for p in a.partners.all()],
    }


def _arrangements(request: HttpRequest) -> Any:
    return access.visible(request, Arrangement).select_related(
        "initiative", "swv", "gemeente").prefetch_related("partners__organisation")


def _invalid(e: ValidationError) -> HttpError:
    field, errs = next(iter(e.message_dict.items()))
    return _problem(422, " ".join(errs), field)


def _problem(status: int, detail: str, field: str | None = None) -> HttpError:
    err = HttpError(status, detail)
    err.field = field  # type: ignore[attr-defined]
    return err


def _gemeente(code: str | None) -> Organisation | None:
    if not code:
        return None
    org = Organisation.objects.filter(code=code, kind="gemeente").first()
    if org is None:
        raise _problem(422, "no municipality with this code", "gemeente")
    return org


def _save(request: HttpRequest, obj: Arrangement, version: int | None) -> Arrangement:
    try:
        obj.full_clean(exclude=["version"])
    except ValidationError as e:
        raise _invalid(e) from None
    try:
        save_if_current(obj, version)
    except StaleEditError as e:
        raise _problem(409, str(e), "version") from None
    except IntegrityError:
        raise _problem(409, "an arrangement with this code exists", "code") from None
    return obj


_LIST_FIELDS = ("id", "code", "name", "initiative__code", "swv__code", "sector", "type",
                "locations", "school_id", "gemeente__code", "teaching_hours_per_week",
                "deviations", "target_groups", "support_needs", "capacity", "start", "end",
                "status", "swv_spend_eur", "version")


@router.get("/arrangements", response=list[ArrangementOut])
def list_arrangements(request: HttpRequest) -> list[dict[str, Any]]:
    """The arrangements you may see."""
    # plain rows rather than model instances: the list is the API's busiest route
    rows = list(access.visible(request, Arrangement).order_by("code").values(*_LIST_FIELDS))
    partners: dict[int, list[dict[str, Any]]] = {}
    for p in Partner.objects.filter(arrangement_id__in=[r["id"] for r in rows]).order_by(
            "role", "pk").values("arrangement_id", "organisation__code",
                                 "organisation__name", "role", "financier"):
        partners.setdefault(p["arrangement_id"], []).append(
            {"organisation": p["organisation__code"], "name": p["organisation__name"],
             "role": p["role"], "financier": p["financier"]})
    return [{**{k: v for k, v in r.items() if "__" not in k and k != "id"},
             "initiative": r["initiative__code"], "swv": r["swv__code"],
             "gemeente": r["gemeente__code"], "partners": partners.get(r["id"], [])}
            for r in rows]


@router.get("/arrangements/{code}", response={200: ArrangementOut, 404: Problem})
def get_arrangement(request: HttpRequest, code: str) -> Any:
    """One arrangement (404 when it does not exist or is not yours to see)."""
    return _out(access.get_visible_or_404(request, _arrangements(request), code=code))


@router.post("/arrangements", response={201: ArrangementOut, 403: Problem, 404: Problem,
                                        409: Problem, 422: Problem})
def create_arrangement(request: HttpRequest, payload: ArrangementIn) -> Any:
    """Create an arrangement in one of your initiatives."""
    access.require_create(request, Arrangement)
    data = payload.dict()
    ini = access.visible(request, Initiative).filter(code=data.pop("initiative")).first()
    if ini is None:
        raise _problem(404, "no such initiative", "initiative")
    access.require_change(request, ini)
    data["gemeente"] = _gemeente(data.pop("gemeente"))
    swv_code = data.pop("swv") or ini.swv.code
    swv = Organisation.objects.filter(code=swv_code, kind__in=("swv_po", "swv_vo")).first()
    if swv is None:
        raise _problem(422, "no SWV with this code", "swv")
    obj = Arrangement(initiative=ini, swv=swv, **data)
    access.require_change(request, obj)
    with transaction.atomic():
        if Arrangement.objects.filter(code=obj.code).exists():
            raise _problem(409, "an arrangement with this code exists", "code")
        _save(request, obj, None)
    return Status(201, _out(obj))


@router.patch("/arrangements/{code}", response={200: ArrangementOut, 403: Problem,
                                                404: Problem, 409: Problem, 422: Problem})
def patch_arrangement(request: HttpRequest, code: str, payload: ArrangementPatch) -> Any:
    """Change fields of an arrangement; send ``version`` to guard against overwrites."""
    obj = access.get_visible_or_404(request, _arrangements(request), code=code)
    access.require_change(request, obj)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", obj.version)
    if "gemeente" in data:
        data["gemeente"] = _gemeente(data["gemeente"])
    for k, v in data.items():
        setattr(obj, k, v)
    return Status(200, _out(_save(request, obj, version)))


@router.get("/initiatives", response=list[InitiativeOut])
def list_initiatives(request: HttpRequest) -> list[dict[str, Any]]:
    """The initiatives you may see."""
    qs = access.visible(request, Initiative).select_related("swv", "applicant")
    return [{"code": i.code, "name": i.name, "applicant": i.applicant.code, "swv": i.swv.code,
             "received_by_duo": i.received_by_duo, "admitted": i.admitted,
             "arrangements": list(access.visible(request, i.arrangements.all())
                                  .values_list("code", flat=True)),
             "version": i.version}
            for i in qs.prefetch_related("arrangements").order_by("code")]


@router.get("/initiatives/{code}/checks", response={200: ChecksOut, 404: Problem})
def initiative_checks(request: HttpRequest, code: str) -> Any:
    """The Besluit checks of an initiative (the same rule file as the web form and CLI)."""
    lang = request.GET.get("lang", getattr(request, "LANGUAGE_CODE", "nl"))
    obj = access.get_visible_or_404(request, Initiative, code=code)
    return obj.besluit_report().as_dict("nl" if lang.startswith("nl") else "en")


__all__ = ["Http404", "router"]
