"""The OZA monitor's tables against brute force over small random registers."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter

import numpy as np
import polars as pl
import pytest

from ozamonitor.causal import monitor as m
from ozamonitor.causal import monitor_compare as mc
from ozamonitor.register.schema import OZA_END_REASONS, OZA_TARGET_GROUPS, TABLES
from ozamonitor.register.store import Register, write_register

D = dt.date
EXTRACTION = D(2026, 7, 31)
SCHOOLS = [("01AA00", "po"), ("02BB00", "sbo"), ("03CC00", "so"), ("04DD00", "vo"),
           ("05EE00", "vso"), ("06FF00", "mbo")]
SWVS = ["PO01", "PO02", "VO01"]


def _frame(name, rows):
    schema = TABLES[name].polars_schema
    return pl.DataFrame(rows, schema=list(schema), orient="row").cast(schema)


def _day(rng, lo=D(2021, 1, 1), span=2000):
    return lo + dt.timedelta(days=int(rng.integers(0, span)))


def make_register(path, seed: int, n: int = 120) -> Register:
    rng = np.random.default_rng(seed)
    t: dict[str, list] = {k: [] for k in ("persons", "residences", "enrolments", "exemptions",
                                          "absence_reports", "oza_participation")}
    for i in range(n):
        pid = f"p{i:03d}"
        birth = D(2008, 1, 1) + dt.timedelta(days=int(rng.integers(0, 4000)))
        t["persons"].append((pid, birth, str(rng.choice(["M", "F"])),
                             str(rng.choice(["low", "middle", "high", "unknown"])), 5,
                             str(rng.choice(["dutch", "europe", "outside_europe"])),
                             str(rng.choice(["two_parents", "single_parent"])), None,
                             bool(rng.random() < 0.2)))
        t["residences"].append((pid, "GM0001", birth, None))
        for _ in range(int(rng.integers(0, 3))):
            s = _day(rng, D(2019, 1, 1), 2500)
            e = None if rng.random() < 0.4 else s + dt.timedelta(days=int(rng.integers(0, 900)))
            sch = SCHOOLS[int(rng.integers(len(SCHOOLS)))][0]
            t["enrolments"].append((pid, sch, s, e, "transfer" if e else None, None))
        if rng.random() < 0.25:
            s = _day(rng, D(2020, 1, 1))
            t["exemptions"].append((pid, str(rng.choice(["5a", "5b"])), s,
                                    None if rng.random() < 0.5 else s + dt.timedelta(days=200),
                                    "GM0001"))
        if rng.random() < 0.3:
            s = _day(rng, D(2020, 1, 1))
            t["absence_reports"].append((f"r{i}", pid, "04DD00", s + dt.timedelta(days=28),
                                         str(rng.choice(["lrv", "ill", "rv_16h"])), s,
                                         s + dt.timedelta(days=int(rng.integers(30, 300)))))
        for k in range(int(rng.choice([0, 0, 1, 1, 2]))):
            s = _day(rng, D(2023, 1, 1), 1200 + 100 * k)
            ended = rng.random() < 0.7
            e = s + dt.timedelta(days=int(rng.integers(0, 700))) if ended else None
            if e is not None and e > EXTRACTION:
                e = None
            t["oza_participation"].append(
                (pid, f"A{int(rng.integers(1, 4))}", s, e,
                 str(rng.choice(OZA_END_REASONS)) if e else None))
    arrangements = [(f"A{j}", f"I{j}", f"Arr {j}", lead, "01AA00", swv, "GM0001", "zorg",
                     "gemeente", "time", "at_risk", D(2023, 1, 1))
                    for j, lead, swv in ((1, "school", "PO01"), (2, "swv", "PO02"),
                                         (3, "school", "VO01"))]
    tables = {
        "regions": _frame("regions", [("GM0001", "gemeente", "Een"),
                                      *((s, "swv_po" if s.startswith("PO") else "swv_vo",
                                         s) for s in SWVS)]),
        "gemeente_regions": _frame("gemeente_regions", [("GM0001", "PO01", "swv_po", 1.0),
                                                        ("GM0001", "VO01", "swv_vo", 1.0)]),
        "schools": _frame("schools", [(s, s[:4], s, sec, 4 if sec in ("so", "vso") else None,
                                       "GM0001", None if sec == "mbo" else "PO01")
                                      for s, sec in SCHOOLS]),
        "arrangements": _frame("arrangements", arrangements),
        **{k: _frame(k, v) for k, v in t.items()},
    }
    tables["oza_participation"] = tables["oza_participation"].unique(
        ["person_id", "arrangement_id", "start"], keep="first")
    write_register(path, tables, extraction_date=EXTRACTION)
    return Register(path)


@pytest.fixture(scope="module", params=[1, 2, 3])
def reg(request, tmp_path_factory):
    return make_register(tmp_path_factory.mktemp("mon") / "r", request.param)


def _covers(s, e, d):
    return s <= d and (e is None or e >= d)


def _brute_groups(reg):
    rows = {k: reg.read(k).to_dicts() for k in ("exemptions", "enrolments", "absence_reports")}
    out = {}
    for p in reg.read("oza_participation").to_dicts():
        d = p["start"] - dt.timedelta(days=1)
        pid = p["person_id"]
        if any(r["person_id"] == pid and r["article"] == "5a"
               and _covers(r["start"], r["end"], d) for r in rows["exemptions"]):
            g = "exempt_5a"
        elif not any(r["person_id"] == pid and _covers(r["start"], r["end"], d)
                     for r in rows["enrolments"]):
            g = "not_enrolled"
        elif any(r["person_id"] == pid and r["kind"] in ("lrv", "ill")
                 and _covers(r["absence_start"], r["absence_end"], d)
                 for r in rows["absence_reports"]):
            g = "long_term_absent"
        else:
            g = "at_risk"
        out[(pid, p["arrangement_id"], p["start"])] = g
    return out


def test_target_groups(reg):
    got = {(r["person_id"], r["arrangement_id"], r["start"]): r["target_group"]
           for r in m.participations(reg).iter_rows(named=True)}
    assert got == _brute_groups(reg)
    assert set(got.values()) <= set(OZA_TARGET_GROUPS)


def _cell(t, **kw):
    expr = pl.lit(True)
    for k, v in kw.items():
        expr = expr & (pl.col(k) == v)
    vals = t.filter(expr)["count"].to_list()
    assert len(vals) == 1, kw
    return vals[0]


def test_flows(reg):
    part = m.participations(reg).to_dicts()
    lead = {"A1": "school", "A2": "swv", "A3": "school"}
    table = m.flows(reg)
    for y in (2023, 2024, 2025, 2026):
        lo, hi = D(y, 1, 1), min(D(y, 12, 31), EXTRACTION)
        active = sorted((p for p in part if p["start"] <= hi and (p["end"] is None or
                                                               p["end"] >= lo)),
                        key=lambda p: (p["start"], p["arrangement_id"]))
        first: dict[str, dict] = {}
        for p in active:
            first.setdefault(p["person_id"], p)
        reach = Counter((p["target_group"], lead[p["arrangement_id"]]) for p in first.values())
        inflow = Counter((p["target_group"], lead[p["arrangement_id"]]) for p in part
                         if lo <= p["start"] <= hi)
        outflow = Counter((p["target_group"], lead[p["arrangement_id"]]) for p in part
                          if p["end"] is not None and lo <= p["end"] <= hi)
        for name, c in (("reach", reach), ("inflow", inflow), ("outflow", outflow)):
            for tg in OZA_TARGET_GROUPS:
                for lk in ("school", "swv"):
                    assert _cell(table, year=str(y), flow=name, target_group=tg,
                                 lead_kind=lk) == c[(tg, lk)]
                assert _cell(table, year=str(y), flow=name, target_group=tg,
                             lead_kind="total") == sum(v for k, v in c.items() if k[0] == tg)
            assert _cell(table, year=str(y), flow=name, target_group="total",
                         lead_kind="total") == sum(c.values())
        assert _cell(table, year=str(y), flow="reach", target_group="total",
                     lead_kind="total") == len({p["person_id"] for p in active})


def test_durations_and_end_reasons(reg):
    part = [p for p in m.participations(reg).to_dicts()]
    d = m.durations(reg)
    ended = [p for p in part if p["end"] is not None]
    for tg in (*OZA_TARGET_GROUPS, "total"):
        sel = [(p["end"] - p["start"]).days + 1 for p in ended
               if tg in ("total", p["target_group"])]
        row = d.filter((pl.col("target_group") == tg) & (pl.col("lead_kind") == "total"))
        assert row["count"][0] == len(sel)
        if sel:
            assert row["mean_days"][0] == pytest.approx(statistics.mean(sel), abs=0.05)
            assert row["median_days"][0] == pytest.approx(statistics.median(sel), abs=0.05)
    er = m.end_reason_table(reg)
    c = Counter((str(p["end"].year), p["end_reason"]) for p in ended)
    for (y, reason), k in c.items():
        assert _cell(er, year=y, end_reason=reason) == k
    assert er.filter(pl.col("end_reason") == "total")["count"].sum() == len(ended)


def test_regional(reg):
    part = m.participations(reg).to_dicts()
    r = m.regional(reg)
    for y in (2023, 2024, 2025, 2026):
        lo, hi = D(y, 1, 1), min(D(y, 12, 31), EXTRACTION)
        first: dict[str, dict] = {}
        for p in sorted(part, key=lambda p: (p["start"], p["arrangement_id"])):
            if p["start"] <= hi and (p["end"] is None or p["end"] >= lo):
                first.setdefault(p["person_id"], p)
        c = Counter(p["swv_id"] for p in first.values())
        for swv in SWVS:
            assert _cell(r, year=str(y), region=swv) == c[swv]
        assert _cell(r, year=str(y), region="total") == len(first)


def test_comparison(reg):
    day = D(2024, 10, 1)
    sector = dict(SCHOOLS)
    persons = {p["person_id"]: p for p in reg.read("persons").to_dicts()}
    oza = {p["person_id"] for p in reg.read("oza_participation").to_dicts()
           if _covers(p["start"], p["end"], day)}
    ex = {p["person_id"] for p in reg.read("exemptions").to_dicts()
          if p["article"] == "5a" and _covers(p["start"], p["end"], day)}
    enr: dict[str, set[str]] = {}
    for e in reg.read("enrolments").to_dicts():
        if _covers(e["start"], e["end"], day):
            enr.setdefault(e["person_id"], set()).add(
                {"po": "regular", "vo": "regular"}.get(sector[e["school_id"]],
                                                      sector[e["school_id"]]))
    rank = mc.COMPARISON_GROUPS
    group = {}
    for pid in persons:
        cands = ({"oza"} if pid in oza else set()) | ({"exempt_5a"} if pid in ex else set()) \
            | (enr.get(pid, set()) - {"mbo"})
        if cands:
            group[pid] = min(cands, key=rank.index)
    t = mc.comparison(reg).filter(pl.col("reference_date") == day.isoformat())
    for g in rank:
        members = [pid for pid, x in group.items() if x == g]
        assert _cell(t, group=g, characteristic="sex", category="total") == len(members)
        sexes = Counter(persons[pid]["sex"] for pid in members)
        assert _cell(t, group=g, characteristic="sex", category="F") == sexes["F"]
        cp = sum(persons[pid]["child_protection"] for pid in members)
        assert _cell(t, group=g, characteristic="child_protection", category="yes") == cp


def test_outcome_table_counts_the_event_functions(reg):
    from ozamonitor.causal.impact_pool import candidate_persons
    from ozamonitor.causal.outcomes import accessibility, education_status

    t = mc.outcome_table(reg)
    st = education_status(reg, start="2023-01", end="2026-07",
                          person_ids=candidate_persons(reg, D(2023, 1, 1)))
    acc = accessibility(reg, st).to_dicts()
    part = set(reg.read("oza_participation")["person_id"].to_list())
    for y in ("2023", "2024", "2025", "2026"):
        ev = [a for a in acc if a["eligible_month"].startswith(y)]
        yes = [a for a in ev if a["person_id"] in part]
        assert _cell(t, outcome="accessibility", year=y, participant="total",
                     status="eligible") == len(ev)
        assert _cell(t, outcome="accessibility", year=y, participant="yes",
                     status="eligible") == len(yes)

        def within(a):
            if a["access_month"] is None:
                return False
            e, r = a["eligible_month"], a["access_month"]
            return (int(r[:4]) * 12 + int(r[5:])) - (int(e[:4]) * 12 + int(e[5:])) <= 12
        assert _cell(t, outcome="accessibility", year=y, participant="total",
                     status="reached") == sum(map(within, ev))


def test_provinces_brute_force(synthetic_register):
    """Reach per province of the arrangement's gemeente, against a loop over participations;
    its national total is the SWV table's."""
    from ozamonitor.synth import SynthParams

    reg = Register.open(synthetic_register(0.002, 5,
                                           params=SynthParams(oza_min_participants=60)))
    prov = dict(reg.read("gemeente_regions").filter(pl.col("kind") == "province")
                .select("gemeente_code", "region_id").iter_rows())
    arr_gem = dict(reg.read("arrangements").select("arrangement_id", "gemeente_code")
                   .iter_rows())
    part = m.participations(reg).to_dicts()
    t = m.province_spec(reg).table()
    swv = m.regional(reg)
    ext = reg.extraction_date
    for y in (2023, 2024, 2025, 2026):
        lo, hi = D(y, 1, 1), min(D(y, 12, 31), ext)
        first: dict[str, dict] = {}
        for p in sorted(part, key=lambda p: (p["start"], p["arrangement_id"])):
            if p["start"] <= hi and (p["end"] is None or p["end"] >= lo):
                first.setdefault(p["person_id"], p)
        c = Counter(prov.get(arr_gem.get(p["arrangement_id"]), "unknown")
                    for p in first.values())
        for code in sorted(set(prov.values())):
            assert _cell(t, year=str(y), region=code) == c[code]
        assert _cell(t, year=str(y), region="total") == len(first) == _cell(
            swv, year=str(y), region="total")
    assert t["region"].n_unique() == 13  # twelve provinces and the total


def test_no_provinces_no_table(reg):
    assert m.province_spec(reg) is None
    assert "oza_provinces" not in [t.name for t in m.monitor_tables(reg)]
