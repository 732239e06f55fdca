"""The one sequence container: Alphabet, SequenceData, its files, and the library's
layering (``ozamonitor.sequences`` imports nothing of ozamonitor above it)."""

from __future__ import annotations

import ast
import copy
import json
import pickle
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import ozamonitor.sequences
from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.sequences.alphabet import VOID_CODE, Alphabet, State
from ozamonitor.sequences.define import seqdef
from ozamonitor.sequences.seqdata import SequenceData, drop_void
from ozamonitor.sequences.seqio import META_KEY
from ozamonitor.trajectories.states import DEFAULT_CONFIG


def test_alphabet_is_the_tuple_of_its_codes() -> None:
    a = Alphabet([State("x", "iks", "ex", "#112233"), "y"])
    assert a == ("x", "y") and hash(a) == hash(("x", "y"))
    assert a.codes == ["x", "y"] and a.missing_code == 2
    assert a.colours[0] == "#112233" and a.labels("en") == ["ex", "y"]
    assert a.index("y") == 1
    with pytest.raises(KeyError, match="unknown state 'z'"):
        a.index("z")
    for b in (pickle.loads(pickle.dumps(a)), copy.deepcopy(a)):
        assert b == a and b.states == a.states and b.missing_colour == a.missing_colour
    assert a.encode(["y", None, "*", "", "%", "x"]).tolist() == [1, 2, 2, 2, -1, 0]
    assert a.decode([1, 2, -1]).tolist() == ["y", None, None]
    with pytest.raises(InputError, match="unknown state"):
        a.encode(["q"])
    w = a.with_missing_state()
    assert w == ("x", "y", "missing") and w.states[-1].label_en == "missing"
    with pytest.raises(ConfigurationError, match="duplicate"):
        Alphabet(["x", "x"])


def test_container_derives_and_checks_lengths() -> None:
    s = SequenceData(np.array([[0, 1, -1], [2, 2, 2]]), ("a", "b"), ids=["p", "q"])
    assert s.codes.dtype == np.int16 and s.lengths.tolist() == [2, 3]
    assert s.has_missing and s.valid.tolist() == [[True, True, False], [False, False, False]]
    assert s.id_labels().tolist() == ["p", "q"] and s.column_labels() == ("1", "2", "3")
    with pytest.raises(InputError, match="outside the alphabet"):
        SequenceData(np.array([[0, 3]]), ("a", "b"))
    with pytest.raises(InputError, match="void inside"):
        SequenceData(np.array([[0, -1, 1]]), ("a", "b"))
    with pytest.raises(InputError, match="ids"):
        SequenceData(np.array([[0, 1]]), ("a", "b"), ids=["p", "q"])


def test_subset_and_replace_keep_what_travels() -> None:
    bd = np.array(["2010-01-01", "2011-02-03", "2012-03-04"], dtype="datetime64[D]")
    s = SequenceData(np.array([[0, 1], [1, -1], [0, 0]]), ("a", "b"), ids=["p", "q", "r"],
                     weights=[1.0, 2.0, 3.0], birth_dates=bd, columns=["m1", "m2"],
                     period="month", meta={"rule": "majority"})
    sub = s[np.array([True, False, True])]
    assert sub.ids.tolist() == ["p", "r"] and sub.weights.tolist() == [1.0, 3.0]
    assert sub.birth_dates.tolist() == bd[[0, 2]].tolist() and sub.period == "month"
    sub.meta["x"] = 1
    assert "x" not in s.meta  # meta is copied
    r = s.replace(codes=np.array([[0, -1], [1, 1], [0, 1]]))
    assert r.lengths.tolist() == [1, 2, 2]  # derived again from the new codes
    assert s[1].n_sequences == 1 and s[1].ids.tolist() == ["q"]


def test_drop_void_moves_void_to_the_end() -> None:
    assert drop_void(np.array([[-1, 0, -1, 1]])).tolist() == [[0, 1, -1, -1]]


def test_trajectory_files_keep_their_format(tmp_path: Path) -> None:
    """The Parquet metadata keeps every field of the trajectory states (the
    precedence rule too), in the order the files have always had."""
    codes = np.array([[0, 1, DEFAULT_CONFIG.alphabet.missing_code], [2, 2, VOID_CODE]])
    s = SequenceData(codes, DEFAULT_CONFIG.alphabet, ids=["p", "q"], columns=["a", "b", "c"],
                     period="month", meta={"rule": "majority", "not_json": object()})
    path = s.write_parquet(tmp_path / "s.parquet")
    meta = json.loads(pq.read_schema(path).metadata[META_KEY])
    assert list(meta) == ["period", "alphabet", "meta"] and meta["meta"] == {"rule": "majority"}
    assert list(meta["alphabet"][0]) == ["code", "label_nl", "label_en", "colour", "when"]
    back = SequenceData.read_parquet(path)
    np.testing.assert_array_equal(back.codes, s.codes)
    assert back.alphabet.colours == DEFAULT_CONFIG.alphabet.colours
    assert back.period == "month" and back.meta == {"rule": "majority"}


def test_seqdef_takes_an_alphabet_with_labels() -> None:
    alph = Alphabet([State("b", "bee", "bee", "#000000"), State("a", "aa", "aa", "#FFFFFF")])
    s = seqdef([["a", "b"], ["b", None]], alphabet=alph)
    assert s.alphabet.states == alph.states and s.codes.tolist() == [[1, 0], [0, -1]]


def test_sequences_is_a_library() -> None:
    """``ozamonitor.sequences`` imports nothing of ozamonitor but errors and files."""
    allowed = ("ozamonitor.sequences", "ozamonitor.errors", "ozamonitor.files")
    root = Path(ozamonitor.sequences.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                if name.startswith("ozamonitor"):
                    assert name.startswith(allowed), f"{path.name} imports {name}"


def test_factorize_dict_path_equals_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pandas-free factorisation of small inputs gives pandas.factorize's codes and labels."""
    from ozamonitor.sequences import define

    values = np.array([["b", None, 1, 1.0], [float("nan"), "a", "", "b"],
                       [np.float64(2.0), 2, "a", None]], dtype=object)
    got = define._factorize(values, ["a"])
    monkeypatch.setattr(define, "_DICT_CELLS", 0)
    want = define._factorize(values, ["a"])
    np.testing.assert_array_equal(got[0], want[0])
    assert got[1] == want[1]
