"""Arrangements in and out: CSV/xlsx exports, the xlsx exchange import, register tables.

The exchange format (one row per arrangement) is what ``arrangements export
--format csv|xlsx`` writes and ``arrangements import`` reads, so a partnership
can fill in a sheet and load it. Multi-valued fields are separated by ``;``;
``partners`` lists ``ORGCODE:role:financier`` items.

``register_tables`` turns the registry into the register's ``arrangements``
table (register/schema.py), so ``trajectories``, ``impact`` and ``report`` run
on what the field entered.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from ozamonitor.errors import InputError
from ozamonitor.files import safe_cell, text_cells
from ozamonitor.web.core.models import Organisation
from ozamonitor.web.registry import codes
from ozamonitor.web.registry.models import Arrangement, Initiative, Partner

COLUMNS = (
    "code", "name", "initiative", "initiative_name", "applicant", "swv", "sector", "type",
    "locations", "school_id", "gemeente", "teaching_hours_per_week", "deviations",
    "target_groups", "support_needs", "capacity", "start", "end", "status", "swv_spend_eur",
    "partners",
)
_MULTI = ("locations", "deviations", "target_groups", "support_needs")


def arrangement_rows(qs: Iterable[Arrangement]) -> list[dict[str, Any]]:
    """One dict per arrangement in the exchange format."""
    qs = qs.select_related("swv", "initiative__applicant", "gemeente") \
        .prefetch_related("partners__organisation") if hasattr(qs, "select_related") else qs
    rows = []
    for a in qs:
        rows.append({
            "code": a.code, "name": a.name, "initiative": a.initiative.code,
            "initiative_name": a.initiative.name, "applicant": a.initiative.applicant.code,
            "swv": a.swv.code, "sector": a.sector, "type": a.type,
            "locations": ";".join(a.locations), "school_id": a.school_id,
            "gemeente": a.gemeente.code if a.gemeente else "",
            "teaching_hours_per_week": a.teaching_hours_per_week,
            "deviations": ";".join(a.deviations), "target_groups": ";".join(a.target_groups),
            "support_needs": ";".join(a.support_needs), "capacity": a.capacity,
            "start": a.start, "end": a.end, "status": a.status,
            "swv_spend_eur": a.swv_spend_eur,
            "partners": ";".join(f"{p.organisation.code}:{p.role}:{p.financier}"
                                 for p in a.partners.all()),
        })
    return rows


def _cell(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v)
    return "" if v is None else v


def export_bytes(qs: Any, fmt: str) -> tuple[bytes, str, str]:
    """(content, content type, extension) of ``qs`` as ``csv`` or ``xlsx``."""
    rows = arrangement_rows(qs.order_by("code"))
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: safe_cell(_cell(r[k])) for k in COLUMNS})
        return buf.getvalue().encode("utf-8"), "text/csv; charset=utf-8", "csv"
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "arrangements"
        ws.append(list(COLUMNS))
        for r in rows:
            ws.append([_cell(r[k]) for k in COLUMNS])
        buf = io.BytesIO()
        text_cells(wb).save(buf)
        return (buf.getvalue(),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
    from django.http import Http404

    raise Http404


def register_tables(qs: Any) -> Any:
    """The register's ``arrangements`` table (a polars frame) for ``qs``."""
    import polars as pl

    from ozamonitor.register.schema import FINANCIERS

    rows = []
    for a in qs.select_related("swv", "initiative__applicant", "gemeente") \
            .prefetch_related("partners__organisation").order_by("code"):
        ini = a.initiative
        school_lead = ini.applicant.kind == "school_board"
        providers = [p for p in a.partners.all() if p.role == "care_provider"]
        fin = {p.financier for p in a.partners.all() if p.financier}
        rows.append({
            "arrangement_id": a.code, "initiative_id": ini.code, "name": a.name,
            "lead_kind": "school" if school_lead else "swv",
            "lead_id": (a.school_id or ini.applicant.code) if school_lead else a.swv.code,
            "swv_id": a.swv.code,
            "gemeente_code": a.gemeente.code if a.gemeente else None,
            "care_provider": providers[0].organisation.name if providers else "",
            "financiers": ";".join(f for f in FINANCIERS if f in fin),
            "deviations": ";".join(a.deviations),
            "target_groups": ";".join(a.target_groups),
            "start": a.start,
        })
    schema = {"arrangement_id": pl.String, "initiative_id": pl.String, "name": pl.String,
              "lead_kind": pl.String, "lead_id": pl.String, "swv_id": pl.String,
              "gemeente_code": pl.String, "care_provider": pl.String, "financiers": pl.String,
              "deviations": pl.String, "target_groups": pl.String, "start": pl.Date}
    return pl.DataFrame(rows, schema=schema)


def write_register(qs: Any, out: Path, base: Path | None = None) -> Path:
    """Write the registry as register tables into ``out``.

    With ``base`` (a register folder) the result is a complete register: ``base``
    with its ``arrangements`` table replaced by the registry's and its
    ``oza_participation`` kept for the arrangements the registry holds, so the
    analyses run on it. Without, ``out`` holds ``arrangements`` and an empty
    ``oza_participation`` in the register's schema (the participants come from
    the pupil registers, not from the field).
    """
    import polars as pl

    from ozamonitor.register.schema import TABLES
    from ozamonitor.register.store import Register, RegisterWriter

    arr = register_tables(qs)
    if base is None:
        with RegisterWriter(out, extraction_date=dt.date.today()) as w:
            w.write("arrangements", arr)
            w.manifest_extra["source"] = "ozamonitor arrangements export"
        return out
    reg = Register(base)
    missing = arr.filter(pl.col("gemeente_code").is_null())
    if missing.height:
        raise InputError("an arrangement without a municipality cannot go into a register",
                         field="gemeente", row=None, file=missing["arrangement_id"][0])
    with RegisterWriter(out, extraction_date=reg.extraction_date) as w:
        for name in TABLES:
            if name == "arrangements":
                w.write(name, arr)
            elif name == "oza_participation":
                ids = arr["arrangement_id"].implode()
                part = reg.read(name).filter(pl.col("arrangement_id").is_in(ids))
                w.write(name, part)
            else:
                w.write(name, reg.read(name))
        w.manifest_extra["source"] = f"ozamonitor arrangements export (base {reg.path.name})"
    return out


# --------------------------------------------------------------------------- import

def _split(v: Any) -> list[str]:
    return [s.strip() for s in str(v or "").split(";") if s.strip()]


def _date(v: Any, row: int, field: str, file: str) -> dt.date | None:
    if v in (None, ""):
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v).strip())
    except ValueError:
        raise InputError("not a date (YYYY-MM-DD)", file=file, row=row, field=field) from None


def _decimal(v: Any, row: int, field: str, file: str) -> Decimal | None:
    if v in (None, ""):
        return None
    try:
        return Decimal(str(v).replace(",", "."))
    except InvalidOperation:
        raise InputError("not a number", file=file, row=row, field=field) from None


def read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(row number, values) from the exchange xlsx (sheet ``arrangements``) or CSV."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            rows = [(i, dict(r)) for i, r in enumerate(reader, start=1)]
    elif path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as e:  # openpyxl raises many kinds for a damaged file
            raise InputError(f"not a readable xlsx file ({type(e).__name__})",
                             file=path) from None
        ws = wb["arrangements"] if "arrangements" in wb.sheetnames else wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(it, ())]
        rows = [(i, dict(zip(header, r, strict=False))) for i, r in enumerate(it, start=1)
                if any(v not in (None, "") for v in r)]
    else:
        raise InputError("use an .xlsx or .csv file", file=path)
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        raise InputError(f"unknown column; the columns are {', '.join(COLUMNS)}", file=path,
                         row=0, field=unknown[0])
    for need in ("code", "name", "initiative", "swv", "sector", "type"):
        if need not in header:
            raise InputError("required column missing", file=path, row=0, field=need)
    return rows


def _org(code: Any, row: int, field: str, file: str, kinds: tuple[str, ...]) -> Organisation:
    org = Organisation.objects.filter(code=str(code or "").strip()).first()
    if org is None or org.kind not in kinds:
        raise InputError(f"no organisation of kind {'/'.join(kinds)} with this code",
                         file=file, row=row, field=field)
    return org


def import_file(path: Path, *, user: Any = None, allowed: Any = None) -> dict[str, int]:
    """Create or update arrangements (and their initiatives) from an exchange file.

    Parameters
    ----------
    path : Path
        xlsx or CSV in the exchange format.
    user : User, optional
        Recorded as the author in the audit log.
    allowed : callable, optional
        ``allowed(initiative, swv) -> bool``; other rows are refused
        (the web import passes the access rules; the command line may do anything).

    Returns
    -------
    dict
        ``{"created": n, "updated": m}``.

    Raises
    ------
    InputError
        At the first bad row, naming file, row and field; nothing is imported.
    """
    name = path.name
    rows = read_rows(path)
    created = updated = 0
    with transaction.atomic():
        for row, r in rows:
            swv = _org(r.get("swv"), row, "swv", name, ("swv_po", "swv_vo"))
            ini = Initiative.objects.filter(code=str(r["initiative"]).strip()).first()
            if ini is None:
                applicant = _org(r.get("applicant") or swv.code, row, "applicant", name,
                                 ("school_board", "swv_po", "swv_vo"))
                ini = Initiative(code=str(r["initiative"]).strip(),
                                 name=str(r.get("initiative_name") or r["initiative"]),
                                 applicant=applicant, swv=swv)
                ini._history_user = user
                ini.save()
            if allowed is not None and not allowed(ini, swv):
                raise InputError("you may not change this SWV's arrangements",
                                 file=name, row=row, field="swv")
            code = str(r.get("code") or "").strip()
            if not code:
                raise InputError("required", file=name, row=row, field="code")
            obj = Arrangement.objects.filter(code=code).first()
            is_new = obj is None
            obj = obj or Arrangement(code=code)
            obj.initiative = ini
            obj.swv = swv
            obj.name = str(r.get("name") or "").strip()
            obj.sector = str(r.get("sector") or "").strip()
            obj.type = str(r.get("type") or "").strip()
            for f in _MULTI:
                setattr(obj, f, _split(r.get(f)))
            obj.school_id = str(r.get("school_id") or "").strip()
            obj.gemeente = _org(r["gemeente"], row, "gemeente", name, ("gemeente",)) \
                if r.get("gemeente") else None
            obj.teaching_hours_per_week = _decimal(r.get("teaching_hours_per_week"), row,
                                                   "teaching_hours_per_week", name)
            obj.capacity = int(_decimal(r.get("capacity"), row, "capacity", name) or 0) or None
            obj.start = _date(r.get("start"), row, "start", name)
            obj.end = _date(r.get("end"), row, "end", name)
            obj.status = str(r.get("status") or "planned").strip()
            obj.swv_spend_eur = _decimal(r.get("swv_spend_eur"), row, "swv_spend_eur", name)
            try:
                obj.full_clean(exclude=["initiative", "swv", "gemeente", "version"])
            except ValidationError as e:
                field, errs = next(iter(e.message_dict.items()))
                raise InputError(" ".join(errs), file=name, row=row, field=field) from None
            if not is_new:
                obj.version += 1
            obj._history_user = user
            obj.save()
            _import_partners(obj, r.get("partners"), row, name, user)
            created += is_new
            updated += not is_new
    return {"created": created, "updated": updated}


def _import_partners(obj: Arrangement, value: Any, row: int, file: str, user: Any) -> None:
    wanted = []
    for item in _split(value):
        parts = [p.strip() for p in item.split(":")]
        if len(parts) < 2 or parts[1] not in dict(codes.PARTNER_ROLES):
            raise InputError("partners: use ORGCODE:role:financier items", file=file, row=row,
                             field="partners")
        org = _org(parts[0], row, "partners", file, ("school", "care_provider"))
        fin = parts[2] if len(parts) > 2 else ""
        if fin and fin not in dict(codes.PARTNER_FINANCIERS):
            raise InputError("unknown financier", file=file, row=row, field="partners")
        wanted.append((org, parts[1], fin))
    keep = set()
    for org, role, fin in wanted:
        pt = Partner.objects.filter(arrangement=obj, organisation=org, role=role).first()
        if pt is None:
            pt = Partner(arrangement=obj, organisation=org, role=role)
        elif pt.financier != fin:
            pt.version += 1
        pt.financier = fin
        pt._history_user = user
        pt.save()
        keep.add(pt.pk)
    for pt in obj.partners.exclude(pk__in=keep):
        pt._history_user = user
        pt.delete()
