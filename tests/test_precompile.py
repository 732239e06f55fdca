"""``precompile`` compiles (or loads) every sequence kernel and says where the cache is."""

from __future__ import annotations

from typer.testing import CliRunner

from ozamonitor.cli.main import app
from ozamonitor.sequences.distances import METHODS
from ozamonitor.sequences.precompile import cache_location, precompile


def test_precompile_runs_every_method_and_names_the_cache() -> None:
    lines: list[str] = []
    steps = precompile(lines.append)
    assert set(steps) == {f"seqdist {m}" for m in METHODS} | {"pam", "clara"}
    assert len(lines) == len(steps)
    loc = cache_location()
    assert loc.is_dir()
    assert any(p.suffix == ".nbi" for p in loc.iterdir())


def test_precompile_command_help() -> None:
    res = CliRunner().invoke(app, ["precompile", "--help"])
    assert res.exit_code == 0, res.output
    assert "once per installation" in res.output


def test_precompile_a_subset_from_the_module_entry_point() -> None:
    from ozamonitor.sequences.precompile import main

    assert main(["--quiet", "--methods", "LCS,HAM"]) == 0
    lines: list[str] = []
    steps = precompile(lines.append, ["LCS"])
    assert set(steps) == {"seqdist LCS", "pam", "clara"}
