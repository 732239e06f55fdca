"""The write path's guarantees: formula-safe tables, a full disk, kills and leftovers."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from ozamonitor.errors import DiskFullError, OzamonitorError
from ozamonitor.files import (
    TEMP_PREFIX,
    atomic_dir,
    atomic_write,
    atomic_write_text,
    formula_safe,
    is_disk_full,
    safe_cell,
    sweep_stale,
)

EVIL = ["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
        "\tx", "\r=1"]


def test_formula_safe_polars_and_pandas():
    keep = ["Utrecht", "-1.5", "-", "+31", "12%", "", None]
    df = pl.DataFrame({"name": EVIL + keep, "n": range(len(EVIL) + len(keep))})
    out = formula_safe(df)
    assert out["name"].to_list() == ["'" + v for v in EVIL] + keep
    assert out["n"].to_list() == df["n"].to_list()
    cat = formula_safe(pl.DataFrame({"c": pl.Series(["=1", "a"], dtype=pl.Categorical)}))
    assert cat["c"].to_list() == ["'=1", "a"]
    pdf = formula_safe(pd.DataFrame({"name": [*EVIL, "", "a", "-1.5"], "x": 1.0}))
    assert pdf["name"].tolist() == [*("'" + v for v in EVIL), "", "a", "-1.5"]
    assert [safe_cell(v) for v in ("", None, 3, "=1")] == ["", None, 3, "'=1"]
    clean = pl.DataFrame({"a": ["x"]})
    assert formula_safe(clean) is clean


def test_disk_full_is_one_clear_error_and_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "t.csv"
    target.write_text("old\n")

    def full(self, path, *a, **k):
        Path(path).write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_csv", full)
    with pytest.raises(DiskFullError, match=r"t\.csv: disk full") as ei, \
            atomic_write(target) as tmp:
        pl.DataFrame({"a": [1]}).write_csv(tmp)
    assert isinstance(ei.value, OzamonitorError) and isinstance(ei.value, OSError)
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]
    with pytest.raises(DiskFullError), atomic_dir(tmp_path / "reg") as d:
        raise RuntimeError("polars: No space left on device (os error 28)") from None
    assert not any(p.name.startswith(TEMP_PREFIX) for p in tmp_path.iterdir())
    assert not d.exists()
    assert is_disk_full(OSError(errno.EDQUOT, "quota"))
    assert not is_disk_full(OSError(errno.EACCES, "denied"))


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_leftovers_of_a_killed_run_are_swept(tmp_path):
    dead = _dead_pid()
    left_file = tmp_path / f"{TEMP_PREFIX}{dead}.persons.parquet.abc.parquet"
    left_dir = tmp_path / f"{TEMP_PREFIX}{dead}.reg.xyz"
    live = tmp_path / f"{TEMP_PREFIX}{os.getpid()}.x.csv.123"
    old_unknown = tmp_path / f"{TEMP_PREFIX}legacy.q"
    young_unknown = tmp_path / f"{TEMP_PREFIX}legacy.r"
    left_file.write_text("p")
    left_dir.mkdir()
    (left_dir / "persons.parquet").write_text("p")
    for p in (live, old_unknown, young_unknown):
        p.write_text("x")
    os.utime(old_unknown, (time.time() - 7200, time.time() - 7200))
    # the next write into the folder (any command) removes what dead runs left
    atomic_write_text(tmp_path / "out.csv", "a\n")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(["out.csv", live.name, young_unknown.name])
    assert sweep_stale(tmp_path) == []


def test_a_folder_moved_aside_by_a_killed_run_is_put_back(tmp_path):
    dead = _dead_pid()
    aside = tmp_path / f"{TEMP_PREFIX}{dead}.old.abc"
    (aside / "reg").mkdir(parents=True)
    (aside / "reg" / "persons.parquet").write_text("the previous register")
    dropped = tmp_path / f"{TEMP_PREFIX}{dead}.old.def"  # target back in place: just removed
    (dropped / "x").mkdir(parents=True)
    (tmp_path / "x").mkdir()
    sweep_stale(tmp_path)
    assert (tmp_path / "reg" / "persons.parquet").read_text() == "the previous register"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reg", "x"]


SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from ozamonitor.files import atomic_dir, atomic_write, clean_on_signals
    out = Path(sys.argv[1])
    with clean_on_signals():
        with atomic_dir(out / "reg", private=True) as d, atomic_write(out / "t.csv") as t:
            (d / "persons.parquet").write_text("person-level")
            t.write_text("half")
            print("ready", flush=True)
            time.sleep(60)
""")


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 128 + signal.SIGTERM),
                                       (signal.SIGINT, None)])
def test_a_terminated_writer_leaves_nothing(tmp_path, sig, code):
    p = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout is not None
    assert p.stdout.readline().strip() == "ready"
    assert any(tmp_path.iterdir())
    p.send_signal(sig)
    rc = p.wait(timeout=30)
    assert rc != 0
    if code is not None:
        assert rc == code
    assert list(tmp_path.iterdir()) == []


SRC = Path(__file__).resolve().parents[1] / "src" / "ozamonitor"
WRITES = ("write_csv(", "to_csv(", "write_excel(", "wb.save(", ".writerow(", ".writerows(")


def test_every_spreadsheet_and_csv_writer_is_formula_safe():
    """A writer added later that forgets formula_safe / safe_cell / text_cells fails here."""
    allowed = {"files.py", "web/demo.py"}  # demo accounts: fixed names, no data
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        if rel in allowed or rel.startswith("sequences/seqdata"):
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if line.lstrip().startswith(("#", "def ", '"""')) or "header)" in line:
                continue
            if any(w in line for w in WRITES):
                near = " ".join(lines[max(0, i - 2):i + 1])
                if not any(f in near for f in ("formula_safe(", "safe_cell(", "text_cells(")):
                    offenders.append(f"{rel}:{i + 1}: {line.strip()}")
    assert offenders == []


def test_count_table_with_a_formula_region_is_safe_in_csv_and_xlsx(tmp_path):
    from openpyxl import load_workbook

    from ozamonitor.counting.output import write_sheets, write_table

    df = pl.DataFrame({"region": ['=HYPERLINK("http://evil","klik")', "GM0001"],
                       "count": ["12", "<10"]})
    write_table(df, tmp_path / "c.csv")
    assert pl.read_csv(tmp_path / "c.csv")["region"][0].startswith("'=HYPERLINK")
    write_sheets({"data": df}, tmp_path / "c.xlsx")
    ws = load_workbook(tmp_path / "c.xlsx").active
    cell = ws["A2"]
    assert cell.data_type == "s" and cell.value.startswith("'=")


def test_openpyxl_exchange_files_store_text_not_formulas(tmp_path):
    from openpyxl import Workbook, load_workbook

    from ozamonitor.files import text_cells

    wb = Workbook()
    wb.active.append(["=cmd|' /C calc'!A0", "ok"])
    text_cells(wb).save(tmp_path / "x.xlsx")
    ws = load_workbook(tmp_path / "x.xlsx").active
    assert (ws["A1"].data_type, ws["A1"].value) == ("s", "=cmd|' /C calc'!A0")
