"""Validation rules: each check on a hand-made register, and property tests vs brute force."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ozamonitor.register.example import EXAMPLE_EXTRACTION_DATE, example_source_tables
from ozamonitor.register.pseudonym import pseudonymise
from ozamonitor.register.store import write_register
from ozamonitor.register.validate import (
    ROW,
    Problem,
    ValidationReport,
    overlaps,
    validate_register,
    validate_tables,
)

KEY = b"validate-test-key-0123456789abcdefgh"
D = dt.date.fromisoformat
EXT = EXAMPLE_EXTRACTION_DATE


def tables() -> dict[str, pl.DataFrame]:
    """The hand-made example register with pseudonyms instead of BSNs."""
    out = {}
    for name, df in example_source_tables().items():
        if "bsn" in df.columns:
            df = df.with_columns(person_id=pseudonymise(df["bsn"], KEY)).drop("bsn")
        out[name] = df
    return out


def pid(bsn: str) -> str:
    return pseudonymise([bsn], KEY)[0]


def edit(t: dict[str, pl.DataFrame], name: str, row: int, **values: object) -> None:
    """Set columns of 1-based ``row`` of table ``name``."""
    df = t[name].with_row_index("_i", offset=1)
    t[name] = df.with_columns(
        [pl.when(pl.col("_i") == row).then(pl.lit(v, dtype=df.schema[c])).otherwise(pl.col(c))
         .alias(c) for c, v in values.items()]
    ).drop("_i")


def test_example_register_is_valid() -> None:
    r = validate_tables(tables(), EXT)
    assert r.ok, r.lines()
    assert r.total == 0 and r.counts == {}


Case = tuple[str, Callable[[dict[str, pl.DataFrame]], None], str]
CASES: list[Case] = [
    ("null", lambda t: edit(t, "persons", 2, sex=None), "persons.parquet:2:sex: required"),
    ("code", lambda t: edit(t, "persons", 1, sex="X"), "persons.parquet:1:sex: invalid code 'X'"),
    ("code", lambda t: edit(t, "arrangements", 2, deviations="funding;time;nope"),
     "arrangements.parquet:2:deviations: invalid code 'nope' in 'funding;time;nope'"),
    ("code", lambda t: edit(t, "arrangements", 1, financiers="gemeente; swv"),
     "arrangements.parquet:1:financiers: invalid code ' swv'"),
    ("code", lambda t: edit(t, "schools", 3, wec_cluster=7), "schools.parquet:3:wec_cluster"),
    ("range", lambda t: edit(t, "persons", 1, income_decile=11),
     "persons.parquet:1:income_decile: 11 is above the maximum 10"),
    ("range", lambda t: edit(t, "gemeente_regions", 1, share=-0.5),
     "gemeente_regions.parquet:1:share: -0.5 is below the minimum 0.0"),
    ("primary_key", lambda t: t.update(regions=pl.concat([t["regions"], t["regions"][1]])),
     "regions.parquet:6:region_id: duplicate primary key (region_id) = (GM0344); first on row 2"),
    ("spell", lambda t: edit(t, "care_spells", 1, end=D("2018-12-31")),
     "care_spells.parquet:1:end: end 2018-12-31 is before start 2019-01-01"),
    ("future", lambda t: edit(t, "exemptions", 1, end=D("2026-07-31")),
     "exemptions.parquet:1:end: 2026-07-31 is after the extraction date 2025-10-15"),
    ("date", lambda t: edit(t, "attendance", 1, month=D("2024-05-02")),
     "attendance.parquet:1:month: month 2024-05-02 is not the first day of a month"),
    ("date", lambda t: edit(t, "absence_reports", 1, report_date=D("2021-09-01")),
     "absence_reports.parquet:1:report_date: report_date 2021-09-01 is before absence_start"),
    ("date", lambda t: edit(t, "oza_participation", 1, start=D("2023-06-01")),
     "oza_participation.parquet:1:start: participation starts 2023-06-01 before arrangement"),
    ("date", lambda t: edit(t, "persons", 3, newcomer_arrival_date=D("0214-07-20")),
     "persons.parquet:3:newcomer_arrival_date: 0214-07-20 is before 1980-01-01"),
    ("age", lambda t: edit(t, "enrolments", 6, start=D("2016-09-01")),
     "enrolments.parquet:6:start: age 2 on start 2016-09-01 (born 2014-07-20); expected 3 to 23"),
    ("age", lambda t: edit(t, "residences", 1, start=D("2012-03-14")),
     "residences.parquet:1:start: age -1 on start 2012-03-14 (born 2012-03-15); "
     "expected at least 0"),
    ("reference", lambda t: edit(t, "enrolments", 2, school_id="99ZZ00"),
     "enrolments.parquet:2:school_id: unknown school_id '99ZZ00' (not in schools)"),
    ("reference", lambda t: edit(t, "oza_participation", 2, arrangement_id="OZA99"),
     "oza_participation.parquet:2:arrangement_id: unknown arrangement_id 'OZA99'"),
    ("reference", lambda t: edit(t, "care_spells", 2, person_id="nobody"),
     "care_spells.parquet:2:person_id: unknown person_id 'nobody' (not in persons)"),
    ("reference", lambda t: edit(t, "arrangements", 1, lead_id="77XX00"),
     "arrangements.parquet:1:lead_id: unknown lead_id '77XX00' for lead_kind school"),
    ("region_kind", lambda t: edit(t, "residences", 1, gemeente_code="PO2701"),
     "residences.parquet:1:gemeente_code: region 'PO2701' is a swv_po, expected gemeente"),
    ("region_kind", lambda t: edit(t, "schools", 1, swv_id="VO2701"),
     "schools.parquet:1:swv_id: region 'VO2701' is a swv_vo, expected swv_po for a po school"),
    ("region_kind", lambda t: edit(t, "schools", 2, swv_id=None),
     "schools.parquet:2:swv_id: swv_id is required for a vo school"),
    ("tlv", lambda t: edit(t, "enrolments", 4, tlv_category=None),
     "enrolments.parquet:4:tlv_category: tlv_category is required: school '30CC00' is so"),
    ("tlv", lambda t: edit(t, "enrolments", 1, tlv_category="low"),
     "enrolments.parquet:1:tlv_category: tlv_category 'low' given but school '10AA00' is po"),
    ("wec", lambda t: edit(t, "schools", 5, wec_cluster=None),
     "schools.parquet:5:wec_cluster: wec_cluster is required for a vso school"),
    ("overlap", lambda t: edit(t, "enrolments", 2, start=D("2024-07-31")),
     "enrolments.parquet:2:start: enrolment 2024-07-31..open overlaps row 1 "
     "(2016-08-01..2024-07-31) of the same person"),
    ("overlap", lambda t: t.update(oza_participation=pl.concat([
        t["oza_participation"],
        t["oza_participation"][0].with_columns(arrangement_id=pl.lit("OZA02"),
                                               start=pl.lit(D("2025-01-01")))])),
     "oza_participation.parquet:3:start: OZA participation 2025-01-01..open overlaps row 1"),
    ("overlap", lambda t: edit(t, "residences", 3, start=D("2020-06-30")),
     "residences.parquet:3:start: residence 2020-06-30..open overlaps row 2"),
    ("hours", lambda t: edit(t, "attendance", 1, present_hours=95),
     "attendance.parquet:1:scheduled_hours: present + excused + unexcused hours = 105 exceed"),
    ("share", lambda t: edit(t, "gemeente_regions", 4, share=0.5),
     "gemeente_regions.parquet:4:share: shares of gemeente 'GM0344' over swv_po regions sum "
     "to 0.5, expected 1"),
    ("schema", lambda t: t.update(persons=t["persons"].drop("sex").with_columns(extra=1)),
     "persons.parquet:0:sex: missing column 'sex'"),
    ("parse", lambda t: t.update(persons=t["persons"].with_columns(
        income_decile=pl.col("income_decile").cast(pl.String).fill_null("veel"))),
     "persons.parquet:2:income_decile: cannot read 'veel' as int"),
]


@pytest.mark.parametrize(("check", "corrupt", "expected"), CASES,
                         ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_each_check_fires(check: str, corrupt: Callable[[dict], None], expected: str) -> None:
    t = tables()
    corrupt(t)
    r = validate_tables(t, EXT)
    assert check in r.counts, r.lines()
    hits = [p for p in r if p.check == check and str(p).startswith(expected)]
    assert hits, f"expected {expected!r} in\n" + "\n".join(r.lines())


def test_report_is_sorted_limited_and_counts_everything() -> None:
    t = tables()
    t["persons"] = t["persons"].with_columns(sex=pl.lit("?"))
    edit(t, "enrolments", 2, school_id="99ZZ00")
    full = validate_tables(t, EXT)
    assert full.counts == {"code": 4, "reference": 1}
    assert list(full) == sorted(full)
    short = validate_tables(t, EXT, max_problems=2)
    assert len(short) == 2 and short.total == 5 and short.counts == full.counts
    assert short[0] == full[0]
    assert isinstance(full[0], Problem) and isinstance(full, ValidationReport)
    assert str(full[0]) == f"{full[0].file}:{full[0].row}:{full[0].field}: {full[0].message}"


def test_file_names_row_numbers_and_pandas_input() -> None:
    t = tables()
    edit(t, "persons", 1, sex="X")
    persons = t["persons"].with_columns(pl.Series(ROW, [10, 11, 12, 13]))
    t["persons"] = persons.to_pandas()
    r = validate_tables(t, EXT, file_names={"persons": "leerlingen.xlsx[persons]"})
    assert r.lines() == ["leerlingen.xlsx[persons]:10:sex: invalid code 'X'; allowed: M, F"]
    assert isinstance(t["persons"], pd.DataFrame)


def test_missing_tables_are_empty() -> None:
    t = tables()
    r = validate_tables({"regions": t["regions"], "schools": t["schools"]}, EXT)
    assert r.ok, r.lines()
    r = validate_tables({"schools": t["schools"]}, EXT)
    assert r.counts == {"reference": 9}


def test_validate_register_on_disk(tmp_path) -> None:
    t = tables()
    out = write_register(tmp_path / "reg", t, extraction_date=EXT)
    assert validate_register(out).ok
    edit(t, "enrolments", 8, end=D("2030-01-01"))
    bad = write_register(tmp_path / "bad", t, extraction_date=EXT)
    r = validate_register(bad)
    assert r.lines() == ["enrolments.parquet:8:end: 2030-01-01 is after the extraction date "
                         "2025-10-15"]
    # large tables are streamed instead of held in memory: same answer
    edit(t, "persons", 2, sex="X")
    edit(t, "enrolments", 2, start=D("2024-07-31"))
    both = write_register(tmp_path / "both", t, extraction_date=EXT)
    in_memory = validate_register(both)
    assert in_memory.counts == {"future": 1, "code": 1, "overlap": 1}
    assert validate_register(both, materialise_rows=0) == in_memory
    # the manifest's row counts must match the files
    mf = json.loads((out / "manifest.json").read_text())
    mf["tables"]["persons"]["rows"] = 5
    (out / "manifest.json").write_text(json.dumps(mf))
    assert validate_register(out).lines() == [
        "persons.parquet:0:rows: manifest says 5 rows, file has 4"]
    # a wrong dtype in a Parquet file is a schema problem
    pl.DataFrame(t["regions"]).with_columns(pl.lit(1).alias("kind")).write_parquet(
        bad / "regions.parquet")
    r = validate_register(bad)
    assert any(p.check == "schema" and p.field == "kind" for p in r), r.lines()


# --------------------------------------------------------------------------
# property tests against brute force
# --------------------------------------------------------------------------

BASE = dt.date(2020, 1, 1)


@st.composite
def spells(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(0, 25))
    rows = []
    for i in range(n):
        s = draw(st.integers(0, 60))
        length = draw(st.one_of(st.none(), st.integers(-3, 30)))
        rows.append(dict(person_id=draw(st.sampled_from("abc")),
                         start=BASE + dt.timedelta(days=s),
                         end=None if length is None else BASE + dt.timedelta(days=s + length),
                         _row=i + 1))
    return pl.DataFrame(rows, schema={"person_id": pl.String, "start": pl.Date, "end": pl.Date,
                                      "_row": pl.Int64})


def _brute_overlapping_pairs(df: pl.DataFrame) -> set[tuple[int, int]]:
    """All pairs (i, j), i sorted before j, of valid intervals of one person that intersect."""
    rows = [r for r in df.iter_rows(named=True) if r["end"] is None or r["end"] >= r["start"]]
    big = dt.date.max
    rows.sort(key=lambda r: (r["person_id"], r["start"], r["end"] or big, r["_row"]))
    pairs = set()
    for a in range(len(rows)):
        for b in range(a + 1, len(rows)):
            i, j = rows[a], rows[b]
            if i["person_id"] != j["person_id"]:
                continue
            if i["start"] <= (j["end"] or big) and j["start"] <= (i["end"] or big):
                pairs.add((i["_row"], j["_row"]))
    return pairs


@settings(max_examples=150, deadline=None)
@given(spells())
def test_overlaps_match_brute_force(df: pl.DataFrame) -> None:
    pairs = _brute_overlapping_pairs(df)
    ov = overlaps(df)
    flagged = set(ov["row"].to_list())
    # exactly the rows that overlap an earlier row are flagged ...
    assert flagged == {j for _, j in pairs}
    # ... each with a partner it really overlaps
    assert set(zip(ov["other_row"].to_list(), ov["row"].to_list(), strict=True)) <= pairs


@settings(max_examples=60, deadline=None)
@given(spells(), st.integers(0, 90))
def test_spell_and_future_rules_match_brute_force(df: pl.DataFrame, ext_days: int) -> None:
    ext = BASE + dt.timedelta(days=ext_days)
    enr = df.rename({"start": "start"}).with_columns(
        school_id=pl.lit("10AA00"), end_reason=pl.lit(None, pl.String),
        tlv_category=pl.lit(None, pl.String))
    r = validate_tables({"enrolments": enr}, ext)
    got = {(p.check, p.row, p.field) for p in r if p.check in ("spell", "future", "overlap")}
    want: set[tuple[str, int, str]] = set()
    for row in df.iter_rows(named=True):
        if row["end"] is not None and row["end"] < row["start"]:
            want.add(("spell", row["_row"], "end"))
        for c in ("start", "end"):
            if row[c] is not None and row[c] > ext:
                want.add(("future", row["_row"], c))
    want |= {("overlap", j, "start") for _, j in _brute_overlapping_pairs(df)}
    assert got == want


@settings(max_examples=40, deadline=None)
@given(st.dates(dt.date(1995, 1, 1), dt.date(2020, 12, 31)),
       st.dates(dt.date(1995, 1, 1), dt.date(2025, 10, 15)))
def test_enrolment_age_rule_matches_brute_force(birth: dt.date, start: dt.date) -> None:
    t = tables()
    p = pid("012345672")
    t["persons"] = t["persons"].with_columns(
        birth_date=pl.when(pl.col("person_id") == p).then(pl.lit(birth))
        .otherwise(pl.col("birth_date")))
    t["enrolments"] = t["enrolments"].filter(pl.col("person_id") != p)
    t["enrolments"] = pl.concat([t["enrolments"], pl.DataFrame(
        [dict(person_id=p, school_id="10AA00", start=start, end=None, end_reason=None,
              tlv_category=None)], schema=t["enrolments"].schema)])
    for name in ("residences",):
        t[name] = t[name].filter(pl.col("person_id") != p)
    age = start.year - birth.year - ((start.month, start.day) < (birth.month, birth.day))
    r = validate_tables(t, EXT)
    flagged = any(p_.check == "age" and p_.file == "enrolments.parquet" for p_ in r)
    assert flagged == (not 3 <= age <= 23)
