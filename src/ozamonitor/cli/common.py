"""Helpers shared by CLI modules: consoles, error exits, progress bars."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` in red on stderr and return an Exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def parse_date(value: str | None, option: str) -> dt.date | None:
    """``YYYY-MM-DD`` from a command-line option (None stays None); usage error otherwise."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}: {value!r} is not a date; use YYYY-MM-DD", code=2) from None


@contextmanager
def progress(disable: bool = False) -> Iterator[Progress]:
    """A rich progress bar (on stderr) for long work."""
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
