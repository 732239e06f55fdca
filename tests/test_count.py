"""Thuiszitter counts on hand-made registers whose answers are known by construction."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from builders import EXPECTED, Builder, D, P, stock_register
from ozamonitor.counting import Counter, CountingError, DefinitionError
from ozamonitor.counting.reconcile import overlap, trend, waterfall
from ozamonitor.privacy.disclosure import unsafe_groups
from ozamonitor.register.store import Register


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Register:
    return stock_register(tmp_path_factory.mktemp("stock") / "reg")


@pytest.fixture(scope="module")
def counter(reg: Register) -> Counter:
    return Counter(reg, "all")


def _members(pc: pl.DataFrame) -> dict[str, dict[str, set[str]]]:
    got: dict[str, dict[str, set[str]]] = {}
    for r in pc.select("definition", "category", "person_id").iter_rows():
        got.setdefault(r[0], {}).setdefault(r[1], set()).add(r[2])
    return got


def test_stock_per_definition_known_by_construction(counter: Counter) -> None:
    got = _members(counter.stock(P))
    for name, cats in EXPECTED.items():
        assert got.get(name, {}) == cats, name


def test_exempt_5a_only_in_wide_definitions(counter: Counter) -> None:
    got = _members(counter.stock(P))
    counted_by = {d for d, cats in got.items() for m in cats.values() if "exempt5a" in m}
    assert counted_by == {"vws", "balans", "oza", "latent"}


def test_table_counts_and_totals(counter: Counter) -> None:
    t = counter.count(peildatum=P, by="nation", threshold=None)
    assert t.columns == ["definition", "category", "region", "period", "count"]
    for name, cats in EXPECTED.items():
        sub = t.filter(pl.col("definition") == name)
        counts = dict(zip(sub["category"], sub["count"], strict=True))
        for cat, members in cats.items():
            assert counts[cat] == len(members)
        assert counts["total"] == len(set().union(*cats.values()))


def test_disclosure_by_default(counter: Counter) -> None:
    t = counter.count(peildatum=P, by="nation")
    assert t["count"].null_count() == t.filter(pl.col("suppression").is_not_null()).height
    shown = t.filter(pl.col("count").is_not_null())["count"].to_list()
    assert all(v == 0 or v >= 10 for v in shown)
    assert sorted(v for v in shown if v) == [10, 12]  # oza and latent totals
    groups = [["definition", "region", "period"], ["definition", "category", "period"]]
    assert unsafe_groups(t, groups).height == 0


def test_stock_boundaries_shift_with_the_date(counter: Counter) -> None:
    # one day later lrv28 has 29 days; "young_not_yet" is still not leerplichtig
    got = _members(counter.stock(dt.date(2023, 10, 2)))
    assert "lrv28" in got["ocw2016"]["lrv_4w"]
    assert "lrv3m_eq" in got["vsvkompas"]["lrv_3m"]  # 2 Jul + 3 months reached
    assert "young_not_yet" not in set().union(*got["ocw2016"].values())
    got = _members(counter.stock(dt.date(2023, 11, 1)))
    assert "young_not_yet" in got["ocw2016"]["av"]


def test_flow_any_day_and_max_duration(tmp_path: Path) -> None:
    b = Builder()
    school = [("01AA00", D(2017, 4, 1), None)]
    born = D(2012, 3, 15)
    b.child("lrv_28_ended", born, enrol=school, absence=[("lrv", D(2024, 1, 1), D(2024, 1, 28))])
    b.child("lrv_29_ended", born, enrol=school, absence=[("lrv", D(2024, 1, 1), D(2024, 1, 29))])
    # AV from 1 March to the extraction date: more than 3 months reached on 1 June
    b.child("av_long", born, enrol=[("01AA00", D(2017, 4, 1), D(2024, 2, 29), "removed")])
    # AV from 16 May: 2.5 months by the extraction date (capped)
    b.child("av_short", born, enrol=[("01AA00", D(2017, 4, 1), D(2024, 5, 15), "removed")])
    # AV in the previous school year only
    b.child("av_prev", born, enrol=[("01AA00", D(2017, 4, 1), D(2023, 3, 31), "removed"),
                                     ("01AA00", D(2023, 5, 1), None)])
    reg = b.write(tmp_path / "reg")
    c = Counter(reg, ["ocw2016", "balans", "vsvkompas"])
    got = _members(c.flow("2023-2024"))
    assert got["ocw2016"]["lrv_4w"] == {"lrv_29_ended"}
    assert got["ocw2016"]["av"] == {"av_long", "av_short"}
    assert got["balans"]["not_enrolled_3m"] == {"av_long"}
    assert got["balans"]["not_enrolled_lt3m"] == {"av_short"}
    assert got["vsvkompas"] == {"av_3m": {"av_long"}}
    prev = _members(c.flow("2022-2023"))
    assert prev["ocw2016"]["av"] == {"av_prev"}
    assert "av_prev" not in prev.get("vsvkompas", {}).get("av_3m", set())


def test_qualification_duty(counter: Counter) -> None:
    got = _members(counter.stock(P))
    everyone = {m for cats in got.values() for ms in cats.values() for m in ms}
    assert "q_nosq" in got["vsvkompas"]["av_3m"]
    assert "q_nosq" not in set().union(*got["ocw2016"].values())  # not leerplichtig
    assert "q_sq" not in everyone  # start qualification ends the duty
    assert "adult" not in everyone and "abroad" not in everyone and "ordinary" not in everyone


def test_attribution_gemeente_swv_school(counter: Counter) -> None:
    pc = counter.stock(P)
    ocw = pl.col("definition") == "ocw2016"
    t = counter.table(pc, "gemeente", threshold=None).filter(ocw, pl.col("category") == "total")
    counts = dict(zip(t["region"], t["count"], strict=True))
    assert counts == {"GM0001": 5, "GM0002": 1}
    # av3m lives in GM0002 (30% PO01, 70% PO02) and is not enrolled
    s = counter.table(pc, "swv", threshold=None).filter(ocw, pl.col("category") == "av")
    assert dict(zip(s["region"], s["count"], strict=True)) == {"PO01": 2, "PO02": 1, "VO01": 0}
    f = counter.table(pc, "swv", swv_rule="fractional", threshold=None).filter(
        ocw, pl.col("category") == "av")
    frac = dict(zip(f["region"], f["count"], strict=True))
    assert frac["PO01"] == pytest.approx(2.3) and frac["PO02"] == pytest.approx(0.7)
    sch = counter.table(pc, "school", threshold=None).filter(ocw, pl.col("category") == "lrv_4w")
    assert dict(zip(sch["region"], sch["count"], strict=True))["01AA00"] == 3
    sec = counter.table(pc, "sector", threshold=None).filter(
        ocw, pl.col("category") == "total")
    assert dict(zip(sec["region"], sec["count"], strict=True)) == {"not_enrolled": 3, "po": 3}


def test_waterfall_and_overlap_brute_force(counter: Counter) -> None:
    pc = counter.flow("2023-2024")
    sets = {d: set(g["person_id"]) for (d,), g in pc.group_by("definition")}
    wf = waterfall(pc)
    seen: set[str] = set()
    for r in wf.iter_rows(named=True):
        s = sets[r["definition"]]
        assert r["count"] == len(s)
        assert r["added"] == len(s - seen)
        seen |= s
        assert r["cumulative"] == len(seen)
    assert wf["count"].to_list() == sorted(wf["count"].to_list())
    assert waterfall(pc.to_pandas()).equals(wf)  # pandas accepted
    ov = overlap(pc)
    for a, b, n in ov.iter_rows():
        assert n == len(sets.get(a, set()) & sets.get(b, set()))


def test_trend(counter: Counter) -> None:
    tr = trend(counter, ["2022-2023", "2023-2024"])
    flow = tr.filter((pl.col("measure") == "flow") & (pl.col("school_year") == "2023-2024"))
    direct = counter.flow("2023-2024").group_by("definition").agg(pl.n_unique("person_id"))
    assert dict(zip(flow["definition"], flow["count"], strict=True)) == dict(
        zip(direct["definition"], direct["person_id"], strict=True)) | {
        d: 0 for d in flow["definition"] if d not in direct["definition"]}
    stock = tr.filter((pl.col("measure") == "stock_1oct") & (pl.col("school_year") == "2023-2024"))
    st = dict(zip(stock["definition"], stock["count"], strict=True))
    assert st["ocw2016"] == 6 and st["latent"] == 12


def test_errors(reg: Register, counter: Counter) -> None:
    with pytest.raises(DefinitionError, match=r"unknown definition.*nope"):
        Counter(reg, "ocw2016,nope")
    with pytest.raises(CountingError, match="outside the register"):
        counter.stock(dt.date(2030, 1, 1))
    with pytest.raises(CountingError, match="outside the register"):
        counter.flow("2031-2032")
    with pytest.raises(CountingError, match="exactly one"):
        counter.per_child()
    with pytest.raises(CountingError, match="--by"):
        counter.count(peildatum=P, by="planet")
    with pytest.raises(CountingError, match="school year"):
        counter.per_child(schoolyear="2023/24")


def test_pruning_changes_nothing(reg: Register, counter: Counter, tmp_path: Path) -> None:
    """Keeping every child (a definition counting all enrolled pupils disables the
    candidate pruning) gives the same members for the built-in definitions."""
    f = tmp_path / "everyone.toml"
    f.write_text('name = "everyone"\nversion = "1"\nsource = "t"\ndescription = "d"\n'
                 '[[categories]]\nname = "enrolled"\nlabel = "x"\nwhen = "enrolled"\n')
    full = Counter(reg, "all", definitions_file=f)
    assert full.timeline.all_children and not counter.timeline.all_children
    assert "ordinary" not in set(counter.stock(P)["person_id"])
    for kw in ({"peildatum": P}, {"schoolyear": "2023-2024"}):
        a = counter.per_child(**kw).drop("pid")  # type: ignore[arg-type]
        b = full.per_child(**kw).filter(pl.col("definition") != "everyone").drop("pid")  # type: ignore[arg-type]
        assert a.equals(b)
    g = tmp_path / "dur.toml"
    g.write_text('name = "newcomers"\nversion = "1"\nsource = "t"\ndescription = "d"\n'
                 '[[categories]]\nname = "new"\nlabel = "x"\n'
                 'when = { enrolled_days = { "<" = 30 } }\n')
    assert Counter(reg, "newcomers", definitions_file=g).timeline.all_children


def test_leerplicht_end_boundary(tmp_path: Path) -> None:
    """Born 2006-09-15: 16 in school year 2022-23, leerplicht ends 2023-07-31; from
    1 August kwalificatieplicht. Not enrolled since 1 June 2023."""
    b = Builder()
    b.child("sixteen", D(2006, 9, 15),
            enrol=[("03CC00", D(2018, 8, 1), D(2023, 5, 31), "removed")])
    reg = b.write(tmp_path / "reg")
    c = Counter(reg, ["ocw2016", "vws", "balans", "latent"])
    on_last = _members(c.stock(D(2023, 7, 31)))
    after = _members(c.stock(D(2023, 8, 1)))
    assert on_last["ocw2016"] == {"av": {"sixteen"}}
    assert "ocw2016" not in after and "vws" not in after  # leerplichtig only
    assert after["balans"] == {"not_enrolled_lt3m": {"sixteen"}}  # av run since 1 June
    assert after["latent"] == {"av": {"sixteen"}}
    assert _members(c.stock(D(2023, 9, 1)))["balans"] == {"not_enrolled_3m": {"sixteen"}}


def test_report_section(reg: Register, counter: Counter) -> None:
    from ozamonitor.report.counting import counting_section

    for lang in ("nl", "en"):
        sec = counting_section(reg, peildatum=P, schoolyear="2023-2024", lang=lang,
                               threshold=3, counter=counter, trends=False)
        ids = [s.id for s in sec.subsections]
        assert ids == ["counting-side-by-side", "counting-waterfall", "counting-overlap",
                       "counting-gemeente", "counting-swv", "counting-definitions"]
        side = sec.subsections[0].html
        assert ">x<" in side and "&lt;3" not in side  # one symbol for suppressed cells
        assert ("Balans" in side) and ("totaal" if lang == "nl" else "total") in side


def test_population_bounds_every_category(tmp_path):
    """An 18-year-old whose 5a exemption is still registered is nobody's thuiszitter."""
    import datetime as _dt

    import polars as _pl

    from ozamonitor.counting import Counter as _Counter
    from ozamonitor.register.store import Register as _Register
    from ozamonitor.register.store import write_register as _write

    d = _dt.date
    out = _write(
        tmp_path / "r",
        {
            "persons": _pl.DataFrame(
                {"person_id": ["old"], "birth_date": [d(2004, 1, 15)], "sex": ["F"],
                 "parent_education": ["low"], "income_decile": [3],
                 "migration_background": ["dutch"], "household_type": ["two_parents"],
                 "newcomer_arrival_date": [None], "child_protection": [False]},
                schema_overrides={"newcomer_arrival_date": _pl.Date},
            ),
            "regions": _pl.DataFrame({"region_id": ["GM0001"], "kind": ["gemeente"],
                                      "name": ["Een"]}),
            "residences": _pl.DataFrame(
                {"person_id": ["old"], "gemeente_code": ["GM0001"], "start": [d(2004, 1, 15)],
                 "end": [None]}, schema_overrides={"end": _pl.Date}),
            "schools": _pl.DataFrame(
                {"school_id": ["00AA00"], "brin": ["00AA"], "name": ["School"], "sector": ["vo"],
                 "wec_cluster": [None], "gemeente_code": ["GM0001"], "swv_id": [None]},
                schema_overrides={"wec_cluster": _pl.Int32, "swv_id": _pl.String}),
            "enrolments": _pl.DataFrame(
                {"person_id": ["old"], "school_id": ["00AA00"], "start": [d(2016, 8, 1)],
                 "end": [d(2018, 12, 31)], "end_reason": ["exemption"],
                 "tlv_category": [None]}, schema_overrides={"tlv_category": _pl.String}),
            "exemptions": _pl.DataFrame(
                {"person_id": ["old"], "article": ["5a"], "start": [d(2019, 1, 1)],
                 "end": [None], "gemeente_code": ["GM0001"]},
                schema_overrides={"end": _pl.Date}),
        },
        extraction_date=d(2024, 7, 31),
    )
    c = _Counter(_Register(out), "all")
    young = c.stock(d(2021, 10, 1))  # 17: kwalificatieplichtig, exempt -> counted by balans
    assert "balans" in set(young["definition"].to_list())
    adult = c.stock(d(2023, 10, 1))  # 19: outside every population
    assert adult.is_empty(), adult
