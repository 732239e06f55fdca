"""Read an OZA application (aanvraag) from YAML or xlsx into the checker's shape.

YAML (the issue's schema)::

    applicant: {kind: school_board|swv, name: ..., code: ...}
    co_applicants:
      - {kind: swv|school|care_provider, name: ...,
         financier: gemeente|zorgverzekeraar|zorgkantoor|null}
    received_by_duo: 2023-07-14
    attachments: {cooperation_agreement: true, project_plan: true, mr_advice: true,
                  opr_consent: false}
    contains_personal_data: false
    pupils_enrolled: true
    arrangements: [{code: ..., name: ..., deviations: [onderwijstijd, onderwijslocatie]}]
    swv_budget: {support_budget_eur: 12000000, oza_spend_eur: 250000}   # optional

The xlsx has the same fields: a sheet ``application`` with two columns
``field`` and ``value`` (dotted names such as ``applicant.kind``,
``attachments.project_plan``, ``swv_budget.support_budget_eur``), a sheet
``co_applicants`` (columns ``kind``, ``name``, ``financier``) and a sheet
``arrangements`` (``code``, ``name``, ``deviations`` separated by ``;``).

Only the *types* are checked here (a date that is no date, a typo in a field
name): what the values mean is the rule file's job, so an applicant of the
wrong kind is a failed condition, not a read error. Deviations may be given
in Dutch (``onderwijstijd``, ``kerndoelen``, ``onderwijslocatie``,
``bekostiging``) or as the register's codes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ozamonitor.errors import InputError

__all__ = ["DEVIATION_ALIASES", "Application", "read_application", "write_application_xlsx"]

#: Dutch names of the four deviations -> the register's codes (register/schema.py).
DEVIATION_ALIASES = {
    "onderwijstijd": "time",
    "kerndoelen": "core_objectives",
    "onderwijslocatie": "location",
    "bekostiging": "funding",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Applicant(_Model):
    """The applying board."""

    kind: str | None = None
    name: str | None = None
    code: str | None = None


class CoApplicant(_Model):
    """A co-applicant (SWV, school or care provider with its financier)."""

    kind: str | None = None
    name: str | None = None
    financier: str | None = None


class Attachments(_Model):
    """Which documents are attached."""

    cooperation_agreement: bool | None = None
    project_plan: bool | None = None
    mr_advice: bool | None = None
    opr_consent: bool | None = None


class ArrangementEntry(_Model):
    """One arrangement the application covers."""

    code: str | None = None
    name: str | None = None
    deviations: list[str] = Field(default_factory=list)

    @field_validator("deviations", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [s for s in (x.strip() for x in v.split(";")) if s]
        if isinstance(v, list):
            return [DEVIATION_ALIASES.get(str(x).strip().lower(), str(x).strip().lower())
                    for x in v]
        return v


class SwvBudget(_Model):
    """The SWV's support budget and its spending on arrangements (euro)."""

    support_budget_eur: float | None = Field(default=None, ge=0)
    oza_spend_eur: float | None = Field(default=None, ge=0)


class Application(_Model):
    """An application in the checker's shape."""

    applicant: Applicant = Field(default_factory=Applicant)
    co_applicants: list[CoApplicant] = Field(default_factory=list)
    received_by_duo: dt.date | None = None
    attachments: Attachments = Field(default_factory=Attachments)
    contains_personal_data: bool | None = None
    pupils_enrolled: bool | None = None
    arrangements: list[ArrangementEntry] = Field(default_factory=list)
    swv_budget: SwvBudget | None = None

    @field_validator("received_by_duo", mode="before")
    @classmethod
    def _date(cls, v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return v.date()
        return v

    def as_mapping(self) -> dict[str, Any]:
        """A plain dict for :func:`~ozamonitor.besluit.engine.check_application`."""
        return self.model_dump(mode="python")


def _field_name(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _validate(data: Any, file: Path, rows: dict[str, int] | None = None) -> Application:
    if not isinstance(data, dict):
        raise InputError("the application must be a mapping of fields", file=file)
    try:
        return Application.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        name = _field_name(err["loc"])
        row = (rows or {}).get(name.split("[")[0] if "[" in name else name)
        raise InputError(err["msg"], file=file, row=row, field=name) from None


def _bool(v: Any) -> Any:
    if isinstance(v, str) and v.strip().lower() in ("ja", "yes", "true", "waar", "1"):
        return True
    if isinstance(v, str) and v.strip().lower() in ("nee", "no", "false", "onwaar", "0"):
        return False
    return v


def _read_xlsx(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a damaged file
        raise InputError(f"not a readable xlsx file ({type(e).__name__})", file=path) from None
    if "application" not in wb.sheetnames:
        raise InputError("no sheet 'application' (columns field, value)", file=path)
    data: dict[str, Any] = {}
    rows: dict[str, int] = {}
    for r, row in enumerate(wb["application"].iter_rows(values_only=True)):
        if r == 0 or not row or row[0] is None:
            continue
        key = str(row[0]).strip()
        value = row[1] if len(row) > 1 else None
        if value in ("", None):
            continue
        rows[key] = r
        cur = data
        parts = key.split(".")
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
            if not isinstance(cur, dict):
                raise InputError("field given twice", file=path, row=r, field=key)
        cur[parts[-1]] = _bool(value)
    for sheet, cols in (("co_applicants", ("kind", "name", "financier")),
                        ("arrangements", ("code", "name", "deviations"))):
        if sheet not in wb.sheetnames:
            continue
        items = []
        header: list[str] = []
        for r, row in enumerate(wb[sheet].iter_rows(values_only=True)):
            if r == 0:
                header = [str(h).strip() if h is not None else "" for h in row]
                unknown = [h for h in header if h and h not in cols]
                if unknown:
                    raise InputError(f"unknown column; expected {', '.join(cols)}",
                                     file=f"{path.name}[{sheet}]", row=0, field=unknown[0])
                continue
            if not any(v not in (None, "") for v in row):
                continue
            items.append({h: (None if v == "" else v)
                          for h, v in zip(header, row, strict=False) if h})
        data[sheet] = items
    return data, rows


def read_application(path: str | Path) -> Application:
    """Read an application from ``.yaml``/``.yml`` or ``.xlsx``.

    Raises
    ------
    InputError
        For a file that cannot be read, an unknown field or a value of the
        wrong type; the message names the file, the row (xlsx) and the field.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("no such file", file=p)
    suffix = p.suffix.lower()
    if suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            raise InputError(f"not valid YAML ({getattr(e, 'problem', e)})", file=p,
                             row=mark.line + 1 if mark else None) from None
        return _validate(data or {}, p)
    if suffix == ".xlsx":
        data, rows = _read_xlsx(p)
        return _validate(data, p, rows)
    raise InputError("use a .yaml or .xlsx file", file=p)


def write_application_xlsx(app: Application, path: str | Path) -> Path:
    """Write ``app`` as the xlsx exchange format (the reverse of :func:`read_application`)."""
    from openpyxl import Workbook

    from ozamonitor.files import atomic_write, text_cells

    wb = Workbook()
    ws = wb.active
    ws.title = "application"
    ws.append(["field", "value"])
    flat = app.model_dump(mode="python", exclude={"co_applicants", "arrangements"})

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        else:
            ws.append([prefix, value])

    walk("", flat)
    co = wb.create_sheet("co_applicants")
    co.append(["kind", "name", "financier"])
    for c in app.co_applicants:
        co.append([c.kind, c.name, c.financier])
    ar = wb.create_sheet("arrangements")
    ar.append(["code", "name", "deviations"])
    for a in app.arrangements:
        ar.append([a.code, a.name, ";".join(a.deviations)])
    with atomic_write(path) as tmp:
        text_cells(wb).save(tmp)
    return Path(path)
