"""Translations: Dutch first, every message translated, the committed .mo matches the .po."""

from __future__ import annotations

import gettext

import polib
import pytest
from django.test import Client

from ozamonitor.web.i18n import LOCALE


def test_every_message_has_dutch_and_the_mo_is_current() -> None:
    po_path = LOCALE / "nl" / "LC_MESSAGES" / "django.po"
    po = polib.pofile(str(po_path))
    untranslated = [e.msgid for e in po if not e.msgstr and not e.obsolete]
    fuzzy = [e.msgid for e in po if "fuzzy" in e.flags]
    assert not untranslated and not fuzzy
    with (po_path.with_suffix(".mo")).open("rb") as f:
        mo = gettext.GNUTranslations(f)
    stale = [e.msgid for e in po if not e.obsolete and mo.gettext(e.msgid) != e.msgstr]
    assert not stale, f"run `python -m ozamonitor.web.i18n`; stale: {stale[:5]}"


@pytest.mark.django_db
def test_dutch_by_default_english_on_request() -> None:
    client = Client()
    page = client.get("/accounts/login/").content.decode()
    assert 'lang="nl"' in page and "Aanmelden" in page
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="en"' in page and "Log in" in page
