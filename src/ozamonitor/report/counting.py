"""The report section on thuiszitter counts (all tables disclosure-controlled)."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import polars as pl

from ozamonitor.counting.count import Counter
from ozamonitor.counting.reconcile import (
    hidden_counts,
    overlap_figure,
    publishable_reconciliation,
    publishable_trend,
    render_waterfall,
    trend,
    trend_figure,
    waterfall_figure,
)
from ozamonitor.privacy.disclosure import DEFAULT_THRESHOLD, render
from ozamonitor.register.store import Register
from ozamonitor.report.document import Section, figure_html, note, paragraph, table_html, tr


def _rendered(df: pl.DataFrame, value: str, threshold: int) -> pl.DataFrame:
    return render(df, value, threshold=threshold)


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


def _regional_sections(c: Counter, reg: Register, stock_pc: pl.DataFrame, threshold: int,
                       lang: str, names: dict[str, str]) -> list[Section]:
    """Totals per definition by gemeente and by SWV (stock), from the joint publication."""
    subs: list[Section] = []
    region_names = dict(reg.read("regions").select("region_id", "name").iter_rows())
    for by, title_nl, title_en in (("gemeente", "Per gemeente", "By gemeente"),
                                    ("swv", "Per samenwerkingsverband", "By SWV")):
        # the totals as suppressed in the full table (categories included), so this
        # table and `ozamonitor count --by ...` on the same date hide the same cells
        t = c.table(stock_pc, by, threshold=threshold).filter(pl.col("category") == "total")
        t = render(t, "count", threshold=threshold)
        wide = t.pivot(on="definition", index="region", values="count").with_columns(
            name=pl.col("region").replace_strict(region_names, default=pl.col("region")))
        wide = wide.select("region", "name", *[d.name for d in c.definitions])
        extra = ""
        if by == "swv":
            n_multi = c.multi_swv_gemeenten()["gemeente_code"].n_unique()
            extra = note(tr(
                lang,
                f"Ingeschreven leerlingen tellen bij het SWV van hun school; niet-ingeschreven "
                f"kinderen via hun woongemeente. {n_multi} gemeente(n) liggen in meer dan één "
                "SWV: daar telt het SWV met het grootste aandeel.",
                f"Enrolled pupils count in their school's SWV; children not enrolled through "
                f"their gemeente of residence. {n_multi} gemeente(n) lie in several SWVs: "
                "there the SWV with the largest share counts."))
        subs.append(Section(
            id=f"counting-{by}", title=tr(lang, title_nl, title_en),
            html=extra + table_html(wide, labels={**names, "region": tr(lang, "code", "code"),
                                          "name": tr(lang, "naam", "name")}),
        ))
    return subs


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
) -> Section:
    """Thuiszitters under every definition, side by side, with reconciliation.

    Holds: a side-by-side table (stock on ``peildatum`` and flow over
    ``schoolyear`` per definition and category), the waterfall from the
    narrowest to the widest definition, the overlap matrix, the trend per
    definition over all school years and regional tables (gemeente, SWV). All
    counts pass :mod:`ozamonitor.privacy.disclosure` with ``threshold``.
    """
    reg = Register.open(register)
    c = counter or Counter(reg, definitions)
    names = {d.name: d.display(lang) for d in c.definitions}
    cat_labels = {(d.name, k.name): k.display(lang) for d in c.definitions
                  for k in d.categories}
    total_lbl = tr(lang, "totaal", "total")

    stock_pc = c.stock(peildatum)
    flow_pc = c.flow(schoolyear)
    subs: list[Section] = []
    # waterfall and overlap are protected together (see counting.reconcile); a
    # definition's flow count hidden there is hidden in every table of this section
    wf, ov = publishable_reconciliation(flow_pc, definitions=[d.name for d in c.definitions],
                                        threshold=threshold)
    hidden_flow = hidden_counts(wf)

    # 1. side by side
    st = c.table(stock_pc, "nation", threshold=threshold)
    fl = _rendered(c.table(flow_pc, "nation", threshold=threshold), "count", threshold)
    if hidden_flow:  # the whole definition: hiding only its total would leave the sum
        fl = fl.with_columns(
            pl.when(pl.col("definition").is_in(hidden_flow)).then(pl.lit("x")).otherwise(pl.col("count")).alias("count"))
    side = (
        _rendered(st, "count", threshold).select("definition", "category",
                                                 pl.col("count").alias("stock"))
        .join(fl.select("definition", "category", pl.col("count").alias("flow")),
              on=["definition", "category"], how="left", maintain_order="left")
    )
    side = side.with_columns(
        category=pl.Series([
            total_lbl if cat == "total" else cat_labels.get((dn, cat), cat)
            for dn, cat in zip(side["definition"], side["category"], strict=True)]),
        definition=pl.col("definition").replace_strict(names),
    )
    hdr = {"definition": tr(lang, "definitie", "definition"),
           "category": tr(lang, "categorie", "category"),
           "stock": tr(lang, f"op {peildatum.isoformat()}", f"on {peildatum.isoformat()}"),
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
        trd = publishable_trend(trend(c), threshold, hide={schoolyear: hidden_flow})
        fig = trend_figure(trd, lang=lang, labels=names)
        subs.append(Section(
            id="counting-trend",
            title=tr(lang, "Trend per definitie", "Trend per definition"),
            html=figure_html(fig),
        ))

    # 4. regional tables (stock, totals per definition)
    subs += _regional_sections(c, reg, stock_pc, threshold, lang, names)

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
