"""The exact audit: graphic (bridge) route == dense (SVD) route == brute force."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import null_space

from ozamonitor.privacy.audit import _bridges, determined_cells
from ozamonitor.privacy.disclosure import DisclosureError, SumGroup, _sum_system, suppress


def _brute_force(system, hidden: np.ndarray) -> list[int]:
    """Hidden cells whose unit vector is in the row space of the relations (null space)."""
    cols = np.flatnonzero(hidden)
    if cols.size == 0:
        return []
    pos = {int(c): j for j, c in enumerate(cols)}
    a = np.zeros((system.n_rel, cols.size))
    for r, c, k in zip(system.rel, system.cell, system.coef, strict=True):
        if int(c) in pos:
            a[r, pos[int(c)]] = k
    ns = null_space(a) if a.size else np.eye(cols.size)
    if ns.size == 0:
        return [int(c) for c in cols]
    return [int(cols[j]) for j in range(cols.size) if np.all(np.abs(ns[j]) < 1e-9)]


def _table(vals: list[list[int]], with_total: bool, layers: int = 1) -> pl.DataFrame:
    rows = []
    for layer in range(layers):
        for i, row in enumerate(vals):
            for j, v in enumerate(row):
                rows.append((f"l{layer}", f"r{i}", f"c{j}", v + layer))
            if with_total:
                rows.append((f"l{layer}", f"r{i}", "total", sum(row) + layer * len(row)))
    return pl.DataFrame(rows, schema=["layer", "r", "c", "count"], orient="row")


grids = st.lists(st.lists(st.integers(0, 30), min_size=2, max_size=5), min_size=2, max_size=5)


@settings(max_examples=120, deadline=None)
@given(grids, st.booleans(), st.integers(0, 2**32 - 1), st.floats(0.1, 0.9))
def test_graphic_route_equals_dense_and_brute_force(vals, with_total, seed, share):
    # ragged rows: a column held by one row is no sum group, so its cell is in one
    # relation only (an edge to the ground node)
    df = _table(vals, with_total)
    total = pl.col("c") == "total" if with_total else None
    groups = [SumGroup(["r"], total=total), SumGroup(["c"])]
    system = _sum_system(df, groups, df["count"].cast(pl.Float64).to_numpy())
    hidden = np.random.default_rng(seed).random(df.height) < share
    graphic = determined_cells(system, hidden)
    dense = determined_cells(system, hidden, dense=True)
    assert graphic.tolist() == dense.tolist() == _brute_force(system, hidden)


@settings(max_examples=60, deadline=None)
@given(grids, st.integers(0, 2**32 - 1), st.floats(0.2, 0.8))
def test_three_way_tables_use_the_dense_route(vals, seed, share):
    """Cells in three relations are not graphic; the answer must still be exact."""
    width = min(len(r) for r in vals)
    df = _table([r[:width] for r in vals], with_total=False, layers=2)
    groups = [["layer", "r"], ["layer", "c"], ["r", "c"]]
    system = _sum_system(df, [SumGroup(g) for g in groups],
                         df["count"].cast(pl.Float64).to_numpy())
    hidden = np.random.default_rng(seed).random(df.height) < share
    assert determined_cells(system, hidden).tolist() == _brute_force(system, hidden)
    out = suppress(df, "count", sum_groups=groups)
    s2 = _sum_system(df, [SumGroup(g) for g in groups], df["count"].cast(pl.Float64).to_numpy())
    assert _brute_force(s2, out["count"].is_null().to_numpy()) == []


def test_unbalanced_signs_fall_back_to_dense():
    """Relations whose signs cannot be switched to +1/-1 per cell are not a graph."""
    df = pl.DataFrame({"g": ["a", "a", "b", "b"], "h": ["x", "y", "x", "y"],
                       "count": [5, 5, 3, 3]})
    # group a: cell 1 is its total (5 = 5); group b: no own total
    groups = [SumGroup(["g"], total=(pl.col("g") == "a") & (pl.col("h") == "y")),
              SumGroup(["h"])]
    system = _sum_system(df, groups, df["count"].cast(pl.Float64).to_numpy())
    hidden = np.ones(4, bool)
    assert determined_cells(system, hidden).tolist() == _brute_force(system, hidden)


def test_bridges_brute_force():
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(2, 9))
        m = int(rng.integers(1, 14))
        eu = rng.integers(0, n, m)
        ev = (eu + rng.integers(1, n, m)) % n  # no self-loops; parallel edges allowed
        got = _bridges(n, eu.astype(np.int64), ev.astype(np.int64))
        for e in range(m):
            # bridge: removing e disconnects its endpoints
            adj = {i: set() for i in range(n)}
            for f in range(m):
                if f != e:
                    adj[int(eu[f])].add(int(ev[f]))
                    adj[int(ev[f])].add(int(eu[f]))
            seen, todo = {int(eu[e])}, [int(eu[e])]
            while todo:
                for w in adj[todo.pop()]:
                    if w not in seen:
                        seen.add(w)
                        todo.append(w)
            assert got[e] == (int(ev[e]) not in seen)


def test_declared_totals_are_checked():
    df = pl.DataFrame({"r": ["a"] * 3, "c": ["x", "y", "total"], "count": [4, 20, 25]})
    with pytest.raises(DisclosureError, match="not the sum"):
        suppress(df, sum_groups=[SumGroup(["r"], total=pl.col("c") == "total")])
    with pytest.raises(DisclosureError, match="more than one total"):
        suppress(df, sum_groups=[SumGroup(["r"], total=pl.col("c") != "x")])


def test_total_must_be_declared_not_guessed():
    """One category equal to the total: the cells' values cannot tell which is the total.

    Region r0 has only category c0 (= its total, 3 children); r1 is larger. With
    the total declared, no hidden cell may be recoverable from the published figures.
    """
    df = pl.DataFrame({
        "r": ["r0"] * 3 + ["r1"] * 3,
        "c": ["c0", "c1", "total"] * 2,
        "count": [3, 0, 3, 40, 12, 52],
    })
    groups = [SumGroup(["r"], total=pl.col("c") == "total"), SumGroup(["c"])]
    out = suppress(df, sum_groups=groups)
    system = _sum_system(df, groups, df["count"].cast(pl.Float64).to_numpy())
    assert _brute_force(system, out["count"].is_null().to_numpy()) == []
    assert out["suppression"].to_list()[0] == "primary"


def test_complement_found_beyond_the_cells_own_groups():
    """All other cells of the determined cell's groups are hidden already: the
    complement comes from a group linked to it through hidden cells."""
    df = pl.DataFrame({"r": ["r0", "r0", "r0", "r1", "r1", "r1"],
                       "c": ["c1", "c2", "c3", "c0", "c1", "c3"],
                       "v": [12, 9, 2, 60, 2, 10]})
    groups = [SumGroup(["r"]), SumGroup(["c"])]
    out = suppress(df, "v", sum_groups=groups)
    system = _sum_system(df, groups, df["v"].cast(pl.Float64).to_numpy())
    assert _brute_force(system, out["v"].is_null().to_numpy()) == []


def test_unprotectable_cell_is_an_error():
    """Two blocks of small cells joined by one small cell, nothing else in the table:
    the joining cell follows from the totals and no cell is left to hide it."""
    cells = [("r0", "c0"), ("r0", "c1"), ("r1", "c0"), ("r1", "c1"), ("r1", "c2"),
             ("r2", "c2"), ("r2", "c3"), ("r3", "c2"), ("r3", "c3")]
    df = pl.DataFrame({"r": [r for r, _ in cells], "c": [c for _, c in cells],
                       "v": list(range(1, 10))})
    with pytest.raises(DisclosureError, match="no other cell"):
        suppress(df, "v", sum_groups=[["r"], ["c"]])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 40), min_size=1, max_size=5), min_size=1, max_size=5),
       st.booleans())
def test_suppress_leaves_nothing_determined_on_ragged_tables(vals, with_total):
    df = _table(vals, with_total)
    total = pl.col("c") == "total" if with_total else None
    groups = [SumGroup(["r"], total=total), SumGroup(["c"])]
    try:
        out = suppress(df, "count", sum_groups=groups)
    except DisclosureError:
        return  # a cell no suppression in this table can protect: refused, not published
    system = _sum_system(df, groups, df["count"].cast(pl.Float64).to_numpy())
    assert _brute_force(system, out["count"].is_null().to_numpy()) == []
