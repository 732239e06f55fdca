"""The who-pays JSON API (Django Ninja), mounted at /api/funding/ with Bearer authentication.

Routes ask ``ozamonitor.web.access`` exactly as the pages do. Advice errors
list every problem with its case field (``components[2].cause``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from ozamonitor.funding import Case, FundingInputError, RegionMatrix, advise
from ozamonitor.web import access
from ozamonitor.web.core.models import Organisation
from ozamonitor.web.funding import tables
from ozamonitor.web.funding.models import FundingMap, RegionMatrixFile
from ozamonitor.web.funding.views import EXAMPLE, example_matrix
from ozamonitor.web.registry.concurrency import StaleEditError, save_if_current
from ozamonitor.web.registry.models import Arrangement

router = Router(tags=["funding"])


class ProblemOut(Schema):
    field: str
    message: str


class Problems(Schema):
    detail: str
    field: str | None = None
    problems: list[ProblemOut] = []


class AdviceIn(Schema):
    case: dict[str, Any] = Field(..., description="child, setting, components (docs/funding.md)")
    matrix: str | None = Field(None, description="A region matrix: its number, or 'example'.")
    lang: str = Field("nl", description="Language of the explanations: nl or en.")


class MapIn(AdviceIn):
    version: int | None = Field(None, description="The version you read; a stale one gets 409.")


class MapOut(Schema):
    arrangement: str
    swv: str
    matrix: str
    rule_set: str
    saved_by: str | None
    updated_at: dt.datetime
    version: int
    gaps: int
    case: dict[str, Any]
    advice: dict[str, Any]


class MatrixIn(Schema):
    organisation: str = Field(..., description="Code of the SWV or gemeente that keeps it.")
    file_name: str = Field("region.yaml", max_length=200)
    text: str = Field(..., description="The region file (YAML).")
    active: bool = True


class MatrixOut(Schema):
    id: int
    matrix_id: str
    name: str
    organisation: str
    active: bool
    entries: int
    version: int


def _problems(e: FundingInputError, prefix: str = "case") -> Status:
    first = e.problems[0]
    return Status(422, {
        "detail": first.message, "field": f"{prefix}.{first.field}" if first.field else prefix,
        "problems": [{"field": p.field, "message": p.message} for p in e.problems]})


def _matrix(request: HttpRequest, choice: str | None) -> tuple[RegionMatrix | None,
                                                              RegionMatrixFile | None]:
    if not choice:
        return None, None
    if choice == EXAMPLE:
        return example_matrix(), None
    if not choice.isdigit():
        err = HttpError(422, "matrix is a number or 'example'")
        err.field = "matrix"  # type: ignore[attr-defined]
        raise err
    row = access.get_visible_or_404(request, RegionMatrixFile, pk=int(choice), active=True)
    return row.matrix, row


def _lang(value: str) -> str:
    return "en" if value.startswith("en") else "nl"


@router.post("/advice", response={200: dict[str, Any], 404: Problems, 422: Problems})
def advice(request: HttpRequest, payload: AdviceIn) -> Any:
    """Who pays for each component of a case (nothing is saved)."""
    matrix, _row = _matrix(request, payload.matrix)
    try:
        return advise(Case.from_dict(payload.case), matrix).to_json(_lang(payload.lang))
    except FundingInputError as e:
        return _problems(e)


def _map_out(m: FundingMap, lang: str) -> dict[str, Any]:
    return {"arrangement": m.arrangement.code, "swv": m.arrangement.swv.code,
            "matrix": m.matrix_label, "rule_set": m.rule_set,
            "saved_by": m.saved_by.get_username() if m.saved_by else None,
            "updated_at": m.updated_at, "version": m.version, "gaps": m.gaps, "case": m.case,
            "advice": m.advice(lang)}


def _maps(request: HttpRequest) -> Any:
    return access.visible(request, FundingMap).select_related("arrangement__swv", "saved_by")


@router.get("/maps", response=list[MapOut])
def list_maps(request: HttpRequest, lang: str = "nl") -> list[dict[str, Any]]:
    """The funding maps you may see."""
    return [_map_out(m, _lang(lang)) for m in _maps(request).order_by("arrangement__code")]


@router.get("/maps/{code}", response={200: MapOut, 404: Problems})
def get_map(request: HttpRequest, code: str, lang: str = "nl") -> Any:
    """The funding map of one arrangement."""
    return _map_out(access.get_visible_or_404(request, _maps(request), arrangement__code=code),
                    _lang(lang))


@router.put("/maps/{code}", response={200: MapOut, 403: Problems, 404: Problems,
                                      409: Problems, 422: Problems})
def put_map(request: HttpRequest, code: str, payload: MapIn) -> Any:
    """Advise on a case and save the answer as the arrangement's funding map."""
    arr = access.get_visible_or_404(request, Arrangement.objects.select_related("swv"),
                                    code=code)
    access.require_change(request, arr)
    matrix, row = _matrix(request, payload.matrix)
    try:
        case = Case.from_dict(payload.case)
        adv = advise(case, matrix)
    except FundingInputError as e:
        return _problems(e)
    fmap = FundingMap.objects.filter(arrangement=arr).first() or FundingMap(arrangement=arr)
    fmap.case = case.model_dump(exclude_none=True)
    fmap.advice_en, fmap.advice_nl = adv.to_json("en"), adv.to_json("nl")
    fmap.matrix, fmap.example_matrix = row, matrix is not None and row is None
    fmap.matrix_label = matrix.title(_lang(payload.lang)) if matrix else ""
    fmap.rule_set, fmap.saved_by = adv.rule_set, request.user
    try:
        save_if_current(fmap, payload.version if fmap.pk else None)
    except StaleEditError as e:
        return Status(409, {"detail": str(e), "field": "version"})
    return Status(200, _map_out(fmap, _lang(payload.lang)))


@router.get("/summary", response=dict[str, Any])
def summary(request: HttpRequest, swv: str = "", published: bool = False) -> dict[str, Any]:
    """Components by kind and payer across your funding maps (``published``: disclosure-safe)."""
    maps = [m for m in _maps(request) if not swv or m.arrangement.swv.code == swv]
    return {"arrangements": len(maps),
            **{name: rows for name, _cols, rows in tables.summary_sheets(maps, public=published)}}


def _matrix_out(m: RegionMatrixFile) -> dict[str, Any]:
    return {"id": m.pk, "matrix_id": m.matrix_id, "name": m.name,
            "organisation": m.organisation.code, "active": m.active,
            "entries": len(m.matrix.entries), "version": m.version}


@router.get("/matrices", response=list[MatrixOut])
def list_matrices(request: HttpRequest) -> list[dict[str, Any]]:
    """The region matrices you may see."""
    return [_matrix_out(m) for m in
            access.visible(request, RegionMatrixFile).select_related("organisation")]


@router.post("/matrices", response={201: MatrixOut, 403: Problems, 409: Problems,
                                    422: Problems})
def create_matrix(request: HttpRequest, payload: MatrixIn) -> Any:
    """Upload a region matrix for your SWV or gemeente; errors name the line and field."""
    access.require_create(request, RegionMatrixFile)
    org = Organisation.objects.filter(code=payload.organisation,
                                      kind__in=("swv_po", "swv_vo", "gemeente")).first()
    if org is None:
        return Status(422, {"detail": "no SWV or gemeente with this code",
                            "field": "organisation"})
    try:
        matrix = RegionMatrix.load(payload.file_name, text=payload.text)
    except FundingInputError as e:
        return Status(422, {
            "detail": e.report().splitlines()[0], "field": "text",
            "problems": [{"field": p.where(payload.file_name), "message": p.message}
                         for p in e.problems]})
    obj = RegionMatrixFile(organisation=org, matrix_id=matrix.id,
                           name=matrix.title(_lang(request.GET.get("lang", "nl")))[:200],
                           file_name=payload.file_name, text=payload.text,
                           active=payload.active, uploaded_by=request.user)
    access.require_change(request, obj)
    try:
        save_if_current(obj, None)
    except IntegrityError:
        return Status(409, {"detail": "this organisation has a matrix with this id",
                            "field": "text"})
    return Status(201, _matrix_out(obj))
