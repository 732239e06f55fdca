"""The questionnaire report: response, distributions, changes over waves and prototypes.

One self-contained HTML file (:class:`ozamonitor.report.document.ReportDocument`)
in Dutch or English. Published by default: every distribution of answers is
disclosure-controlled (:mod:`ozamonitor.survey.tables`); prototypes with
fewer than ``threshold`` arrangements are counted but not described; free
text is left out. ``internal=True`` is the study team's view: no
suppression, every prototype described, and the answers to the open
questions listed per arrangement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from ozamonitor.errors import InputError
from ozamonitor.files import atomic_write_text
from ozamonitor.survey.frame import SurveyFrame, to_frame
from ozamonitor.survey.instrument import Instrument, load_instrument
from ozamonitor.survey.submissions import Submission
from ozamonitor.survey.tables import (
    DEFAULT_THRESHOLD,
    changes_over_waves,
    distribution,
    format_count,
    numeric_summary,
    protect_outcomes,
    response_table,
)

__all__ = ["survey_report", "survey_sections"]


def _distribution_html(frame: SurveyFrame, q: Any, lang: str, internal: bool,
                       threshold: int) -> str:
    from ozamonitor.report.document import table_html

    t = distribution(frame, q.name, lang=lang, internal=internal, threshold=threshold)
    waves = frame.waves()
    rows: dict[str, dict[str, str]] = {}
    for r in t.iter_rows(named=True):
        cell = format_count(r["count"], r["suppression"], threshold)
        if r["share"] is not None:
            cell += f" ({100 * r['share']:.0f}%)"
        if q.type == "select_multiple" and r["category"] != "selected":
            continue  # one line per option: selected (share of those answering)
        rows.setdefault(r["label"], {})[str(r["wave"])] = cell
    label = "antwoord" if lang == "nl" else "answer"
    df = pl.DataFrame([{label: k, **{str(w): v.get(str(w), "") for w in waves}}
                       for k, v in rows.items()], schema=[label, *[str(w) for w in waves]])
    return table_html(df, caption=f"{q.name}: {q.label(lang)}")


def _numeric_html(frame: SurveyFrame, q: Any, lang: str, internal: bool,
                  threshold: int) -> str:
    from ozamonitor.report.document import table_html

    t = numeric_summary(frame, q.name, internal=internal, threshold=threshold)
    t = t.drop("question").with_columns(pl.col("wave").cast(pl.String))
    if not internal:
        t = t.with_columns(pl.col("n").cast(pl.String).fill_null(f"<{threshold}"))
    return table_html(t, caption=f"{q.name}: {q.label(lang)}", decimals=1)


def _part_sections(frame: SurveyFrame, lang: str, internal: bool, threshold: int) -> list[Any]:
    from ozamonitor.report.document import Section

    inst = frame.instrument
    out = []
    for g in inst.parts:
        body = []
        for q in inst.in_part(g.name):
            if q.repeat is not None or not q.answerable or q.type in ("text", "date"):
                continue
            if q.type in ("select_one", "select_multiple"):
                body.append(_distribution_html(frame, q, lang, internal, threshold))
            else:
                body.append(_numeric_html(frame, q, lang, internal, threshold))
        out.append(Section(id=f"part-{g.name}", title=g.label(lang), html="\n".join(body)))
    return out


def _changes_section(frame: SurveyFrame, lang: str, internal: bool, threshold: int) -> Any:
    from ozamonitor.report.document import Section, note, paragraph, table_html

    waves = frame.waves()
    title = "Veranderingen tussen meetrondes" if lang == "nl" else "Changes between waves"
    if len(waves) < 2:
        text = ("Er is nog maar één meetronde." if lang == "nl" else "There is one wave only.")
        return Section(id="changes", title=title, html=paragraph(text))
    t = changes_over_waves(frame, from_wave=waves[-2], to_wave=waves[-1], internal=internal,
                           threshold=threshold)
    t = t.with_columns(
        pl.when(pl.col("suppression") == "primary").then(pl.lit(f"<{threshold}"))
        .when(pl.col("suppression") == "secondary").then(pl.lit("x"))
        .otherwise(pl.col("changed").cast(pl.String)).alias("changed"),
        pl.when(pl.col("suppression").is_not_null()).then(pl.lit("x"))
        .otherwise(pl.col("unchanged").cast(pl.String)).alias("unchanged"),
    ).drop("suppression")
    intro = (f"Arrangementen die een vraag in {waves[-2]} en {waves[-1]} beantwoordden, en "
             "hoeveel daarvan hun antwoord wijzigden." if lang == "nl" else
             f"Arrangements answering a question in both {waves[-2]} and {waves[-1]}, and how "
             "many of them changed their answer.")
    return Section(id="changes", title=title, html=paragraph(intro) + table_html(t) + note(
        "Vooraf ingevulde antwoorden die niet zijn gewijzigd tellen als ongewijzigd."
        if lang == "nl" else "Prefilled answers that were not changed count as unchanged."))


def _prototype_section(frame: SurveyFrame, lang: str, internal: bool, threshold: int,
                       register: Any) -> Any:
    from ozamonitor.report.document import Section, figure_html, note, paragraph, table_html
    from ozamonitor.survey.prototypes import (
        describe_prototypes,
        find_prototypes,
        plot_prototypes,
        prototype_outcomes,
    )
    nl = lang == "nl"
    title = "Prototypen" if nl else "Prototypes"
    try:
        res = find_prototypes(frame)
    except InputError as e:
        return Section(id="prototypes", title=title, html=paragraph(str(e)))
    sizes = res.sizes()
    html_parts = [paragraph(
        (f"Arrangementen met alle vier delen ingediend (laatste meetronde), geclusterd op hun "
         f"antwoorden (Gower-afstand, PAM); k = {res.k} heeft de grootste gemiddelde "
         f"silhouetbreedte ({res.silhouette[res.k]:.2f}).") if nl else
        (f"Arrangements with all four parts submitted (latest wave), clustered on their "
         f"answers (Gower distance, PAM); k = {res.k} has the largest average silhouette "
         f"width ({res.silhouette[res.k]:.2f})."))]
    html_parts.append(figure_html(plot_prototypes(res, lang=lang),
                                  caption="Silhouet" if nl else "Silhouette"))
    size_tab = pl.DataFrame({"prototype": list(sizes), "arrangements": [
        str(n) if internal or n >= threshold else f"<{threshold}" for n in sizes.values()]})
    html_parts.append(table_html(size_tab))
    desc = describe_prototypes(res, lang=lang)
    shown = [p for p, n in sizes.items() if internal or n >= threshold]
    desc = desc.filter(pl.col("prototype").is_in(shown)).drop("variable", "score")
    html_parts.append(table_html(desc, caption=(
        "Wat elk prototype onderscheidt (aandeel of mediaan in het prototype en overall)"
        if nl else "What sets each prototype apart (share or median in the prototype and "
        "overall)"), decimals=2))
    if len(shown) < len(sizes):
        html_parts.append(note(
            f"Prototypen met minder dan {threshold} arrangementen worden niet beschreven."
            if nl else f"Prototypes of fewer than {threshold} arrangements are not described."))
    if register is not None:
        out = prototype_outcomes(res, register)
        if not internal:
            out = protect_outcomes(out, threshold=threshold)
            out = out.with_columns(pl.when(pl.col("prototype").is_in(shown))
                                   .then(pl.col("median_days")).otherwise(None)
                                   .alias("median_days"))
        html_parts.append(table_html(out, caption=(
            "Prototypen en de registeruitkomsten van hun deelnemers" if nl else
            "Prototypes and their participants' register outcomes"), decimals=2))
    return Section(id="prototypes", title=title, html="\n".join(html_parts))


def _free_text_section(frame: SurveyFrame, lang: str) -> Any:
    from ozamonitor.report.document import Section, table_html

    inst = frame.instrument
    texts = [q for q in inst.questions if q.type == "text" and q.repeat is None]
    rows = []
    for r in frame.wide.iter_rows(named=True):
        for q in texts:
            if r.get(q.name):
                rows.append({"arrangement_id": r["arrangement_id"], "wave": r["wave"],
                             "question": q.name, "answer": r[q.name]})
    df = pl.DataFrame(rows, schema={"arrangement_id": pl.String, "wave": pl.Int32,
                                    "question": pl.String, "answer": pl.String})
    title = "Open antwoorden (intern)" if lang == "nl" else "Open answers (internal)"
    return Section(id="free-text", title=title, html=table_html(df, max_rows=2000))


def survey_sections(submissions: Iterable[Submission], *, instrument: Instrument | None = None,
                    lang: str = "nl", internal: bool = False,
                    threshold: int = DEFAULT_THRESHOLD, register: Any = None,
                    arrangements: Sequence[str] | None = None) -> list[Any]:
    """The report's sections (for a larger report that includes the questionnaire)."""
    from ozamonitor.report.document import Section, paragraph, table_html

    subs = list(submissions)
    if not subs:
        raise InputError("no answers to report on")
    inst = instrument or load_instrument()
    nl = lang == "nl"
    frame = to_frame(subs, inst)
    resp = response_table(subs, inst, arrangements=arrangements).with_columns(
        pl.col("wave").cast(pl.String))
    intro = paragraph(
        (f"{inst.title('nl')}, versie {inst.version}. Meetrondes: "
         f"{', '.join(map(str, frame.waves()))}. Antwoorden van ingediende delen.")
        if nl else
        (f"{inst.title('en')}, version {inst.version}. Waves: "
         f"{', '.join(map(str, frame.waves()))}. Answers of submitted parts."))
    privacy = paragraph(
        ("Interne versie voor het onderzoeksteam: niet onderdrukt, niet publiceren."
         if internal else f"Antwoordcategorieën met 1 tot {threshold - 1} arrangementen zijn "
         "onderdrukt (<{0}), met secundaire onderdrukking (x).".format(threshold))
        if nl else
        ("Internal version for the study team: not suppressed, do not publish."
         if internal else f"Answer categories of 1 to {threshold - 1} arrangements are "
         f"suppressed (<{threshold}), with secondary suppression (x)."))
    sections = [
        Section(id="overview", title="Overzicht" if nl else "Overview", html=intro + privacy),
        Section(id="response", title="Respons en volledigheid" if nl else
                "Response and completeness",
                html=table_html(resp, decimals=2, caption=(
                    "Per meetronde en deel: gevraagd, ingediend, concept, niet begonnen, "
                    "respons en gemiddelde volledigheid" if nl else
                    "Per wave and part: asked, submitted, draft, not started, response and "
                    "mean completeness"))),
        *_part_sections(frame, lang, internal, threshold),
        _changes_section(frame, lang, internal, threshold),
        _prototype_section(frame, lang, internal, threshold, register),
    ]
    if internal:
        sections.append(_free_text_section(frame, lang))
    return sections


def survey_report(submissions: Iterable[Submission], out: str | Path, *,
                  instrument: Instrument | None = None, lang: str = "nl",
                  internal: bool = False, threshold: int = DEFAULT_THRESHOLD,
                  register: Any = None, arrangements: Sequence[str] | None = None) -> Path:
    """Write the questionnaire report as one HTML file.

    Parameters
    ----------
    submissions : iterable of Submission
    out : path
        The HTML file.
    instrument : Instrument, optional
        Default: the newest shipped.
    lang : {"nl", "en"}, default "nl"
    internal : bool, default False
        The study team's unsuppressed view (with open answers).
    threshold : int, default 10
        Smallest published count of arrangements (and persons).
    register : Register or path, optional
        Link prototypes to the register's participants and outcomes.
    arrangements : sequence of str, optional
        The arrangements asked (for the response rate); default: those
        with answers.
    """
    from ozamonitor.report.document import ReportDocument

    title = ("Vragenlijst onderwijszorgarrangementen" if lang == "nl"
             else "Questionnaire on education-care arrangements")
    doc = ReportDocument(title=title, lang=lang, subtitle=(
        ("Interne versie" if lang == "nl" else "Internal version") if internal else None))
    doc.add(survey_sections(submissions, instrument=instrument, lang=lang, internal=internal,
                            threshold=threshold, register=register, arrangements=arrangements))
    return atomic_write_text(Path(out), doc.render())

