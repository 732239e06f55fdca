"""A small world for the web tests: two SWVs and everything hanging off them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

#: Debian's Chromium and the flags the browser tests launch it with (conftest's ``browser``)
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: where OZAMONITOR_DOCS_SCREENSHOTS=1 writes the docs' screenshots
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"

PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


@dataclass
class World:
    """What build_world made (attributes by name)."""

    orgs: dict[str, Any]
    users: dict[str, Any]
    initiatives: dict[str, Any]
    arrangements: dict[str, Any]
    attachments: dict[str, Any]
    partners: dict[str, Any]


def make_user(username: str, role: str | None = None, org: Any = None, **kw: Any) -> Any:
    from django.contrib.auth import get_user_model

    from ozamonitor.web.core.models import Membership

    user = get_user_model().objects.create_user(username=username, password="pw-" + username,
                                                **kw)
    if role:
        Membership(user=user, organisation=org, role=role).save()
    return user


def build_world() -> World:
    from ozamonitor.web.core.models import Organisation
    from ozamonitor.web.registry import files
    from ozamonitor.web.registry.models import (
        Arrangement,
        Attachment,
        CoApplicant,
        Initiative,
        Partner,
    )

    def org(code: str, kind: str, **kw: Any) -> Any:
        o = Organisation(code=code, name=f"Org {code}", kind=kind, **kw)
        o.save()
        return o

    orgs = {
        "A": org("PO01", "swv_po", support_budget_eur=Decimal(10_000_000)),
        "B": org("PO02", "swv_po", support_budget_eur=Decimal(10_000_000)),
        "gemA": org("GM0001", "gemeente"), "gemB": org("GM0002", "gemeente"),
        "boardA": org("B11AA", "school_board"), "boardB": org("B22BB", "school_board"),
        "study": org("STUDIE", "study_team"),
    }
    orgs["schoolA"] = org("11AA00", "school", parent=orgs["boardA"], brin="11AA")
    orgs["schoolB"] = org("22BB00", "school", parent=orgs["boardB"], brin="22BB")
    orgs["provA"] = org("ZA-A", "care_provider")
    orgs["provB"] = org("ZA-B", "care_provider")
    users = {
        "admin": make_user("admin", is_superuser=True, is_staff=True),
        "study": make_user("study", "study_team", orgs["study"]),
        "swvA": make_user("swvA", "swv_staff", orgs["A"]),
        "swvB": make_user("swvB", "swv_staff", orgs["B"]),
        "schoolA": make_user("schoolA", "school_staff", orgs["schoolA"]),
        "boardA": make_user("boardA", "school_staff", orgs["boardA"]),
        "provA": make_user("provA", "provider_staff", orgs["provA"]),
        "provB": make_user("provB", "provider_staff", orgs["provB"]),
        "nobody": make_user("nobody"),
    }
    initiatives, arrangements, attachments, partners = {}, {}, {}, {}
    for key in ("A", "B"):
        ini = Initiative(code=f"INI{key}", name=f"Initiative {key}", applicant=orgs[key],
                         swv=orgs[key], received_by_duo=dt.date(2023, 7, 1),
                         contains_personal_data=False, pupils_enrolled=True, admitted=True)
        ini.save()
        CoApplicant(initiative=ini, kind="school", organisation=orgs[f"school{key}"],
                    name="school").save()
        CoApplicant(initiative=ini, kind="care_provider", organisation=orgs[f"prov{key}"],
                    name="provider", financier="gemeente").save()
        for kind in ("cooperation_agreement", "project_plan", "opr_consent"):
            stored, digest = files.store(PDF, files.PDF)
            att = Attachment(initiative=ini, kind=kind, stored_name=stored,
                             original_name=f"{kind}.pdf", content_type=files.PDF,
                             size=len(PDF), sha256=digest)
            att.save()
            attachments.setdefault(key, att)
        arr = Arrangement(code=f"OZA{key}", name=f"Arrangement {key}", initiative=ini,
                          swv=orgs[key],
                          sector="po", type="class_at_school", locations=["school"],
                          school_id=orgs[f"school{key}"].code, gemeente=orgs[f"gem{key}"],
                          teaching_hours_per_week=Decimal(20), deviations=["time"],
                          target_groups=["long_term_absent"], support_needs=["mental_health"],
                          capacity=12, start=dt.date(2023, 8, 1), status="running",
                          swv_spend_eur=Decimal(100_000))
        arr.save()
        for role, o in (("school", orgs[f"school{key}"]), ("care_provider", orgs[f"prov{key}"])):
            pt = Partner(arrangement=arr, organisation=o, role=role, financier="gemeente")
            pt.save()
            partners[f"{role}{key}"] = pt
        initiatives[key], arrangements[key] = ini, arr
    return World(orgs, users, initiatives, arrangements, attachments, partners)
