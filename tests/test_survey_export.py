"""Frames and exports: SPSS and Stata files read back with values and labels; CSV/xlsx; codebook."""

from __future__ import annotations

import math

import polars as pl
import pyreadstat
import pytest

from ozamonitor.errors import ConfigurationError, InputError
from ozamonitor.survey.export import export, numeric_codes
from ozamonitor.survey.frame import to_frame
from ozamonitor.survey.instrument import load_instrument
from ozamonitor.survey.submissions import Submission
from ozamonitor.survey.synth import synthetic_answers


@pytest.fixture(scope="module")
def subs():
    return synthetic_answers([f"OZA{i:02d}" for i in range(12)], seed=3)


@pytest.fixture(scope="module")
def frame(subs):
    return to_frame(subs)


def test_wide_and_long_layout(frame, subs):
    inst = frame.instrument
    submitted = {(s.arrangement_id, s.wave) for s in subs if s.status == "submitted"}
    assert frame.wide.height == len(submitted)
    assert frame.wide.select("arrangement_id", "wave").is_duplicated().sum() == 0
    # a multiple choice becomes one 0/1 dummy per option
    q = inst.question("l4_deviations")
    dummies = [f"l4_deviations_{c}" for c in q.choice_names]
    assert set(dummies) <= set(frame.wide.columns)
    row = frame.wide.filter(pl.col("level4_status") == "submitted").row(0, named=True)
    sub = next(s for s in subs if (s.arrangement_id, s.wave, s.part) ==
               (row["arrangement_id"], row["wave"], "level4"))
    assert [c for c in q.choice_names if row[f"l4_deviations_{c}"] == 1] == \
        sub.answers["l4_deviations"]
    # repeats as long tables, one row per instance
    partners = frame.repeats["partner"]
    n = sum(len(s.answers.get("partner", [])) for s in subs
            if s.part == "level1" and s.status == "submitted")
    assert partners.height == n
    assert partners["instance"].min() == 1


def _equal(a, b):
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return a == b


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_spss_and_stata_round_trip(frame, tmp_path, fmt):
    paths = export(frame, tmp_path / f"answers.{fmt}", lang="en")
    assert {p.name for p in paths} >= {f"answers.{fmt}", f"answers_partner.{fmt}",
                                       f"answers_financier.{fmt}", f"answers_cost_item.{fmt}",
                                       "answers_codebook.xlsx", "answers_codebook.md"}
    read = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    df, meta = read(str(tmp_path / f"answers.{fmt}"))
    assert list(df.columns) == frame.wide.columns
    assert len(df) == frame.wide.height
    labels = meta.column_names_to_labels
    for v in frame.variables_of("wide"):
        want = v.label("en")
        if fmt == "dta" and len(want) > 80:
            assert labels[v.name] == want[:79] + "…"
        else:
            assert labels[v.name] == want
    # single choice: numbers 1..n with the choice labels; values as in the frame
    v = frame.variable("l4_sector")
    codes = numeric_codes(v)
    assert {int(k): lab for k, lab in meta.variable_value_labels["l4_sector"].items()} == {
        codes[c]: lab["en"] for c, lab in v.value_labels.items()}
    back = {int(x) if x == x else None for x in df["l4_sector"]}
    assert back <= set(codes.values()) | {None}
    for got, want in zip(df["l4_sector"], frame.wide["l4_sector"], strict=True):
        assert _equal(None if got != got else int(got), codes.get(want))
    # dummies 0/1 labelled, numbers and text unchanged
    assert {int(k): x for k, x in meta.variable_value_labels["l4_targets_at_risk"].items()} == \
        {0: "not selected", 1: "selected"}
    for col in ("l4_targets_at_risk", "l4_hours", "l2_budget", "l4_capacity", "arrangement_id",
                "l1_promise_txt"):
        for got, want in zip(df[col], frame.wide[col], strict=True):
            if frame.wide[col].dtype == pl.String:
                assert (got or None) == want
            else:
                assert _equal(None if got != got else float(got),
                              None if want is None else float(want))
    # the long table carries its labels too
    rep, rmeta = read(str(tmp_path / f"answers_financier.{fmt}"))
    assert len(rep) == frame.repeats["financier"].height
    assert rmeta.column_names_to_labels["f_kind"] == "Kind of financier"


def test_csv_and_xlsx(frame, tmp_path):
    export(frame, tmp_path / "a.csv")
    back = pl.read_csv(tmp_path / "a.csv", infer_schema_length=None)
    assert back.height == frame.wide.height and back.columns == frame.wide.columns
    assert back["l4_sector"].to_list() == frame.wide["l4_sector"].to_list()
    export(frame, tmp_path / "l.csv", values="labels", lang="en")
    lab = pl.read_csv(tmp_path / "l.csv", infer_schema_length=None)
    assert set(lab["l4_sector"].drop_nulls()) <= {"Primary education", "Secondary education",
                                                  "Both"}
    export(frame, tmp_path / "a.xlsx")
    sheets = pl.read_excel(tmp_path / "a.xlsx", sheet_id=0)
    assert set(sheets) == {"data", "partner", "financier", "cost_item", "codebook"}
    assert sheets["data"].height == frame.wide.height


def test_codebook_lists_every_variable(frame, tmp_path):
    export(frame, tmp_path / "a.csv")
    cb = pl.read_excel(tmp_path / "a_codebook.xlsx")
    assert cb.height == len(frame.variables)
    row = cb.filter(pl.col("variable") == "l4_dev_time_why").row(0, named=True)
    assert row["relevant"] == "selected(${l4_deviations}, 'time')"
    md = (tmp_path / "a_codebook.md").read_text()
    assert "| l4_sector | level4 | single |" in md


def test_drafts_and_waves_are_selectable(subs):
    all_parts = to_frame(subs, statuses=("submitted", "draft"))
    submitted = to_frame(subs)
    assert all_parts.wide.height >= submitted.wide.height
    only = to_frame(subs, waves=[2023])
    assert only.waves() == [2023]


def test_old_version_answers_line_up(tmp_path):
    """A wave answered with an earlier instrument version exports in the new variables."""
    import yaml

    from ozamonitor.survey.instrument import FORMS_DIR

    data = yaml.safe_load((FORMS_DIR / "oza-2024.1.yaml").read_text())
    data["settings"]["version"] = "2023.1"
    row = next(r for r in data["survey"] if r.get("name") == "l4_sector")
    row["type"] = "select_one sector_old"
    data["choices"]["sector_old"] = [["po", "PO", "PO"], ["vo", "VO", "VO"], ["vso", "VSO", "VSO"]]
    old_path = tmp_path / "old.yaml"
    old_path.write_text(yaml.safe_dump(data, allow_unicode=True))
    old = load_instrument(old_path)
    new = load_instrument()
    s_old = Submission("A", 2023, "level4", "2023.1", {"l4_sector": "vso", "l4_hours": 8},
                       status="submitted")
    s_new = Submission("A", 2024, "level4", new.version, {"l4_sector": "po", "l4_hours": 9},
                       status="submitted")
    import ozamonitor.survey.frame as fr

    original = fr.load_instrument
    fr.load_instrument = lambda v=None: old if v == "2023.1" else original(v)
    try:
        f = to_frame([s_old, s_new], new)
    finally:
        fr.load_instrument = original
    assert f.wide["l4_sector"].to_list() == [None, "po"]  # 'vso' does not exist any more
    assert f.wide["l4_hours"].to_list() == [8.0, 9.0]
    assert f.wide["instrument_version"].to_list() == ["2023.1", "2024.1"]


def test_mixed_versions_within_a_wave_are_refused():
    a = Submission("A", 2024, "level3", "2024.1", {}, status="submitted")
    b = Submission("A", 2024, "level4", "2023.1", {}, status="submitted")
    with pytest.raises((InputError, ConfigurationError)):
        to_frame([a, b])


def test_bad_export_options(frame, tmp_path):
    with pytest.raises(ConfigurationError, match="unknown export format"):
        export(frame, tmp_path / "a.pdf")
    with pytest.raises(ConfigurationError, match="language"):
        export(frame, tmp_path / "a.csv", lang="fr")
