"""Tests for the HTML report base."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import polars as pl
import pytest

from ozamonitor.report import ReportDocument, Section, figure_html, paragraph, table_html


def test_render_is_self_contained(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    df = pl.DataFrame({"definitie": ["ocw2016", "vsv"], "aantal": [12_345, None]})
    doc = ReportDocument(title="Thuiszitters <test>", lang="nl")
    doc.add(Section(id="a", title="Tabel", html=table_html(df, caption="c")))
    doc.add(Section(id="b", title="Figuur", html=figure_html(fig) + paragraph("x < y")))
    out = doc.write(tmp_path / "r.html")
    text = out.read_text()
    assert "data:image/png;base64," in text
    assert "12\u202f345" in text
    assert "Thuiszitters &lt;test&gt;" in text
    assert "x &lt; y" in text
    assert 'lang="nl"' in text
    assert "http" not in text.replace("http-equiv", "")  # nothing fetched at view time


def test_language_is_checked():
    with pytest.raises(ValueError, match="language"):
        ReportDocument(title="x", lang="de")


def test_english_footer(tmp_path):
    doc = ReportDocument(title="t", lang="en")
    assert "Cells of 1 to 9 are suppressed" in doc.render()
