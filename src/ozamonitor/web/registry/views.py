"""Pages of the registry. Every queryset goes through ``ozamonitor.web.access``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import ProtectedError, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ozamonitor.web import access, audit
from ozamonitor.web.registry import codes, exchange, files
from ozamonitor.web.registry.concurrency import StaleEditError, save_if_current
from ozamonitor.web.registry.forms import (
    ArrangementForm,
    AttachmentForm,
    CoApplicantFormSet,
    InitiativeForm,
    OwnPartForm,
    PartnerFormSet,
)
from ozamonitor.web.registry.models import (
    Arrangement,
    Attachment,
    CoApplicant,
    Initiative,
    Partner,
)

PAGE = 25


def _page(request: HttpRequest, qs: Any) -> Any:
    return Paginator(qs, PAGE).get_page(request.GET.get("page"))


def _partial(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true" and \
        request.headers.get("HX-Target") == "results"


# --------------------------------------------------------------------------- initiatives

def initiative_list(request: HttpRequest) -> HttpResponse:
    """Initiatives the user may see, searchable (htmx)."""
    qs = access.visible(request, Initiative).select_related("swv", "applicant")
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q) | Q(swv__name__icontains=q)
                       | Q(applicant__name__icontains=q))
    ctx = {"page": _page(request, qs.order_by("code")), "q": q,
           "can_create": access.can_create(request, Initiative)}
    tpl = "registry/_initiative_rows.html" if _partial(request) else \
        "registry/initiative_list.html"
    return render(request, tpl, ctx)


def _initiative_forms(request: HttpRequest, obj: Initiative | None) -> tuple[Any, Any]:
    data = request.POST if request.method == "POST" else None
    form = InitiativeForm(data, instance=obj, user=request.user)
    formset = CoApplicantFormSet(data, instance=obj or Initiative(), prefix="co")
    return form, formset


@require_http_methods(["GET", "POST"])
def initiative_edit(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """Create or change an initiative and its co-applicants."""
    obj = None
    if code is None:
        access.require_create(request, Initiative)
    else:
        obj = access.get_visible_or_404(request, Initiative, code=code)
        access.require_change(request, obj)
    form, formset = _initiative_forms(request, obj)
    status = 200
    if request.method == "POST":
        if form.is_valid() and formset.is_valid():
            item = form.save(commit=False)
            access.require_change(request, item)  # the SWV chosen must be the user's

            def save_rows(saved: Initiative) -> None:
                formset.instance = saved
                formset.save()

            try:
                save_if_current(item, form.cleaned_data.get("version"), after=save_rows)
            except StaleEditError as e:
                form.add_error(None, str(e))
                status = 409
            else:
                messages.success(request, _("Saved."))
                return redirect(item)
        else:
            status = 400
    return render(request, "registry/initiative_form.html",
                  {"form": form, "formset": formset, "object": obj}, status=status)


def initiative_detail(request: HttpRequest, code: str) -> HttpResponse:
    """One initiative: co-applicants, documents, arrangements and the Besluit checklist."""
    obj = access.get_visible_or_404(
        request, Initiative.objects.select_related("swv", "applicant"), code=code)
    return render(request, "registry/initiative_detail.html", {
        "object": obj,
        "co_applicants": obj.co_applicants.select_related("organisation"),
        "attachments": access.visible(request, obj.attachments.all()),
        "arrangements": access.visible(request, obj.arrangements.all()),
        "report": obj.besluit_report(),
        "can_change": access.can_change(request, obj),
        "upload_form": AttachmentForm(),
        "can_see_history": _can_see_history(request, obj),
    })


def initiative_checks(request: HttpRequest, code: str) -> HttpResponse:
    """The Besluit checklist of an initiative (an htmx fragment)."""
    obj = access.get_visible_or_404(request, Initiative, code=code)
    return render(request, "registry/_checklist.html", {"report": obj.besluit_report(),
                                                        "object": obj})


@require_POST
def initiative_preview(request: HttpRequest) -> HttpResponse:
    """The Besluit checklist of the initiative form as it is filled in (htmx, nothing saved).

    ``?code=`` names the initiative being edited; without it the form is a new one.
    """
    code = request.GET.get("code")
    obj = None
    if code:
        obj = access.get_visible_or_404(request, Initiative, code=code)
        access.require_change(request, obj)
    else:
        access.require_create(request, Initiative)
    form, formset = _initiative_forms(request, obj)
    form.is_valid()
    formset.is_valid()
    data = form.cleaned_data
    app = obj.application() if obj is not None else {
        "attachments": dict.fromkeys(("cooperation_agreement", "project_plan", "mr_advice",
                                      "opr_consent"), False),
        "arrangements": []}
    applicant = data.get("applicant")
    if applicant is not None:
        app["applicant"] = {"kind": "swv" if applicant.is_swv else applicant.kind,
                            "name": applicant.name, "code": applicant.code}
    for f in ("received_by_duo", "contains_personal_data", "pupils_enrolled"):
        if f in data:
            app[f] = data[f]
    app["co_applicants"] = [
        {"kind": f.cleaned_data.get("kind"), "name": f.cleaned_data.get("name"),
         "financier": f.cleaned_data.get("financier") or None}
        for f in formset.forms
        if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")
        and f.cleaned_data.get("kind")]
    draft = obj or Initiative()
    if data.get("swv") is not None:
        draft.swv = data["swv"]
    context = draft.besluit_context() if draft.swv_id else {
        "national": {"registered_arrangements": Arrangement.objects.filter(
            initiative__admitted=True).count()}}
    from ozamonitor.besluit import check_application

    return render(request, "registry/_checklist.html",
                  {"report": check_application(app, context=context), "object": obj,
                   "preview": True})


@require_POST
def initiative_delete(request: HttpRequest, code: str) -> HttpResponse:
    """Delete an initiative without arrangements."""
    obj = access.get_visible_or_404(request, Initiative, code=code)
    access.require_change(request, obj)
    try:
        with transaction.atomic():
            stored = list(obj.attachments.values_list("stored_name", flat=True))
            obj.delete()
    except ProtectedError:
        messages.error(request, _("Delete its arrangements first."))
        return redirect(obj)
    for name in stored:
        files.remove(name)
    messages.success(request, _("Initiative %(code)s deleted.") % {"code": code})
    return redirect("registry:initiatives")


@require_POST
def attachment_upload(request: HttpRequest, code: str) -> HttpResponse:
    """Upload a document to an initiative."""
    obj = access.get_visible_or_404(request, Initiative, code=code)
    access.require_change(request, obj)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        for field, errs in form.errors.items():
            messages.error(request, f"{form.fields[field].label if field in form.fields else ''}"
                           f": {' '.join(errs)}")
        return redirect(obj)
    stored, digest = files.store(form.data_bytes, form.content_type)
    upload = form.cleaned_data["file"]
    try:
        Attachment(initiative=obj, kind=form.cleaned_data["kind"], stored_name=stored,
                   original_name=upload.name[:200], content_type=form.content_type,
                   size=len(form.data_bytes), sha256=digest,
                   uploaded_by=request.user).save()
    except Exception:
        files.remove(stored)
        raise
    messages.success(request, _("Document uploaded."))
    return redirect(obj)


def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    """Download a document (always as an attachment)."""
    att = access.get_visible_or_404(request, Attachment, pk=pk)
    return files.download(att)


@require_POST
def attachment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a document."""
    att = access.get_visible_or_404(request, Attachment.objects.select_related("initiative"),
                                    pk=pk)
    access.require_change(request, att)
    initiative = att.initiative
    name = att.stored_name
    att.delete()
    transaction.on_commit(lambda: files.remove(name))
    messages.success(request, _("Document deleted."))
    return redirect(initiative)


# --------------------------------------------------------------------------- arrangements

def arrangement_list(request: HttpRequest) -> HttpResponse:
    """Arrangements the user may see, filterable (htmx)."""
    qs = access.visible(request, Arrangement).select_related("swv")
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q)
                       | Q(swv__name__icontains=q))
    kind = request.GET.get("type", "")
    if kind:
        qs = qs.filter(type=kind)
    status = request.GET.get("status", "")
    if status:
        qs = qs.filter(status=status)
    ctx = {"page": _page(request, qs.order_by("code")), "q": q, "type": kind,
           "status": status, "types": codes.TYPES, "statuses": codes.STATUSES,
           "can_create": access.can_create(request, Arrangement)}
    tpl = "registry/_arrangement_rows.html" if _partial(request) else \
        "registry/arrangement_list.html"
    return render(request, tpl, ctx)


def arrangement_detail(request: HttpRequest, code: str) -> HttpResponse:
    """One arrangement with its partners."""
    obj = access.get_visible_or_404(
        request, Arrangement.objects.select_related("initiative", "swv", "gemeente"), code=code)
    partners = [(pt, access.can_change(request, pt))
                for pt in obj.partners.select_related("organisation")]
    return render(request, "registry/arrangement_detail.html", {
        "object": obj, "partners": partners,
        "can_change": access.can_change(request, obj),
        "can_see_history": _can_see_history(request, obj),
        "labels": {
            "locations": [codes.label(codes.LOCATIONS, c) for c in obj.locations],
            "deviations": [codes.label(codes.DEVIATIONS, c) for c in obj.deviations],
            "target_groups": [codes.label(codes.TARGET_GROUPS, c) for c in obj.target_groups],
            "support_needs": [codes.label(codes.SUPPORT_NEEDS, c) for c in obj.support_needs],
        },
    })


@require_http_methods(["GET", "POST"])
def arrangement_edit(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """Create or change an arrangement and its partners."""
    obj = None
    if code is None:
        access.require_create(request, Arrangement)
    else:
        obj = access.get_visible_or_404(request, Arrangement, code=code)
        access.require_change(request, obj)
    data = request.POST if request.method == "POST" else None
    initial = {}
    if obj is None and request.GET.get("initiative"):
        ini = access.visible(request, Initiative).filter(code=request.GET["initiative"]).first()
        if ini is not None:
            initial = {"initiative": ini, "swv": ini.swv,
                       "sector": "po" if ini.swv.kind == "swv_po" else "vo"}
    form = ArrangementForm(data, instance=obj, user=request.user, initial=initial)
    formset = PartnerFormSet(data, instance=obj or Arrangement(), prefix="pt")
    status = 200
    if request.method == "POST":
        if form.is_valid() and formset.is_valid():
            item = form.save(commit=False)
            try:
                item.full_clean(exclude=["version"])
            except ValidationError as e:
                for field, errs in e.message_dict.items():
                    form.add_error(field if field in form.fields else None, errs)
                status = 400
            else:
                access.require_change(request, item)

                def save_rows(saved: Arrangement) -> None:
                    for f in formset.forms:  # a partner's own-part form opened earlier is stale
                        if f.instance.pk and f.has_changed():
                            f.instance.version += 1
                    formset.instance = saved
                    formset.save()

                try:
                    save_if_current(item, form.cleaned_data.get("version"), after=save_rows)
                except StaleEditError as e:
                    form.add_error(None, str(e))
                    status = 409
                else:
                    messages.success(request, _("Saved."))
                    return redirect(item)
        else:
            status = 400
    return render(request, "registry/arrangement_form.html",
                  {"form": form, "formset": formset, "object": obj}, status=status)


@require_POST
def arrangement_delete(request: HttpRequest, code: str) -> HttpResponse:
    """Delete an arrangement."""
    obj = access.get_visible_or_404(request, Arrangement, code=code)
    access.require_change(request, obj)
    initiative = obj.initiative
    with transaction.atomic():
        for pt in obj.partners.all():
            pt.delete()
        obj.delete()
    messages.success(request, _("Arrangement %(code)s deleted.") % {"code": code})
    return redirect(initiative)


@require_http_methods(["GET", "POST"])
def partner_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """A school's or care provider's own part of an arrangement."""
    arr = access.get_visible_or_404(request, Arrangement, code=code)
    part = access.get_visible_or_404(request, Partner.objects.select_related("organisation"),
                                     pk=pk, arrangement=arr)
    access.require_change(request, part)
    form = OwnPartForm(request.POST or None, instance=part)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                save_if_current(form.save(commit=False), form.cleaned_data.get("version"))
            except StaleEditError as e:
                form.add_error(None, str(e))
                status = 409
            else:
                messages.success(request, _("Saved."))
                return redirect(arr)
        else:
            status = 400
    return render(request, "registry/partner_form.html",
                  {"form": form, "object": part, "arrangement": arr}, status=status)


# --------------------------------------------------------------------------- history, export

def _can_see_history(request: HttpRequest, obj: Any) -> bool:
    p = access.principal(request.user)
    return p.reads_all or access.can_change(request, obj)


def object_history(request: HttpRequest, kind: str, code: str) -> HttpResponse:
    """The audit trail of one initiative or arrangement (and its rows)."""
    model = {"initiative": Initiative, "arrangement": Arrangement}[kind]
    obj = access.get_visible_or_404(request, model, code=code)
    if not _can_see_history(request, obj):
        raise PermissionDenied
    rows = audit.history_entries(model.history.filter(id=obj.pk))
    if kind == "initiative":
        rows += audit.history_entries(CoApplicant.history.filter(initiative_id=obj.pk))
        rows += audit.history_entries(Attachment.history.filter(initiative_id=obj.pk))
    else:
        rows += audit.history_entries(Partner.history.filter(arrangement_id=obj.pk))
    rows.sort(key=lambda e: e.when, reverse=True)
    return render(request, "registry/history.html", {"object": obj, "entries": rows})


def export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The visible arrangements as CSV or xlsx."""
    qs = access.visible(request, Arrangement)
    data, ctype, ext = exchange.export_bytes(qs, fmt)
    resp = HttpResponse(data, content_type=ctype)
    resp["Content-Disposition"] = f'attachment; filename="arrangements.{ext}"'
    return resp
