"""No raw BSN in any message: errors, validation problems, the command line's error lines."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ozamonitor.cli.main import app
from ozamonitor.errors import InputError, OzamonitorError, looks_like_bsn, redact
from ozamonitor.register.problems import Problem
from ozamonitor.register.pseudonym import random_valid_bsns

BSN = "123456782"


def test_redact_hides_numbers_that_pass_the_eleven_test():
    for b in random_valid_bsns(50, seed=3):
        assert looks_like_bsn(b)
        assert b not in redact(f"unknown person_id '{b}' (not in persons)")
    assert redact("1234.56.782 and 123 456 782") == "<BSN?> and <BSN?>"
    # not a BSN: fails the eleven-test, or part of a longer number, or a date
    for text in ("123456789", "1234567820", "2023-10-01", "row 12, 345 children"):
        assert redact(text) == text


def test_errors_and_problems_never_show_a_bsn():
    e = InputError(f"unknown person_id '{BSN}'", file="enrolments.csv", row=3, field="bsn")
    assert BSN not in str(e) and "enrolments.csv:3: bsn" in str(e)
    assert BSN not in str(OzamonitorError(f"school name {BSN}"))
    p = Problem("schools.csv", 2, "name", f"value '{BSN}' too long", "schema")
    assert BSN not in str(p)


def test_cli_error_lines_never_show_a_bsn(tmp_path: Path):
    missing = tmp_path / BSN
    res = CliRunner().invoke(app, ["count", "--register", str(missing), "--peildatum",
                                   "2023-10-01", "--out", str(tmp_path / "c.csv")])
    assert res.exit_code != 0
    assert "error" in res.output and BSN not in res.output
