"""Browser test of the questionnaire: a school answers part 4 with a skip and a constraint
error (checked through htmx), saves a draft, comes back in a new session, and submits; the
study team sees the response rate. ``OZAMONITOR_DOCS_SCREENSHOTS=1`` refreshes docs/img."""

from __future__ import annotations

from pathlib import Path

import pytest
import test_web_browser as tb

# the browser, live-server and login fixtures of the registry's browser tests
site, page_for = tb.site, tb.page_for  # browser: conftest
shot, submitted = tb.shot, tb.submitted

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def wave(world):
    from ozamonitor.web.registry.models import Arrangement
    from ozamonitor.web.survey import service

    return service.open_wave(2024, Arrangement.objects.all())


def test_answer_a_part_with_skip_and_error_save_resume_submit(world, wave, page_for, site,
                                                               tmp_path: Path) -> None:
    part = f"{site}/survey/waves/2024/OZAA/level4/"
    page = page_for("schoolA")
    page.goto(f"{site}/survey/")
    page.click("a[href='/survey/waves/2024/OZAA/level4/']")
    page.wait_for_url(part)
    page.check("input[name=l4_sector][value=po]")
    # skip logic: the reason for less teaching time appears only with the time deviation
    why = page.locator("#q-l4_dev_time_why")
    assert why.is_hidden()
    page.check("input[name=l4_deviations][value=time]")
    why.wait_for(state="visible")
    page.fill("#f-l4_dev_time_why", "Opbouw van 6 naar 12 uur")
    page.uncheck("input[name=l4_deviations][value=time]")
    page.locator("#q-l4_dev_time_why").wait_for(state="hidden")
    page.check("input[name=l4_deviations][value=location]")
    # a constraint: at most 40 hours; the message appears next to the field (htmx)
    page.fill("#f-l4_hours", "50")
    page.locator("#f-l4_hours").blur()
    page.wait_for_function("document.querySelector('#err-l4_hours').textContent.includes('40')")
    page.check("input[name=l4_targets][value=long_term_absent]")
    page.check("input[name=l4_locations][value=separate_class]")
    shot(page, "survey-answer", tmp_path)
    page.get_by_role("button", name="Concept opslaan").click()
    page.wait_for_selector(".messages li")
    assert "40" in page.locator("#err-l4_hours").inner_text()  # saved, the error shown
    page.fill("#f-l4_hours", "12,5")
    page.get_by_role("button", name="Concept opslaan").click()
    submitted(page, part)
    assert "Concept opgeslagen" in page.locator(".messages").inner_text()
    page.context.close()

    # a new session (the old one expired): the draft is there, the skipped answer is not
    page = page_for("schoolA")
    page.goto(part)
    assert page.locator("#f-l4_hours").input_value() == "12,5"
    assert page.locator("input[name=l4_deviations][value=location]").is_checked()
    assert page.locator("#q-l4_dev_time_why").is_hidden()
    assert page.locator("#f-l4_dev_time_why").input_value() == ""
    page.get_by_role("button", name="Indienen").click()
    page.wait_for_selector("#error-summary:not(:empty)")  # required answers are missing
    for name, value in (("l4_core_obj", "dutch"), ("l4_curriculum", "adapted"),
                        ("l4_outflow", "mbo"), ("om_measures", "attendance"),
                        ("l4_promise", "small_groups")):
        page.check(f"input[name={name}][value={value}]")
    page.check("input[name=l4_ref_level][value=f1]")
    page.check("input[name=l4_teacher][value=always]")
    page.fill("#f-l4_capacity", "12")
    page.locator("#f-l4_capacity").blur()
    page.locator("#q-om_frequency").wait_for(state="visible")
    page.check("input[name=om_frequency][value=monthly]")
    page.get_by_role("button", name="Indienen").click()
    submitted(page, f"{site}/survey/")
    assert "Ingediend" in page.locator(".messages").inner_text()

    from ozamonitor.web.survey.models import Response

    r = Response.objects.get(arrangement__code="OZAA", part="level4")
    assert r.status == "submitted" and r.answers["l4_hours"] == 12.5
    assert "l4_dev_time_why" not in r.answers

    study = page_for("study")
    study.goto(f"{site}/survey/waves/2024/")
    assert "OZAA · level1" in study.content()
    shot(study, "survey-wave", tmp_path, full=True)
