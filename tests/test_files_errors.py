"""The shared error hierarchy and the atomic output-file helper."""

from __future__ import annotations

import os
import stat

import pytest

from ozamonitor.errors import ConfigurationError, InputError, OzamonitorError, location
from ozamonitor.files import (
    atomic_dir,
    atomic_write,
    atomic_write_text,
    confined,
    public_mode,
    safe_name,
)


def test_input_error_names_file_row_field():
    e = InputError("not a date", file="persons.csv", row=12, field="birth_date")
    assert str(e) == "persons.csv:12: birth_date: not a date"
    assert isinstance(e, OzamonitorError) and isinstance(e, ValueError)
    assert (e.file, e.row, e.field, e.message) == ("persons.csv", 12, "birth_date", "not a date")
    assert str(InputError("bad")) == "bad"
    assert location(row=3) == "row 3"


def test_configuration_error_is_a_usage_error():
    assert ConfigurationError("x").exit_code == 2
    assert OzamonitorError("x").exit_code == 1


def _mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_atomic_write_public_follows_umask(tmp_path):
    out = atomic_write_text(tmp_path / "a" / "t.csv", "x\n")
    assert out.read_text() == "x\n"
    assert _mode(out) == public_mode()
    assert [p.name for p in out.parent.iterdir()] == ["t.csv"]


def test_atomic_write_private_is_owner_only(tmp_path):
    out = atomic_write_text(tmp_path / "micro" / "p.csv", "id\n1\n", private=True)
    assert _mode(out) == 0o600
    assert _mode(out.parent) == 0o700


def test_atomic_write_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "t.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_atomic_dir_replaces_whole_folder(tmp_path):
    from ozamonitor.files import OUTPUT_MARKER

    d = tmp_path / "out"
    d.mkdir()
    (d / OUTPUT_MARKER).write_text("")  # an earlier run's output
    (d / "stale.csv").write_text("s")
    with atomic_dir(d) as tmp:
        (tmp / "new.csv").write_text("n")
    assert sorted(p.name for p in d.iterdir()) == [OUTPUT_MARKER, "new.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    with pytest.raises(RuntimeError), atomic_dir(d) as tmp:
        (tmp / "other.csv").write_text("o")
        raise RuntimeError
    assert sorted(p.name for p in d.iterdir()) == [OUTPUT_MARKER, "new.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_safe_name_and_confined(tmp_path):
    assert "/" not in safe_name("PO/../../../../tmp/x/PWNED")
    assert safe_name("..") == "_"
    assert confined(tmp_path, "a/b.csv") == (tmp_path / "a" / "b.csv").resolve()
    with pytest.raises(ConfigurationError):
        confined(tmp_path, "../x.csv")
    with pytest.raises(ConfigurationError):
        confined(tmp_path, "/etc/passwd")


def test_atomic_dir_refuses_a_folder_it_did_not_write(tmp_path):
    """``--out ~/Documents`` must not delete the user's files: only empty folders or
    earlier outputs (with the marker) are replaced."""
    from ozamonitor.errors import ConfigurationError
    from ozamonitor.files import OUTPUT_MARKER

    d = tmp_path / "Documents"
    d.mkdir()
    (d / "thesis.docx").write_bytes(b"precious")
    with pytest.raises(ConfigurationError, match="did not write"), atomic_dir(d) as tmp:
        (tmp / "report.html").write_text("x")
    assert (d / "thesis.docx").read_bytes() == b"precious"
    assert not list(tmp_path.glob(".ozm-tmp.*"))
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:
        (tmp / "a.csv").write_text("1")
    assert (out / OUTPUT_MARKER).exists()
    with atomic_dir(out) as tmp:  # an earlier output is replaced whole
        (tmp / "b.csv").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == [OUTPUT_MARKER, "b.csv"]
