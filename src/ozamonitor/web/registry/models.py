"""Initiatives (applications), their co-applicants and documents, and arrangements."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Sum
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ozamonitor.web.audit import AuditedModel
from ozamonitor.web.core.models import Organisation
from ozamonitor.web.registry import codes


def _check_codes(value: Any, choices: tuple[tuple[str, Any], ...], field: str) -> None:
    allowed = {c for c, _l in choices}
    if not isinstance(value, list) or any(v not in allowed for v in value):
        raise ValidationError({field: _("Choose from: %(codes)s.")
                               % {"codes": ", ".join(sorted(allowed))}})


class Versioned(AuditedModel):
    """A row with a version number for optimistic concurrency (see ``registry/concurrency.py``)."""

    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Initiative(Versioned):
    """An application to the experiment (aanvraag), by a school board or an SWV."""

    code = models.CharField(_("code"), max_length=20, unique=True,
                            help_text=_("The register's initiative_id, e.g. INI07."))
    name = models.CharField(_("name"), max_length=200)
    applicant = models.ForeignKey(Organisation, on_delete=models.PROTECT,
                                  related_name="applications", verbose_name=_("applicant"),
                                  limit_choices_to={"kind__in": ("school_board", "swv_po",
                                                                 "swv_vo")})
    swv = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="initiatives",
                            verbose_name=_("SWV"),
                            limit_choices_to={"kind__in": ("swv_po", "swv_vo")})
    received_by_duo = models.DateField(_("received by DUO"), null=True, blank=True)
    contains_personal_data = models.BooleanField(_("contains personal data"), null=True,
                                                 blank=True)
    pupils_enrolled = models.BooleanField(_("pupils enrolled at a school"), null=True,
                                          blank=True)
    admitted = models.BooleanField(_("admitted"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("initiative")
        verbose_name_plural = _("initiatives")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("registry:initiative", args=[self.code])

    def clean(self) -> None:
        if self.swv_id and not self.swv.is_swv:
            raise ValidationError({"swv": _("Choose an SWV.")})
        if self.applicant_id and self.applicant.kind not in ("school_board", "swv_po",
                                                             "swv_vo"):
            raise ValidationError({"applicant": _("The applicant is a school board or an "
                                                  "SWV.")})

    def application(self) -> dict[str, Any]:
        """This initiative in the shape of the Besluit application file."""
        attached = set(self.attachments.values_list("kind", flat=True))
        return {
            "applicant": {"kind": "swv" if self.applicant.is_swv else
                          ("school_board" if self.applicant.kind == "school_board"
                           else self.applicant.kind),
                          "name": self.applicant.name, "code": self.applicant.code},
            "co_applicants": [{"kind": c.kind, "name": c.name, "financier": c.financier or None}
                              for c in self.co_applicants.all()],
            "received_by_duo": self.received_by_duo,
            "attachments": {k: k in attached for k in ("cooperation_agreement",
                                                       "project_plan", "mr_advice",
                                                       "opr_consent")},
            "contains_personal_data": self.contains_personal_data,
            "pupils_enrolled": self.pupils_enrolled,
            "arrangements": [{"code": a.code, "name": a.name, "deviations": list(a.deviations)}
                             for a in self.arrangements.all()],
        }

    def besluit_context(self) -> dict[str, Any]:
        """Values across records: other admitted arrangements, the SWV's total spend."""
        others = Arrangement.objects.filter(initiative__admitted=True)
        others = (others.exclude(initiative=self) if self.pk else others).count()
        ctx: dict[str, Any] = {"national": {"registered_arrangements": others}}
        # every SWV that pays for one of the arrangements; the one closest to its cap counts
        swv_ids = {self.swv_id}
        if self.pk:
            swv_ids |= set(self.arrangements.values_list("swv_id", flat=True))
        worst: tuple[float, dict[str, Any]] | None = None
        for swv in Organisation.objects.filter(pk__in=swv_ids):
            spend = Arrangement.objects.filter(swv=swv).aggregate(s=Sum("swv_spend_eur"))["s"]
            budget = swv.support_budget_eur
            entry = {"swv": swv.code,
                     "support_budget_eur": float(budget) if budget is not None else None,
                     "oza_spend_eur": float(spend) if spend is not None else None}
            if budget is None or spend is None:
                ratio = float("inf")  # unknown outranks every known ratio
            else:
                ratio = float(spend) / float(budget) if budget else float("inf")
            if worst is None or ratio > worst[0]:
                worst = (ratio, entry)
        if worst is not None:
            ctx["swv_budget"] = worst[1]
        return ctx

    def besluit_report(self) -> Any:
        """The Besluit checks of this initiative (``ozamonitor.besluit.CheckReport``)."""
        from ozamonitor.besluit import check_application

        return check_application(self.application(), context=self.besluit_context())


class CoApplicant(AuditedModel):
    """A co-applicant: the SWV or a school, or a care provider and its financier."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE,
                                   related_name="co_applicants")
    kind = models.CharField(_("kind"), max_length=20, choices=codes.CO_APPLICANT_KINDS)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="co_applications",
                                     verbose_name=_("organisation"))
    name = models.CharField(_("name"), max_length=200)
    financier = models.CharField(_("financier"), max_length=20, blank=True,
                                 choices=codes.CARE_FINANCIERS)
    history = HistoricalRecords()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("co-applicant")
        verbose_name_plural = _("co-applicants")

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class Attachment(AuditedModel):
    """A document of an initiative (PDF or DOCX), stored in the data folder."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE,
                                   related_name="attachments")
    kind = models.CharField(_("kind"), max_length=30, choices=codes.ATTACHMENT_KINDS)
    stored_name = models.CharField(max_length=200, unique=True, editable=False)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "uploaded_at"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name


class Arrangement(Versioned):
    """An education-care arrangement (OZA); ``code`` is the register's arrangement_id."""

    code = models.CharField(_("code"), max_length=20, unique=True,
                            help_text=_("The register's arrangement_id, e.g. OZA012."))
    name = models.CharField(_("name"), max_length=200)
    initiative = models.ForeignKey(Initiative, on_delete=models.PROTECT,
                                   related_name="arrangements", verbose_name=_("initiative"))
    swv = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="arrangements",
                            verbose_name=_("SWV"),
                            limit_choices_to={"kind__in": ("swv_po", "swv_vo")},
                            help_text=_("The SWV whose support budget pays the SWV share."))
    sector = models.CharField(_("sector"), max_length=4, choices=codes.SECTORS)
    type = models.CharField(_("type"), max_length=30, choices=codes.TYPES)
    locations = models.JSONField(_("locations"), default=list, blank=True)
    school_id = models.CharField(_("school location (BRIN + number)"), max_length=8,
                                 blank=True,
                                 help_text=_("Register school_id of the school where "
                                             "participants are enrolled."))
    gemeente = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="arrangements_in",
                                 verbose_name=_("municipality"),
                                 limit_choices_to={"kind": "gemeente"})
    teaching_hours_per_week = models.DecimalField(_("teaching hours per week"), max_digits=5,
                                                  decimal_places=1, null=True, blank=True)
    deviations = models.JSONField(_("deviations used"), default=list, blank=True)
    target_groups = models.JSONField(_("target groups"), default=list, blank=True)
    support_needs = models.JSONField(_("support needs in focus"), default=list, blank=True)
    capacity = models.PositiveIntegerField(_("capacity (pupils)"), null=True, blank=True)
    start = models.DateField(_("start"), null=True, blank=True)
    end = models.DateField(_("end"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=codes.STATUSES,
                              default="planned")
    swv_spend_eur = models.DecimalField(_("SWV budget spent (EUR per year)"), max_digits=12,
                                        decimal_places=2, null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("arrangement")
        verbose_name_plural = _("arrangements")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("registry:arrangement", args=[self.code])

    def clean(self) -> None:
        _check_codes(self.locations, codes.LOCATIONS, "locations")
        _check_codes(self.deviations, codes.DEVIATIONS, "deviations")
        _check_codes(self.target_groups, codes.TARGET_GROUPS, "target_groups")
        _check_codes(self.support_needs, codes.SUPPORT_NEEDS, "support_needs")
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": _("The end lies before the start.")})
        if self.teaching_hours_per_week is not None and not (
                Decimal(0) <= self.teaching_hours_per_week <= Decimal(40)):
            raise ValidationError({"teaching_hours_per_week": _("Between 0 and 40 hours.")})
        if self.swv_id and not self.swv.is_swv:
            raise ValidationError({"swv": _("Choose an SWV.")})
        if self.gemeente_id and self.gemeente.kind != "gemeente":
            raise ValidationError({"gemeente": _("Choose a municipality.")})


class Partner(Versioned):
    """A school or care provider taking part in an arrangement; its staff edit this row."""

    arrangement = models.ForeignKey(Arrangement, on_delete=models.CASCADE,
                                    related_name="partners")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT,
                                     related_name="partnerships",
                                     verbose_name=_("organisation"))
    role = models.CharField(_("role"), max_length=20, choices=codes.PARTNER_ROLES)
    financier = models.CharField(_("financier"), max_length=20, blank=True,
                                 choices=codes.PARTNER_FINANCIERS)
    contribution = models.TextField(_("contribution"), blank=True,
                                    help_text=_("What this partner offers in the arrangement."))
    hours_per_week = models.DecimalField(_("hours per week"), max_digits=5, decimal_places=1,
                                         null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["role", "pk"]
        constraints = [models.UniqueConstraint(fields=["arrangement", "organisation", "role"],
                                               name="unique_partner")]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")

    def __str__(self) -> str:
        return f"{self.organisation.name} ({self.role})"
