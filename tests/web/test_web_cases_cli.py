"""``ozamonitor web cases import-signals|import-oogo|ledger`` (in-process, on the test
database)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.django_db(transaction=True)


def _run(*args: str) -> tuple[int, str]:
    from django.conf import settings

    from ozamonitor.cli.main import app

    res = CliRunner().invoke(app, ["web", "cases", *args, "--data-dir",
                                   str(settings.DATA_DIR)])
    return res.exit_code, res.output


def test_import_signals_oogo_and_ledger(cases, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from ozamonitor.web.casework.models import Case, OOGOAgreement

    sig = tmp_path / "signals.csv"
    sig.write_text("person_id,signal,date,detail\n"
                   "q1,report_16h_4w,2024-09-05,20.0 h (episode from 2024-09-02)\n"
                   "q1,casusregie_due,2024-09-30,episode from 2024-09-02 still open\n"
                   "q2,lrv_4w,2024-10-07,every school day since 2024-09-09\n")
    code, out = _run("import-signals", str(sig), "--gemeente", "GM0001", "--as", "lpaA")
    assert code == 0, out
    assert "2 cases opened" in out
    q1 = Case.objects.get(person_id="q1")
    assert q1.gemeente.code == "GM0001" and q1.start.isoformat() == "2024-09-02"
    assert q1.history.first().history_user.username == "lpaA"
    # again: nothing new (same episodes)
    code, out = _run("import-signals", str(sig), "--gemeente", "GM0001")
    assert code == 0 and "0 cases opened" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("person_id,signal,date,detail\nq3,lrv_4w,2024-13-01,x\n")
    code, out = _run("import-signals", str(bad), "--gemeente", "GM0001")
    assert code != 0 and "bad.csv:2: date" in out
    oogo = tmp_path / "oogo.yaml"
    oogo.write_text("agreements:\n  - {region_id: GM0001, kind: covenant, title: Convenant,"
                    " valid_from: 2024-01-01}\n  - {region_id: PO01, kind: "
                    "breakthrough_approach, title: Doorbraak, valid_from: 2024-01-01}\n")
    code, out = _run("import-oogo", str(oogo))
    assert code == 0 and "2 agreements recorded" in out
    assert OOGOAgreement.objects.count() == 2
    code, out = _run("ledger", "--out", str(tmp_path / "ledger.xlsx"))
    assert code == 0, out
    assert (tmp_path / "ledger.xlsx").stat().st_mode & 0o777 == 0o600
    wb = load_workbook(tmp_path / "ledger.xlsx")
    rows = list(wb["entries"].iter_rows(values_only=True))
    assert len(rows) == 3  # header + the two cases' entries

