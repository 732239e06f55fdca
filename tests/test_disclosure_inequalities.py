"""Inequalities between definitions: derived from the rules, true on synthetic registers,
declared in the publication, written to relations.csv and used by the attacker."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy.optimize import linprog

from ozamonitor.counting.count import Counter
from ozamonitor.counting.definition import builtin_definitions, definition_from_mapping
from ozamonitor.counting.implications import (
    TOTAL,
    definition_inequalities,
    stock_within_flow,
)
from ozamonitor.counting.publication import protect_counts
from ozamonitor.privacy.attack import attacker_intervals
from ozamonitor.privacy.folder import audit_folder, read_folder, write_folder
from ozamonitor.privacy.publication import Protection, Publication, TableSpec

DATES = (dt.date(2023, 10, 1), dt.date(2024, 3, 1))
YEAR = "2023-2024"
REGION = ["gemeente", "school", "sector", "school_swv"]


def _defn(name: str, *cats: tuple[str, object], exclusive: bool = True):  # type: ignore[no-untyped-def]
    return definition_from_mapping({
        "name": name, "version": "1", "source": "test", "description": "test",
        "population": "duty", "exclusive": exclusive,
        "categories": [{"name": n, "label": n, "when": w} for n, w in cats]})


def test_engine_on_hand_made_definitions():
    long = _defn("long", ("lrv3", {"lrv_months": {">": 3}}))
    week = _defn("week", ("lrv4w", {"lrv_days": {">": 28}}))
    split = _defn("split", ("gt", {"lrv_months": {">": 3}}), ("le", {"lrv_months": {"<=": 3}}))
    run = _defn("run", ("lrv", "lrv"))
    got = {(i.smaller, i.larger) for i in definition_inequalities([long, week, split, run])}
    assert (("long", "lrv3"), ("week", "lrv4w")) in got
    assert (("week", "lrv4w"), ("long", "lrv3")) not in got  # 4 weeks < 3 months
    assert (("week", "lrv4w"), ("run", "lrv")) in got
    # split's categories cover a running LRV exactly: split.total == run.total, an
    # identity (the model matrix equates it), not an inequality
    assert not any({a[0], b[0]} == {"split", "run"} and TOTAL in (a[1], b[1])
                   and a[1] == b[1] for a, b in got)
    assert (("long", "lrv3"), ("split", "gt")) not in got  # the same predicate
    assert (("split", "le"), ("run", "lrv")) in got
    # 'enrolled' alone does not imply an LRV
    enr = _defn("enr", ("e", "enrolled"))
    assert not any(a[0] == "enr" for a, _ in
                   ((i.smaller, i.larger) for i in definition_inequalities([enr, run])))


def test_builtin_inequalities_include_the_known_ones():
    got = {(i.smaller, i.larger) for i in definition_inequalities(
        list(builtin_definitions().values()))}
    assert (("ocw2016", TOTAL), ("vws", TOTAL)) in got  # VWS drops !exempt and adds 5a
    assert (("ocw2016", "lrv_4w"), ("vws", "lrv_4w")) in got
    assert (("vsvkompas", TOTAL), ("balans", TOTAL)) in got
    assert stock_within_flow(["2023-10-01", "2023-2024", "2024-10-01"]) == [
        ("2023-10-01", "2023-2024")]


def _members(pc: pl.DataFrame, d: str, c: str, keys: list[str]) -> set[tuple]:
    f = pc.filter(pl.col("definition") == d)
    if c != TOTAL:
        f = f.filter(pl.col("category") == c)
    return set(f.select(keys).unique().iter_rows())


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_inequalities_hold_on_synthetic_registers(synthetic_register, seed):
    """Per child: every derived inequality is a set inclusion (stocks in every region,
    flows nationally), and the stock on a date is inside the flow over its year."""
    reg = synthetic_register(0.002, seed)
    c = Counter(reg, "all")
    ineq = definition_inequalities(c.definitions)
    assert len(ineq) > 20
    flow = c.flow(YEAR)
    stocks = c.stock(list(DATES))
    excl = {d.name: d.exclusive for d in c.definitions}
    checked = 0
    for day in DATES:
        pc = stocks.filter(pl.col("period") == day.isoformat())
        for i in ineq:
            small = _members(pc, *i.smaller, ["pid", *REGION])
            assert small <= _members(pc, *i.larger, ["pid", *REGION]), (day, i)
            checked += len(small)
        for d in c.definitions:
            assert _members(pc, d.name, TOTAL, ["pid"]) <= _members(flow, d.name, TOTAL,
                                                                    ["pid"])
    for i in ineq:
        if i.larger[1] == TOTAL or not excl[i.larger[0]]:
            assert _members(flow, *i.smaller, ["pid"]) <= _members(flow, *i.larger, ["pid"])
    assert checked > 0


def test_hand_made_inequality_needs_more_suppression(tmp_path):
    """a=3, b=4 (primary), c=20: with a+b published via total - c, a lies in 0..7;
    knowing a <= b it lies in 0..3, too narrow: c must go too."""
    counts = np.array([3, 4, 20])
    mem = pl.DataFrame({"inner_id": [0, 1, 2] * 2, "cat": ["a", "b", "c"] + ["total"] * 3})

    def build(with_ineq: bool) -> Publication:
        pub = Publication(counts)
        pub.add_table(TableSpec("t", ("cat",)), mem)
        if with_ineq:
            a, b = (pub.cell_ids("t", pl.DataFrame({"cat": [x]})) for x in ("a", "b"))
            pub.add_inequalities(a, b)
        return pub

    prot = Protection(threshold=5, width=4)
    plain = build(False).protect(prot)
    strict = build(True).protect(prot)
    names = ["a", "b", "c", "total"]
    hidden = lambda r: {n for n, h in zip(names, r.suppressed.tolist(), strict=True) if h}  # noqa: E731
    assert hidden(plain) == {"a", "b"}
    assert hidden(strict) >= {"a", "b", "c"}
    a = strict.audit()
    assert a["ok"].all()
    # without declaring it, the attacker of the plain publication has a in 0..3
    iv = attacker_intervals(plain.relations, plain.values, plain.suppressed,
                            inequalities=build(True).inequalities())
    assert (iv.lower[0], iv.upper[0]) == (0, 3)
    # the folder carries the inequality; the audit rebuilds it
    write_folder(strict, tmp_path / "pub")
    _, _, rel = read_folder(tmp_path / "pub")
    assert set(rel["sense"].unique().to_list()) == {"eq", "le"}
    write_folder(plain, tmp_path / "plain")
    (tmp_path / "plain" / "relations.csv").write_text(
        (tmp_path / "pub" / "relations.csv").read_text())
    assert not audit_folder(tmp_path / "plain")["ok"].all()


def test_declared_inequality_must_hold():
    pub = Publication(np.array([5, 2]))
    pub.add_table(TableSpec("t", ("cat",)),
                  pl.DataFrame({"inner_id": [0, 1], "cat": ["a", "b"]}))
    with pytest.raises(ValueError, match=r"t\(cat=a\) <= t\(cat=b\)"):
        pub.add_inequalities(np.array([0]), np.array([1]))


@pytest.fixture(scope="module")
def protected(synthetic_register):  # type: ignore[no-untyped-def]
    c = Counter(synthetic_register(0.002, 5), "all")
    pc = pl.concat([c.stock([DATES[0]]), c.flow(YEAR)], how="diagonal_relaxed")
    return protect_counts(c, pc, threshold=10)


def test_count_publication_declares_and_audits_them(protected, tmp_path):
    g = protected.inequalities
    assert g is not None and g.shape[0] > 100
    v = protected.values
    assert (g @ v <= 0).all()
    write_folder(protected, tmp_path / "pub")
    _, _, rel = read_folder(tmp_path / "pub")
    assert rel.filter(pl.col("sense") == "le")["relation"].n_unique() == g.shape[0]
    a = audit_folder(tmp_path / "pub")
    assert a["ok"].all()
    mine = protected.audit()
    assert a["lower"].to_list() == mine["lower"].to_list()
    assert a["upper"].to_list() == mine["upper"].to_list()


def test_inequalities_only_narrow_the_intervals(protected):
    h = protected.suppressed
    with_ = protected.intervals()
    without = attacker_intervals(protected.relations, protected.values, h)
    assert (with_.lower[h] >= without.lower[h]).all()
    assert (with_.upper[h] <= without.upper[h]).all()


def test_attacker_inequalities_match_plain_lp():
    """A_ub rows: our intervals equal scipy's LP with the same rows."""
    rng = np.random.default_rng(2)
    counts = rng.integers(0, 12, 6)
    mem = pl.DataFrame({"inner_id": list(range(6)) * 2,
                        "cat": [f"c{i}" for i in range(6)] + ["total"] * 6})
    pub = Publication(counts)
    pub.add_table(TableSpec("t", ("cat",)), mem)
    order = np.argsort(counts, kind="stable")
    pub.add_inequalities(order[:-1], order[1:])  # a chain c_(1) <= c_(2) <= ...
    res = pub.protect(Protection(threshold=10))
    h = res.suppressed
    iv = res.intervals()
    R, G = res.relations.toarray(), res.inequalities.toarray()
    for j in np.flatnonzero(h).tolist():
        k = list(np.flatnonzero(h)).index(j)
        for sense in (1, -1):
            r = linprog(sense * np.eye(h.sum())[k], A_eq=R[:, h],
                        b_eq=-(R[:, ~h] @ res.values[~h]), A_ub=G[:, h],
                        b_ub=-(G[:, ~h] @ res.values[~h]), bounds=(0, None), method="highs")
            want = sense * r.fun if r.status == 0 else np.inf
            got = iv.lower[j] if sense == 1 else iv.upper[j]
            assert got == (np.ceil(want - 1e-6) if sense == 1 else np.floor(want + 1e-6))


def test_independent_attacker_with_the_rules(protected, tmp_path):
    """An outsider's LP over the nation and gemeente tables of a stock + flow
    publication, with the sums and the rules' inequalities declared by hand
    (OCW 2016 <= VWS and <= Balans per gemeente on the date; stock <= flow
    nationally): no small cell is narrower than the width."""
    write_folder(protected, tmp_path / "pub")
    read = lambda n: pl.read_csv(tmp_path / "pub" / "tables" / f"{n}.csv",  # noqa: E731
                                 infer_schema=False)
    cells = pl.concat([read("by_nation"), read("by_gemeente")]).with_row_index("j")
    hid = (cells["count"] == "x").to_numpy()
    val = cells["count"].cast(pl.Int64, strict=False).fill_null(0).to_numpy()
    key = {(r["definition"], r["category"], r["region"], r["period"]): r["j"]
           for r in cells.iter_rows(named=True)}
    eq: list[dict[int, float]] = []
    ub: list[dict[int, float]] = []
    by_dkp: dict[tuple, list[int]] = {}
    for (d, k, r, p), j in key.items():
        if r != "NL":
            by_dkp.setdefault((d, k, p), []).append(j)
    for (d, k, p), js in by_dkp.items():
        eq.append({key[(d, k, "NL", p)]: 1.0, **{j: -1.0 for j in js}})
    day = DATES[0].isoformat()
    for (d, k, r, p), j in key.items():
        if (d, k) == ("ocw2016", TOTAL) and p == day:
            ub += [{j: 1.0, key[("vws", TOTAL, r, p)]: -1.0},
                   {j: 1.0, key[("balans", TOTAL, r, p)]: -1.0}]
        if k == TOTAL and r == "NL" and p == day:
            ub.append({j: 1.0, key[(d, k, r, YEAR)]: -1.0})

    def dense(rows: list[dict[int, float]]) -> np.ndarray:
        a = np.zeros((len(rows), len(key)))
        for i, rel in enumerate(rows):
            for j, x in rel.items():
                a[i, j] = x
        return a

    A, G = dense(eq), dense(ub)
    h = np.flatnonzero(hid)
    assert h.size > 0
    small = [i for i, j in enumerate(h) if 0 < protected.values[_cell(protected, cells, j)] < 10]
    assert small
    rng = np.random.default_rng(0)
    for t in rng.choice(small, size=min(12, len(small)), replace=False):
        c = np.zeros(h.size)
        c[t] = 1
        kw = dict(A_eq=A[:, h], b_eq=-(A[:, ~hid] @ val[~hid]), A_ub=G[:, h],
                  b_ub=-(G[:, ~hid] @ val[~hid]), bounds=(0, None), method="highs")
        lo, hi = linprog(c, **kw), linprog(-c, **kw)
        lo_v = np.ceil(lo.fun - 1e-6)
        hi_v = np.inf if hi.status == 3 else np.floor(-hi.fun + 1e-6)
        assert hi_v - lo_v >= 9, (cells.row(int(h[t])), lo_v, hi_v)


def _cell(protected, cells: pl.DataFrame, j: int) -> int:  # type: ignore[no-untyped-def]
    """The index in ``protected`` of row ``j`` of the concatenated nation + gemeente tables."""
    r = cells.row(j, named=True)
    name = "by_nation" if r["region"] == "NL" else "by_gemeente"
    keys = pl.DataFrame({k: [r[k]] for k in ("definition", "category", "region", "period")})
    return int(protected.publication.cell_ids(name, keys)[0])


def test_one_definition_declares_only_stock_within_flow(synthetic_register):
    c = Counter(synthetic_register(0.002, 5), ["ocw2016"])
    pc = pl.concat([c.stock([DATES[0]]), c.flow(YEAR)], how="diagonal_relaxed")
    res = protect_counts(c, pc, threshold=10)
    g = res.inequalities
    assert g is not None and g.shape[0] <= 1  # ocw2016 total on the date <= over the year
    c1 = Counter(synthetic_register(0.002, 5), ["ocw2016"])
    assert protect_counts(c1, c1.stock([DATES[0]]), threshold=10).inequalities.shape[0] == 0
