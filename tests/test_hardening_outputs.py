"""Outputs never overwrite an input, each other or a register; person-level files are private."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ozamonitor.cli.main import app
from ozamonitor.errors import ConfigurationError
from ozamonitor.files import check_outputs
from ozamonitor.register.store import Register

runner = CliRunner()


def _mode(p: Path) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def _count(reg: Register, *args: object) -> tuple[int, str]:
    res = runner.invoke(app, ["count", "--register", str(reg.path), "--definitions", "ocw2016",
                              "--peildatum", "2023-10-01", *map(str, args)])
    return res.exit_code, res.output


def test_check_outputs_rules(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "sub" / ".." / "a.csv"
    with pytest.raises(ConfigurationError, match=r"--b .* is the same file as --a"):
        check_outputs({"--a": a, "--b": b})
    with pytest.raises(ConfigurationError, match="same file as the input --input"):
        check_outputs({"--out": a}, inputs={"--input": b})
    with pytest.raises(ConfigurationError, match="inside the register"):
        check_outputs({"--out": tmp_path / "reg" / "x.parquet"}, protected=[tmp_path / "reg"])
    with pytest.raises(ConfigurationError, match="would replace the folder that holds"):
        check_outputs({"--out": tmp_path}, inputs={"--input": a}, replaced=("--out",))
    # a folder written into (not replaced) may hold the inputs; None is skipped
    check_outputs({"--out": tmp_path, "--per-child": None}, inputs={"--input": a})


def test_count_refuses_per_child_over_the_published_file(stock_reg: Register,
                                                         tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    code, text = _count(stock_reg, "--out", out, "--per-child", out)
    assert code == 2, text
    assert "--per-child" in text and "same file as --out" in text
    assert not out.exists()


def test_count_refuses_to_write_into_a_register(stock_reg: Register, tmp_path: Path) -> None:
    target = stock_reg.path / "persons.parquet"
    before = target.read_bytes()
    code, text = _count(stock_reg, "--out", target)
    assert code == 2, text
    assert "inside the register" in text
    assert target.read_bytes() == before
    code, text = _count(stock_reg, "--out", tmp_path / "c.csv", "--per-child",
                        stock_reg.path / "sub" / "pc.csv")
    assert code == 2 and "inside the register" in text


def test_per_child_rows_are_private(stock_reg: Register, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        code, text = _count(stock_reg, "--out", tmp_path / "pub" / "c.csv",
                            "--per-child", tmp_path / "micro" / "pc.csv")
    finally:
        os.umask(old)
    assert code == 0, text
    assert _mode(tmp_path / "pub" / "c.csv") == 0o644
    assert _mode(tmp_path / "micro" / "pc.csv") == 0o600
    assert _mode(tmp_path / "micro") == 0o700


def test_count_on_a_full_disk_is_one_line_and_writes_nothing(stock_reg: Register,
                                                             tmp_path: Path,
                                                             monkeypatch) -> None:
    import errno

    import polars as pl

    def full(self, path, *a, **k):
        Path(path).write_text("definition,cat")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_csv", full)
    code, text = _count(stock_reg, "--out", tmp_path / "c.csv")
    assert code == 1
    assert "c.csv: disk full" in text and "Traceback" not in text
    assert len(text.strip().splitlines()) <= 2  # one message (rich may wrap it)
    assert list(tmp_path.iterdir()) == []


def test_inspectie_export_stays_in_its_folder_and_is_private(tmp_path: Path,
                                                              monkeypatch) -> None:
    import builders
    from ozamonitor.counting.inspectie import export

    evil = f"PO/../../../..{tmp_path}/PWNED"
    monkeypatch.setattr(builders, "REGIONS", [*builders.REGIONS, (evil, "swv_po", "x")])
    reg = builders.stock_register(tmp_path / "reg")
    out = tmp_path / "out"
    paths = export(reg, "2023Q4", out, swv="all")
    assert {p.parent for p in paths} == {out}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "reg"]
    assert not (tmp_path / "PWNED").exists()
    assert all(".." not in p.name.split("_")[1:2] and "/" not in p.name for p in paths)
    assert {_mode(p) for p in paths} == {0o600} and _mode(out) == 0o700


@pytest.mark.parametrize("argv", [
    ["trajectories", "--register", "{reg}", "--out", "{reg}"],
    ["attendance", "--register", "{reg}", "--asof", "2024-01-01", "--out", "{tmp}/a.csv",
     "--counts", "{tmp}/a.csv"],
    ["signals", "--register", "{reg}", "--asof", "2024-01-01", "--out", "{reg}/s.csv"],
    ["report", "--register", "{reg}", "--out", "{reg}/report.html"],
    ["impact", "--register", "{reg}", "--out", "{reg}/impact"],
    ["inspectie-export", "--register", "{reg}", "--quarter", "2023Q4", "--out", "{reg}"],
    ["reconcile", "--register", "{reg}", "--schoolyear", "2022-2023", "--out", "{reg}/rc"],
    ["did", "--input", "{tmp}/p.csv", "--unit", "id", "--time", "t", "--cohort", "g",
     "--outcome", "y", "--out", "{tmp}/p.csv"],
    ["match", "--input", "{tmp}/u_balance.csv", "--id", "id", "--treatment", "t",
     "--covariates", "x", "--out", "{tmp}/u.csv"],
    ["import", "{tmp}", "--out", "{tmp}"],
])
def test_every_command_refuses_colliding_outputs(stock_reg: Register, tmp_path: Path,
                                                 argv: list[str]) -> None:
    (tmp_path / "p.csv").write_text("id,t,g,y\n")
    (tmp_path / "u_balance.csv").write_text("id,t,x\n")
    before = {p.name: p.stat().st_mtime_ns for p in stock_reg.path.iterdir()}
    args = [a.format(reg=stock_reg.path, tmp=tmp_path) for a in argv]
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    assert any(w in res.output for w in ("same file", "inside the register", "would replace"))
    assert {p.name: p.stat().st_mtime_ns for p in stock_reg.path.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv", "u_balance.csv"]
