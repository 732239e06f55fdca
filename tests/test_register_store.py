"""A damaged register or a ragged CSV is refused with a message naming the file (and row)."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from ozamonitor.register.importer import import_register
from ozamonitor.register.store import Register, RegisterError, write_register


@pytest.fixture
def reg(tmp_path):
    return write_register(tmp_path / "r", {}, extraction_date=dt.date(2025, 7, 31))


def test_corrupt_table_file(reg):
    (reg / "schools.parquet").write_bytes(b"not parquet")
    with pytest.raises(RegisterError, match=r"schools\.parquet: not a readable Parquet file"):
        Register(reg)


def test_wrong_column_type(reg):
    pl.DataFrame({"region_id": ["GM1"], "kind": [1], "name": ["x"]}).write_parquet(
        reg / "regions.parquet")
    with pytest.raises(RegisterError, match=r"regions\.parquet: column 'kind' has type"):
        Register(reg)


def test_bad_extraction_date(reg):
    mf = json.loads((reg / "manifest.json").read_text())
    mf["extraction_date"] = "2026-13-01"
    (reg / "manifest.json").write_text(json.dumps(mf))
    with pytest.raises(RegisterError, match="extraction_date '2026-13-01' is not a date"):
        Register(reg)


def test_ragged_csv_rows(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    (src / "persons.csv").write_text(
        "bsn,birth_date,sex\n111222333,2012-01-01,M\n123456782,2011-02-02\n"
    )
    monkeypatch.setenv("OZAMONITOR_PSEUDONYM_KEY", "0123456789abcdef0123456789abcdefXYZ")
    with pytest.raises(Exception, match=r"persons\.csv:2: 2 fields, the header has 3"):
        import_register(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_side_file_is_committed_with_the_tables(tmp_path):
    from ozamonitor.register.store import RegisterWriter

    out = tmp_path / "reg"
    with RegisterWriter(out, extraction_date=dt.date(2025, 1, 31)) as w:
        w.side_file("notes.parquet").write_bytes(b"x")
        for bad in ("manifest.json", "persons.parquet", "../x.parquet"):
            with pytest.raises(RegisterError, match="side file"):
                w.side_file(bad)
        assert not out.exists()
    assert (out / "notes.parquet").read_bytes() == b"x"
    Register.open(out)


def test_a_register_of_an_older_schema_reads_later_tables_as_empty(reg, tmp_path):
    """A register written before ``absence_days`` existed (schema 1.0) still opens;
    the later table reads as empty everywhere (scan, read, rows, SQL)."""
    import shutil

    old = tmp_path / "old"
    shutil.copytree(reg, old)
    (old / "absence_days.parquet").unlink()
    mf = json.loads((old / "manifest.json").read_text())
    mf["schema_version"] = "1.0"
    (old / "manifest.json").write_text(json.dumps(mf))
    r = Register(old)
    assert r.later_tables == {"absence_days"}
    assert r.scan("absence_days").collect().height == 0
    assert r.read("absence_days", ["person_id"]).columns == ["person_id"]
    assert r.rows("absence_days") == 0
    assert r.sql("select count(*) from absence_days").fetchall() == [(0,)]
    # a current register that lost the file is still an error
    (reg / "absence_days.parquet").unlink()
    with pytest.raises(RegisterError, match="missing table files: absence_days"):
        Register(reg)
