"""Browser test of the who-pays advisor: step-by-step questions (htmx), a gap that an OZA's
deviations lift, saving the funding map with the arrangement, the study team's summary.
With ``OZAMONITOR_DOCS_SCREENSHOTS=1`` the screenshots go to ``docs/img/``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fixtures_web import DOCS_IMG
from funding_fixtures import add_funding

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



@pytest.fixture
def open_as(browser, live_server, settings):
    settings.SESSION_COOKIE_SECURE = False  # the live server speaks plain HTTP
    settings.CSRF_COOKIE_SECURE = False
    contexts = []

    def login(username: str, password: str | None = None):
        ctx = browser.new_context(viewport={"width": 1100, "height": 800}, locale="nl-NL")
        page = ctx.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password or f"pw-{username}")
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        contexts.append(ctx)
        return page

    yield login
    for ctx in contexts:
        ctx.close()


def shot(page, name: str, tmp_path: Path, full: bool = False) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=full)
    if os.environ.get("OZAMONITOR_DOCS_SCREENSHOTS"):
        from PIL import Image

        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        with Image.open(path) as img:
            img.convert("RGB").quantize(colors=48).save(DOCS_IMG / f"web-{name}.png",
                                                         optimize=True)


def field(name: str) -> str:
    return f'[name="{name}"]'


def answer(page, component: str, gap: str) -> None:
    try:
        page.wait_for_selector(f'#answer tr[data-component="{component}"][data-gap="{gap}"]',
                               timeout=10_000)
    except Exception:
        raise AssertionError(page.locator("#advisor").inner_html()) from None


def test_advisor_step_by_step_then_save_and_summarise(world, open_as, live_server,
                                                      tmp_path: Path) -> None:
    made = add_funding(world)
    made["maps"]["A"].delete()  # SWV A starts without a map
    site = live_server.url
    page = open_as("swvA")
    page.goto(f"{site}/funding/?arrangement=OZAA")
    # the arrangement's own facts are filled in: an OZA at a school, deviating on time
    assert page.locator(field("setting.oza")).input_value() == "true"
    page.select_option(field("components[0].kind"), "teaching")
    page.wait_for_selector('[data-field="child.enrolled"]')
    assert page.locator('[data-field="child.age"]').count() == 0  # not asked: not needed
    page.select_option(field("child.enrolled"), "true")
    answer(page, "c1", "false")
    # a second component: transport to a care location asks for the Wlz indication
    page.click("#add-component")
    page.wait_for_selector(field("components[1].kind"))
    page.select_option(field("components[1].kind"), "transport")
    page.wait_for_selector('[data-field="components[1].to"]')
    page.select_option(field("components[1].to"), "care_location")
    page.wait_for_selector('[data-field="child.wlz_indication"]')
    page.select_option(field("child.wlz_indication"), "false")
    page.wait_for_selector('[data-field="child.age"]')
    page.fill(field("child.age"), "11")
    page.press(field("child.age"), "Tab")  # a change event, as a user leaving the field
    answer(page, "c2", "false")
    assert page.locator('#answer tr[data-component="c2"]').get_attribute(
        "data-payers") == "gemeente"
    # teaching moves to the care location: with only the teaching-time deviation, a gap
    page.select_option(field("setting.location"), "care_location")
    page.wait_for_selector('[data-field="setting.brin"]')
    page.select_option(field("setting.brin"), "false")
    answer(page, "c1", "true")
    assert "geen partij is verplicht" in page.locator("#answer").inner_text()
    # the location and funding deviations of the OZA lift the gap
    page.check('[id="setting.oza_deviations-location"]')
    page.wait_for_selector('[id="setting.oza_deviations-location"]:checked')
    page.check('[id="setting.oza_deviations-funding"]')
    answer(page, "c1", "false")
    assert page.locator('#answer tr[data-component="c1"]').get_attribute(
        "data-payers") == "school,swv"
    page.locator('#answer tr[data-component="c1"] summary').click()
    shot(page, "funding-advisor", tmp_path, full=True)
    page.select_option("#arrangement", "OZAA")
    page.click("#save-map")
    page.wait_for_url(f"{site}/funding/maps/OZAA/")
    assert "opgeslagen" in page.locator(".messages").inner_text()
    assert page.locator('tr[data-component="c1"][data-payers="school,swv"]').count() == 1
    shot(page, "funding-map", tmp_path, full=True)
    # the study team sees where the gaps fall, across SWVs
    study = open_as("study")
    study.goto(f"{site}/funding/summary/")
    assert study.locator('tr[data-kind="teaching"][data-payer="none"]').count() == 1
    shot(study, "funding-summary", tmp_path)
    study.goto(f"{site}/funding/matrices/{made['matrices']['B'].pk}/")
    assert study.locator('tr[data-activity="eating/bread"]').count() == 1
    shot(study, "funding-matrix", tmp_path)
    # and SWV A's staff cannot open SWV B's map
    resp = page.goto(f"{site}/funding/maps/OZAB/")
    assert resp.status == 404
