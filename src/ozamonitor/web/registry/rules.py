"""Who may see and change the registry's records (registered with ozamonitor.web.access).

- SWV staff: read and change the initiatives (applications of their SWV),
  arrangements (paid from their SWV's budget), co-applicants, partners and
  attachments of their own SWV, and create new ones there; they read an
  initiative of another SWV that holds one of their arrangements.
- School and care-provider staff: read the arrangements they take part in
  (a school board's staff: those of its schools, and its own applications)
  with their initiatives and documents; change only their own partner row.
- Study team: reads everything (the access module's default); administrators
  do everything.
"""

from __future__ import annotations

from django.db.models import Q

from ozamonitor.web import access
from ozamonitor.web.access import Principal
from ozamonitor.web.registry.models import (
    Arrangement,
    Attachment,
    CoApplicant,
    Initiative,
    Partner,
)

PARTNER_ROLES = ("school_staff", "provider_staff")


def swvs(p: Principal) -> frozenset[int]:
    """SWVs whose records ``p`` manages."""
    return p.orgs("swv_staff")


def partner_orgs(p: Principal) -> frozenset[int]:
    """Organisations ``p`` acts for as a school or care provider (a board: its schools too)."""
    return p.orgs(*PARTNER_ROLES) | p.child_orgs


def _initiative_q(p: Principal, prefix: str = "") -> Q:
    return (Q(**{f"{prefix}swv__in": swvs(p)})
            | Q(**{f"{prefix}arrangements__swv__in": swvs(p)})
            | Q(**{f"{prefix}applicant__in": p.orgs("school_staff")})
            | Q(**{f"{prefix}arrangements__partners__organisation__in": partner_orgs(p)}))


def _arrangement_q(p: Principal, prefix: str = "") -> Q:
    return (Q(**{f"{prefix}swv__in": swvs(p)})
            | Q(**{f"{prefix}initiative__applicant__in": p.orgs("school_staff")})
            | Q(**{f"{prefix}partners__organisation__in": partner_orgs(p)}))


def _manages(p: Principal, swv_id: int | None) -> bool:
    return swv_id is not None and swv_id in swvs(p)


access.register(
    Initiative,
    visible=_initiative_q,
    change=lambda p, obj: _manages(p, obj.swv_id),
    create=lambda p: bool(swvs(p)),
)
access.register(
    Arrangement,
    visible=_arrangement_q,
    change=lambda p, obj: _manages(p, obj.swv_id),
    create=lambda p: bool(swvs(p)),
)
access.register(
    CoApplicant,
    visible=lambda p: _initiative_q(p, "initiative__"),
    change=lambda p, obj: _manages(p, obj.initiative.swv_id),
    create=lambda p: bool(swvs(p)),
)
access.register(
    Attachment,
    visible=lambda p: _initiative_q(p, "initiative__"),
    change=lambda p, obj: _manages(p, obj.initiative.swv_id),
    create=lambda p: bool(swvs(p)),
)
access.register(
    Partner,
    visible=lambda p: _arrangement_q(p, "arrangement__"),
    # the SWV manages every partner row; a school or provider edits its own part
    change=lambda p, obj: _manages(p, obj.arrangement.swv_id)
    or obj.organisation_id in partner_orgs(p),
    create=lambda p: bool(swvs(p)),
)
