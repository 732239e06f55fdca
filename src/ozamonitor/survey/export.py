"""Exports of the answers: CSV, Excel, SPSS and Stata, with labels and a codebook.

:func:`export` writes the wide table (one row per arrangement and wave) to
``out`` and each repeat as a long table beside it (``<stem>_<repeat>.<ext>``;
in Excel as extra sheets), plus a codebook (``<stem>_codebook.xlsx`` and
``<stem>_codebook.md``) listing every variable with its label in Dutch and
English, its type, its values and the question's skip rule and check.

In SPSS (``.sav``) and Stata (``.dta``) files every variable carries its
label and every coded variable its value labels: single choices become
numbers 1..n in the instrument's choice order, dummies 0/1 (not selected /
selected). Stata limits variable labels to 80 characters (longer ones are
cut with an ellipsis; the codebook has them in full). CSV and Excel keep the
codes (``values="labels"`` writes the labels instead).

Every file goes through :mod:`ozamonitor.files` (atomic, umask permissions).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import polars as pl

from ozamonitor.errors import ConfigurationError
from ozamonitor.files import atomic_write, atomic_write_text, formula_safe
from ozamonitor.survey.frame import SurveyFrame, Variable, to_frame
from ozamonitor.survey.instrument import Instrument
from ozamonitor.survey.submissions import Submission

__all__ = ["FORMATS", "codebook", "codebook_markdown", "export", "numeric_codes"]

FORMATS = ("csv", "xlsx", "sav", "dta")
Format = Literal["csv", "xlsx", "sav", "dta"]
_STATA_LABEL = 80


def numeric_codes(v: Variable) -> dict[str, int]:
    """Code -> number for a single-choice variable (1..n in choice order)."""
    return {code: i for i, code in enumerate(v.value_labels, start=1)}


def _labelled(frame: SurveyFrame, table: str, lang: str,
              values: str) -> tuple[pl.DataFrame, list[Variable]]:
    """A table with codes replaced by labels (values='labels') or kept."""
    df = frame.tables()[table]
    variables = frame.variables_of(table)
    if values == "codes":
        return df, variables
    exprs = []
    for v in variables:
        if v.kind in ("single", "status") and v.value_labels:
            mapping = {k: lab.get(lang, k) for k, lab in v.value_labels.items()}
            exprs.append(pl.col(v.name).replace_strict(mapping, default=pl.col(v.name),
                                                       return_dtype=pl.String))
        elif v.kind == "dummy":
            mapping = {k: lab.get(lang, str(k)) for k, lab in v.value_labels.items()}
            exprs.append(pl.col(v.name).replace_strict(mapping, default=None,
                                                       return_dtype=pl.String))
    return (df.with_columns(exprs) if exprs else df), variables


def _for_readstat(df: pl.DataFrame, variables: list[Variable], lang: str,
                  fmt: str) -> tuple[Any, dict[str, str], dict[str, dict[int, str]]]:
    """pandas frame, variable labels, value labels for pyreadstat."""
    exprs = []
    value_labels: dict[str, dict[int, str]] = {}
    labels: dict[str, str] = {}
    for v in variables:
        label = v.label(lang)
        if fmt == "dta" and len(label) > _STATA_LABEL:
            label = label[: _STATA_LABEL - 1] + "…"
        labels[v.name] = label
        if v.kind == "single":
            codes = numeric_codes(v)
            exprs.append(pl.col(v.name).replace_strict(codes, default=None,
                                                       return_dtype=pl.Int32))
            value_labels[v.name] = {codes[k]: lab.get(lang, k)
                                    for k, lab in v.value_labels.items()}
        elif v.kind == "dummy":
            exprs.append(pl.col(v.name).cast(pl.Int32))
            value_labels[v.name] = {int(k): lab.get(lang, str(k))
                                    for k, lab in v.value_labels.items()}
        elif v.kind in ("integer", "wave"):
            exprs.append(pl.col(v.name).cast(pl.Float64))  # nullable ints as doubles
    out = df.with_columns(exprs) if exprs else df
    if fmt == "dta":
        for lab in value_labels.values():  # Stata value labels are at most 32,000 bytes
            for k in lab:
                lab[k] = lab[k][:_STATA_LABEL * 4]
    return out.to_pandas(), labels, value_labels


def _write_readstat(df: pl.DataFrame, variables: list[Variable], path: Path, fmt: str,
                    lang: str) -> None:
    import pyreadstat

    pdf, labels, vlabels = _for_readstat(df, variables, lang, fmt)
    with atomic_write(path) as tmp:
        if fmt == "sav":
            pyreadstat.write_sav(pdf, str(tmp), column_labels=labels,
                                 variable_value_labels=vlabels)
        else:
            pyreadstat.write_dta(pdf, str(tmp), column_labels=labels,
                                 variable_value_labels=vlabels, version=15)


def codebook(frame: SurveyFrame) -> pl.DataFrame:
    """Every variable of every table with labels, type, values, skip rule and check."""
    inst = frame.instrument
    rows = []
    for v in frame.variables:
        q = inst.question(v.question) if v.question and inst.has(v.question) else None
        if v.kind == "single":
            codes = numeric_codes(v)
            values = "; ".join(f"{k} (SPSS/Stata {codes[k]}) = {lab.get('nl', k)} / "
                               f"{lab.get('en', k)}" for k, lab in v.value_labels.items())
        elif v.kind == "dummy":
            values = "0 = niet gekozen / not selected; 1 = gekozen / selected"
        elif v.kind == "status":
            values = "submitted = ingediend; draft = concept; leeg/empty = niet begonnen"
        else:
            values = ""
        rows.append({
            "table": v.table, "variable": v.name, "part": v.part or "",
            "type": v.kind, "label_nl": v.label("nl"), "label_en": v.label("en"),
            "values": values, "question": v.question or "",
            "relevant": (q.relevant or "") if q else "",
            "constraint": (q.constraint or "") if q else "",
            "calculation": (q.calculation or "") if q else "",
            "instrument_version": inst.version,
        })
    return pl.DataFrame(rows)


def codebook_markdown(frame: SurveyFrame, *, lang: str = "nl") -> str:
    """The codebook as a Markdown document (one table per data table)."""
    cb = codebook(frame)
    inst = frame.instrument
    head = ("# Codeboek" if lang == "nl" else "# Codebook")
    lines = [f"{head}: {inst.title(lang)} (versie/version {inst.version})", ""]
    label_col = f"label_{lang}"
    for table in cb["table"].unique(maintain_order=True).to_list():
        lines += [f"## {table}", "",
                  "| variable | part | type | label | values | relevant |",
                  "|---|---|---|---|---|---|"]
        for r in cb.filter(pl.col("table") == table).iter_rows(named=True):
            cells = [r["variable"], r["part"], r["type"], r[label_col], r["values"],
                     r["relevant"]]
            lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _side(out: Path, name: str, suffix: str | None = None) -> Path:
    return out.with_name(f"{out.stem}_{name}{suffix if suffix is not None else out.suffix}")


def export(data: SurveyFrame | Iterable[Submission], out: str | Path, *,
           fmt: Format | None = None, instrument: Instrument | None = None,
           lang: str = "nl", values: Literal["codes", "labels"] = "codes",
           with_codebook: bool = True) -> list[Path]:
    """Write the answers as CSV, Excel, SPSS or Stata files with a codebook.

    Parameters
    ----------
    data : SurveyFrame or iterable of Submission
        The answers (submissions are laid out with :func:`to_frame`,
        submitted parts only).
    out : path
        The wide table's file; repeats and the codebook go beside it.
    fmt : {"csv", "xlsx", "sav", "dta"}, optional
        Default: from ``out``'s suffix.
    instrument : Instrument, optional
        For submissions: the target instrument (default: newest shipped).
    lang : {"nl", "en"}, default "nl"
        Language of labels.
    values : {"codes", "labels"}, default "codes"
        CSV and Excel: write codes or labels (SPSS/Stata always numbers with
        value labels).
    with_codebook : bool, default True

    Returns
    -------
    list of Path
        Every file written, the wide table first.

    Raises
    ------
    ConfigurationError
        For an unknown format or language.
    """
    out = Path(out)
    fmt = fmt or out.suffix.lstrip(".").lower()  # type: ignore[assignment]
    if fmt not in FORMATS:
        raise ConfigurationError(f"unknown export format {fmt!r}; use {', '.join(FORMATS)}")
    if lang not in ("nl", "en"):
        raise ConfigurationError(f"unknown language {lang!r}; use nl or en")
    if values not in ("codes", "labels"):
        raise ConfigurationError("values must be 'codes' or 'labels'")
    frame = data if isinstance(data, SurveyFrame) else to_frame(data, instrument)
    if out.suffix.lower() != f".{fmt}":
        out = out.with_suffix(f".{fmt}")
    written: list[Path] = []
    tables = frame.tables()
    if fmt == "xlsx":
        _write_xlsx(frame, out, lang, values)
        written.append(out)
    else:
        for name in tables:
            path = out if name == "wide" else _side(out, name)
            if fmt == "csv":
                df, _ = _labelled(frame, name, lang, values)
                with atomic_write(path) as tmp:
                    formula_safe(df).write_csv(tmp)
            else:
                _write_readstat(tables[name], frame.variables_of(name), path, fmt, lang)
            written.append(path)
    if with_codebook:
        cb_xlsx = _side(out, "codebook", ".xlsx")
        with atomic_write(cb_xlsx) as tmp:
            formula_safe(codebook(frame)).write_excel(tmp, worksheet="codebook", autofit=True)
        cb_md = atomic_write_text(_side(out, "codebook", ".md"),
                                  codebook_markdown(frame, lang=lang))
        written += [cb_xlsx, cb_md]
    return written


def _write_xlsx(frame: SurveyFrame, out: Path, lang: str, values: str) -> None:
    import xlsxwriter

    with atomic_write(out) as tmp:
        wb = xlsxwriter.Workbook(str(tmp))
        try:
            for name in frame.tables():
                df, _ = _labelled(frame, name, lang, values)
                sheet = "data" if name == "wide" else name[:31]
                formula_safe(df).write_excel(wb, worksheet=sheet, autofit=True)
            formula_safe(codebook(frame)).write_excel(wb, worksheet="codebook", autofit=True)
        finally:
            wb.close()
