"""The attacker's intervals: what the published cells and their relations allow.

An attacker knows every published value and every linear relation between
cells (:func:`ozamonitor.privacy.gauss.linear_relations`), and that counts are
non-negative integers. For a suppressed cell the *attacker interval* is
``[min, max]`` of that cell over all tables consistent with that knowledge.

The relations are split into connected components of suppressed cells (two
suppressed cells are linked when one relation holds both); each component is
one linear program (HiGHS via ``highspy``) whose objective is changed from cell
to cell and re-solved from the previous basis (warm start), never one LP per
cell over the whole system.

Integrality is handled by rounding the LP relaxation's bounds inward
(``ceil(min)``, ``floor(max)``). For relations with a totally unimodular
matrix (two-way tables, hierarchies) the LP bounds are the integer bounds; in
general the integer interval can be narrower than the rounded LP interval
(tau-ARGUS and sdcTable's ``attack()`` make the same approximation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

_TOL = 1e-6
_CERT = 1e-7  # a solution this close to an implied bound attains it


@dataclass
class Intervals:
    """Attacker bounds per cell (``lower == upper == value`` for published cells)."""

    lower: np.ndarray
    upper: np.ndarray

    def width(self) -> np.ndarray:
        return self.upper - self.lower


def _components(rel: sp.csr_matrix, hidden: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(cells, relations) of every connected component of hidden cells."""
    from scipy.sparse.csgraph import connected_components

    h = rel[:, hidden]  # relations x hidden cells
    h.data[:] = 1
    nh = h.shape[1]
    link = (h.T @ h).tocsr()
    _, lab = connected_components(link, directed=False)
    hidden_idx = np.flatnonzero(hidden)
    rel_lab = np.full(rel.shape[0], -1, np.int64)
    hc = h.tocoo()
    rel_lab[hc.row] = lab[hc.col]
    out = []
    order = np.argsort(lab, kind="stable")
    bounds = np.searchsorted(lab[order], np.arange(lab.max() + 2 if nh else 1))
    rel_order = np.argsort(rel_lab, kind="stable")
    rel_sorted = rel_lab[rel_order]
    for c in range(len(bounds) - 1):
        cells = hidden_idx[order[bounds[c]:bounds[c + 1]]]
        lo, hi = np.searchsorted(rel_sorted, [c, c + 1])
        out.append((cells, rel_order[lo:hi]))
    return out


def attacker_intervals(relations: sp.csr_matrix, values: np.ndarray, hidden: np.ndarray,
                       targets: np.ndarray | None = None, integer: bool = True,
                       enough: float | None = None,
                       inequalities: sp.spmatrix | None = None) -> Intervals:
    """Bounds of every hidden cell (or of ``targets`` only) given the published cells.

    Parameters
    ----------
    relations:
        ``(n_relations, n_cells)`` sparse matrix, ``relations @ values == 0``.
    values:
        True values of all cells (only published ones are read).
    hidden:
        Boolean mask of suppressed cells.
    targets:
        Boolean mask of the cells whose bounds are wanted (default: all hidden).
    integer:
        Round the LP bounds inward to integers.
    enough:
        Stop solving for a cell once solutions found for other cells show that
        its interval is at least this wide (the bounds returned for it are then
        the range of those solutions: inside its interval, not the interval).
    inequalities:
        ``(n_inequalities, n_cells)`` sparse matrix, ``inequalities @ values <= 0``
        (e.g. one definition never counts more than another); they join the
        components like relations and are rows with an upper bound only.
    """
    values = np.asarray(values, float)
    lower = np.where(hidden, -np.inf, values).astype(float)
    upper = lower.copy()
    want = hidden.copy() if targets is None else (targets & hidden)
    if not want.any():
        return Intervals(lower, upper)
    rel = sp.csr_matrix(relations, dtype=float)
    n_eq = rel.shape[0]
    if inequalities is not None and inequalities.shape[0]:
        rel = sp.vstack([rel, sp.csr_matrix(inequalities, dtype=float)], format="csr")
    for cells, rels in _components(rel, hidden):
        goal = cells[want[cells]]
        if goal.size == 0:
            continue
        lo, hi = _solve_component(rel, values, hidden, cells, rels, goal, enough, n_eq)
        lower[goal], upper[goal] = lo, hi
    if integer:
        lower = np.where(np.isfinite(lower), np.ceil(lower - _TOL), lower)
        upper = np.where(np.isfinite(upper), np.floor(upper + _TOL), upper)
    lower = lower + 0.0  # no -0.0
    lower[hidden & ~want] = np.nan
    upper[hidden & ~want] = np.nan
    return Intervals(lower, upper)


def _quiet_highs():  # type: ignore[no-untyped-def]
    """A HiGHS instance without its start-up banner on stdout."""
    import os
    import sys

    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return h


def _merge_identities(a: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
    """Representative column of every column: pure identities ``x_i - x_j == 0``
    (two unknowns, opposite unit coefficients, nothing published) merge i and j."""
    n = a.shape[1]
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    nnz = np.diff(a.indptr)
    for r in np.flatnonzero((nnz == 2) & (np.abs(rhs) < _TOL)).tolist():
        k = a.indptr[r]
        (i, j), (x, y) = a.indices[k:k + 2], a.data[k:k + 2]
        if abs(x + y) < _TOL and abs(abs(x) - 1) < _TOL:
            ri, rj = find(int(i)), find(int(j))
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    return np.array([find(i) for i in range(n)])


def _component_lp(rel: sp.csr_matrix, values: np.ndarray, hidden: np.ndarray,
                  cells: np.ndarray, rels: np.ndarray, n_eq: int | None = None
                  ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
    """The component's rows ``rlo <= a @ x <= rhs`` over merged unknowns
    (``rlo == rhs`` for relations, ``-inf`` for the inequalities: rows of
    ``rel`` from ``n_eq`` on), and the unknown of every cell of ``cells``."""
    sub = rel[rels]
    pub = ~hidden
    rhs = -(sub[:, pub] @ values[pub])
    a = sp.csr_matrix(sub[:, cells])
    a.sort_indices()
    le = rels >= (rel.shape[0] if n_eq is None else n_eq)
    rlo = np.where(le, -np.inf, rhs)
    rep = _merge_identities(a, np.where(le, np.nan, rhs))
    reps, col_of = np.unique(rep, return_inverse=True)
    a = sp.csr_matrix((a.data, col_of[a.indices], a.indptr), shape=(a.shape[0], reps.size))
    a.sum_duplicates()
    a.eliminate_zeros()
    keep = np.diff(a.indptr) > 0
    return a[keep], rlo[keep], rhs[keep], col_of


def implied_bounds(a: sp.csr_matrix, rhs: np.ndarray, rounds: int = 20,
                   lower: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Bounds on ``x >= 0`` with ``lower <= a @ x <= rhs`` (``lower`` defaults
    to ``rhs``: equations) implied row by row (activity bound propagation, as
    in an LP presolve). They are valid: every feasible ``x`` lies inside them
    (they need not be tight)."""
    rlo = rhs if lower is None else lower
    n = a.shape[1]
    lb, ub = np.zeros(n), np.full(n, np.inf)
    if a.nnz == 0:
        return lb, ub
    row = np.repeat(np.arange(a.shape[0]), np.diff(a.indptr))
    col, x = a.indices, a.data
    pos = x > 0
    for _ in range(rounds):
        # contributions to the smallest / largest activity of each row
        lo_t = np.where(pos, x * lb[col], x * ub[col])
        hi_t = np.where(pos, x * ub[col], x * lb[col])
        lo_inf, hi_inf = ~np.isfinite(lo_t), ~np.isfinite(hi_t)
        lo_n = np.bincount(row, lo_inf, a.shape[0])
        hi_n = np.bincount(row, hi_inf, a.shape[0])
        lo_s = np.bincount(row, np.where(lo_inf, 0.0, lo_t), a.shape[0])
        hi_s = np.bincount(row, np.where(hi_inf, 0.0, hi_t), a.shape[0])
        # activity of the other unknowns of the row, finite where possible
        lo_o = np.where(lo_n[row] - lo_inf > 0, -np.inf, lo_s[row] - np.where(lo_inf, 0, lo_t))
        hi_o = np.where(hi_n[row] - hi_inf > 0, np.inf, hi_s[row] - np.where(hi_inf, 0, hi_t))
        with np.errstate(invalid="ignore"):
            up = np.where(pos, (rhs[row] - lo_o) / x, (rlo[row] - hi_o) / x)
            dn = np.where(pos, (rlo[row] - hi_o) / x, (rhs[row] - lo_o) / x)
        new_ub = np.minimum(ub, _group_min(col, np.where(np.isnan(up), np.inf, up), n))
        new_lb = np.maximum(lb, -_group_min(col, np.where(np.isnan(dn), np.inf, -dn), n))
        if np.array_equal(new_ub, ub) and np.array_equal(new_lb, lb):
            break
        lb, ub = new_lb, new_ub
    return lb, np.maximum(ub, lb)


def _group_min(idx: np.ndarray, val: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, np.inf)
    np.minimum.at(out, idx, val)
    return out


class _ComponentLP:
    """One component's LP, re-solved for changing objectives from the last basis.

    Every solution found is a feasible table: a cell whose value in it equals
    an implied bound (:func:`implied_bounds`) has that bound as its exact LP
    minimum or maximum (a *certificate*), which needs no LP of its own.
    """

    def __init__(self, a: sp.csr_matrix, rlo: np.ndarray, rhs: np.ndarray) -> None:
        import highspy

        self.nc = nc = a.shape[1]
        self.lb, self.ub = implied_bounds(a, rhs, lower=rlo)
        h = _quiet_highs()
        h.setOptionValue("presolve", "off")  # keeps the basis between objectives
        # a new objective leaves the last basis primal feasible: primal simplex
        # goes on from it (about 4x faster here than dual simplex from scratch)
        h.setOptionValue("simplex_strategy", 4)
        h.addVars(nc, np.zeros(nc), np.full(nc, highspy.kHighsInf))
        if a.shape[0]:
            h.addRows(a.shape[0], np.where(np.isfinite(rlo), rlo, -highspy.kHighsInf), rhs,
                      a.nnz, a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32), a.data)
        self.h = h
        self.a, self.eq = a, np.isfinite(rlo)
        self.idx = np.arange(nc, dtype=np.int32)
        self.var_lo = np.full(nc, np.inf)  # range over the solutions found
        self.var_hi = np.full(nc, -np.inf)
        self.lo_v = np.full(nc, np.nan)    # exact LP bounds, where known
        self.hi_v = np.full(nc, np.nan)
        fixed = self.ub <= self.lb + _CERT
        self.lo_v[fixed], self.hi_v[fixed] = self.lb[fixed], self.ub[fixed]
        self.n_lp = 0

    def solve(self, cost: np.ndarray) -> bool:
        """Minimise ``cost @ x``; records the solution. False when unbounded."""
        import highspy

        self.h.changeColsCost(self.nc, self.idx, cost)
        self.h.run()
        self.n_lp += 1
        status = self.h.getModelStatus()
        if status == highspy.HighsModelStatus.kUnbounded:
            self._ray()
            return False
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError("attacker LP: unexpected status "
                               f"{self.h.modelStatusToString(status)}")
        sol = self.h.getSolution()
        x = np.asarray(sol.col_value)
        np.minimum(self.var_lo, x, out=self.var_lo)
        np.maximum(self.var_hi, x, out=self.var_hi)
        at_lo = np.isnan(self.lo_v) & (x <= self.lb + _CERT)
        self.lo_v[at_lo] = self.lb[at_lo]
        at_hi = np.isnan(self.hi_v) & np.isfinite(self.ub) & (x >= self.ub - _CERT)
        self.hi_v[at_hi] = self.ub[at_hi]
        return True

    def _ray(self) -> None:
        """An unbounded LP's ray ``d >= 0`` with ``a @ d == 0`` (``<= 0`` on the
        inequalities): the true table plus
        any multiple of it is feasible, so every unknown with ``d > 0`` is unbounded."""
        _, has_ray, d = self.h.getPrimalRay()
        if not has_ray:
            return
        d = np.asarray(d, float)
        scale = max(float(np.abs(d).max(initial=0.0)), 1.0)
        ad = self.a @ d  # == 0 on relations, <= 0 on inequalities
        tol = 1e-9 * scale
        if ((d < -tol).any() or (np.abs(ad[self.eq]) > tol).any()
                or (ad[~self.eq] > tol).any()):
            return
        up = d > 1e-7 * scale
        self.hi_v[up] = np.inf
        self.var_hi[up] = np.inf

    def objective(self) -> float:
        return float(self.h.getInfo().objective_function_value)

    def sweep(self, goal: np.ndarray, sense: float) -> None:
        """Aggregated objectives: push all uncertified ``goal`` unknowns towards
        their implied bound at once, while that certifies enough of them."""
        store = self.lo_v if sense > 0 else self.hi_v
        if sense < 0:
            self._unbounded_sweep(goal)
        while True:
            todo = goal[np.isnan(store[goal])]
            if sense < 0:
                todo = todo[np.isfinite(self.ub[todo])]
            if todo.size < 8:
                return
            cost = np.zeros(self.nc)
            scale = np.maximum(self.ub[todo], 1.0) if sense < 0 else 1.0
            cost[todo] = sense / scale
            before = int(np.isnan(store[goal]).sum())
            if not self.solve(cost):
                return
            if before - int(np.isnan(store[goal]).sum()) < max(2, todo.size // 20):
                return

    def _unbounded_sweep(self, goal: np.ndarray) -> None:
        """Maximise the sum of the unknowns without a finite implied bound; while
        that is unbounded, its ray proves some of them unbounded."""
        while True:
            todo = goal[np.isnan(self.hi_v[goal]) & ~np.isfinite(self.ub[goal])]
            if todo.size < 8:
                return
            cost = np.zeros(self.nc)
            cost[todo] = -1.0
            if self.solve(cost) or np.isnan(self.hi_v[todo]).sum() > todo.size - 2:
                return

    def one(self, i: int, sense: float) -> None:
        """The exact LP minimum (sense 1) or maximum (sense -1) of unknown ``i``."""
        cost = np.zeros(self.nc)
        cost[i] = sense
        store = self.lo_v if sense > 0 else self.hi_v
        if self.solve(cost):
            store[i] = self.objective() * sense
        else:
            store[i] = -np.inf * sense
            self.var_hi[i] = np.inf


#: Processes that share one component's LPs in the exact audit (the issue's
#: target machine has 2 cores); set ``OZAMONITOR_LP_WORKERS=1`` to stay in-process.
_PARALLEL_MIN = 300  # fewer LPs than this are not worth starting a process


def _workers() -> int:
    import os

    env = os.environ.get("OZAMONITOR_LP_WORKERS")
    if env:
        return max(1, int(env))
    return max(1, min(2, len(os.sched_getaffinity(0))))


def _solve_jobs(a: sp.csr_matrix, rlo: np.ndarray, rhs: np.ndarray, jobs: np.ndarray,
                enough: float | None, seen: tuple[np.ndarray, np.ndarray]
                ) -> tuple[np.ndarray, ...]:
    """:func:`_run_jobs` in a fresh LP, ``seen`` being the range of the solutions
    found before; returns its exact bounds (NaN where not solved) and the range
    of its solutions. Runs in a worker process."""
    lp = _ComponentLP(a, rlo, rhs)
    lp.var_lo, lp.var_hi = seen[0].copy(), seen[1].copy()
    _run_jobs(lp, jobs, enough)
    return lp.lo_v, lp.hi_v, lp.var_lo, lp.var_hi


def _run_jobs(lp: _ComponentLP, jobs: np.ndarray, enough: float | None) -> None:
    """Exact minimum (sense 1) or maximum (-1) of each ``jobs`` row ``(unknown, sense)``
    not known yet; with ``enough``, not for an unknown whose range over the
    solutions found so far spans ``enough``."""
    for i, sense in jobs.tolist():
        i = int(i)
        store = lp.lo_v if sense > 0 else lp.hi_v
        if np.isnan(store[i]) and (enough is None or lp.var_hi[i] - lp.var_lo[i] < enough):
            lp.one(i, float(sense))


def _shared(lp: _ComponentLP, rlo: np.ndarray, rhs: np.ndarray, ug: np.ndarray,
            enough: float | None) -> None:
    """:func:`_run_jobs` for the unknowns ``ug``, shared between processes when
    there are many LPs to go (each process solves every n-th unknown's LPs)."""
    todo = [i for i in ug.tolist() if np.isnan(lp.lo_v[i]) or np.isnan(lp.hi_v[i])]
    if enough is not None:
        todo = [i for i in todo if lp.var_hi[i] - lp.var_lo[i] < enough]
    jobs = np.array([(i, s) for i in todo for s in (1.0, -1.0)], float).reshape(-1, 2)
    n_work = _workers()
    if n_work == 1 or len(jobs) < _PARALLEL_MIN:
        _run_jobs(lp, jobs, enough)
        return
    import pickle
    import subprocess
    import sys
    import tempfile

    parts = [jobs[k::n_work] if enough is None else
             jobs[np.isin(jobs[:, 0], todo[k::n_work])] for k in range(n_work)]
    # a plain child process (not multiprocessing: that would re-import the
    # caller's main script, and forking would copy HiGHS's and polars' threads)
    with tempfile.TemporaryDirectory() as tmp:
        procs = []
        for k, part in enumerate(parts[1:]):
            src, dst = f"{tmp}/in{k}.pkl", f"{tmp}/out{k}.pkl"
            with open(src, "wb") as f:
                pickle.dump((lp.a, rlo, rhs, part, enough, (lp.var_lo, lp.var_hi)), f)
            procs.append((subprocess.Popen([sys.executable, "-m", __name__, src, dst]), dst))
        _run_jobs(lp, parts[0], enough)
        for proc, dst in procs:
            if proc.wait() != 0:
                raise RuntimeError(f"attacker LP worker failed (exit {proc.returncode})")
            with open(dst, "rb") as f:
                lo_v, hi_v, var_lo, var_hi = pickle.load(f)
            lp.lo_v = np.where(np.isnan(lp.lo_v), lo_v, lp.lo_v)
            lp.hi_v = np.where(np.isnan(lp.hi_v), hi_v, lp.hi_v)
            np.minimum(lp.var_lo, var_lo, out=lp.var_lo)
            np.maximum(lp.var_hi, var_hi, out=lp.var_hi)


def _worker_main(src: str, dst: str) -> None:
    """``python -m ozamonitor.privacy.attack IN OUT``: solve the jobs pickled in IN."""
    import pickle

    with open(src, "rb") as f:
        a, rlo, rhs, jobs, enough, seen = pickle.load(f)
    with open(dst, "wb") as f:
        pickle.dump(_solve_jobs(a, rlo, rhs, jobs, enough, seen), f)


def _solve_component(rel: sp.csr_matrix, values: np.ndarray, hidden: np.ndarray,
                     cells: np.ndarray, rels: np.ndarray, goal: np.ndarray,
                     enough: float | None = None, n_eq: int | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """LP bounds of the ``goal`` cells of one component.

    Rows of ``rel`` from ``n_eq`` on are inequalities (``<= 0``).

    With ``enough``, a cell whose values in the solutions found so far already
    span ``enough`` is not solved for: its returned bounds are those values
    (an inner approximation of its interval, wide enough for the caller).
    Otherwise the bounds are the exact LP bounds: certified by a solution that
    reaches an implied bound, or solved for one by one.
    """
    if rels.size == 0:  # no relation: only non-negativity
        return np.zeros(goal.size), np.full(goal.size, np.inf)
    a, rlo, rhs, col_of = _component_lp(rel, values, hidden, cells, rels, n_eq)
    lp = _ComponentLP(a, rlo, rhs)
    pos = dict(zip(cells.tolist(), col_of.tolist(), strict=True))
    gi = np.array([pos[c] for c in goal.tolist()], np.int64)
    ug = np.unique(gi)
    lp.sweep(ug, 1.0)
    lp.sweep(ug, -1.0)
    _shared(lp, rlo, rhs, ug, enough)
    lo = np.where(np.isnan(lp.lo_v[gi]), lp.var_lo[gi], lp.lo_v[gi])
    hi = np.where(np.isnan(lp.hi_v[gi]), lp.var_hi[gi], lp.hi_v[gi])
    return lo, hi


if __name__ == "__main__":
    import sys

    _worker_main(sys.argv[1], sys.argv[2])
