"""Tables of the questionnaire: response, distributions and changes over waves, disclosure-safe.

With 76 arrangements a small answer category can point at one arrangement
("the one arrangement funded from the Zvw"), so every published
distribution of answers passes disclosure control: cells of 1 to 9
arrangements are suppressed, with secondary suppression so that no hidden
cell follows from a published total (:func:`protect`, the one adapter to
:mod:`ozamonitor.privacy`). ``internal=True`` gives the study team's
unsuppressed view. Numbers (hours, budgets) are published as quartiles only
when at least ``threshold`` arrangements answered; no minimum or maximum.

Response counts (how many arrangements submitted a part) say nothing about
the answers and are not suppressed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl

from ozamonitor.survey.answers import completeness
from ozamonitor.survey.frame import SurveyFrame
from ozamonitor.survey.instrument import Instrument, Question, load_instrument
from ozamonitor.survey.submissions import Submission

__all__ = [
    "DEFAULT_THRESHOLD",
    "changes_over_waves",
    "distribution",
    "format_count",
    "numeric_summary",
    "protect",
    "protect_outcomes",
    "response_table",
]

DEFAULT_THRESHOLD = 10
TOTAL = "total"
SYMBOL = "x"


def protect(table: pl.DataFrame, value: str, sum_groups: Sequence[Sequence[str]], *,
            total_col: str, threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """Disclosure control of a count table: the one call into :mod:`ozamonitor.privacy`.

    Parameters
    ----------
    table : polars.DataFrame
        Dimension columns and a count column ``value``; within each sum group
        the row whose ``total_col`` is ``"total"`` holds the group's total.
    value : str
        The count column.
    sum_groups : sequence of sequence of str
        Columns whose equal values form a group adding up to its total row.
    total_col : str
        The column that marks total rows with ``"total"``.
    threshold : int, default 10

    Returns
    -------
    polars.DataFrame
        The table with ``value`` null where suppressed and a ``suppression``
        column (``primary``, ``secondary`` or null; displayed alike, see
        :func:`format_count`). Protected by the joint engine
        (:func:`ozamonitor.privacy.tidy.protect_tidy`): secondary suppression and
        the attacker-interval check.
    """
    from ozamonitor.privacy.tidy import protect_tidy

    return protect_tidy(table, value, sum_groups, total_col=total_col, total=TOTAL,
                        threshold=threshold)[0]


def format_count(value: Any, flag: Any, threshold: int = DEFAULT_THRESHOLD) -> str:
    """A protected count as text: ``x`` for every suppressed cell, else the number.

    Primary and secondary suppressions read alike: ``<10`` would tell a reader
    that the cell is 1..9 and not a complement (``threshold`` is kept for callers).
    """
    if flag in ("primary", "secondary"):
        return SYMBOL
    return "" if value is None else str(value)


def protect_outcomes(out: pl.DataFrame, *, threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """Person counts of :func:`~ozamonitor.survey.prototypes.prototype_outcomes`, protected.

    Participants, participations, ended and each end reason per prototype
    pass :func:`protect` (the end reasons add up to ``ended``); the counts
    become display text (``<10`` primary, ``x`` secondary suppression).
    """
    counts = ["participants", "participations", "ended",
              *[c for c in out.columns if c.startswith("end_")]]

    rows = []
    for r in out.iter_rows(named=True):
        p = r["prototype"]
        rows.append({"prototype": p, "group": "participants", "category": TOTAL,
                     "measure": "participants", "count": r["participants"]})
        rows.append({"prototype": p, "group": "participations", "category": TOTAL,
                     "measure": "participations", "count": r["participations"]})
        rows.append({"prototype": p, "group": "ended", "category": TOTAL, "measure": "ended",
                     "count": r["ended"]})
        for c in counts:
            if c.startswith("end_"):
                rows.append({"prototype": p, "group": "ended", "category": c, "measure": c,
                             "count": r[c]})
    tidy = pl.DataFrame(rows)
    safe = protect(tidy, "count", [["prototype", "group"]], total_col="category",
                   threshold=threshold)
    safe = safe.with_columns(pl.struct("count", "suppression").map_elements(
        lambda s: format_count(s["count"], s["suppression"], threshold),
        return_dtype=pl.String).alias("count"))
    wide = safe.pivot(on="measure", index="prototype", values="count")
    return out.drop(counts).join(wide, on="prototype", how="left")


# ---------------------------------------------------------------- response


def response_table(submissions: Iterable[Submission], instrument: Instrument | None = None, *,
                   arrangements: Sequence[str] | None = None) -> pl.DataFrame:
    """Response and completeness per wave and part.

    Parameters
    ----------
    submissions : iterable of Submission
    instrument : Instrument, optional
        For the part names (default: newest shipped).
    arrangements : sequence of str, optional
        The arrangements asked in every wave (e.g. the register's); default:
        every arrangement with a submission in any wave.

    Returns
    -------
    polars.DataFrame
        ``wave, part, asked, submitted, draft, not_started, response,
        completeness`` (mean share answered of the parts started).
    """
    inst = instrument or load_instrument()
    subs = list(submissions)
    asked = sorted(set(arrangements) if arrangements is not None
                   else {s.arrangement_id for s in subs})
    rows = []
    waves = sorted({s.wave for s in subs})
    by_key = {s.key: s for s in subs}
    for w in waves:
        for part in inst.part_names:
            sub = [by_key[(a, w, part)] for a in asked if (a, w, part) in by_key]
            n_sub = sum(s.status == "submitted" for s in sub)
            n_draft = sum(s.status == "draft" for s in sub)
            shares = [
                completeness(s_inst, part, s.answers).share
                for s in sub
                for s_inst in [inst if s.instrument_version == inst.version
                               else load_instrument(s.instrument_version)]
            ]
            rows.append({
                "wave": w, "part": part, "asked": len(asked), "submitted": n_sub,
                "draft": n_draft, "not_started": len(asked) - len(sub),
                "response": n_sub / len(asked) if asked else None,
                "completeness": sum(shares) / len(shares) if shares else None,
            })
    schema = {"wave": pl.Int32, "part": pl.String, "asked": pl.Int64, "submitted": pl.Int64,
              "draft": pl.Int64, "not_started": pl.Int64, "response": pl.Float64,
              "completeness": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


# ---------------------------------------------------------------- distributions


def _categorical_counts(frame: SurveyFrame, q: Question, lang: str,
                        waves: Sequence[int]) -> pl.DataFrame:
    """Tidy counts: question, choice (multi) or '', category, label, wave, count."""
    wide = frame.wide.filter(pl.col("wave").is_in(list(waves)))
    rows: list[dict[str, Any]] = []
    total_label = "totaal beantwoord" if lang == "nl" else "total answered"
    for w in waves:
        ww = wide.filter(pl.col("wave") == w)
        if q.type == "select_one":
            col = ww.get_column(q.name)
            for c in q.choices:
                rows.append({"choice": "", "category": c.name, "label": c.label(lang),
                             "wave": w, "count": int((col == c.name).sum())})
            rows.append({"choice": "", "category": TOTAL, "label": total_label, "wave": w,
                         "count": int(col.is_not_null().sum())})
        else:
            for c in q.choices:
                col = ww.get_column(f"{q.name}_{c.name}")
                yes = int((col == 1).sum())
                n = int(col.is_not_null().sum())
                sel = "gekozen" if lang == "nl" else "selected"
                nsel = "niet gekozen" if lang == "nl" else "not selected"
                rows += [
                    {"choice": c.name, "category": "selected",
                     "label": f"{c.label(lang)}: {sel}", "wave": w, "count": yes},
                    {"choice": c.name, "category": "not_selected",
                     "label": f"{c.label(lang)}: {nsel}", "wave": w, "count": n - yes},
                    {"choice": c.name, "category": TOTAL,
                     "label": f"{c.label(lang)}: {total_label}", "wave": w, "count": n},
                ]
    return pl.DataFrame(rows, schema={"choice": pl.String, "category": pl.String,
                                      "label": pl.String, "wave": pl.Int32,
                                      "count": pl.Int64}).with_columns(
        question=pl.lit(q.name))


def distribution(frame: SurveyFrame, question: str, *, waves: Sequence[int] | None = None,
                 lang: str = "nl", internal: bool = False,
                 threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """How the arrangements answered one choice question, per wave.

    Parameters
    ----------
    frame : SurveyFrame
    question : str
        A ``select_one`` or ``select_multiple`` question (outside repeats).
    waves : sequence of int, optional
        Default: every wave in the frame.
    lang : str, default "nl"
    internal : bool, default False
        The study team's view without suppression.
    threshold : int, default 10

    Returns
    -------
    polars.DataFrame
        ``question, choice, category, label, wave, count, share, suppression``:
        one row per category (for a multiple choice: selected / not selected
        per option) plus a ``total`` row per group; ``count`` and ``share``
        null where suppressed.
    """
    q = frame.instrument.question(question)
    if q.type not in ("select_one", "select_multiple") or q.repeat is not None:
        raise ValueError(f"{question} is not a choice question outside a repeat")
    ws = list(waves) if waves is not None else frame.waves()
    t = _categorical_counts(frame, q, lang, ws)
    if internal:
        t = t.with_columns(suppression=pl.lit(None, pl.String))
    else:
        t = protect(t, "count", [["question", "choice", "wave"]], total_col="category",
                    threshold=threshold)
    tot = t.filter(pl.col("category") == TOTAL).select("choice", "wave",
                                                      pl.col("count").alias("_n"))
    t = t.join(tot, on=["choice", "wave"], how="left").with_columns(
        share=pl.when(pl.col("category") == TOTAL).then(None)
        .otherwise(pl.col("count") / pl.col("_n"))
    ).drop("_n")
    return t.select("question", "choice", "category", "label", "wave", "count", "share",
                    "suppression")


def numeric_summary(frame: SurveyFrame, question: str, *, waves: Sequence[int] | None = None,
                    internal: bool = False, threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """Quartiles of a number question per wave (withheld below ``threshold`` answers).

    Returns ``question, wave, n, p25, median, p75`` (and ``mean`` internally).
    """
    ws = list(waves) if waves is not None else frame.waves()
    rows = []
    for w in ws:
        col = frame.wide.filter(pl.col("wave") == w).get_column(question).drop_nulls()
        col = col.cast(pl.Float64)
        n = col.len()
        ok = internal or n >= threshold
        row = {"question": question, "wave": w, "n": n,
               "p25": col.quantile(0.25) if ok and n else None,
               "median": col.median() if ok and n else None,
               "p75": col.quantile(0.75) if ok and n else None}
        if internal:
            row["mean"] = col.mean() if n else None
        rows.append(row)
    schema = {"question": pl.String, "wave": pl.Int32, "n": pl.Int64, "p25": pl.Float64,
              "median": pl.Float64, "p75": pl.Float64}
    if internal:
        schema["mean"] = pl.Float64
    out = pl.DataFrame(rows, schema=schema)
    if not internal:  # the number answering is itself a count of arrangements
        out = out.with_columns(pl.when((pl.col("n") > 0) & (pl.col("n") < threshold))
                               .then(None).otherwise(pl.col("n")).alias("n"))
    return out


def changes_over_waves(frame: SurveyFrame, *, from_wave: int, to_wave: int,
                       internal: bool = False,
                       threshold: int = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """Per question: of the arrangements answering in both waves, how many changed their answer.

    Returns ``question, part, both, changed, unchanged, suppression``
    (multiple choices compare the whole set of options chosen).
    """
    inst = frame.instrument
    a = frame.wide.filter(pl.col("wave") == from_wave)
    b = frame.wide.filter(pl.col("wave") == to_wave)
    j = a.join(b, on="arrangement_id", suffix="__b")
    rows = []
    for q in inst.questions:
        if q.repeat is not None or not q.answerable or q.type == "text":
            continue
        cols = [f"{q.name}_{c}" for c in q.choice_names] if q.type == "select_multiple" \
            else [q.name]
        both = pl.all_horizontal([pl.col(c).is_not_null() & pl.col(f"{c}__b").is_not_null()
                                  for c in cols])
        diff = pl.any_horizontal([pl.col(c) != pl.col(f"{c}__b") for c in cols])
        s = j.select(both=both.sum(), changed=(both & diff).sum()).row(0)
        nb, nc = int(s[0]), int(s[1])
        rows += [
            {"question": q.name, "part": q.part, "category": "changed", "count": nc},
            {"question": q.name, "part": q.part, "category": "unchanged", "count": nb - nc},
            {"question": q.name, "part": q.part, "category": TOTAL, "count": nb},
        ]
    t = pl.DataFrame(rows, schema={"question": pl.String, "part": pl.String,
                                   "category": pl.String, "count": pl.Int64})
    if internal:
        t = t.with_columns(suppression=pl.lit(None, pl.String))
    else:
        t = protect(t, "count", [["question"]], total_col="category", threshold=threshold)
    wide = t.pivot(on="category", index=["question", "part"], values="count")
    flags = t.group_by("question", maintain_order=True).agg(
        suppression=pl.col("suppression").drop_nulls().first())
    return (wide.rename({TOTAL: "both"}).join(flags, on="question", how="left")
            .select("question", "part", "both", "changed", "unchanged", "suppression"))
