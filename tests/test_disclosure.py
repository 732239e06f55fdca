"""Disclosure control: primary and secondary suppression properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ozamonitor.privacy.disclosure import (
    DisclosureError,
    publish,
    render,
    suppress,
    unsafe_groups,
)

GROUPS = [["definition", "region"], ["definition", "category"]]


@st.composite
def count_tables(draw: st.DrawFn) -> pl.DataFrame:
    """Tables definition x region x category with a `total` category per row."""
    n_def = draw(st.integers(1, 2))
    n_reg = draw(st.integers(1, 5))
    n_cat = draw(st.integers(1, 4))
    small = st.one_of(st.integers(0, 12), st.integers(0, 60))
    rows = []
    for d in range(n_def):
        for r in range(n_reg):
            vals = [draw(small) for _ in range(n_cat)]
            for c, v in enumerate(vals):
                rows.append((f"d{d}", f"r{r}", f"c{c}", v))
            rows.append((f"d{d}", f"r{r}", "total", sum(vals)))
    return pl.DataFrame(rows, schema=["definition", "region", "category", "count"], orient="row")


@settings(max_examples=150, deadline=None)
@given(count_tables(), st.integers(1, 15))
def test_suppression_properties(df: pl.DataFrame, threshold: int) -> None:
    out = suppress(df, "count", threshold=threshold, sum_groups=GROUPS)
    assert out.height == df.height
    orig = df["count"].to_list()
    new = out["count"].to_list()
    flag = out["suppression"].to_list()
    for o, n, f in zip(orig, new, flag, strict=True):
        if 0 < o < threshold:
            assert f == "primary" and n is None  # every small non-zero cell suppressed
        elif f is None:
            assert n == o  # nothing else changed
        else:
            assert f == "secondary" and n is None
        if o == 0:
            assert f != "primary"
    # no group with exactly one suppressed cell: nothing recoverable by subtraction
    assert unsafe_groups(out, GROUPS).height == 0
    # dimension columns untouched
    assert out.select("definition", "region", "category").equals(
        df.select("definition", "region", "category"))


def test_smallest_nonzero_complement() -> None:
    df = pl.DataFrame({"region": ["a", "b", "c", "d"], "count": [3, 50, 12, 0]})
    out = suppress(df, threshold=10, sum_groups=[[]])
    assert out["suppression"].to_list() == ["primary", None, "secondary", None]
    shown = render(out)
    assert shown["count"].to_list() == ["x", "50", "x", "0"]  # one symbol


def test_zero_complement_only_when_needed() -> None:
    df = pl.DataFrame({"region": ["a", "b"], "count": [4, 0]})
    out = suppress(df, sum_groups=[[]])
    assert out["suppression"].to_list() == ["primary", "secondary"]


def test_threshold_configurable_and_pandas_input() -> None:
    pdf = pd.DataFrame({"k": ["a", "b", "c"], "count": [4, 6, 30]})
    out = publish(pdf, threshold=5, sum_groups=[[]])
    assert out["count"].to_list() == ["x", "x", "30"]


def test_fractional_counts() -> None:
    df = pl.DataFrame({"k": ["a", "b", "c"], "count": [0.4, 12.25, 30.0]})
    out = publish(df, sum_groups=[[]])
    assert out["count"].to_list() == ["x", "x", "30.0"]


def test_bad_input_errors() -> None:
    df = pl.DataFrame({"k": ["a"], "count": [1]})
    with pytest.raises(DisclosureError, match="region"):
        suppress(df, sum_groups=[["region"]])
    with pytest.raises(DisclosureError, match="numeric"):
        suppress(pl.DataFrame({"count": ["1"]}))
    with pytest.raises(DisclosureError, match="suppress"):
        render(df)


def _determined_cells(df: pl.DataFrame, rows_key: str, cols_key: str) -> list[int]:
    """Hidden cells of a 2-D table (with external row/column totals) fixed by the totals."""
    from scipy.linalg import null_space

    hidden = [i for i, v in enumerate(df["count"].to_list()) if v is None]
    if not hidden:
        return []
    eqs = []
    for key in (rows_key, cols_key):
        for val in df[key].unique().to_list():
            eqs.append([1.0 if df[key][i] == val else 0.0 for i in hidden])
    n = null_space(np.array(eqs))
    return [hidden[j] for j in range(len(hidden)) if not np.any(np.abs(n[j]) > 1e-9)]


def test_audit_blocks_recovery_through_linked_groups():
    """Two 2x2 blocks of small cells joined by one small cell: every row and column has two
    hidden cells, yet the joining cell follows from the totals unless more is hidden."""
    vals = [
        [3, 4, 50, 60],
        [5, 6, 7, 70],
        [80, 90, 2, 8],
        [85, 95, 4, 9],
    ]
    df = pl.DataFrame(
        {
            "r": [f"r{i}" for i in range(4) for _ in range(4)],
            "c": [f"c{j}" for _ in range(4) for j in range(4)],
            "count": [v for row in vals for v in row],
        }
    )
    out = suppress(df, "count", sum_groups=[["r"], ["c"]])
    assert _determined_cells(out, "r", "c") == []
    # every primary cell is still hidden
    small = [i for i, v in enumerate(df["count"].to_list()) if 0 < v < 10]
    assert all(out["count"][i] is None for i in small)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 40), min_size=3, max_size=6), min_size=3, max_size=6))
def test_no_hidden_cell_is_determined(rows):
    width = min(len(r) for r in rows)
    df = pl.DataFrame(
        {
            "r": [f"r{i}" for i, row in enumerate(rows) for _ in range(width)],
            "c": [f"c{j}" for row in rows for j in range(width)],
            "count": [v for row in rows for v in row[:width]],
        }
    )
    out = suppress(df, "count", sum_groups=[["r"], ["c"]])
    assert _determined_cells(out, "r", "c") == []
