"""The ``ozamonitor`` command.

Each command group lives in its own module exposing ``register(app)``; this
module only assembles them, so groups can evolve independently.
"""

from __future__ import annotations

import typer

from ozamonitor import __version__
from ozamonitor.cli import (
    attendance_cmds,
    causal_cmds,
    counting_cmds,
    did_cmds,
    funding_cmds,
    impact_cmds,
    publish_cmds,
    register_cmds,
    report_cmds,
    sequence_cmds,
    survey_cmds,
    synth_cmds,
    trajectory_cmds,
    web_cmds,
)
from ozamonitor.cli.common import OzamonitorGroup

app = typer.Typer(
    name="ozamonitor",
    help="Register, thuiszitter counts, trajectories and impact of education-care "
    "arrangements (OZA).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    cls=OzamonitorGroup,  # one place maps OzamonitorError to a message and exit code
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ozamonitor {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """ozamonitor command line."""


for _module in (
    register_cmds,
    synth_cmds,
    counting_cmds,
    sequence_cmds,
    trajectory_cmds,
    causal_cmds,
    did_cmds,
    impact_cmds,
    report_cmds,
    publish_cmds,
    attendance_cmds,
    funding_cmds,
    survey_cmds,
    web_cmds,
):
    _module.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
