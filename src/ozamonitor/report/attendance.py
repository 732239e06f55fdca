"""The report section on absence: 16-hour reports and chronic absence (disclosure-controlled).

Parliament is now told of absence from 16 hours in 4 weeks, not only from
three months (domain brief section 10). This section shows, for one school
year up to a date, per gemeente and for the country: pupils, the attendance
tiers, the chronic absence rate (10% or more absent for any reason), children
with a ``report_16h_4w`` signal and with more than 4 weeks of unauthorised
absence on every school day (``lrv_4w``). Every number comes from
:func:`ozamonitor.attendance.counts.aggregate_tables`, i.e. through disclosure
control (one protected publication for the country and the gemeenten); every
hidden cell reads ``x``. Per gemeente the section shows a map of the chronic
absence rate, the ten highest and lowest published gemeenten and a link to the
CSV of every gemeente, not a long table.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from ozamonitor.attendance.counts import aggregate_tables, published
from ozamonitor.files import formula_safe
from ozamonitor.privacy.disclosure import DEFAULT_THRESHOLD
from ozamonitor.privacy.publication import SYMBOL
from ozamonitor.register.store import Register
from ozamonitor.report.document import Section, figure_html, note, paragraph, table_html, tr

__all__ = ["MEASURES", "attendance_section", "attendance_table"]

#: Measures shown, in order (see :mod:`ozamonitor.attendance.counts`).
MEASURES = ("pupils", "chronic_total", "severe", "report_16h_4w", "lrv_4w", "early_warning")
#: The CSV of every gemeente, written beside the report.
CSV_NAME = "verzuim-gemeente.csv"


def attendance_table(register: Register | str | Path, *, asof: dt.date, by: str = "gemeente",
                     threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """One row per region: each of :data:`MEASURES` as a count (text) and a rate.

    Returns
    -------
    polars.DataFrame
        ``region`` and per measure ``<measure>`` (``x`` where hidden) and,
        except ``pupils``, ``<measure>_rate`` (null where hidden).
    """
    tables = aggregate_tables(register, asof=asof, by=(by,), threshold=threshold)
    return _wide(tables[f"attendance_{by}"], threshold)


def _wide(tidy: pl.DataFrame, threshold: int) -> pl.DataFrame:
    """A tidy attendance table as one row per region (see :func:`attendance_table`)."""
    tidy = tidy.filter(pl.col("measure").is_in(MEASURES))
    shown = published(tidy, threshold)
    counts = shown.pivot(on="measure", index="region", values="count")
    rates = (tidy.filter(pl.col("measure") != "pupils")
             .with_columns(measure=pl.col("measure") + "_rate")
             .pivot(on="measure", index="region", values="rate"))
    cols = ["region"]
    for m in MEASURES:
        cols += [m] + ([f"{m}_rate"] if m != "pupils" else [])
    out = counts.join(rates, on="region", how="left", maintain_order="left")
    return out.select([c for c in cols if c in out.columns])


def _labels(lang: str) -> dict[str, str]:
    return {
        "region": tr(lang, "gemeente", "gemeente"),
        "name": tr(lang, "naam", "name"),
        "pupils": tr(lang, "leerlingen", "pupils"),
        "chronic_total": tr(lang, "chronisch verzuim (≥10%)", "chronic absence (≥10%)"),
        "chronic_total_rate": tr(lang, "aandeel", "rate"),
        "severe": tr(lang, "ernstig (≥20%)", "severe (≥20%)"),
        "severe_rate": tr(lang, "aandeel", "rate"),
        "report_16h_4w": tr(lang, "melding 16 uur in 4 weken", "16 hours in 4 weeks"),
        "report_16h_4w_rate": tr(lang, "aandeel", "rate"),
        "lrv_4w": tr(lang, "langdurig verzuim > 4 weken", "absent > 4 weeks"),
        "lrv_4w_rate": tr(lang, "aandeel", "rate"),
        "early_warning": tr(lang, "vroegsignaal 4-8 jaar", "early warning ages 4-8"),
        "early_warning_rate": tr(lang, "aandeel", "rate"),
    }


def _gemeente_part(reg: Register, gem: pl.DataFrame, lang: str,
                   geometry: str | Path | None) -> tuple[str, str]:
    """The map of the chronic absence rate per gemeente, the ten highest and
    lowest published gemeenten, and the link to the CSV of every gemeente
    (``(html, csv text)``); only published cells are drawn and ranked."""
    from ozamonitor.report.regions import LEVELS, TOP, load_geometry, map_figure

    names = dict(reg.read("regions").select("region_id", "name").iter_rows())
    gem = gem.with_columns(name=pl.col("region").replace_strict(names, default=None))
    gem = gem.select("region", "name", *[c for c in gem.columns if c not in ("region", "name")])
    shown = gem.filter(pl.col("chronic_total_rate").is_not_null())
    values = {r: (None if v is None else 1000.0 * v)
              for r, v in zip(gem["region"], gem["chronic_total_rate"], strict=True)}
    fig = map_figure(load_geometry(reg, geometry), LEVELS["gemeente"], values, lang=lang,
                     label=tr(lang, "chronisch verzuim per 1.000 leerlingen",
                              "chronic absence per 1,000 pupils"))
    cols = ["region", "name", "pupils", "chronic_total", "chronic_total_rate"]
    hi = shown.sort(["chronic_total_rate", "region"], descending=[True, False]).head(TOP)
    lo = shown.sort(["chronic_total_rate", "region"]).head(TOP)
    top = ", ".join(f"{n or r}" for r, n in hi.head(3).select("region", "name").iter_rows())
    alt = tr(lang, "Kaart van de gemeenten, gekleurd naar het aandeel chronisch verzuim; grijs "
             f"gearceerd is onderdrukt. Hoogste: {top or 'geen'}.",
             "Map of the gemeenten coloured by the chronic absence rate; hatched grey is "
             f"suppressed. Highest: {top or 'none'}.")
    link = paragraph(tr(lang, "Elke gemeente, elke maat: ", "Every gemeente, every measure: ")
                     ).removesuffix("</p>") + (
        f'<a href="{CSV_NAME}" download>{CSV_NAME}</a> (CSV; {SYMBOL} = '
        f"{tr(lang, 'onderdrukt', 'suppressed')}).</p>")
    labels = _labels(lang)
    body = (link + figure_html(fig, alt=alt)
            + table_html(hi.select(cols), labels=labels, decimals=3,
                         caption=tr(lang, f"De {TOP} gemeenten met het hoogste aandeel",
                                    f"The {TOP} gemeenten with the highest rate"))
            + table_html(lo.select(cols), labels=labels, decimals=3,
                         caption=tr(lang, f"De {TOP} gemeenten met het laagste aandeel",
                                    f"The {TOP} gemeenten with the lowest rate")))
    return body, formula_safe(gem).write_csv()


def attendance_section(register: Register | str | Path, *, asof: dt.date, lang: str = "nl",
                       threshold: int = DEFAULT_THRESHOLD,
                       geometry: str | Path | None = None) -> Section:
    """16-hour reports, 4-week absence and chronic absence: the country, and per
    gemeente a map, the ten highest and lowest and a CSV (one protected publication).
    """
    reg = Register.open(register)
    if reg.scan("absence_days").select(pl.len()).collect().item() == 0:
        return Section(id="attendance", title=tr(lang, "Verzuim", "Absence"),
                       html=note(tr(lang, "Het register heeft geen verzuimdagen.",
                                    "The register holds no absence days.")))
    tables = aggregate_tables(reg, asof=asof, by=("nation", "gemeente"), threshold=threshold)
    nat = _wide(tables["attendance_nation"], threshold)
    gem = _wide(tables["attendance_gemeente"], threshold).filter(pl.col("region") != "NL")
    lo = dt.date(asof.year if asof.month >= 8 else asof.year - 1, 8, 1)
    intro = paragraph(tr(
        lang,
        f"Schooljaar tot en met {asof.isoformat()} (vanaf {lo.isoformat()}): leerlingen met "
        "meer dan 16 uur ongeoorloofd verzuim in 4 weken (de melding waarover de Kamer nu "
        "wordt geïnformeerd), met ongeoorloofd verzuim op elke schooldag langer dan 4 "
        "weken, en het aandeel chronisch verzuim (10% of meer afwezig, om welke reden ook).",
        f"School year up to {asof.isoformat()} (from {lo.isoformat()}): pupils with more than "
        "16 hours of unauthorised absence in 4 weeks (the report parliament is now told "
        "of), with unauthorised absence on every school day for more than 4 weeks, and the "
        "chronic absence rate (10% or more absent, for any reason)."))
    hidden = note(tr(lang, f"{SYMBOL} is een verborgen aantal: elk aantal van 1 tot {threshold}, "
                     "en de aantallen die verborgen zijn zodat een klein aantal niet kan worden "
                     "afgeleid.",
                     f"{SYMBOL} is a hidden count: every count of 1 to {threshold - 1}, and the "
                     "counts hidden so that a small count cannot be derived."))
    body, csv = _gemeente_part(reg, gem, lang, geometry)
    return Section(
        id="attendance", title=tr(lang, "Verzuim en meldingen", "Absence and reports"),
        html=intro + table_html(nat.drop("region"), labels=_labels(lang), decimals=3)
        + body + hidden, files={CSV_NAME: csv})
