"""Demo cases from the synthetic register (``ozamonitor web init --demo``).

Accounts: a compulsory-education officer (``lpa-<gemeente>``) for the first
:data:`ACCOUNTS` gemeenten that host an arrangement, and a case director
(``regie-<swv>``) for the first :data:`ACCOUNTS` active SWVs.
Cases: one per child and absence episode of the register's ``report_16h_4w``
and ``lrv_4w`` signals of the last year (at most :data:`MAX_CASES`, those of the
officers' gemeenten first), with consent, the multidisciplinary
team, a case director and some breakthrough teams, friction-budget entries and the
regions' OOGO agreements, so the timers, the work list and the 3-month alarm show.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl

MAX_CASES = 80
#: Officers and case directors of this many gemeenten and SWVs (each account is hashed).
ACCOUNTS = 8


def _gemeenten(orgs: dict[str, Any]) -> list[Any]:
    from ozamonitor.web.registry.models import Arrangement

    codes = sorted(set(Arrangement.objects.values_list("gemeente__code", flat=True)) - {None})
    return [orgs[c] for c in codes if c in orgs][:ACCOUNTS]


def accounts(orgs: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """Officers of the gemeenten with arrangements and a case director per active SWV."""
    out = [(f"lpa-{g.code.lower()}", "leerplichtambtenaar", g) for g in _gemeenten(orgs)]
    out += [(f"regie-{code.lower()}", "casusregisseur", orgs[code])
            for code in sorted(orgs.get("_active_swvs", ()))[:ACCOUNTS] if code in orgs]
    return out


def load(register: Any, orgs: dict[str, Any]) -> None:
    """Cases from the register's signals, their steps, consent, ledger and OOGO agreements."""
    from django.contrib.auth import get_user_model

    from ozamonitor.attendance.signals import signals_from_register
    from ozamonitor.web.casework import importer
    from ozamonitor.web.casework.models import Case

    gems = {g.code for g in _gemeenten(orgs)}
    if not gems:
        return
    asof = register.extraction_date
    res = signals_from_register(register, asof=asof, start=asof - dt.timedelta(days=365))
    sig = res.signals.filter(pl.col("signal").is_in(list(importer.CASE_SIGNALS)))
    locate = importer.locator_from_register(register, sig["person_id"].to_list())
    sig = (sig.with_columns(gemeente_code=pl.Series(
        [locate(p, d)[0] for p, d in sig.select("person_id", "date").iter_rows()],
        dtype=pl.String))
        .filter(pl.col("gemeente_code").is_in([c for c, o in orgs.items()
                                               if getattr(o, "kind", "") == "gemeente"]))
        # the officers' gemeenten first, then the most recent signals
        .sort(pl.col("gemeente_code").is_in(sorted(gems)), "date", descending=True)
        .head(MAX_CASES))
    User = get_user_model()
    directors = {u.username: u for u in User.objects.filter(username__startswith="regie-")}
    imported = importer.import_signals(sig, file="demo", locate=locate, episodes=res.episodes)
    for code in imported.created:
        case = Case.objects.select_related("gemeente", "swv").get(code=code)
        _chain(case, asof, directors.get(f"regie-{case.swv.code.lower()}") if case.swv
               else None)
    _oogo(orgs, gems)


def _chain(case: Any, asof: dt.date, director: Any) -> None:
    """Steps, consent and ledger of a demo case, up to ``asof`` (some late, some missing)."""
    from ozamonitor.web.casework.models import CaseEvent, Consent, LedgerEntry

    rng = np.random.default_rng(int(hashlib.sha256(case.person_id.encode()).hexdigest()[:8], 16))
    day = case.opened_on

    def at(days: int) -> dt.date | None:
        d = case.start + dt.timedelta(days=days)
        return max(d, day) if d <= asof else None

    for party in ("parent", "child"):
        if rng.random() < 0.85:
            Consent(case=case, party=party, given=True, date=day, scope="case").save()
    late = int(rng.integers(-6, 14))
    if (d := at(14)) is not None:
        CaseEvent(case=case, date=d, kind="convene_mdt", note="thuiszitterstafel").save()
    if director is not None and (d := at(28 + late)) is not None and rng.random() < 0.8:
        CaseEvent(case=case, date=d, kind="appoint_case_director",
                  note="casusregisseur onderwijs en zorg").save()
        case.director = director
        case.mandated_by = f"{case.gemeente.code}; {case.swv.code if case.swv else ''}"
        case.save()
        if (d2 := at(56 + late)) is not None and rng.random() < 0.6:
            CaseEvent(case=case, date=d2, kind="mobilise_breakthrough",
                      note="onderwijs, jeugdhulp, JGZ, leerplicht").save()
            LedgerEntry(case=case, entry_id="F1", date=d2,
                        amount=Decimal(int(rng.integers(5, 40)) * 250), payer="gemeente",
                        purpose="overbrugging onderwijs-zorg", approved_by="wethouder",
                        approved_on=d2).save()
        if (d3 := at(70)) is not None and rng.random() < 0.3:
            CaseEvent(case=case, date=d3, kind="resolve", outcome="oza_arrangement").save()


def _oogo(orgs: dict[str, Any], gems: set[str]) -> None:
    from ozamonitor.web.casework.models import OOGOAgreement

    for code in sorted(gems):
        OOGOAgreement(region=orgs[code], kind="case_director",
                      title=f"Casusregie onderwijs en zorg {orgs[code].name}",
                      valid_from=dt.date(2022, 8, 1),
                      case_director_body="Stichting Jeugd en Onderwijs").save()
    for code in sorted(orgs.get("_active_swvs", ())):
        if code in orgs:
            OOGOAgreement(region=orgs[code], kind="breakthrough_approach",
                          title=f"Doorbraakaanpak {orgs[code].name}",
                          valid_from=dt.date(2022, 8, 1),
                          reference="ondersteuningsplan, par. 5").save()
