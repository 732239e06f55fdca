"""Output files follow one rule (ozamonitor.files): published files follow the umask,
the register's person-level tables are 0600 in a 0700 folder."""

from __future__ import annotations

import datetime as dt
import os
import stat

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ozamonitor.cli.main import app

runner = CliRunner()


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_did_and_match_outputs_follow_the_umask(tmp_path, umask_022):
    rng = np.random.default_rng(0)
    n = 120
    g = rng.choice([0, 3, 4], size=n)
    panel = pd.concat(
        pd.DataFrame({"id": np.arange(n), "t": t, "g": g,
                      "y": rng.normal(size=n) + np.where((g > 0) & (t >= g), 1.0, 0.0)})
        for t in range(1, 5))
    panel.to_csv(tmp_path / "panel.csv", index=False)
    out = tmp_path / "did" / "attgt.csv"
    r = runner.invoke(app, ["did", "--input", str(tmp_path / "panel.csv"), "--unit", "id",
                            "--time", "t", "--cohort", "g", "--outcome", "y",
                            "--no-bootstrap", "--out", str(out)])
    assert r.exit_code == 0, r.output
    written = sorted(p.name for p in out.parent.iterdir())
    assert written == ["attgt.csv", "attgt_aggregate.csv", "attgt_event_study.png"]
    assert {_mode(p) for p in out.parent.iterdir()} == {0o644}

    units = pd.DataFrame({"id": range(n), "x": rng.normal(size=n),
                          "t": (rng.random(n) < 0.3).astype(int)})
    units.to_csv(tmp_path / "units.csv", index=False)
    r = runner.invoke(app, ["match", "--input", str(tmp_path / "units.csv"), "--id", "id",
                            "--treatment", "t", "--covariates", "x", "--out",
                            str(tmp_path / "pairs.csv"), "--love-plot",
                            str(tmp_path / "love.svg")])
    assert r.exit_code == 0, r.output
    for name in ("pairs.csv", "pairs_balance.csv", "love.svg"):
        assert _mode(tmp_path / name) == 0o644, name


def test_a_stricter_umask_is_followed(tmp_path):
    from ozamonitor.register.template import export_template

    old = os.umask(0o077)
    try:
        paths = export_template(tmp_path / "tpl", "csv")
    finally:
        os.umask(old)
    assert {_mode(p) for p in paths} == {0o600}


def test_template_files_are_published_files(tmp_path, umask_022):
    from ozamonitor.register.template import export_template

    paths = export_template(tmp_path / "tpl", "xlsx", example=True)
    assert {_mode(p) for p in paths} == {0o644}


def test_register_tables_are_private(tmp_path, umask_022):
    from ozamonitor.register.store import write_register

    out = write_register(tmp_path / "reg", {}, extraction_date=dt.date(2025, 7, 31))
    assert _mode(out) == 0o700
    files = list(out.iterdir())
    assert files and {_mode(p) for p in files} == {0o600}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reg"]  # nothing left beside it
