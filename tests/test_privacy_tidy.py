"""Tidy tables with total rows through the joint engine (survey tables)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ozamonitor.privacy.folder import audit_folder, write_folder
from ozamonitor.privacy.tidy import protect_tidy
from ozamonitor.survey.tables import format_count


def _two_groups(a: list[int], b: list[int]) -> pl.DataFrame:
    rows = []
    for g, vals in (("g1", a), ("g2", b)):
        rows += [{"group": g, "category": f"c{i}", "count": v} for i, v in enumerate(vals)]
        rows.append({"group": g, "category": "total", "count": sum(vals)})
    return pl.DataFrame(rows)


def test_known_minimal_pattern_one_group():
    """One small cell in a group with a total: the smallest other cell is its complement
    (a group of three 3, 30, 40: hiding 3 and 30 leaves 3 in 0..33)."""
    t, res = protect_tidy(_two_groups([3, 30, 40], [50, 60, 70]), "count", [["group"]],
                          total_col="category")
    hidden = t.filter(pl.col("suppression").is_not_null())
    assert hidden.select("group", "category").rows() == [("g1", "c0"), ("g1", "c1")]
    assert res.audit()["ok"].all()
    shown = t.filter(pl.col("suppression").is_null())
    true = _two_groups([3, 30, 40], [50, 60, 70])
    both = shown.join(true, on=["group", "category"], suffix="_true")
    assert both["count"].to_list() == both["count_true"].to_list()


def test_total_without_members_is_its_own_cell():
    df = pl.DataFrame({"group": ["a", "b"], "category": ["total", "total"], "count": [4, 25]})
    t, _ = protect_tidy(df, "count", [["group"]], total_col="category")
    assert t["suppression"].to_list() == ["primary", None]  # not a structural zero
    assert format_count(None, "primary") == format_count(None, "secondary") == "x"


def test_not_additive_is_refused():
    df = _two_groups([12, 30], [50, 60]).with_columns(
        count=pl.when(pl.col("count") == 42).then(43).otherwise(pl.col("count")))
    with pytest.raises(ValueError, match="not additive"):
        protect_tidy(df, "count", [["group"]], total_col="category")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.integers(0, 40), min_size=1, max_size=5), min_size=1, max_size=5))
def test_random_tables_are_protected(groups: list[list[int]]):
    rows = []
    for k, vals in enumerate(groups):
        rows += [{"group": f"g{k}", "category": f"c{i}", "count": v} for i, v in enumerate(vals)]
        rows.append({"group": f"g{k}", "category": "total", "count": sum(vals)})
    df = pl.DataFrame(rows)
    t, res = protect_tidy(df, "count", [["group"]], total_col="category")
    v = df["count"].to_numpy()
    hid = t["suppression"].is_not_null().to_numpy()
    assert hid[(v > 0) & (v < 10)].all()
    assert (t["count"].to_numpy()[~hid] == v[~hid]).all()  # shown counts are true counts
    assert res.audit()["ok"].all()


def test_survey_folder_passes_the_audit(tmp_path):
    _, res = protect_tidy(_two_groups([3, 30, 40, 2], [5, 60, 70]), "count", [["group"]],
                          total_col="category")
    write_folder(res, tmp_path / "pub")
    a = audit_folder(tmp_path / "pub")
    assert a.height == int(res.suppressed.sum()) and a["ok"].all()
    assert np.isin(a["table"].to_numpy(), ["tidy"]).all()


def test_two_way_table_with_a_grand_total():
    """Rows are regions plus NL, columns states plus 'cases' (the casework counts):
    the grand total (NL, cases) holds every inner row."""
    from ozamonitor.attendance.counts import protect

    vals = {("a", "s1"): 2, ("a", "s2"): 30, ("b", "s1"): 25, ("b", "s2"): 40}
    rows = [{"region": r, "measure": m, "count": v} for (r, m), v in vals.items()]
    for r in ("a", "b"):
        rows.append({"region": r, "measure": "cases",
                     "count": sum(v for (x, _), v in vals.items() if x == r)})
    for m in ("s1", "s2", "cases"):
        rows.append({"region": "NL", "measure": m,
                     "count": sum(x["count"] for x in rows if x["measure"] == m)})
    df = pl.DataFrame(rows)
    groups = [(["region"], pl.col("measure") == "cases"), (["measure"], pl.col("region") == "NL")]
    t = protect(df, sum_groups=groups)
    hidden = set(t.filter(pl.col("suppression").is_not_null())
                 .select("region", "measure").rows())
    assert hidden == {("a", "s1"), ("a", "s2"), ("b", "s1"), ("b", "s2")}  # the rectangle
    _, res = protect_tidy(df, "count", groups)
    assert res.audit()["ok"].all()
    nl = res.publication.matrix()[df.height - 1]
    assert nl.nnz == 4  # the grand total holds the four inner cells
