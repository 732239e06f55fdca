"""Compile the web application's translations: ``python -m ozamonitor.web.i18n``.

The Dutch catalogue ``locale/nl/LC_MESSAGES/django.po`` is the source; the
compiled ``django.mo`` beside it is committed, so a clean checkout (and an
installed wheel) has working Dutch without GNU gettext. After editing the
``.po`` file (or after ``django-admin makemessages -l nl`` from
``src/ozamonitor/web``), run this module; a test fails when the two differ
or a message lacks its Dutch text. Needs ``polib`` (in the ``dev`` extra).
"""

from __future__ import annotations

from pathlib import Path

LOCALE = Path(__file__).resolve().parent / "locale"
#: The catalogues of apps that keep their own (``<app>/locale``), compiled with the core's.
APP_LOCALES = sorted(Path(__file__).resolve().parent.glob("*/locale"))


def compile_catalogues(locale: Path = LOCALE) -> list[Path]:
    """Compile every ``.po`` under ``locale`` to its ``.mo``; return the ``.mo`` files."""
    import polib

    out = []
    for po_path in sorted(locale.glob("*/LC_MESSAGES/*.po")):
        po = polib.pofile(str(po_path))
        po.metadata_is_fuzzy = False
        mo = po_path.with_suffix(".mo")
        po.save_as_mofile(str(mo))
        out.append(mo)
    return out


if __name__ == "__main__":  # pragma: no cover
    for loc in (LOCALE, *APP_LOCALES):
        for path in compile_catalogues(loc):
            print(path)
