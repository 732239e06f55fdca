"""Code lists of the registry (labels translatable); register codes come from register.schema."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from ozamonitor.register.schema import OZA_DEVIATIONS, OZA_END_REASONS, OZA_TARGET_GROUPS

SECTORS = (("po", _("primary (PO)")), ("vo", _("secondary (VO)")), ("both", _("PO and VO")))

#: Arrangement types seen in the field (domain.md section 11).
TYPES = (
    ("extra_guidance", _("extra guidance at school (expertise team in the class)")),
    ("part_time_teaching", _("a few hours of teaching plus support elsewhere")),
    ("class_at_school", _("a class on a regular school's grounds")),
    ("intermediate_provision", _("intermediate provision (tussenvoorziening)")),
    ("opdc", _("OPDC (pupil stays enrolled at own school)")),
    ("distance_learning", _("distance learning at home or a care location")),
    ("care_location_teaching", _("teaching at a day centre or care location (KDC)")),
)

LOCATIONS = (
    ("school", _("school (BRIN)")),
    ("home", _("home")),
    ("care_location", _("care location")),
    ("care_farm", _("care farm")),
    ("private_location", _("private location")),
    ("distance", _("distance learning")),
)

_DEV_LABELS = {"time": _("teaching time"), "core_objectives": _("core objectives"),
               "location": _("teaching location"), "funding": _("funding")}
DEVIATIONS = tuple((c, _DEV_LABELS[c]) for c in OZA_DEVIATIONS)

_TG_LABELS = {"at_risk": _("threatening long-term absence"),
              "long_term_absent": _("long-term absentees"),
              "not_enrolled": _("compulsory age, not enrolled"),
              "exempt_5a": _("exempt under article 5a")}
TARGET_GROUPS = tuple((c, _TG_LABELS[c]) for c in OZA_TARGET_GROUPS)

#: Complex support needs named in the plans (domain.md section 5).
SUPPORT_NEEDS = (
    ("neurocognitive", _("neurocognitive development")),
    ("social_emotional", _("social-emotional development")),
    ("physical_health", _("physical health")),
    ("mental_health", _("mental health")),
    ("family_context", _("family context")),
    ("risky_circumstances", _("risky circumstances")),
    ("mismatch", _("mismatch between pupil and school system or laws")),
)

STATUSES = (("planned", _("planned")), ("running", _("running")), ("ended", _("ended")),
            ("stopped", _("stopped")))

CO_APPLICANT_KINDS = (("swv", _("SWV")), ("school", _("school")),
                      ("care_provider", _("care provider")))
CARE_FINANCIERS = (("gemeente", _("municipality")), ("zorgverzekeraar", _("health insurer")),
                   ("zorgkantoor", _("care office")))
PARTNER_ROLES = (("school", _("school")), ("care_provider", _("care provider")))
PARTNER_FINANCIERS = (*CARE_FINANCIERS, ("swv", _("SWV")), ("school", _("school")))

ATTACHMENT_KINDS = (
    ("cooperation_agreement", _("cooperation agreement")),
    ("project_plan", _("project plan")),
    ("mr_advice", _("advice of the participation council (MR)")),
    ("opr_consent", _("consent of the support-plan council (OPR)")),
    ("other", _("other document")),
)

END_REASONS = tuple((c, c) for c in OZA_END_REASONS)


def label(choices: tuple[tuple[str, object], ...], code: str) -> str:
    """The translated label of ``code`` in ``choices`` (the code itself if unknown)."""
    return str(dict(choices).get(code, code))
