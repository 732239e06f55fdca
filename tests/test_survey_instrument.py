"""The shipped instrument: loads with pyxform, labels in nl and en, round-trips through xlsx."""

from __future__ import annotations

import pytest
import yaml

from ozamonitor.errors import ConfigurationError
from ozamonitor.survey.instrument import (
    FORMS_DIR,
    LANGUAGES,
    available_versions,
    load_instrument,
    write_xlsform,
)
from ozamonitor.survey.xlsform import sheets_from_workbook, sheets_from_yaml


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


def test_four_parts_and_version(inst):
    assert inst.part_names == ("level1", "level2", "level3", "level4")
    assert inst.version == available_versions()[-1]
    assert load_instrument(inst.version) is inst  # cached per version
    assert {r.name for r in inst.repeats} == {"partner", "financier", "cost_item"}
    assert inst.group("partner").required and not inst.group("cost_item").required


def test_every_question_and_choice_has_dutch_and_english_labels(inst):
    for item in [*inst.groups, *inst.questions]:
        if getattr(item, "type", "") == "calculate":
            continue
        for lang in LANGUAGES:
            assert item.labels.get(lang), (item.name, lang)
    for q in inst.questions:
        for c in q.choices:
            assert c.labels.get("nl") and c.labels.get("en"), (q.name, c.name)
        if q.constraint:
            assert q.constraint_messages.get("nl") and q.constraint_messages.get("en"), q.name


def test_themes_of_every_level_are_asked(inst):
    names = {q.name for q in inst.questions}
    # level 1: legal persons, partners, agreement, legal certainty, thuiszitter view
    assert {"l1_lead", "p_kind", "p_legal", "l1_agreement", "l1_certainty",
            "tz_insight", "tz_sources"} <= names
    # level 2: sources, financiers, start-up costs and payers, cost items, revenues, social return
    assert {"l2_sources", "f_kind", "l2_startup", "l2_startup_payer", "c_kind", "c_amount",
            "l2_revenues", "l2_structural", "l2_soc_return"} <= names
    # level 3: conditions, activities, expertise, side by side or integrated
    assert {"l3_needs", "l3_activities", "l3_expertise", "l3_integration"} <= names
    # level 4: core objectives, reference levels, deviations, outflow, own outcome measures
    assert {"l4_core_obj", "l4_ref_level", "l4_deviations", "l4_outflow", "om_measures"} <= names
    for part in inst.part_names:  # "what promises to work?" per level
        assert any(q.name.endswith("_promise") for q in inst.in_part(part))


def test_export_names_fit_stata(inst):
    from ozamonitor.survey.frame import question_variables

    names = [v.name for q in inst.questions if q.type != "note" for v in question_variables(q)]
    assert len(names) == len(set(names))
    assert max(map(len, names)) <= 32


def test_xlsx_round_trip(inst, tmp_path):
    path = write_xlsform(inst, tmp_path / "form.xlsx")
    again = load_instrument(path)
    assert again.version == inst.version
    assert again.questions == inst.questions
    assert again.groups == inst.groups
    assert sheets_from_workbook(path) == {k: [{c: v for c, v in r.items() if v != ""}
                                              for r in rows]
                                          for k, rows in inst.sheets.items()}


def test_xform_is_produced(inst):
    assert inst.xform.startswith("<?xml") and 'version="2024.1"' in inst.xform


def _source():
    return yaml.safe_load((FORMS_DIR / f"oza-{available_versions()[-1]}.yaml").read_text())


def _write(tmp_path, data):
    p = tmp_path / "form.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True))
    return p


def test_missing_english_label_is_refused(tmp_path):
    data = _source()
    data["survey"][2]["label"] = {"nl": "Alleen Nederlands"}
    with pytest.raises(ConfigurationError, match="no label in en"):
        load_instrument(_write(tmp_path, data))


def test_cross_part_reference_is_refused(tmp_path):
    data = _source()
    row = next(r for r in data["survey"] if r.get("name") == "l4_hours")
    row["relevant"] = "${l1_lead} = 'swv'"
    with pytest.raises(ConfigurationError, match="parts must be answerable separately"):
        load_instrument(_write(tmp_path, data))


def test_unsupported_expression_is_refused(tmp_path):
    data = _source()
    row = next(r for r in data["survey"] if r.get("name") == "l4_hours")
    row["relevant"] = "pulldata('x', 'y', 'z', 'w')"
    with pytest.raises(ConfigurationError, match="unsupported function"):
        load_instrument(_write(tmp_path, data))


def test_invalid_xlsform_is_a_configuration_error(tmp_path):
    data = _source()
    data["survey"].pop()  # unbalanced: the last 'end group' removed
    with pytest.raises(ConfigurationError, match="not a valid XLSForm"):
        load_instrument(_write(tmp_path, data))


def test_unquoted_yes_choice_is_refused():
    with pytest.raises(ConfigurationError, match="quote"):
        sheets_from_yaml({"survey": [], "choices": {"yn": [[True, "Ja", "Yes"]]}})


def test_unknown_version_names_the_shipped_ones():
    with pytest.raises(ConfigurationError, match="shipped"):
        load_instrument("1999.1")
