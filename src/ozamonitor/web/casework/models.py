"""Cases of the chain around a child who stays home, with their events, consent and ledger.

The records map one to one onto :mod:`ozamonitor.casework.model` (see
:mod:`~ozamonitor.web.casework.bridge`); state, due steps and the timeline are
computed by the library's engine, never stored. Every model except the read log
is audited (who, when, before and after); the read log itself is append-only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ozamonitor.casework.model import EVENT_KINDS, OUTCOMES
from ozamonitor.casework.oogo import AGREEMENT_KINDS
from ozamonitor.register.schema import FINANCIERS
from ozamonitor.web.audit import AuditedModel
from ozamonitor.web.core.models import Organisation

EVENT_LABELS = {
    "open": _("open the case"), "convene_mdt": _("convene the multidisciplinary team"),
    "appoint_case_director": _("appoint the case director"),
    "mobilise_breakthrough": _("mobilise the breakthrough team"),
    "start_arbitration": _("start binding arbitration"), "resolve": _("resolve"),
    "close": _("close"), "reopen": _("reopen"), "meeting": _("meeting"),
    "decision": _("decision"), "offer": _("offer"), "member": _("team member"),
    "note": _("note"), "waive_step": _("waive a step"),
}
EVENT_CHOICES = tuple((k, EVENT_LABELS[k]) for k in EVENT_KINDS)
OUTCOME_LABELS = {
    "back_to_school": _("back to school"), "special_education": _("special education"),
    "oza_arrangement": _("education-care arrangement"), "care": _("care"),
    "exemption": _("exemption"), "moved": _("moved"), "withdrawn": _("withdrawn"),
    "other": _("other"),
}
OUTCOME_CHOICES = tuple((k, OUTCOME_LABELS[k]) for k in OUTCOMES)
STEP_CHOICES = (("casusregie", _("case director")), ("doorbraak", _("breakthrough team")),
                ("arbitration", _("binding arbitration")))
AGREEMENT_LABELS = {
    "covenant": _("covenant"), "prevention_plan": _("prevention plan"),
    "absence_protocol": _("absence protocol"),
    "breakthrough_approach": _("breakthrough approach"), "case_director": _("case director"),
}
AGREEMENT_CHOICES = tuple((k, AGREEMENT_LABELS[k]) for k in AGREEMENT_KINDS)
PAYER_CHOICES = tuple((f, f) for f in FINANCIERS)


class Case(AuditedModel):
    """One child's case in one gemeente (and SWV), from a signal or opened by hand.

    ``person_id`` is the register's pseudonym: direct identifiers are not stored.
    """

    code = models.CharField(_("case number"), max_length=40, unique=True)
    person_id = models.CharField(_("pupil (pseudonym)"), max_length=64, db_index=True)
    gemeente = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="cases",
                                 verbose_name=_("municipality"),
                                 limit_choices_to={"kind": "gemeente"})
    swv = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True,
                            related_name="swv_cases", verbose_name=_("SWV"),
                            limit_choices_to={"kind__in": ("swv_po", "swv_vo")})
    school = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="school_cases", verbose_name=_("school"),
                               limit_choices_to={"kind": "school"})
    start = models.DateField(_("first day of absence"),
                             help_text=_("The timers count from this day."))
    opened_on = models.DateField(_("opened on"))
    source = models.CharField(_("source"), max_length=10, default="manual",
                              choices=(("signal", _("signal")), ("manual", _("by hand"))))
    signal = models.CharField(_("signal"), max_length=200, blank=True)
    director = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                 null=True, blank=True, related_name="directed_cases",
                                 verbose_name=_("case director"))
    mandated_by = models.CharField(_("mandated by"), max_length=300, blank=True,
                                   help_text=_("The bodies that mandate the case director."))
    history = HistoricalRecords()

    class Meta:
        ordering = ["start", "code"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")

    def __str__(self) -> str:
        return self.code

    def get_absolute_url(self) -> str:
        return reverse("casework:case", args=[self.code])


class CaseEvent(AuditedModel):
    """A dated step or record of a case (kinds: :data:`ozamonitor.casework.model.EVENT_KINDS`)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    date = models.DateField(_("date"))
    kind = models.CharField(_("step"), max_length=30, choices=EVENT_CHOICES)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("recorded by"))
    note = models.TextField(_("note"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=30, blank=True,
                               choices=OUTCOME_CHOICES)
    step = models.CharField(_("step waived"), max_length=20, blank=True, choices=STEP_CHOICES)
    created = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["date", "id"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")

    def __str__(self) -> str:
        return f"{self.case.code} {self.date} {self.kind}"


class Consent(AuditedModel):
    """Consent of a parent or the child, given or withdrawn (advice 5)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    party = models.CharField(_("party"), max_length=10,
                             choices=(("parent", _("parent")), ("child", _("child"))))
    given = models.BooleanField(_("consent given"))
    date = models.DateField(_("date"))
    scope = models.CharField(_("scope"), max_length=200, default="case")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["date", "id"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    def __str__(self) -> str:
        return f"{self.case.code} {self.party} {self.given} {self.date}"


class LedgerEntry(AuditedModel):
    """A friction-budget amount spent on a case (euros, cents exact)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="ledger")
    entry_id = models.CharField(_("entry"), max_length=40)
    date = models.DateField(_("date"))
    amount = models.DecimalField(_("amount (EUR)"), max_digits=12, decimal_places=2)
    payer = models.CharField(_("payer"), max_length=20, choices=PAYER_CHOICES)
    purpose = models.CharField(_("purpose"), max_length=300)
    approved_by = models.CharField(_("approved by"), max_length=120, blank=True)
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    invoice = models.CharField(_("invoice"), max_length=80, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["date", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "entry_id"],
                                               name="unique_ledger_entry")]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")

    def __str__(self) -> str:
        return f"{self.case.code} {self.entry_id}"


class OOGOAgreement(AuditedModel):
    """A regional agreement of gemeente and SWV that governs the chain (recorded once)."""

    region = models.ForeignKey(Organisation, on_delete=models.PROTECT,
                               related_name="oogo_agreements", verbose_name=_("region"),
                               limit_choices_to={"kind__in": ("gemeente", "swv_po", "swv_vo")})
    kind = models.CharField(_("kind"), max_length=30, choices=AGREEMENT_CHOICES)
    title = models.CharField(_("title"), max_length=200)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=300, blank=True)
    case_director_body = models.CharField(_("case director body"), max_length=200, blank=True)
    parties = models.CharField(_("parties"), max_length=500, blank=True,
                               help_text=_("Separated by semicolons."))
    history = HistoricalRecords()

    class Meta:
        ordering = ["region__code", "kind", "valid_from"]
        verbose_name = _("OOGO agreement")
        verbose_name_plural = _("OOGO agreements")

    def __str__(self) -> str:
        return f"{self.region.code} {self.kind}: {self.title}"


class CaseRead(models.Model):
    """Who read a case, when, how and under which legal basis (append-only)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("user"))
    when = models.DateTimeField(_("when"), auto_now_add=True)
    role = models.CharField(_("role"), max_length=40)
    legal_basis = models.CharField(_("legal basis"), max_length=300)
    via = models.CharField(_("via"), max_length=10)

    class Meta:
        ordering = ["-when", "-id"]
        verbose_name = _("case read")
        verbose_name_plural = _("case reads")
