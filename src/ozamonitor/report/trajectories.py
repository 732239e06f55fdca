"""The report section on education-care trajectories.

:func:`trajectories_section` turns the results of
:func:`~ozamonitor.trajectories.analysis.run_trajectory_analysis` (the object or
its output folder) into a :class:`~ozamonitor.report.document.Section` for
``ozamonitor report``. Only aggregated output is shown: counts of persons go
through :mod:`ozamonitor.privacy.disclosure` (cells of 1..9 suppressed, with
secondary suppression), figures and share tables are shown only for groups of at
least ``threshold`` children, sequence frequencies only for sequences shared by
at least ``threshold`` children, and no index plot (individual sequences) is
ever embedded.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import polars as pl

from ozamonitor.errors import InputError
from ozamonitor.privacy.disclosure import DEFAULT_THRESHOLD, publish
from ozamonitor.register.store import Register
from ozamonitor.report.document import Section, figure_html, note, paragraph, table_html, tr
from ozamonitor.trajectories.analysis import TrajectoryResults
from ozamonitor.trajectories.states import DEFAULT_CONFIG, TrajectoryConfig


def alphabet_html(config: TrajectoryConfig = DEFAULT_CONFIG, lang: str = "nl") -> str:
    """The alphabet as an HTML table: colour, code, label and precedence rule."""
    rank = {s.code: i + 1 for i, s in enumerate(config.states)}
    head = tr(lang, "<th></th><th>code</th><th>toestand</th><th>voorrang</th><th>regel</th>",
              "<th></th><th>code</th><th>state</th><th>precedence</th><th>rule</th>")
    rows = []
    for s in config.alphabet.states:
        sw = (f'<span style="display:inline-block;width:1.2em;height:1em;background:'
              f'{html.escape(s.colour)};border:1px solid #888"></span>')
        rows.append(f"<tr><td>{sw}</td><td class=\"txt\">{html.escape(s.code)}</td>"
                    f"<td class=\"txt\">{html.escape(s.label(lang))}</td>"
                    f"<td class=\"num\">{rank[s.code]}</td>"
                    f"<td class=\"txt\"><code>{html.escape(s.when)}</code></td></tr>")
    return (f'<div class="tablewrap"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


_PERIOD_NL = {"month": "maand", "week": "week", "quarter": "kwartaal", "year": "schooljaar"}


def _n_text(n: int, threshold: int) -> str:
    return f"<{threshold}" if 0 < n < threshold else f"{n:,}".replace(",", "\u202f")


def trajectories_section(
    register: Register | str | Path | None,
    results: TrajectoryResults | str | Path,
    lang: str = "nl",
    *,
    threshold: int = DEFAULT_THRESHOLD,
    config: TrajectoryConfig = DEFAULT_CONFIG,
) -> Section:
    """Report section: trajectories, their clusters and background.

    ``register`` is only used for the extraction date in the text (may be None);
    ``results`` is a :class:`TrajectoryResults` or the folder written by
    ``ozamonitor trajectories``.
    """
    from ozamonitor.sequences import plots

    res = results if isinstance(results, TrajectoryResults) else TrajectoryResults.load(results)
    reg = Register(register) if isinstance(register, str | Path) else register
    seq = res.sequences
    p = res.params
    parts: list[str] = []
    extraction = reg.extraction_date.isoformat() if reg is not None else p.get(
        "extraction_date", "?")
    parts.append(paragraph(tr(
        lang,
        f"Voor elk kind is per {_PERIOD_NL.get(p['period'], p['period'])} één toestand "
        f"bepaald uit de registerperioden "
        f"(inschrijving, OZA-deelname, vrijstelling, verzuim, wachtlijst, zorg, verblijf "
        f"in Nederland). Overlappen perioden, dan beslist de voorrangsregel hieronder; "
        f"een periode krijgt de toestand die de meeste dagen geldt. Uitlijning: "
        f"{p['alignment']}. Register-peildatum {extraction}. Geanalyseerd: "
        f"{_n_text(int(p['n_analysed']), threshold)} kinderen.",
        f"For every child one state per {p['period']} is derived from the register spells "
        f"(enrolment, OZA participation, exemption, absence, waiting list, care, residence "
        f"in the Netherlands). Where spells overlap the precedence rule below decides; a "
        f"period gets the state that holds on most of its days. Alignment: "
        f"{p['alignment']}. Register extraction date {extraction}. Analysed: "
        f"{_n_text(int(p['n_analysed']), threshold)} children.")))
    parts.append(alphabet_html(config, lang))
    if seq.n_sequences >= threshold:
        parts.append(figure_html(plots.plot_distribution(seq, lang=lang), caption=tr(
            lang, "Verdeling over toestanden per periode (chronogram)",
            "State distribution per period (chronogram)")))
        by_cluster = _all_safe(res.clusters, threshold)
        parts.append(figure_html(plots.plot_entropy(
            seq, res.clusters if by_cluster else None, lang=lang, group_label="cluster"),
            caption=tr(
            lang, "Transversale entropie (0 = iedereen in dezelfde toestand)",
            "Transversal entropy (0 = everybody in the same state)")))
    else:
        parts.append(note(tr(lang, "Te weinig kinderen voor figuren.",
                             "Too few children for figures.")))

    freq = res.tables.get("sequence_frequencies_all")
    if freq is not None:
        safe = freq.filter(pl.col("n") >= threshold)
        if safe.height:
            parts.append(table_html(
                safe.select("rank", "sequence", "n", "pct"), decimals=1,
                caption=tr(lang, "Meest voorkomende trajecten (toestand/aantal perioden)",
                           "Most frequent trajectories (state/number of periods)"),
                labels={"rank": "#", "sequence": tr(lang, "traject", "trajectory"),
                        "pct": "%"}))
        parts.append(note(tr(
            lang, f"Alleen trajecten die minstens {threshold} kinderen delen worden getoond.",
            f"Only trajectories shared by at least {threshold} children are shown.")))

    subsections: list[Section] = []
    if res.clusters is not None and res.k:
        subsections.append(_cluster_section(res, lang, threshold))
    for m in res.messages:
        parts.append(note(m))
    parts.append(note(tr(
        lang, "Individuele reeksen (sequences.parquet, index-plots) zijn microdata en worden "
        "niet gepubliceerd.",
        "Individual sequences (sequences.parquet, index plots) are microdata and are not "
        "published.")))
    return Section(id="trajectories", title=tr(lang, "Onderwijs-zorgtrajecten",
                                               "Education-care trajectories"),
                   html="\n".join(parts), subsections=subsections)


def _all_safe(clusters: np.ndarray | None, threshold: int) -> bool:
    if clusters is None:
        return False
    _, counts = np.unique(clusters.astype(str), return_counts=True)
    return bool((counts >= threshold).all())


def _cluster_section(res: TrajectoryResults, lang: str, threshold: int) -> Section:
    from ozamonitor.sequences import plots

    seq, clusters = res.sequences, res.clusters
    if clusters is None:
        raise InputError(f"{res.out}: the trajectories were not clustered")
    parts: list[str] = [paragraph(tr(
        lang,
        f"De trajecten zijn geclusterd met optimal matching ({res.params['method']}, "
        f"substitutiekosten {res.params['sm']}) en PAM/CLARA; k = {res.k}.",
        f"Trajectories were clustered with optimal matching ({res.params['method']}, "
        f"substitution costs {res.params['sm']}) and PAM/CLARA; k = {res.k}."))]
    sizes = (pl.DataFrame({"cluster": clusters.astype(str).tolist()})
             .group_by("cluster").len("n").sort("cluster"))
    parts.append(table_html(publish(sizes, "n", sum_groups=[[]]), caption=tr(
        lang, "Omvang van de clusters", "Cluster sizes"), labels={"n": tr(lang, "aantal",
                                                                          "count")}))
    if _all_safe(clusters, threshold):
        parts.append(figure_html(plots.plot_distribution(seq, clusters, lang=lang), caption=tr(
            lang, "Chronogram per cluster", "Chronogram by cluster")))
        parts.append(figure_html(plots.plot_mean_time(seq, clusters, lang=lang), caption=tr(
            lang, "Gemiddelde tijd in elke toestand per cluster",
            "Mean time in each state by cluster")))
        mt = res.tables.get("mean_time_cluster")
        if mt is not None:
            names = {s.code: s.label(lang) for s in seq.alphabet.states}
            wide = (mt.select("group", pl.col("state").replace(names), pl.col("mean").round(1))
                    .pivot(on="group", index="state", values="mean")
                    .rename({"state": tr(lang, "toestand", "state")}))
            parts.append(table_html(wide, decimals=1, caption=tr(
                lang, "Gemiddeld aantal perioden per toestand en cluster",
                "Mean number of periods per state and cluster")))
        ind = res.tables.get("indicators_cluster")
        if ind is not None:
            parts.append(table_html(ind.drop("n").rename({"group": "cluster"}), decimals=2,
                                    caption=tr(
                lang, "Gemiddelde kenmerken van de trajecten per cluster (turbulentie naar "
                "Elzinga)", "Mean sequence indicators by cluster (Elzinga's turbulence)")))
    else:
        parts.append(note(tr(lang, f"Een of meer clusters hebben minder dan {threshold} "
                             "kinderen: geen figuren per cluster.",
                             f"One or more clusters have fewer than {threshold} children: "
                             "no figures by cluster.")))
    ct = res.tables.get("crosstab_background")
    if ct is not None:
        sup = publish(ct.select("variable", "category", "cluster", "n"), "n",
                      sum_groups=[["variable", "category"], ["variable", "cluster"]])
        pct = ct.select("variable", "category", "cluster",
                        pl.col("row_pct").round(1).cast(pl.String).alias("pct"))
        joined = sup.join(pct, on=["variable", "category", "cluster"], how="left").with_columns(
            pct=pl.when(pl.col("n").str.contains(r"^\d+$")).then(pl.col("pct"))
            .otherwise(pl.lit("")))
        wide = (joined.with_columns(cell=pl.col("n") + pl.lit(" (") + pl.col("pct")
                                    + pl.lit("%)"))
                .with_columns(cell=pl.when(pl.col("pct") == "").then(pl.col("n"))
                              .otherwise(pl.col("cell")))
                .pivot(on="cluster", index=["variable", "category"], values="cell"))
        parts.append(table_html(wide, caption=tr(
            lang, "Achtergrondkenmerken per cluster: aantal (rijpercentage)",
            "Background by cluster: count (row percentage)")))
    mn = res.tables.get("mnlogit")
    if mn is not None:
        parts.append(table_html(
            mn.filter(pl.col("term") != "(intercept)").select(
                "cluster", "term", "odds_ratio", "ci_low", "ci_high", "p"),
            decimals=3, caption=tr(
                lang, "Multinomiale logit: relatieve kansverhoudingen t.o.v. het grootste "
                "cluster", "Multinomial logit: relative risk ratios against the largest "
                "cluster"),
            labels={"odds_ratio": "RRR", "ci_low": tr(lang, "95%-BI laag", "95% CI low"),
                    "ci_high": tr(lang, "95%-BI hoog", "95% CI high")}))
    return Section(id="trajectories-clusters", title=tr(lang, "Typen trajecten (clusters)",
                                                        "Types of trajectories (clusters)"),
                   html="\n".join(parts))


def section_from_folder(out: str | Path, lang: str = "nl") -> Section:
    """Convenience: the section from a results folder only."""
    return trajectories_section(None, Path(out), lang)


__all__ = ["alphabet_html", "section_from_folder", "trajectories_section"]

