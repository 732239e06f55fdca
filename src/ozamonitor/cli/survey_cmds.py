"""CLI commands: ``ozamonitor survey ...`` (the four-level questionnaire of arrangements).

Answers come from a file (``--answers``: JSON or Parquet as
:func:`ozamonitor.survey.submissions.save_answers` writes them) or from the
web application's database (``--data-dir``: through
``ozamonitor.web.survey.answers.load_submissions``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ozamonitor.cli.common import console, fail, print_frame
from ozamonitor.errors import OzamonitorError

#: Module the web application provides with ``load_submissions(data_dir)``.
WEB_SOURCE = "ozamonitor.web.survey.answers"

survey_app = typer.Typer(
    name="survey",
    help="The four-level questionnaire of arrangements: instrument, answers, exports, "
    "report and prototypes.",
    no_args_is_help=True,
)

_ANSWERS = typer.Option(None, "--answers", help="Answers file (.json or .parquet).")
_DATA_DIR = typer.Option(None, "--data-dir", help="The web application's data folder.")


def load_source(answers: Path | None, data_dir: Path | None) -> list[Any]:
    """Submissions from ``--answers`` or ``--data-dir`` (exactly one)."""
    import importlib

    from ozamonitor.survey.submissions import load_answers

    if (answers is None) == (data_dir is None):
        raise fail("give exactly one of --answers FILE or --data-dir DIR", code=2)
    if answers is not None:
        return load_answers(answers)
    try:
        web = importlib.import_module(WEB_SOURCE)
    except ImportError:
        raise fail("--data-dir needs the web application's survey store, which is not "
                   "installed in this version; export the answers and use --answers",
                   code=2) from None
    return load_answers(web.load_submissions(data_dir))


def _parse_ks(text: str) -> range:
    try:
        lo, _, hi = text.partition("..")
        return range(int(lo), int(hi or lo) + 1)
    except ValueError:
        raise fail(f"--k-range: {text!r} is not a range like 2..10", code=2) from None


def _lang(lang: str) -> str:
    if lang not in ("nl", "en"):
        raise fail(f"--lang must be nl or en, not {lang!r}", code=2)
    return lang


@survey_app.command("instrument")
def instrument_cmd(
    version: str = typer.Option(None, "--version", help="A shipped instrument version "
                                "(default: the newest)."),
    source: Path = typer.Option(None, "--source", help="Load an XLSForm (.xlsx or .yaml) "
                                "instead and check it."),
    out: Path = typer.Option(None, "--out", help="Write the instrument as an XLSForm .xlsx."),
    xform: Path = typer.Option(None, "--xform", help="Write the ODK XForm (XML) too."),
    lang: str = typer.Option("nl", "--lang", help="nl or en."),
) -> None:
    """Show (and write) the instrument: parts, questions, repeats and version."""
    import polars as pl

    from ozamonitor.files import atomic_write_text
    from ozamonitor.survey.instrument import available_versions, load_instrument, write_xlsform

    lang = _lang(lang)
    try:
        inst = load_instrument(source if source is not None else version)
        rows = []
        for g in inst.parts:
            qs = inst.in_part(g.name)
            rows.append({
                "part": g.name, "title": g.label(lang),
                "questions": sum(q.answerable for q in qs),
                "skip_rules": sum(q.relevant is not None for q in qs),
                "checks": sum(q.constraint is not None for q in qs),
                "repeats": ", ".join(r.name for r in inst.repeats if r.part == g.name),
            })
        print_frame(pl.DataFrame(rows), title=f"{inst.title(lang)} - version {inst.version}")
        console.print(f"shipped versions: {', '.join(available_versions())}")
        for w in inst.warnings:
            console.print(f"[yellow]pyxform:[/] {w}")
        if out is not None:
            write_xlsform(inst, out)
            console.print(f"wrote {out}")
        if xform is not None:
            atomic_write_text(xform, inst.xform)
            console.print(f"wrote {xform}")
    except OzamonitorError as e:
        raise fail(str(e), e.exit_code) from None


@survey_app.command("check")
def check_cmd(
    answers: Path = _ANSWERS,
    data_dir: Path = _DATA_DIR,
    lang: str = typer.Option("nl", "--lang", help="nl or en."),
) -> None:
    """Check every submission against its instrument (submitted parts in full)."""
    from ozamonitor.survey.instrument import load_instrument

    lang = _lang(lang)
    try:
        subs = load_source(answers, data_dir)
        bad = 0
        for s in subs:
            state = s.evaluate(load_instrument(s.instrument_version))
            for e in state.errors:
                bad += 1
                console.print(f"{s.arrangement_id} {s.wave} {s.part}: {e.message(lang)}",
                              highlight=False)
    except OzamonitorError as e:
        raise fail(str(e), e.exit_code) from None
    console.print(f"{len(subs)} submissions, {bad} problems")
    if bad:
        raise typer.Exit(1)


@survey_app.command("export")
def export_cmd(
    out: Path = typer.Option(..., "--out", help="The wide table's file; repeats and the "
                             "codebook go beside it."),
    answers: Path = _ANSWERS,
    data_dir: Path = _DATA_DIR,
    fmt: str = typer.Option(None, "--format", help="csv, xlsx, sav or dta (default: from "
                            "--out)."),
    wave: list[int] = typer.Option(None, "--wave", help="Only this wave (repeatable)."),
    lang: str = typer.Option("nl", "--lang", help="Language of labels: nl or en."),
    labels: bool = typer.Option(False, "--labels", help="CSV/xlsx: write answer labels "
                                "instead of codes."),
    drafts: bool = typer.Option(False, "--drafts", help="Include parts still in draft."),
) -> None:
    """Export answers: one row per arrangement and wave, repeats as long tables, codebook."""
    from ozamonitor.survey.export import export
    from ozamonitor.survey.frame import to_frame

    lang = _lang(lang)
    try:
        subs = load_source(answers, data_dir)
        frame = to_frame(subs, statuses=("submitted", "draft") if drafts else ("submitted",),
                         waves=wave or None)
        paths = export(frame, out, fmt=fmt, lang=lang,  # type: ignore[arg-type]
                       values="labels" if labels else "codes")
    except OzamonitorError as e:
        raise fail(str(e), e.exit_code) from None
    console.print(f"{frame.wide.height} rows (arrangement x wave); wrote "
                  + ", ".join(str(p) for p in paths), highlight=False)


@survey_app.command("report")
def report_cmd(
    out: Path = typer.Option(..., "--out", help="The HTML report."),
    answers: Path = _ANSWERS,
    data_dir: Path = _DATA_DIR,
    register: Path = typer.Option(None, "--register", help="Register folder: link "
                                  "prototypes to participants' outcomes."),
    internal: bool = typer.Option(False, "--internal", help="The study team's view: no "
                                  "suppression, open answers included. Never publish."),
    lang: str = typer.Option("nl", "--lang", help="nl or en."),
    threshold: int = typer.Option(10, "--threshold", help="Smallest published count."),
) -> None:
    """Response, distributions, changes over waves and prototypes as one HTML file."""
    from ozamonitor.cli.common import check_threshold
    from ozamonitor.report.survey import survey_report

    lang = _lang(lang)
    threshold = check_threshold(threshold)
    try:
        subs = load_source(answers, data_dir)
        arrangements = None
        if register is not None:
            from ozamonitor.register.store import Register

            arrangements = Register.open(register).read(
                "arrangements", ["arrangement_id"])["arrangement_id"].to_list()
        with console.status("building the report"):
            path = survey_report(subs, out, lang=lang, internal=internal,
                                 threshold=threshold, register=register,
                                 arrangements=arrangements)
    except OzamonitorError as e:
        raise fail(str(e), e.exit_code) from None
    console.print(f"wrote {path}" + (" [bold red](internal: do not publish)[/]"
                                     if internal else ""))


@survey_app.command("prototypes")
def prototypes_cmd(
    out: Path = typer.Option(..., "--out", help="Output folder."),
    answers: Path = _ANSWERS,
    data_dir: Path = _DATA_DIR,
    wave: int = typer.Option(None, "--wave", help="Use this wave (default: each "
                             "arrangement's latest complete one)."),
    k: int = typer.Option(None, "--k", help="Number of prototypes (default: best "
                          "silhouette)."),
    k_range: str = typer.Option("2..10", "--k-range", help="k to try, e.g. 2..10."),
    register: Path = typer.Option(None, "--register", help="Register folder: outcomes per "
                                  "prototype."),
    internal: bool = typer.Option(False, "--internal", help="Person counts unsuppressed."),
    lang: str = typer.Option("nl", "--lang", help="nl or en."),
) -> None:
    """Cluster arrangements into prototypes (Gower + PAM, k by silhouette)."""
    import polars as pl

    from ozamonitor.files import atomic_dir
    from ozamonitor.survey.prototypes import (
        describe_prototypes,
        find_prototypes,
        plot_prototypes,
        prototype_outcomes,
    )

    lang = _lang(lang)
    try:
        subs = load_source(answers, data_dir)
        res = find_prototypes(subs, wave=wave, ks=_parse_ks(k_range), k=k)
        outcomes = prototype_outcomes(res, register) if register is not None else None
        with atomic_dir(out) as tmp:
            res.assignments().write_csv(tmp / "prototypes.csv")
            pl.DataFrame({"k": list(res.silhouette),
                          "asw": list(res.silhouette.values())}).write_csv(tmp / "silhouette.csv")
            describe_prototypes(res, lang=lang).write_csv(tmp / "description.csv")
            plot_prototypes(res, lang=lang).savefig(tmp / "silhouette.png", dpi=110,
                                                    bbox_inches="tight")
            if outcomes is not None:
                if not internal:
                    from ozamonitor.survey.tables import protect_outcomes

                    outcomes = protect_outcomes(outcomes)
                outcomes.write_csv(tmp / "outcomes.csv")
    except OzamonitorError as e:
        raise fail(str(e), e.exit_code) from None
    print_frame(pl.DataFrame({"prototype": list(res.sizes()),
                              "arrangements": list(res.sizes().values()),
                              "medoid": res.medoids}),
                title=f"k = {res.k} (average silhouette {res.silhouette[res.k]:.3f})")
    console.print(f"wrote {out}/")


@survey_app.command("synth")
def synth_cmd(
    out: Path = typer.Option(..., "--out", help="Answers file (.json or .parquet)."),
    arrangements: Path = typer.Option(None, "--arrangements", help="A register folder or a "
                                      "CSV/Parquet file with arrangement_id (and optionally "
                                      "type, deviations, target_groups, lead_kind, "
                                      "financiers, sector)."),
    n: int = typer.Option(76, "--n", help="Without --arrangements: this many arrangements."),
    waves: str = typer.Option("2023,2024", "--waves", help="Comma-separated wave years."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Synthetic answers with planted arrangement types (for demos and tests)."""
    import polars as pl

    from ozamonitor.survey.submissions import save_answers
    from ozamonitor.survey.synth import synthetic_answers

    try:
        wave_list = [int(w) for w in waves.split(",") if w.strip()]
    except ValueError:
        raise fail(f"--waves: {waves!r} is not a list of years", code=2) from None
    try:
        if arrangements is None:
            arr: Any = [f"OZA{i + 1:03d}" for i in range(n)]
        elif arrangements.is_dir():
            from ozamonitor.register.store import Register

            arr = Register.open(arrangements).read("arrangements")
        elif arrangements.suffix.lower() == ".parquet":
            arr = pl.read_parquet(arrangements)
        else:
            arr = pl.read_csv(arrangements, infer_schema_length=0)
        subs = synthetic_answers(arr, waves=wave_list, seed=seed)
        save_answers(subs, out)
    except OzamonitorError as e:
        raise fail(str(e), e.exit_code) from None
    console.print(f"wrote {len(subs)} submissions to {out}")


@survey_app.command("prefill")
def prefill_cmd(
    answers: Path = typer.Option(..., "--answers", help="Answers file (.json or .parquet)."),
    from_wave: int = typer.Option(..., "--from", help="The previous wave."),
    to_wave: int = typer.Option(..., "--to", help="The wave to open."),
    out: Path = typer.Option(..., "--out", help="Answers file with the new wave added."),
) -> None:
    """Open a wave: prefilled drafts from every part submitted in the previous wave."""
    from ozamonitor.survey.submissions import load_answers, prefill_wave, save_answers

    try:
        subs = load_answers(answers)
        if any(s.wave == to_wave for s in subs):
            raise fail(f"wave {to_wave} already has answers in {answers}", code=2)
        new = prefill_wave(subs, from_wave=from_wave, to_wave=to_wave)
        save_answers([*subs, *new], out)
    except OzamonitorError as e:
        raise fail(str(e), e.exit_code) from None
    console.print(f"opened wave {to_wave}: {len(new)} prefilled drafts; wrote {out}")


def register(app: typer.Typer) -> None:
    """Add the ``survey`` command group to ``app``."""
    app.add_typer(survey_app, name="survey")
