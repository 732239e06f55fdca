"""Care history and support needs as covariates, and splits by arrangement detail."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from ozamonitor.causal import impact as im
from ozamonitor.causal.care_history import (
    CARE_HISTORY_COVARIATES,
    add_arrangement_splits,
    add_care_history,
    estimates_by_value,
)
from ozamonitor.register.example import EXAMPLE_EXTRACTION_DATE, example_source_tables
from ozamonitor.register.pseudonym import pseudonymise
from ozamonitor.register.store import Register, write_register

KEY = b"impact-care-key-0123456789abcdef-more"
D = dt.date
H = D(2014, 8, 1)


@pytest.fixture(scope="module")
def example_reg(tmp_path_factory: pytest.TempPathFactory) -> Register:
    t = {}
    for name, df in example_source_tables().items():
        if "bsn" in df.columns:
            df = df.with_columns(person_id=pseudonymise(df["bsn"], KEY)).drop("bsn")
        t[name] = df
    return Register(write_register(tmp_path_factory.mktemp("ex") / "reg", t,
                                   extraction_date=EXAMPLE_EXTRACTION_DATE))


def _stack(d: D) -> int:
    return (d.year - H.year) * 12 + d.month - H.month


def test_care_history_by_hand(example_reg: Register) -> None:
    a, b = pseudonymise(["123456782", "100000009"], KEY).to_list()
    stacked = pl.DataFrame({"stack": [_stack(D(2020, 3, 1)), _stack(D(2023, 1, 1)),
                                      _stack(D(2022, 4, 1)), _stack(D(2018, 1, 1))],
                            "person_id": [a, a, b, b], "treated": [1, 0, 0, 1]})
    out = add_care_history(example_reg, stacked, H)
    assert set(CARE_HISTORY_COVARIATES) <= set(out.columns)
    rows = out.to_dicts()
    # a: Jeugdwet day treatment 2019-01-01..2021-12-31; needs mental_health (2019-09) and
    # family_context (2019-01). On 2020-02-29: 425 days of care in the 730 days before.
    assert rows[0]["care_months_24"] == pytest.approx(
        ((D(2020, 2, 29) - D(2019, 1, 1)).days + 1) / 30.4375)
    assert rows[0]["care_day_24"] == 1 and rows[0]["care_residential_24"] == 0
    assert rows[0]["need_mental_health"] == 1 and rows[0]["need_family_context"] == 1
    assert rows[0]["n_needs"] == 2 and rows[0]["care_wlz_before"] == 0
    # on 2022-12-31 the day treatment ended a year before: 365 days in the window
    assert rows[1]["care_months_24"] == pytest.approx(365 / 30.4375)
    # b: Wlz residential from 2022-03-01: on 2022-03-31, 31 days; physical health need
    # (care indication 2022-02-01) and neurocognitive (TLV 2019-08-01)
    assert rows[2]["care_months_24"] == pytest.approx(31 / 30.4375)
    assert rows[2]["care_wlz_before"] == 1 and rows[2]["care_residential_24"] == 0
    assert rows[2]["n_needs"] == 2
    # nothing recorded before 2018: zeros, not nulls
    assert rows[3]["care_months_24"] == 0 and rows[3]["n_needs"] == 0


def test_arrangement_splits(example_reg: Register) -> None:
    a, b = pseudonymise(["123456782", "100000009"], KEY).to_list()
    stacked = pl.DataFrame({"stack": [_stack(D(2023, 9, 1)), _stack(D(2024, 9, 1)), 0],
                            "person_id": [a, b, "someone"], "treated": [1, 1, 0]})
    out = add_arrangement_splits(example_reg, stacked, H).to_dicts()
    assert (out[0]["arrangement_type"], out[0]["deviation"], out[0]["financier"]) == (
        "class_at_school", "time;location", "gemeente;swv")
    assert (out[1]["arrangement_type"], out[1]["deviation"]) == ("care_location_teaching",
                                                                  "funding")
    assert (out[2]["arrangement_type"], out[2]["deviation"]) == ("", "")


def test_estimates_by_value_puts_a_set_in_each_of_its_groups() -> None:
    stacked = pl.DataFrame({"dev": ["time;location", "", "time", "", "funding", ""],
                            "treated": [1, 0, 1, 0, 1, 0]})
    matched = pl.DataFrame({"treated_i": [0, 2, 4]})
    calls = []

    def fake(st, m, comp, labels, by, max_e, alpha):
        calls.append(list(labels))
        groups = [*sorted(set(labels.tolist())), "all"]
        n = {g: int((labels == g).sum()) if g != "all" else len(labels) for g in groups}
        s = pl.DataFrame({"group": groups, "n_treated": [n[g] for g in groups]})
        return s, s.with_columns(e=pl.lit(0))

    summary, es = estimates_by_value(fake, stacked, matched, None, "dev", 23, 0.05)
    got = dict(summary.select("group", "n_treated").iter_rows())
    assert got == {"funding": 1, "location": 1, "time": 2, "all": 3}
    assert es.height == 4


def test_impact_by_deviation_and_care_covariates(synthetic_register) -> None:
    reg = synthetic_register(0.01, 11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = im.impact_analysis(reg, by="deviation", seed=1)
    data = res.data
    assert {"care_months_24", "n_needs"} <= set(data.columns)
    varying = [c for c in CARE_HISTORY_COVARIATES if data[c].n_unique() > 1]
    assert varying and set(varying) <= set(res.settings["covariates"])
    assert "deviation" not in res.settings["exact"]
    groups = set(res.summary["group"].to_list())
    assert groups <= {"time", "core_objectives", "location", "funding", "unknown", "all"}
    # a set counts in every group its participant's arrangement uses
    t_i = res.matched["treated_i"].to_numpy()
    devs = data["deviation"].to_numpy()[t_i]
    for row in res.summary.iter_rows(named=True):
        if row["group"] == "all":
            assert row["n_treated"] == len(t_i)
        else:
            assert row["n_treated"] == sum(row["group"] in str(d).split(";") for d in devs)
    res2 = im.impact_analysis(reg, by="arrangement_type", seed=1)
    assert set(res2.summary["group"]) - {"all"} <= {
        "extra_guidance", "part_time_teaching", "class_at_school",
        "intermediate_provision", "opdc", "distance_learning", "care_location_teaching",
        "unknown"}
    np.testing.assert_equal(res2.summary.filter(pl.col("group") == "all")["n_treated"][0],
                            res2.matched.height)


def test_cli_by_financier(synthetic_register, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ozamonitor.cli.main import app

    reg = synthetic_register(0.01, 11)
    r = CliRunner().invoke(app, ["impact", "-r", str(reg), "--out", str(tmp_path / "o"),
                                 "--by", "financier"])
    assert r.exit_code == 0, r.output
    assert "financier" in r.output
