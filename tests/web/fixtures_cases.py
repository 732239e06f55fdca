"""Cases on top of the web tests' world: one case per gemeente (A and B) and their users."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fixtures_web import World, make_user

START = dt.date(2024, 9, 2)  # the example: a Monday
ASOF = dt.date(2024, 11, 1)


@dataclass
class CaseWorld:
    """The registry world plus the cases' users and objects."""

    world: World
    users: dict[str, Any]
    cases: dict[str, Any]
    events: dict[str, Any]
    ledger: dict[str, Any]


def build_cases(world: World) -> CaseWorld:
    from ozamonitor.web.casework.models import Case, CaseEvent, Consent, LedgerEntry

    o = world.orgs
    users = {
        "lpaA": make_user("lpaA", "leerplichtambtenaar", o["gemA"]),
        "lpaB": make_user("lpaB", "leerplichtambtenaar", o["gemB"]),
        "regieA": make_user("regieA", "casusregisseur", o["gemA"]),
        "regieB": make_user("regieB", "casusregisseur", o["gemB"]),
    }
    cases, events, ledger = {}, {}, {}
    for key in ("A", "B"):
        c = Case(code=f"GM000{1 if key == 'A' else 2}-2024-0001", person_id=f"pseudo{key}",
                 gemeente=o[f"gem{key}"], swv=o[key], school=o[f"school{key}"], start=START,
                 opened_on=dt.date(2024, 9, 5), source="signal",
                 signal="report_16h_4w 2024-09-05", director=users[f"regie{key}"])
        c.save()
        CaseEvent(case=c, date=dt.date(2024, 9, 5), kind="open").save()
        ev = CaseEvent(case=c, date=dt.date(2024, 9, 16), kind="convene_mdt")
        ev.save()
        Consent(case=c, party="parent", given=True, date=dt.date(2024, 9, 5)).save()
        le = LedgerEntry(case=c, entry_id="F1", date=dt.date(2024, 10, 1),
                         amount=Decimal("1250.50"), payer="gemeente", purpose="vervoer")
        le.save()
        cases[key], events[key], ledger[key] = c, ev, le
    return CaseWorld(world, users, cases, events, ledger)
