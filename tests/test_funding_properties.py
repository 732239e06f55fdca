"""Properties of the funding advisor over generated cases (hypothesis)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ozamonitor.funding import (
    KINDS,
    FundingInputError,
    RegionMatrix,
    advise,
    example_matrix_path,
    facts_needed,
    national_rules,
    validate_advice_json,
)
from ozamonitor.funding.case import AGE_MAX, CAUSES, DEVIATIONS, LOCATIONS, SECTORS

RULES = national_rules()
MATRIX = RegionMatrix.load(example_matrix_path())
ACTIVITIES = sorted(set(RULES.activities) | set(MATRIX.entries))


def maybe(strategy):
    return st.none() | strategy


child_st = st.fixed_dictionaries({}, optional={
    "age": st.integers(0, AGE_MAX),
    "enrolled": st.booleans(),
    "wlz_indication": st.booleans(),
    "chronic_condition": st.booleans(),
    "care_over_one_year": st.booleans(),
})
setting_st = st.fixed_dictionaries({}, optional={
    "location": st.sampled_from(LOCATIONS),
    "brin": st.booleans(),
    "oza": st.booleans(),
    "oza_deviations": st.lists(st.sampled_from(DEVIATIONS), unique=True),
    "sector": st.sampled_from(SECTORS),
})
cause_st = st.lists(st.sampled_from(CAUSES), min_size=1, max_size=4, unique=True)


@st.composite
def component_st(draw, complete: bool):
    kind = draw(st.sampled_from(KINDS))
    comp = {"kind": kind}
    if kind in ("personal_care", "activity") and (complete or draw(st.booleans())):
        cause = draw(cause_st)
        comp["cause"] = cause
        if len(cause) > 1 and draw(st.booleans()):
            comp["main_cause"] = draw(st.sampled_from(cause))
    if kind in ("transport", "activity") and (complete or draw(st.booleans())):
        comp["to"] = draw(st.sampled_from(["school", "care_location"]))
    if kind in ("transport", "activity") and draw(st.booleans()):
        comp["brin"] = draw(st.booleans())
    if kind == "activity":
        comp["category"], comp["activity"] = draw(st.sampled_from(ACTIVITIES))
    return comp


@st.composite
def case_st(draw, complete: bool):
    if complete:
        child = {"age": draw(st.integers(0, AGE_MAX)), "enrolled": draw(st.booleans()),
                 "wlz_indication": draw(st.booleans()),
                 "chronic_condition": draw(st.booleans()),
                 "care_over_one_year": draw(st.booleans())}
        setting = {"location": draw(st.sampled_from(LOCATIONS)), "brin": draw(st.booleans()),
                   "oza": draw(st.booleans()), "sector": draw(st.sampled_from(SECTORS))}
        setting["oza_deviations"] = (draw(st.lists(st.sampled_from(DEVIATIONS), unique=True))
                                     if setting["oza"] else [])
        # mostly consistent cases (contradictions have their own tests), some not
        if draw(st.integers(0, 9)) > 0:
            setting["brin"] = {"school": True, "home": False}.get(setting["location"],
                                                                 setting["brin"])
            child["enrolled"] = child["enrolled"] or setting["oza"]
            child["age"] = max(child["age"], 4) if child["enrolled"] else child["age"]
    else:
        child, setting = draw(child_st), draw(setting_st)
    comps = draw(st.lists(component_st(complete), min_size=1, max_size=6))
    for i, c in enumerate(comps):
        c["id"] = f"c{i + 1}"
    return {"child": child, "setting": setting, "components": comps}


def _contradiction(e: FundingInputError) -> bool:
    return all("(check " in p.message for p in e.problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=case_st(complete=True), with_matrix=st.booleans())
def test_every_component_gets_exactly_one_outcome(case, with_matrix):
    matrix = MATRIX if with_matrix else None
    try:
        advice = advise(case, matrix)
    except FundingInputError as e:
        # complete cases fail only on contradictions (or a region activity without the matrix)
        assert _contradiction(e) or (matrix is None and all(
            p.field.endswith((".category", ".activity")) for p in e.problems)), e.report()
        return
    assert [c.id for c in advice] == [c["id"] for c in case["components"]]
    for comp, a in zip(case["components"], advice, strict=True):
        assert a.kind == comp["kind"]
        assert a.payers and a.gap == (a.payers == ("none",))
        if a.source == "national":
            # the first rule that holds decided, and it is the only answer
            kind = a.kind
            if kind == "activity":
                kind = RULES.activity(comp["category"], comp["activity"]).kind
            facts = {**_facts(case, comp)}
            get = RULES.resolver(facts)
            holding = [r for r in RULES.rules_for(kind) if r.condition.evaluate(get).value]
            assert holding and holding[0].id == a.rule
            assert (holding[0].payers, holding[0].gap) == (a.payers, a.gap)
        else:
            assert a.rule.startswith("region:voorbeeldregio:")


def _facts(case, comp):
    from ozamonitor.funding import Case

    c = Case.from_dict({**case, "components": [comp]})
    return c.facts(c.components[0])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=case_st(complete=False), with_matrix=st.booleans(), lang=st.sampled_from(["en", "nl"]))
def test_output_always_validates_against_the_json_shape(case, with_matrix, lang):
    try:
        advice = advise(case, MATRIX if with_matrix else None)
    except FundingInputError as e:
        assert e.problems and all(p.field for p in e.problems)
        return
    data = json.loads(json.dumps(advice.to_json(lang)))
    validate_advice_json(data)
    for comp in data["components"]:
        assert list(comp)[:6] == ["id", "payers", "laws", "rule", "explanation", "gap"]
        assert set(comp["payers"]) <= {"swv", "school", "gemeente", "zorgkantoor",
                                       "zorgverzekeraar", "none"}
        assert set(comp["laws"]) <= set(RULES.laws)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=case_st(complete=False), with_matrix=st.booleans())
def test_facts_needed_is_empty_exactly_when_no_fact_is_missing(case, with_matrix):
    matrix = MATRIX if with_matrix else None
    needed = facts_needed(case, matrix)
    try:
        advise(case, matrix)
        missing = set()
    except FundingInputError as e:
        missing = {p.field for p in e.problems if "missing" in p.message}
    asked = {q.field for q in needed}
    assert missing <= asked
    if not asked:
        assert not missing


def test_validate_advice_json_refuses_a_bad_shape():
    good = advise({"components": [{"id": "a", "kind": "aids"}]}).to_json()
    validate_advice_json(good)
    bad = json.loads(json.dumps(good))
    bad["components"][0]["gap"] = True
    with pytest.raises(FundingInputError, match="gap is true exactly when"):
        validate_advice_json(bad)
    bad = json.loads(json.dumps(good))
    bad["components"][0]["payers"] = ["ouders"]
    with pytest.raises(FundingInputError) as e:
        validate_advice_json(bad)
    assert e.value.field == "components[0].payers[0]"
    del bad["components"][0]["rule"]
    with pytest.raises(FundingInputError):
        validate_advice_json(bad)
