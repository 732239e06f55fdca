"""No BSN of a delivery ever reaches an output or a message of any command run on its register.

The example delivery (``export-template --example``) carries four known BSNs. It
is imported, and the commands that read a register write their outputs; every
file they wrote (Parquet and xlsx opened, everything else as bytes) and every
line they printed is searched for those BSNs.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from ozamonitor.cli.main import app
from ozamonitor.register.example import example_source_tables

KEY = "bsn-grep-test-key-0123456789abcdefghijkl"


def _bsns() -> set[str]:
    return {b for df in example_source_tables().values() if "bsn" in df.columns
            for b in df["bsn"].drop_nulls().to_list()}


def _texts(path: Path) -> list[str]:
    if path.suffix == ".parquet":
        df = pl.read_parquet(path)
        return [str(v) for col in df.columns for v in df[col].cast(pl.String).to_list()]
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True)
        return [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
                for v in row if v is not None]
    return [path.read_bytes().decode("utf-8", errors="replace")]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("bsngrep")
    runner = CliRunner()
    printed: list[str] = []

    def invoke(*args: object, ok: bool = True) -> None:
        res = runner.invoke(app, [str(a) for a in args], env={"OZAMONITOR_PSEUDONYM_KEY": KEY})
        printed.append(res.output)
        if ok:
            assert res.exit_code == 0, (args, res.output)

    src, reg, out = base / "delivery", base / "reg", base / "out"
    invoke("export-template", src, "--example")
    (src / "mapping.example.yaml").unlink()
    invoke("import", src, "--out", reg, "--extraction-date", "2025-10-15")
    invoke("info", "--register", reg)
    invoke("validate", "--register", reg, ok=False)
    invoke("count", "--register", reg, "--peildatum", "2023-10-01", "--by", "school",
           "--out", out / "count.csv", "--per-child", out / "per_child.csv")
    invoke("count", "--register", reg, "--schoolyear", "2022-2023", "--out",
           out / "count.xlsx", "--per-child", out / "per_child.parquet")
    invoke("reconcile", "--register", reg, "--schoolyear", "2022-2023", "--out", out / "rc")
    invoke("inspectie-export", "--register", reg, "--quarter", "2023Q4", "--out", out / "insp")
    invoke("signals", "--register", reg, "--asof", "2024-06-30", "--out", out / "signals.csv",
           "--episodes", out / "episodes.csv")
    invoke("attendance", "--register", reg, "--asof", "2024-06-30", "--out",
           out / "pupils.csv", "--counts", out / "att_counts.csv")
    invoke("trajectories", "--register", reg, "--out", out / "traj", "--period", "year",
           "--from", "2016-08", "--to", "2024-07", "--no-cluster", "--formats", "png")
    # errors: a command refused on this register prints its message, never a BSN
    invoke("count", "--register", reg, "--peildatum", "2023-10-01", "--out", reg / "x.csv",
           ok=False)
    return out, printed


def test_no_bsn_in_any_output_file(run) -> None:
    out, _ = run
    bsns = _bsns()
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 20
    for p in files:
        for text in _texts(p):
            hits = [b for b in bsns if b in text]
            assert not hits, f"{p.relative_to(out)} holds a BSN"


def test_no_bsn_in_any_printed_line(run) -> None:
    _, printed = run
    text = "\n".join(printed)
    assert [b for b in _bsns() if b in text] == []
