"""The web demo: organisations, initiatives, arrangements and accounts from a synthetic register.

The same demo serves the docs' screenshots, the browser tests and the
benchmark. Its regions, SWVs, schools and the 76 arrangements of 62
initiatives come from a register made by ``ozamonitor synth`` (or the one
``ozamonitor demo`` just made), so what the registry holds is consistent
with the analyses: ``arrangements export --format register`` gives back the
register's arrangements. What a register does not hold (arrangement type,
locations, hours, support needs, budgets, documents) is drawn, reproducibly,
from the arrangement's code.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import secrets
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from ozamonitor.errors import ConfigurationError
from ozamonitor.files import atomic_write_text

#: type -> (locations, teaching hours range, weight)
_TYPES: dict[str, tuple[list[str], tuple[int, int], int]] = {
    "extra_guidance": (["school"], (20, 26), 3),
    "part_time_teaching": (["school", "care_location"], (6, 10), 3),
    "class_at_school": (["school"], (18, 22), 3),
    "intermediate_provision": (["care_location"], (4, 12), 4),
    "opdc": (["school"], (20, 25), 2),
    "distance_learning": (["home", "distance"], (4, 10), 2),
    "care_location_teaching": (["care_location"], (10, 20), 3),
}
_NEEDS = ("neurocognitive", "social_emotional", "physical_health", "mental_health",
          "family_context", "risky_circumstances", "mismatch")
_INSURERS = (("ZK-NOORD", "Zorgkantoor Noord", "zorgkantoor"),
             ("ZK-ZUID", "Zorgkantoor Zuid", "zorgkantoor"),
             ("ZV-ALFA", "Zorgverzekeraar Alfa", "zorgverzekeraar"))
STUDY_TEAM = "STUDIE"


@dataclass
class DemoAccounts:
    """The accounts created, with their passwords (demo only)."""

    rows: list[dict[str, str]] = field(default_factory=list)

    def csv(self) -> str:
        """The accounts as CSV (username, password, role, organisation)."""
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=["username", "password", "role", "organisation"])
        w.writeheader()
        w.writerows(self.rows)
        return buf.getvalue()


def _rng(key: str) -> np.random.Generator:
    return np.random.default_rng(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8],
                                                "little"))


def _pdf(title: str) -> bytes:
    """A minimal valid one-page PDF (a stand-in document for the demo)."""
    text = title.replace("\\", "").replace("(", "").replace(")", "")
    stream = f"BT /F1 14 Tf 72 770 Td ({text}) Tj ET".encode("latin-1", "replace")
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream +
            b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, o in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + o + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{off:010d} 00000 n \n".encode() for off in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n" \
        .encode()
    return out


def synthetic_register(out: Path, seed: int = 1) -> Path:
    """A small synthetic register (scale 0.001: all regions, SWVs and 76 arrangements)."""
    from ozamonitor.synth import generate

    if not (out / "manifest.json").exists():
        generate(out, scale=0.001, seed=seed)
    return out


def load_demo(register: Path, *, accounts_csv: Path | None = None,
              hash_threads: int = 2) -> DemoAccounts:
    """Fill an empty database with the demo (Django must be set up and migrated).

    Parameters
    ----------
    register : Path
        A register folder (``ozamonitor synth``).
    accounts_csv : Path, optional
        Where to write the accounts (0600).
    hash_threads : int
        Processes hashing the passwords.

    Returns
    -------
    DemoAccounts
    """
    from django.db import transaction

    from ozamonitor.register.store import Register
    from ozamonitor.web.registry.models import Initiative

    if Initiative.objects.exists():
        raise ConfigurationError("the database already holds initiatives; the demo needs an "
                                 "empty one (use a new --data-dir)")
    reg = Register(register)
    with transaction.atomic():
        orgs = _organisations(reg)
        _registry(reg, orgs)
        accounts = _accounts(orgs, hash_threads)
        from ozamonitor.web.apps import ozamonitor_apps

        for app in ozamonitor_apps():  # each app's own demo data (docs/web.md)
            app.load_demo(reg, orgs)
    if accounts_csv is not None:
        atomic_write_text(accounts_csv, accounts.csv(), private=True)
    return accounts


def _save(obj: Any) -> Any:
    obj.save()
    return obj


def _organisations(reg: Any) -> dict[str, Any]:
    import polars as pl

    from ozamonitor.web.core.models import Organisation

    arr = reg.read("arrangements")
    regions = reg.read("regions")
    schools = reg.read("schools")
    orgs: dict[str, Any] = {}
    active_swvs = set(arr["swv_id"].to_list())
    for r in regions.filter(pl.col("kind").is_in(["swv_po", "swv_vo", "gemeente"])).iter_rows(
            named=True):
        o = Organisation(code=r["region_id"], name=r["name"], kind=r["kind"])
        if r["kind"] != "gemeente":
            o.support_budget_eur = Decimal(int(_rng(r["region_id"]).integers(8, 60)) * 1_000_000)
        orgs[r["region_id"]] = _save(o)
    for code, name, kind in _INSURERS:
        orgs[code] = _save(Organisation(code=code, name=name, kind=kind))
    orgs[STUDY_TEAM] = _save(Organisation(code=STUDY_TEAM, name="Onderzoeksteam OZA-monitor",
                                          kind="study_team"))
    # schools that host an arrangement, with a board each
    hosts = set(arr.filter(pl.col("lead_kind") == "school")["lead_id"].to_list())
    for r in arr.filter(pl.col("lead_kind") == "swv").iter_rows(named=True):
        hosts.add(_host_for_swv(schools, r))
    for r in schools.filter(pl.col("school_id").is_in(sorted(hosts))).iter_rows(named=True):
        board = orgs.get(f"B{r['brin']}") or _save(Organisation(
            code=f"B{r['brin']}", name=f"Stichting {r['name']}", kind="school_board"))
        orgs[board.code] = board
        school = _save(Organisation(code=r["school_id"], name=r["name"], kind="school",
                                    brin=r["brin"], parent=board))
        if r["swv_id"]:
            school.swvs.add(orgs[r["swv_id"]])
        orgs[r["school_id"]] = school
    for prov in sorted(set(arr["care_provider"].to_list())):
        code = "ZA-" + "".join(ch for ch in prov.upper() if ch.isalnum())[:16]
        orgs[prov] = _save(Organisation(code=code, name=prov, kind="care_provider"))
    orgs["_active_swvs"] = active_swvs
    return orgs


def _host_for_swv(schools: Any, row: dict[str, Any]) -> str:
    import polars as pl

    same = schools.filter((pl.col("swv_id") == row["swv_id"])
                          & (pl.col("gemeente_code") == row["gemeente_code"]))
    if same.height == 0:
        same = schools.filter(pl.col("swv_id") == row["swv_id"])
    return str(same.sort("school_id")["school_id"][0])


def _registry(reg: Any, orgs: dict[str, Any]) -> None:
    from ozamonitor.web.registry import files
    from ozamonitor.web.registry.models import (
        Arrangement,
        Attachment,
        CoApplicant,
        Initiative,
        Partner,
    )

    arr = reg.read("arrangements").sort("arrangement_id")
    schools = reg.read("schools")
    today = reg.extraction_date
    spend_by_swv: dict[str, Decimal] = {}
    initiatives: dict[str, Any] = {}
    type_names = list(_TYPES)
    weights = np.array([_TYPES[t][2] for t in type_names], float)
    for r in arr.iter_rows(named=True):
        rng = _rng(r["arrangement_id"])
        swv = orgs[r["swv_id"]]
        host_id = r["lead_id"] if r["lead_kind"] == "school" else _host_for_swv(schools, r)
        host = orgs[host_id]
        provider = orgs[r["care_provider"]]
        fins = r["financiers"].split(";")
        care_fin = next((f for f in ("gemeente", "zorgkantoor", "zorgverzekeraar")
                         if f in fins), "gemeente")
        ini = initiatives.get(r["initiative_id"])
        if ini is None:
            irng = _rng(r["initiative_id"])
            applicant = host.parent if r["lead_kind"] == "school" else swv
            ini = _save(Initiative(
                code=r["initiative_id"],
                name=f"Samen naar school {swv.name.split()[-1]} ({r['initiative_id']})",
                applicant=applicant, swv=swv,
                received_by_duo=dt.date(2023, 5, 1) + dt.timedelta(days=int(irng.integers(0, 91))),
                contains_personal_data=False, pupils_enrolled=True, admitted=True))
            partner_kind = "school" if applicant.is_swv else "swv"
            partner_org = host if applicant.is_swv else swv
            _save(CoApplicant(initiative=ini, kind=partner_kind, organisation=partner_org,
                              name=partner_org.name))
            _save(CoApplicant(initiative=ini, kind="care_provider", organisation=provider,
                              name=provider.name, financier=care_fin))
            council = "opr_consent" if applicant.is_swv else "mr_advice"
            for kind in ("cooperation_agreement", "project_plan", council):
                data = _pdf(f"{ini.code} {kind}")
                stored, digest = files.store(data, files.PDF)
                _save(Attachment(initiative=ini, kind=kind, stored_name=stored,
                                 original_name=f"{ini.code}-{kind}.pdf",
                                 content_type=files.PDF, size=len(data), sha256=digest))
            initiatives[r["initiative_id"]] = ini
        kind = type_names[int(rng.choice(len(type_names), p=weights / weights.sum()))]
        locations, (lo, hi), _w = _TYPES[kind]
        needs = sorted(rng.choice(len(_NEEDS), size=int(rng.integers(2, 5)), replace=False))
        spend = Decimal(int(rng.integers(4, 20)) * 10_000)
        spend_by_swv[swv.code] = spend_by_swv.get(swv.code, Decimal(0)) + spend
        start = r["start"]
        a = _save(Arrangement(
            code=r["arrangement_id"], name=r["name"], initiative=ini, swv=swv,
            sector="po" if swv.kind == "swv_po" else "vo", type=kind, locations=locations,
            school_id=host_id, gemeente=orgs[r["gemeente_code"]],
            teaching_hours_per_week=Decimal(int(rng.integers(lo, hi + 1))),
            deviations=r["deviations"].split(";"), target_groups=r["target_groups"].split(";"),
            support_needs=[_NEEDS[i] for i in needs], capacity=int(rng.integers(6, 31)),
            start=start, status="running" if start <= today else "planned",
            swv_spend_eur=spend))
        _save(Partner(arrangement=a, organisation=host, role="school", financier="swv"))
        _save(Partner(arrangement=a, organisation=provider, role="care_provider",
                      financier=care_fin,
                      hours_per_week=Decimal(int(rng.integers(4, 16)))))
    # every SWV keeps within 2.5% of its support budget
    for code, spend in spend_by_swv.items():
        swv = orgs[code]
        if spend > swv.support_budget_eur * Decimal("0.025"):
            swv.support_budget_eur = (spend / Decimal("0.02")).quantize(Decimal(1))
            swv.save()


def _encode(args: tuple[Any, str]) -> str:
    hasher, password = args
    return hasher.encode(password, hasher.salt())


def _hash_all(passwords: list[str], workers: int) -> list[str]:
    """Hash with the configured default hasher, in ``workers`` processes (PBKDF2 holds the GIL)."""
    from django.contrib.auth.hashers import get_hasher, make_password

    hasher = get_hasher()
    if workers <= 1 or len(passwords) < 8 or not hasher.algorithm.startswith("pbkdf2"):
        return [make_password(p) for p in passwords]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_encode, [(hasher, p) for p in passwords], chunksize=8))


def _accounts(orgs: dict[str, Any], threads: int) -> DemoAccounts:
    from django.contrib.auth import get_user_model

    from ozamonitor.web.apps import ozamonitor_apps
    from ozamonitor.web.core.models import Membership, Organisation
    from ozamonitor.web.registry.models import Partner

    wanted: list[tuple[str, str, Any]] = [("admin", "admin", None),
                                          ("studie", "study_team", orgs[STUDY_TEAM])]
    for swv in Organisation.objects.filter(code__in=orgs["_active_swvs"]).order_by("code"):
        wanted.append((f"swv-{swv.code.lower()}", "swv_staff", swv))
    partner_orgs = Organisation.objects.filter(
        pk__in=Partner.objects.values("organisation")).order_by("kind", "code")
    for org in partner_orgs:
        role = "school_staff" if org.kind == "school" else "provider_staff"
        prefix = "school" if org.kind == "school" else "zorg"
        wanted.append((f"{prefix}-{org.code.lower()}", role, org))
    for app in ozamonitor_apps():
        wanted.extend(app.demo_accounts(orgs))
    passwords = [secrets.token_urlsafe(12) for _ in wanted]
    hashes = _hash_all(passwords, threads)
    User = get_user_model()
    users = User.objects.bulk_create([
        User(username=u, password=h, is_superuser=(role == "admin"), is_staff=(role == "admin"))
        for (u, role, _o), h in zip(wanted, hashes, strict=True)])
    out = DemoAccounts()
    for user, (u, role, org), pw in zip(users, wanted, passwords, strict=True):
        if org is not None:
            _save(Membership(user=user, organisation=org, role=role))
        out.rows.append({"username": u, "password": pw, "role": role,
                         "organisation": org.code if org is not None else ""})
    return out
