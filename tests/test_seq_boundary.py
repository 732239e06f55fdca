"""Boundaries of the one sequence container: void, missing, weights, files,
and the trajectories pipeline's up-front checks and outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from builders import random_register
from ozamonitor.cli.main import app
from ozamonitor.sequences.alphabet import VOID_CODE as VOID
from ozamonitor.sequences.alphabet import Alphabet, State
from ozamonitor.sequences.define import seqdef
from ozamonitor.sequences.describe import state_distribution
from ozamonitor.sequences.distances import seqdist
from ozamonitor.sequences.seqdata import SequenceData, drop_void
from ozamonitor.sequences.seqdata import SequenceData as SeqDef
from ozamonitor.trajectories.analysis import (
    feasible_ks,
    run_trajectory_analysis,
    validate_alignment,
)
from ozamonitor.trajectories.states import alphabet_from_codes

ABC = alphabet_from_codes(["a", "b", "c"])
MISSING = ABC.missing_code


def _traj(rows: list[list[int]], alphabet: Alphabet = ABC) -> SequenceData:
    """Rows of codes; void cells anywhere are deleted (the rest shifted left)."""
    codes = drop_void(np.array(rows, dtype=np.int16))
    return SequenceData(codes, alphabet, ids=[f"p{i}" for i in range(len(rows))],
                        columns=[f"t{j}" for j in range(codes.shape[1])])


def _table(rows: list[list[int]]) -> pl.DataFrame:
    """The tabular form of code rows ("%" void, null missing), void kept in place."""
    lab = {VOID: "%", MISSING: None} | {i: c for i, c in enumerate(ABC)}
    width = len(rows[0])
    return pl.DataFrame(
        {"id": [f"p{i}" for i in range(len(rows))]}
        | {f"t{j}": [lab[r[j]] for r in rows] for j in range(width)},
        schema={"id": pl.String} | {f"t{j}": pl.String for j in range(width)})


# --------------------------------------------------------------- finding 9
def test_leading_void_is_deleted_before_distances() -> None:
    sd = _traj([[VOID, 0, 1, 1], [0, 0, 1, 1]])
    assert sd.lengths.tolist() == [3, 4]
    assert sd.codes[0].tolist() == [0, 1, 1, -1]
    d = seqdist(sd, "OM", sm="CONSTANT", indel=1.0)
    assert d[0, 1] == pytest.approx(1.0)  # one indel, not a substitution
    # the same from the tabular form: "%" cells are deleted wherever they are
    back = SequenceData.from_polars(_table([[VOID, 0, 1, 1], [0, 0, 1, 1]]), ABC)
    np.testing.assert_array_equal(back.codes, sd.codes)


def test_internal_void_is_deleted() -> None:
    sd = _traj([[0, VOID, MISSING, VOID, 2, VOID]])
    assert sd.codes.tolist() == [[0, 3, 2, -1, -1, -1]] and sd.lengths.tolist() == [3]


def test_seqdef_container_rejects_void_inside() -> None:
    with pytest.raises(ValueError, match=r"row 1, position 1: void inside"):
        SeqDef(codes=np.array([[-1, 0, 1]]), lengths=np.array([3]), alphabet=("a", "b"))
    with pytest.raises(ValueError, match=r"row 2, position 3: a state or missing after"):
        SeqDef(codes=np.array([[0, 0, 1], [0, 1, 1]]), lengths=np.array([3, 2]),
               alphabet=("a", "b"))
    with pytest.raises(ValueError, match="length"):
        SeqDef(codes=np.array([[0, 1]]), lengths=np.array([3]), alphabet=("a", "b"))


def test_seqdef_reads_void_symbol_as_deleted() -> None:
    s = seqdef([["%", "a", None, "b", "%"], ["a", "a", "b", "b", "b"]], alphabet=["a", "b"],
               right="NA")
    assert s.lengths.tolist() == [3, 5]
    assert s.codes[0].tolist() == [0, 2, 1, -1, -1]
    assert seqdef([["%", "%"], ["a", "b"]]).lengths.tolist() == [0, 2]
    # void=None: "%" is an ordinary state
    assert "%" in seqdef([["%", "a"]], void=None).alphabet


@pytest.mark.parametrize("seed", range(12))
def test_round_trip_distances_equal_direct_seqdef(seed: int) -> None:
    """Tabular form with void cells -> container -> distances == seqdef(DEL rules) on the rows."""
    rng = np.random.default_rng(seed)
    n, t = 9, 7
    codes = rng.integers(0, 3, (n, t)).astype(np.int16)
    codes[rng.random((n, t)) < 0.2] = VOID
    codes[0, :] = [VOID, 0, 1, 1, VOID, 2, 2]
    # rows as labels with void cells missing: left/gaps/right = DEL removes them
    rows = [[None if v == VOID else ABC.codes[v] for v in r] for r in codes.tolist()]
    direct = seqdef(rows, alphabet=ABC.codes, left="DEL", gaps="DEL", right="DEL")
    via = SequenceData.from_polars(_table(codes.tolist()), ABC)
    assert via.lengths.tolist() == direct.lengths.tolist()
    np.testing.assert_array_equal(via.codes, direct.codes)
    for method, kw in (("OM", {"sm": "CONSTANT", "indel": 1.0}),
                       ("OM", {"sm": "TRATE", "indel": "auto"}), ("LCS", {})):
        np.testing.assert_allclose(seqdist(via, method, **kw), seqdist(direct, method, **kw))


# -------------------------------------------------------------- finding 10
def test_void_and_missing_survive_files(tmp_path: Path) -> None:
    s = _traj([[0, MISSING, 1, VOID], [MISSING, 2, VOID, VOID], [0, 1, 2, 0]])
    for dictionary in (False, True):
        back = SequenceData.read_parquet(s.write_parquet(tmp_path / f"s{dictionary}.parquet",
                                                         dictionary=dictionary))
        np.testing.assert_array_equal(back.codes, s.codes)
    tab = s.to_polars()
    assert tab["t3"].to_list() == ["%", "%", "a"] and tab["t1"].to_list() == [None, "c", "b"]
    csv = s.write_csv(tmp_path / "s.csv")
    back = SequenceData.from_polars(pl.read_csv(csv, infer_schema_length=0), ABC)
    np.testing.assert_array_equal(back.codes, s.codes)


def test_seqdist_cli_on_csv_reproduces_the_container(tmp_path: Path) -> None:
    s = _traj([[0, MISSING, 1, VOID], [VOID, 2, 2, 1], [0, 1, 2, 0], [1, 1, VOID, VOID]])
    csv = s.write_csv(tmp_path / "s.csv")
    r = CliRunner().invoke(app, ["seqdist", "--input", str(csv), "--missing", "state",
                                 "--sm", "CONSTANT", "--indel", "1", "--out",
                                 str(tmp_path / "d.npy")])
    assert r.exit_code == 0, r.output
    want = seqdist(s, "OM", sm="CONSTANT", indel=1.0, with_missing=s.has_missing)
    np.testing.assert_allclose(np.load(tmp_path / "d.npy"), want)


# -------------------------------------------------------------- finding 11
def test_container_keeps_alphabet_and_weights(tmp_path: Path) -> None:
    """Labels and colours travel with the container (and its files); the statistics
    use its case weights."""
    alph = Alphabet((State("x", "iks", "ex", "#112233"), State("y", "ij", "why", "#445566")))
    sd = SeqDef(codes=np.array([[0, 1], [1, -1]]), lengths=np.array([2, 1]), alphabet=alph)
    assert sd.alphabet.colours == ["#112233", "#445566"]
    back = SequenceData.read_parquet(sd.write_parquet(tmp_path / "s.parquet"))
    assert back.alphabet.states == alph.states
    assert back.codes.tolist() == [[0, 1], [1, VOID]]
    w = SeqDef(codes=sd.codes, lengths=sd.lengths, alphabet=sd.alphabet,
               weights=np.array([1.0, 3.0]))
    weighted = state_distribution(w)
    assert weighted.filter(pl.col("position") == 0)["n"].to_list() == [1.0, 3.0]
    same = SeqDef(codes=sd.codes, lengths=sd.lengths, alphabet=sd.alphabet,
                  weights=np.array([2.0, 2.0]))
    assert state_distribution(same).height > 0
    # the default alphabet's labels come back for its codes
    assert _traj([[0, 1]]).alphabet.states == ABC.states


# --------------------------------------------------- findings 12, 15 and 17
@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return random_register(tmp_path_factory.mktemp("bound") / "reg", n=60)


def test_bad_alignment_writes_nothing(reg: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="unknown event 'foo'"):
        run_trajectory_analysis(reg, out, alignment="event:foo")
    with pytest.raises(ValueError, match="unknown population"):
        run_trajectory_analysis(reg, out, population="nobody")
    assert not out.exists() and list(tmp_path.iterdir()) == []
    r = CliRunner().invoke(app, ["trajectories", "--register", str(reg), "--out", str(out),
                                 "--align", "event:foo"])
    assert r.exit_code != 0 and "foo" in r.output and not out.exists()
    with pytest.raises(ValueError):
        validate_alignment("weekday")


def test_error_midway_keeps_old_output(reg: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("keep")
    with pytest.raises(ValueError):
        run_trajectory_analysis(reg, out, start="1990-01", end="1990-12")
    assert (out / "old.txt").read_text() == "keep"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_microdata_names_and_infeasible_k(reg: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run_trajectory_analysis(reg, out, start="2018-08", end="2024-07", period="year",
                                  ks=[2, 3, 400], figure_formats=("png",))
    assert res.out == out and res.k in (2, 3)
    assert any("400" in m and "left out" in m for m in res.messages)
    meta = json.loads((out / "results.json").read_text())
    for f in meta["files"]:
        assert (out / f).is_file(), f
        if "frequencies" in Path(f).name and not Path(f).name.startswith("sequence_freq"):
            assert "_MICRODATA" in f
    tabs = out / "tables"
    assert (out / "microdata" / "tables" / "sequence_frequencies_all_MICRODATA.parquet").is_file()
    assert (out / "microdata" / "tables" / "spell_durations_cluster_MICRODATA.parquet").is_file()
    pub = pl.read_parquet(tabs / "sequence_frequencies_all.parquet")
    assert pub.is_empty() or pub["n"].min() >= 10
    sp = pl.read_parquet(tabs / "spell_durations_cluster.parquet")
    assert "min" not in sp.columns
    few = sp.filter(pl.col("n_spells") < 10)
    assert few["mean"].null_count() == few.height == few["median"].null_count()
    assert sp.filter(pl.col("n_spells") >= 10)["mean"].null_count() == 0
    figs = {p.name for p in (out / "figures").iterdir()}
    assert "frequencies.png" not in figs and not any("MICRODATA" in f for f in figs)
    assert (out / "microdata" / "figures" / "frequencies_MICRODATA.png").is_file()
    # no temporary folder left beside the output
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_feasible_ks_and_empty_range(reg: Path, tmp_path: Path) -> None:
    assert feasible_ks([2, 3, 400], 281) == ([2, 3], [400])
    assert feasible_ks([5], 3) == ([], [5])
    r = CliRunner().invoke(app, ["trajectories", "--register", str(reg), "--out",
                                 str(tmp_path / "o"), "--k", "5..2"])
    assert r.exit_code != 0 and "empty" in r.output


def test_documented_seqdist_command_reproduces_pipeline(reg: Path, tmp_path: Path) -> None:
    out = tmp_path / "ev"
    res = run_trajectory_analysis(reg, out, alignment="event:oza", window=(-4, 30),
                                  period="quarter", cluster=False, figure_formats=("png",))
    seq = SequenceData.read_parquet(out / "microdata" / "analysis_sequences.parquet")
    np.testing.assert_array_equal(seq.codes, res.sequences.codes)
    assert (seq.codes == VOID).any()
    csv_in = str(out / "microdata" / "analysis_sequences.csv")
    r = CliRunner().invoke(app, ["seqdist", "--input", csv_in,
                                 "--missing", "state", "--sm", "TRATE",
                                 "--alphabet", ",".join(res.params["alphabet"]),
                                 "--out", str(tmp_path / "d.npy")])
    assert r.exit_code == 0, r.output
    sd = res.sequences
    want = seqdist(sd, "OM", sm="TRATE", indel="auto", with_missing=sd.has_missing)
    np.testing.assert_allclose(np.load(tmp_path / "d.npy"), want)
