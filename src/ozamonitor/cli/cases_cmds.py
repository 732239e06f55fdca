"""``ozamonitor web cases import-signals|import-oogo|ledger``: the case chain's records.

Django is imported inside the commands only (startup time).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from ozamonitor.cli.common import console, fail
from ozamonitor.cli.web_cmds import DATA_HELP, DB_HELP, _setup
from ozamonitor.errors import OzamonitorError


def _user(name: str | None):  # type: ignore[no-untyped-def]
    if not name:
        return None
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=name).first()
    if user is None:
        raise fail(f"--as {name!r}: no such user", code=2)
    return user


def register(web: typer.Typer) -> None:
    """Add ``cases`` to the ``web`` group."""
    cases = typer.Typer(help="Cases of the chain: import signals and OOGO agreements, "
                        "export the friction-budget ledger.", no_args_is_help=True)
    web.add_typer(cases, name="cases")

    @cases.command("import-signals")
    def import_signals(
        signals: Path | None = typer.Argument(None, help="Signals CSV of `ozamonitor "
                                              "signals` (omit with --register: computed)."),
        data_dir: Path = typer.Option(..., "--data-dir", help=DATA_HELP),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        register_path: Path | None = typer.Option(
            None, "--register", help="Register: gemeente, SWV and school of each pupil "
            "(and the signals themselves when no CSV is given)."),
        asof: str | None = typer.Option(None, "--asof", help="With --register and no CSV: "
                                        "signals up to this date (YYYY-MM-DD)."),
        since: str | None = typer.Option(None, "--from", help="Signals from this date."),
        episodes: Path | None = typer.Option(None, "--episodes",
                                             help="Episodes CSV (`signals --episodes`)."),
        gemeente: str | None = typer.Option(None, "--gemeente",
                                            help="Gemeente code for rows without one."),
        kinds: list[str] = typer.Option(["report_16h_4w", "lrv_4w"], "--signal",
                                        help="Signals that open a case (repeatable)."),
        as_user: str | None = typer.Option(None, "--as", help="Username for the audit log."),
    ) -> None:
        """Open one case per pupil and absence episode from signals (all or nothing)."""
        import polars as pl

        if signals is None and (register_path is None or asof is None):
            raise fail("give a signals CSV, or --register with --asof", code=2)
        _setup(data_dir, db)
        from ozamonitor.web.casework import importer

        try:
            ep = None
            if signals is not None:
                sig = importer.read_signals(signals)
                if episodes is not None:
                    ep = pl.read_csv(episodes, try_parse_dates=True)
            else:
                from ozamonitor.attendance.signals import signals_from_register

                res = signals_from_register(register_path, asof=dt.date.fromisoformat(asof),
                                            start=dt.date.fromisoformat(since)
                                            if since else None)
                sig, ep = res.signals, res.episodes
            locate = importer.locator_from_register(
                register_path, sig["person_id"].to_list()) if register_path else None
            out = importer.import_signals(sig, file=str(signals or register_path),
                                          locate=locate, gemeente=gemeente, episodes=ep,
                                          kinds=kinds, user=_user(as_user))
        except (OzamonitorError, ValueError) as e:
            raise fail(str(e), code=getattr(e, "exit_code", 1)) from None
        console.print(f"{len(out.created)} cases opened, {out.skipped} signals of "
                      "existing cases")

    @cases.command("import-oogo")
    def import_oogo(
        path: Path = typer.Argument(..., help="Agreements (YAML, TOML or JSON)."),
        data_dir: Path = typer.Option(..., "--data-dir", help=DATA_HELP),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        as_user: str | None = typer.Option(None, "--as", help="Username for the audit log."),
    ) -> None:
        """Record the regions' OOGO agreements (one already recorded is kept)."""
        _setup(data_dir, db)
        from ozamonitor.web.casework.importer import import_oogo as run

        try:
            out = run(path, user=_user(as_user))
        except OzamonitorError as e:
            raise fail(str(e), code=e.exit_code) from None
        console.print(f"{len(out.created)} agreements recorded, {out.skipped} known")

    @cases.command("ledger")
    def ledger(
        out: Path = typer.Option(..., "--out", help="ledger.xlsx (entries and totals) or "
                                 "ledger.csv (and ledger_totals.csv beside it)."),
        data_dir: Path = typer.Option(..., "--data-dir", help=DATA_HELP),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        gemeente: str | None = typer.Option(None, "--gemeente", help="Only this gemeente."),
    ) -> None:
        """Export the friction-budget ledger of every case for the accountant (0600)."""
        _setup(data_dir, db, migrate=False)
        from ozamonitor.casework.ledger import export_ledger
        from ozamonitor.web.casework.bridge import PREFETCH, to_engine
        from ozamonitor.web.casework.models import Case

        qs = Case.objects.filter(ledger__isnull=False).distinct().select_related(
            "gemeente", "swv", "director").prefetch_related(*PREFETCH)
        if gemeente:
            qs = qs.filter(gemeente__code=gemeente)
        try:
            export_ledger([to_engine(c) for c in qs], out)
        except OzamonitorError as e:
            raise fail(str(e), code=e.exit_code) from None
        console.print(f"ledger of {qs.count()} cases written to [bold]{out}[/]")
