"""The attacker LP's shortcuts (implied bounds, certificates, sweeps, a second
process) against one plain LP per cell and bound (scipy's HiGHS)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from ozamonitor.privacy import attack
from ozamonitor.privacy.attack import attacker_intervals, implied_bounds


def _hierarchy(rng: np.random.Generator, n_groups: int = 6, n_parts: int = 5
               ) -> tuple[sp.csr_matrix, np.ndarray]:
    """Relations of a two-way table with margins and a grand total, plus one
    identity between two cells (as between definitions): ``rel @ values == 0``."""
    vals = rng.integers(0, 12, size=(n_groups, n_parts))
    cells = [*vals.ravel(), *vals.sum(1), *vals.sum(0), vals.sum()]
    idx = np.arange(vals.size).reshape(vals.shape)
    row_t, col_t = vals.size, vals.size + n_groups
    grand = col_t + n_parts
    rows = []
    for g in range(n_groups):
        rows.append({**{int(i): 1.0 for i in idx[g]}, row_t + g: -1.0})
    for p in range(n_parts):
        rows.append({**{int(i): 1.0 for i in idx[:, p]}, col_t + p: -1.0})
    rows.append({**{row_t + g: 1.0 for g in range(n_groups)}, grand: -1.0})
    # the same figure published twice: a copy of cell 0
    cells.append(cells[0])
    rows.append({0: 1.0, len(cells) - 1: -1.0})
    r = sp.lil_matrix((len(rows), len(cells)))
    for k, row in enumerate(rows):
        for c, x in row.items():
            r[k, c] = x
    return r.tocsr(), np.array(cells, float)


def _reference(rel: sp.csr_matrix, values: np.ndarray, hidden: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """One LP per hidden cell and bound over the whole system (no components)."""
    h = np.flatnonzero(hidden)
    a = rel[:, h].toarray()
    b = -(rel[:, ~hidden] @ values[~hidden])
    lo, hi = np.full(values.size, np.nan), np.full(values.size, np.nan)
    for k, c in enumerate(h):
        cost = np.zeros(h.size)
        cost[k] = 1.0
        r = linprog(cost, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        lo[c] = np.ceil(r.fun - 1e-6)
        r = linprog(-cost, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        hi[c] = np.inf if r.status == 3 else np.floor(-r.fun + 1e-6)
    return lo, hi


@pytest.mark.parametrize("seed", range(6))
def test_implied_bounds_hold_every_lp_bound(seed):
    rng = np.random.default_rng(seed)
    rel, values = _hierarchy(rng)
    hidden = rng.random(values.size) < 0.5
    a = sp.csr_matrix(rel[:, hidden])
    rhs = -(rel[:, ~hidden] @ values[~hidden])
    lb, ub = implied_bounds(a, rhs)
    lo, hi = _reference(rel, values, hidden)
    assert (lb <= lo[hidden] + 1e-9).all() and (ub >= hi[hidden] - 1e-9).all()


@pytest.mark.parametrize("seed", range(8))
def test_exact_intervals_equal_one_lp_per_cell(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    rel, values = _hierarchy(rng, n_groups=8, n_parts=6)
    hidden = rng.random(values.size) < 0.6
    if seed % 2:  # the second process path, on a small component
        monkeypatch.setattr(attack, "_PARALLEL_MIN", 1)
        monkeypatch.setenv("OZAMONITOR_LP_WORKERS", "2")
    iv = attacker_intervals(rel, values, hidden)
    lo, hi = _reference(rel, values, hidden)
    np.testing.assert_array_equal(iv.lower[hidden], lo[hidden])
    np.testing.assert_array_equal(iv.upper[hidden], hi[hidden])
    np.testing.assert_array_equal(iv.lower[~hidden], values[~hidden])


@pytest.mark.parametrize("seed", range(4))
def test_fast_bounds_lie_inside_the_exact_ones(seed, monkeypatch):
    rng = np.random.default_rng(100 + seed)
    rel, values = _hierarchy(rng, n_groups=8, n_parts=6)
    hidden = rng.random(values.size) < 0.6
    if seed % 2:
        monkeypatch.setattr(attack, "_PARALLEL_MIN", 1)
        monkeypatch.setenv("OZAMONITOR_LP_WORKERS", "2")
    exact = attacker_intervals(rel, values, hidden)
    fast = attacker_intervals(rel, values, hidden, enough=9)
    h = hidden
    assert (fast.lower[h] >= exact.lower[h]).all() and (fast.upper[h] <= exact.upper[h]).all()
    narrow = exact.width()[h] < 9
    # a cell narrower than the width is always solved exactly
    np.testing.assert_array_equal(fast.lower[h][narrow], exact.lower[h][narrow])
    np.testing.assert_array_equal(fast.upper[h][narrow], exact.upper[h][narrow])


def test_unbounded_cells_found_by_rays_equal_one_lp_per_cell():
    rng = np.random.default_rng(7)
    rel, values = _hierarchy(rng, n_groups=8, n_parts=6)
    hidden = np.ones(values.size, bool)
    hidden[[0, 3, 50]] = False  # a few published cells; most others stay unbounded
    iv = attacker_intervals(rel, values, hidden)
    lo, hi = _reference(rel, values, hidden)
    assert np.isinf(hi[hidden]).sum() >= 10
    np.testing.assert_array_equal(iv.lower[hidden], lo[hidden])
    np.testing.assert_array_equal(iv.upper[hidden], hi[hidden])


@pytest.mark.parametrize("seed", range(4))
def test_inequalities_equal_one_lp_per_cell(seed, monkeypatch):
    """Rows ``x_i - x_j <= 0`` between cells (as one definition within another)."""
    rng = np.random.default_rng(200 + seed)
    rel, values = _hierarchy(rng, n_groups=8, n_parts=6)
    hidden = rng.random(values.size) < 0.6
    pairs = [(i, j) for i, j in rng.integers(0, values.size, (40, 2)) if values[i] <= values[j]
             and i != j][:12]
    g = sp.lil_matrix((len(pairs), values.size))
    for k, (i, j) in enumerate(pairs):
        g[k, i], g[k, j] = 1.0, -1.0
    g = g.tocsr()
    if seed % 2:
        monkeypatch.setattr(attack, "_PARALLEL_MIN", 1)
        monkeypatch.setenv("OZAMONITOR_LP_WORKERS", "2")
    iv = attacker_intervals(rel, values, hidden, inequalities=g)
    h = np.flatnonzero(hidden)
    a_eq, b_eq = rel[:, h].toarray(), -(rel[:, ~hidden] @ values[~hidden])
    a_ub, b_ub = g[:, h].toarray(), -(g[:, ~hidden] @ values[~hidden])
    for k, c in enumerate(h):
        cost = np.zeros(h.size)
        cost[k] = 1.0
        lo = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, method="highs")
        hi = linprog(-cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, method="highs")
        assert iv.lower[c] == np.ceil(lo.fun - 1e-6)
        assert iv.upper[c] == (np.inf if hi.status == 3 else np.floor(-hi.fun + 1e-6))
