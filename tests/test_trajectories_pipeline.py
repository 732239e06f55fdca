"""End to end: `ozamonitor trajectories` on a small random register, and the report section."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from builders import random_register
from ozamonitor.cli.main import app
from ozamonitor.trajectories.analysis import TrajectoryResults, run_trajectory_analysis

D = dt.date


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return random_register(tmp_path_factory.mktemp("pipe") / "reg")


def test_cli_end_to_end(reg: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["trajectories", "--register", str(reg), "--from", "2018-08",
                                 "--to", "2024-07", "--period", "quarter", "--k", "2..4",
                                 "--formats", "png", "--out", str(out)])
    assert r.exit_code == 0, r.output
    meta = json.loads((out / "results.json").read_text())
    assert meta["k"] in (2, 3, 4)
    seqs = pl.read_parquet(out / "microdata" / "sequences.parquet")
    assert seqs.columns[0] == "id" and seqs.columns[1] == "2018-Q3"
    # the analysed sequences feed the distance CLI as they are
    csv_in = str(out / "microdata" / "analysis_sequences.csv")
    r2 = CliRunner().invoke(app, ["seqdist", "--input", csv_in,
                                  "--missing", "state", "--sm", "TRATE",
                                  "--out", str(tmp_path / "d.npy")])
    assert r2.exit_code == 0, r2.output
    d = np.load(tmp_path / "d.npy")
    assert d.shape == (seqs.height, seqs.height)
    cl = pl.read_parquet(out / "microdata" / "clusters.parquet")
    assert cl.height == seqs.height
    for name in ("state_distribution_cluster", "mean_time_all", "transition_rates_all",
                 "crosstab_background", "cluster_quality", "indicators_cluster"):
        assert (out / "tables" / f"{name}.csv").stat().st_size > 0
    assert (out / "figures" / "chronogram_by_cluster.png").stat().st_size > 1000
    assert "Onderwijs-zorgtrajecten" in (out / "report.html").read_text()
    # the section builds from the folder alone
    from ozamonitor.report.document import ReportDocument
    from ozamonitor.report.trajectories import trajectories_section

    sec = trajectories_section(reg, out, lang="en")
    assert sec.id == "trajectories" and sec.subsections
    doc = ReportDocument(title="t", lang="en")
    doc.add(sec)
    page = doc.render()
    assert "data:image/png;base64" in page and "Types of trajectories" in page


def test_event_alignment_and_groups(reg: Path, tmp_path: Path) -> None:
    res = run_trajectory_analysis(reg, tmp_path / "ev", alignment="event:oza",
                                  start="2016-08", end="2024-12", window=(-12, 24),
                                  population="oza", ks=[2], figure_formats=("png",))
    seq = res.sequences
    assert seq.columns[0] == "t-12" and seq.columns[-1] == "t+24"
    col0 = seq.columns.index("t+0")
    oza = seq.alphabet.index("oza")
    # the OZA starts within month 0 (majority rule) and certainly holds in month 1
    assert (seq.codes[:, col0 + 1] == oza).all()
    lrv = seq.alphabet.index("lrv")
    assert (seq.codes[:, :col0] == lrv).any(axis=1).mean() > 0.9  # LRV before the OZA
    assert res.k == 2
    loaded = TrajectoryResults.load(tmp_path / "ev")
    np.testing.assert_array_equal(loaded.sequences.codes, seq.codes)
    assert loaded.clusters is not None and (loaded.clusters == res.clusters).all()


def test_cli_errors(reg: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["trajectories", "--register", str(tmp_path / "nope"),
                            "--out", str(tmp_path / "o")])
    assert r.exit_code != 0 and "not a register" in r.output
    r = runner.invoke(app, ["trajectories", "--register", str(reg), "--period", "day",
                            "--out", str(tmp_path / "o")])
    assert r.exit_code != 0 and "unknown period" in r.output
    r = runner.invoke(app, ["trajectories", "--register", str(reg), "--k", "1",
                            "--out", str(tmp_path / "o")])
    assert r.exit_code != 0 and "at least 2" in r.output


def test_min_observed_keeps_complete_sequences(reg: Path, tmp_path: Path) -> None:
    res = run_trajectory_analysis(reg, tmp_path / "age", alignment="age", ages=(60, 120),
                                  start="2014-08", end="2024-07", min_observed=1.0,
                                  cluster=False, figure_formats=("png",))
    seq = res.sequences
    assert seq.columns[0] == "age60m" and seq.n_sequences > 0
    assert seq.valid.all()
    assert any("less than 100%" in m for m in res.messages)


def test_clara_above_pam_max(reg: Path, tmp_path: Path) -> None:
    res = run_trajectory_analysis(reg, tmp_path / "clara", start="2018-08", end="2023-07",
                                  period="quarter", ks=[3], pam_max=50, figure_formats=())
    assert res.k == 3 and any(m.startswith("CLARA") for m in res.messages)
    assert res.clusters is not None and set(res.clusters) == {"1", "2", "3"}
    sizes = res.tables["cluster_sizes"]["n"].to_list()
    assert sizes == sorted(sizes, reverse=True)  # clusters numbered by decreasing size


def test_person_level_files_are_owner_only(reg: Path, tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        run_trajectory_analysis(reg, tmp_path / "modes", start="2018-08", end="2020-07",
                                period="year", ks=[2], figure_formats=("png",))
    finally:
        os.umask(old)
    out = tmp_path / "modes"

    def mode(p: Path) -> int:
        return stat.S_IMODE(p.stat().st_mode)

    for name in ("sequences.parquet", "analysis_sequences.parquet", "analysis_sequences.csv",
                 "clusters.parquet", "tables/sequence_frequencies_all_MICRODATA.csv",
                 "figures/index_MICRODATA.png"):
        assert mode(out / "microdata" / name) == 0o600, name
    for folder in ("microdata", "microdata/tables", "microdata/figures"):
        assert mode(out / folder) == 0o700, folder
    for name in ("results.json", "tables/state_distribution_all.csv", "figures/chronogram.png"):
        assert mode(out / name) == 0o644, name
    assert mode(out) == 0o755
    # nothing person-level beside the publishable files
    published = [p for p in out.rglob("*") if p.is_file() and "microdata" not in p.parts]
    assert published and not any("MICRODATA" in p.name or p.name in (
        "sequences.parquet", "clusters.parquet") or "analysis_sequences" in p.name
        for p in published)
    assert all(mode(p) == 0o644 for p in published)
