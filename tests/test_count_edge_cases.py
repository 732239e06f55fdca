"""Counting at its edges: zero grids, exemptions vs LRV, malformed school years,
the Inspectie export's all-or-nothing write and definition-file checks."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from builders import BORN, SCHOOL_START, Builder, D, P
from ozamonitor.cli.main import app
from ozamonitor.counting import inspectie
from ozamonitor.counting.count import Counter, count
from ozamonitor.counting.definition import DefinitionError, resolve_definitions
from ozamonitor.counting.timeline import CountingError
from ozamonitor.register.store import Register

runner = CliRunner()
ENROLLED = [("01AA00", SCHOOL_START, None)]


# ------------------------------------------------------------------ F4 zero grid
@pytest.fixture(scope="module")
def empty_reg(tmp_path_factory: pytest.TempPathFactory) -> Register:
    """Nobody meets any definition: one ordinary enrolled pupil."""
    b = Builder()
    b.child("ordinary", BORN, enrol=ENROLLED)
    b.child("ordinary2", BORN, gemeente="GM0002", enrol=[("02BB00", SCHOOL_START, None)])
    return b.write(tmp_path_factory.mktemp("empty") / "reg")


def _n_cells(c: Counter, n_regions: int) -> int:
    return sum(len(d.categories) + 1 for d in c.definitions) * n_regions


@pytest.mark.parametrize(("kw", "label"), [({"peildatum": P}, P.isoformat()),
                                           ({"schoolyear": "2023-2024"}, "2023-2024")])
@pytest.mark.parametrize(("by", "n_regions"), [("nation", 1), ("gemeente", 2), ("swv", 3),
                                               ("age", 5)])
def test_nobody_counted_gives_full_zero_grid(empty_reg: Register, kw: dict, label: str,
                                             by: str, n_regions: int) -> None:
    c = Counter(empty_reg, "all")
    t = c.count(by=by, **kw)
    assert t.height == _n_cells(c, n_regions)
    assert set(t["period"]) == {label}
    assert (t["count"] == 0).all()
    want = {(d.name, cat) for d in c.definitions for cat in [*d.category_names(), "total"]}
    assert set(zip(t["definition"], t["category"], strict=True)) == want
    # the CLI's path: per_child() then table()
    pc = c.per_child(**kw)
    assert pc.height == 0
    t2 = c.table(pc, by)
    assert t2.equals(t)


def test_nobody_counted_one_call_and_fractional(empty_reg: Register) -> None:
    t = count(empty_reg, "ocw2016", peildatum=P, threshold=None)
    assert t.to_dicts() == [
        {"definition": "ocw2016", "category": c, "region": "NL", "period": P.isoformat(),
         "count": 0} for c in ("av", "lrv_4w", "total")]
    f = count(empty_reg, "ocw2016", schoolyear="2023-2024", by="swv", swv_rule="fractional",
              threshold=None)
    assert f.height == 9 and (f["count"] == 0).all()


def test_count_cli_nobody_counted(empty_reg: Register, tmp_path: Path) -> None:
    out = tmp_path / "c.csv"
    res = runner.invoke(app, ["count", "-r", str(empty_reg.path), "--definitions", "ocw2016",
                              "--schoolyear", "2023-2024", "--out", str(out)])
    assert res.exit_code == 0, res.output
    df = pl.read_csv(out, schema_overrides={"count": pl.String})
    assert df.height == 3 and set(df["count"]) == {"0"}


# ------------------------------------------------------- F5 exemptions and LRV
@pytest.fixture(scope="module")
def exempt_counter(tmp_path_factory: pytest.TempPathFactory) -> Counter:
    b = Builder()
    lrv = [("lrv", D(2023, 6, 1), None)]  # > 3 months on P
    # enrolled, LRV running, and a full exemption overlapping the enrolment
    b.child("lrv_5a", BORN, enrol=ENROLLED, absence=lrv, exempt=[("5a", D(2023, 9, 1), None)])
    b.child("lrv_5b", BORN, enrol=ENROLLED, absence=lrv, exempt=[("5b", D(2023, 9, 1), None)])
    b.child("lrv_15", BORN, enrol=ENROLLED, absence=lrv, exempt=[("15", D(2023, 9, 1), None)])
    # a partial exemption is no full exemption: still LRV
    b.child("lrv_partial", BORN, enrol=ENROLLED, absence=lrv,
            exempt=[("partial", D(2023, 9, 1), None)])
    # the exemption ended before P: LRV again
    b.child("lrv_5a_ended", BORN, enrol=ENROLLED, absence=lrv,
            exempt=[("5a", D(2023, 6, 1), D(2023, 8, 31))])
    b.child("lrv", BORN, enrol=ENROLLED, absence=lrv)
    b.child("rv_5a", BORN, enrol=ENROLLED, absence=[("rv_16h", D(2023, 9, 20), None)],
            exempt=[("5a", D(2023, 9, 1), None)])
    # 5a exemption, living abroad (no residence): counted by no definition
    b.child("abroad_5a", BORN, gemeente=None, exempt=[("5a", D(2022, 1, 1), None)])
    b.child("home_5a", BORN, exempt=[("5a", D(2022, 1, 1), None)])
    return Counter(b.write(tmp_path_factory.mktemp("exempt") / "reg"), "all")


def _members(c: Counter, definition: str) -> dict[str, set[str]]:
    pc = c.stock(P).filter(pl.col("definition") == definition)
    out: dict[str, set[str]] = {}
    for row in pc.iter_rows(named=True):
        out.setdefault(row["category"], set()).add(row["person_id"])
    return out


def test_exempted_enrolled_pupils_not_lrv_where_domain_excludes_them(
        exempt_counter: Counter) -> None:
    counted_lrv = {"lrv", "lrv_partial", "lrv_5a_ended"}
    assert _members(exempt_counter, "vsvkompas") == {"lrv_3m": counted_lrv}
    assert _members(exempt_counter, "ocw2016") == {"lrv_4w": counted_lrv}
    assert _members(exempt_counter, "inspectie") == {"lrv_3m": counted_lrv}


def test_wide_definitions_keep_exempted_lrv(exempt_counter: Counter) -> None:
    everyone_lrv = {"lrv", "lrv_partial", "lrv_5a_ended", "lrv_5b", "lrv_15"}
    assert _members(exempt_counter, "vws") == {
        "lrv_4w": everyone_lrv | {"lrv_5a"}, "exempt_5a": {"home_5a", "rv_5a"}}
    oza = _members(exempt_counter, "oza")
    assert oza["exempt_5a"] == {"lrv_5a", "rv_5a", "home_5a"}
    assert oza["long_term_absent"] == everyone_lrv


def test_exempt_5a_requires_residence_everywhere(exempt_counter: Counter) -> None:
    for name in ("vws", "oza", "balans", "latent"):
        members = set().union(*_members(exempt_counter, name).values())
        assert "abroad_5a" not in members, name
        assert "home_5a" in members, name
    for d in exempt_counter.definitions:
        for cat in d.categories:
            if cat.name == "exempt_5a":
                assert "resident" in cat.when["all"], d.name


def test_exempted_lrv_flow(exempt_counter: Counter) -> None:
    """Over the school year the LRV before the exemption began (1 Sept) still counts."""
    fl = exempt_counter.flow("2023-2024").filter(pl.col("definition") == "vsvkompas")
    assert set(fl["person_id"]) == {"lrv", "lrv_partial", "lrv_5a_ended"}
    fl = exempt_counter.flow("2022-2023").filter(pl.col("definition") == "vsvkompas")
    # LRV from 1 June: > 3 months only from 2 September, after 31 July
    assert fl.height == 0


# --------------------------------------------------- F6 malformed school years
@pytest.mark.parametrize("sy", ["2023", "2023-2025", "2023/24", "", "abcd-efgh"])
def test_malformed_school_year_is_counting_error(empty_reg: Register, sy: str) -> None:
    c = Counter(empty_reg, "ocw2016")
    with pytest.raises(CountingError, match="school year"):
        c.timeline.year_window(sy)
    with pytest.raises(CountingError, match="school year"):
        c.flow(sy)
    with pytest.raises(CountingError, match="school year"):
        c.count(schoolyear=sy)


def test_school_year_int_out_of_calendar(empty_reg: Register) -> None:
    c = Counter(empty_reg, "ocw2016")
    with pytest.raises(CountingError, match="school year"):
        c.timeline.year_window(99999)
    with pytest.raises(CountingError, match="outside the register"):
        c.flow(1990)


def test_reconcile_cli_malformed_school_year(empty_reg: Register, tmp_path: Path) -> None:
    res = runner.invoke(app, ["reconcile", "-r", str(empty_reg.path), "--schoolyear", "2023",
                              "--out", str(tmp_path / "rec")])
    assert res.exit_code != 0
    assert isinstance(res.exception, SystemExit), res.exception
    assert "invalid school year '2023'" in " ".join(res.output.split())
    assert not (tmp_path / "rec").exists()


# ----------------------------------------------------------- F8 inspectie export
@pytest.fixture(scope="module")
def insp_reg(tmp_path_factory: pytest.TempPathFactory) -> Register:
    b = Builder()
    b.child("lrv", BORN, enrol=ENROLLED, absence=[("lrv", D(2023, 6, 1), None)])
    b.child("ex", BORN, exempt=[("5a", D(2022, 1, 1), None)])
    return b.write(tmp_path_factory.mktemp("insp") / "reg")


def test_inspectie_since_after_quarter_refused(insp_reg: Register, tmp_path: Path) -> None:
    with pytest.raises(CountingError, match="after the end of quarter 2023Q4"):
        inspectie.registration(insp_reg, "2023Q4", since=D(2024, 1, 1))
    out = tmp_path / "out"
    with pytest.raises(CountingError, match="since"):
        inspectie.export(insp_reg, "2023Q4", out, since=D(2024, 1, 1))
    assert not out.exists()
    # the last day of the quarter is fine
    assert inspectie.registration(insp_reg, "2023Q4", since=D(2023, 12, 31)).height == 2
    res = runner.invoke(app, ["inspectie-export", "-r", str(insp_reg.path), "--quarter",
                              "2023Q4", "--since", "2024-01-01", "--out", str(out)])
    assert res.exit_code != 0 and isinstance(res.exception, SystemExit)
    assert "2023-12-31" in res.output and not out.exists()


def test_inspectie_export_new_and_existing_folder(insp_reg: Register, tmp_path: Path) -> None:
    out = tmp_path / "new" / "insp"
    paths = inspectie.export(insp_reg, "2023Q4", out)
    assert len(paths) == 6 and all(p.is_file() and p.parent == out for p in paths)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["insp"]
    # into an existing folder: other files stay, no temporary folder is left
    keep = tmp_path / "old"
    keep.mkdir()
    (keep / "notes.txt").write_text("x")
    paths = inspectie.export(insp_reg, "2023Q4", keep, swv="PO01")
    assert sorted(p.name for p in keep.iterdir()) == sorted(
        ["notes.txt", *(p.name for p in paths)])
    assert pl.read_csv(keep / "inspectie_PO01_2023Q4.csv").height == 2


def test_inspectie_export_all_or_nothing(insp_reg: Register, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    real = inspectie.write_table
    calls = {"n": 0}

    def flaky(df: pl.DataFrame, path: Path, *a: object, **k: object) -> Path:
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError("disk full")
        return real(df, path, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(inspectie, "write_table", flaky)
    new = tmp_path / "new"
    with pytest.raises(OSError, match="disk full"):
        inspectie.export(insp_reg, "2023Q4", new)
    assert not new.exists() and list(tmp_path.iterdir()) == []
    old = tmp_path / "old"
    old.mkdir()
    (old / "inspectie_PO01_2023Q4.csv").write_text("previous")
    calls["n"] = 0
    with pytest.raises(OSError, match="disk full"):
        inspectie.export(insp_reg, "2023Q4", old)
    assert [p.name for p in old.iterdir()] == ["inspectie_PO01_2023Q4.csv"]
    assert (old / "inspectie_PO01_2023Q4.csv").read_text() == "previous"


# ------------------------------------------------------- F10 definition files
_HEAD = 'name = "{name}"\nversion = "1"\nsource = "s"\ndescription = "{desc}"\n'


def _def_file(path: Path, name: str = "eigen", when: str = '"enrolled"',
              desc: str = "d") -> Path:
    path.write_text(_HEAD.format(name=name, desc=desc)
                    + f'[[categories]]\nname = "a"\nlabel = "A"\nwhen = {when}\n',
                    encoding="utf-8")
    return path


def test_non_utf8_definitions_file(tmp_path: Path, empty_reg: Register) -> None:
    f = tmp_path / "latin.toml"
    f.write_bytes(_HEAD.format(name="eigen", desc="vrijstelling ü").encode("latin-1")
                  + b'[[categories]]\nname = "a"\nlabel = "A"\nwhen = "enrolled"\n')
    with pytest.raises(DefinitionError, match=r"latin\.toml.*UTF-8"):
        resolve_definitions("eigen", f)
    out = tmp_path / "c.csv"
    res = runner.invoke(app, ["count", "-r", str(empty_reg.path), "--peildatum", "2023-10-01",
                              "--definitions-file", str(f), "--out", str(out)])
    assert res.exit_code != 0 and isinstance(res.exception, SystemExit)
    assert "latin.toml" in res.output and not out.exists()


def test_user_definition_cannot_replace_builtin(tmp_path: Path) -> None:
    f = _def_file(tmp_path / "mine.toml", name="vsvkompas")
    with pytest.raises(DefinitionError, match=r"mine\.toml.*'vsvkompas'.*built-in.*another name"):
        resolve_definitions("all", f)
    g = _def_file(tmp_path / "other.toml")
    h = _def_file(tmp_path / "again.toml")
    with pytest.raises(DefinitionError, match=r"again\.toml.*'eigen'.*other\.toml"):
        resolve_definitions("all", [g, h])
    defs = resolve_definitions("all", g)
    assert [d.name for d in defs][-1] == "eigen" and len(defs) == 8


@pytest.mark.parametrize(("unit", "limit"), [("days", 3650), ("weeks", 520), ("months", 120)])
def test_duration_threshold_range(tmp_path: Path, unit: str, limit: int) -> None:
    ok = _def_file(tmp_path / "ok.toml", when=f'{{ lrv_{unit} = {{ ">" = {limit} }} }}')
    assert resolve_definitions("eigen", ok)[0].name == "eigen"
    bad = _def_file(tmp_path / "bad.toml",
                    when=f'{{ all = ["enrolled", {{ lrv_{unit} = {{ ">" = {limit + 1} }} }}] }}')
    with pytest.raises(DefinitionError) as e:
        resolve_definitions("eigen", bad)
    msg = str(e.value)
    assert "bad.toml" in msg and "field categories.0.when" in msg
    assert f"lrv_{unit}" in msg and f"0 to {limit} {unit}" in msg
