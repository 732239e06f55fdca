"""Property-based fuzzing of the import: random corruptions of a valid delivery.

The invariant: the import either refuses with an ozamonitor error whose lines
name file, row and field (never a traceback of another kind), or writes a
complete register that validates; and no BSN of the delivery is ever in a
message or in the register on disk.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ozamonitor.errors import OzamonitorError
from ozamonitor.register.example import EXAMPLE_EXTRACTION_DATE, example_source_tables
from ozamonitor.register.importer import ImportValidationError, import_register
from ozamonitor.register.template import export_template
from ozamonitor.register.validate import validate_register

KEY = b"fuzz-test-key-0123456789abcdefghijklmnop"
BSNS = sorted({b for df in example_source_tables().values() if "bsn" in df.columns
               for b in df["bsn"].drop_nulls().to_list()})
FILES = ("persons.csv", "enrolments.csv", "schools.csv", "regions.csv", "exemptions.csv",
         "care_spells.csv", "oza_participation.csv")
#: ``file:row:field: message`` or ``file:row: message`` or ``file: message``
LOCATED = re.compile(r"^[^:\s]+\.(csv|parquet|xlsx)(\[[^\]]+\])?(:\d+)?(:[^:]*)?: .+")

values = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "NA", "null", "=1+1", "-", "\x00", "ja", "nee", "2023-02-30",
                     "31-12-2023", "9999-12-31", "1900-01-01", "-1", "1e9", "０１２", "\u200b"]),
    st.sampled_from(BSNS).map(lambda b: f"school {b}"),
    st.integers(min_value=0, max_value=10**10).map(str),
    st.just("x" * 20_000),
)


@st.composite
def corruption(draw: st.DrawFn) -> tuple[str, str, object]:
    file = draw(st.sampled_from(FILES))
    kind = draw(st.sampled_from(["cell", "cell", "cell", "drop_column", "extra_column",
                                 "duplicate_row", "ragged", "latin1", "truncate", "header"]))
    arg: object = None
    if kind == "cell":
        arg = (draw(st.integers(0, 10)), draw(st.integers(0, 12)), draw(values))
    elif kind in ("drop_column", "truncate"):
        arg = draw(st.integers(0, 200))
    elif kind == "header":
        arg = draw(st.text(min_size=1, max_size=12))
    return file, kind, arg


def _corrupt(path: Path, kind: str, arg: object) -> None:
    raw = path.read_bytes()
    lines = raw.decode("utf-8", "surrogateescape").splitlines()
    if kind == "cell":
        r, c, v = arg  # type: ignore[misc]
        r = 1 + r % max(len(lines) - 1, 1)
        if r < len(lines):
            cells = lines[r].split(",")
            cells[c % len(cells)] = '"' + str(v).replace('"', '""') + '"'
            lines[r] = ",".join(cells)
    elif kind == "drop_column":
        i = int(arg) % len(lines[0].split(","))  # type: ignore[call-overload]
        lines = [",".join(x for j, x in enumerate(line.split(",")) if j != i) for line in lines]
    elif kind == "extra_column":
        lines = [lines[0] + ",extra"] + [line + ",1" for line in lines[1:]]
    elif kind == "duplicate_row" and len(lines) > 1:
        lines.append(lines[1])
    elif kind == "ragged" and len(lines) > 1:
        lines[1] += ",surplus"
    elif kind == "header":
        cells = lines[0].split(",")
        cells[0] = str(arg).replace(",", "").replace("\n", "") or "x"
        lines[0] = ",".join(cells)
    if kind == "latin1":
        path.write_bytes(raw.replace(b"e", "\u00eb".encode("latin-1"), 3))
    elif kind == "truncate":
        path.write_bytes(raw[: int(arg) % max(len(raw), 1)])  # type: ignore[call-overload]
    else:
        path.write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"))


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("fuzz") / "src"
    export_template(src, "csv", example=True)
    (src / "mapping.example.yaml").unlink()
    return src


def _no_bsn_on_disk(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.suffix == ".parquet":
            df = pl.read_parquet(p)
            text = " ".join(str(v) for c in df.columns for v in df[c].cast(pl.String).to_list())
        elif p.is_file():
            text = p.read_bytes().decode("utf-8", errors="replace")
        else:
            continue
        assert not [b for b in BSNS if b in text], p.name


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(corruption(), min_size=1, max_size=3))
def test_corrupted_deliveries_are_refused_cleanly_or_imported_whole(delivery, changes):
    with tempfile.TemporaryDirectory() as d:
        src, out = Path(d) / "src", Path(d) / "reg"
        shutil.copytree(delivery, src)
        for file, kind, arg in changes:
            _corrupt(src / file, kind, arg)
        try:
            import_register(src, out, key=KEY, extraction_date=EXAMPLE_EXTRACTION_DATE)
        except OzamonitorError as e:
            msg = str(e) + "\n" + "\n".join(
                str(p) for p in getattr(e, "report", []) if isinstance(e, ImportValidationError))
            assert not [b for b in BSNS if b in msg]
            if isinstance(e, ImportValidationError):
                for p in e.report:
                    assert LOCATED.match(str(p)), str(p)
                    assert p.row >= 0 and p.file
            assert not out.exists()
            assert [p.name for p in Path(d).iterdir()] == ["src"]  # nothing half-written
        else:
            assert list(validate_register(out)) == []
            _no_bsn_on_disk(out)


CASES = Path(__file__).parent / "data" / "fuzz_cases"


@pytest.mark.parametrize("case", sorted(CASES.glob("*.bin")) or [None],
                         ids=lambda p: p.name if p else "none-saved")
def test_saved_fuzzer_cases_stay_fixed(case):
    """Crashes found by ``benchmarks/fuzz_readers.py`` (atheris) are replayed here."""
    if case is None:
        pytest.skip("no fuzzer crash saved")
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "fuzz_readers", Path(__file__).parents[1] / "benchmarks" / "fuzz_readers.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.run_one(case.read_bytes(), case.name.split("-")[0])
