"""CLI: ozamonitor funding, funding-rules, funding-summary."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ozamonitor.cli.main import app
from ozamonitor.funding import example_matrix_path

CASE = """\
child: {age: 12, enrolled: true, wlz_indication: false, chronic_condition: false,
        care_over_one_year: false}
setting: {location: care_location, brin: false, oza: false, oza_deviations: []}
components:
  - {id: c1, kind: teaching}
  - {id: c2, kind: upbringing_support}
  - {id: c9, kind: activity, category: eating, activity: bread, cause: psychological}
"""


def run(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def case_file(tmp_path):
    f = tmp_path / "case.yaml"
    f.write_text(CASE, encoding="utf-8")
    return f


def test_json_output_has_the_issue_shape(case_file):
    r = run("funding", str(case_file), "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert list(data) == ["components"]
    c1, c2, c9 = data["components"]
    assert c1["id"] == "c1" and c1["payers"] == ["none"] and c1["gap"] is True
    assert c1["rule"] == "teaching.off-site" and c1["laws"] == []
    assert c2["payers"] == ["gemeente"] and c2["laws"] == ["Jeugdwet"]
    assert c9["rule"] == "jw.personal-care"
    assert set(c1["rule_text"]) == {"nl", "en"}
    assert c1["facts"] == {"child.enrolled": True, "setting.location": "care_location",
                           "setting.brin": False, "setting.oza": False,
                           "setting.oza_deviations": []}


def test_json_with_matrix_in_dutch(case_file):
    r = run("funding", str(case_file), "--matrix", str(example_matrix_path()),
            "--format", "json", "--lang", "nl")
    assert r.exit_code == 0, r.output
    c9 = json.loads(r.stdout)["components"][2]
    assert c9["payers"] == ["school"] and c9["source"] == "region"
    assert c9["explanation"].startswith("Regionale matrix")


def test_table_output_shows_payers_gaps_and_explanations(case_file):
    r = run("funding", str(case_file))
    assert r.exit_code == 0, r.output
    assert "teaching.off-site" in r.stdout and "GAP" in r.stdout
    assert "c2:" in r.stdout and "Youth Act" in r.stdout
    assert "3 components, 1 gap" in r.stderr


def test_out_writes_the_file(case_file, tmp_path):
    out = tmp_path / "res" / "advice.json"
    r = run("funding", str(case_file), "--format", "json", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text())["components"][0]["id"] == "c1"
    out2 = tmp_path / "advice.txt"
    assert run("funding", str(case_file), "--out", str(out2)).exit_code == 0
    assert "teaching.off-site" in out2.read_text()


def test_bad_options_exit_2(case_file):
    r = run("funding", str(case_file), "--format", "xml")
    assert r.exit_code == 2 and "--format" in r.stderr
    assert run("funding", str(case_file), "--lang", "fr").exit_code == 2


def test_bad_case_exits_1_naming_file_line_and_field(tmp_path):
    f = tmp_path / "case.yaml"
    f.write_text("child: {age: 12}\ncomponents:\n  - {id: a, kind: personal_care}\n"
                 "  - {id: b, kind: therapy}\n", encoding="utf-8")
    r = run("funding", str(f))
    assert r.exit_code == 1
    assert "case.yaml:4: components[1]: unknown kind 'therapy'" in r.stderr
    f.write_text("child: {age: 12}\ncomponents:\n  - {id: a, kind: personal_care}\n",
                 encoding="utf-8")
    r = run("funding", str(f))
    assert r.exit_code == 1
    assert "case.yaml:1: child.wlz_indication: missing" in r.stderr
    f.write_text("child: {age: 12, wlz_indication: false}\ncomponents:\n"
                 "  - {id: a, kind: personal_care}\n", encoding="utf-8")
    r = run("funding", str(f))
    assert r.exit_code == 1
    assert "case.yaml:3: components[0].cause: missing" in r.stderr


def test_contradiction_exits_1(tmp_path):
    f = tmp_path / "case.yaml"
    f.write_text("child: {age: 12, enrolled: true}\n"
                 "setting: {oza: false, oza_deviations: [location, funding]}\n"
                 "components:\n  - {id: a, kind: teaching}\n", encoding="utf-8")
    r = run("funding", str(f))
    assert r.exit_code == 1
    assert "case.yaml:2: setting.oza_deviations:" in r.stderr


def test_bad_region_file_names_its_line(case_file, tmp_path):
    m = tmp_path / "region.yaml"
    m.write_text("format: 1\nid: r\nname: {nl: R, en: R}\ncategories:\n  eating:\n"
                 "    activities:\n      bread: {payers: [ouders]}\n", encoding="utf-8")
    r = run("funding", str(case_file), "--matrix", str(m))
    assert r.exit_code == 1
    assert "region.yaml:7: categories.eating.activities.bread.payers[0]:" in r.stderr
    r = run("funding-rules", "--matrix", str(m))
    assert r.exit_code == 1 and "region.yaml:7:" in r.stderr


def test_missing_files(tmp_path):
    r = run("funding", str(tmp_path / "none.yaml"))
    assert r.exit_code == 1 and "none.yaml: cannot read" in r.stderr


def test_funding_rules_formats():
    r = run("funding-rules", "--format", "markdown")
    assert r.exit_code == 0 and "| 1 | `wlz.care` |" in r.stdout
    r = run("funding-rules", "--format", "json", "--matrix", str(example_matrix_path()))
    data = json.loads(r.stdout)
    assert data["rules"][0]["id"] == "wlz.care"
    assert any(row["id"] == "eating/bread" for row in data["region"])
    r = run("funding-rules", "--matrix", str(example_matrix_path()))
    assert r.exit_code == 0 and "eating/bread" in r.stdout


def test_funding_summary_across_saved_maps(case_file, tmp_path):
    for name, matrix in (("arr1", None), ("arr2", example_matrix_path())):
        args = ["funding", str(case_file), "--format", "json",
                "--out", str(tmp_path / f"{name}.json")]
        if matrix:
            args += ["--matrix", str(matrix)]
        assert run(*args).exit_code == 0
    r = run("funding-summary", str(tmp_path / "arr1.json"), str(tmp_path / "arr2.json"),
            "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["arrangements"] == 2
    teaching = next(row for row in data["by_kind"] if row["kind"] == "teaching")
    assert teaching == {"kind": "teaching", "components": 2, "gaps": 2, "shared": 0,
                        "region": 0, "arrangements": 2, "arrangements_with_gap": 2}
    assert {g["arrangement"] for g in data["gaps"]} == {"arr1", "arr2"}
    r = run("funding-summary", str(tmp_path / "arr1.json"))
    assert r.exit_code == 0 and "by kind and payer" in r.stdout
    bad = tmp_path / "bad.json"
    bad.write_text('{"components": [{"id": "x"}]}', encoding="utf-8")
    r = run("funding-summary", str(bad))
    assert r.exit_code == 1 and "bad: components[0].payers" in r.stderr
