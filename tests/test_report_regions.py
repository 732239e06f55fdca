"""The report's regional part: map, ten highest and lowest, the CSV beside the report, and
the counts, waterfall and overlap protected as one publication."""

from __future__ import annotations

import datetime as dt
import io
import re

import numpy as np
import polars as pl
import pytest

from ozamonitor.counting.count import Counter
from ozamonitor.counting.publication import protect_counts
from ozamonitor.errors import ConfigurationError
from ozamonitor.register.store import Register
from ozamonitor.report.document import ReportDocument, Section
from ozamonitor.report.regions import extremes, map_figure, pupils
from ozamonitor.synth import SynthParams

DAY = dt.date(2024, 10, 1)
YEAR = "2023-2024"


@pytest.fixture(scope="module")
def reg(synthetic_register) -> Register:
    return Register.open(synthetic_register(0.002, 5,
                                            params=SynthParams(oza_min_participants=60)))


@pytest.fixture(scope="module")
def section(reg):
    from ozamonitor.report.counting import counting_section

    return counting_section(reg, peildatum=DAY, schoolyear=YEAR, lang="en", trends=False,
                            csv_name="regions.csv")


def _csv(section) -> pl.DataFrame:
    sub = next(s for s in section.subsections if s.id == "counting-gemeente")
    return pl.read_csv(io.StringIO(sub.files["regions.csv"]), infer_schema=False)


def test_sections_and_no_long_tables(section):
    ids = [s.id for s in section.subsections]
    assert ids == ["counting-side-by-side", "counting-waterfall", "counting-overlap",
                   "counting-gemeente", "counting-swv", "counting-definitions"]
    for level in ("gemeente", "swv"):
        body = next(s for s in section.subsections if s.id == f"counting-{level}").html
        alt = re.search(r'<img src="data:image/png;base64,[^"]+" alt="([^"]+)"', body)
        assert alt and "hatched grey is suppressed" in alt.group(1)
        assert body.count("<tr>") <= 2 * (10 + 1)  # two tables of ten, with headers
    assert 'href="regions.csv"' in section.subsections[3].html


def test_csv_is_the_protected_publication(reg, section):
    got = _csv(section)
    c = Counter(reg, "all")
    pc = pl.concat([c.stock(DAY), c.flow(YEAR)], how="vertical_relaxed")
    res = protect_counts(c, pc, periods=[DAY.isoformat(), YEAR], reconcile=True)
    for level in ("gemeente", "swv"):
        want = res.rendered(f"by_{level}").filter(
            (pl.col("period") == DAY.isoformat()) & (pl.col("category") == "total"))
        mine = got.filter(pl.col("level") == level).join(
            want, on=["region", "definition"], suffix="_pub")
        assert mine.height == want.height > 0
        assert (mine["count"] == mine["count_pub"]).all()
    vals = got["count"].cast(pl.Int64, strict=False)
    assert not vals.is_between(1, 9).any()
    assert (got["count"] == "x").any()
    # a rate only where the count is published, and it is count / pupils
    shown = got.filter(pl.col("per_1000").is_not_null()).with_columns(
        pl.col("count", "pupils").cast(pl.Int64), pl.col("per_1000").cast(pl.Float64))
    assert shown.height > 0
    assert np.allclose(shown["per_1000"], (1000 * shown["count"] / shown["pupils"]).round(2))


def test_extremes_rank_published_cells_by_rate_else_count():
    rates = pl.DataFrame({
        "level": ["gemeente"] * 5, "region": list("abcde"), "name": list("ABCDE"),
        "definition": ["d"] * 5, "count": ["10", "x", "30", "0", "20"],
        "suppressed": [False, True, False, False, False],
        "pupils": [100, 50, 1000, 80, None], "per_1000": [100.0, None, 30.0, 0.0, None]})
    hi, lo, key = extremes(rates, "gemeente", "d", n=2)
    assert key == "per_1000"
    assert hi["region"].to_list() == ["a", "c"] and lo["region"].to_list() == ["d", "c"]
    no_rate = rates.with_columns(per_1000=pl.lit(None, pl.Float64))
    hi, lo, key = extremes(no_rate, "gemeente", "d", n=2)
    assert key == "n" and hi["region"].to_list() == ["c", "e"]
    assert lo["region"].to_list() == ["d", "a"]
    assert "b" not in hi["region"].to_list() + lo["region"].to_list()


def test_pupils_brute_force(reg):
    enr = reg.read("enrolments").to_dicts()
    res = reg.read("residences").to_dicts()
    swv = dict(reg.read("schools").select("school_id", "swv_id").iter_rows())

    def on(r):
        return r["start"] <= DAY and (r["end"] is None or r["end"] >= DAY)

    school: dict[str, str] = {}
    for r in sorted(enr, key=lambda r: (r["person_id"], r["start"])):
        if on(r):
            school.setdefault(r["person_id"], r["school_id"])
    home: dict[str, str] = {}
    for r in sorted(res, key=lambda r: (r["person_id"], r["start"])):
        if on(r):
            home.setdefault(r["person_id"], r["gemeente_code"])
    want_g: dict[str, int] = {}
    want_s: dict[str, int] = {}
    for pid, sch in school.items():
        if pid in home:
            want_g[home[pid]] = want_g.get(home[pid], 0) + 1
        if swv.get(sch) is not None:
            want_s[swv[sch]] = want_s.get(swv[sch], 0) + 1
    got = pupils(reg, DAY)
    for level, want in (("gemeente", want_g), ("swv", want_s)):
        g = dict(got.filter(pl.col("level") == level).select("region", "pupils").iter_rows())
        assert g == want


def test_map_marks_suppressed_cells():
    geo = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": r, "properties": {"region_id": r, "kind": "gemeente"},
         "geometry": {"type": "Polygon", "coordinates": [[[x, 0], [x + 1, 0], [x + 1, 1],
                                                          [x, 1], [x, 0]]]}}
        for x, r in enumerate(["a", "b", "c"])]}
    fig = map_figure(geo, ("gemeente",), {"a": 5.0, "b": None}, lang="en", label="count")
    ax = fig.axes[0]
    hatches = [p.get_hatch() for p in ax.patches]
    assert hatches == [None, "////", "...."]  # shown, suppressed, no data
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["suppressed (x)", "no data"]


def test_document_writes_attached_files_beside(tmp_path):
    doc = ReportDocument(title="t", lang="en")
    doc.add(Section(id="a", title="A", html="", files={"a.csv": "x\n1\n"}))
    path = doc.write(tmp_path / "r.html")
    assert (tmp_path / "a.csv").read_text() == "x\n1\n" and path.exists()
    bad = ReportDocument(title="t", lang="en")
    bad.add(Section(id="a", title="A", html="", files={"../a.csv": ""}))
    with pytest.raises(ConfigurationError):
        bad.write(tmp_path / "sub" / "r.html")
