"""The case schema of the funding advisor: CASE.yaml, strict values, errors naming the line."""

from __future__ import annotations

import pytest

from ozamonitor.errors import InputError
from ozamonitor.funding import Case, FundingInputError, advise
from ozamonitor.funding.yamlmarks import YamlError, load_marked

# the example of issue 13, verbatim (two long lines split in Python only)
ISSUE_CASE = ("child: {age: 12, enrolled: true, wlz_indication: false, chronic_condition: false, "
              "care_over_one_year: false}\n") + """\
setting: {location: school, brin: true, oza: false, oza_deviations: []}
components:
  - {id: c1, kind: education_support}
  - {id: c2, kind: upbringing_support}      # help with upbringing or psychological problems
  - {id: c3, kind: personal_care, cause: psychological}
  - {id: c4, kind: nursing}
  - {id: c5, kind: permanent_supervision}
  - {id: c6, kind: transport, to: school}
  - {id: c7, kind: aids}
  - {id: c8, kind: teaching}
""" + ("  - {id: c9, kind: activity, category: eating, activity: tube_feeding}   "
       "# resolved through the matrix\n")


def test_the_issue_example_case_is_answered():
    case = Case.from_yaml("case.yaml", text=ISSUE_CASE)
    advice = advise(case)
    assert [c.id for c in advice] == [f"c{i}" for i in range(1, 10)]
    payers = {c.id: c.payers for c in advice}
    assert payers == {
        "c1": ("swv",), "c2": ("gemeente",), "c3": ("gemeente",), "c4": ("zorgverzekeraar",),
        "c5": ("gemeente",), "c6": ("gemeente",), "c7": ("gemeente",), "c8": ("school",),
        "c9": ("zorgverzekeraar",)}
    assert not advice.gaps
    js = advice.to_json()
    assert list(js) == ["components"]
    assert list(js["components"][0])[:6] == ["id", "payers", "laws", "rule", "explanation", "gap"]


def _error(text: str) -> FundingInputError:
    with pytest.raises(FundingInputError) as e:
        advise(Case.from_yaml("case.yaml", text=text))
    return e.value


@pytest.mark.parametrize(("text", "where", "words"), [
    ("components:\n  - {id: a, kind: therapy}\n", "case.yaml:2: components[0]",
     "unknown kind 'therapy'"),
    ("components:\n  - {id: a}\n", "case.yaml:2: components[0]", "kind is missing"),
    ("components:\n  - {id: a, kind: aids, cause: illness}\n", "case.yaml:2: components[0].cause",
     "unknown field"),
    ("child: {age: '12'}\ncomponents:\n  - {id: a, kind: aids}\n", "case.yaml:1: child.age",
     "valid integer"),
    ("child: {enrolled: 1}\ncomponents:\n  - {id: a, kind: aids}\n",
     "case.yaml:1: child.enrolled", "valid boolean"),
    ("child: {age: 12}\nsetting: {location: moon}\ncomponents:\n  - {id: a, kind: aids}\n",
     "case.yaml:2: setting.location", "'school'"),
    ("setting: {oza_deviations: [time]}\ncomponents:\n  - {id: a, kind: aids}\n",
     "case.yaml:1: setting.oza_deviations[0]", "teaching_time"),
    ("components:\n  - {id: a, kind: personal_care, cause: [illness], main_cause: psychological}\n",
     "case.yaml:2: components[0].main_cause", "one of the causes"),
    ("components:\n  - {id: a, kind: personal_care, cause: []}\n",
     "case.yaml:2: components[0].cause", "at least 1"),
    ("components:\n  - {id: a, kind: aids}\n  - {id: b, kind: nursing}\n  - {id: a, kind: aids}\n",
     "case.yaml:4: components[2].id", "used twice"),
    ("components: []\n", "case.yaml:1: components", "at least 1"),
    ("child: {age: 12}\n", "case.yaml:1: components", "missing"),
    ("child: {age: 12, sex: f}\ncomponents:\n  - {id: a, kind: aids}\n", "case.yaml:1: child.sex",
     "unknown field"),
    ("components:\n  - {id: 'a b', kind: aids}\n", "case.yaml:2: components[0].id",
     "pattern"),
    ("child: {age: 12\ncomponents: []\n", "case.yaml:2", "not valid YAML"),
    ("child: {age: 12}\nchild: {age: 13}\ncomponents: []\n", "case.yaml:2: child",
     "duplicate key 'child' (first on line 1)"),
    ("- 1\n- 2\n", "case.yaml:1", "a case is a mapping"),
])
def test_bad_cases_name_the_line_and_field(text, where, words):
    err = _error(text)
    assert str(err).startswith(where + ":"), str(err)
    assert words in str(err)
    assert isinstance(err, InputError)


def test_all_problems_are_listed_for_a_form():
    text = ("child: {age: 40, enrolled: maybe}\n"
            "components:\n  - {id: a, kind: therapy}\n  - {id: b, kind: transport, to: mars}\n")
    err = _error(text)
    fields = {p.field for p in err.problems}
    assert fields == {"child.age", "child.enrolled", "components[0]", "components[1].to"}
    assert "(and 3 more problems)" in str(err)
    assert len(err.report().splitlines()) == 4
    assert all(line.startswith("case.yaml:") for line in err.report().splitlines())


def test_from_dict_names_fields_without_lines():
    with pytest.raises(FundingInputError) as e:
        Case.from_dict({"child": {"age": 12}, "components": [{"id": "a", "kind": "taxi"}]})
    assert e.value.field == "components[0]"
    assert e.value.row is None and e.value.file is None


def test_cause_shorthand_and_main_cause():
    case = Case.from_dict({"components": [
        {"id": "a", "kind": "personal_care", "cause": "illness"},
        {"id": "b", "kind": "personal_care", "cause": ["illness", "upbringing"],
         "main_cause": "upbringing"}]})
    a, b = case.components
    assert case.facts(a)["component.cause"] == frozenset({"illness"})
    assert case.facts(b)["component.cause"] == frozenset({"upbringing"})  # the main cause


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(FundingInputError) as e:
        Case.from_yaml(tmp_path / "nope.yaml")
    assert "cannot read" in str(e.value) and "nope.yaml" in str(e.value)


def test_empty_file_asks_for_components():
    with pytest.raises(FundingInputError) as e:
        Case.from_yaml("case.yaml", text="")
    assert e.value.field == "components"


def test_yaml_marks_keep_lines_and_refuse_duplicates():
    m = load_marked("x", text="a: 1\nb:\n  - {x: 1}\n  - y: 2\n    z: 3\n")
    assert m.data == {"a": 1, "b": [{"x": 1}, {"y": 2, "z": 3}]}
    assert m.lines[("b", 1, "z")] == 5
    assert m.line(("b", 0, "missing")) == 3
    with pytest.raises(YamlError) as e:
        load_marked("x", text="a:\n  b: 1\n  b: 2\n")
    assert e.value.line == 3 and e.value.path == ("a", "b")


def test_form_strings_are_converted_only_when_not_strict():
    form = {"child": {"age": "12", "enrolled": "true", "wlz_indication": "false"},
            "components": [{"id": "a", "kind": "upbringing_support"}]}
    with pytest.raises(FundingInputError):
        Case.from_dict(form)
    case = Case.from_dict(form, strict=False)
    assert case.child.age == 12 and case.child.enrolled is True
    assert advise(case)["a"].laws == ("Jeugdwet",)
