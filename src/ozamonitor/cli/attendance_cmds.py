"""CLI commands: daily absence (``signals``, ``attendance``)."""

from __future__ import annotations

from pathlib import Path

import typer

from ozamonitor.cli.common import (
    UNSAFE_THRESHOLD_HELP,
    check_outputs,
    check_threshold,
    console,
    fail,
    parse_date,
    require_date,
)

_CAL_HELP = ("School calendar: a TOML settings file or a holiday CSV (default: the packaged "
             "calendar, holidays by a stated rule; docs/attendance.md).")


def _signal_params(path: Path | None):  # type: ignore[no-untyped-def]
    import tomllib

    from ozamonitor.attendance.params import SignalParams

    if path is None:
        return SignalParams()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise fail(f"--params {path}: not a readable TOML file ({e})", code=2) from None
    return SignalParams.from_dict(data.get("signals", data))


def register(app: typer.Typer) -> None:
    """Add this group's commands to app."""

    @app.command("signals")
    def signals_cmd(
        register_path: Path | None = typer.Option(
            None, "--register", "-r", help="Register folder (its absence_days table)."),
        absence: Path | None = typer.Option(
            None, "--absence", help="CSV with exactly the absence_days columns (no register "
            "needed)."),
        asof: str = typer.Option(..., "--asof", help="Use absence up to this date (YYYY-MM-DD)."),
        start: str | None = typer.Option(
            None, "--from", help="Only signals on or after this date."),
        out: Path = typer.Option(..., "--out", "-o", help="Output CSV (MICRODATA: one row per "
                                 "signal and child; written 0600)."),
        episodes: Path | None = typer.Option(
            None, "--episodes", help="Also write the absence episodes (MICRODATA)."),
        region: str = typer.Option(
            "middle", "--region", help="Holiday region (north, middle, south) of schools not "
            "in the register (with --absence: all of them)."),
        calendar: Path | None = typer.Option(None, "--calendar", help=_CAL_HELP),
        params: Path | None = typer.Option(
            None, "--params", help="TOML with signal parameters (report_hours, timers, ...)."),
    ) -> None:
        """Absence signals per child: 16 hours in 4 weeks, LRV 4 weeks / 3 months, timers."""
        from ozamonitor.attendance.data import read_absence_csv
        from ozamonitor.attendance.signals import detect
        from ozamonitor.errors import OzamonitorError
        from ozamonitor.files import atomic_write, formula_safe
        from ozamonitor.register.store import Register, RegisterError

        if (register_path is None) == (absence is None):
            raise fail("give exactly one of --register or --absence", code=2)
        check_outputs({"--out": out, "--episodes": episodes},
                      {"--register": register_path, "--absence": absence,
                       "--calendar": calendar, "--params": params})
        d = require_date(asof, "--asof")
        f = parse_date(start, "--from")
        try:
            prm = _signal_params(params)
            if absence is not None:
                ab = read_absence_csv(absence, fallback_day_hours=prm.fallback_day_hours)
                schools = None
            else:
                reg = Register(register_path)  # type: ignore[arg-type]
                ab = reg.read("absence_days")
                schools = reg.read("schools")
            res = detect(ab, asof=d, start=f, schools=schools, region=region,
                         calendar=calendar, params=prm)
        except (OzamonitorError, RegisterError) as e:
            raise fail(str(e), code=getattr(e, "exit_code", 1)) from None
        with atomic_write(out, private=True) as tmp:
            formula_safe(res.signals).write_csv(tmp, date_format="%Y-%m-%d")
        if episodes is not None:
            with atomic_write(episodes, private=True) as tmp:
                formula_safe(res.episodes).write_csv(tmp, date_format="%Y-%m-%d")
        counts = dict(res.signals.group_by("signal").len().iter_rows())
        shown = ", ".join(f"{k} {counts[k]:,}" for k in sorted(counts)) or "none"
        console.print(f"wrote {out} ({res.signals.height:,} signals: {shown}; "
                      f"{res.signals['person_id'].n_unique():,} children; MICRODATA, 0600)")

    @app.command("attendance")
    def attendance_cmd(
        register_path: Path = typer.Option(..., "--register", "-r", help="Register folder."),
        asof: str = typer.Option(..., "--asof", help="Last day of the period (YYYY-MM-DD)."),
        period: str = typer.Option(
            "schoolyear", "--period", help="schoolyear (the school year so far) or 4w."),
        out: Path = typer.Option(..., "--out", "-o", help="Per-pupil CSV (MICRODATA; 0600)."),
        counts: Path | None = typer.Option(
            None, "--counts", help="Also write counts per region (disclosure-controlled)."),
        by: str = typer.Option("gemeente", "--by", help="Counts by school, gemeente, swv "
                               "or nation."),
        threshold: int = typer.Option(
            10, "--threshold", help="Suppress counts of 1..threshold-1 pupils (at least 10 "
            "unless --unsafe-threshold)."),
        unsafe_threshold: bool = typer.Option(
            False, "--unsafe-threshold", help=UNSAFE_THRESHOLD_HELP),
        calendar: Path | None = typer.Option(None, "--calendar", help=_CAL_HELP),
    ) -> None:
        """Attendance per pupil: present share, tier, improvement, early warning."""
        from ozamonitor.attendance.counts import BY, attendance_counts, published
        from ozamonitor.attendance.signals import signals_from_register
        from ozamonitor.attendance.tiers import PERIODS, attendance_per_pupil, period_bounds
        from ozamonitor.errors import OzamonitorError
        from ozamonitor.files import atomic_write, formula_safe
        from ozamonitor.register.store import Register, RegisterError

        d = require_date(asof, "--asof")
        if period not in PERIODS:
            raise fail(f"--period: {period!r}; use {' or '.join(PERIODS)}", code=2)
        if by not in BY:
            raise fail(f"--by: {by!r}; use {', '.join(BY)}", code=2)
        check_threshold(threshold, unsafe_threshold)
        check_outputs({"--out": out, "--counts": counts},
                      {"--register": register_path, "--calendar": calendar})
        try:
            reg = Register(register_path)
            per = attendance_per_pupil(reg, asof=d, period=period, calendar=calendar)
            table = None
            if counts is not None:
                lo, _ = period_bounds(d, period)
                sig = signals_from_register(reg, asof=d, start=lo, calendar=calendar).signals
                table = published(attendance_counts(per, by, signals=sig,
                                                    threshold=threshold), threshold)
        except (OzamonitorError, RegisterError) as e:
            raise fail(str(e), code=getattr(e, "exit_code", 1)) from None
        with atomic_write(out, private=True) as tmp:
            formula_safe(per).write_csv(tmp, date_format="%Y-%m-%d")
        console.print(f"wrote {out} ({per.height:,} pupils; MICRODATA, 0600)")
        if table is not None and counts is not None:
            with atomic_write(counts) as tmp:
                formula_safe(table).write_csv(tmp)
            console.print(f"wrote {counts} ({table.height:,} rows by {by}; counts of 1 to "
                          f"{threshold - 1} pupils suppressed)")
        tiers = dict(per.group_by("tier").len().iter_rows())
        n = max(per.height, 1)
        console.print("  " + ", ".join(f"{t} {tiers.get(t, 0) / n:.1%}"
                                       for t in ("good", "at_risk", "chronic", "severe")))
