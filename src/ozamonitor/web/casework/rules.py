"""Who may see and change cases (registered with ozamonitor.web.access).

- ``leerplichtambtenaar`` (held at a gemeente): the cases of that gemeente;
  opens cases there, records steps, consent and ledger entries.
- ``casusregisseur`` (held at a gemeente or SWV): the cases they direct
  (``Case.director``); records steps, consent and ledger entries there.
- ``swv_staff``: the cases of their SWV, read only.
- ``school_staff``: the cases of their school (a board: its schools), read only,
  without the ledger and the consent records (data minimisation).
- ``study_team``: no case at all; pseudonymised, disclosure-controlled counts
  only (``/cases/counts/``).

Every read of a case records who, when, through which role and under which
legal basis (:func:`legal_basis`, :func:`record_read`): the "Iedere leerling in
beeld" rule that sharing is role-based and tied to a legal basis.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ozamonitor.web import access
from ozamonitor.web.access import Principal
from ozamonitor.web.casework.models import (
    Case,
    CaseEvent,
    CaseRead,
    Consent,
    LedgerEntry,
    OOGOAgreement,
)

access.register_role("leerplichtambtenaar", _("compulsory-education officer"), ("gemeente",))
access.register_role("casusregisseur", _("case director"), ("gemeente", "swv_po", "swv_vo"))

#: The legal basis recorded with each read, per role (first match in this order).
LEGAL_BASIS: dict[str, str] = {
    "leerplichtambtenaar": "Leerplichtwet 1969 art. 16 en 21-22 (toezicht en verzuimmelding)",
    "casusregisseur": "mandaat casusregie (OOGO-convenant) en toestemming ouders en kind "
                      "(AVG art. 6 lid 1 sub a)",
    "swv_staff": "Wpo art. 18a / Wvo art. 17a (ondersteuningsplan, thuiszittersoverzicht)",
    "school_staff": "Leerplichtwet 1969 art. 21a (verzuimmelding door de school)",
    "admin": "beheer (AVG art. 32)",
}


def _school_orgs(p: Principal) -> frozenset[int]:
    return p.orgs("school_staff") | p.child_orgs


def case_q(p: Principal, prefix: str = "") -> Q:
    """The cases ``p`` may see (``prefix`` for related models, e.g. ``case__``)."""
    return (Q(**{f"{prefix}gemeente__in": p.orgs("leerplichtambtenaar")})
            | Q(**{f"{prefix}director_id": p.user_id})
            | Q(**{f"{prefix}swv__in": p.orgs("swv_staff")})
            | Q(**{f"{prefix}school__in": _school_orgs(p)}))


def details_q(p: Principal, prefix: str = "") -> Q:
    """The cases whose consent and ledger ``p`` sees (all of :func:`case_q` but the schools')."""
    return (Q(**{f"{prefix}gemeente__in": p.orgs("leerplichtambtenaar")})
            | Q(**{f"{prefix}director_id": p.user_id})
            | Q(**{f"{prefix}swv__in": p.orgs("swv_staff")}))


def works_on(p: Principal, case: Case) -> bool:
    """Whether ``p`` may record steps, consent and ledger entries on ``case``."""
    return case.gemeente_id in p.orgs("leerplichtambtenaar") or (
        case.director_id is not None and case.director_id == p.user_id)


def sees_details(p: Principal, case: Case) -> bool:
    """Whether ``p`` sees the ledger and the consent records (not a school's staff only)."""
    return p.is_admin or works_on(p, case) or case.swv_id in p.orgs("swv_staff")


def legal_basis(p: Principal, case: Case) -> tuple[str, str]:
    """The role through which ``p`` sees ``case`` and its legal basis."""
    if p.is_admin:
        return "admin", LEGAL_BASIS["admin"]
    if case.gemeente_id in p.orgs("leerplichtambtenaar"):
        role = "leerplichtambtenaar"
    elif case.director_id == p.user_id:
        role = "casusregisseur"
    elif case.swv_id in p.orgs("swv_staff"):
        role = "swv_staff"
    else:
        role = "school_staff"
    return role, LEGAL_BASIS[role]


def record_read(who: Any, case: Case, via: str) -> None:
    """Log that ``who`` (request or user) read ``case`` (``via`` page, api or export)."""
    user = getattr(who, "user", who)
    role, basis = legal_basis(access.principal(user), case)
    CaseRead.objects.create(case=case, user=user, role=role, legal_basis=basis, via=via)


access.register(
    Case, visible=case_q, change=works_on,
    create=lambda p: p.has("leerplichtambtenaar"), study_team_reads=False)
access.register(
    CaseEvent, visible=lambda p: case_q(p, "case__"),
    change=lambda p, obj: works_on(p, obj.case),
    create=lambda p: p.has("leerplichtambtenaar", "casusregisseur"), study_team_reads=False)
for _model in (Consent, LedgerEntry):
    access.register(
        _model, visible=lambda p: details_q(p, "case__"),
        change=lambda p, obj: works_on(p, obj.case),
        create=lambda p: p.has("leerplichtambtenaar", "casusregisseur"),
        study_team_reads=False)
access.register(
    CaseRead,
    visible=lambda p: Q(case__gemeente__in=p.orgs("leerplichtambtenaar")),
    study_team_reads=False)
# OOGO agreements are public regional arrangements: every user with a case role reads them;
# the gemeente's officers and the SWV's staff record those of their own region.
access.register(
    OOGOAgreement,
    visible=lambda p: Q() if p.has("leerplichtambtenaar", "casusregisseur", "swv_staff",
                                    "school_staff") else Q(pk__in=[]),
    change=lambda p, obj: obj.region_id in p.orgs("leerplichtambtenaar", "swv_staff"),
    create=lambda p: p.has("leerplichtambtenaar", "swv_staff"))
