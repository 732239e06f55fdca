"""Core pages: home, health check, audit log and its export, error pages."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from ozamonitor.files import safe_cell, text_cells
from ozamonitor.web import access, audit
from ozamonitor.web.access import ROLES

AUDIT_PAGE = 50


@never_cache
@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    """200 ``ok`` when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    except Exception:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


def home(request: HttpRequest) -> HttpResponse:
    """The start page: the user's organisations and roles, links into the apps."""
    from ozamonitor.web.core.models import Membership

    memberships = Membership.objects.filter(user=request.user).select_related("organisation")
    return render(request, "core/home.html", {
        "memberships": [(m, ROLES[m.role].label if m.role in ROLES else m.role)
                        for m in memberships],
    })


def _audit_filters(request: HttpRequest) -> dict[str, Any]:
    f: dict[str, Any] = {}
    if request.GET.get("model"):
        f["model"] = request.GET["model"]
    if request.GET.get("user"):
        f["user"] = request.GET["user"]
    return f


@access.role_required("study_team", "admin")
def audit_log(request: HttpRequest) -> HttpResponse:
    """The audit log across every app (study team and administrators)."""
    filters = _audit_filters(request)
    try:
        page_no = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page_no = 1
    reader = access.principal(request.user)
    rows = list(audit.entries(limit=AUDIT_PAGE + 1, offset=(page_no - 1) * AUDIT_PAGE,
                              reader=reader, **filters))
    models = [(m._meta.label, m._meta.verbose_name) for m in audit.readable_models(reader)]
    return render(request, "core/audit.html", {
        "entries": rows[:AUDIT_PAGE], "has_next": len(rows) > AUDIT_PAGE, "page_no": page_no,
        "models": models, "filters": filters,
        "query": "&".join(f"{k}={v}" for k, v in filters.items()),
    })


@access.role_required("study_team", "admin")
def audit_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The audit log (filtered as on the page) as CSV or xlsx."""
    header = ["when", "user", "model", "object_id", "object", "action", "field", "before",
              "after", "reason"]
    rows = []
    for e in audit.entries(reader=access.principal(request.user), **_audit_filters(request)):
        base = [e.when.isoformat(), e.user, e.model, e.object_id, e.object_repr, e.action]
        for field, old, new in e.changes or [("", "", "")]:
            rows.append([*base, field, "" if old is None else str(old),
                         "" if new is None else str(new), e.reason])
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "audit"
        ws.append(header)
        for r in rows:
            ws.append([str(x) if x is not None else "" for x in r])
        buf = io.BytesIO()
        text_cells(wb).save(buf)
        resp = HttpResponse(buf.getvalue(), content_type="application/vnd.openxmlformats-"
                            "officedocument.spreadsheetml.sheet")
    else:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(header)
        w.writerows([[safe_cell(x) for x in r] for r in rows])
        resp = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
        fmt = "csv"
    resp["Content-Disposition"] = f'attachment; filename="audit.{fmt}"'
    return resp


@login_not_required
def locked_out(request: HttpRequest, credentials: Any = None, *args: Any,
               **kwargs: Any) -> HttpResponse:
    """Shown after too many failed logins."""
    return render(request, "core/locked_out.html", status=429)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "core/error.html", {"code": 403}, status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "core/error.html", {"code": 404}, status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    return render(request, "core/error.html", {"code": 500}, status=500)
