"""Register info (sizes, date ranges, pupils on 1 October), schema docs, synthetic register."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from ozamonitor.register.example import EXAMPLE_EXTRACTION_DATE, example_source_tables
from ozamonitor.register.info import register_info
from ozamonitor.register.pseudonym import pseudonymise
from ozamonitor.register.schema import TABLES
from ozamonitor.register.schemadoc import END, START, embed, schema_markdown
from ozamonitor.register.store import write_register
from ozamonitor.register.validate import validate_register

KEY = b"info-test-key-0123456789abcdefghijkl"
DOCS = Path(__file__).parents[1] / "docs" / "register.md"


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tables = {}
    for name, df in example_source_tables().items():
        if "bsn" in df.columns:
            df = df.with_columns(person_id=pseudonymise(df["bsn"], KEY)).drop("bsn")
        tables[name] = df
    return write_register(tmp_path_factory.mktemp("info") / "reg", tables,
                          extraction_date=EXAMPLE_EXTRACTION_DATE,
                          manifest_extra={"synth": {"seed": 7, "scale": 0.5}})


def _brute_pupils(d: dt.date) -> dict[str, int]:
    """Pupils enrolled on date d per sector (and total), by plain Python."""
    t = example_source_tables()
    sector = dict(zip(t["schools"]["school_id"], t["schools"]["sector"], strict=True))
    per: dict[str, set[str]] = {}
    for r in t["enrolments"].iter_rows(named=True):
        if r["start"] <= d and (r["end"] is None or r["end"] >= d):
            per.setdefault(sector[r["school_id"]], set()).add(r["bsn"])
            per.setdefault("total", set()).add(r["bsn"])
    return {k: len(v) for k, v in per.items()}


def test_info_matches_brute_force(register: Path) -> None:
    info = register_info(register)
    assert info.extraction_date == EXAMPLE_EXTRACTION_DATE
    assert info.facts["synthetic seed"] == 7 and info.facts["synthetic scale"] == 0.5
    sizes = dict(info.sizes.select("table", "rows").iter_rows())
    assert sizes == {n: df.height for n, df in example_source_tables().items()}
    enr = info.date_ranges.filter(pl.col("table") == "enrolments")
    assert enr.row(0) == ("enrolments", "start", dt.date(2016, 6, 1), dt.date(2024, 9, 1), 0)
    assert enr.row(1)[4] == 3  # three open enrolments
    wide = info.enrolled_wide()
    assert wide["school_year"].to_list() == [f"{y}-{y + 1}" for y in range(2016, 2026)]
    for row in wide.iter_rows(named=True):
        y = int(row["school_year"][:4])
        want = _brute_pupils(dt.date(y, 10, 1))
        got = {k: v for k, v in row.items() if k != "school_year" and v}
        assert got == want, row["school_year"]


def test_info_of_empty_register(tmp_path: Path) -> None:
    out = write_register(tmp_path / "empty", {}, extraction_date=dt.date(2025, 1, 1))
    info = register_info(out)
    assert info.enrolled.height == 0 and info.enrolled_wide().height == 0
    assert info.sizes["rows"].sum() == 0
    assert validate_register(out).ok


def test_docs_tables_are_generated_from_the_schema() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert START in text and END in text
    assert embed(text) == text, "run: python -m ozamonitor.register.schemadoc --write " \
        "docs/register.md"
    md = schema_markdown()
    for name in TABLES:
        assert f"### `{name}`" in md


def test_tiny_synthetic_register_is_valid(tmp_path: Path) -> None:
    synth = pytest.importorskip("ozamonitor.synth")
    if not hasattr(synth, "generate"):
        pytest.skip("ozamonitor.synth.generate not available yet")
    out = synth.generate(tmp_path / "synth", scale=0.002, seed=1)
    report = validate_register(out)
    assert report.ok, "\n".join(report.lines()[:50]) + f"\n{report.counts}"
