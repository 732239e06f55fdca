"""The dashboard in Chromium: pick a definition and a region, see the map and the chart,
download the CSV and compare it with the publication; axe-core finds no serious
accessibility violation. With ``OZAMONITOR_DOCS_SCREENSHOTS=1`` the screenshots go to
``docs/img/`` (docs/dashboard.md uses them)."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest
from fixtures_web import DOCS_IMG

from ozamonitor.privacy.folder import read_folder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



@pytest.fixture
def page(browser, live_server, settings, publication, tmp_path):
    settings.OZAMONITOR_PUBLICATION = str(publication)
    ctx = browser.new_context(locale="nl-NL", accept_downloads=True,
                              viewport={"width": 1280, "height": 1000})
    pg = ctx.new_page()
    pg.base = live_server.url
    yield pg
    ctx.close()


def _shot(pg, name: str) -> None:
    if os.environ.get("OZAMONITOR_DOCS_SCREENSHOTS"):
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(DOCS_IMG / name), full_page=True)


def _axe(pg) -> list[dict]:
    import axe_playwright_python

    js = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text("utf-8")
    pg.evaluate(js)
    res = pg.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in res["violations"] if v["impact"] in ("serious", "critical")]


def test_pick_definition_and_region_map_chart_csv(page, publication, tmp_path):
    pg = page
    pg.goto(f"{pg.base}/dashboard/")
    pg.select_option("#f-definition", "vws")
    pg.select_option("#f-level", "swv_po")  # submits the form: regions of the level
    pg.wait_for_url("**level=swv_po**")
    _, tables, _ = read_folder(publication)
    pick = tables["by_swv"].filter((pl.col("definition") == "vws")
                                   & (pl.col("category") == "total")
                                   & pl.col("region").str.starts_with("PO")
                                   & (pl.col("count") != "x") & (pl.col("count") != "0"))
    region = pick["region"][0] if pick.height else "PO01"
    period = pick["period"][0] if pick.height else "2023-10-01"
    pg.select_option("#f-region", region)
    pg.select_option("#f-period", period)
    pg.click("form.filters button[type=submit]")
    pg.wait_for_url(f"**region={region}**")
    # the map: one path per SWV PO, the selected one marked
    assert pg.locator("svg.map path").count() == len(
        [r for r in tables["by_swv"]["region"].unique() if r.startswith("PO")])
    assert pg.locator(f"svg.map path[data-region='{region}'].sel").count() == 1
    # the chart: drawn by plotly.js served offline
    pg.wait_for_selector("#chart-trend[data-drawn='1'] .main-svg", timeout=20000)
    number = pg.locator("[data-testid=number]").inner_text().strip()
    expect = pick["count"][0] if pick.height else number
    assert number == expect
    _shot(pg, "dashboard.png")
    # download the trend's CSV and compare with the publication
    with pg.expect_download() as dl:
        pg.locator("section[aria-labelledby=h-trend] a", has_text="CSV").click()
    path = tmp_path / "trend.csv"
    dl.value.save_as(path)
    got = pl.read_csv(path, infer_schema=False)
    pubt = tables["by_swv"].filter((pl.col("definition") == "vws")
                                   & (pl.col("category") == "total")
                                   & (pl.col("region") == region))
    joined = got.join(pubt, on=["definition", "region", "period"], suffix="_pub")
    assert joined.height == got.height > 0
    assert (joined["count"] == joined["count_pub"]).all()
    assert _axe(pg) == []
    pg.goto(f"{pg.base}/dashboard/?definition=vsvkompas&level=nation&period=2024-2025")
    pg.wait_for_selector("#chart-trend[data-drawn='1'] .main-svg", timeout=20000)
    _shot(pg, "dashboard-nation.png")


def test_monitor_and_definition_pages_accessible(page):
    pg = page
    pg.goto(f"{pg.base}/dashboard/monitor/")
    assert pg.locator("section#oza_flows table").count() == 1
    _shot(pg, "dashboard-monitor.png")
    assert _axe(pg) == []
    pg.goto(f"{pg.base}/dashboard/definitions/ocw2016/")
    assert _axe(pg) == []


def test_keyboard_reaches_the_selection_and_the_map(page):
    pg = page
    pg.goto(f"{pg.base}/dashboard/?level=gemeente")
    pg.keyboard.press("Tab")
    assert pg.evaluate("document.activeElement.className") == "skip"
    for _ in range(40):
        pg.keyboard.press("Tab")
        if pg.evaluate("document.activeElement.id") == "f-definition":
            break
    assert pg.evaluate("document.activeElement.id") == "f-definition"
    # every region of the map is a link with a text alternative
    labels = pg.eval_on_selector_all("svg.map a", "els => els.map(e => e.getAttribute("
                                     "'aria-label'))")
    assert labels and all(lab and ":" in lab for lab in labels)
