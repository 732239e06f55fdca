"""Helpers shared by CLI modules: consoles, error exits, progress bars.

Errors: library code raises :class:`~ozamonitor.errors.OzamonitorError`
subclasses; :class:`OzamonitorGroup`, the root command group, turns any of them
into one red ``error:`` line on stderr and the error's ``exit_code``. Commands
therefore do not catch library errors themselves; they call :func:`fail` only
for problems with their own options, and :func:`naming_file` where a message
about the data should name the input file.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import typer
import typer.core
from rich.console import Console

from ozamonitor.errors import InputError, OzamonitorError, redact

if TYPE_CHECKING:
    from rich.progress import Progress

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` in red on stderr and return an Exit to raise.

    A number in the message that could be a BSN is shown as ``<BSN?>``
    (:func:`ozamonitor.errors.redact`).
    """
    err_console.print(f"[bold red]error:[/] {redact(message)}", highlight=False,
                      soft_wrap=True)
    return typer.Exit(code)


class OzamonitorGroup(typer.core.TyperGroup):
    """The root command group: an :class:`~ozamonitor.errors.OzamonitorError` raised by
    any command becomes one clear line (:func:`fail`) and the error's ``exit_code``.

    Passed as ``cls=`` to the root :class:`typer.Typer`, so it also applies under
    :class:`typer.testing.CliRunner` and to sub-groups. A full disk, whatever
    library reports it, is one line too. SIGTERM and SIGHUP end a command the
    way Ctrl-C does (:func:`ozamonitor.files.clean_on_signals`), so no
    temporary file is left behind. Other exceptions are bugs and keep their
    traceback.
    """

    #: Commands loaded on first use: ``name -> (module, first paragraph of its help)``.
    #: The module is imported (and its ``register(app)`` called) only when one of
    #: its commands runs or shows its own help, so ``ozamonitor --help`` imports no
    #: data library. Subclasses set it (see :mod:`ozamonitor.cli.main`).
    lazy_commands: ClassVar[Mapping[str, tuple[str, str]]] = {}
    _listing: bool = False

    def invoke(self, ctx: Any) -> Any:
        from ozamonitor.errors import DiskFullError
        from ozamonitor.files import clean_on_signals, is_disk_full

        try:
            with clean_on_signals():
                return super().invoke(ctx)
        except OzamonitorError as e:
            raise fail(str(e), code=e.exit_code) from None
        except Exception as e:
            if not is_disk_full(e):
                raise
            where = getattr(e, "filename", None) or "an output"
            raise fail(str(DiskFullError(where)), code=DiskFullError.exit_code) from None

    def list_commands(self, ctx: Any) -> list[str]:
        names = list(super().list_commands(ctx))
        return names + [n for n in self.lazy_commands if n not in names]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is not None:
            return cmd
        entry = self.lazy_commands.get(cmd_name)
        if entry is not None and self._listing:
            # the group's help lists commands: a light stand-in, no import
            return typer.core.TyperCommand(cmd_name, help=entry[1])
        modules = [entry[0]] if entry is not None else sorted(
            {m for m, _ in self.lazy_commands.values()})  # unknown name: load all, then look
        for module in modules:
            self.load_module(module)
        return super().get_command(ctx, cmd_name)

    def load_module(self, module: str) -> None:
        """Import ``module`` and add the commands its ``register(app)`` defines."""
        sub = typer.Typer()
        importlib.import_module(module).register(sub)
        group = typer.main.get_group(sub)
        for name, cmd in group.commands.items():
            self.commands.setdefault(name, cmd)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


@contextmanager
def naming_file(name: str | Path) -> Iterator[None]:
    """Inside the block, an :class:`~ozamonitor.errors.InputError` is reported as
    ``NAME: message`` (the input file the command read), with the error's exit code.

    Parameters
    ----------
    name : str or Path
        How to name the file in the message (``input.name`` or the path as given).
    """
    try:
        yield
    except InputError as e:
        raise fail(f"{name}: {e}", code=e.exit_code) from None


def _is_publication(manifest: Path) -> bool:
    """A publication folder's manifest (same file name as a register's, not a register)."""
    import json

    try:
        fmt = json.loads(manifest.read_text(encoding="utf-8")).get("format", "")
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(fmt, str) and fmt.startswith("ozamonitor-publication/")


def check_outputs(outputs: dict[str, Path | None], inputs: dict[str, Path | None] | None = None,
                  *, replaced: tuple[str, ...] = ()) -> None:
    """Refuse, before any work, outputs that collide with each other, an input or a register.

    A register is any folder holding a register manifest among the given paths
    and their parents; see :func:`ozamonitor.files.check_outputs`.
    """
    from ozamonitor.files import check_outputs as check
    from ozamonitor.register.store import MANIFEST

    registers: set[Path] = set()
    for p in (*outputs.values(), *(inputs or {}).values()):
        if p is None:
            continue
        here = Path(p).expanduser().resolve()
        registers.update(f for f in (here, *here.parents)
                         if (f / MANIFEST).is_file() and not _is_publication(f / MANIFEST))
    check(outputs, inputs=inputs, protected=sorted(registers), replaced=replaced)


def parse_date(value: str | None, option: str) -> dt.date | None:
    """``YYYY-MM-DD`` from a command-line option (None stays None); usage error otherwise."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}: {value!r} is not a date; use YYYY-MM-DD", code=2) from None


def require_date(value: str, option: str) -> dt.date:
    """``YYYY-MM-DD`` from a required command-line option; usage error otherwise."""
    d = parse_date(value, option)
    if d is None:
        raise fail(f"{option} is required; use YYYY-MM-DD", code=2)
    return d


@contextmanager
def progress(disable: bool = False) -> Iterator[Progress]:
    """A rich progress bar (on stderr) for long work."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=disable,
        transient=False,
    ) as p:
        yield p


def print_frame(df: Any, title: str | None = None, decimals: int = 3) -> None:
    """Print a (small) polars or pandas frame as a rich table."""
    import polars as pl
    from rich.table import Table

    if not isinstance(df, pl.DataFrame):
        df = pl.from_pandas(df)
    table = Table(title=title, show_lines=False, header_style="bold")
    for name, dtype in zip(df.columns, df.dtypes, strict=True):
        table.add_column(name, justify="right" if dtype.is_numeric() else "left")
    for row in df.iter_rows():
        table.add_row(*[
            "" if v is None else (f"{v:.{decimals}f}" if isinstance(v, float) else str(v))
            for v in row
        ])
    console.print(table)


@contextmanager
def staged_progress(disable: bool = False) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar with one task per stage, driven by ``callback(stage, done, total)``.

    The callback is the ``progress=`` argument that long-running library functions
    (``synth.generate``, ``impact_analysis``, ...) accept.
    """
    with progress(disable) as bar:
        tasks: dict[str, Any] = {}

        def callback(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield callback


UNSAFE_THRESHOLD_HELP = ("Allow a --threshold below the default (10); the output is then NOT "
                "safe to publish.")


def check_threshold(value: int, unsafe: bool = False) -> int:
    """Validate --threshold: at least the default (10) unless --unsafe-threshold."""
    from ozamonitor.privacy.disclosure import DEFAULT_THRESHOLD

    if value < 1:
        raise fail(f"--threshold must be at least 1 (default {DEFAULT_THRESHOLD}), got {value}")
    if value < DEFAULT_THRESHOLD:
        if not unsafe:
            raise fail(
                f"--threshold {value} is below the disclosure threshold {DEFAULT_THRESHOLD}: "
                "the output would not be safe to publish. Pass --unsafe-threshold to do it "
                "anyway (never for tables that leave the secure environment).")
        err_console.print(
            f"[bold yellow]warning:[/] --threshold {value} is below {DEFAULT_THRESHOLD}"
            + (": suppression is OFF" if value == 1 else "")
            + "; this output is NOT safe to publish.", highlight=False)
    return value
