"""``ozamonitor seqdist`` round trips and bad-input handling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ozamonitor.cli.main import app
from ozamonitor.sequences.define import seqdef
from ozamonitor.sequences.distances import seqdist

runner = CliRunner()

ROWS = [
    ("p3", ["A", "A", "B", "B", "C"]),
    ("p1", ["A", "B", "B", "B", "B"]),
    ("p2", ["C", "C", "A", "A", "B"]),
    ("p4", ["A", "A", "B", "B", "C"]),
]


def _write(path: Path, rows: list[tuple[str, list[str]]], header: int = 5) -> Path:
    lines = ["id," + ",".join(f"m{i + 1}" for i in range(header))]
    lines += [f"{i}," + ",".join(r) for i, r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("method", ["OM", "HAM", "LCS", "OMspell", "CHI2"])
def test_roundtrip_csv_and_npy(tmp_path: Path, method: str) -> None:
    src = _write(tmp_path / "seq.csv", ROWS)
    expected = seqdist(seqdef([r for _, r in ROWS]), method, sm="TRATE" if method == "OM" else None)
    out_csv = tmp_path / "d.csv"
    args = ["seqdist", "--input", str(src), "--method", method]
    if method == "OM":
        args += ["--sm", "TRATE"]
    args += ["--out", str(out_csv)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    got = np.loadtxt(out_csv, delimiter=",")
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    out_npy = tmp_path / "d.npy"
    res = runner.invoke(app, [*args[:-1], str(out_npy)])
    assert res.exit_code == 0, res.output
    np.testing.assert_array_equal(np.load(out_npy), expected)


def test_cost_file_indel_norm_and_missing(tmp_path: Path) -> None:
    rows = [("a", ["A", "B", "B", ""]), ("b", ["B", "B", "A", "A"]), ("c", ["A", "", "A", "B"])]
    src = _write(tmp_path / "seq.csv", rows, header=4)
    cost = tmp_path / "sm.csv"
    cost.write_text("B,A,*\n0,1.5,2\n1.5,0,2\n2,2,0\n")  # header order differs from alphabet
    out = tmp_path / "d.csv"
    res = runner.invoke(
        app,
        ["seqdist", "--input", str(src), "--out", str(out), "--sm", str(cost),
         "--indel", "0.9", "--norm", "maxlength", "--missing", "del"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    seqs = seqdef([[c or None for c in r] for _, r in rows])
    sm = np.array([[0, 1.5, 2], [1.5, 0, 2], [2, 2, 0]])
    expected = seqdist(seqs, "OM", sm=sm, indel=0.9, norm="maxlength", with_missing=True)
    np.testing.assert_allclose(np.loadtxt(out, delimiter=","), expected, atol=1e-12)


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("", [], "empty"),
        ("id,m1,m2\n", [], "no sequences"),
        ("id,m1,m2\na,A,B\nb,A\n", [], "non-rectangular"),
        ("id,m1,m2\na,A,B\nb,A,\n", [], "missing value"),
        ("id,m1,m2\na,A,B\nb,A,C\n", ["--alphabet", "A,B"], "not in the alphabet"),
        ("id,m1,m2\na,A,B\nb,B,A\n", ["--sm", "ASYM"], "not symmetric"),
        ("id,m1,m2\na,A,B\nb,B,A\n", ["--sm", "NEG"], "negative"),
        ("id,m1,m2\na,A,B\nb,B,A\n", ["--method", "NOPE"], "unknown method"),
        ("id,m1,m2\na,A,B\nb,B,A\n", ["--indel", "x"], "--indel"),
    ],
)
def test_bad_input(tmp_path: Path, content: str, extra: list[str], message: str) -> None:
    src = tmp_path / "seq.csv"
    src.write_text(content)
    (tmp_path / "ASYM").write_text("0,1\n2,0\n")
    (tmp_path / "NEG").write_text("0,-1\n-1,0\n")
    extra = [str(tmp_path / e) if e in ("ASYM", "NEG") else e for e in extra]
    out = tmp_path / "d.csv"
    res = runner.invoke(app, ["seqdist", "--input", str(src), "--out", str(out), *extra])
    assert res.exit_code != 0
    assert message in res.output
    assert not out.exists()
    assert not any(p.name.startswith(".d.csv") for p in tmp_path.iterdir())
