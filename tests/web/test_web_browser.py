"""Browser tests: Playwright driving Debian's Chromium against a live server.

Log in, create an initiative with an arrangement, watch the Besluit checklist fail and
then pass, role isolation, and the audit trail of the change. With
``OZAMONITOR_DOCS_SCREENSHOTS=1`` the screenshots go to ``docs/img/`` (the docs use them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fixtures_web import DOCS_IMG, PDF

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



@pytest.fixture
def site(live_server, settings):
    settings.SESSION_COOKIE_SECURE = False  # the live server speaks plain HTTP
    settings.CSRF_COOKIE_SECURE = False
    return live_server.url


@pytest.fixture
def page_for(browser, site, tmp_path):
    pages = []

    def open_as(username: str, locale: str = "nl-NL"):
        ctx = browser.new_context(viewport={"width": 1100, "height": 760}, locale=locale)
        page = ctx.new_page()
        page.goto(f"{site}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", f"pw-{username}")
        page.click("main button[type=submit]")
        page.wait_for_url(f"{site}/")
        pages.append(ctx)
        return page

    yield open_as
    for ctx in pages:
        ctx.close()


def submitted(page, url: str) -> None:
    """Wait for ``url``; on a form error, fail with the page's error messages."""
    try:
        page.wait_for_url(url, timeout=10_000)
    except Exception:
        errors = page.locator(".errorlist, .conflict").all_inner_texts()
        raise AssertionError(f"not at {url} but {page.url} ({page.title()}): {errors}") from None


def shot(page, name: str, tmp_path: Path, full: bool = False) -> None:
    """Screenshot ``page``. A full-page shot only after the last interaction: in headless
    Chromium it leaves the page's metrics changed, and later clicks miss their target."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=full)
    if os.environ.get("OZAMONITOR_DOCS_SCREENSHOTS"):
        from PIL import Image  # Pillow comes with matplotlib

        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        with Image.open(path) as img:  # a small palette PNG for the docs
            img.convert("RGB").quantize(colors=48).save(DOCS_IMG / f"web-{name}.png",
                                                         optimize=True)


def test_create_initiative_and_see_the_checklist_fail_then_pass(world, page_for, site,
                                                                 tmp_path: Path) -> None:
    page = page_for("swvA")
    shot(page, "home", tmp_path)
    page.goto(f"{site}/registry/initiatives/")
    shot(page, "initiatives", tmp_path)
    page.click("text=Nieuw initiatief")
    page.fill("#id_code", "INI42")
    page.fill("#id_name", "Thuisnabij leren")
    page.select_option("#id_applicant", label="Org PO01 (PO01)")
    page.select_option("#id_swv", label="Org PO01 (PO01)")
    page.fill("#id_received_by_duo", "2023-07-20")
    page.check("input[name=contains_personal_data][value=false]")
    page.check("input[name=pupils_enrolled][value=true]")
    page.select_option("#id_co-0-kind", "school")
    page.fill("#id_co-0-name", "Basisschool A")
    page.select_option("#id_co-1-kind", "care_provider")
    page.fill("#id_co-1-name", "Zorgaanbieder A")
    page.select_option("#id_co-1-financier", "gemeente")
    # the live checklist (htmx) follows the form as it is filled in
    page.wait_for_selector("#live-checks [data-condition=received_by_deadline][data-status=pass]")
    assert page.locator("#live-checks [data-condition=project_plan][data-status=fail]").count()
    page.fill("#id_received_by_duo", "2023-08-02")
    page.wait_for_selector("#live-checks [data-condition=received_by_deadline][data-status=fail]")
    page.fill("#id_received_by_duo", "2023-07-20")
    page.wait_for_selector("#live-checks [data-condition=received_by_deadline][data-status=pass]")
    shot(page, "initiative-form", tmp_path)
    page.click("main button[type=submit]")
    submitted(page, f"{site}/registry/initiatives/INI42/")
    fails = page.locator("#checklist [data-status=fail]")
    assert fails.count() >= 3  # no documents, no arrangement
    assert page.locator("[data-condition=project_plan][data-status=fail]").count() == 1
    page.click("text=Arrangement toevoegen")
    page.wait_for_url("**/arrangements/new/?initiative=INI42")
    page.fill("#id_code", "OZA420")
    page.fill("#id_name", "Klas op de zorgboerderij")
    page.select_option("#id_sector", "po")
    page.select_option("#id_type", "intermediate_provision")
    page.check("input[name=locations][value=care_farm]")
    page.check("input[name=deviations][value=location]")
    page.check("input[name=deviations][value=time]")
    page.check("input[name=target_groups][value=long_term_absent]")
    page.check("input[name=support_needs][value=mental_health]")
    page.fill("#id_teaching_hours_per_week", "12")
    page.fill("#id_swv_spend_eur", "40000")
    page.select_option("#id_pt-0-organisation", label="Org ZA-A (ZA-A)")
    page.select_option("#id_pt-0-role", "care_provider")
    page.select_option("#id_pt-0-financier", "gemeente")
    shot(page, "arrangement-form", tmp_path)
    page.get_by_role("button", name="Opslaan").click()
    submitted(page, f"{site}/registry/arrangements/OZA420/")
    shot(page, "arrangement", tmp_path)
    page.goto(f"{site}/registry/initiatives/INI42/")
    for kind in ("cooperation_agreement", "project_plan", "mr_advice"):
        page.select_option("#id_kind", kind)
        page.set_input_files("#id_file", files=[{"name": f"{kind}.pdf",
                                                 "mimeType": "application/pdf",
                                                 "buffer": PDF}])
        page.click("text=Uploaden")
        page.wait_for_url(f"{site}/registry/initiatives/INI42/")
    assert page.locator("#checklist [data-status=fail]").count() == 0
    assert page.locator("#checklist [data-status=pass]").count() == 14
    shot(page, "initiative", tmp_path, full=True)


def test_role_isolation_in_the_browser(world, page_for, site) -> None:
    page = page_for("swvA")
    page.goto(f"{site}/registry/arrangements/")
    assert page.locator("text=OZAA").count() >= 1
    assert page.locator("text=OZAB").count() == 0
    resp = page.goto(f"{site}/registry/arrangements/OZAB/")
    assert resp.status == 404 and "Niet gevonden" in page.content()
    resp = page.goto(f"{site}/audit/")
    assert resp.status == 403


def test_audit_trail_of_a_change(world, page_for, site, tmp_path: Path) -> None:
    page = page_for("swvA")
    page.goto(f"{site}/registry/arrangements/OZAA/edit/")
    page.fill("#id_name", "Klas De Linde")
    page.fill("#id_capacity", "15")
    page.click("main form.stack button[type=submit]")
    submitted(page, f"{site}/registry/arrangements/OZAA/")
    study = page_for("study", locale="en-GB")
    study.goto(f"{site}/audit/")
    row = study.locator("table.audit tbody tr").first
    text = row.inner_text()
    from ozamonitor.web.audit import user_pseudonym

    # the study team reads the log pseudonymised (administrators see the username)
    assert user_pseudonym(world.users["swvA"].pk) in text and "swvA" not in text
    assert "Arrangement A → Klas De Linde" in text and "12 → 15" in text
    shot(study, "audit", tmp_path)
    study.goto(f"{site}/registry/arrangements/OZAA/history/")
    assert "Klas De Linde" in study.content()


def test_htmx_search_filters_without_reload(world, page_for, site) -> None:
    page = page_for("study")
    page.goto(f"{site}/registry/arrangements/")
    assert page.locator("#results tbody tr").count() == 2
    page.fill("#q", "OZAB")
    page.wait_for_function("document.querySelectorAll('#results tbody tr').length === 1")
    assert "OZAB" in page.locator("#results").inner_text()
    assert "q=OZAB" in page.url  # hx-push-url keeps the filter in the address
