"""Disclosure control of the reconciliation (waterfall + overlap as one system) and
the threshold / real-data guards of the counting commands.

The brute-force checks play the reader: they know which Venn atoms are empty
(conservative) and every published figure, and try every other non-negative
atom vector near the truth; each small count that is not published must take
at least two values over the vectors that reproduce what is published.
"""

from __future__ import annotations

import itertools
import json
import random
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from builders import stock_register
from ozamonitor.cli.main import app
from ozamonitor.counting import reconcile as rc
from ozamonitor.counting.calibration import publishable_calibration
from ozamonitor.register.store import Register

runner = CliRunner()
T = 10


# ---------------------------------------------------------------- brute force
def _per_child(atoms: dict[frozenset[str], int]) -> pl.DataFrame:
    rows, pid = [], 0
    for defs, n in atoms.items():
        for _ in range(n):
            pid += 1
            rows += [(f"p{pid}", d, "2023-2024") for d in sorted(defs)]
    return pl.DataFrame(rows, schema=["person_id", "definition", "period"], orient="row")


def _figures(order: list[str], keys: list[frozenset[str]]) -> dict[tuple, np.ndarray]:
    """Every count, as a 0/1 vector over the atoms ``keys`` (plain set arithmetic)."""
    out: dict[tuple, np.ndarray] = {}

    def vec(pred) -> np.ndarray:  # type: ignore[no-untyped-def]
        return np.array([1 if pred(k) else 0 for k in keys])

    for i, a in enumerate(order):
        out[("count", a)] = vec(lambda k, a=a: a in k)
        out[("added", a)] = vec(lambda k, a=a, i=i: a in k and not set(order[:i]) & k)
        out[("union", a)] = vec(lambda k, i=i: bool(set(order[: i + 1]) & k))
        for b in order:
            if a != b:
                out[("both", *sorted((a, b)))] = vec(lambda k, a=a, b=b: a in k and b in k)
                out[("minus", a, b)] = vec(lambda k, a=a, b=b: a in k and b not in k)
    for j, k in enumerate(keys):
        out[("atom", *sorted(k))] = (np.arange(len(keys)) == j).astype(int)
    return out


def _published(wf: pl.DataFrame, ov: pl.DataFrame) -> dict[tuple, int]:
    pub: dict[tuple, int] = {}
    for r in wf.iter_rows(named=True):
        if r["count"] is not None:
            pub[("count", r["definition"])] = r["count"]
        if r["added"] is not None:
            pub[("added", r["definition"])] = r["added"]
    for a, b, n in ov.select("definition_a", "definition_b", "count").iter_rows():
        if n is not None:
            key = ("count", a) if a == b else ("both", *sorted((a, b)))
            assert pub.setdefault(key, n) == n  # the same figure, shown alike
    return pub


def _check(atoms: dict[frozenset[str], int], span: int = 2) -> tuple[pl.DataFrame, pl.DataFrame]:
    atoms = {k: n for k, n in atoms.items() if n > 0}
    wf, ov = rc.publishable_reconciliation(_per_child(atoms), threshold=T)
    order = wf["definition"].to_list()
    keys = list(atoms)
    truth = np.array([atoms[k] for k in keys])
    figs = _figures(order, keys)
    values = {f: int(v @ truth) for f, v in figs.items()}
    pub = _published(wf, ov)
    for f, n in pub.items():  # published figures are true
        assert values[f] == n, f
        assert not 0 < n < T, f  # and never small
    # every alternative the reader cannot rule out: atoms >= 0 near the truth
    z = np.array(list(itertools.product(range(-span, span + 1), repeat=len(keys))))
    alt = truth[None, :] + z
    alt = alt[(alt >= 0).all(axis=1)]
    ok = np.ones(len(alt), dtype=bool)
    for f, n in pub.items():
        ok &= alt @ figs[f] == n
    alt = alt[ok]
    for f, v in values.items():
        if 0 < v < T and f not in pub:
            seen = set((alt @ figs[f]).tolist())
            assert len(seen) > 1, f"{f} = {v} is recoverable from {pub}"
    # shown small cells are flagged primary; wf and ov agree on hidden counts
    for r in wf.iter_rows(named=True):
        if 0 < values[("added", r["definition"])] < T:
            assert r["added_suppression"] == "primary"
        if 0 < values[("count", r["definition"])] < T:
            assert r["count_suppression"] == "primary"
    diag = ov.filter(pl.col("definition_a") == pl.col("definition_b"))
    assert set(diag.filter(pl.col("count").is_null())["definition_a"]) == set(
        rc.hidden_counts(wf))
    return wf, ov


A, B, C = "a", "b", "c"


def fs(*names: str) -> frozenset[str]:
    return frozenset(names)


def test_nested_definitions_added_not_recoverable() -> None:
    # a within b within c: added(b) = count(b) - count(a) = 5
    wf, _ = _check({fs(A, B, C): 20, fs(B, C): 5, fs(C): 35})
    row = wf.filter(pl.col("definition") == "b").row(0, named=True)
    assert row["added_suppression"] == "primary"
    assert row["count"] is None  # count(b) would give it away with count(a)


def test_overlap_difference_protected() -> None:
    # |a| - |a & b| = 4: the review's example
    wf, ov = _check({fs(A): 4, fs(A, B): 30, fs(B): 25})
    pub = _published(wf, ov)
    assert not ({("count", "a"), ("both", "a", "b")} <= pub.keys())


def test_nothing_small_nothing_hidden() -> None:
    # all three figures tied: count(a)=12, count(b)=40, a within b -> added(b)=28,
    # b - a & b = 28, a - b = 0: nothing small, nothing hidden
    wf, ov = _check({fs(A, B): 12, fs(B): 28})
    assert wf["count_suppression"].null_count() == wf.height
    assert ov["suppression"].null_count() == ov.height


@pytest.mark.parametrize("seed", range(12))
def test_random_three_definitions(seed: int) -> None:
    rnd = random.Random(seed)
    atoms = {}
    for k in (fs(A), fs(B), fs(C), fs(A, B), fs(A, C), fs(B, C), fs(A, B, C)):
        atoms[k] = rnd.choice([0, 0, rnd.randint(1, 9), rnd.randint(1, 9),
                               rnd.randint(10, 40)])
    if sum(atoms.values()) == 0:
        atoms[fs(A)] = 3
    _check(atoms)


@pytest.mark.parametrize("seed", range(6))
def test_random_four_definitions(seed: int) -> None:
    rnd = random.Random(100 + seed)
    names = (A, B, C, "d")
    subsets = [frozenset(s) for r in range(1, 5) for s in itertools.combinations(names, r)]
    atoms = {k: rnd.choice([rnd.randint(1, 9), rnd.randint(10, 30)])
             for k in rnd.sample(subsets, 5)}
    _check(atoms, span=2)


def test_trend_hides_the_reconciliation_hidden_counts() -> None:
    tr = pl.DataFrame({"definition": ["a", "b", "b"], "school_year": ["2023-2024"] * 3,
                       "measure": ["flow", "flow", "stock_1oct"], "count": [50, 60, 60]})
    out = rc.publishable_trend(tr, T, hide={"2023-2024": ["b"]})
    assert out["count"].to_list() == [50, None, 60]
    assert out["suppression"].to_list() == [None, "secondary", None]


# ----------------------------------------------------------------------- CLI
@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Register:
    return stock_register(tmp_path_factory.mktemp("cli") / "reg")


def _run(*args: object) -> tuple[int, str]:
    res = runner.invoke(app, [str(a) for a in args])
    assert not isinstance(res.exception, Exception) or isinstance(
        res.exception, SystemExit), res.exception  # clean exit, no traceback
    return res.exit_code, " ".join(res.output.split())


@pytest.mark.parametrize("value", ["0", "1", "9", "-3"])
def test_low_thresholds_refused(reg: Register, tmp_path: Path, value: str) -> None:
    code, text = _run("count", "-r", reg.path, "--peildatum", "2023-10-01", "--out",
                      tmp_path / "c.csv", "--threshold", value)
    assert code != 0 and "--threshold" in text and not (tmp_path / "c.csv").exists()
    code, text = _run("reconcile", "-r", reg.path, "--schoolyear", "2023-2024", "--out",
                      tmp_path / "rec", "--threshold", value)
    assert code != 0 and "--threshold" in text and "Traceback" not in text
    assert not (tmp_path / "rec").exists()


def test_unsafe_threshold(reg: Register, tmp_path: Path) -> None:
    code, text = _run("count", "-r", reg.path, "--peildatum", "2023-10-01", "--out",
                      tmp_path / "c.csv", "--threshold", "1", "--unsafe-threshold")
    assert code == 0, text
    assert "NOT disclosure-controlled" in text and "cells < 1" not in text
    code, text = _run("count", "-r", reg.path, "--peildatum", "2023-10-01", "--out",
                      tmp_path / "c.csv", "--threshold", "3", "--unsafe-threshold")
    assert code == 0 and "1 to 2 children suppressed" in text
    code, text = _run("reconcile", "-r", reg.path, "--schoolyear", "2023-2024", "--out",
                      tmp_path / "rec", "--threshold", "0", "--unsafe-threshold")
    assert code != 0 and "at least 1" in text


def test_reconcile_writes_pngs_atomically(reg: Register, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    code, text = _run("reconcile", "-r", reg.path, "--schoolyear", "2023-2024", "--out", out)
    assert code == 0, text
    names = sorted(p.name for p in out.iterdir())
    # the figures, and the publication folder (manifest, tables, relations, ledger)
    assert names == [".ozamonitor-output", "ledger.json", "manifest.json", "overlap.csv",
                     "overlap.png",
                     "relations.csv", "tables", "trend.csv", "trend.png",
                     "waterfall.csv", "waterfall.png"]
    code, text = _run("audit-disclosure", out)
    assert code == 0, text
    assert (out / "waterfall.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    wf = pl.read_csv(out / "waterfall.csv", schema_overrides={"count": pl.String,
                                                               "added": pl.String})
    for v in [*wf["count"], *wf["added"]]:
        assert v == "x" or v == "0" or int(v) >= T


def test_calibration_refuses_real_register(reg: Register) -> None:
    code, text = _run("calibration", "-r", reg.path, "--scale", "0.001")
    assert code != 0 and "synth" in text and "--allow-real" in text
    code, text = _run("calibration", "-r", reg.path, "--allow-real", "--detail")
    assert code != 0 and "--detail" in text
    code, text = _run("calibration", "-r", reg.path, "--scale", "0.001", "--allow-real")
    assert code == 0, text
    assert "17,500" in text


def test_calibration_synthetic_register(reg: Register, tmp_path: Path) -> None:
    path = tmp_path / "synth"
    shutil.copytree(reg.path, path)
    man = json.loads((path / "manifest.json").read_text())
    man["synth"] = {"scale": 0.001}
    (path / "manifest.json").write_text(json.dumps(man))
    code, text = _run("calibration", "-r", path, "--detail")
    assert code == 0, text


def test_publishable_calibration() -> None:
    t = pl.DataFrame({"definition": ["x", "y", "z"], "observed": [3, 0, 40],
                      "ratio": [0.3, 0.0, 1.1], "ok": [False, False, True],
                      "within_10pct": [False, False, True]})
    out = publishable_calibration(t)
    assert out["observed"].to_list() == [None, 0, 40]
    assert out["ratio"].to_list() == [None, 0.0, 1.1]
    assert out["ok"].to_list() == [None, False, True]
    assert out["suppression"].to_list() == ["primary", None, None]
