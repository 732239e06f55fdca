"""Region matrices (per SWV or gemeente) and the funding map saved with an arrangement."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ozamonitor.funding import RegionMatrix
from ozamonitor.web.core.models import Organisation
from ozamonitor.web.registry.models import Arrangement, Versioned

#: Organisation kinds that keep a region matrix.
MATRIX_OWNER_KINDS = ("swv_po", "swv_vo", "gemeente")


class RegionMatrixFile(Versioned):
    """A region's own matrix (the YAML of docs/funding.md), kept by an SWV or a gemeente."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT,
                                     related_name="funding_matrices",
                                     verbose_name=_("organisation"),
                                     limit_choices_to={"kind__in": MATRIX_OWNER_KINDS})
    matrix_id = models.CharField(_("matrix id"), max_length=64,
                                 help_text=_("The id in the file."))
    name = models.CharField(_("name"), max_length=200)
    file_name = models.CharField(_("file name"), max_length=200)
    text = models.TextField(_("YAML text"))
    active = models.BooleanField(_("active"), default=True,
                                 help_text=_("Offered in the advisor."))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["organisation__code", "matrix_id"]
        constraints = [models.UniqueConstraint(fields=["organisation", "matrix_id"],
                                               name="unique_region_matrix")]
        verbose_name = _("region matrix")
        verbose_name_plural = _("region matrices")

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation.code})"

    def get_absolute_url(self) -> str:
        return reverse("funding:matrix", args=[self.pk])

    @cached_property
    def matrix(self) -> RegionMatrix:
        """The validated matrix (the text was validated when it was saved)."""
        return RegionMatrix.load(self.file_name, text=self.text)


class FundingMap(Versioned):
    """Who pays for each component of an arrangement: the case asked and the advice given."""

    arrangement = models.OneToOneField(Arrangement, on_delete=models.CASCADE,
                                       related_name="funding_map",
                                       verbose_name=_("arrangement"))
    case = models.JSONField(_("case"), help_text=_("The facts and components asked."))
    advice_en = models.JSONField(_("advice (English)"))
    advice_nl = models.JSONField(_("advice (Dutch)"))
    matrix = models.ForeignKey(RegionMatrixFile, on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="funding_maps",
                               verbose_name=_("region matrix"))
    example_matrix = models.BooleanField(_("shipped example matrix"), default=False)
    matrix_label = models.CharField(_("region matrix used"), max_length=200, blank=True,
                                    help_text=_("Kept when the matrix is deleted later."))
    rule_set = models.CharField(_("rule set"), max_length=100)
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                 null=True, blank=True, related_name="+")
    #: The audit keeps the case, the rule set's version and the matrix (whose own history
    #: keeps its text): the advice follows from them, and its JSON would swamp the log.
    history = HistoricalRecords(excluded_fields=["advice_en", "advice_nl"])

    class Meta:
        ordering = ["arrangement__code"]
        verbose_name = _("funding map")
        verbose_name_plural = _("funding maps")

    def __str__(self) -> str:
        return f"{self.arrangement.code}"

    def get_absolute_url(self) -> str:
        return reverse("funding:map", args=[self.arrangement.code])

    def advice(self, lang: str) -> dict[str, Any]:
        """The saved advice JSON in ``lang`` (``nl`` or ``en``)."""
        return self.advice_nl if lang == "nl" else self.advice_en

    @property
    def gaps(self) -> int:
        """How many components no party is obliged to pay for."""
        return sum(1 for c in self.advice_en.get("components", []) if c.get("gap"))
