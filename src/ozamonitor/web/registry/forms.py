"""Forms of the registry; every choice list is limited to what the user may use."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import inlineformset_factory
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from ozamonitor.web import access
from ozamonitor.web.core.models import Organisation
from ozamonitor.web.registry import codes
from ozamonitor.web.registry.models import (
    Arrangement,
    Attachment,
    CoApplicant,
    Initiative,
    Partner,
)

_TRI = ((None, _("unknown")), (True, _("yes")), (False, _("no")))


class VersionField(forms.IntegerField):
    """The version the form was opened with (hidden)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, min_value=0, **kwargs)


def _tri(label: Any) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label, required=False, widget=forms.RadioSelect,
        choices=[("", _("unknown")), ("true", _("yes")), ("false", _("no"))],
        coerce=lambda v: {"true": True, "false": False}.get(v), empty_value=None)


def _capitalise(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        if field.label:
            field.label = capfirst(field.label)


def _swvs_for(user: Any) -> Any:
    p = access.principal(user)
    qs = Organisation.objects.filter(kind__in=("swv_po", "swv_vo"))
    return qs if p.is_admin else qs.filter(pk__in=p.orgs("swv_staff"))


class InitiativeForm(forms.ModelForm):
    """An initiative (application)."""

    version = VersionField()
    contains_personal_data = _tri(_("contains personal data"))
    pupils_enrolled = _tri(_("pupils enrolled at a school"))
    admitted = _tri(_("admitted"))

    class Meta:
        model = Initiative
        fields = ["code", "name", "applicant", "swv", "received_by_duo",
                  "contains_personal_data", "pupils_enrolled", "admitted", "notes"]
        widgets = {"received_by_duo": forms.DateInput(attrs={"type": "date"},
                                                      format="%Y-%m-%d"),
                   "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _capitalise(self)
        p = access.principal(user)
        swvs = _swvs_for(user)
        self.fields["swv"].queryset = swvs
        boards = Organisation.objects.filter(kind="school_board")
        self.fields["applicant"].queryset = (boards | swvs).distinct().order_by("kind", "name")
        if self.instance.pk:
            self.fields["code"].disabled = True
            self.initial["version"] = self.instance.version
            for f in ("contains_personal_data", "pupils_enrolled", "admitted"):
                value = getattr(self.instance, f)
                self.initial[f] = "" if value is None else ("true" if value else "false")
        if not p.is_admin:  # the ministry's decision, recorded by an administrator
            self.fields["admitted"].disabled = True

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip().upper()
        if not code.replace("-", "").replace("_", "").isalnum():
            raise forms.ValidationError(_("Letters, digits, - and _ only."))
        return code


class CoApplicantForm(forms.ModelForm):
    """One co-applicant row."""

    class Meta:
        model = CoApplicant
        fields = ["kind", "name", "organisation", "financier"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(
            kind__in=("swv_po", "swv_vo", "school", "care_provider"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") == "care_provider" and not data.get("financier") \
                and not self.errors:
            self.add_error("financier", _("A care provider needs its financier."))
        return data


CoApplicantFormSet = inlineformset_factory(
    Initiative, CoApplicant, form=CoApplicantForm, extra=2, can_delete=True)


class ArrangementForm(forms.ModelForm):
    """An arrangement."""

    version = VersionField()
    locations = forms.MultipleChoiceField(label=_("locations"), choices=codes.LOCATIONS,
                                          required=False, widget=forms.CheckboxSelectMultiple)
    deviations = forms.MultipleChoiceField(label=_("deviations used"), choices=codes.DEVIATIONS,
                                           required=False, widget=forms.CheckboxSelectMultiple)
    target_groups = forms.MultipleChoiceField(label=_("target groups"),
                                              choices=codes.TARGET_GROUPS, required=False,
                                              widget=forms.CheckboxSelectMultiple)
    support_needs = forms.MultipleChoiceField(label=_("support needs in focus"),
                                              choices=codes.SUPPORT_NEEDS, required=False,
                                              widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Arrangement
        fields = ["code", "name", "initiative", "swv", "sector", "type", "locations", "school_id",
                  "gemeente", "teaching_hours_per_week", "deviations", "target_groups",
                  "support_needs", "capacity", "start", "end", "status", "swv_spend_eur"]
        widgets = {"start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                   "end": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _capitalise(self)
        p = access.principal(user)
        qs = Initiative.objects.select_related("swv")
        self.fields["initiative"].queryset = qs if p.is_admin else qs.filter(
            swv__in=p.orgs("swv_staff"))
        self.fields["swv"].queryset = _swvs_for(user)
        self.fields["gemeente"].queryset = Organisation.objects.filter(kind="gemeente")
        if self.instance.pk:
            self.fields["code"].disabled = True
            self.initial["version"] = self.instance.version

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip().upper()
        if not code.replace("-", "").replace("_", "").isalnum():
            raise forms.ValidationError(_("Letters, digits, - and _ only."))
        return code

    def clean_school_id(self) -> str:
        value = self.cleaned_data.get("school_id", "").strip().upper()
        if value and not (len(value) == 6 and value[:4].isalnum() and value[4:].isdigit()):
            raise forms.ValidationError(_("BRIN (4 characters) and a 2-digit location "
                                          "number, e.g. 12AB00."))
        return value


class PartnerForm(forms.ModelForm):
    """A partner row inside the arrangement form (SWV staff)."""

    class Meta:
        model = Partner
        fields = ["organisation", "role", "financier", "hours_per_week"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(
            kind__in=("school", "care_provider"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        org = data.get("organisation")
        role = data.get("role")
        if org is not None and role and org.kind != role:
            self.add_error("role", _("The organisation is a %(kind)s.")
                           % {"kind": org.get_kind_display()})
        return data


PartnerFormSet = inlineformset_factory(
    Arrangement, Partner, form=PartnerForm, extra=2, can_delete=True)


class OwnPartForm(forms.ModelForm):
    """A school's or care provider's own part of an arrangement."""

    version = VersionField()

    class Meta:
        model = Partner
        fields = ["contribution", "hours_per_week", "financier"]
        widgets = {"contribution": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["version"] = self.instance.version


class AttachmentForm(forms.Form):
    """Upload of a document."""

    kind = forms.ChoiceField(label=_("kind"), choices=codes.ATTACHMENT_KINDS)
    file = forms.FileField(label=_("file (PDF or DOCX)"))

    def clean_file(self) -> Any:
        from ozamonitor.web.registry.files import check_upload

        upload = self.cleaned_data["file"]
        self.data_bytes, self.content_type = check_upload(upload)
        return upload


__all__ = ["ArrangementForm", "Attachment", "AttachmentForm", "CoApplicantFormSet",
           "InitiativeForm", "OwnPartForm", "PartnerFormSet"]
