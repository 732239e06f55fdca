"""The study team's form to open a wave."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ozamonitor.survey.instrument import available_versions
from ozamonitor.web.registry.models import Arrangement
from ozamonitor.web.survey.models import Wave


class WaveForm(forms.Form):
    """Open a wave: year, instrument version, deadline, which arrangements, prefill."""

    year = forms.IntegerField(label=_("Year"), min_value=2023, max_value=2100)
    instrument_version = forms.ChoiceField(label=_("Instrument version"))
    deadline = forms.DateField(label=_("Deadline"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}))
    all_arrangements = forms.BooleanField(label=_("All arrangements"), required=False,
                                          initial=True)
    arrangements = forms.ModelMultipleChoiceField(
        label=_("Or only these arrangements"), required=False,
        queryset=Arrangement.objects.order_by("code"),
        widget=forms.SelectMultiple(attrs={"size": 8}))
    prefill = forms.BooleanField(label=_("Start from the answers of the previous wave"),
                                 required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        versions = available_versions()
        self.fields["instrument_version"].choices = [(v, v) for v in reversed(versions)]

    def clean_year(self) -> int:
        year = self.cleaned_data["year"]
        if Wave.objects.filter(year=year).exists():
            raise forms.ValidationError(_("Wave %(year)s is already open.") % {"year": year})
        return year

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("all_arrangements") and not data.get("arrangements"):
            self.add_error("arrangements", _("Choose arrangements, or tick all arrangements."))
        return data

    def chosen(self) -> Any:
        """The arrangements the wave is for."""
        if self.cleaned_data.get("all_arrangements"):
            return Arrangement.objects.all()
        return self.cleaned_data["arrangements"]
