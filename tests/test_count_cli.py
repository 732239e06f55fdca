"""CLI (`ozamonitor count`, `reconcile`, `inspectie-export`, `calibration`) and the
Inspectie's cumulative registration."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from builders import Builder, D, stock_register
from ozamonitor.cli.main import app
from ozamonitor.counting.inspectie import parse_quarter, registration
from ozamonitor.counting.timeline import CountingError
from ozamonitor.register.store import Register

runner = CliRunner()


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Register:
    return stock_register(tmp_path_factory.mktemp("cli") / "reg")


def _run(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, [str(a) for a in args])
    return res.exit_code, res.output


def test_count_csv_and_per_child(reg: Register, tmp_path: Path) -> None:
    out = tmp_path / "counts.csv"
    pc = tmp_path / "per_child.parquet"
    code, text = _run("count", "--register", reg.path, "--definitions", "ocw2016,vws",
                      "--peildatum", "2023-10-01", "--by", "gemeente", "--out", out,
                      "--per-child", pc, "--threshold", "3", "--unsafe-threshold")
    assert code == 0, text
    assert "MICRODATA" in text
    df = pl.read_csv(out, schema_overrides={"count": pl.String})
    assert df.columns == ["definition", "category", "region", "count"]
    row = df.filter((pl.col("definition") == "ocw2016") & (pl.col("region") == "GM0001"))
    # GM0001: av 2, lrv 3, total 5; GM0002: av 1, total 1 (< 3). One symbol for every
    # suppressed cell; the joint system (gemeente, nation, both definitions) hides lrv in
    # GM0001 beside av, so av may lie anywhere in 0..5 given the published total 5.
    assert dict(zip(row["category"], row["count"], strict=True)) == {
        "av": "x", "lrv_4w": "x", "total": "5"}
    assert not df.filter(pl.col("count").is_in(["1", "2"])).height
    micro = pl.read_parquet(pc)
    assert set(micro["definition"]) == {"ocw2016", "vws"}
    assert "person_id" in micro.columns


def test_count_xlsx_parquet_flow(reg: Register, tmp_path: Path) -> None:
    x = tmp_path / "c.xlsx"
    code, text = _run("count", "-r", reg.path, "--schoolyear", "2023-2024", "--by", "swv",
                      "--out", x)
    assert code == 0, text
    assert "several SWVs" in text
    assert pl.read_excel(x).columns == ["definition", "category", "region", "count"]
    p = tmp_path / "c.parquet"
    code, text = _run("count", "-r", reg.path, "--schoolyear", "2023-2024",
                      "--swv-rule", "fractional", "--by", "swv", "--format", "parquet",
                      "--out", p)
    assert code == 0, text
    df = pl.read_parquet(p)
    assert df.schema["count"] == pl.Float64 and "suppression" in df.columns


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--definitions", "nope", "--peildatum", "2023-10-01"], "unknown definition(s): nope"),
        (["--peildatum", "2031-10-01"], "outside the register"),
        (["--peildatum", "1-10-2023"], "is not a date; use YYYY-MM-DD"),
        (["--schoolyear", "2023-2025"], "invalid school year"),
        ([], "exactly one of --peildatum"),
        (["--peildatum", "2023-10-01", "--by", "planet"], "unknown --by dimension"),
        (["--peildatum", "2023-10-01", "--swv-rule", "half"], "unknown rule"),
    ],
)
def test_count_errors_leave_no_file(reg: Register, tmp_path: Path, args: list[str],
                                    needle: str) -> None:
    out = tmp_path / "out.csv"
    code, text = _run("count", "-r", reg.path, "--out", out, *args)
    assert code != 0
    assert needle in " ".join(text.split())
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_malformed_definitions_file(reg: Register, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nversion = "1"\nsource = "s"\ndescription = "d"\n'
                   '[[categories]]\nname = "a"\nlabel = "A"\nwhen = "enroled"\n')
    out = tmp_path / "out.csv"
    code, text = _run("count", "-r", reg.path, "--peildatum", "2023-10-01",
                      "--definitions-file", bad, "--out", out)
    assert code != 0
    flat = " ".join(text.split())
    assert "bad.toml" in flat and "categories.0.when" in flat and "enroled" in flat
    assert not out.exists()


def test_reconcile_and_calibration(reg: Register, tmp_path: Path) -> None:
    code, text = _run("reconcile", "-r", reg.path, "--schoolyear", "2023-2024", "--out",
                      tmp_path / "rec", "--lang", "en")
    assert code == 0, text
    for n in ("waterfall", "overlap", "trend"):
        assert (tmp_path / "rec" / f"{n}.csv").is_file()
        assert (tmp_path / "rec" / f"{n}.png").is_file()
    code, text = _run("calibration", "-r", reg.path, "--scale", "0.001", "--allow-real")
    assert code == 0, text
    assert "3,448" in text and "17,500" in text
    wf = pl.read_csv(tmp_path / "rec" / "waterfall.csv", schema_overrides={
        "count": pl.String, "added": pl.String})
    assert wf.columns == ["step", "definition", "count", "added"]


def _inspectie_register(path: Path) -> Register:
    b = Builder()
    school = [("01AA00", D(2017, 4, 1), None)]
    born = D(2012, 3, 15)
    b.child("a", born, enrol=school, absence=[("lrv", D(2023, 8, 20), D(2023, 11, 30))])
    b.child("b", born, enrol=school, absence=[("lrv", D(2023, 11, 1), None)])
    b.child("short", born, enrol=school, absence=[("lrv", D(2023, 9, 1), D(2023, 9, 20))])
    b.child("mbo", D(2006, 3, 1), enrol=[("04DD00", D(2022, 8, 1), None)],
            absence=[("lrv", D(2023, 8, 20), None, "04DD00")])
    b.child("ex", D(2009, 1, 1), gemeente="GM0002",
            enrol=[("03CC00", D(2021, 8, 1), D(2023, 12, 31), "exemption")],
            exempt=[("5a", D(2024, 1, 1), None)])
    b.child("young5a", D(2016, 1, 1), gemeente="GM0002", exempt=[("5a", D(2021, 8, 1), None)])
    return b.write(path)


def test_inspectie_cumulative(tmp_path: Path) -> None:
    reg = _inspectie_register(tmp_path / "reg")
    assert parse_quarter("2023Q4") == (D(2023, 10, 1), D(2023, 12, 31))
    q3 = registration(reg, "2023Q3", category_labels=False)
    q4 = registration(reg, "2023Q4", category_labels=False)
    q1 = registration(reg, "2024Q1", category_labels=False)
    # Q3: a (lrv since 20 Aug, > 4 weeks by 30 Sep) and young5a (5a since 2021, SWV PO02)
    assert set(zip(q3["swv"], q3["categorie"], strict=True)) == {
        ("PO01", "lrv_4w_3m"), ("PO02", "exempt_5a")}
    # rows are never deleted: every Q3 row is still in Q4 with the same number
    key = ["swv", "volgnummer", "startdatum"]
    assert q3.select(key).join(q4.select(key), on=key, how="anti").height == 0
    a_q4 = q4.filter((pl.col("swv") == "PO01") & (pl.col("startdatum") == D(2023, 8, 20)))
    assert a_q4["einddatum"].to_list() == [D(2023, 11, 30)]
    assert a_q4["categorie"].to_list() == ["lrv_3m"]  # 20 Aug + 3 months passed on 20 Nov
    assert a_q4["duur_dagen"].to_list() == [103]
    assert q4.filter(pl.col("swv") == "PO01").height == 2  # a and b; "short" never > 4 weeks
    assert q4.filter(pl.col("swv") == "PO01")["volgnummer"].to_list() == [1, 2]
    # ex: 5a from 2024, age 15 -> SWV VO of GM0002; mbo pupils belong to no SWV
    assert q1.filter(pl.col("swv") == "VO01")["categorie"].to_list() == ["exempt_5a"]
    assert q1.height == q4.height + 1
    assert "person_id" not in q4.columns
    with pytest.raises(CountingError, match="after the register's extraction date"):
        registration(reg, "2024Q4")
    with pytest.raises(CountingError, match="invalid quarter"):
        registration(reg, "2024-13")
    with pytest.raises(CountingError, match="unknown SWV"):
        registration(reg, "2024Q1", swv="XX")


def test_inspectie_cli(tmp_path: Path) -> None:
    reg = _inspectie_register(tmp_path / "reg")
    out = tmp_path / "insp"
    code, text = _run("inspectie-export", "-r", reg.path, "--swv", "all", "--quarter", "2023Q4",
                      "--out", out)
    assert code == 0, text
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"inspectie_{s}_2023Q4.{e}" for s in ("PO01", "PO02", "VO01")
                           for e in ("csv", "xlsx"))
    po1 = pl.read_csv(out / "inspectie_PO01_2023Q4.csv")
    assert po1.columns == ["volgnummer", "swv", "leeftijd", "sector", "categorie",
                           "startdatum", "einddatum", "duur_dagen"]
    assert pl.read_excel(out / "inspectie_PO01_2023Q4.xlsx").height == po1.height == 2
    code, text = _run("inspectie-export", "-r", reg.path, "--swv", "PO09", "--quarter",
                      "2023Q4", "--out", tmp_path / "x")
    assert code != 0 and "unknown SWV" in text
