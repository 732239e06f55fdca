"""The report section on thuiszitter counts (one protected publication: counts, waterfall,
overlap)."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import polars as pl

from ozamonitor.counting.count import Counter
from ozamonitor.counting.publication import protect_counts, reconciliation_frames
from ozamonitor.counting.reconcile import (
    overlap_figure,
    publishable_trend,
    render_waterfall,
    trend,
    trend_figure,
    waterfall_figure,
)
from ozamonitor.errors import ConfigurationError
from ozamonitor.privacy.disclosure import DEFAULT_THRESHOLD
from ozamonitor.privacy.publication import Protected
from ozamonitor.register.store import Register
from ozamonitor.report.document import Section, figure_html, note, paragraph, table_html, tr
from ozamonitor.report.regions import regional_sections


def _definition_list(counter: Counter, lang: str) -> str:
    items = []
    for d in counter.definitions:
        pop = tr(lang, "leerplichtigen" if d.population == "compulsory"
                 else "leer- en kwalificatieplichtigen",
                 "compulsory age only" if d.population == "compulsory"
                 else "compulsory and qualification duty")
        cats = ", ".join(c.display(lang) for c in d.categories)
        items.append(
            f"<li><b>{html.escape(d.display(lang))}</b> (v{html.escape(d.version)}; "
            f"{html.escape(pop)}): {html.escape(d.description)} "
            f"<i>{html.escape(tr(lang, 'Categorieën', 'Categories'))}: {html.escape(cats)}.</i> "
            f"<small>{html.escape(tr(lang, 'Bron', 'Source'))}: {html.escape(d.source)}</small>"
            "</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _multi_swv_note(c: Counter, lang: str) -> str:
    n_multi = c.multi_swv_gemeenten()["gemeente_code"].n_unique()
    return note(tr(
        lang,
        f"Ingeschreven leerlingen tellen bij het SWV van hun school; niet-ingeschreven "
        f"kinderen via hun woongemeente. {n_multi} gemeente(n) liggen in meer dan één "
        "SWV: daar telt het SWV met het grootste aandeel.",
        f"Enrolled pupils count in their school's SWV; children not enrolled through "
        f"their gemeente of residence. {n_multi} gemeente(n) lie in several SWVs: "
        "there the SWV with the largest share counts."))


def _side_by_side(res: Protected, c: Counter, stock: str, flow: str, lang: str,
                  names: dict[str, str]) -> pl.DataFrame:
    """Stock and flow per definition and category, from the joint publication."""
    nat = res.rendered("by_nation")
    cat_labels = {(d.name, k.name): k.display(lang) for d in c.definitions
                  for k in d.categories}
    total_lbl = tr(lang, "totaal", "total")

    def col(period: str, name: str) -> pl.DataFrame:
        return nat.filter(pl.col("period") == period).select(
            "definition", "category", pl.col("count").alias(name))

    side = col(stock, "stock").join(col(flow, "flow"), on=["definition", "category"],
                                    how="left", maintain_order="left")
    return side.with_columns(
        category=pl.Series([
            total_lbl if cat == "total" else cat_labels.get((dn, cat), cat)
            for dn, cat in zip(side["definition"], side["category"], strict=True)]),
        definition=pl.col("definition").replace_strict(names),
    )


def _hidden_totals(res: Protected, period: str) -> list[str]:
    """Definitions whose national total of ``period`` the publication suppresses."""
    t = res.table("by_nation").filter((pl.col("period") == period)
                                      & (pl.col("category") == "total"))
    return t.filter(pl.col("suppression").is_not_null())["definition"].to_list()


def _largest(res: Protected, period: str) -> str | None:
    """The definition with the largest published national total on ``period``."""
    t = res.table("by_nation").filter((pl.col("period") == period)
                                      & (pl.col("category") == "total")
                                      & pl.col("suppression").is_null())
    return t.sort("count", "definition", descending=[True, False])["definition"].first()


def _trend(c: Counter, res: Protected, peildatum: dt.date, schoolyear: str,
           threshold: int) -> pl.DataFrame:
    """The trend, with the figures the joint publication hides hidden too."""
    trd = publishable_trend(trend(c), threshold,
                            hide={schoolyear: _hidden_totals(res, schoolyear)})
    stock_hidden = _hidden_totals(res, peildatum.isoformat())
    if peildatum.month != 10 or peildatum.day != 1 or not stock_hidden:
        return trd
    year = f"{peildatum.year}-{peildatum.year + 1}"
    cond = ((pl.col("measure") == "stock_1oct") & (pl.col("school_year") == year)
            & pl.col("definition").is_in(stock_hidden) & pl.col("suppression").is_null())
    return trd.with_columns(
        pl.when(cond).then(None).otherwise(pl.col("count")).alias("count"),
        pl.when(cond).then(pl.lit("secondary")).otherwise(pl.col("suppression"))
        .alias("suppression"))


def _reconciliation_sections(wf: pl.DataFrame, ov: pl.DataFrame, lang: str,
                             names: dict[str, str], definition_label: str, schoolyear: str,
                             threshold: int) -> list[Section]:
    """The waterfall (figure and table) and the overlap figure."""
    subs: list[Section] = []
    labels = names
    fig = waterfall_figure(wf, lang=lang, labels=labels)
    wf_show = render_waterfall(wf, threshold)
    wf_show = wf_show.with_columns(definition=pl.col("definition").replace_strict(names))
    subs.append(Section(
        id="counting-waterfall",
        title=tr(lang, "Van smal naar breed", "From narrow to wide"),
        html=figure_html(fig) + table_html(wf_show, labels={
            "step": tr(lang, "stap", "step"), "definition": definition_label,
            "count": tr(lang, "aantal", "count"), "added": tr(lang, "erbij", "added")}),
    ))
    fig = overlap_figure(ov, lang=lang, labels=labels)
    subs.append(Section(
        id="counting-overlap",
        title=tr(lang, "Overlap tussen definities", "Overlap between definitions"),
        html=figure_html(fig, caption=tr(
            lang, f"Kinderen die door beide definities worden geteld, schooljaar {schoolyear}.",
            f"Children counted by both definitions, school year {schoolyear}.")),
    ))
    return subs


def counting_section(
    register: Register | str | Path,
    *,
    peildatum: dt.date,
    schoolyear: str,
    lang: str = "nl",
    threshold: int = DEFAULT_THRESHOLD,
    definitions: str = "all",
    counter: Counter | None = None,
    trends: bool = True,
    geometry: str | Path | None = None,
    map_definition: str | None = None,
    csv_name: str = "thuiszitters-regio.csv",
) -> Section:
    """Thuiszitters under every definition, side by side, with reconciliation.

    Holds: a side-by-side table (stock on ``peildatum`` and flow over
    ``schoolyear`` per definition and category), the waterfall from the
    narrowest to the widest definition, the overlap matrix, the trend per
    definition over all school years and, per gemeente and SWV, a map of
    ``map_definition`` (default: the one with the most children nationally), its ten highest and
    lowest regions and a CSV of every region (attached as ``csv_name``). The
    counts, the waterfall and the overlap are one protected publication
    (:func:`ozamonitor.counting.publication.protect_counts`, ``threshold``).
    """
    reg = Register.open(register)
    c = counter or Counter(reg, definitions)
    names = {d.name: d.display(lang) for d in c.definitions}
    stock = peildatum.isoformat()
    pc = pl.concat([c.stock(peildatum), c.flow(schoolyear)], how="vertical_relaxed")
    # one disclosure system: every level and both periods, waterfall and overlap
    res = protect_counts(c, pc, periods=[stock, schoolyear], threshold=threshold,
                         reconcile=True)
    wf, ov = reconciliation_frames(res, schoolyear)
    subs: list[Section] = []

    # 1. side by side
    side = _side_by_side(res, c, stock, schoolyear, lang, names)
    hdr = {"definition": tr(lang, "definitie", "definition"),
           "category": tr(lang, "categorie", "category"),
           "stock": tr(lang, f"op {stock}", f"on {stock}"),
           "flow": tr(lang, f"in schooljaar {schoolyear}", f"in school year {schoolyear}")}
    subs.append(Section(
        id="counting-side-by-side",
        title=tr(lang, "Alle definities naast elkaar", "All definitions side by side"),
        html=paragraph(tr(
            lang,
            "Eén register, één peildatum en één schooljaar: de verschillen tussen de "
            "definities komen alleen uit hun criteria.",
            "One register, one reference date and one school year: the differences between "
            "definitions come from their criteria alone.")) + table_html(side, labels=hdr),
    ))

    # 2. waterfall + overlap (flow)
    subs += _reconciliation_sections(wf, ov, lang, names, hdr["definition"], schoolyear,
                                     threshold)

    # 3. trends
    if trends:
        fig = trend_figure(_trend(c, res, peildatum, schoolyear, threshold), lang=lang,
                           labels=names)
        subs.append(Section(
            id="counting-trend",
            title=tr(lang, "Trend per definitie", "Trend per definition"),
            html=figure_html(fig),
        ))

    # 4. per region: maps, extremes and the CSV (stock, totals per definition)
    shown = map_definition or _largest(res, stock) or c.definitions[0].name
    if shown not in names:
        raise ConfigurationError(f"map definition {shown!r} is not one of {sorted(names)}")
    subs += regional_sections(reg, res, period=stock, day=peildatum, definition=shown,
                              def_label=names[shown], lang=lang, threshold=threshold,
                              geometry=geometry, csv_name=csv_name,
                              multi_swv_note=_multi_swv_note(c, lang))

    subs.append(Section(id="counting-definitions",
                        title=tr(lang, "Definities", "Definitions"),
                        html=_definition_list(c, lang)))
    intro = paragraph(tr(
        lang,
        "Hoeveel kinderen thuiszitten hangt af van de definitie. Deze sectie telt ze volgens "
        "elke officiële definitie uit hetzelfde register, en laat zien waar de verschillen "
        "vandaan komen.",
        "How many children stay home depends on the definition. This section counts them "
        "under every official definition from the same register and shows where the "
        "differences come from.")) + note(tr(
            lang,
            f"Cellen met 1 tot en met {threshold - 1} kinderen, en cellen die zo'n cel "
            "beschermen, zijn onderdrukt: 'x' (één teken voor elke onderdrukte cel).",
            f"Cells with 1 to {threshold - 1} children, and cells that protect such a cell, "
            "are suppressed: 'x' (one symbol for every suppressed cell)."))
    return Section(id="counting", title=tr(lang, "Thuiszitters tellen", "Counting children "
                                           "at home"), html=intro, subsections=subs)
