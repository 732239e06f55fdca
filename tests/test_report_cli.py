"""End-to-end: `ozamonitor demo` and `ozamonitor report` on a tiny synthetic register."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from ozamonitor.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    pytest.importorskip("ozamonitor.synth")
    out = tmp_path_factory.mktemp("demo")
    res = runner.invoke(app, ["demo", "--out", str(out), "--scale", "0.002", "--seed", "2"])
    assert res.exit_code == 0, res.output
    return out


def test_demo_writes_register_and_report(demo_dir):
    assert (demo_dir / "register" / "manifest.json").is_file()
    html = (demo_dir / "report.html").read_text()
    for title in ("Thuiszitters tellen", "Verzuim en meldingen", "Onderwijs-zorgtrajecten",
                  "Wat werkt voor wie"):
        assert title in html
    # disclosure control: no published count between 1 and 9 in the report's tables
    cells = re.findall(r'<td class="num">(\d[\d\u202f]*)</td>', html)
    assert cells
    # (numbers in tables are counts, shares or estimates; integers 1..9 only
    # appear as ranks or k, never in count columns - checked on the counting section)
    counting = html.split("Onderwijs-zorgtrajecten")[0]
    small = [c for c in re.findall(r'<td class="num">(\d+)</td>', counting) if 0 < int(c) < 10]
    steps = re.findall(r"<tr><td class=\"num\">(\d)</td>", counting)  # waterfall step numbers
    assert len(small) <= len(steps) * 1, small


def test_report_english_and_sections(demo_dir, tmp_path):
    out = tmp_path / "r.html"
    res = runner.invoke(
        app,
        ["report", "--register", str(demo_dir / "register"), "--out", str(out), "--lang", "en",
         "--sections", "counting"],
    )
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert 'lang="en"' in html and "Cells of 1 to 9 are suppressed" in html
    assert "What works for whom" not in html
    # the regions: a map and a link to the full CSV beside the report, no long tables
    assert (tmp_path / "r-regions.csv").is_file() and 'href="r-regions.csv"' in html
    assert 'alt="Map by gemeente' in html and "The 10 highest" in html
    assert html.count("<tr>") < 300


def test_count_writes_the_absence_counts_beside(demo_dir, tmp_path):
    import polars as pl

    out, att = tmp_path / "c.csv", tmp_path / "att.csv"
    res = runner.invoke(app, ["count", "--register", str(demo_dir / "register"), "--schoolyear",
                              "2024-2025", "--by", "gemeente", "--out", str(out),
                              "--attendance", str(att)])
    assert res.exit_code == 0, res.output
    t = pl.read_csv(att, infer_schema=False)
    assert {"report_16h_4w", "chronic_total", "pupils"} <= set(t["measure"].to_list())
    shown = t.filter(pl.col("suppression").is_null())["count"].cast(pl.Int64)
    assert shown.filter((shown > 0) & (shown < 10)).len() == 0  # disclosure control
    res = runner.invoke(app, ["count", "--register", str(demo_dir / "register"), "--schoolyear",
                              "2024-2025", "--by", "age", "--out", str(out),
                              "--attendance", str(att)])
    assert res.exit_code == 2 and "--attendance counts by" in res.output


def test_report_errors(tmp_path):
    res = runner.invoke(app, ["report", "--register", str(tmp_path / "nope")])
    assert res.exit_code != 0
    assert "not a register" in res.output or "manifest" in res.output


def test_report_refuses_low_threshold(demo_dir, tmp_path):
    res = runner.invoke(app, ["report", "--register", str(demo_dir / "register"), "--out",
                              str(tmp_path / "r.html"), "--threshold", "3"])
    assert res.exit_code != 0 and "always suppressed" in res.output
    assert not (tmp_path / "r.html").exists()


def test_impact_refuses_low_threshold(demo_dir, tmp_path):
    res = runner.invoke(app, ["impact", "--register", str(demo_dir / "register"), "--out",
                              str(tmp_path / "imp"), "--threshold", "3"])
    assert res.exit_code != 0 and "--unsafe-threshold" in res.output
    assert not (tmp_path / "imp").exists()
