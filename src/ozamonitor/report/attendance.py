"""The report section on absence: 16-hour reports and chronic absence (disclosure-controlled).

Parliament is now told of absence from 16 hours in 4 weeks, not only from
three months (domain brief section 10). This section shows, for one school
year up to a date, per gemeente and for the country: pupils, the attendance
tiers, the chronic absence rate (10% or more absent for any reason), children
with a ``report_16h_4w`` signal and with more than 4 weeks of unauthorised
absence on every school day (``lrv_4w``). Every number comes from
:func:`ozamonitor.attendance.counts.aggregate_tables`, i.e. through disclosure
control; hidden cells read ``<10`` (primary) or ``x`` (secondary).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from ozamonitor.attendance.counts import aggregate_tables, published
from ozamonitor.privacy.disclosure import DEFAULT_THRESHOLD
from ozamonitor.register.store import Register
from ozamonitor.report.document import Section, note, paragraph, table_html, tr

__all__ = ["MEASURES", "attendance_section", "attendance_table"]

#: Measures shown, in order (see :mod:`ozamonitor.attendance.counts`).
MEASURES = ("pupils", "chronic_total", "severe", "report_16h_4w", "lrv_4w", "early_warning")


def attendance_table(register: Register | str | Path, *, asof: dt.date, by: str = "gemeente",
                     threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """One row per region: each of :data:`MEASURES` as a count (text) and a rate.

    Returns
    -------
    polars.DataFrame
        ``region`` and per measure ``<measure>`` (``<10``/``x`` where hidden) and,
        except ``pupils``, ``<measure>_rate`` (null where hidden).
    """
    tidy = aggregate_tables(register, asof=asof, by=(by,), threshold=threshold)[
        f"attendance_{by}"].filter(pl.col("measure").is_in(MEASURES))
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


def attendance_section(register: Register | str | Path, *, asof: dt.date, lang: str = "nl",
                       threshold: int = DEFAULT_THRESHOLD) -> Section:
    """16-hour reports, 4-week absence and chronic absence per gemeente and nationally."""
    reg = Register.open(register)
    if reg.scan("absence_days").select(pl.len()).collect().item() == 0:
        return Section(id="attendance", title=tr(lang, "Verzuim", "Absence"),
                       html=note(tr(lang, "Het register heeft geen verzuimdagen.",
                                    "The register holds no absence days.")))
    nat = attendance_table(reg, asof=asof, by="nation", threshold=threshold)
    gem = attendance_table(reg, asof=asof, by="gemeente", threshold=threshold)
    gem = gem.filter(pl.col("region") != "NL")
    labels = {
        "region": tr(lang, "gemeente", "gemeente"),
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
    hidden = note(tr(lang, f"Aantallen van 1 tot {threshold} staan er als <{threshold}; x is "
                     "verborgen zodat een klein aantal niet kan worden afgeleid.",
                     f"Counts of 1 to {threshold - 1} read <{threshold}; x is hidden so that "
                     "a small count cannot be derived."))
    return Section(
        id="attendance", title=tr(lang, "Verzuim en meldingen", "Absence and reports"),
        html=intro + table_html(nat.drop("region"), labels=labels, decimals=3)
        + table_html(gem, labels=labels, decimals=3, max_rows=400) + hidden)
