"""Organisations, memberships (who holds which role where) and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ozamonitor.web.audit import AuditedModel

#: Kinds of organisation. Register codes: SWVs and gemeenten use the register's
#: region_id, schools its school_id (BRIN + location).
ORG_KINDS = (
    ("swv_po", _("SWV primary education")),
    ("swv_vo", _("SWV secondary education")),
    ("gemeente", _("municipality")),
    ("school_board", _("school board")),
    ("school", _("school")),
    ("care_provider", _("care provider")),
    ("zorgkantoor", _("care office (Wlz)")),
    ("zorgverzekeraar", _("health insurer (Zvw)")),
    ("study_team", _("study team")),
    ("other", _("other")),
)
SWV_KINDS = ("swv_po", "swv_vo")


class Organisation(AuditedModel):
    """An SWV, gemeente, school board, school, care provider, financier or the study team."""

    code = models.CharField(_("code"), max_length=40, unique=True,
                            help_text=_("Register code: region id, school id or own code."))
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=ORG_KINDS)
    parent = models.ForeignKey("self", verbose_name=_("part of"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children",
                               help_text=_("A school's board."))
    swvs = models.ManyToManyField("self", verbose_name=_("SWVs"), blank=True, symmetrical=False,
                                  related_name="members",
                                  help_text=_("SWVs a school or gemeente lies in."))
    brin = models.CharField(_("BRIN"), max_length=4, blank=True)
    support_budget_eur = models.DecimalField(
        _("support budget (EUR)"), max_digits=14, decimal_places=2, null=True, blank=True,
        help_text=_("An SWV's yearly support budget; 2.5% may go to arrangements."))
    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_swv(self) -> bool:
        """Whether this is an SWV (PO or VO)."""
        return self.kind in SWV_KINDS


class Membership(AuditedModel):
    """A user holds ``role`` at ``organisation`` (roles: ``ozamonitor.web.access.ROLES``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="memberships", verbose_name=_("user"))
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                     related_name="memberships", verbose_name=_("organisation"))
    role = models.CharField(_("role"), max_length=40)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation", "role"],
                                               name="unique_membership")]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} {self.role} @ {self.organisation.code}"

    def clean(self) -> None:
        """The role must exist and fit the organisation's kind."""
        from ozamonitor.web.access import ROLES

        role = ROLES.get(self.role)
        if role is None:
            raise ValidationError({"role": _("Unknown role.")})
        if role.org_kinds is not None and self.organisation_id and \
                self.organisation.kind not in role.org_kinds:
            raise ValidationError({"role": _("This role cannot be held at this kind of "
                                             "organisation.")})


class ApiToken(models.Model):
    """An API token; only its SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
