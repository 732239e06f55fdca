"""CLI commands: counting (``count``, ``reconcile``, ``inspectie-export``, ``calibration``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from ozamonitor.cli.common import (
    UNSAFE_THRESHOLD_HELP,
    check_outputs,
    check_threshold,
    console,
    err_console,
    fail,
    parse_date,
)


def _suppressed_note(threshold: int) -> str:
    if threshold <= 1:
        return "NOT disclosure-controlled"
    return f"cells of 1 to {threshold - 1} children suppressed"


def _write_png(fig, path: Path, dpi: int = 120) -> None:  # type: ignore[no-untyped-def]
    """Save a figure atomically (:func:`ozamonitor.files.atomic_write`)."""
    from ozamonitor.files import atomic_write

    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")


def _open(register: Path):  # type: ignore[no-untyped-def]
    from ozamonitor.register.store import Register, RegisterError

    try:
        return Register(register)
    except RegisterError as e:
        raise fail(str(e)) from None


def _flow(counter, years: list[str]):  # type: ignore[no-untyped-def]
    from ozamonitor.counting.timeline import CountingError
    from ozamonitor.register.calendar import parse_school_year

    for y in years:
        try:
            parse_school_year(y)
        except ValueError as e:
            raise CountingError(str(e)) from None
    return counter.flow(years)


def _write_count_folder(counter, per_child, by: str, out: Path,  # type: ignore[no-untyped-def]
                        threshold: int, register_path: Path) -> None:
    """The publication folder of a count run (consistent with the folder's ledger)."""
    from ozamonitor.counting.publication import LEVELS, protect_counts
    from ozamonitor.privacy.folder import read_ledger, write_folder

    extra = tuple(b for b in by.split(",") if b and b not in LEVELS)
    res = protect_counts(counter, per_child, by=extra, threshold=threshold,
                         ledger=read_ledger(out))
    write_folder(res, out, source={"register": str(register_path),
                                   "definitions": [d.name for d in counter.definitions],
                                   "periods": sorted(per_child["period"].unique().to_list())})
    console.print(f"wrote publication {out} ({len(res.table_names)} tables; "
                  f"{int(res.suppressed.sum())} of {res.values.size} cells suppressed; "
                  f"{_suppressed_note(threshold)})")


def _write_attendance(reg, out: Path, *, by: str, peildatum: dt.date | None,  # type: ignore[no-untyped-def]
                      schoolyear: str | None, threshold: int) -> None:
    """The absence count table of ``count --attendance``: the school year so far on the
    peildatum, or the whole school year (up to the extraction date)."""
    from ozamonitor.attendance.counts import BY, aggregate_tables, published
    from ozamonitor.counting.output import write_table
    from ozamonitor.errors import OzamonitorError
    from ozamonitor.register.calendar import school_year_bounds

    if by not in BY:
        raise fail(f"--attendance counts by {', '.join(BY)}, not by {by!r}", code=2)
    asof = peildatum or min(school_year_bounds(str(schoolyear))[1], reg.extraction_date)
    try:
        table = aggregate_tables(reg, asof=asof, by=(by,), threshold=threshold)[
            f"attendance_{by}"]
    except OzamonitorError as e:
        raise fail(str(e), code=e.exit_code) from None
    write_table(published(table, threshold), out)
    console.print(f"wrote {out} (absence counts up to {asof.isoformat()} by {by}; "
                  f"{_suppressed_note(threshold)})")


def register(app: typer.Typer) -> None:
    """Add this group's commands to app."""

    @app.command("count")
    def count_cmd(
        register_path: Path = typer.Option(..., "--register", "-r", help="Register folder."),
        definitions: str = typer.Option(
            "all", "--definitions", "-d", help="'all' or comma-separated names."),
        peildatum: str | None = typer.Option(
            None, "--peildatum", help="Reference date(s) (stock), e.g. 2023-10-01 or "
            "2023-10-01,2024-10-01 (protected together)."),
        schoolyear: str | None = typer.Option(
            None, "--schoolyear", help="School year(s) (flow), e.g. 2022-2023 or "
            "2022-2023,2023-2024."),
        by: str = typer.Option(
            "nation", "--by", help="nation, gemeente, swv, school, sector, age, sex, "
            "parent_education, migration_background, household_type, income_decile."),
        fmt: str | None = typer.Option(
            None, "--format", help="csv, parquet or xlsx (default: from --out's suffix)."),
        out: Path = typer.Option(
            ..., "--out", "-o", help="Output file, or a folder (no suffix): the publication "
            "folder with every table."),
        per_child: Path | None = typer.Option(
            None, "--per-child", help="Also write which definitions count each child "
            "(MICRODATA: never publish)."),
        threshold: int = typer.Option(
            10, "--threshold", help="Suppress cells of 1..threshold-1 children (at least 10 "
            "unless --unsafe-threshold)."),
        unsafe_threshold: bool = typer.Option(
            False, "--unsafe-threshold", help=UNSAFE_THRESHOLD_HELP),
        definitions_file: list[Path] = typer.Option(
            [], "--definitions-file", help="Extra definitions (TOML/YAML); repeatable."),
        swv_rule: str = typer.Option(
            "largest_share", "--swv-rule",
            help="Gemeente in several SWVs: largest_share or fractional."),
        attendance_out: Path | None = typer.Option(
            None, "--attendance", help="Also write the absence counts of the same period by "
            "the same --by (nation, gemeente, swv or school): tiers, chronic absence rate, "
            "16-hour reports and 4-week absence (disclosure-controlled)."),
    ) -> None:
        """Count thuiszitters under one or more definitions (disclosure-controlled).

        All definitions, region levels (nation, gemeente, SWV, sector, school) and
        periods of one run are protected together. ``--out`` without a file suffix
        writes a publication folder (every table, relations, ledger).
        """
        from ozamonitor.counting.count import SWV_RULES, Counter
        from ozamonitor.counting.definition import DefinitionError
        from ozamonitor.counting.output import OutputError, infer_format, write_table
        from ozamonitor.counting.timeline import CountingError
        from ozamonitor.privacy.disclosure import render

        dates = [parse_date(x.strip(), "--peildatum") for x in (peildatum or "").split(",")
                 if x.strip()]
        years = [y.strip() for y in (schoolyear or "").split(",") if y.strip()]
        if bool(dates) == bool(years):
            raise fail("give exactly one of --peildatum (stock) or --schoolyear (flow)")
        if swv_rule not in SWV_RULES:
            raise fail(f"--swv-rule: unknown rule {swv_rule!r}; use {' or '.join(SWV_RULES)}")
        check_threshold(threshold, unsafe_threshold)
        check_outputs({"--out": out, "--per-child": per_child, "--attendance": attendance_out},
                      {"--register": register_path,
                       **{f"--definitions-file {f}": f for f in definitions_file}})
        folder = out.suffix == "" and fmt is None
        try:
            fmt_ = None if folder else infer_format(out, fmt)
            if per_child is not None:
                infer_format(per_child, None)
        except OutputError as e:
            raise fail(str(e)) from None
        reg = _open(register_path)
        try:
            counter = Counter(reg, definitions, definitions_file=definitions_file or None)
            pc = counter.stock(dates) if dates else _flow(counter, years)
            if folder:
                _write_count_folder(counter, pc, by, out, threshold, register_path)
            else:
                table = counter.table(pc, by, swv_rule=swv_rule,  # type: ignore[arg-type]
                                      threshold=threshold)
        except (DefinitionError, CountingError) as e:
            raise fail(str(e)) from None
        period = ", ".join(x.isoformat() for x in dates if x) or f"school year {schoolyear}"
        if not folder:
            if len(dates) + len(years) == 1:
                table = table.drop("period")
            if fmt_ != "parquet":
                table = render(table, "count", threshold=threshold)
            write_table(table, out, fmt_)
            console.print(f"wrote {out} ({table.height} rows; {period}; by {by}; "
                          f"{_suppressed_note(threshold)})")
        d = dates[-1] if dates else None
        schoolyear = years[-1] if years else None
        if attendance_out is not None:
            _write_attendance(reg, attendance_out, by=by, peildatum=d, schoolyear=schoolyear,
                              threshold=threshold)
        if by == "swv":
            multi = counter.multi_swv_gemeenten()
            if multi.height:
                console.print(
                    f"{multi['gemeente_code'].n_unique()} gemeente(n) lie in several SWVs; "
                    f"children not enrolled are attributed by rule '{swv_rule}'"
                    + (" (use --swv-rule fractional for fractional counts)"
                       if swv_rule == "largest_share" else ""))
        if per_child is not None:
            cols = ["person_id", "definition", "category", "period", "t", "gemeente",
                    "school", "sector", "age", "age_band"]
            write_table(pc.select(cols), per_child, private=True)
            err_console.print(
                f"[bold yellow]warning:[/] {per_child} is MICRODATA (one row per child): it is "
                "not disclosure-controlled and must never be published or leave the "
                "secure environment.", highlight=False)

    @app.command("reconcile")
    def reconcile_cmd(
        register_path: Path = typer.Option(..., "--register", "-r", help="Register folder."),
        schoolyear: str = typer.Option(..., "--schoolyear", help="School year, e.g. 2022-2023."),
        out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
        definitions: str = typer.Option("all", "--definitions", "-d"),
        definitions_file: list[Path] = typer.Option([], "--definitions-file"),
        threshold: int = typer.Option(
            10, "--threshold", help="Suppress cells of 1..threshold-1 children (at least 10 "
            "unless --unsafe-threshold)."),
        unsafe_threshold: bool = typer.Option(
            False, "--unsafe-threshold", help=UNSAFE_THRESHOLD_HELP),
        lang: str = typer.Option("nl", "--lang", help="nl or en."),
    ) -> None:
        """Waterfall, overlap matrix and trend (CSV + PNG), disclosure-controlled."""
        from ozamonitor.counting import reconcile as rc
        from ozamonitor.counting.count import Counter
        from ozamonitor.counting.definition import DefinitionError
        from ozamonitor.counting.output import write_table
        from ozamonitor.counting.publication import protect_counts, reconciliation_frames
        from ozamonitor.counting.timeline import CountingError
        from ozamonitor.privacy.disclosure import render
        from ozamonitor.privacy.folder import read_ledger, write_folder

        if lang not in ("nl", "en"):
            raise fail(f"--lang: use nl or en, not {lang!r}")
        check_threshold(threshold, unsafe_threshold)
        check_outputs({"--out": out}, {"--register": register_path})
        reg = _open(register_path)
        try:
            c = Counter(reg, definitions, definitions_file=definitions_file or None)
            pc = c.flow(schoolyear)
            # waterfall, overlap and the national tables: one publication (a folder)
            res = protect_counts(c, pc, reconcile=True, levels=("nation",),
                                 threshold=threshold, ledger=read_ledger(out))
            wf, ov = reconciliation_frames(res, schoolyear)
            trd = rc.publishable_trend(rc.trend(c), threshold,
                                       hide={schoolyear: rc.hidden_counts(wf)})
        except (DefinitionError, CountingError) as e:
            raise fail(str(e)) from None
        write_folder(res, out, source={"register": str(register_path),
                                       "school_year": schoolyear})
        labels = {x.name: x.display(lang) for x in c.definitions}
        for name, df, fig in (
            ("waterfall", wf, rc.waterfall_figure(wf, lang=lang, labels=labels)),
            ("overlap", ov, rc.overlap_figure(ov, lang=lang, labels=labels)),
            ("trend", trd, rc.trend_figure(trd, lang=lang, labels=labels)),
        ):
            if name == "waterfall":
                df = rc.render_waterfall(df, threshold)
            else:
                df = render(df, "count", threshold=threshold)
            write_table(df, out / f"{name}.csv")
            _write_png(fig, out / f"{name}.png")
        console.print(f"wrote waterfall, overlap and trend (.csv, .png) to {out} "
                      f"({_suppressed_note(threshold)})")

    @app.command("inspectie-export")
    def inspectie_cmd(
        register_path: Path = typer.Option(..., "--register", "-r", help="Register folder."),
        swv: str = typer.Option("all", "--swv", help="SWV id or 'all'."),
        quarter: str = typer.Option(..., "--quarter", help="Quarter, e.g. 2023Q4."),
        out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
        since: str | None = typer.Option(
            None, "--since", help="Start of the cumulative list (default: register start)."),
    ) -> None:
        """The Inspectie's cumulative quarterly thuiszitter registration per SWV (xlsx + csv)."""
        from ozamonitor.counting.inspectie import export
        from ozamonitor.counting.timeline import CountingError

        check_outputs({"--out": out}, {"--register": register_path})
        reg = _open(register_path)
        try:
            paths = export(reg, quarter, out, swv=swv, since=parse_date(since, "--since"))
        except CountingError as e:
            raise fail(str(e)) from None
        console.print(f"wrote {len(paths)} files to {out}")
        err_console.print(
            "[yellow]note:[/] these are anonymised person-level rows for the Inspectie, "
            "not a published table.", highlight=False)

    @app.command("calibration")
    def calibration_cmd(
        register_path: Path = typer.Option(..., "--register", "-r", help="Register folder."),
        scale: float | None = typer.Option(
            None, "--scale", help="Population scale (default: from the manifest, else 1)."),
        detail: bool = typer.Option(
            False, "--detail", help="Also print the flows by category and age band "
            "(synthetic registers only)."),
        allow_real: bool = typer.Option(
            False, "--allow-real", help="Also run on a register that is not synthetic "
            "(no 'synth' key in its manifest); observed counts of 1..9 are then suppressed."),
    ) -> None:
        """Observed flows vs the published national figures (synthetic registers)."""
        from ozamonitor.counting.calibration import (
            PUBLISHED,
            calibration_breakdown,
            calibration_table,
            is_synthetic,
            publishable_calibration,
        )
        from ozamonitor.counting.count import Counter
        from ozamonitor.counting.timeline import CountingError
        from ozamonitor.privacy.disclosure import DEFAULT_THRESHOLD

        reg = _open(register_path)
        real = not is_synthetic(reg)
        if real and not allow_real:
            raise fail(
                f"{register_path} is not a synthetic register (its manifest has no 'synth' "
                "key): calibration prints counts that are not disclosure-controlled. Pass "
                "--allow-real to run it with small counts suppressed.")
        if real and detail:
            raise fail("--detail is for synthetic registers only (its cells are not "
                       "disclosure-controlled)")
        try:
            counter = Counter(reg, sorted({d for d, *_ in PUBLISHED}))
            t = calibration_table(reg, scale=scale, counter=counter)
            if real:
                t = publishable_calibration(t, DEFAULT_THRESHOLD)
            detail_df = calibration_breakdown(reg, counter=counter) if detail else None
        except CountingError as e:
            raise fail(str(e)) from None
        from rich.table import Table

        rt = Table("definition", "school year", "published", "expected", "observed", "ratio",
                   "tolerance", "ok")
        for r in t.iter_rows(named=True):
            rt.add_row(r["definition"], r["school_year"], f"{r['published']:,}",
                       f"{r['expected']:,.0f}",
                       (f"<{DEFAULT_THRESHOLD}" if r.get("suppression") == "primary"
                        else "-" if r["observed"] is None else f"{r['observed']:,}"),
                       "-" if r["ratio"] is None else f"{r['ratio']:.3f}",
                       f"±{r['tolerance']:.3f}", "-" if r["ok"] is None else str(r["ok"]))
        console.print(rt)
        if detail_df is not None:
            wide = detail_df.pivot(on="age_band", index=["definition", "school_year",
                                                         "category"], values="count")
            from ozamonitor.counting.count import AGE_BANDS

            wide = wide.select("definition", "school_year", "category",
                               *[b for b in AGE_BANDS if b in wide.columns])
            dt_ = Table(*wide.columns)
            for row in wide.iter_rows():
                dt_.add_row(*["" if v is None else str(v) for v in row])
            console.print(dt_)
