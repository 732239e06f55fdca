"""The ``ozamonitor`` command.

Each command group lives in its own module exposing ``register(app)``; this
module only lists them. A module is imported when one of its commands runs (see
:class:`~ozamonitor.cli.common.OzamonitorGroup`), so ``ozamonitor --help`` and
``--version`` start without loading numpy, polars, DuckDB or numba.
"""

from __future__ import annotations

from typing import ClassVar

import typer

from ozamonitor import __version__
from ozamonitor.cli.common import OzamonitorGroup

#: command -> (module in ``ozamonitor.cli``, first paragraph of its help), in the
#: order ``--help`` lists them. ``tests/test_cli_lazy.py`` checks it against the
#: modules; a command missing here still runs (all modules are then loaded).
COMMANDS: dict[str, tuple[str, str]] = {
    "import": (
        "register_cmds",
        "Import CSV, Parquet or Excel files into a register (all or nothing).",
    ),
    "validate": (
        "register_cmds",
        "Validate a register: schema, codes, keys, dates, ages, references, overlaps.",
    ),
    "info": (
        "register_cmds",
        "Show a register's tables, date ranges and pupils per sector on 1 October.",
    ),
    "export-template": (
        "register_cmds",
        "Write empty source files (one per table, bsn instead of person_id) and a mapping example.",
    ),
    "synth": (
        "synth_cmds",
        "Generate a synthetic national register (all tables, school years 2014-2015 "
        "to\n2025-2026) with planted OZA effects recorded in the manifest.",
    ),
    "geometry": (
        "synth_cmds",
        "Write synthetic gemeente and SWV boundaries (GeoJSON) for a register's regions.",
    ),
    "count": (
        "counting_cmds",
        "Count thuiszitters under one or more definitions (disclosure-controlled).",
    ),
    "reconcile": (
        "counting_cmds",
        "Waterfall, overlap matrix and trend (CSV + PNG), disclosure-controlled.",
    ),
    "inspectie-export": (
        "counting_cmds",
        "The Inspectie's cumulative quarterly thuiszitter registration per SWV (xlsx + csv).",
    ),
    "calibration": (
        "counting_cmds",
        "Observed flows vs the published national figures (synthetic registers).",
    ),
    "publish": (
        "publish_cmds",
        "Compute every public table (thuiszitters per definition, stock and flow, per\n"
        "nation, SWV, gemeente, sector and school; the OZA monitor), protect them jointly\n"
        "and write the publication folder the dashboard serves.",
    ),
    "audit-disclosure": (
        "disclosure_cmds",
        "Attacker intervals of every suppressed cell; exit 1 if one is too narrow.",
    ),
    "seqdist": (
        "sequence_cmds",
        "Pairwise sequence distances as TraMineR's seqdist (rows in input order).",
    ),
    "seqdistmc": (
        "sequence_cmds",
        "Multichannel distances as TraMineR's seqdistmc (rows in input order).",
    ),
    "precompile": (
        "sequence_cmds",
        "Compile the sequence kernels now (once per installation), so analyses start fast.",
    ),
    "trajectories": (
        "trajectory_cmds",
        "Build, cluster and describe education-care trajectories; write tables and figures.",
    ),
    "match": (
        "causal_cmds",
        "Propensity-score nearest-neighbour matching (MatchIt 4.5 rules) with balance table.",
    ),
    "did": (
        "did_cmds",
        "Staggered DiD (Callaway & Sant'Anna, as R's did): ATT(g,t) and aggregations.",
    ),
    "impact": (
        "impact_cmds",
        "Subgroups, matching and difference-in-differences for the OZA experiment.",
    ),
    "report": (
        "report_cmds",
        "Write the self-contained HTML report (counts, absence, trajectories, impact).",
    ),
    "demo": (
        "report_cmds",
        "Generate a small synthetic population, validate it, summarise it, write a report.",
    ),
    "signals": (
        "attendance_cmds",
        "Absence signals per child: 16 hours in 4 weeks, LRV 4 weeks / 3 months, timers.",
    ),
    "attendance": (
        "attendance_cmds",
        "Attendance per pupil: present share, tier, improvement, early warning.",
    ),
    "funding": (
        "funding_cmds",
        "Who pays for each component of a case: payers, laws, the rule and the facts used.",
    ),
    "funding-rules": (
        "funding_cmds",
        "The national rules in order of precedence (and a region matrix's entries).",
    ),
    "funding-summary": (
        "funding_cmds",
        "Across arrangements: components by kind and payer, and where the gaps fall.",
    ),
    "serve": (
        "web_cmds",
        "Run the web application (gunicorn or waitress), migrations applied; GET /healthz.",
    ),
    "besluit-check": (
        "web_cmds",
        "Check an application against every Besluit condition; exit 1 when one fails.",
    ),
    "survey": (
        "survey_cmds",
        "The four-level questionnaire of arrangements: instrument, answers, exports, "
        "report and prototypes.",
    ),
    "web": ("web_cmds", "The web application: database, accounts, Django management."),
    "arrangements": ("web_cmds", "Arrangements of the registry: export and import."),
}


class _Root(OzamonitorGroup):
    lazy_commands: ClassVar[dict[str, tuple[str, str]]] = {
        name: (f"ozamonitor.cli.{module}", text) for name, (module, text) in COMMANDS.items()
    }


app = typer.Typer(
    name="ozamonitor",
    help="Register, thuiszitter counts, trajectories and impact of education-care "
    "arrangements (OZA).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    cls=_Root,  # one place maps OzamonitorError to a message and exit code; lazy commands
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


if __name__ == "__main__":  # pragma: no cover
    app()
