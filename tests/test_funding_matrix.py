"""Region matrices: the example file, what it changes, and errors naming the line."""

from __future__ import annotations

import itertools

import pytest
import yaml

from ozamonitor.funding import (
    KINDS,
    FundingInputError,
    RegionMatrix,
    advise,
    example_matrix_path,
    facts_for_kind,
    facts_needed,
    national_rules,
)


@pytest.fixture(scope="module")
def example() -> RegionMatrix:
    return RegionMatrix.load(example_matrix_path())


def _listed() -> set[tuple[str, str]]:
    data = yaml.safe_load(example_matrix_path().read_text(encoding="utf-8"))
    return {(c, a) for c, cat in data["categories"].items() for a in cat["activities"]}


def _scenarios():
    """Complete cases: every fact any rule or the example matrix tests is given."""
    for age, wlz, chronic, (location, brin, sector), cause in itertools.product(
            (8, 17, 19), (False, True), (False, True),
            (("school", True, "po"), ("school", True, "so"), ("care_location", False, "vso"),
             ("distance", False, "vo")),
            (["psychological"], ["disability"], ["upbringing", "illness"])):
        yield ({"age": age, "enrolled": True, "wlz_indication": wlz, "chronic_condition": chronic,
                "care_over_one_year": chronic},
               {"location": location, "brin": brin, "oza": False, "oza_deviations": [],
                "sector": sector},
               cause)


def _components(cause, activities):
    comps = []
    for kind in KINDS:
        if kind == "activity":
            continue
        comp = {"id": kind, "kind": kind}
        if kind == "personal_care":
            comp["cause"] = cause
        if kind == "transport":
            comp["to"] = "care_location"
        comps.append(comp)
    for cat, act in sorted(activities):
        comps.append({"id": f"{cat}.{act}", "kind": "activity", "category": cat,
                      "activity": act, "cause": cause})
    return comps


def test_example_region_changes_exactly_the_activities_it_lists(example):
    rules = national_rules()
    national = set(rules.activities)
    listed = _listed()
    changed: set[str] = set()
    n = 0
    for child, setting, cause in _scenarios():
        comps = _components(cause, national)
        case = {"child": child, "setting": setting, "components": comps}
        plain, regional = advise(case), advise(case, example)
        for a, b in zip(plain, regional, strict=True):
            n += 1
            key = tuple(a.activity.split("/")) if a.activity else None
            if key in listed:
                assert a != b, a.id
                assert "Region matrix" in b.explanation.en
                changed.add(a.id)
            else:
                assert a == b, a.id  # everything the file does not list is untouched
    assert changed == {f"{c}.{a}" for c, a in listed if (c, a) in national}
    assert n > 1000


def test_region_only_activities_need_the_matrix(example):
    case = {"child": {"wlz_indication": False},
            "components": [{"id": "p", "kind": "activity", "category": "therapy",
                            "activity": "physiotherapy_at_school"}]}
    with pytest.raises(FundingInputError) as e:
        advise(case)
    assert e.value.field == "components[0].category"
    a = advise(case, example)["p"]
    assert a.payers == ("zorgverzekeraar",) and a.source == "region"
    assert "national catalogue has no rule" in a.explanation.en
    assert a.national is None


def test_region_override_says_so_and_keeps_the_national_answer(example):
    case = {"child": {"age": 10, "wlz_indication": False, "chronic_condition": False,
                      "care_over_one_year": False},
            "components": [{"id": "b", "kind": "activity", "category": "eating",
                            "activity": "bread", "cause": "disability"}]}
    plain, regional = advise(case)["b"], advise(case, example)["b"]
    assert plain.payers == ("gemeente",) and plain.rule == "jw.personal-care"
    assert regional.payers == ("school",)
    assert regional.rule == "region:voorbeeldregio:eating/bread"
    assert regional.national == (("gemeente",), "jw.personal-care")
    assert "This overrides the national default (gemeente, rule jw.personal-care)" in (
        regional.explanation.en)
    assert "Dit wijkt af van de landelijke standaard" in regional.explanation.nl
    assert "example" in regional.explanation.en.lower()
    assert regional.laws == ("WPO", "WVO", "WEC")  # the school's laws, by default


def test_region_entry_with_two_payers(example):
    case = {"child": {"age": 10, "wlz_indication": False},
            "setting": {"sector": "po"},
            "components": [{"id": "g", "kind": "activity", "category": "supervision",
                            "activity": "behaviour_support_in_class"}]}
    g = advise(case, example)["g"]
    assert g.payers == ("swv", "gemeente")
    assert g.laws == ("WPO", "Jeugdwet")
    assert g.facts == {"child.age": 10, "setting.sector": "po"}


def test_region_cases_fall_back_to_the_national_default(example):
    case = {"child": {"age": 10, "wlz_indication": False, "chronic_condition": False,
                      "care_over_one_year": False},
            "setting": {"location": "school", "sector": "po"},
            "components": [{"id": "t", "kind": "activity", "category": "toileting",
                            "activity": "toilet_visit", "cause": "disability"}]}
    t = advise(case, example)["t"]
    assert t.source == "national" and t.payers == ("gemeente",)
    assert "none of its cases holds" in t.explanation.en
    case["setting"]["sector"] = "so"
    assert advise(case, example)["t"].payers == ("school",)


def test_region_case_facts_are_asked_and_required(example):
    case = {"child": {"age": 10, "wlz_indication": False, "chronic_condition": False,
                      "care_over_one_year": False},
            "setting": {"location": "school"},
            "components": [{"id": "t", "kind": "activity", "category": "toileting",
                            "activity": "toilet_visit", "cause": "disability"}]}
    with pytest.raises(FundingInputError) as e:
        advise(case, example)
    assert e.value.field == "setting.sector"
    assert [q.field for q in facts_needed(case, example)] == ["setting.sector"]
    assert facts_needed(case) == []
    assert "setting.sector" in [q.fact for q in facts_for_kind("activity", matrix=example)]


# -- validation ----------------------------------------------------------------------------
HEAD = "format: 1\nid: test\nname: {nl: Test, en: Test}\ncategories:\n"


@pytest.mark.parametrize(("body", "line", "field", "words"), [
    ("  eating:\n    activities:\n      bread: {payers: [ouders]}\n", 7,
     "categories.eating.activities.bread.payers[0]", "'swv'"),
    ("  eating:\n    activities:\n      bread: {payers: [swv], cases: [{payers: [swv]}]}\n", 7,
     "categories.eating.activities.bread", "either payers"),
    ("  eating:\n    activities:\n      bread: {payers: [swv], laws: [Onderwijswet]}\n", 7,
     "categories.eating.activities.bread.laws[0]", "unknown law 'Onderwijswet'"),
    ("  eating:\n    activities:\n      bread:\n        cases:\n"
     "          - when: {child.wlz: true}\n            payers: [zorgkantoor]\n", 9,
     "categories.eating.activities.bread.cases[0].when.child.wlz", "unknown fact"),
    ("  eating:\n    activities:\n      pizza: {payers: [school]}\n", 7,
     "categories.eating.activities.pizza", "needs a label"),
    ("  music:\n    activities:\n      piano: {label: {nl: Piano, en: Piano}, payers: [none]}\n",
     5, "categories.music", "needs a label"),
    ("  eating:\n    activities:\n      pizza:\n        label: {nl: Pizza, en: Pizza}\n"
     "        cases:\n          - {when: {child.age: {lt: 10}}, payers: [school]}\n", 10,
     "categories.eating.activities.pizza.cases[0]", "last case must have no `when`"),
    ("  eating:\n    activities:\n      bread: {payers: [school]}\n      bread: {payers: [swv]}\n",
     8, "categories.eating.activities.bread", "duplicate key 'bread' (first on line 7)"),
    ("  eating:\n    activities:\n      bread: {payers: [school, none]}\n", 7,
     "categories.eating.activities.bread.payers", "cannot be combined"),
    ("  eating:\n    activities:\n      bread: {payers: [school], colour: red}\n", 7,
     "categories.eating.activities.bread.colour", "unknown field"),
    ("  eating:\n    activities:\n      bread: {payers: [school]\n", 8, "", "not valid YAML"),
    ("  eating:\n    activities:\n      bread:\n        cases:\n"
     "          - when: {setting.location: moon}\n            payers: [school]\n", 9,
     "categories.eating.activities.bread.cases[0].when.setting.location", "'moon'"),
])
def test_region_file_errors_name_the_line(tmp_path, body, line, field, words):
    f = tmp_path / "region.yaml"
    f.write_text(HEAD + body, encoding="utf-8")
    with pytest.raises(FundingInputError) as e:
        RegionMatrix.load(f)
    err = e.value
    assert err.row == line, str(err)
    assert (err.field or "") == field, str(err)
    assert words in str(err)
    assert str(err).startswith(f"region.yaml:{line}:")


def test_region_file_header_errors(tmp_path):
    f = tmp_path / "r.yaml"
    f.write_text("format: 2\nid: x\nname: {nl: X}\ncategories: {}\n", encoding="utf-8")
    with pytest.raises(FundingInputError) as e:
        RegionMatrix.load(f)
    assert {p.field for p in e.value.problems} == {"format", "name.en", "categories"}
    assert {p.line for p in e.value.problems} == {1, 3, 4}


def test_example_is_marked_as_an_example(example):
    assert example.example
    assert "example" in example.title("en").lower()
    assert "voorbeeld" in example.title("nl").lower()
    text = example_matrix_path().read_text(encoding="utf-8")
    assert "NOT its content" in text


def test_matrix_from_text_for_a_web_upload():
    m = RegionMatrix.load("upload.yaml", text=HEAD + "  eating:\n    activities:\n"
                          "      bread: {payers: [none]}\n")
    case = {"components": [{"id": "b", "kind": "activity", "category": "eating",
                            "activity": "bread"}]}
    b = advise(case, m)["b"]
    assert b.gap and b.laws == () and b.national is None  # the national default needs facts
    assert "would need more facts" in b.explanation.en
