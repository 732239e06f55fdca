"""Who answers which part of the questionnaire, and who reads the answers.

- Part 1 (legal form and partners) and part 2 (funding): the staff of the
  SWV whose budget pays the arrangement.
- Part 3 (care): the staff of a care provider taking part in the arrangement,
  and the SWV's staff.
- Part 4 (education): the staff of a school taking part (a school board's
  staff: its schools), and the SWV's staff.
- The study team reads every response (pseudonymised in the pages: respondents
  appear by role and a pseudonym, never by name) and opens and closes waves;
  it answers nothing. Administrators do everything.

A respondent sees the responses of the parts they answer, for the
arrangements they answer them for, and nothing else: SWV A never sees SWV B's
answers, a care provider never sees part 4.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from ozamonitor.web import access
from ozamonitor.web.access import Principal
from ozamonitor.web.survey.models import Response, Wave

#: part -> (role, partner role in the arrangement or None for the SWV itself)
PART_ROLES: dict[str, tuple[tuple[str, str | None], ...]] = {
    "level1": (("swv_staff", None),),
    "level2": (("swv_staff", None),),
    "level3": (("swv_staff", None), ("provider_staff", "care_provider")),
    "level4": (("swv_staff", None), ("school_staff", "school")),
}
RESPONDENT_ROLES = ("swv_staff", "school_staff", "provider_staff")


def _orgs(p: Principal, role: str) -> frozenset[int]:
    orgs = p.orgs(role)
    return orgs | p.child_orgs if role == "school_staff" else orgs


def response_q(p: Principal, prefix: str = "") -> Q:
    """The responses (``prefix`` before the response's fields) ``p`` answers."""
    q = Q(pk__in=[])
    for part, rules in PART_ROLES.items():
        for role, partner_role in rules:
            orgs = _orgs(p, role)
            if not orgs:
                continue
            if partner_role is None:
                cond = Q(**{f"{prefix}arrangement__swv__in": orgs})
            else:
                cond = Q(**{f"{prefix}arrangement__partners__organisation__in": orgs,
                            f"{prefix}arrangement__partners__role": partner_role})
            q |= Q(**{f"{prefix}part": part}) & cond
    return q


def parts_for(p: Principal, arrangement: Any) -> list[str]:
    """The parts ``p`` answers for ``arrangement`` (administrators: all)."""
    if p.is_admin:
        return list(PART_ROLES)
    partners: set[tuple[int, str]] | None = None
    out = []
    for part, rules in PART_ROLES.items():
        for role, partner_role in rules:
            orgs = _orgs(p, role)
            if not orgs:
                continue
            if partner_role is None:
                ok = arrangement.swv_id in orgs
            else:
                if partners is None:
                    partners = set(arrangement.partners.values_list("organisation_id", "role"))
                ok = any((o, partner_role) in partners for o in orgs)
            if ok:
                out.append(part)
                break
    return out


def role_for(p: Principal, arrangement: Any, part: str) -> str:
    """The role under which ``p`` answers ``part`` (recorded with the response)."""
    if p.is_admin and not p.role_orgs:
        return "admin"
    for role, partner_role in PART_ROLES[part]:
        orgs = _orgs(p, role)
        if partner_role is None and arrangement.swv_id in orgs:
            return role
        if partner_role is not None and arrangement.partners.filter(
                organisation__in=orgs, role=partner_role).exists():
            return role
    return "admin"


def may_answer(p: Principal, response: Response) -> bool:
    """Whether ``p`` may save ``response`` (also an unsaved one): its part is theirs and
    the wave is open for the arrangement."""
    wave = response.wave
    if not wave.is_open:
        return False
    if not wave.arrangements.filter(pk=response.arrangement_id).exists():
        return False
    return response.part in parts_for(p, response.arrangement)


access.register(
    Wave,
    # a respondent sees the waves that include an arrangement of theirs
    visible=lambda p: Q(arrangements__in=access.visible(p, _arrangements())),
    change=lambda p, obj: p.is_study_team,
    create=lambda p: p.is_study_team,
)
access.register(
    Response,
    visible=response_q,
    change=lambda p, obj: may_answer(p, obj),
    create=lambda p: p.has(*RESPONDENT_ROLES),
)


def _arrangements() -> Any:
    from ozamonitor.web.registry.models import Arrangement

    return Arrangement
