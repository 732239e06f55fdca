"""Impact section of the HTML report: estimates per group, event studies, balance.

Everything shown is disclosure-controlled: group sizes below the threshold
are suppressed (``<10``), and estimates for groups with fewer than
:data:`ozamonitor.causal.impact.MIN_TREATED` participants are never computed.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import polars as pl

from ozamonitor.causal.impact import ImpactResult
from ozamonitor.files import atomic_write, formula_safe
from ozamonitor.privacy.disclosure import publish
from ozamonitor.report.document import Section, figure_html, note, paragraph, table_html, tr
from ozamonitor.synth.evaluate import impact_truth

GROUP_LABELS = {
    "nl": {
        "at_risk": "dreigend langdurig verzuim",
        "long_term_absent": "langdurig verzuim",
        "not_enrolled": "niet ingeschreven",
        "exempt_5a": "vrijstelling 5a",
        "all": "alle deelnemers",
        "0": "voortgezet onderwijs-leeftijd",
        "1": "basisschoolleeftijd",
    },
    "en": {
        "at_risk": "at risk of long absence",
        "long_term_absent": "long-term absent",
        "not_enrolled": "not enrolled",
        "exempt_5a": "exemption 5a",
        "all": "all participants",
        "0": "secondary-school age",
        "1": "primary-school age",
    },
}


#: The outcome of the analysis (``settings["outcome"]``) in the report's sentence.
_OUTCOME_NL = {
    "in_education": "in onderwijs te zijn (ingeschreven en niet langdurig afwezig)",
    "accessibility": "als onderwijsdeelnemer ingeschreven te zijn (toegankelijkheid)",
    "continuity": "in stabiel onderwijs te zijn, drie maanden aaneen (continuïteit)",
}
_OUTCOME_EN = {
    "in_education": "being in education (enrolled and not long-term absent)",
    "accessibility": "being enrolled as an education participant (accessibility)",
    "continuity": "being in stable education, three months in a row (continuity)",
}


def _label(group: str, lang: str) -> str:
    return GROUP_LABELS[lang].get(group, group)


def planted_truth(result: ImpactResult) -> pl.DataFrame | None:
    """The truth of a synthetic register for these estimates (``None`` for real data).

    Parameters
    ----------
    result : ImpactResult
        Estimates of :func:`~ozamonitor.causal.impact.impact_analysis`; the register
        is the one recorded in ``result.settings["register"]``.

    Returns
    -------
    polars.DataFrame or None
        See :func:`ozamonitor.synth.evaluate.impact_truth`.
    """
    register = result.settings.get("register")
    if register is None:
        return None
    return impact_truth(register, result.cells, by=result.settings.get("by"),
                        max_e=result.settings.get("max_e", 23))


def published_summary(result: ImpactResult, *, threshold: int = 10) -> pl.DataFrame:
    """The summary with every count of children disclosure-controlled (display strings).

    On a synthetic register the planted and realised effects on the matched
    participants are added (``true_att_expected``, ``true_att_matched``).

    Parameters
    ----------
    result : ImpactResult
        The estimates.
    threshold : int, default 10
        Disclosure threshold: counts below it are suppressed.

    Returns
    -------
    polars.DataFrame
        ``by, group, att, lower_sample, upper_sample, lower, upper, pretrend_p``,
        the counts as display strings, and the truth columns where known.
    """
    s = result.summary
    out = s.select("by", "group", "att", "lower_sample", "upper_sample", "lower", "upper",
                   "pretrend_p")
    for col in ("n_treated", "n_unmatched", "n_controls", "n_control_slots"):
        if col not in s.columns:
            continue
        pub = publish(
            s.select("by", "group", col),
            col,
            threshold=threshold,
            sum_groups=[["by"]] if col != "n_controls" else [],
        )
        out = out.join(pub.select("by", "group", col), on=["by", "group"], how="left")
    truth = planted_truth(result)
    if truth is not None:
        cols = [c for c in ("true_att_expected", "true_att_matched") if c in truth.columns]
        out = out.join(truth.select("group", *cols), on="group", how="left")
    return out


def event_study_figure(result: ImpactResult, lang: str = "nl") -> plt.Figure:
    """Small multiples: ATT(e) with pointwise 95% intervals per group.

    Parameters
    ----------
    result : ImpactResult
    lang : {"nl", "en"}, default "nl"

    Returns
    -------
    matplotlib.figure.Figure
    """
    es = result.event_study
    groups = [g for g in result.summary["group"].to_list() if g in set(es["group"].to_list())]
    n = max(len(groups), 1)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False, sharey=True
    )
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    for ax, g in zip(axes.ravel(), groups, strict=False):
        d = es.filter(pl.col("group") == g).sort("e")
        e = d["e"].to_numpy()
        ax.fill_between(
            e,
            d["lower"].to_numpy(),
            d["upper"].to_numpy(),
            color="#88CCEE",
            alpha=0.5,
            linewidth=0,
            label=tr(lang, "95%-interval", "95% interval"),
        )
        ax.plot(
            e,
            d["att"].to_numpy(),
            color="#332288",
            marker="o",
            markersize=2.5,
            label=tr(lang, "effect", "effect"),
        )
        ax.axhline(0, color="#555555", linewidth=0.8)
        ax.axvline(-0.5, color="#CC6677", linewidth=0.8, linestyle=":")
        n = int(d["n_sets"].max()) if d.height else 0
        ax.set_title(f"{_label(g, lang)} (n = {n})", fontsize=10)
        ax.set_xlabel(tr(lang, "maanden sinds start OZA", "months since OZA start"))
    axes[0, 0].set_ylabel(tr(lang, "effect op kans in onderwijs", "effect on P(in education)"))
    axes[0, 0].legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


def balance_figure(result: ImpactResult, lang: str = "nl") -> plt.Figure:
    """Love plot: |standardised difference| before and after matching.

    Parameters
    ----------
    result : ImpactResult
    lang : {"nl", "en"}, default "nl"

    Returns
    -------
    matplotlib.figure.Figure
    """
    b = result.balance
    b = b.assign(before=b["diff_un"].abs(), after=b["diff_adj"].abs()).sort_values("before")
    fig, ax = plt.subplots(figsize=(6.0, 0.28 * len(b) + 1.2))
    y = range(len(b))
    ax.scatter(b["before"], y, color="#CC6677", label=tr(lang, "vóór matching", "before"))
    ax.scatter(b["after"], y, color="#117733", label=tr(lang, "na matching", "after"))
    ax.axvline(
        0.1,
        color="#555555",
        linestyle="--",
        linewidth=0.8,
        label=tr(lang, "drempel 0,1", "threshold 0.1"),
    )
    ax.set_yticks(list(y), b["variable"].tolist(), fontsize=8)
    ax.set_xlabel(
        tr(
            lang,
            "|gestandaardiseerd verschil| (binair: |verschil in aandeel|)",
            "|standardised difference| (binary: |difference in proportion|)",
        )
    )
    ax.set_title(
        tr(lang, "Balans vóór en na matching", "Balance before and after matching"), fontsize=10
    )
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def impact_section(result: ImpactResult, *, lang: str = "nl", threshold: int = 10) -> Section:
    """The impact section: method, estimates per group, event study, balance.

    Parameters
    ----------
    result : ImpactResult
    lang : {"nl", "en"}, default "nl"
    threshold : int, default 10
        Disclosure threshold of the published counts.

    Returns
    -------
    Section
    """
    s = result.settings
    pub = published_summary(result, threshold=threshold).with_columns(
        pl.col("group").map_elements(lambda g: _label(g, lang), return_dtype=pl.String)
    )
    labels = _column_labels(lang)
    intro = paragraph(
        tr(
            lang,
            "Effect van deelname aan een onderwijszorgarrangement op de kans om "
            f"{_OUTCOME_NL[s.get('outcome', 'in_education')]}, gemiddeld over 0 tot "
            f"{s['max_e']} maanden na de start. Per startmaand zijn deelnemers gematcht "
            f"(1:{s['ratio']}, propensityscore, exact op {', '.join(s['exact'])}) aan "
            "vergelijkbare kinderen uit dezelfde doelgroep die toen niet startten; "
            "verschil-in-verschillen met de maand vóór de start als basis, gewogen voor "
            "latere deelname van controles (IPCW).",
            "Effect of taking part in an education-care arrangement on the probability of "
            f"{_OUTCOME_EN[s.get('outcome', 'in_education')]}, averaged over 0 to "
            f"{s['max_e']} months after the start. Within each start month, participants "
            f"were matched (1:{s['ratio']}, propensity score, exact on "
            f"{', '.join(s['exact'])}) to comparable children of the same target group who "
            "did not start then; difference-in-differences with the month before the start "
            "as base, weighted for later participation of controls (IPCW).",
        )
    )
    interval_note, overlap_note, truth_note = _notes(result, pub, lang)
    html = (
        intro
        + table_html(pub.drop("by"), labels=labels, decimals=3)
        + interval_note
        + overlap_note
        + truth_note
        + note(
            tr(
                lang,
                "Groepen met minder dan 10 deelnemers krijgen geen schatting.",
                "Groups with fewer than 10 participants get no estimate.",
            )
        )
        + (
            figure_html(
                event_study_figure(result, lang),
                caption=tr(
                    lang,
                    "Effect per maand sinds de start (95%-interval)",
                    "Effect by month since the start (95% interval)",
                ),
            )
            if result.event_study.height
            else note(
                tr(
                    lang,
                    "Te weinig gematchte deelnemers voor een effectschatting.",
                    "Too few matched participants for an effect estimate.",
                )
            )
        )
        + figure_html(
            balance_figure(result, lang),
            caption=tr(lang, "Balans van achtergrondkenmerken", "Covariate balance"),
        )
    )
    return Section(
        id="impact",
        title=tr(lang, "Wat werkt voor wie: effecten van OZA", "What works for whom: OZA effects"),
        html=html,
    )


def _column_labels(lang: str) -> dict[str, str]:
    """Column headers of the published summary."""
    return {
        "group": tr(lang, "groep", "group"),
        "att": tr(lang, "effect", "effect"),
        "lower_sample": tr(lang, "95%-interval deelnemers onder", "95% lower, participants"),
        "upper_sample": tr(lang, "95%-interval deelnemers boven", "95% upper, participants"),
        "lower": tr(lang, "95%-interval populatie onder", "95% lower, population"),
        "upper": tr(lang, "95%-interval populatie boven", "95% upper, population"),
        "pretrend_p": tr(lang, "p pre-trend", "pre-trend p"),
        "n_treated": tr(lang, "deelnemers", "participants"),
        "n_unmatched": tr(lang, "niet gematcht", "unmatched"),
        "n_controls": tr(lang, "controlekinderen", "control children"),
        "n_control_slots": tr(lang, "controleplaatsen", "control slots"),
        "true_att_expected": tr(
            lang,
            "gepland effect (synthetisch, gematchte deelnemers)",
            "planted effect (synthetic, matched participants)",
        ),
        "true_att_matched": tr(
            lang,
            "gerealiseerd effect (synthetisch, gematchte deelnemers)",
            "realised effect (synthetic, matched participants)",
        ),
    }


def _notes(result: ImpactResult, pub: pl.DataFrame, lang: str) -> tuple[str, str, str]:
    """The notes under the table: intervals, weak overlap over time, synthetic truth."""
    weak = []
    if "censored_share" in result.summary.columns:
        weak = [_label(g, lang) for g, c in result.summary.select("group", "censored_share")
                .iter_rows() if c is not None and c > 0.5]
    overlap_note = note(tr(
        lang,
        f"Let op ({', '.join(weak)}): meer dan de helft van de controlemaanden valt weg "
        "omdat controles later zelf starten; de vergelijking op lange termijn rust dan op "
        "weinig, zwaar gewogen kinderen en de schatting is onbetrouwbaar.",
        f"Caution ({', '.join(weak)}): more than half of the control months are lost "
        "because controls start later themselves; the long-run comparison then rests on "
        "a few heavily weighted children and the estimate is unreliable.",
    )) if weak else ""
    interval_note = note(tr(
        lang,
        "Het interval voor de deelnemers geldt voor het effect op precies deze gematchte "
        "deelnemers (inclusief hun eigen toeval zonder arrangement) en is in simulaties "
        "goed gekalibreerd, behalve bij kleine groepen met weinig gebeurtenissen. Het "
        "populatie-interval (zoals R's did) is bedoeld voor het verwachte effect bij "
        "vergelijkbare kinderen, maar bleek daarvoor in simulaties te smal voor "
        "risicoleerlingen. De intervallen van de rij 'alle deelnemers' zijn ruim.",
        "The participants' interval is for the effect on exactly these matched participants "
        "(including their own luck without the arrangement) and is well calibrated in "
        "simulations, except in small groups with few events. The population interval "
        "(as R's did) is meant for the expected effect in comparable children, but was "
        "too narrow for that in simulations for at-risk pupils. The intervals of the "
        "'all participants' row are wide.",
    ))
    truth_note = note(tr(
        lang,
        "Synthetisch register: het gerealiseerde effect is Y(1) - Y(0) van deze deelnemers "
        "(waar het deelnemersinterval voor bedoeld is); het geplande effect is de "
        "verandering die de generator in hun kans op onderwijs heeft gelegd.",
        "Synthetic register: the realised effect is these participants' Y(1) - Y(0) (what "
        "the participants' interval is for); the planted effect is the change the "
        "generator made in their chance of being in education.",
    )) if "true_att_matched" in pub.columns else ""
    return interval_note, overlap_note, truth_note


def write_impact_outputs(
    result: ImpactResult, out: str | Path, *, lang: str = "nl", threshold: int = 10
) -> list[Path]:
    """Write disclosure-controlled tables (CSV) and figures (PNG) to ``out``.

    Every file is written atomically and follows the umask (published output,
    :func:`ozamonitor.files.atomic_write`).

    Parameters
    ----------
    result : ImpactResult
        The estimates.
    out : str or Path
        Output folder (created if needed).
    lang : {"nl", "en"}, default "nl"
        Language of the figures.
    threshold : int, default 10
        Disclosure threshold of the published counts.

    Returns
    -------
    list of Path
        The files written: ``impact_summary.csv``, ``impact_event_study.csv``,
        ``impact_balance.csv``, ``impact_balance.png`` and, when there is an event
        study, ``impact_event_study.png``.
    """
    out = Path(out)
    paths = []
    summary = published_summary(result, threshold=threshold)
    p = out / "impact_summary.csv"
    with atomic_write(p) as tmp:
        formula_safe(summary).write_csv(tmp)
    paths.append(p)
    es = (
        result.event_study.join(result.summary.select("group", "n_treated"), on="group", how="left")
        .filter(pl.col("n_treated") >= threshold)
        .drop("n_treated")
    )
    p = out / "impact_event_study.csv"
    with atomic_write(p) as tmp:
        formula_safe(es).write_csv(tmp)
    paths.append(p)
    p = out / "impact_balance.csv"
    with atomic_write(p) as tmp:
        formula_safe(result.balance).to_csv(tmp, index=False)
    paths.append(p)
    figures = [("impact_balance.png", balance_figure(result, lang))]
    if result.event_study.height:
        figures.append(("impact_event_study.png", event_study_figure(result, lang)))
    for name, fig in figures:
        try:
            with atomic_write(out / name) as tmp:
                fig.savefig(tmp, dpi=130, bbox_inches="tight")
        finally:
            plt.close(fig)
        paths.append(out / name)
    return paths
