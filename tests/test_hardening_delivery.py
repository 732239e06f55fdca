"""A delivery folder is read completely or refused: no table is silently lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ozamonitor.cli.main import app
from ozamonitor.register.example import EXAMPLE_EXTRACTION_DATE
from ozamonitor.register.importer import import_tables
from ozamonitor.register.sources import SourceError
from ozamonitor.register.template import export_template

KEY = b"delivery-test-key-0123456789abcdefghij"


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("delivery") / "src"
    export_template(src, "csv", example=True)
    (src / "mapping.example.yaml").unlink()
    return src


@pytest.mark.parametrize("bad", ["enrolments.tsv", "enrolments.txt", "enrolments.xls",
                                 "enrolments.csv.gz", ".enrolments.csv", "x.enrolments.csv",
                                 "notes.docx", "enrolments/"])
def test_an_unread_file_is_an_error(delivery: Path, tmp_path: Path, bad: str) -> None:
    src = tmp_path / "src"
    shutil.copytree(delivery, src)
    (src / "enrolments.csv").rename(src / "spare")
    shutil.move(src / "spare", src / bad.rstrip("/"))
    with pytest.raises(SourceError) as e:
        import_tables(src, key=KEY, extraction_date=EXAMPLE_EXTRACTION_DATE)
    msg = str(e.value)
    assert bad.rstrip("/") in msg
    if not bad.endswith("/") and not bad.startswith(("x.", ".")):
        assert ".csv, .parquet, .xlsx" in msg


def test_side_files_are_allowed(delivery: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(delivery, src)
    for name in ("README.md", "levering.pdf", "mapping.yaml", ".DS_Store", "~$persons.xlsx",
                 "._persons.csv"):
        (src / name).write_text("" if name != "mapping.yaml" else "tables: {}\n")
    res = import_tables(src, key=KEY, extraction_date=EXAMPLE_EXTRACTION_DATE)
    assert res.tables["enrolments"].height > 0


def test_cli_names_the_file_and_writes_nothing(delivery: Path, tmp_path: Path,
                                              monkeypatch) -> None:
    src = tmp_path / "src"
    shutil.copytree(delivery, src)
    (src / "enrolments.csv").rename(src / "enrolments.tsv")
    monkeypatch.setenv("OZAMONITOR_PSEUDONYM_KEY", KEY.decode())
    res = CliRunner().invoke(app, ["import", str(src), "--out", str(tmp_path / "reg")])
    assert res.exit_code == 2, res.output
    assert "enrolments.tsv" in res.output and "unsupported file type" in res.output
    assert not (tmp_path / "reg").exists()


@pytest.mark.parametrize("written", ["123456782", "1234.56.782", "Basisschool 123 456 782"])
def test_a_bsn_in_a_free_text_column_is_refused_without_echo(delivery: Path, tmp_path: Path,
                                                             written: str) -> None:
    from ozamonitor.register.importer import ImportValidationError, import_register

    src = tmp_path / "src"
    shutil.copytree(delivery, src)
    lines = (src / "schools.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("name")] = written
    lines[1] = ",".join(row)
    (src / "schools.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ImportValidationError) as e:
        import_register(src, tmp_path / "reg", key=KEY, extraction_date=EXAMPLE_EXTRACTION_DATE)
    problems = [str(p) for p in e.value.report]
    assert any(p.startswith("schools.csv:1:name: holds a number that looks like a BSN")
               for p in problems), problems
    text = "\n".join(problems) + str(e.value)
    assert written not in text and "123456782" not in text
    assert not (tmp_path / "reg").exists()


@pytest.mark.parametrize("label, file, change, expect", [
    ("zero-width space", "persons.csv", ("123456782", "123456782\u200b"),
     "persons.csv:{row}:bsn: invalid BSN: holds characters other than the digits 0-9"),
    ("full-width digits", "persons.csv", ("123456782", "\uff11\uff12\uff13\uff14\uff15\uff16"
                                                      "\uff17\uff18\uff12"),
     "persons.csv:{row}:bsn: invalid BSN: holds characters other than the digits 0-9"),
    ("NUL byte", "schools.csv", ("Basisschool", "Basis\x00school"),
     "schools.csv:{row}:name: contains a control character"),
    ("oversized field", "schools.csv", ("Basisschool", "B" * 200_000),
     "schools.csv:{row}:name: field longer than 10,000 characters"),
])
def test_odd_values_are_problems_not_crashes(delivery: Path, tmp_path: Path, label: str,
                                             file: str, change: tuple[str, str],
                                             expect: str) -> None:
    from ozamonitor.register.importer import ImportValidationError, import_register

    src = tmp_path / "src"
    shutil.copytree(delivery, src)
    lines = (src / file).read_text(encoding="utf-8").splitlines()
    row = next(i for i, line in enumerate(lines) if change[0] in line)
    lines[row] = lines[row].replace(change[0], change[1], 1)
    (src / file).write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ImportValidationError) as e:
        import_register(src, tmp_path / "reg", key=KEY, extraction_date=EXAMPLE_EXTRACTION_DATE)
    problems = [str(p) for p in e.value.report]
    assert any(p.startswith(expect.format(row=row)) for p in problems), (label, problems)
    assert "123456782" not in "\n".join(problems)


@pytest.mark.parametrize("kind", ["rin", "pseudonym"])
def test_declared_id_kinds_are_hashed_and_rins_are_not_refused(delivery: Path, tmp_path: Path,
                                                                kind: str) -> None:
    import polars as pl

    from ozamonitor.register.importer import ImportValidationError, import_register
    from ozamonitor.register.pseudonym import pseudonymise, random_valid_bsns
    from ozamonitor.register.store import Register

    src = tmp_path / "src"
    shutil.copytree(delivery, src)
    # RINs: nine digits, some passing the eleven-test (a BSN rule would refuse them)
    rins = {b: r for b, r in zip(
        ["111222333", "123456782", "012345672", "100000009"],
        [*random_valid_bsns(2, seed=5), "900000001", "900000002"], strict=True)}
    for f in src.glob("*.csv"):
        text = f.read_text(encoding="utf-8")
        if text.startswith("bsn,") or ",bsn," in text.splitlines()[0]:
            for b, r in rins.items():
                text = text.replace(b, r)
            f.write_text(text.replace("bsn", "RINPERSOON", 1), encoding="utf-8")
    (src / "mapping.yaml").write_text(
        f"id_kind: {kind}\ncolumns: {{RINPERSOON: person_id}}\n", encoding="utf-8")
    out = import_register(src, tmp_path / "reg", mapping=src / "mapping.yaml", key=KEY,
                          extraction_date=EXAMPLE_EXTRACTION_DATE)
    ids = set(Register(out).read("persons")["person_id"].to_list())
    assert len(ids) == 4 and not ids & set(rins.values())  # keyed-hashed, never as is
    assert not ids & set(pseudonymise(list(rins.values()), KEY, check=False).to_list())
    manifest = (out / "manifest.json").read_text()
    assert f'"id_kind": "{kind}"' in manifest
    if kind == "rin":  # a RIN is nine digits
        p = src / "persons.csv"
        p.write_text(p.read_text().replace("900000001", "90000A001"), encoding="utf-8")
        with pytest.raises(ImportValidationError) as e:
            import_register(src, tmp_path / "reg2", mapping=src / "mapping.yaml", key=KEY,
                            extraction_date=EXAMPLE_EXTRACTION_DATE)
        assert any("invalid RIN: not 9 digits" in str(p) for p in e.value.report)
    assert pl.read_parquet(out / "persons.parquet").height == 4


def test_an_undeclared_person_id_that_looks_like_a_bsn_is_still_refused(delivery: Path,
                                                                       tmp_path: Path) -> None:
    from ozamonitor.register.importer import ImportValidationError, import_register

    src = tmp_path / "src"
    shutil.copytree(delivery, src)
    for f in src.glob("*.csv"):
        text = f.read_text(encoding="utf-8")
        if text.startswith("bsn,") or ",bsn," in text.splitlines()[0]:
            f.write_text(text.replace("bsn", "person_id", 1), encoding="utf-8")
    with pytest.raises(ImportValidationError) as e:
        import_register(src, tmp_path / "reg", key=KEY, extraction_date=EXAMPLE_EXTRACTION_DATE)
    assert any("person_id looks like a BSN" in str(p) for p in e.value.report)
