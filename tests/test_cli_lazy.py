"""The root command loads command modules lazily: fast ``--help``, same commands."""

from __future__ import annotations

import subprocess
import sys

import typer
import typer.main
from typer.testing import CliRunner

from ozamonitor.cli.main import COMMANDS, app

MODULES = sorted({module for module, _ in COMMANDS.values()})


def _eager_commands() -> dict[str, tuple[str, str]]:
    """Every module's commands, registered eagerly on a plain Typer app."""
    import importlib

    found: dict[str, tuple[str, str]] = {}
    for module in MODULES:
        sub = typer.Typer()
        importlib.import_module(f"ozamonitor.cli.{module}").register(sub)
        for name, cmd in typer.main.get_group(sub).commands.items():
            text = (cmd.short_help or cmd.help or "").split("\n\n")[0].strip()
            found[name] = (module, text)
    return found


def test_table_matches_modules() -> None:
    eager = _eager_commands()
    assert set(COMMANDS) == set(eager), "update COMMANDS in ozamonitor/cli/main.py"
    for name, entry in COMMANDS.items():
        assert entry == eager[name], f"COMMANDS[{name!r}] should be {eager[name]!r}"


def test_help_imports_no_data_library() -> None:
    code = (
        "import sys\n"
        "from ozamonitor.cli.main import app\n"
        "try:\n"
        "    app(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('numpy', 'polars', 'pandas', 'duckdb', 'numba', 'django')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "HEAVY []" in out
    for name in COMMANDS:
        assert name in out


def test_lazy_command_runs_and_shows_its_help() -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["seqdist", "--help"])
    assert res.exit_code == 0, res.output
    assert "--method" in res.output
    res = runner.invoke(app, ["survey", "--help"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["no-such-command"])
    assert res.exit_code != 0
    assert "No such command" in res.output
