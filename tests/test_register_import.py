"""Import round trips (CSV, Parquet, xlsx, mapping formats), all-or-nothing, no BSN leaks, CLI."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tomllib
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from ozamonitor.cli.main import app
from ozamonitor.register.example import EXAMPLE_EXTRACTION_DATE, example_source_tables
from ozamonitor.register.importer import (
    ImportValidationError,
    SourceError,
    import_register,
    import_tables,
)
from ozamonitor.register.mapping import MappingError, load_mapping
from ozamonitor.register.pseudonym import KEY_ENV, PseudonymKeyError, pseudonymise
from ozamonitor.register.schema import TABLES
from ozamonitor.register.store import Register
from ozamonitor.register.template import export_template, write_source_file
from ozamonitor.register.validate import validate_register

DATA = Path(__file__).parent / "data" / "register_nl"
KEY = b"import-test-key-0123456789abcdefghijkl"
EXT = EXAMPLE_EXTRACTION_DATE
#: the Dutch delivery holds these tables of the example (others are absent, i.e. empty)
NL_TABLES = ("regions", "schools", "persons", "enrolments", "exemptions")
BSNS = ("111222333", "123456782", "012345672", "100000009")
runner = CliRunner()


def expected(name: str) -> pl.DataFrame:
    """The example table as the register should hold it (pseudonyms, schema order)."""
    df = example_source_tables()[name]
    if "bsn" in df.columns:
        df = df.with_columns(person_id=pseudonymise(df["bsn"], KEY)).drop("bsn")
    return df.select(TABLES[name].column_names)


def assert_register_matches_example(path: Path, names: tuple[str, ...]) -> None:
    reg = Register(path)
    assert reg.extraction_date == EXT
    for name in TABLES:
        got = reg.read(name)
        if name in names:
            assert got.equals(expected(name)), (name, got, expected(name))
        else:
            assert got.height == 0
    assert validate_register(reg).ok


def assert_no_bsn(path: Path) -> None:
    """No BSN appears in any file, raw bytes or decoded cells, nor names from the source."""
    for f in path.rglob("*"):
        if not f.is_file():
            continue
        raw = f.read_bytes()
        for b in BSNS:
            assert b.encode() not in raw, (f, b)
        assert b"Jansen" not in raw
        if f.suffix == ".parquet":
            df = pl.read_parquet(f)
            text = " ".join(str(v) for c in df.columns for v in df[c].to_list())
            for b in (*BSNS, "12345672"):
                assert b not in text, (f, b)


def dutch_copy(tmp: Path, fmt: str) -> Path:
    """The Dutch delivery converted to another format (values kept as text)."""
    out = tmp / f"nl_{fmt}"
    out.mkdir()
    for f in DATA.glob("*.csv"):
        df = pl.read_csv(f, separator=";", infer_schema=False)
        write_source_file(df, out / f"{f.stem}.{fmt}")
    return out


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_dutch_delivery_round_trip(tmp_path: Path, fmt: str) -> None:
    src = DATA if fmt == "csv" else dutch_copy(tmp_path, fmt)
    out = import_register(src, tmp_path / "reg", mapping=DATA / "mapping.yaml", key=KEY,
                          extraction_date=EXT)
    assert_register_matches_example(out, NL_TABLES)
    assert_no_bsn(out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["import"]["mapping"] == "mapping.yaml"
    assert manifest["import"]["dropped_columns"] == {f"leerlingen.{fmt}": ["Naam"]}


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_example_in_schema_names_round_trip(tmp_path: Path, fmt: str) -> None:
    export_template(tmp_path / "src", fmt, example=True)  # type: ignore[arg-type]
    (tmp_path / "src" / "mapping.example.yaml").unlink()
    out = import_register(tmp_path / "src", tmp_path / "reg", key=KEY, extraction_date=EXT)
    assert_register_matches_example(out, tuple(TABLES))
    assert_no_bsn(out)


def test_workbook_with_one_sheet_per_table(tmp_path: Path) -> None:
    book = tmp_path / "levering.xlsx"
    import xlsxwriter

    with xlsxwriter.Workbook(book) as wb:
        for name, df in example_source_tables().items():
            df.write_excel(wb, worksheet=name, dtype_formats={pl.Date: "dd-mm-yyyy"})
    out = import_register(book, tmp_path / "reg", key=KEY, extraction_date=EXT)
    assert_register_matches_example(out, tuple(TABLES))
    res = import_tables(book, key=KEY, extraction_date=EXT)
    assert res.sources["persons"].display == "levering.xlsx[persons]"


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_toml_and_json_mappings_equal_yaml(tmp_path: Path, suffix: str) -> None:
    data = yaml.safe_load((DATA / "mapping.yaml").read_text())
    src = tmp_path / "src"
    shutil.copytree(DATA, src)
    (src / "mapping.yaml").unlink()
    mp = tmp_path / f"mapping{suffix}"
    if suffix == ".json":
        mp.write_text(json.dumps(data))
    else:
        mp.write_text(_to_toml(data))
        assert tomllib.loads(mp.read_text()) == data
    assert load_mapping(mp).tables["persons"].columns == load_mapping(
        DATA / "mapping.yaml").tables["persons"].columns
    out = import_register(src, tmp_path / "reg", mapping=mp, key=KEY, extraction_date=EXT)
    assert_register_matches_example(out, NL_TABLES)


def _to_toml(d: dict, prefix: str = "") -> str:
    """Minimal TOML writer for the test mapping (strings, ints, nested tables)."""
    def val(v: object) -> str:
        return json.dumps(v) if isinstance(v, str) else str(v)

    lines = [f"{json.dumps(k)} = {val(v)}" for k, v in d.items() if not isinstance(v, dict)]
    out = "\n".join(lines) + "\n"
    for k, v in d.items():
        if isinstance(v, dict):
            name = f"{prefix}.{json.dumps(k)}" if prefix else json.dumps(k)
            out += f"\n[{name}]\n" + _to_toml(v, name)
    return out


def test_single_file_with_table_and_person_ids(tmp_path: Path) -> None:
    t = example_source_tables()
    (tmp_path / "d").mkdir()
    for name in ("regions", "schools"):
        write_source_file(t[name], tmp_path / "d" / f"{name}.csv")
    write_source_file(expected("persons"), tmp_path / "d" / "leerlingen.csv")
    # a source pseudonymised elsewhere carries person_id and no bsn: no key needed
    res = import_tables(tmp_path / "d" / "leerlingen.csv", table="persons", extraction_date=EXT)
    assert res.report.ok and res.key_id is None
    got = res.tables["persons"]["person_id"].to_list()
    assert got == expected("persons")["person_id"].to_list()
    with pytest.raises(SourceError, match="pass --table"):
        import_tables(tmp_path / "d" / "leerlingen.csv", extraction_date=EXT)
    with pytest.raises(SourceError, match="not a table name"):
        import_tables(tmp_path / "d", extraction_date=EXT)


def test_person_id_that_is_a_bsn_is_refused(tmp_path: Path) -> None:
    df = example_source_tables()["persons"].rename({"bsn": "person_id"})
    write_source_file(df, tmp_path / "persons.csv")
    res = import_tables(tmp_path / "persons.csv", extraction_date=EXT)
    assert res.report.counts == {"bsn": 4}
    assert "deliver it in a column named bsn" in res.report[0].message


def test_refuses_without_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(PseudonymKeyError, match=KEY_ENV):
        import_register(DATA, tmp_path / "reg", mapping=DATA / "mapping.yaml",
                        extraction_date=EXT)
    assert not (tmp_path / "reg").exists()
    monkeypatch.setenv(KEY_ENV, KEY.decode())
    out = import_register(DATA, tmp_path / "reg", mapping=DATA / "mapping.yaml",
                          extraction_date=EXT)
    assert_register_matches_example(out, NL_TABLES)


def _broken_copy(tmp: Path) -> Path:
    src = tmp / "bad"
    shutil.copytree(DATA, src)
    ins = (src / "inschrijvingen.csv").read_text()
    ins = ins.replace("123456782;10AA00;01-06-2016", "123456782;10AA00;31-02-2016")
    ins = ins.replace("012345672;10AA00;01-09-2018", "012345672;99ZZ00;01-09-2018")
    ins = ins.replace("100000009;40DD00;01-09-2024", "100000009;40DD00;01-09-2021")
    (src / "inschrijvingen.csv").write_text(ins)
    ll = (src / "leerlingen.csv").read_text()
    ll = ll.replace("100000009;Piet", "100000008;Piet").replace(";5;Nederlands", ";vijf;Nederlands")
    (src / "leerlingen.csv").write_text(ll)
    return src


BROKEN_LINES = [
    "inschrijvingen.csv:3:Begindatum: cannot read '31-02-2016' as a date (%d-%m-%Y)",
    "inschrijvingen.csv:6:Vestiging: unknown school_id '99ZZ00' (not in schools: scholen.csv)",
    "inschrijvingen.csv:7:BSN: BSN not found in persons (leerlingen.csv)",
    "inschrijvingen.csv:8:BSN: BSN not found in persons (leerlingen.csv)",
    "inschrijvingen.csv:8:Begindatum: enrolment 2021-09-01..open overlaps row 7 "
    "(2019-08-01..2022-02-28) of the same person",
    "leerlingen.csv:1:Inkomensdeciel: cannot read 'vijf' as a whole number",
    "leerlingen.csv:4:BSN: invalid BSN: not 9 digits passing the eleven-test (elfproef)",
]


def test_all_or_nothing_with_source_locations(tmp_path: Path) -> None:
    src = _broken_copy(tmp_path)
    out = tmp_path / "reg"
    with pytest.raises(ImportValidationError) as ei:
        import_register(src, out, mapping=src / "mapping.yaml", key=KEY, extraction_date=EXT)
    assert not out.exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    e = ei.value
    assert e.report.lines() == BROKEN_LINES
    assert e.report.counts == {"parse": 2, "bsn": 1, "reference": 3, "overlap": 1}
    assert e.rows_failed == 6
    assert "nothing written" in str(e)
    # the bad BSN itself is never echoed
    assert "100000008" not in "\n".join(e.report.lines())


def test_existing_register_untouched_by_failed_import(tmp_path: Path) -> None:
    out = import_register(DATA, tmp_path / "reg", mapping=DATA / "mapping.yaml", key=KEY,
                          extraction_date=EXT)
    before = (out / "manifest.json").read_bytes()
    src = _broken_copy(tmp_path)
    with pytest.raises(ImportValidationError):
        import_register(src, out, mapping=src / "mapping.yaml", key=KEY, extraction_date=EXT)
    assert (out / "manifest.json").read_bytes() == before


def test_never_replaces_a_folder_that_is_not_a_register(tmp_path: Path) -> None:
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "thesis.txt").write_text("do not delete")
    with pytest.raises(SourceError, match="not a register"):
        import_register(DATA, precious, mapping=DATA / "mapping.yaml", key=KEY,
                        extraction_date=EXT)
    assert (precious / "thesis.txt").read_text() == "do not delete"


def test_bad_mapping_is_a_clear_error(tmp_path: Path) -> None:
    mp = tmp_path / "m.yaml"
    mp.write_text("tables:\n  persons:\n    columns: {Geboortedatum: geboortedatum}\n")
    with pytest.raises(MappingError, match=r"m\.yaml\.tables\.persons\.columns\.Geboortedatum"):
        load_mapping(mp)
    mp.write_text("tabels: {}\n")
    with pytest.raises(MappingError, match="unknown key"):
        load_mapping(mp)


def test_cli_import_validate_info(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    key = tmp_path / "key.txt"
    key.write_bytes(KEY + b"\n")
    out = tmp_path / "reg"
    args = ["import", str(DATA), "--out", str(out), "--mapping", str(DATA / "mapping.yaml"),
            "--extraction-date", "2025-10-15"]
    r = runner.invoke(app, args)
    assert r.exit_code == 2 and "no pseudonymisation key" in r.output
    r = runner.invoke(app, [*args, "--key-file", str(key)])
    assert r.exit_code == 0, r.output
    assert "imported 23 rows" in r.output and "Naam" in r.output
    assert_register_matches_example(out, NL_TABLES)
    r = runner.invoke(app, [*args, "--key-file", str(key)])
    assert r.exit_code == 2 and "--force" in r.output
    r = runner.invoke(app, ["validate", str(out)])
    assert r.exit_code == 0 and "valid" in r.output
    r = runner.invoke(app, ["validate", "-r", str(out)])  # the style of the other commands
    assert r.exit_code == 0 and "valid" in r.output
    r = runner.invoke(app, ["validate"])
    assert r.exit_code == 2 and "no register given" in r.output
    r = runner.invoke(app, ["info", "--register", str(out)])
    assert r.exit_code == 0, r.output
    assert "2025-10-15" in r.output and "2019-2020" in r.output


def test_cli_import_errors_and_validate_errors(tmp_path: Path) -> None:
    src = _broken_copy(tmp_path)
    key = tmp_path / "key.txt"
    key.write_bytes(KEY)
    r = runner.invoke(app, ["import", str(src), "--out", str(tmp_path / "reg"), "--mapping",
                            str(src / "mapping.yaml"), "--key-file", str(key),
                            "--extraction-date", "2025-10-15", "--max-errors", "3"])
    assert r.exit_code == 1
    for line in BROKEN_LINES[:3]:
        assert line in r.output
    assert BROKEN_LINES[3] not in r.output and "4 more problem(s)" in r.output
    assert "6 source row(s)" in r.output and not (tmp_path / "reg").exists()
    # validate: a register edited behind our back
    good = import_register(DATA, tmp_path / "good", mapping=DATA / "mapping.yaml", key=KEY,
                           extraction_date=EXT)
    enr = pl.read_parquet(good / "enrolments.parquet")
    enr.with_columns(tlv_category=pl.lit("low")).write_parquet(good / "enrolments.parquet")
    r = runner.invoke(app, ["validate", str(good), "--max-errors", "2"])
    assert r.exit_code == 1
    assert "enrolments.parquet:1:tlv_category: tlv_category 'low' given" in r.output
    assert "tlv" in r.output and "problem(s)" in r.output
    r = runner.invoke(app, ["validate", str(tmp_path / "nothing")])
    assert r.exit_code == 2 and "not a register" in r.output
    r = runner.invoke(app, ["import", str(DATA), "--out", str(tmp_path / "x"),
                            "--extraction-date", "15-10-2025"])
    assert r.exit_code == 2 and "YYYY-MM-DD" in r.output


def test_cli_export_template(tmp_path: Path) -> None:
    for fmt in ("csv", "xlsx"):
        r = runner.invoke(app, ["export-template", str(tmp_path / fmt), "--format", fmt])
        assert r.exit_code == 0, r.output
        files = sorted(p.name for p in (tmp_path / fmt).iterdir())
        assert f"persons.{fmt}" in files and "mapping.example.yaml" in files
    header = (tmp_path / "csv" / "enrolments.csv").read_text().splitlines()[0]
    assert header == "bsn,school_id,start,end,end_reason,tlv_category"
    assert pl.read_excel(tmp_path / "xlsx" / "persons.xlsx").columns[0] == "bsn"
    # the mapping example is a valid mapping
    load_mapping(tmp_path / "csv" / "mapping.example.yaml")
    r = runner.invoke(app, ["export-template", str(tmp_path / "y"), "--format", "ods"])
    assert r.exit_code == 2


def test_extraction_date_default_and_future_dates(tmp_path: Path) -> None:
    res = import_tables(DATA, mapping=DATA / "mapping.yaml", key=KEY,
                        extraction_date=dt.date(2020, 1, 1))
    assert res.report.counts.get("future", 0) > 0
    assert all(p.file.endswith(".csv") for p in res.report)
    res = import_tables(DATA, mapping=DATA / "mapping.yaml", key=KEY)
    assert res.report.ok and res.extraction_date == dt.date.today()


def test_cp1252_csv_and_integer_bsns_in_parquet(tmp_path: Path) -> None:
    (tmp_path / "regio.csv").write_bytes(
        "Code;Soort;Naam\nGM0363;gemeente;Amsterdam café\n".encode("cp1252"))
    mapping = {"encoding": "cp1252", "tables": {"regions": {
        "file": "regio", "columns": {"Code": "region_id", "Soort": "kind", "Naam": "name"}}}}
    res = import_tables(tmp_path, mapping=mapping, extraction_date=EXT)
    assert res.report.ok and res.tables["regions"]["name"].to_list() == ["Amsterdam café"]
    # a numeric BSN column lost its leading zero: it is padded back before hashing
    persons = example_source_tables()["persons"].with_columns(pl.col("bsn").cast(pl.Int64))
    persons.write_parquet(tmp_path / "persons.parquet")
    res = import_tables(tmp_path / "persons.parquet", key=KEY, extraction_date=EXT)
    assert res.report.ok
    want = expected("persons")["person_id"].to_list()
    assert res.tables["persons"]["person_id"].to_list() == want
