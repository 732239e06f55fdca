"""XLSForm sheets: from the YAML source, to and from ``.xlsx`` workbooks.

The YAML source mirrors the XLSForm sheets row by row (see
:mod:`ozamonitor.survey.instrument` for the format); these functions turn it
into the sheets pyxform reads (``label::Nederlands (nl)`` and
``label::English (en)`` columns, ``bind::oza:measure``), write sheets to an
``.xlsx`` workbook and read a workbook back into the same sheets, so that
YAML -> xlsx -> sheets round-trips exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ozamonitor.errors import ConfigurationError
from ozamonitor.files import atomic_write, text_cells

__all__ = ["LANGUAGES", "OZA_NAMESPACE", "sheets_from_workbook", "sheets_from_yaml",
           "write_xlsform"]

#: Language codes every label must have, and their XLSForm column names.
LANGUAGES = {"nl": "Nederlands (nl)", "en": "English (en)"}
#: Namespace of the custom ``bind::oza:*`` columns.
OZA_NAMESPACE = 'oza="urn:ozamonitor:xforms"'
_TRANSLATED = ("label", "hint", "constraint_message", "required_message")
Sheets = dict[str, list[dict[str, Any]]]


def _lang_columns(key: str, value: Any, where: str) -> dict[str, str]:
    col = key
    if isinstance(value, str):
        raise ConfigurationError(f"{where}: {key} must give nl and en texts, got one string")
    if not isinstance(value, dict):
        raise ConfigurationError(f"{where}: {key} must be a mapping of nl/en texts")
    unknown = set(value) - set(LANGUAGES)
    if unknown:
        raise ConfigurationError(f"{where}: {key} has unknown language(s) {sorted(unknown)}")
    return {f"{col}::{LANGUAGES[lang]}": str(text) for lang, text in value.items()}


def _yes(v: Any) -> str:
    if v is True:
        return "yes"
    if v is False or v is None:
        return ""
    return str(v)


def sheets_from_yaml(data: dict[str, Any], source: str = "instrument") -> dict[str, list[dict]]:
    """Turn the YAML source (see the module docstring) into XLSForm sheets.

    Returns
    -------
    dict
        ``{"survey": rows, "choices": rows, "settings": [row]}``, each row a
        mapping of XLSForm column to cell text, ready for pyxform or
        :func:`write_xlsform`.
    """
    if not isinstance(data, dict) or "survey" not in data:
        raise ConfigurationError(f"{source}: an instrument needs a 'survey' list")
    survey: list[dict[str, str]] = []
    for i, row in enumerate(data["survey"], start=1):
        where = f"{source}: survey row {i}"
        if not isinstance(row, dict) or "type" not in row:
            raise ConfigurationError(f"{where}: each row needs a 'type'")
        out: dict[str, str] = {}
        for key, value in row.items():
            if key in _TRANSLATED:
                out.update(_lang_columns(key, value, f"{where} ({row.get('name', '')})"))
            elif key == "measure":
                out["bind::oza:measure"] = str(value)
            elif key == "required":
                out["required"] = _yes(value)
            else:
                out[key] = "" if value is None else str(value)
        survey.append(out)
    choices: list[dict[str, str]] = []
    for list_name, options in (data.get("choices") or {}).items():
        for j, opt in enumerate(options, start=1):
            if not isinstance(opt, list | tuple) or len(opt) != 3:
                raise ConfigurationError(
                    f"{source}: choice list {list_name!r} option {j}: write [code, nl, en]"
                )
            if any(isinstance(x, bool) for x in opt):
                raise ConfigurationError(
                    f"{source}: choice list {list_name!r} option {j}: quote yes/no/true/false "
                    "(YAML reads them as booleans)"
                )
            code, nl, en = (str(x) for x in opt)
            choices.append({"list_name": str(list_name), "name": code,
                            f"label::{LANGUAGES['nl']}": nl, f"label::{LANGUAGES['en']}": en})
    s = dict(data.get("settings") or {})
    titles = s.pop("title", {}) or {}
    settings = {
        "form_title": str(titles.get("nl") or s.get("form_id", "")),
        "default_language": LANGUAGES["nl"],
        "namespaces": OZA_NAMESPACE,
    }
    # pyxform takes one form_title; the other languages go in custom columns.
    for lang, text in titles.items():
        if lang != "nl":
            settings[f"form_title_{lang}"] = str(text)
    settings.update({k: str(v) for k, v in s.items()})
    return {"survey": survey, "choices": choices, "settings": [settings]}


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    return cols


def write_xlsform(sheets: Sheets | Any, path: str | Path) -> Path:
    """Write XLSForm sheets (or an instrument's) to an ``.xlsx`` file, atomically.

    The workbook opens in Excel, ODK Central, KoboToolbox and pyxform, and
    loads back with :func:`load_instrument`.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    if not isinstance(sheets, dict):  # an Instrument
        sheets = sheets.sheets
    wb = Workbook()
    wb.remove(wb.active)
    for name in ("survey", "choices", "settings"):
        rows = sheets.get(name) or []
        ws = wb.create_sheet(name)
        cols = _columns(rows)
        ws.append(cols)
        for c in ws[1]:
            c.font = Font(bold=True)
        for r in rows:
            ws.append([r.get(c, "") or None for c in cols])
        ws.freeze_panes = "A2"
    path = Path(path)
    with atomic_write(path) as tmp:
        text_cells(wb).save(tmp)
    return path


def sheets_from_workbook(path: Path) -> dict[str, list[dict]]:
    """Read an XLSForm .xlsx into sheets (so write/read round-trips exactly)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    out: dict[str, list[dict]] = {}
    for name in ("survey", "choices", "settings"):
        if name not in wb.sheetnames:
            continue
        rows = list(wb[name].iter_rows(values_only=True))
        if not rows:
            out[name] = []
            continue
        head = [str(h).strip() if h is not None else "" for h in rows[0]]
        recs = []
        for r in rows[1:]:
            rec = {h: ("" if v is None else str(v)) for h, v in zip(head, r, strict=False) if h}
            if any(v != "" for v in rec.values()):
                recs.append({k: v for k, v in rec.items() if v != ""})
        out[name] = recs
    wb.close()
    return out


