"""``export-template``: source files per table, a mapping example, never overwriting."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ozamonitor.cli.main import app
from ozamonitor.register.template import TemplateExistsError, export_template

runner = CliRunner()


def test_export_template_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "tpl"
    out.mkdir()  # an existing, empty folder is fine
    first = export_template(out, "csv", example=True)
    before = {p: p.read_bytes() for p in first}
    (out / "persons.csv").write_text("edited by hand")
    with pytest.raises(TemplateExistsError, match=r"persons\.csv.*force=True"):
        export_template(out, "csv", example=True)
    assert (out / "persons.csv").read_text() == "edited by hand"
    # another format does not collide with the table files, but with the mapping
    with pytest.raises(TemplateExistsError, match=r"mapping\.example\.yaml"):
        export_template(out, "parquet")
    again = export_template(out, "csv", example=True, force=True)
    assert again == first
    assert {p: p.read_bytes() for p in again} == before
    # the CLI says so in one line (no traceback) and --force overwrites
    (out / "persons.csv").write_text("edited by hand")
    res = runner.invoke(app, ["export-template", str(out), "--example"])
    assert res.exit_code == 1 and "persons.csv" in res.output and "--force" in res.output
    assert "Traceback" not in res.output
    res = runner.invoke(app, ["export-template", str(out), "--example", "--force"])
    assert res.exit_code == 0, res.output
    assert {p: p.read_bytes() for p in first} == before


def test_export_template_cli_still_works(tmp_path: Path) -> None:
    res = runner.invoke(app, ["export-template", str(tmp_path / "t"), "--format", "csv"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "t" / "persons.csv").is_file()
    res = runner.invoke(app, ["export-template", str(tmp_path / "t"), "--format", "csv"])
    assert res.exit_code != 0
    assert (tmp_path / "t" / "persons.csv").is_file()
