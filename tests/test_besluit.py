"""The Besluit OZA rule file, its checker, the application reader and `besluit-check`."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ozamonitor.besluit import check_application, default_rules, load_rules, read_application
from ozamonitor.besluit.application import Application, write_application_xlsx
from ozamonitor.errors import ConfigurationError, InputError

GOOD = {
    "applicant": {"kind": "swv", "name": "SWV Oost", "code": "PO18"},
    "co_applicants": [
        {"kind": "school", "name": "De Linde", "financier": None},
        {"kind": "care_provider", "name": "Levvel", "financier": "gemeente"},
    ],
    "received_by_duo": dt.date(2023, 7, 14),
    "attachments": {"cooperation_agreement": True, "project_plan": True, "mr_advice": False,
                    "opr_consent": True},
    "contains_personal_data": False,
    "pupils_enrolled": True,
    "arrangements": [{"code": "OZA001", "name": "Klas", "deviations": ["time", "location"]}],
    "swv_budget": {"support_budget_eur": 12_000_000, "oza_spend_eur": 250_000},
}


def _status(app: dict, **kw) -> dict[str, str]:
    return {r.id: r.status for r in check_application(app, **kw).results}


def test_rule_file_has_every_condition_in_both_languages() -> None:
    rules = default_rules()
    ids = [c.id for c in rules.conditions]
    assert ids == ["applicant_kind", "co_applicant_education", "co_applicant_care_provider",
                   "care_provider_financier", "received_by_deadline", "cooperation_agreement",
                   "project_plan", "participation_council", "no_personal_data",
                   "pupils_enrolled", "arrangements_named", "deviations_allowed",
                   "national_cap", "swv_budget_cap"]
    for c in rules.conditions:
        assert c.nl and c.en and c.nl != c.en and c.fields


def test_a_complete_application_passes() -> None:
    report = check_application(GOOD)
    assert report.ok and set(_status(GOOD).values()) == {"pass"}


# (condition, change, expected status, field the message names)
CASES = [
    ("applicant_kind", lambda a: a["applicant"].update(kind="gemeente"), "fail",
     "applicant.kind"),
    ("applicant_kind", lambda a: a.pop("applicant"), "unknown", "applicant.kind"),
    ("co_applicant_education", lambda a: a["co_applicants"].pop(0), "fail", "co_applicants"),
    ("co_applicant_care_provider", lambda a: a["co_applicants"].pop(1), "fail",
     "co_applicants"),
    ("care_provider_financier", lambda a: a["co_applicants"][1].update(financier="swv"),
     "fail", "co_applicants[2].financier"),
    ("care_provider_financier", lambda a: a["co_applicants"][1].update(financier=None),
     "fail", "co_applicants[2].financier"),
    ("received_by_deadline", lambda a: a.update(received_by_duo=dt.date(2023, 8, 1)), "fail",
     "received_by_duo"),
    ("received_by_deadline", lambda a: a.update(received_by_duo=dt.date(2023, 7, 31)), "pass",
     "received_by_duo"),
    ("received_by_deadline", lambda a: a.update(received_by_duo=None), "unknown",
     "received_by_duo"),
    ("cooperation_agreement", lambda a: a["attachments"].update(cooperation_agreement=False),
     "fail", "attachments.cooperation_agreement"),
    ("project_plan", lambda a: a["attachments"].update(project_plan=False), "fail",
     "attachments.project_plan"),
    ("participation_council", lambda a: a["attachments"].update(opr_consent=False), "fail",
     "attachments.mr_advice"),
    ("participation_council",
     lambda a: a["attachments"].update(opr_consent=False, mr_advice=True), "pass",
     "attachments.mr_advice"),
    ("no_personal_data", lambda a: a.update(contains_personal_data=True), "fail",
     "contains_personal_data"),
    ("pupils_enrolled", lambda a: a.update(pupils_enrolled=False), "fail", "pupils_enrolled"),
    ("arrangements_named", lambda a: a.update(arrangements=[]), "fail", "#arrangements"),
    ("deviations_allowed", lambda a: a["arrangements"][0].update(deviations=["holidays"]),
     "fail", "arrangements[1].deviations"),
    ("swv_budget_cap", lambda a: a["swv_budget"].update(oza_spend_eur=300_001), "fail",
     "swv_budget.oza_spend_eur"),
    ("swv_budget_cap", lambda a: a["swv_budget"].update(oza_spend_eur=300_000), "pass",
     "swv_budget.oza_spend_eur"),
    ("swv_budget_cap", lambda a: a.pop("swv_budget"), "unknown", "swv_budget"),
]


@pytest.mark.parametrize(("cid", "change", "expected", "field"), CASES)
def test_each_condition(cid: str, change, expected: str, field: str) -> None:
    app = copy.deepcopy(GOOD)
    change(app)
    report = check_application(app)
    result = next(r for r in report.results if r.id == cid)
    assert result.status == expected, result.message("en")
    assert field in result.message("en") and field in result.message("nl")
    others = {r.id: r.status for r in report.results if r.id != cid}
    assert set(others.values()) == {"pass"}, others
    assert report.ok == (expected != "fail")


def test_national_cap_counts_across_records() -> None:
    app = copy.deepcopy(GOOD)
    app["arrangements"] = [{"code": f"A{i}", "deviations": []} for i in range(3)]
    ctx = {"national": {"registered_arrangements": 77}}
    assert _status(app, context=ctx)["national_cap"] == "pass"  # 80
    ctx["national"]["registered_arrangements"] = 78
    r = check_application(app, context=ctx)
    cap = next(x for x in r.results if x.id == "national_cap")
    assert cap.status == "fail" and "81" in cap.message("en") and "80" in cap.message("en")


def test_context_budget_overrides_the_application() -> None:
    ctx = {"swv_budget": {"support_budget_eur": 1_000_000, "oza_spend_eur": 30_000}}
    assert _status(GOOD, context=ctx)["swv_budget_cap"] == "fail"


def test_json_shape() -> None:
    d = check_application(GOOD).as_dict("en")
    assert set(d) == {"conditions", "ok"} and d["ok"] is True
    assert {"id", "status", "message"} <= set(d["conditions"][0])


def test_bad_rule_files_name_the_condition(tmp_path: Path) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text('[[conditions]]\nid = "x"\nnl = "a"\nen = "b"\nfields = []\n'
                   'test = { foo = [1, 2] }\n')
    with pytest.raises(ConfigurationError, match="condition x"):
        load_rules(bad)
    bad.write_text("not toml = [")
    with pytest.raises(ConfigurationError):
        load_rules(bad)


def test_a_custom_rule_file(tmp_path: Path) -> None:
    p = tmp_path / "r.toml"
    p.write_text('[[conditions]]\nid = "early"\nnl = "vroeg"\nen = "early"\n'
                 'fields = ["received_by_duo"]\n'
                 'test = { lt = [{ field = "received_by_duo" }, 2023-07-01] }\n')
    r = check_application(GOOD, rules=load_rules(p))
    assert [x.status for x in r.results] == ["fail"]


def _yaml(tmp_path: Path, app: dict) -> Path:
    p = tmp_path / "app.yaml"
    p.write_text(yaml.safe_dump(app, allow_unicode=True))
    return p


def test_yaml_and_xlsx_read_the_same(tmp_path: Path) -> None:
    app = copy.deepcopy(GOOD)
    app["arrangements"][0]["deviations"] = ["onderwijstijd", "onderwijslocatie"]
    a = read_application(_yaml(tmp_path, app))
    assert a.arrangements[0].deviations == ["time", "location"]
    x = write_application_xlsx(a, tmp_path / "app.xlsx")
    b = read_application(x)
    assert a == b
    assert check_application(b.as_mapping()).ok


def test_read_errors_name_file_and_field(tmp_path: Path) -> None:
    app = copy.deepcopy(GOOD)
    app["received_by_duo"] = "not a date"
    with pytest.raises(InputError, match=r"app.yaml: received_by_duo"):
        read_application(_yaml(tmp_path, app))
    app = copy.deepcopy(GOOD)
    app["co_applicants"][0]["finacier"] = "gemeente"  # typo
    with pytest.raises(InputError, match=r"co_applicants\[1\].finacier"):
        read_application(_yaml(tmp_path, app))
    x = write_application_xlsx(Application.model_validate(GOOD), tmp_path / "a.xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(x)
    ws = wb["application"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == "swv_budget.oza_spend_eur":
            row[1].value = "lots"
            bad_row = row[0].row - 1
    wb.save(x)
    with pytest.raises(InputError, match=rf"a.xlsx:{bad_row}: swv_budget.oza_spend_eur"):
        read_application(x)
    with pytest.raises(InputError, match=r"use a \.yaml or \.xlsx"):
        read_application(_yaml(tmp_path, GOOD).rename(tmp_path / "app.txt"))


def test_cli_exit_codes_and_json(tmp_path: Path) -> None:
    from ozamonitor.cli.main import app as cli

    runner = CliRunner()
    good = _yaml(tmp_path, GOOD)
    r = runner.invoke(cli, ["besluit-check", str(good), "--format", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["ok"] is True and len(d["conditions"]) == 14
    bad = copy.deepcopy(GOOD)
    bad["received_by_duo"] = dt.date(2023, 8, 2)
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(bad))
    r = runner.invoke(cli, ["besluit-check", str(p), "--format", "json", "--lang", "en"])
    assert r.exit_code == 1
    d = json.loads(r.output)
    failed = [c for c in d["conditions"] if c["status"] == "fail"]
    assert [c["id"] for c in failed] == ["received_by_deadline"]
    assert "received_by_duo" in failed[0]["message"]
    r = runner.invoke(cli, ["besluit-check", str(p)])
    assert r.exit_code == 1 and "received_by_deadline" in r.output
    r = runner.invoke(cli, ["besluit-check", str(good), "--registered", "80"])
    assert r.exit_code == 1 and "national_cap" in r.output


def test_besluit_check_does_not_need_django(tmp_path: Path) -> None:
    import subprocess
    import sys

    good = _yaml(tmp_path, GOOD)
    code = ("import sys\nfrom typer.testing import CliRunner\n"
            "from ozamonitor.cli.main import app\n"
            f"r = CliRunner().invoke(app, ['besluit-check', {str(good)!r}])\n"
            "print(r.exit_code, 'django' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.split() == ["0", "False"], out.stderr
