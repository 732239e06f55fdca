"""Outcome measures on a hand-made register whose answers are known by construction."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from ozamonitor.causal import outcomes as oc
from ozamonitor.register.store import Register, write_register

D = dt.date


@pytest.fixture(scope="module")
def reg(tmp_path_factory) -> Register:
    out = tmp_path_factory.mktemp("reg") / "r"
    persons = pl.DataFrame(
        {
            "person_id": ["p1", "p2", "p3"],
            "birth_date": [D(2012, 3, 10), D(2011, 5, 5), D(2010, 1, 1)],
            "sex": ["F", "M", "F"],
            "parent_education": ["low", "middle", "high"],
            "income_decile": [2, 5, 9],
            "migration_background": ["dutch", "dutch", "europe"],
            "household_type": ["two_parents", "single_parent", "two_parents"],
            "newcomer_arrival_date": [None, None, None],
            "child_protection": [False, True, False],
        },
        schema_overrides={"newcomer_arrival_date": pl.Date},
    )
    residences = pl.DataFrame(
        {
            "person_id": ["p1", "p2", "p3"],
            "gemeente_code": ["GM0001"] * 3,
            "start": [D(2012, 3, 10), D(2011, 5, 5), D(2010, 1, 1)],
            "end": [None, None, None],
        },
        schema_overrides={"end": pl.Date},
    )
    schools = pl.DataFrame(
        {
            "school_id": ["00AA00", "00BB00"],
            "brin": ["00AA", "00BB"],
            "name": ["Basisschool A", "College B"],
            "sector": ["po", "vo"],
            "wec_cluster": [None, None],
            "gemeente_code": ["GM0001", "GM0001"],
            "swv_id": ["PO01", "VO01"],
        },
        schema_overrides={"wec_cluster": pl.Int32},
    )
    enrolments = pl.DataFrame(
        {
            "person_id": ["p1", "p2", "p2", "p3"],
            "school_id": ["00AA00", "00AA00", "00BB00", "00BB00"],
            "start": [D(2016, 8, 1), D(2015, 8, 1), D(2023, 7, 1), D(2022, 8, 1)],
            "end": [None, D(2022, 12, 31), None, None],
            "end_reason": [None, "removed", None, None],
            "tlv_category": [None, None, None, None],
        },
        schema_overrides={"end": pl.Date, "tlv_category": pl.String, "end_reason": pl.String},
    )
    absence = pl.DataFrame(
        {
            "report_id": ["r1"],
            "person_id": ["p1"],
            "school_id": ["00AA00"],
            "report_date": [D(2023, 4, 1)],
            "kind": ["lrv"],
            "absence_start": [D(2023, 3, 1)],
            "absence_end": [D(2023, 5, 31)],
        }
    )
    exemptions = pl.DataFrame(
        {
            "person_id": ["p2"],
            "article": ["5a"],
            "start": [D(2023, 2, 1)],
            "end": [D(2023, 4, 30)],
            "gemeente_code": ["GM0001"],
        }
    )
    arrangements = pl.DataFrame(
        {
            "arrangement_id": ["A1"],
            "initiative_id": ["I1"],
            "name": ["OZA De Brug"],
            "lead_kind": ["school"],
            "lead_id": ["00BB00"],
            "swv_id": ["VO01"],
            "gemeente_code": ["GM0001"],
            "care_provider": ["Zorg BV"],
            "financiers": ["gemeente;swv"],
            "deviations": ["time;location"],
            "target_groups": ["exempt_5a"],
            "start": [D(2023, 1, 1)],
        }
    )
    participation = pl.DataFrame(
        {
            "person_id": ["p2"],
            "arrangement_id": ["A1"],
            "start": [D(2023, 7, 1)],
            "end": [D(2024, 1, 31)],
            "end_reason": ["regular_education"],
        }
    )
    regions = pl.DataFrame(
        {"region_id": ["GM0001", "PO01", "VO01"], "kind": ["gemeente", "swv_po", "swv_vo"],
         "name": ["Gemeente Een", "SWV PO 1", "SWV VO 1"]}
    )
    write_register(
        out,
        {
            "persons": persons,
            "residences": residences,
            "regions": regions,
            "schools": schools,
            "enrolments": enrolments,
            "absence_reports": absence,
            "exemptions": exemptions,
            "arrangements": arrangements,
            "oza_participation": participation,
        },
        extraction_date=D(2024, 12, 31),
    )
    return Register(out)


@pytest.fixture(scope="module")
def status(reg):
    return oc.education_status(reg, start="2023-01", end="2024-06")


def _row(status, pid):
    return status.alphabet.decode(status.codes[list(status.ids).index(pid)]).tolist()


def test_status_by_construction(status):
    p1 = _row(status, "p1")
    assert p1[:2] == ["educated"] * 2
    assert p1[2:5] == ["absent"] * 3
    assert p1[5:] == ["educated"] * 13
    p2 = _row(status, "p2")
    assert p2[:6] == ["outside"] * 6
    assert p2[6:] == ["educated"] * 12
    assert set(_row(status, "p3")) == {"educated"}


def test_in_education_and_panel(status):
    y = oc.in_education(status)
    assert y.shape == (3, 18)
    panel = oc.outcome_panel(status)
    assert panel.height == 54
    p1 = panel.filter(pl.col("person_id") == "p1")["in_education"].to_list()
    assert p1 == [1, 1, 0, 0, 0] + [1] * 13


def test_months_without_education(reg, status):
    m = oc.months_without_education(reg, status)
    got = {(r["person_id"], r["school_year"]): (r["months_duty"], r["months_without"])
           for r in m.iter_rows(named=True)}
    assert got[("p1", "2022-2023")] == (7, 3)
    assert got[("p2", "2022-2023")] == (7, 6)
    assert got[("p3", "2022-2023")] == (7, 0)
    assert got[("p1", "2023-2024")] == (11, 0)


def test_accessibility(reg, status):
    a = oc.accessibility(reg, status)
    assert a.to_dicts() == [
        {"person_id": "p2", "eligible_month": "2023-01", "access_month": "2023-07"}
    ]


def test_continuity(status):
    c = oc.continuity(status, min_months=3)
    assert c.to_dicts() == [
        {"person_id": "p1", "discontinuity_month": "2023-03", "restored_month": "2023-06"}
    ]


def test_arrangement_measures(reg):
    d = oc.arrangement_durations(reg)
    assert d["duration_days"].to_list() == [215]
    assert d["censored"].to_list() == [False]
    f = oc.arrangement_flows(reg)
    row = {r["month"]: r for r in f.iter_rows(named=True)}
    assert row[D(2023, 7, 1)]["inflow"] == 1 and row[D(2023, 7, 1)]["active_end"] == 1
    assert row[D(2024, 1, 1)]["outflow"] == 1 and row[D(2024, 1, 1)]["active_end"] == 0
    assert f["month"].max() == D(2024, 12, 1)
    assert oc.end_reasons(reg).to_dicts() == [{"end_reason": "regular_education", "count": 1}]
    dest = oc.destination_after_oza(reg, months_after=3)
    assert dest["destination"].to_list() == ["regular"]
    assert np.isclose(oc.arrangement_flows(reg, by_arrangement=True)["inflow"].sum(), 1)


def test_outcome_matrices_by_construction(status):
    ids = list(status.ids)
    acc = oc.outcome_matrix(status, "accessibility")
    assert acc[ids.index("p1")].tolist() == [1.0] * 18  # absent is still enrolled
    assert acc[ids.index("p2")].tolist() == [0.0] * 6 + [1.0] * 12
    con = oc.outcome_matrix(status, "continuity", min_months=3)
    p1 = con[ids.index("p1")]
    assert p1[:5].tolist() == [0.0] * 5  # windows touching the absent months 2-4
    assert p1[5:16].tolist() == [1.0] * 11
    assert np.isnan(p1[16:]).all()  # the window runs past the last month
    assert np.array_equal(oc.outcome_matrix(status, "in_education"), oc.in_education(status),
                          equal_nan=True)
    with pytest.raises(ValueError, match="unknown outcome"):
        oc.outcome_matrix(status, "happiness")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_outcome_matrices_agree_with_the_event_functions(tmp_path, seed):
    """The first month after eligibility / a discontinuity where the matrix is 1 is the
    month accessibility() / continuity() report (brute force over random registers)."""
    from builders import random_register

    reg = Register(random_register(tmp_path / "r", n=80, seed=seed))
    st = oc.education_status(reg, start="2018-01", end="2024-12")
    cols = list(st.columns)
    acc = oc.outcome_matrix(st, "accessibility")
    for r in oc.accessibility(reg, st).iter_rows(named=True):
        i = list(st.ids).index(r["person_id"])
        e = cols.index(r["eligible_month"])
        hit = [j for j in range(e + 1, len(cols)) if acc[i, j] == 1]
        assert (cols[hit[0]] if hit else None) == r["access_month"]
    con = oc.outcome_matrix(st, "continuity", min_months=3)
    for r in oc.continuity(st, min_months=3).iter_rows(named=True):
        i = list(st.ids).index(r["person_id"])
        d = cols.index(r["discontinuity_month"])
        hit = [j for j in range(d + 1, len(cols)) if con[i, j] == 1]
        assert (cols[hit[0]] if hit else None) == r["restored_month"]
