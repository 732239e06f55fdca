"""The form engine: every skip rule and every check of the instrument, types, required
answers, repeats, completeness, prefill and answer files."""

from __future__ import annotations

import json

import pytest

from ozamonitor.errors import InputError
from ozamonitor.survey.answers import completeness, evaluate_part
from ozamonitor.survey.instrument import load_instrument
from ozamonitor.survey.submissions import (
    Submission,
    load_answers,
    prefill,
    prefill_wave,
    save_answers,
)


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


# question -> (answers under which it is shown, answers under which it is skipped)
SKIP_RULES = {
    "l1_agreement_oth": ({"l1_agreement": "other"}, {"l1_agreement": "coop"}),
    "l1_agree_year": ({"l1_agreement": "coop"}, {"l1_agreement": "none"}),
    "l1_agree_covers": ({"l1_agreement": "covenant"}, {"l1_agreement": "none"}),
    "l1_certainty_why": ({"l1_certainty": "2"}, {"l1_certainty": "3"}),
    "tz_estimate": ({"tz_insight": "partial"}, {"tz_insight": "none"}),
    "tz_sources": ({"tz_insight": "good"}, {"tz_insight": "none"}),
    "tz_complete": ({"tz_insight": "good"}, {"tz_insight": "none"}),
    "l2_pgb": ({"l2_sources": ["lumpsum", "wlz"]}, {"l2_sources": ["lumpsum", "zvw"]}),
    "l2_startup_amt": ({"l2_startup": "yes"}, {"l2_startup": "no"}),
    "l2_startup_payer": ({"l2_startup": "yes"}, {"l2_startup": "no"}),
    "l2_multi_pay": ({"l2_sources": ["lumpsum", "zvw"]}, {"l2_sources": ["lumpsum"]}),
    "l2_soc_how": ({"l2_soc_return": "yes"}, {"l2_soc_return": "no"}),
    "l4_dev_time_why": ({"l4_deviations": ["time", "location"]}, {"l4_deviations": ["location"]}),
    "l4_return_plan": ({"l4_outflow": ["special"]}, {"l4_outflow": ["mbo", "work"]}),
    "om_instruments": ({"om_measures": ["attendance"]}, {"om_measures": ["none"]}),
    "om_frequency": ({"om_measures": ["wellbeing"]}, {"om_measures": ["none"]}),
}
SAMPLE = {"l1_agreement_oth": "Afspraak", "l1_agree_year": 2021, "l1_agree_covers": ["tasks"],
          "l1_certainty_why": "Onduidelijk", "tz_estimate": 40, "tz_sources": ["duo"],
          "tz_complete": "3", "l2_pgb": "no", "l2_startup_amt": 1000.0,
          "l2_startup_payer": ["swv"], "l2_multi_pay": "4", "l2_soc_how": ["qualitative"],
          "l4_dev_time_why": "Opbouw", "l4_return_plan": "yes", "om_instruments": "Lijst",
          "om_frequency": "monthly"}

# question -> (valid answers, answers the check refuses)
CHECKS = {
    "p_name": (["Stichting De Brug", "x" * 120], ["x" * 121]),
    "l1_network": ([["ggd"], ["none"], ["ggd", "gp"]], [["none", "ggd"]]),
    "l1_agree_year": ([2010, 2028], [2009, 2029]),
    "tz_estimate": ([0, 5000], [-1, 5001]),
    "tz_sources": ([["duo"], ["none"]], [["none", "duo"]]),
    "f_share": ([0, 100], [-1, 101]),
    "l2_budget": ([0.5, 10_000_000], [0, 10_000_001]),
    "l2_startup_amt": ([0, 5_000_000], [-0.5, 5_000_001]),
    "c_amount": ([0, 5_000_000], [-1, 5_000_001]),
    "l2_bottlenecks": ([["none"], ["admin", "transport"]], [["admin", "none"]]),
    "l3_care_hours": ([0, 60], [-1, 60.5]),
    "l3_wait_weeks": ([0, 104], [-1, 105]),
    "l4_hours": ([0, 40, "12,5"], [-1, 40.5]),
    "l4_deviations": ([["none"], ["time", "funding"]], [["none", "time"]]),
    "l4_group_size": ([1, 35], [0, 36]),
    "l4_capacity": ([1, 500], [0, 501]),
    "l4_duration": ([1, 120], [0, 121]),
    "om_measures": ([["none"], ["attendance", "goals"]], [["none", "goals"]]),
}
# the answers a check needs to be reached (its question shown)
CONTEXT = {"l1_agree_year": {"l1_agreement": "coop"}, "tz_estimate": {"tz_insight": "good"},
           "tz_sources": {"tz_insight": "good"}, "l2_startup_amt": {"l2_startup": "yes"}}
REPEATED = {"p_name": "partner", "f_share": "financier", "c_amount": "cost_item"}


def test_every_rule_of_the_instrument_is_tested(inst):
    assert {q.name for q in inst.questions if q.relevant and q.repeat is None} == set(SKIP_RULES)
    assert {q.name for q in inst.questions if q.constraint} == set(CHECKS)


@pytest.mark.parametrize("name", sorted(SKIP_RULES))
def test_skip_rule(inst, name):
    q = inst.question(name)
    shown, hidden = SKIP_RULES[name]
    st = evaluate_part(inst, q.part, {**shown, name: SAMPLE[name]})
    assert st.relevant[name] is True
    assert st.values.get(name) is not None
    st = evaluate_part(inst, q.part, {**hidden, name: SAMPLE[name]})
    assert st.relevant[name] is False
    assert name not in st.values and name in st.cleared  # a skipped answer is cleared
    # required when shown (all of these are required or optional as the form says)
    st = evaluate_part(inst, q.part, dict(shown), final=True)
    assert (name in {e.name for e in st.errors if e.kind == "required"}) == (q.required == "yes")
    st = evaluate_part(inst, q.part, dict(hidden), final=True)
    assert name not in {e.name for e in st.errors}


def test_skip_rule_inside_a_repeat(inst):
    a = {"partner": [{"p_name": "A", "p_kind": "other", "p_kind_other": "Stichting"},
                     {"p_name": "B", "p_kind": "school", "p_kind_other": "weg"}]}
    st = evaluate_part(inst, "level1", a)
    assert st.relevant["partner[1].p_kind_other"] is True
    assert st.relevant["partner[2].p_kind_other"] is False
    assert st.values["partner"][0]["p_kind_other"] == "Stichting"
    assert "p_kind_other" not in st.values["partner"][1]
    assert "partner[2].p_kind_other" in st.cleared


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check(inst, name):
    q = inst.question(name)
    good, bad = CHECKS[name]
    for value in good + bad:
        answers = dict(CONTEXT.get(name, {}))
        if name in REPEATED:
            answers[REPEATED[name]] = [{name: value}]
        else:
            answers[name] = value
        st = evaluate_part(inst, q.part, answers)
        errors = [e for e in st.errors if e.name == name]
        if value in good:
            assert not errors, (value, errors)
        else:
            assert [e.kind for e in errors] == ["constraint"], value
            assert errors[0].messages["nl"] == q.constraint_messages["nl"]
            assert errors[0].messages["en"] == q.constraint_messages["en"]
            if name in REPEATED:
                assert errors[0].field == f"{REPEATED[name]}[1].{name}"


def test_messages_name_the_field(inst):
    st = evaluate_part(inst, "level4", {"l4_hours": 50, "l4_capacity": "veel"}, final=True)
    by_name = {e.name: e for e in st.errors}
    assert by_name["l4_hours"].message("en").startswith(
        "l4_hours (How many hours of teaching does a pupil get per week on average?): ")
    assert by_name["l4_capacity"].kind == "type"
    assert "geheel getal" in by_name["l4_capacity"].message("nl")
    assert by_name["l4_sector"].kind == "required"


@pytest.mark.parametrize(
    ("name", "value"),
    [("l4_sector", "mars"), ("l4_targets", ["at_risk", "aliens"]), ("l4_hours", "veel"),
     ("l4_capacity", 2.5), ("l4_capacity", True), ("l4_dev_time_why", ["a"])],
)
def test_type_errors(inst, name, value):
    st = evaluate_part(inst, "level4", {name: value, "l4_deviations": ["time"]})
    assert [e.kind for e in st.errors if e.name == name] == ["type"]
    assert name not in st.values


def test_unknown_and_calculated_fields(inst):
    st = evaluate_part(inst, "level1", {"l4_hours": 3, "l1_n_partners": 9})
    kinds = {e.name: e.kind for e in st.errors}
    assert kinds == {"l4_hours": "unknown", "l1_n_partners": "type"}


def test_required_repeat_and_calculations(inst):
    st = evaluate_part(inst, "level1", {}, final=True)
    assert "partner" in {e.name for e in st.errors}
    a = {"partner": [{"p_signed": "yes"}, {"p_signed": "no"}, {"p_signed": "yes"}]}
    st = evaluate_part(inst, "level1", a)
    assert st.values["l1_n_partners"] == 3.0
    assert st.values["l1_n_signed"] == 2.0
    st = evaluate_part(inst, "level2", {"cost_item": [{"c_amount": 100}, {"c_amount": 50.5}],
                                       "financier": [{"f_share": 60}, {"f_share": 40}]})
    assert st.values["l2_cost_total"] == 150.5
    assert st.values["l2_share_total"] == 100.0
    assert st.values["l2_n_financiers"] == 2.0


def test_draft_ignores_required_submit_does_not(inst):
    assert evaluate_part(inst, "level3", {}).ok
    assert not evaluate_part(inst, "level3", {}, final=True).ok


def test_completeness(inst):
    assert completeness(inst, "level3", {}).answered == 0
    c = completeness(inst, "level3", {"l3_needs": ["mental"], "l3_one_plan": "yes"})
    assert c.answered == 2 and c.shown == 13 and c.share == pytest.approx(2 / 13)
    # a skipped question is not counted as shown
    c1 = completeness(inst, "level2", {"l2_startup": "no"})
    c2 = completeness(inst, "level2", {"l2_startup": "yes"})
    assert c2.shown == c1.shown + 2


def _sub(inst, **kw):
    answers = {"l4_sector": "po", "l4_hours": 12.0, "l4_deviations": ["time"],
               "l4_dev_time_why": "Opbouw", "l4_outflow": ["regular"], "l4_return_plan": "yes"}
    return Submission("OZA01", 2023, "level4", inst.version, answers, status="submitted", **kw)


def test_prefill_marks_copied_answers(inst):
    new = prefill(_sub(inst), wave=2024, instrument=inst)
    assert new.wave == 2024 and new.status == "draft" and new.instrument_version == inst.version
    assert new.answers["l4_hours"] == 12.0
    assert new.prefilled == set(new.answers)
    new.set_answer("l4_hours", 14)
    assert "l4_hours" not in new.prefilled and "l4_sector" in new.prefilled


def test_prefill_drops_answers_the_new_version_does_not_take(inst, tmp_path):
    old = _sub(inst)
    old.answers["l4_sector"] = "mars"  # a choice the instrument no longer has
    old.answers["l4_locations"] = ["home", "moon"]
    new = prefill(old, wave=2024, instrument=inst)
    assert "l4_sector" not in new.answers
    assert new.answers["l4_locations"] == ["home"]


def test_prefill_wave(inst):
    subs = [_sub(inst), Submission("OZA02", 2023, "level4", inst.version, {}, status="draft")]
    opened = prefill_wave(subs, from_wave=2023, to_wave=2024)
    assert [(s.arrangement_id, s.wave) for s in opened] == [("OZA01", 2024)]


@pytest.mark.parametrize("suffix", [".json", ".parquet"])
def test_answer_files_round_trip(inst, tmp_path, suffix):
    subs = [_sub(inst), prefill(_sub(inst), wave=2024, instrument=inst)]
    path = save_answers(subs, tmp_path / f"a{suffix}")
    back = load_answers(path)
    assert [s.to_dict() for s in back] == [s.to_dict() for s in subs]


def test_bad_answer_files_name_file_row_and_field(tmp_path):
    p = tmp_path / "a.json"
    p.write_text(json.dumps({"format": "ozamonitor-survey-answers", "submissions": [
        {"arrangement_id": "A", "wave": 2023, "part": "level1", "instrument_version": "2024.1"},
        {"arrangement_id": "B", "wave": "soon", "part": "level1",
         "instrument_version": "2024.1"}]}))
    with pytest.raises(InputError) as e:
        load_answers(p)
    assert (e.value.file, e.value.row, e.value.field) == ("a.json", 2, "wave")
    p.write_text(json.dumps([
        {"arrangement_id": "A", "wave": 2023, "part": "level1", "instrument_version": "2024.1"},
        {"arrangement_id": "A", "wave": 2023, "part": "level1", "instrument_version": "2024.1"}]))
    with pytest.raises(InputError, match="appears twice"):
        load_answers(p)
    p.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_answers(p)
