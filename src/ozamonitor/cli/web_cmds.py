"""CLI commands of the web application and the Besluit checks.

``ozamonitor web init|user|manage|cases``, ``ozamonitor serve``,
``ozamonitor besluit-check`` and ``ozamonitor arrangements export|import``.
Django is imported inside the commands only (startup time), and
``besluit-check`` does not need it at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import typer

from ozamonitor.cli.common import console, fail
from ozamonitor.errors import OzamonitorError

DATA_HELP = "Data folder (database, uploaded files, secret key)."
DB_HELP = ("Database URL: sqlite:///PATH or postgresql://USER@HOST:PORT/NAME "
           "(default: DATABASE_URL, else SQLite in the data folder).")


def _setup(data_dir: Path, db: str | None, migrate: bool = True) -> None:
    from ozamonitor.web.bootstrap import check_database, setup

    try:
        setup(data_dir, db, migrate=False)
        check_database()
        if migrate:
            from ozamonitor.web.bootstrap import migrate_database

            migrate_database()
    except OzamonitorError as e:
        raise fail(str(e), code=e.exit_code) from None


def init_web(data_dir: Path, db: str | None = None, demo: bool = False,
             register: Path | None = None, quiet: bool = False) -> Path | None:
    """Create or migrate the database; with ``demo`` load the demo (returns the accounts CSV)."""
    _setup(data_dir, db)
    if not demo:
        return None
    from ozamonitor.web.demo import load_demo, synthetic_register

    reg = register or synthetic_register(Path(data_dir) / "demo-register")
    out = Path(data_dir) / "demo-accounts.csv"
    try:
        accounts = load_demo(reg, accounts_csv=out)
    except OzamonitorError as e:
        raise fail(str(e), code=e.exit_code) from None
    if not quiet:
        from rich.table import Table

        table = Table(title=f"demo accounts (also in {out})", header_style="bold")
        for col in ("username", "password", "role", "organisation"):
            table.add_column(col)
        for r in accounts.rows:
            table.add_row(r["username"], r["password"], r["role"], r["organisation"])
        console.print(table)
    return out


def start_demo_app(out: Path, register: Path) -> subprocess.Popen[bytes]:
    """Start preparing the web demo of ``ozamonitor demo`` (in ``out``, from ``register``).

    It runs as a separate process (``ozamonitor web init --demo``), beside the report,
    so the password hashing of the demo accounts overlaps the analyses.
    """
    import shutil

    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, "-m", "ozamonitor.cli.main", "web", "init", "--data-dir", str(out),
           "--demo", "--register", str(register)]
    # the demo app is SQLite in its own folder with the product's settings, whatever
    # this process was configured with
    env = {k: v for k, v in os.environ.items()
           if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "OZAMONITOR_DB",
                        "OZAMONITOR_DATA_DIR")}
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def finish_demo_app(proc: subprocess.Popen[bytes], out: Path) -> str:
    """Wait for :func:`start_demo_app`; return the command that serves the demo."""
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise fail(f"web demo: {err.decode(errors='replace').strip()[-2000:]}")
    return f"ozamonitor serve --data-dir {out}"


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    web = typer.Typer(help="The web application: database, accounts, Django management.",
                      no_args_is_help=True)
    app.add_typer(web, name="web")
    from ozamonitor.cli import cases_cmds

    cases_cmds.register(web)
    arr = typer.Typer(help="Arrangements of the registry: export and import.",
                      no_args_is_help=True)
    app.add_typer(arr, name="arrangements")

    @web.command("init")
    def init(
        data_dir: Path = typer.Option(..., "--data-dir", help=DATA_HELP),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        demo: bool = typer.Option(False, "--demo", help="Load the synthetic demo."),
        register_path: Path | None = typer.Option(
            None, "--register", help="Register for --demo (default: a small synthetic one)."),
    ) -> None:
        """Create or migrate the database; --demo loads the synthetic demo and its accounts."""
        csv_path = init_web(data_dir, db, demo=demo, register=register_path)
        console.print(f"database ready in [bold]{data_dir}[/]"
                      + (f"; demo accounts in [bold]{csv_path}[/]" if csv_path else ""))

    @web.command("user")
    def user_cmd(
        username: str = typer.Argument(..., help="Username."),
        data_dir: Path = typer.Option(..., "--data-dir", help=DATA_HELP),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        role: str | None = typer.Option(None, "--role", help="Role to grant (see docs/web.md)."),
        org: str | None = typer.Option(None, "--org", help="Organisation code for the role."),
        superuser: bool = typer.Option(False, "--superuser", help="An administrator."),
        password_stdin: bool = typer.Option(False, "--password-stdin",
                                            help="Read the password from standard input."),
    ) -> None:
        """Create a user (or add a role to one); prints a generated password if none is given."""
        import secrets

        _setup(data_dir, db)
        from django.contrib.auth import get_user_model
        from django.contrib.auth.password_validation import validate_password
        from django.core.exceptions import ValidationError

        from ozamonitor.web.access import ROLES
        from ozamonitor.web.core.models import Membership, Organisation

        User = get_user_model()
        user = User.objects.filter(username=username).first()
        generated = None
        if user is None:
            password = sys.stdin.readline().rstrip("\n") if password_stdin else None
            if password is None:
                generated = password = secrets.token_urlsafe(12)
            try:
                validate_password(password, User(username=username))
            except ValidationError as e:
                raise fail(f"password: {' '.join(e.messages)}") from None
            user = User(username=username, is_superuser=superuser, is_staff=superuser)
            user.set_password(password)
            user.save()
        if role:
            if role not in ROLES:
                raise fail(f"--role {role!r}: choose from {', '.join(sorted(ROLES))}", code=2)
            organisation = Organisation.objects.filter(code=org or "").first()
            if organisation is None:
                raise fail(f"--org {org!r}: no organisation with this code", code=2)
            m = Membership(user=user, organisation=organisation, role=role)
            try:
                m.full_clean()
            except ValidationError as e:
                raise fail("; ".join(f"{k}: {' '.join(v)}" for k, v in e.message_dict.items()),
                           code=2) from None
            m.save()
        console.print(f"user [bold]{username}[/] ready"
                      + (f"; password: {generated}" if generated else ""))

    @web.command("manage", context_settings={"allow_extra_args": True,
                                             "ignore_unknown_options": True})
    def manage(
        ctx: typer.Context,
        data_dir: Path = typer.Option(..., "--data-dir", help=DATA_HELP),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        """Run a Django management command (e.g. createsuperuser, dumpdata, changepassword)."""
        _setup(data_dir, db, migrate=False)
        from django.core.management import execute_from_command_line

        execute_from_command_line(["ozamonitor web manage", *ctx.args])

    @app.command("serve")
    def serve(
        data_dir: Path = typer.Option(..., "--data-dir", help=DATA_HELP),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port", help="Port."),
        demo: bool = typer.Option(False, "--demo",
                                  help="Load the demo first when the data folder is new."),
        threads: int = typer.Option(8, "--threads", help="Worker threads per process."),
        workers: int = typer.Option(
            0, "--workers", help="Worker processes (gunicorn; default: one per core)."),
        server: str = typer.Option(
            "auto", "--server", help="gunicorn (Linux, macOS), waitress (portable, one "
            "process) or auto (gunicorn where it runs)."),
        publication: Path | None = typer.Option(
            None, "--publication", help="Publication folder the public dashboard serves "
            "(`ozamonitor publish`; default: $OZAMONITOR_PUBLICATION)."),
    ) -> None:
        """Run the web application (gunicorn or waitress), migrations applied; GET /healthz."""
        from ozamonitor.web.server import SERVERS

        if server not in SERVERS:
            raise fail(f"--server {server!r}: use {', '.join(SERVERS)}", code=2)
        if publication is not None:
            if not (publication / "manifest.json").exists():
                raise fail(f"--publication {publication}: no manifest.json (run "
                           "`ozamonitor publish --out` first)")
            os.environ["OZAMONITOR_PUBLICATION"] = str(publication.resolve())
        new = not (Path(data_dir) / "secret_key").exists()
        if host not in ("127.0.0.1", "localhost", "::1", "0.0.0.0"):
            hosts = os.environ.get("OZAMONITOR_ALLOWED_HOSTS", "127.0.0.1,localhost")
            os.environ["OZAMONITOR_ALLOWED_HOSTS"] = f"{hosts},{host}"
        if host in ("127.0.0.1", "localhost", "::1"):
            # a server on the loopback is a local demo: plain-HTTP cookies are fine there
            os.environ.setdefault("OZAMONITOR_INSECURE_COOKIES", "1")
        init_web(data_dir, db, demo=demo and new)
        from ozamonitor.web.server import choose_server, default_workers
        from ozamonitor.web.server import serve as run

        chosen = choose_server(server)
        how = (f"gunicorn, {workers or default_workers()} processes x {threads} threads"
               if chosen == "gunicorn" else f"waitress, {threads} threads")
        console.print(f"serving [bold]http://{host}:{port}/[/] ({how}; data in {data_dir}); "
                      "Ctrl-C stops")
        run(host=host, port=port, threads=threads, workers=workers, server=chosen)

    @app.command("besluit-check")
    def besluit_check(
        application: Path = typer.Argument(..., help="Application file (.yaml or .xlsx)."),
        fmt: str = typer.Option("table", "--format", help="table or json."),
        lang: str = typer.Option("nl", "--lang", help="nl or en."),
        rules: Path | None = typer.Option(None, "--rules", help="Another rule file (TOML)."),
        registered: int = typer.Option(
            0, "--registered", help="Arrangements already admitted in other applications "
            "(for the national cap of 80)."),
    ) -> None:
        """Check an application against every Besluit condition; exit 1 when one fails."""
        from ozamonitor.besluit import check_application, load_rules, read_application

        if fmt not in ("table", "json"):
            raise fail(f"--format {fmt!r}: use table or json", code=2)
        if lang not in ("nl", "en"):
            raise fail(f"--lang {lang!r}: use nl or en", code=2)
        try:
            ruleset = load_rules(rules) if rules else None
            app_ = read_application(application)
            report = check_application(
                app_.as_mapping(), rules=ruleset,
                context={"national": {"registered_arrangements": registered}})
        except OzamonitorError as e:
            raise fail(str(e), code=e.exit_code) from None
        if fmt == "json":
            typer.echo(json.dumps(report.as_dict(lang), ensure_ascii=False, indent=2))
        else:
            from rich.table import Table

            table = Table(header_style="bold", show_lines=False)
            for col in ("id", "status", "message"):
                table.add_column(col)
            style = {"pass": "green", "fail": "bold red", "unknown": "yellow"}
            for r in report.results:
                table.add_row(r.id, f"[{style[r.status]}]{r.status}[/]", r.message(lang))
            console.print(table)
            c = report.counts()
            console.print(f"{c['pass']} pass, {c['fail']} fail, {c['unknown']} unknown")
        if not report.ok:
            raise typer.Exit(1)

    @arr.command("export")
    def export(
        data_dir: Path = typer.Option(..., "--data-dir", help=DATA_HELP),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        fmt: str = typer.Option(..., "--format", help="csv, xlsx or register."),
        out: Path = typer.Option(..., "--out", help="Output file (a folder for register)."),
        base: Path | None = typer.Option(
            None, "--register", help="With --format register: a register to complete "
            "(its tables, with the registry's arrangements)."),
    ) -> None:
        """Export every arrangement (csv/xlsx exchange format, or register tables)."""
        if fmt not in ("csv", "xlsx", "register"):
            raise fail(f"--format {fmt!r}: use csv, xlsx or register", code=2)
        _setup(data_dir, db, migrate=False)
        from ozamonitor.files import atomic_write_bytes
        from ozamonitor.web.registry import exchange
        from ozamonitor.web.registry.models import Arrangement

        qs = Arrangement.objects.all()
        try:
            if fmt == "register":
                exchange.write_register(qs, out, base)
            else:
                data, _ctype, _ext = exchange.export_bytes(qs, fmt)
                atomic_write_bytes(out, data)
        except OzamonitorError as e:
            raise fail(str(e), code=e.exit_code) from None
        console.print(f"{qs.count()} arrangements written to [bold]{out}[/]")

    @arr.command("import")
    def import_(
        path: Path = typer.Argument(..., help="Exchange file (.xlsx or .csv)."),
        data_dir: Path = typer.Option(..., "--data-dir", help=DATA_HELP),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        as_user: str | None = typer.Option(None, "--as",
                                           help="Username recorded in the audit log."),
    ) -> None:
        """Import arrangements from the exchange xlsx/CSV; nothing is imported on an error."""
        _setup(data_dir, db)
        from django.contrib.auth import get_user_model

        from ozamonitor.web.registry.exchange import import_file

        user = None
        if as_user:
            user = get_user_model().objects.filter(username=as_user).first()
            if user is None:
                raise fail(f"--as {as_user!r}: no such user", code=2)
        try:
            result = import_file(path, user=user)
        except OzamonitorError as e:
            raise fail(str(e), code=e.exit_code) from None
        console.print(f"{result['created']} created, {result['updated']} updated")
