"""Pages of the region matrices: list, upload (validated, errors naming line and field), view."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ozamonitor.funding import FundingInputError, RegionMatrix, national_rules
from ozamonitor.web import access
from ozamonitor.web.core.models import Organisation
from ozamonitor.web.funding.advisor_form import lang_of
from ozamonitor.web.funding.models import RegionMatrixFile
from ozamonitor.web.funding.rules import matrix_owners
from ozamonitor.web.registry.concurrency import StaleEditError, save_if_current

#: The largest region file accepted.
MAX_BYTES = 512 * 1024


class MatrixUploadForm(forms.Form):
    """Upload a region matrix (a YAML file, or its text pasted)."""

    organisation = forms.ModelChoiceField(Organisation.objects.none(),
                                          label=gettext_lazy("Organisation"))
    file = forms.FileField(label=gettext_lazy("Region file (YAML)"), required=False)
    text = forms.CharField(label=gettext_lazy("or paste its text"), required=False,
                           widget=forms.Textarea(attrs={"rows": 8}))
    active = forms.BooleanField(label=gettext_lazy("Offer it in the advisor"), required=False,
                                initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, owners: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["organisation"].queryset = owners
        self.matrix: RegionMatrix | None = None
        self.file_name = "region.yaml"
        self.yaml_text = ""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_BYTES:
                raise forms.ValidationError({"file": _("The file is larger than 512 KB.")})
            raw = upload.read()
            self.file_name = upload.name[:200]
            try:
                self.yaml_text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError({"file": _("The file is not UTF-8 text.")}) \
                    from None
        elif data.get("text", "").strip():
            self.yaml_text = data["text"]
            if len(self.yaml_text.encode()) > MAX_BYTES:
                raise forms.ValidationError({"text": _("The text is longer than 512 KB.")})
        else:
            raise forms.ValidationError({"file": _("Choose a file or paste its text.")})
        try:
            self.matrix = RegionMatrix.load(self.file_name, text=self.yaml_text)
        except FundingInputError as e:
            field = "file" if upload is not None else "text"
            raise forms.ValidationError({field: [
                f"{p.where(self.file_name)}: {p.message}" for p in e.problems]}) from None
        return data


def _owners(request: HttpRequest) -> Any:
    p = access.principal(request.user)
    qs = Organisation.objects.filter(kind__in=("swv_po", "swv_vo", "gemeente"))
    return qs if p.is_admin else qs.filter(pk__in=matrix_owners(p))


def matrix_list(request: HttpRequest) -> HttpResponse:
    """The region matrices the user may see."""
    rows = access.visible(request, RegionMatrixFile).select_related("organisation")
    return render(request, "funding/matrix_list.html", {
        "rows": [(m, access.can_change(request, m)) for m in rows],
        "can_create": access.can_create(request, RegionMatrixFile)})


@require_http_methods(["GET", "POST"])
def matrix_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Upload a new region matrix, or replace the file of one."""
    obj = None
    if pk is None:
        access.require_create(request, RegionMatrixFile)
    else:
        obj = access.get_visible_or_404(request, RegionMatrixFile, pk=pk)
        access.require_change(request, obj)
    initial = {"organisation": obj.organisation, "active": obj.active, "text": obj.text,
               "version": obj.version} if obj else {"active": True}
    form = MatrixUploadForm(request.POST or None, request.FILES or None, owners=_owners(request),
                            initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            item = obj or RegionMatrixFile()
            item.organisation = form.cleaned_data["organisation"]
            access.require_change(request, item)
            m = form.matrix
            assert m is not None
            item.matrix_id, item.name = m.id, m.title(lang_of(get_language()))[:200]
            item.file_name, item.text = form.file_name, form.yaml_text
            item.active = form.cleaned_data["active"]
            item.uploaded_by = request.user
            try:
                with transaction.atomic():
                    save_if_current(item, form.cleaned_data.get("version") if obj else None)
            except StaleEditError as e:
                form.add_error(None, str(e))
                status = 409
            except IntegrityError:
                form.add_error("file", _("This organisation already has a matrix with id "
                                         "%(id)s; open it to replace its file.") % {"id": m.id})
                status = 409
            else:
                messages.success(request, _("Region matrix saved."))
                return redirect(item)
        else:
            status = 400
    return render(request, "funding/matrix_form.html", {"form": form, "object": obj},
                  status=status)


def matrix_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A region matrix: its entries, each with the payers it sets and the national answer."""
    lang = lang_of(get_language())
    obj = access.get_visible_or_404(request, RegionMatrixFile.objects.select_related(
        "organisation", "uploaded_by"), pk=pk)
    rules = national_rules()
    entries = []
    for (cat, act), e in obj.matrix.entries.items():
        national = rules.activity(cat, act)
        entries.append({
            "category": e.category_label(lang), "activity": e.label(lang),
            "code": f"{cat}/{act}", "line": e.line,
            "national_kind": rules.kind_labels[national.kind](lang) if national else "",
            "cases": [{"when": c.condition.describe() if c.condition.facts else "",
                       "payers": [rules.payer_labels[p](lang) for p in c.payers],
                       "laws": list(c.laws), "gap": c.gap,
                       "text": c.text(lang) if c.text else ""} for c in e.cases]})
    return render(request, "funding/matrix_detail.html", {
        "object": obj, "matrix": obj.matrix, "entries": entries, "lang": lang,
        "description": obj.matrix.description(lang) if obj.matrix.description else "",
        "can_change": access.can_change(request, obj)})


def matrix_yaml(request: HttpRequest, pk: int) -> HttpResponse:
    """The region file as uploaded (a download)."""
    obj = access.get_visible_or_404(request, RegionMatrixFile, pk=pk)
    resp = HttpResponse(obj.text.encode("utf-8"), content_type="text/yaml; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="{obj.matrix_id}.yaml"'
    resp["X-Content-Type-Options"] = "nosniff"
    return resp


@require_POST
def matrix_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a region matrix (saved funding maps keep its name)."""
    obj = access.get_visible_or_404(request, RegionMatrixFile, pk=pk)
    access.require_change(request, obj)
    obj.delete()
    messages.success(request, _("Region matrix deleted."))
    return redirect("funding:matrices")
