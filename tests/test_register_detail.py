"""Schema 1.2: support needs, care by law, school events, arrangement detail.

Older registers read the new tables as empty and the new columns as null; each new
cross-table rule fires on a hand-made register and names file:row:field; sources may
leave the new optional columns out; the new person tables are pseudonymised on import.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from ozamonitor.register.example import EXAMPLE_EXTRACTION_DATE, example_source_tables
from ozamonitor.register.importer import import_register
from ozamonitor.register.pseudonym import pseudonymise
from ozamonitor.register.schema import SCHEMA_VERSION, TABLES
from ozamonitor.register.schema_detail import DETAIL_TABLES
from ozamonitor.register.store import Register, write_register
from ozamonitor.register.template import write_source_file
from ozamonitor.register.validate import validate_register, validate_tables
from ozamonitor.register.validate_detail import covered

KEY = b"detail-test-key-0123456789abcdef-more"
EXT = EXAMPLE_EXTRACTION_DATE
D = dt.date.fromisoformat


def tables() -> dict[str, pl.DataFrame]:
    out = {}
    for name, df in example_source_tables().items():
        if "bsn" in df.columns:
            df = df.with_columns(person_id=pseudonymise(df["bsn"], KEY)).drop("bsn")
        out[name] = df
    return out


def pid(bsn: str) -> str:
    return pseudonymise([bsn], KEY)[0]


def test_schema_version_and_new_tables() -> None:
    assert SCHEMA_VERSION == "1.2"
    for t in DETAIL_TABLES:
        assert t.since == "1.2" and t.name in TABLES
    cs = TABLES["care_spells"]
    assert [c.name for c in cs.columns if c.since == "1.2"] == ["delivery", "decided_by"]
    assert "personal_care" in cs.column("kind").codes  # type: ignore[operator]


def _as_version_1_1(path: Path) -> None:
    """Turn a register into one written by schema 1.1: no new tables, no new columns."""
    for t in DETAIL_TABLES:
        (path / t.file).unlink()
    f = path / "care_spells.parquet"
    pl.read_parquet(f).drop("delivery", "decided_by").write_parquet(f)
    mf = json.loads((path / "manifest.json").read_text())
    mf["schema_version"] = "1.1"
    for t in DETAIL_TABLES:
        mf["tables"].pop(t.name)
    mf["tables"]["care_spells"].pop("sha256")
    (path / "manifest.json").write_text(json.dumps(mf))


def test_older_register_reads_new_tables_empty_and_columns_null(tmp_path: Path) -> None:
    t = tables()
    t["arrangement_providers"] = t["arrangement_providers"].clear()
    path = write_register(tmp_path / "reg", t, extraction_date=EXT)
    _as_version_1_1(path)
    reg = Register(path)
    assert reg.later_tables == {x.name for x in DETAIL_TABLES}
    assert reg.later_columns == {"care_spells": ("delivery", "decided_by")}
    for x in DETAIL_TABLES:
        assert reg.read(x.name).height == 0 and reg.rows(x.name) == 0
    cs = reg.read("care_spells")
    assert cs.columns == TABLES["care_spells"].column_names
    assert cs["delivery"].null_count() == cs.height == 2
    assert reg.read("care_spells", ["decided_by", "law"]).columns == ["decided_by", "law"]
    assert reg.scan("care_spells").collect().equals(cs)
    got = reg.sql("select count(*), count(delivery) from care_spells").fetchall()[0]
    assert got == (2, 0)
    # the provider rule needs arrangement_providers: skipped for a 1.1 register
    r = validate_register(reg)
    assert r.ok, r.lines()


def test_example_with_detail_is_valid() -> None:
    r = validate_tables(tables(), EXT)
    assert r.ok, r.lines()


def _lines(t: dict[str, pl.DataFrame]) -> list[str]:
    return validate_tables(t, EXT).lines()


def test_wlz_spell_needs_an_indication() -> None:
    t = tables()
    t["wlz_indications"] = t["wlz_indications"].with_columns(start=pl.lit(D("2022-03-02")))
    lines = _lines(t)
    assert ("care_spells.parquet:2:start: Wlz care from 2022-03-01 without a Wlz indication "
            "(CIZ) on that date") in lines
    t["wlz_indications"] = t["wlz_indications"].clear()
    assert any(":indication" in x or "without a Wlz indication" in x for x in _lines(t))


def test_participation_needs_an_enrolment_on_its_start() -> None:
    t = tables()
    t["oza_participation"] = t["oza_participation"].with_columns(
        start=pl.when(pl.col("arrangement_id") == "OZA02").then(pl.lit(D("2024-03-01")))
        .otherwise(pl.col("start")))
    lines = _lines(t)
    assert ("oza_participation.parquet:2:start: participation starts 2024-03-01 but the "
            "pupil is not enrolled at a school that day") in lines
    assert validate_tables(t, EXT).counts == {"enrolment": 1}


def test_participation_needs_a_provider_with_a_financier() -> None:
    t = tables()
    t["arrangement_providers"] = t["arrangement_providers"].filter(
        pl.col("arrangement_id") == "OZA02")
    r = validate_tables(t, EXT)
    assert r.counts == {"provider": 1}
    assert r.lines() == ["oza_participation.parquet:1:arrangement_id: arrangement 'OZA01' has "
                         "no care provider with a financier on 2023-09-01"]
    t = tables()
    t["arrangement_providers"] = t["arrangement_providers"].with_columns(
        start=pl.lit(D("2024-10-01")))
    assert validate_tables(t, EXT).counts == {"provider": 2}


def test_financier_and_region_kinds_and_codes() -> None:
    t = tables()
    t["care_spells"] = t["care_spells"].with_columns(financier=pl.lit("gemeente"))
    assert ("care_spells.parquet:2:financier: wlz care is paid by the zorgkantoor, not by "
            "'gemeente'") in _lines(t)
    t = tables()
    t["care_spells"] = t["care_spells"].with_columns(decided_by=pl.lit("PO2701"))
    t["tlvs"] = t["tlvs"].with_columns(swv_id=pl.lit("GM0363"))
    t["support_needs"] = t["support_needs"].with_columns(need=pl.lit("boredom"))
    t["arrangement_periods"] = t["arrangement_periods"].with_columns(hours_per_week=pl.lit(50.0))
    lines = _lines(t)
    assert "care_spells.parquet:1:decided_by: region 'PO2701' is a swv_po, expected gemeente" \
        in lines
    assert "tlvs.parquet:1:swv_id: region 'GM0363' is a gemeente, expected swv_po or swv_vo" \
        in lines
    assert any(x.startswith("support_needs.parquet:1:need: invalid code 'boredom'")
               for x in lines)
    assert any(x.startswith("arrangement_periods.parquet:1:hours_per_week: 50.0 is above")
               for x in lines)


def test_covered_matches_brute_force() -> None:
    rng = __import__("numpy").random.default_rng(5)
    n, m = 60, 80
    base = D("2020-01-01")
    ev = pl.DataFrame({"_row": range(1, n + 1), "person_id": rng.integers(0, 6, n).astype(str),
                       "on": [base + dt.timedelta(days=int(x)) for x in rng.integers(0, 60, n)]})
    s = rng.integers(0, 60, m)
    e = [None if rng.random() < 0.2 else base + dt.timedelta(days=int(a + rng.integers(0, 9)))
         for a in s]
    sp = pl.DataFrame({"person_id": rng.integers(0, 6, m).astype(str),
                       "start": [base + dt.timedelta(days=int(a)) for a in s], "end": e},
                      schema={"person_id": pl.String, "start": pl.Date, "end": pl.Date})
    got = set(covered(ev.lazy(), "on", sp.lazy()).collect()["_row"])
    want = set()
    for r in ev.iter_rows(named=True):
        ok = any(x["person_id"] == r["person_id"] and x["start"] <= r["on"]
                 and (x["end"] is None or x["end"] >= r["on"]) for x in sp.iter_rows(named=True))
        if not ok:
            want.add(r["_row"])
    assert got == want


def test_import_without_optional_columns_and_pseudonymised(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name, df in example_source_tables().items():
        if name == "care_spells":
            df = df.drop("delivery", "decided_by")  # a source of before schema 1.2
        if name == "support_needs":  # Dutch column names through the mapping
            df = df.rename({"need": "Ondersteuningsbehoefte", "source": "Bron"})
        write_source_file(df, src / f"{name}.csv")
    (src / "mapping.yaml").write_text(
        "version: 1\ntables:\n  support_needs:\n    file: support_needs.csv\n"
        "    columns: {Ondersteuningsbehoefte: need, Bron: source}\n"
        "    codes: {need: {'psychische gezondheid': mental_health}}\n")
    (src / "support_needs.csv").write_text(
        (src / "support_needs.csv").read_text().replace("mental_health",
                                                        "psychische gezondheid"))
    out = import_register(src, tmp_path / "reg", mapping=src / "mapping.yaml", key=KEY,
                          extraction_date=EXT)
    reg = Register(out)
    assert reg.read("care_spells")["delivery"].null_count() == 2
    sn = reg.read("support_needs")
    assert sn.height == 4 and "mental_health" in sn["need"].to_list()
    assert set(sn["person_id"]) <= set(reg.read("persons")["person_id"])
    assert pid("123456782") in set(sn["person_id"])
    for f in out.iterdir():
        assert b"123456782" not in f.read_bytes()


@pytest.mark.parametrize("table", ["tlvs", "wlz_indications", "pupil_transport"])
def test_import_reports_file_row_field(tmp_path: Path, table: str) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name, df in example_source_tables().items():
        if name == table:
            col = {"tlvs": "category", "wlz_indications": "care_profile",
                   "pupil_transport": "financier"}[table]
            df = df.with_columns(pl.lit("nonsense").alias(col))
        write_source_file(df, src / f"{name}.csv")
    with pytest.raises(Exception) as e:
        import_register(src, tmp_path / "reg", key=KEY, extraction_date=EXT)
    assert f"{table}.csv:1:" in str(e.value.report.lines()) or f"{table}.csv:1:" in str(e.value)
