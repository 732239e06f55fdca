"""Waves of the questionnaire and the answers to each part (one row per wave, arrangement, part)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ozamonitor.web.audit import AuditedModel
from ozamonitor.web.registry.models import Arrangement

#: The parts of the instrument, in order, with who answers them (see ``rules.py``).
PARTS = (
    ("level1", _("Part 1 - Legal form and partners")),
    ("level2", _("Part 2 - Funding")),
    ("level3", _("Part 3 - Care")),
    ("level4", _("Part 4 - Education")),
)
STATUSES = (("draft", _("draft")), ("submitted", _("submitted")))
#: web roles -> the library's respondent roles (``ozamonitor.survey.submissions.RESPONDENT_ROLES``)
LIBRARY_ROLES = {"provider_staff": "care_provider_staff", "admin": "administrator"}


class Wave(AuditedModel):
    """One yearly round of the questionnaire, opened by the study team."""

    year = models.PositiveIntegerField(_("year"), unique=True)
    instrument_version = models.CharField(_("instrument version"), max_length=20)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    is_open = models.BooleanField(_("open"), default=True,
                                  help_text=_("Respondents can answer while the wave is open."))
    arrangements = models.ManyToManyField(Arrangement, related_name="survey_waves",
                                          verbose_name=_("arrangements"), blank=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(m2m_fields=[arrangements])

    class Meta:
        ordering = ["-year"]
        verbose_name = _("wave")
        verbose_name_plural = _("waves")

    def __str__(self) -> str:
        return str(self.year)

    def get_absolute_url(self) -> str:
        return reverse("survey:wave", args=[self.year])


class Response(AuditedModel):
    """One part of the questionnaire answered for one arrangement in one wave.

    ``answers`` holds the cleaned answers (question name -> answer, repeats as
    lists of mappings) exactly as :class:`ozamonitor.survey.submissions.Submission`
    has them; ``prefilled`` the names copied from the previous wave and not
    changed since.
    """

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="responses",
                             verbose_name=_("wave"))
    arrangement = models.ForeignKey(Arrangement, on_delete=models.CASCADE,
                                    related_name="survey_responses",
                                    verbose_name=_("arrangement"))
    part = models.CharField(_("part"), max_length=10, choices=PARTS)
    instrument_version = models.CharField(_("instrument version"), max_length=20)
    status = models.CharField(_("status"), max_length=10, choices=STATUSES, default="draft")
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    prefilled = models.JSONField(_("prefilled from the previous wave"), default=list,
                                 blank=True)
    respondent_role = models.CharField(_("respondent role"), max_length=40, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    shown = models.PositiveIntegerField(default=0, editable=False)
    answered = models.PositiveIntegerField(default=0, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["wave", "arrangement", "part"]
        constraints = [models.UniqueConstraint(fields=["wave", "arrangement", "part"],
                                               name="unique_response")]
        verbose_name = _("response")
        verbose_name_plural = _("responses")

    def __str__(self) -> str:
        return f"{self.wave.year} {self.arrangement.code} {self.part}"

    def get_absolute_url(self) -> str:
        return reverse("survey:answer", args=[self.wave.year, self.arrangement.code, self.part])

    @property
    def share(self) -> float:
        """Share of the shown questions that are answered."""
        return self.answered / self.shown if self.shown else 0.0

    def submission(self) -> Any:
        """This row as a library :class:`~ozamonitor.survey.submissions.Submission`."""
        from ozamonitor.survey.submissions import Submission

        return Submission(
            arrangement_id=self.arrangement.code, wave=self.wave.year, part=self.part,
            instrument_version=self.instrument_version, answers=dict(self.answers),
            status=self.status,
            respondent_role=LIBRARY_ROLES.get(self.respondent_role, self.respondent_role)
            or "swv_staff",
            prefilled=set(self.prefilled),
            updated=self.updated_at.isoformat() if self.updated_at else None)
