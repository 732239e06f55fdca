"""Forms of the case pages: every write validates and names the field."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ozamonitor.web import access
from ozamonitor.web.casework.importer import CASE_SIGNALS
from ozamonitor.web.casework.models import (
    Case,
    CaseEvent,
    Consent,
    LedgerEntry,
    OOGOAgreement,
)
from ozamonitor.web.core.models import Organisation

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _gemeenten(user: Any) -> Any:
    p = access.principal(user)
    qs = Organisation.objects.filter(kind="gemeente")
    return qs if p.is_admin else qs.filter(pk__in=p.orgs("leerplichtambtenaar"))


class CaseForm(forms.ModelForm):
    """A case opened by hand (a leerplichtambtenaar, in one of the officer's gemeenten)."""

    class Meta:
        model = Case
        fields = ["code", "person_id", "gemeente", "swv", "school", "start", "opened_on",
                  "director", "mandated_by"]
        widgets = {"start": DATE, "opened_on": DATE}

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["gemeente"].queryset = _gemeenten(user)
        self.fields["director"].queryset = _directors()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, opened = data.get("start"), data.get("opened_on")
        if start and opened and opened < start:
            self.add_error("opened_on", _("The opening date is before the first day of "
                                          "absence."))
        return data


def _directors() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(
        memberships__role="casusregisseur").distinct().order_by("username")


class DirectorForm(forms.ModelForm):
    """Who directs a case and which bodies mandate the director (changed while it runs)."""

    class Meta:
        model = Case
        fields = ["director", "mandated_by"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["director"].queryset = _directors()


class EventForm(forms.ModelForm):
    """A step or record of a case; the chain's state machine decides if it is allowed."""

    class Meta:
        model = CaseEvent
        fields = ["date", "kind", "outcome", "step", "note"]
        widgets = {"date": DATE, "note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [c for c in self.fields["kind"].choices
                                       if c[0] != "open"]
        self.fields["date"].initial = dt.date.today


class ConsentForm(forms.ModelForm):
    """Consent of a parent or the child, given or withdrawn."""

    given = forms.TypedChoiceField(label=_("consent given"), coerce=lambda v: v == "true",
                                   choices=(("true", _("given")), ("false", _("withdrawn"))))

    class Meta:
        model = Consent
        fields = ["party", "given", "date", "scope"]
        widgets = {"date": DATE}


class LedgerForm(forms.ModelForm):
    """A friction-budget entry; approval (who and when) go together."""

    class Meta:
        model = LedgerEntry
        fields = ["entry_id", "date", "amount", "payer", "purpose", "approved_by",
                  "approved_on", "invoice"]
        widgets = {"date": DATE, "approved_on": DATE}

    def __init__(self, *args: Any, case: Case | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if bool(data.get("approved_by")) != bool(data.get("approved_on")):
            self.add_error("approved_on", _("Approved by and approved on go together."))
        if data.get("approved_on") and data.get("date") and data["approved_on"] < data["date"]:
            self.add_error("approved_on", _("Approved before the entry's date."))
        if self.case is not None and data.get("entry_id") and LedgerEntry.objects.filter(
                case=self.case, entry_id=data["entry_id"]).exists():
            self.add_error("entry_id", _("This case already has an entry with this id."))
        return data


class OOGOForm(forms.ModelForm):
    """A regional OOGO agreement (of a region the user works for)."""

    class Meta:
        model = OOGOAgreement
        fields = ["region", "kind", "title", "valid_from", "valid_to", "reference",
                  "case_director_body", "parties"]
        widgets = {"valid_from": DATE, "valid_to": DATE}

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        p = access.principal(user)
        qs = Organisation.objects.filter(kind__in=("gemeente", "swv_po", "swv_vo"))
        self.fields["region"].queryset = qs if p.is_admin else qs.filter(
            pk__in=p.orgs("leerplichtambtenaar", "swv_staff"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("valid_to") and data.get("valid_from") and \
                data["valid_to"] < data["valid_from"]:
            self.add_error("valid_to", _("Before the start."))
        return data


class SignalImportForm(forms.Form):
    """Upload an ``ozamonitor signals`` CSV to open cases."""

    file = forms.FileField(label=_("signals file (CSV)"))
    gemeente = forms.ModelChoiceField(Organisation.objects.none(), label=_("municipality"),
                                      required=False,
                                      help_text=_("For rows without a gemeente_code column."))
    kinds = forms.MultipleChoiceField(
        label=_("signals that open a case"), initial=list(CASE_SIGNALS),
        widget=forms.CheckboxSelectMultiple,
        choices=[(k, k) for k in ("report_16h_4w", "lrv_4w", "lrv_3m", "casusregie_due",
                                  "doorbraak_due", "alarm_3m")])

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["gemeente"].queryset = _gemeenten(user)
