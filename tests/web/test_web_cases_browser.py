"""Browser test of the case chain: log in as the officer, open a case that came from a
signal, record a step, and see the timers and the timeline change. With
``OZAMONITOR_DOCS_SCREENSHOTS=1`` the screenshots go to ``docs/img/``."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_web_browser import page_for, shot, site, submitted  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

A = "GM0001-2024-0001"


def test_open_a_case_record_a_step_see_the_timer(cases, page_for, site,  # noqa: F811
                                                 tmp_path: Path) -> None:
    page = page_for("lpaA")
    page.goto(f"{site}/cases/?asof=2024-11-01")
    assert page.locator("#cases tbody tr").count() == 1  # not gemeente B's case
    shot(page, "cases", tmp_path)
    page.click(f"text={A}")
    submitted(page, f"{site}/cases/{A}/?asof=2024-11-01")
    timer = page.locator("#timers tr[data-step=casusregie] [data-status]")
    assert timer.get_attribute("data-status") == "overdue"  # 30 September passed
    assert page.locator("#state").get_attribute("data-state") == "mdt"
    page.select_option("#id_kind", "appoint_case_director")
    page.fill("#id_date", "2024-10-02")
    page.fill("#id_note", "casusregisseur onderwijs en zorg")
    page.click("#event-form button[type=submit]")
    page.wait_for_url(f"{site}/cases/{A}/")
    page.goto(f"{site}/cases/{A}/?asof=2024-11-01")
    assert page.locator("#state").get_attribute("data-state") == "casusregie"
    timer = page.locator("#timers tr[data-step=casusregie] [data-status]")
    assert timer.get_attribute("data-status") == "done_late"
    assert page.locator("#timers tr[data-step=arbitration] td").nth(1).inner_text() \
        == "2024-11-25"  # the 3-month alarm
    assert page.locator("#timeline tr[data-kind=appoint_case_director]").count() == 1
    shot(page, "case", tmp_path, full=True)
    page.goto(f"{site}/cases/due/?asof=2024-12-01")
    assert page.locator("#steps tr.alarm").count() == 1  # arbitration overdue
    shot(page, "cases-due", tmp_path)
    resp = page.goto(f"{site}/cases/GM0002-2024-0001/")
    assert resp.status == 404
