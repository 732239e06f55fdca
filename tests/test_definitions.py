"""Definition files: built-ins, user files (TOML/YAML), validation errors, semantics."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from builders import Builder, D, P, stock_register
from ozamonitor.counting import Counter
from ozamonitor.counting.definition import (
    BASE_CONDITIONS,
    DefinitionError,
    Duration,
    builtin_definitions,
    compile_node,
    load_definition_file,
    parse_criterion,
    resolve_definitions,
)

LOCAL_TOML = """
name = "regio_oost"
version = "2024.1"
source = "Thuiszittersprotocol regio Oost"
description = "Lokaal protocol: LRV vanaf 2 weken, en alle 5a-vrijstellingen."
population = "duty"

[[categories]]
name = "lrv_2w"
label = "LRV > 2 weken"
when = { all = ["enrolled", "duty", { lrv_weeks = { ">" = 2 } }] }

[[categories]]
name = "exempt_5a"
label = "vrijstelling 5a"
when = "exempt_5a"
"""

LOCAL_YAML = """
definitions:
  - name: alleen_av
    version: 1
    source: test
    description: AV only, not exclusive
    exclusive: false
    categories:
      - name: av
        label: absoluut verzuim
        when: {all: [av, compulsory]}
      - name: av_or_lrv
        label: AV of LRV
        when: {any: [av, {lrv_days: {">=": 1}}]}
"""


def test_builtins_complete() -> None:
    defs = builtin_definitions()
    assert list(defs) == ["vsvkompas", "inspectie", "ocw2016", "vws", "oza", "balans", "latent"]
    assert defs["balans"].category_names() == [
        "enrolled_3m", "not_enrolled_3m", "not_enrolled_lt3m", "enrolled_4w_3m", "exempt_5a"]
    assert set(defs["oza"].category_names()) == {
        "at_risk", "long_term_absent", "not_enrolled", "exempt_5a"}
    for d in defs.values():
        assert d.version and d.source and d.description


def test_duration_thresholds() -> None:
    assert parse_criterion({"lrv_days": {">": 28}}) == Duration("lrv", 0, 28, True)
    assert parse_criterion({"lrv_weeks": {">=": 4}}) == Duration("lrv", 0, 27, True)
    assert parse_criterion({"av_months": {"<=": 3}}) == Duration("av", 3, 0, False)
    start = dt.date(2023, 1, 1)
    frame = pl.DataFrame({
        "t": [dt.date(2023, 1, 28), dt.date(2023, 1, 29), dt.date(2023, 3, 31),
              dt.date(2023, 4, 1)],
        "c_lrv": [True] * 4, "s_lrv": [start] * 4})
    gt28 = compile_node(parse_criterion({"lrv_days": {">": 28}}))
    gt3m = compile_node(parse_criterion({"lrv_months": {">": 3}}))
    le3m = compile_node(parse_criterion({"lrv_months": {"<=": 3}}))
    out = frame.select(a=gt28, b=gt3m, c=le3m)
    assert out["a"].to_list() == [False, True, True, True]
    assert out["b"].to_list() == [False, False, False, True]
    assert out["c"].to_list() == [True, True, True, False]
    # a duration condition is false while the condition does not run
    assert frame.with_columns(c_lrv=pl.lit(False)).select(le3m).to_series().to_list() == [
        False] * 4


def test_local_toml_definition(tmp_path: Path) -> None:
    f = tmp_path / "oost.toml"
    f.write_text(LOCAL_TOML)
    reg = stock_register(tmp_path / "reg")
    c = Counter(reg, "regio_oost,ocw2016", definitions_file=f)
    pc = c.stock(P)
    mine = pc.filter(pl.col("definition") == "regio_oost")
    got = {(r["category"], r["person_id"]) for r in mine.iter_rows(named=True)}
    lrv_2w = {p for cat, p in got if cat == "lrv_2w"}
    # LRV > 14 days on 1 Oct: started 3 Sep (29 d), 4 Sep (28 d), July (2)
    assert lrv_2w == {"lrv28", "lrv29", "lrv3m_eq", "lrv3m_plus"}
    assert {p for cat, p in got if cat == "exempt_5a"} == {"exempt5a"}


def test_yaml_nonexclusive(tmp_path: Path) -> None:
    f = tmp_path / "defs.yaml"
    f.write_text(LOCAL_YAML)
    (d,) = load_definition_file(f)
    assert d.version == "1" and not d.exclusive
    b = Builder()
    b.child("av", D(2012, 3, 15), enrol=[("01AA00", D(2017, 4, 1), D(2023, 9, 1), "removed")])
    b.child("lrv", D(2012, 3, 15), enrol=[("01AA00", D(2017, 4, 1), None)],
            absence=[("lrv", D(2023, 9, 30), None)])
    reg = b.write(tmp_path / "reg")
    c = Counter(reg, [d])
    t = c.count(peildatum=P, threshold=None)
    counts = dict(zip(t["category"], t["count"], strict=True))
    assert counts == {"av": 1, "av_or_lrv": 2, "total": 2}  # total = distinct children


@pytest.mark.parametrize(
    ("text", "suffix", "needle"),
    [
        ('name = "x"\nversion = "1"\nsource = "s"\ndescription = "d"\n'
         '[[categories]]\nname = "a"\nlabel = "A"\nwhen = "enroled"\n',
         ".toml", "categories.0.when: when: unknown condition 'enroled'"),
        ('name = "x"\nversion = "1"\nsource = "s"\ndescription = "d"\n'
         '[[categories]]\nname = "a"\nlabel = "A"\nwhen = { lrv_years = { ">" = 1 } }\n',
         ".toml", "unknown key 'lrv_years'"),
        ('name = "x"\nversion = "1"\nsource = "s"\ndescription = "d"\n'
         '[[categories]]\nname = "a"\nlabel = "A"\nwhen = { lrv_days = { "=" = 1 } }\n',
         ".toml", "unknown operator '='"),
        ('name = "x"\nversion = "1"\nsource = "s"\n'
         '[[categories]]\nname = "a"\nlabel = "A"\nwhen = "av"\n',
         ".toml", "field description: Field required"),
        ('name = "x"\nversion = "1"\nsource = "s"\ndescription = "d"\n'
         '[[categories]]\nname = "total"\nlabel = "A"\nwhen = "av"\n',
         ".toml", "reserved"),
        ('name = "x"\nversion = "1"\nsource = "s"\ndescription = "d"\npopulation = "all"\n'
         '[[categories]]\nname = "a"\nlabel = "A"\nwhen = "av"\n',
         ".toml", "field population"),
        ("name: [unclosed", ".yaml", "cannot parse"),
        ("name = ", ".toml", "cannot parse"),
    ],
)
def test_malformed_files_name_file_and_field(tmp_path: Path, text: str, suffix: str,
                                             needle: str) -> None:
    f = tmp_path / f"bad{suffix}"
    f.write_text(text)
    with pytest.raises(DefinitionError) as e:
        load_definition_file(f)
    assert str(f) in str(e.value)
    assert needle in str(e.value)


def test_resolve_errors(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="available: vsvkompas"):
        resolve_definitions("ocw2017")
    with pytest.raises(DefinitionError, match="not found"):
        resolve_definitions("all", tmp_path / "missing.toml")
    f = tmp_path / "x.json"
    f.write_text("{}")
    with pytest.raises(DefinitionError, match="unknown definition file type"):
        resolve_definitions("all", f)


def test_every_base_condition_is_computed(tmp_path: Path) -> None:
    reg = stock_register(tmp_path / "reg")
    c = Counter(reg, "all")
    cols = set(c.timeline.segments.columns)
    for name in BASE_CONDITIONS:
        assert f"c_{name}" in cols and f"s_{name}" in cols
