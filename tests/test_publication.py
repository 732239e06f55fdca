"""The publication engine: model matrix, Gaussian-elimination suppression, attacker LP."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from ozamonitor.errors import DisclosureRefusedError
from ozamonitor.privacy.attack import attacker_intervals
from ozamonitor.privacy.folder import audit_folder, ledger_masks, read_ledger, write_folder
from ozamonitor.privacy.gauss import linear_relations
from ozamonitor.privacy.publication import Protection, Publication, TableSpec


def two_way(vals: list[list[int]], width: int, threshold: int = 10):  # type: ignore[no-untyped-def]
    a = np.asarray(vals)
    R, C = a.shape
    ids = np.arange(R * C)
    base = pl.DataFrame({"inner_id": ids, "r": [str(x) for x in ids // C],
                         "c": [str(x) for x in ids % C]})
    pub = Publication(a.ravel())
    pub.add_table(TableSpec("cells", ("r", "c")), base)
    pub.add_table(TableSpec("rows", ("r",)), base.select("inner_id", "r"))
    pub.add_table(TableSpec("cols", ("c",)), base.select("inner_id", "c"))
    pub.add_table(TableSpec("total", ("t",)), base.select("inner_id", t=pl.lit("all")))
    return pub.protect(Protection(threshold=threshold, width=width))


def hidden_cells(res) -> set[tuple[int, int]]:  # type: ignore[no-untyped-def]
    t = res.table("cells").filter(pl.col("suppression").is_not_null())
    return {(int(r), int(c)) for r, c in t.select("r", "c").iter_rows()}


def test_two_way_minimal_rectangle():
    # one primary cell (3): the cheapest rectangle through it is (0,0),(0,1),(2,0),(2,1)
    # (3 + 20 + 18 + 11 = 52 against 54, 59 and 70 for the others)
    res = two_way([[20, 3, 15], [14, 22, 30], [18, 11, 25]], width=1)
    assert hidden_cells(res) == {(0, 0), (0, 1), (2, 0), (2, 1)}
    assert res.table("rows")["suppression"].is_null().all()
    a = res.audit()
    assert a["ok"].all()
    prim = a.filter(pl.col("primary")).row(0, named=True)
    assert (prim["lower"], prim["upper"]) == (0.0, 14.0)  # 3 - min(20, 11) .. 3 + min(18, 15)


def test_width_requires_more_than_non_determinacy():
    # the rectangle through the 2 is only 1 wide: 2 +- 1 (the 1 below it); the check adds more
    vals = [[30, 2, 40, 35], [25, 1, 12, 33], [28, 31, 26, 27]]
    loose = two_way(vals, width=0)
    strict = two_way(vals, width=9)
    assert len(hidden_cells(strict)) > len(hidden_cells(loose))
    a = strict.audit()
    assert a["ok"].all()
    prim = a.filter(pl.col("primary"))
    assert ((prim["upper"] - prim["lower"]) >= 9).all()


def test_unsuppressed_counts_are_the_true_counts():
    res = two_way([[20, 3, 15], [14, 22, 30], [18, 11, 25]], width=9)
    for name in res.table_names:
        t = res.table(name).join(res.unprotected(name).rename({"count": "true"}),
                                 on=[c for c in res.unprotected(name).columns if c != "count"])
        shown = t.filter(pl.col("suppression").is_null())
        assert (shown["count"] == shown["true"]).all()
        assert t.filter(pl.col("suppression").is_not_null())["count"].is_null().all()
    assert set(res.rendered("cells")["count"]) <= {"x", *map(str, range(1000))}


def test_relations_come_from_the_matrix():
    # two 'definitions' counting the same children, one counting their union
    inner = np.array([4, 7, 12])
    m = pl.DataFrame({"inner_id": [0, 1, 2, 0, 1, 2, 0, 1, 2],
                      "d": ["a", "a", "a", "b", "b", "b", "u", "u", "u"],
                      "k": ["p", "q", "q", "p", "q", "q", "all", "all", "all"]})
    pub = Publication(inner)
    pub.add_table(TableSpec("t", ("d", "k")), m)
    R = linear_relations(pub.matrix())
    v = pub.matrix() @ inner
    assert np.allclose(R @ v, 0)
    # a/p - b/p = 0, a/q - b/q = 0, u/all - a/p - a/q = 0: rank 3 of 5 cells
    assert R.shape[0] == 3
    assert np.linalg.matrix_rank(R.toarray()) == 3


def _random_hierarchy(rng: np.random.Generator):  # type: ignore[no-untyped-def]
    """nation -> regions -> subregions x categories (+ totals), counts often small."""
    n_reg, n_sub, n_cat = rng.integers(2, 4), rng.integers(2, 4), rng.integers(2, 4)
    rows = []
    for r in range(n_reg):
        for s in range(n_sub):
            for c in range(n_cat):
                rows.append((f"R{r}", f"R{r}S{s}", f"c{c}"))
    counts = np.where(rng.random(len(rows)) < 0.4, rng.integers(1, 10, len(rows)),
                      rng.integers(0, 40, len(rows)))
    base = pl.DataFrame(rows, schema=["reg", "sub", "cat"], orient="row").with_row_index(
        "inner_id").with_columns(pl.col("inner_id").cast(pl.Int64))
    pub = Publication(counts)
    for level in ("sub", "reg"):
        m = base.select("inner_id", pl.col(level).alias("region"), "cat")
        mem = pl.concat([m, m.with_columns(cat=pl.lit("total"))])
        pub.add_table(TableSpec(f"by_{level}", ("region", "cat")), mem)
    nat = base.select("inner_id", region=pl.lit("NL"), cat=pl.col("cat"))
    pub.add_table(TableSpec("by_nation", ("region", "cat"), priority=1),
                  pl.concat([nat, nat.with_columns(cat=pl.lit("total"))]))
    return pub, counts


def _inner_lp_interval(pub: Publication, counts: np.ndarray, hidden: np.ndarray,
                       j: int) -> tuple[float, float]:
    """Brute force: the attacker LP over the inner cells (scipy), independent of ours."""
    m = pub.matrix().toarray()
    v = m @ counts
    pubrows = ~hidden
    out = []
    for sense in (1, -1):
        r = linprog(sense * m[j], A_eq=m[pubrows], b_eq=v[pubrows],
                    bounds=[(0, None)] * m.shape[1], method="highs")
        out.append(sense * r.fun if r.status == 0 else np.inf)
    return out[0], out[1]


@pytest.mark.parametrize("seed", range(8))
def test_random_hierarchies_are_protected(seed: int):
    rng = np.random.default_rng(seed)
    pub, counts = _random_hierarchy(rng)
    res = pub.protect(Protection(threshold=10))
    v = res.values
    assert (v[~res.suppressed] == (pub.matrix() @ counts)[~res.suppressed]).all()
    a = res.audit()
    assert a["ok"].all()
    # the finest table is published in full detail, so the cell LP equals the inner LP
    for j in np.flatnonzero(res.primary).tolist():
        lo, hi = _inner_lp_interval(pub, counts, res.suppressed, j)
        assert np.ceil(lo - 1e-6) <= v[j] <= np.floor(hi + 1e-6)
        assert np.floor(hi + 1e-6) - np.ceil(lo - 1e-6) >= 9


def test_attacker_intervals_match_plain_lp():
    """Merged identities and the early stop give the exact interval when asked."""
    rng = np.random.default_rng(5)
    pub, _counts = _random_hierarchy(rng)
    res = pub.protect(Protection(threshold=10))
    iv = attacker_intervals(res.relations, res.values, res.suppressed)
    R = res.relations.toarray()
    h = res.suppressed
    for j in np.flatnonzero(h).tolist():
        b = -(R[:, ~h] @ res.values[~h])
        lo = linprog(np.eye(h.sum())[list(np.flatnonzero(h)).index(j)], A_eq=R[:, h], b_eq=b,
                     bounds=(0, None), method="highs")
        assert iv.lower[j] == pytest.approx(np.ceil(lo.fun - 1e-6))


def test_folder_round_trip_and_ledger(tmp_path):
    res = two_way([[20, 3, 15], [14, 22, 30], [18, 11, 25]], width=9)
    write_folder(res, tmp_path / "pub", source={"what": "test"})
    a = audit_folder(tmp_path / "pub")
    assert a.height == int(res.suppressed.sum()) and a["ok"].all()
    mine = res.audit().select("table", "row", "lower", "upper").sort("table", "row")
    theirs = a.select("table", "row", "lower", "upper").sort("table", "row")
    assert mine.equals(theirs)
    # a later run sees which cells were published and suppressed
    ledger = read_ledger(tmp_path / "pub")
    assert len(ledger["runs"]) == 1
    pub2 = two_way([[20, 3, 15], [14, 22, 30], [18, 11, 25]], width=9).publication
    public, hidden = ledger_masks(pub2, ledger)
    assert (hidden == res.suppressed).all() and (public == ~res.suppressed).all()
    res2 = pub2.protect(Protection(threshold=10), public, hidden)
    assert (res2.suppressed == res.suppressed).all()
    write_folder(res2, tmp_path / "pub")
    assert len(read_ledger(tmp_path / "pub")["runs"]) == 2


def test_tampered_folder_fails_the_audit(tmp_path):
    res = two_way([[20, 3, 15], [14, 22, 30], [18, 11, 25]], width=9)
    write_folder(res, tmp_path / "pub")
    f = tmp_path / "pub" / "tables" / "cells.csv"
    df = pl.read_csv(f, infer_schema=False)
    # publish the secondary cell next to the primary one: the primary is then determined
    i = df.with_row_index().filter((pl.col("r") == "0") & (pl.col("c") == "0"))["index"][0]
    df = df.with_columns(pl.when(pl.int_range(pl.len()) == i).then(pl.lit("20"))
                         .otherwise(pl.col("count")).alias("count"))
    df.write_csv(f)
    a = audit_folder(tmp_path / "pub")
    assert not a["ok"].all()


def test_earlier_published_small_cell_is_refused():
    res = two_way([[20, 3, 15], [14, 22, 30], [18, 11, 25]], width=9)
    forced = np.zeros(res.values.size, bool)
    forced[1] = True  # the primary cell, as if an earlier run had published it
    with pytest.raises(DisclosureRefusedError):
        res.publication.protect(Protection(threshold=10), forced_public=forced)


def test_empty_cells_are_structural_zeros():
    inner = np.array([3, 30])
    m = pl.DataFrame({"inner_id": [0, 1], "k": ["a", "b"]})
    pub = Publication(inner)
    pub.add_table(TableSpec("t", ("k",)), m, grid=pl.DataFrame({"k": ["a", "b", "c"]}))
    pub.add_table(TableSpec("tot", ("all",)), m.select("inner_id", all=pl.lit("NL")))
    res = pub.protect(Protection(threshold=10))
    shown = res.rendered("t")["count"].to_list()
    # 'c' is empty in every possible table: shown as 0, and hiding it would protect nothing
    assert shown[2] == "0"
    assert sp.csr_matrix(pub.matrix())[2].nnz == 0
