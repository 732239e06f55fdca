"""The national rules of the funding advisor: each rule on its own and in combination."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from ozamonitor.funding import Case, FundingInputError, advise, national_rules
from ozamonitor.funding.output import rules_markdown
from ozamonitor.funding.problems import RuleSetError
from ozamonitor.funding.rules import RuleSet

DOCS = Path(__file__).resolve().parents[1] / "docs" / "funding.md"

CHILD = {"age": 12, "enrolled": True, "wlz_indication": False, "chronic_condition": False,
         "care_over_one_year": False}
SETTING = {"location": "school", "brin": True, "oza": False, "oza_deviations": []}


def one(component: dict, child: dict | None = None, setting: dict | None = None,
        matrix=None):
    """Advice for a single component ``c`` on the default child and setting, overridden."""
    case = {"child": {**CHILD, **(child or {})}, "setting": {**SETTING, **(setting or {})},
            "components": [{"id": "c", **component}]}
    return advise(case, matrix)["c"]


# (rule id, component, child overrides, setting overrides, payers, laws)
RULE_CASES = [
    ("wlz.care", {"kind": "upbringing_support"}, {"wlz_indication": True}, {},
     ("zorgkantoor",), ("Wlz",)),
    ("edu.support.not-enrolled", {"kind": "education_support"}, {"enrolled": False}, {},
     ("none",), ()),
    ("edu.support.school", {"kind": "education_support"}, {}, {}, ("swv",),
     ("WPO", "WVO", "WEC")),
    ("edu.support.distance", {"kind": "education_support"}, {},
     {"location": "distance", "brin": False}, ("swv",), ("WPO", "WVO", "WEC")),
    ("edu.support.oza", {"kind": "education_support"}, {},
     {"location": "care_location", "brin": False, "oza": True,
      "oza_deviations": ["location", "funding"]}, ("swv",), ("Besluit OZA",)),
    ("edu.support.off-site", {"kind": "education_support"}, {},
     {"location": "private", "brin": False}, ("none",), ()),
    ("teaching.not-enrolled", {"kind": "teaching"}, {"enrolled": False},
     {"location": "care_location", "brin": False}, ("none",), ()),
    ("teaching.school", {"kind": "teaching"}, {}, {}, ("school",), ("WPO", "WVO", "WEC")),
    ("teaching.distance", {"kind": "teaching"}, {}, {"location": "home", "brin": False},
     ("school",), ("WPO", "WVO", "WEC")),
    ("teaching.oza", {"kind": "teaching"}, {},
     {"location": "care_location", "brin": False, "oza": True,
      "oza_deviations": ["location", "funding", "teaching_time"]},
     ("school", "swv"), ("Besluit OZA",)),
    ("teaching.off-site", {"kind": "teaching"}, {}, {"location": "care_location", "brin": False},
     ("none",), ()),
    ("jw.upbringing", {"kind": "upbringing_support"}, {}, {}, ("gemeente",), ("Jeugdwet",)),
    ("wmo.upbringing", {"kind": "upbringing_support"}, {"age": 18}, {}, ("gemeente",),
     ("Wmo 2015",)),
    ("double-basis.youth", {"kind": "personal_care", "cause": ["psychological", "illness"]},
     {"chronic_condition": True, "care_over_one_year": True}, {}, ("gemeente",), ("Jeugdwet",)),
    ("double-basis.adult", {"kind": "personal_care", "cause": ["upbringing", "disability"]},
     {"age": 20}, {}, ("gemeente",), ("Wmo 2015",)),
    ("zvw.personal-care.youth", {"kind": "personal_care", "cause": "disability"},
     {"chronic_condition": True, "care_over_one_year": True}, {}, ("zorgverzekeraar",),
     ("Zvw",)),
    ("zvw.personal-care.adult", {"kind": "personal_care", "cause": "illness"}, {"age": 19}, {},
     ("zorgverzekeraar",), ("Zvw",)),
    ("jw.personal-care", {"kind": "personal_care", "cause": "psychological"}, {}, {},
     ("gemeente",), ("Jeugdwet",)),
    ("wmo.personal-care", {"kind": "personal_care", "cause": "psychological"}, {"age": 18}, {},
     ("gemeente",), ("Wmo 2015",)),
    ("zvw.nursing", {"kind": "nursing"}, {}, {}, ("zorgverzekeraar",), ("Zvw",)),
    ("jw.supervision", {"kind": "permanent_supervision"}, {}, {}, ("gemeente",), ("Jeugdwet",)),
    ("wmo.supervision", {"kind": "permanent_supervision"}, {"age": 22}, {}, ("gemeente",),
     ("Wmo 2015",)),
    ("transport.school", {"kind": "transport", "to": "school"}, {}, {}, ("gemeente",),
     ("WPO", "WVO", "WEC")),
    ("transport.school.no-brin", {"kind": "transport", "to": "school"}, {},
     {"location": "care_location", "brin": False}, ("none",), ()),
    ("wlz.transport", {"kind": "transport", "to": "care_location"}, {"wlz_indication": True},
     {}, ("zorgkantoor",), ("Wlz",)),
    ("jw.transport", {"kind": "transport", "to": "care_location"}, {}, {}, ("gemeente",),
     ("Jeugdwet",)),
    ("wmo.transport", {"kind": "transport", "to": "care_location"}, {"age": 18}, {},
     ("gemeente",), ("Wmo 2015",)),
    ("wmo.aids", {"kind": "aids"}, {}, {}, ("gemeente",), ("Wmo 2015",)),
]


@pytest.mark.parametrize(("rule", "component", "child", "setting", "payers", "laws"),
                         RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_each_rule_on_its_own(rule, component, child, setting, payers, laws):
    a = one(component, child, setting)
    assert a.rule == rule
    assert a.payers == payers
    assert a.laws == laws
    assert a.gap == (payers == ("none",))
    text = national_rules().rule(rule).text
    assert a.rule_text == text
    assert a.explanation.en.startswith(text.en) and a.explanation.nl.startswith(text.nl)


def test_every_national_rule_has_a_case_above():
    assert {c[0] for c in RULE_CASES} == {r.id for r in national_rules().rules}


def test_national_rules_decide_every_combination():
    assert national_rules().undecided() == []


# -- combinations ------------------------------------------------------------------------
@pytest.mark.parametrize("component", [
    {"kind": "upbringing_support"},
    {"kind": "personal_care", "cause": "psychological"},
    {"kind": "personal_care", "cause": ["upbringing", "illness"]},
    {"kind": "permanent_supervision"},
    {"kind": "nursing"},
])
@pytest.mark.parametrize("age", [8, 17, 18, 23])
def test_wlz_indication_overrides_jeugdwet_and_wmo_care(component, age):
    without = one(component, {"age": age, "chronic_condition": True,
                              "care_over_one_year": True})
    with_wlz = one(component, {"age": age, "wlz_indication": True})
    assert without.payers != ("zorgkantoor",)
    assert with_wlz.payers == ("zorgkantoor",) and with_wlz.laws == ("Wlz",)
    assert with_wlz.rule == "wlz.care"
    assert with_wlz.facts == {"child.wlz_indication": True}


@pytest.mark.parametrize("component", [
    {"kind": "upbringing_support"},
    {"kind": "personal_care", "cause": "upbringing"},
    {"kind": "permanent_supervision"},
    {"kind": "transport", "to": "care_location"},
])
def test_eighteen_year_olds_move_from_jeugdwet_to_wmo(component):
    at17, at18 = one(component, {"age": 17}), one(component, {"age": 18})
    assert at17.payers == at18.payers == ("gemeente",)
    assert at17.laws == ("Jeugdwet",)
    assert at18.laws == ("Wmo 2015",)
    assert at18.facts["child.age"] == 18


def test_adult_personal_care_for_illness_goes_to_the_health_insurer():
    assert one({"kind": "personal_care", "cause": "illness"}, {"age": 17}).payers == (
        "gemeente",)  # not chronic: Jeugdwet personal care
    assert one({"kind": "personal_care", "cause": "illness"}, {"age": 18}).payers == (
        "zorgverzekeraar",)


@pytest.mark.parametrize("kind", ["teaching", "education_support"])
@pytest.mark.parametrize("location", ["care_location", "private"])
def test_oza_location_and_funding_deviations_lift_the_teaching_gap(kind, location):
    base = {"location": location, "brin": False}
    assert one({"kind": kind}, setting=base).gap
    for devs in ([], ["location"], ["funding"], ["teaching_time", "core_objectives"]):
        a = one({"kind": kind}, setting={**base, "oza": True, "oza_deviations": devs})
        assert a.gap, devs  # both deviations are needed
    lifted = one({"kind": kind}, setting={**base, "oza": True,
                                          "oza_deviations": ["location", "funding"]})
    assert not lifted.gap
    assert lifted.laws == ("Besluit OZA",)
    assert lifted.facts["setting.oza_deviations"] == ["funding", "location"]


def test_teaching_at_a_care_location_with_a_school_branch_is_paid_by_the_school():
    a = one({"kind": "teaching"}, setting={"location": "care_location", "brin": True})
    assert a.payers == ("school",) and a.rule == "teaching.school"


def test_teaching_is_never_paid_by_care_law():
    for child in ({"wlz_indication": True}, {"chronic_condition": True,
                                              "care_over_one_year": True}, {"age": 19}):
        for setting in ({}, {"location": "care_location", "brin": False}):
            a = one({"kind": "teaching"}, child, setting)
            assert not {"Jeugdwet", "Wlz", "Zvw", "Wmo 2015"} & set(a.laws)
            assert not {"gemeente", "zorgkantoor", "zorgverzekeraar"} & set(a.payers)


@pytest.mark.parametrize(("cause", "main", "age", "chronic", "payers", "rule"), [
    (["psychological", "illness"], None, 12, True, ("gemeente",), "double-basis.youth"),
    (["psychological", "illness"], "illness", 12, True, ("zorgverzekeraar",),
     "zvw.personal-care.youth"),
    (["psychological", "illness"], "psychological", 12, True, ("gemeente",),
     "jw.personal-care"),
    # without a Zvw claim both causes point to the gemeente: no double basis
    (["psychological", "illness"], None, 12, False, ("gemeente",), "jw.personal-care"),
    (["upbringing", "disability"], None, 19, False, ("gemeente",), "double-basis.adult"),
    (["upbringing", "disability"], "disability", 19, False, ("zorgverzekeraar",),
     "zvw.personal-care.adult"),
    (["illness", "disability"], None, 12, True, ("zorgverzekeraar",),
     "zvw.personal-care.youth"),
])
def test_double_legal_basis_with_an_unclear_main_cause_goes_to_the_gemeente(
        cause, main, age, chronic, payers, rule):
    comp = {"kind": "personal_care", "cause": cause}
    if main:
        comp["main_cause"] = main
    a = one(comp, {"age": age, "chronic_condition": chronic, "care_over_one_year": chronic})
    assert (a.payers, a.rule) == (payers, rule)


def test_double_basis_with_a_wlz_indication_stays_with_the_zorgkantoor():
    a = one({"kind": "personal_care", "cause": ["psychological", "illness"]},
            {"wlz_indication": True, "chronic_condition": True, "care_over_one_year": True})
    assert a.payers == ("zorgkantoor",)


@pytest.mark.parametrize("wlz", [False, True])
def test_transport_to_school_is_pupil_transport_with_or_without_wlz(wlz):
    a = one({"kind": "transport", "to": "school"}, {"wlz_indication": wlz})
    assert a.payers == ("gemeente",) and a.rule == "transport.school"
    assert "child.wlz_indication" not in a.facts


@pytest.mark.parametrize(("wlz", "payers", "laws"), [
    (False, ("gemeente",), ("Jeugdwet",)), (True, ("zorgkantoor",), ("Wlz",))])
def test_transport_to_a_care_location_depends_on_the_indication(wlz, payers, laws):
    a = one({"kind": "transport", "to": "care_location"}, {"wlz_indication": wlz})
    assert (a.payers, a.laws) == (payers, laws)


def test_transport_destination_brin_on_the_component_overrides_the_setting():
    care = {"location": "care_location", "brin": False}
    assert one({"kind": "transport", "to": "school"}, setting=care).gap
    a = one({"kind": "transport", "to": "school", "brin": True}, setting=care)
    assert a.payers == ("gemeente",)
    assert a.facts == {"component.brin": True, "component.to": "school"}
    b = one({"kind": "transport", "to": "school"})
    assert b.facts == {"setting.brin": True, "component.to": "school"}  # from the setting


def test_a_school_location_implies_a_brin_number():
    case = {"child": CHILD, "setting": {"location": "school"},
            "components": [{"id": "t", "kind": "transport", "to": "school"}]}
    a = advise(case)["t"]
    assert a.payers == ("gemeente",)
    assert a.facts == {"setting.location": "school", "component.to": "school"}


@pytest.mark.parametrize(("sector", "laws"), [
    ("po", ("WPO",)), ("vo", ("WVO",)), ("so", ("WEC",)), ("vso", ("WEC",)),
    (None, ("WPO", "WVO", "WEC"))])
def test_the_sector_narrows_the_school_law(sector, laws):
    setting = {"sector": sector} if sector else {}
    a = one({"kind": "education_support"}, setting=setting)
    assert a.laws == laws
    assert ("setting.sector" in a.facts) == (sector is not None)


def test_activities_count_as_their_national_kind():
    a = one({"kind": "activity", "category": "eating", "activity": "tube_feeding"},
            {"wlz_indication": True})
    assert a.payers == ("zorgkantoor",) and a.rule == "wlz.care"
    assert a.kind == "activity" and a.activity == "eating/tube_feeding"
    assert a.explanation.en.startswith("Tube feeding via a button counts nationally as nursing")
    b = one({"kind": "activity", "category": "eating", "activity": "bread",
             "cause": "disability"}, {"chronic_condition": True, "care_over_one_year": True})
    assert b.payers == ("zorgverzekeraar",)


def test_explanation_lists_the_facts_used_and_the_note():
    a = one({"kind": "permanent_supervision"})
    assert a.facts == {"child.age": 12, "child.wlz_indication": False}
    assert "Facts: child.age = 12, child.wlz_indication = false." in a.explanation.en
    assert "Feiten: child.age = 12" in a.explanation.nl
    assert "CIZ" in a.explanation.en  # the rule's note


def test_a_rule_needs_only_the_facts_it_tests():
    a = advise({"components": [{"id": "a", "kind": "aids"}]})["a"]
    assert a.payers == ("gemeente",) and a.facts == {}
    n = advise({"child": {"wlz_indication": False},
                "components": [{"id": "n", "kind": "nursing"}]})["n"]
    assert n.payers == ("zorgverzekeraar",)


# -- missing facts and contradictions ------------------------------------------------------
def test_a_missing_fact_is_an_error_naming_the_field_not_a_guess():
    with pytest.raises(FundingInputError) as e:
        advise({"child": {"age": 12},
                "components": [{"id": "p", "kind": "personal_care", "cause": "illness"}]})
    assert e.value.field == "child.wlz_indication"
    assert "rule wlz.care" in str(e.value)
    assert e.value.problems[0].message_nl.startswith("ontbreekt; nodig voor p (personal_care")
    assert "Heeft het kind een Wlz-indicatie" in e.value.problems[0].message_nl
    with pytest.raises(FundingInputError) as e:
        advise({"child": {"age": 12, "wlz_indication": False},
                "components": [{"id": "p", "kind": "personal_care", "cause": "illness"}]})
    assert {p.field for p in e.value.problems} == {"child.chronic_condition",
                                                   "child.care_over_one_year"}
    with pytest.raises(FundingInputError) as e:
        advise({"child": {"age": 12, "wlz_indication": False},
                "components": [{"id": "x", "kind": "aids"},
                               {"id": "p", "kind": "personal_care"}]})
    assert "components[1].cause" in {p.field for p in e.value.problems}


def test_missing_facts_of_several_components_are_reported_together():
    with pytest.raises(FundingInputError) as e:
        advise({"components": [{"id": "a", "kind": "teaching"},
                               {"id": "b", "kind": "transport"},
                               {"id": "c", "kind": "upbringing_support"}]})
    fields = [p.field for p in e.value.problems]
    assert fields == ["child.enrolled", "components[1].to", "components[1].brin",
                      "child.wlz_indication"]


@pytest.mark.parametrize(("child", "setting", "field"), [
    ({}, {"oza": False, "oza_deviations": ["location"]}, "setting.oza_deviations"),
    ({"enrolled": False}, {"oza": True, "oza_deviations": []}, "child.enrolled"),
    ({}, {"location": "school", "brin": False}, "setting.brin"),
    ({}, {"location": "home", "brin": True}, "setting.brin"),
    ({"age": 3, "enrolled": True}, {}, "child.enrolled"),
])
def test_contradictory_cases_are_refused_naming_the_field(child, setting, field):
    with pytest.raises(FundingInputError) as e:
        one({"kind": "aids"}, child, setting)
    assert e.value.field == field
    assert "(controle " in e.value.problems[0].message_nl


@pytest.mark.parametrize("age", [-1, 28, 30, 45])
def test_ages_outside_the_range_are_refused(age):
    with pytest.raises(FundingInputError) as e:
        one({"kind": "upbringing_support"}, {"age": age, "wlz_indication": True})
    assert e.value.field == "child.age"
    assert "0-27" in str(e.value)


# -- the rule file -------------------------------------------------------------------------
def _national_text() -> str:
    ref = resources.files("ozamonitor.funding") / "data" / "national.yaml"
    return ref.read_text(encoding="utf-8")


def test_a_rule_set_with_a_hole_is_refused_naming_the_kind():
    text = _national_text().replace("  - id: wmo.aids\n    kinds: [aids]\n",
                                    "  - id: wmo.aids\n    kinds: [aids]\n"
                                    "    when: {child.age: {ge: 18}}\n")
    with pytest.raises(RuleSetError) as e:
        RuleSet.load("hole.yaml", text=text)
    assert "no rule decides aids when child.age = " in str(e.value)
    assert re.match(r"hole\.yaml:\d+: rules \(aids\)", str(e.value))


@pytest.mark.parametrize(("old", "new", "message"), [
    ("when: {child.wlz_indication: true}\n    payers: [zorgkantoor]\n    laws: [Wlz]\n    text:\n"
     "      nl: Met een Wlz",
     "when: {child.wlz: true}\n    payers: [zorgkantoor]\n    laws: [Wlz]\n    text:\n"
     "      nl: Met een Wlz", "unknown fact 'child.wlz'"),
    ("    laws: [Wlz]\n    text:\n      nl: Met een Wlz",
     "    laws: [Wlzz]\n    text:\n      nl: Met een Wlz", "unknown law or law group 'Wlzz'"),
    ("kinds: [aids]", "kinds: [aid]", "unknown kind 'aid'"),
    ("{child.age: {lt: 18}}\n    payers: [gemeente]\n    laws: [Jeugdwet]\n    text:\n"
     "      nl: Hulp en",
     "{child.age: {lt: young}}\n    payers: [gemeente]\n    laws: [Jeugdwet]\n    text:\n"
     "      nl: Hulp en", "child.age is a whole number"),
    ("setting.location: [home, distance]}\n    payers: [swv]",
     "setting.location: [home, moon]}\n    payers: [swv]", "'moon' is not a value"),
])
def test_rule_file_errors_name_the_line(old, new, message):
    text = _national_text()
    assert old in text
    bad = text.replace(old, new, 1)
    line = text[:text.index(old)].count("\n") + 1
    with pytest.raises(RuleSetError) as e:
        RuleSet.load("bad.yaml", text=bad)
    got = str(e.value)
    assert message in got
    found = int(re.match(r"bad\.yaml:(\d+):", got).group(1))
    assert line <= found <= line + 4


def test_docs_rule_table_is_the_rule_set():
    """docs/funding.md shows the rule table that `ozamonitor funding-rules --format markdown`
    prints; regenerate it when the rules change."""
    assert rules_markdown(national_rules()) in DOCS.read_text(encoding="utf-8")


def test_case_from_yaml_keeps_lines_for_missing_facts(tmp_path):
    f = tmp_path / "case.yaml"
    f.write_text("child:\n  age: 12\nsetting: {location: school}\ncomponents:\n"
                 "  - {id: a, kind: aids}\n  - id: b\n    kind: transport\n", encoding="utf-8")
    with pytest.raises(FundingInputError) as e:
        advise(Case.from_yaml(f))
    assert str(e.value).startswith("case.yaml:6: components[1].to: missing")
