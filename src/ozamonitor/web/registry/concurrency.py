"""Optimistic concurrency: a stale form's save is refused with a clear message.

Every editable record carries ``version``; a form sends back the version it
was opened with. :func:`save_if_current` re-reads the row inside a write
transaction (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite connections start
write transactions with ``BEGIN IMMEDIATE``, see ``web/dburl.py``), refuses the
save when the version moved on, and otherwise saves with ``version + 1``
through ``save()`` so the audit log records it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ozamonitor.errors import OzamonitorError


class StaleEditError(OzamonitorError):
    """Someone saved the record after this form was opened."""

    def __init__(self, obj: Any, current: int | None) -> None:
        self.obj = obj
        self.current = current
        super().__init__(conflict_message(obj))


def conflict_message(obj: Any) -> str:
    """The message shown above a stale form."""
    last = obj.history.first() if obj.pk else None
    who = last.history_user.get_username() if last and last.history_user else _("someone")
    return _("%(who)s changed this record after you opened the form. Your changes were not "
             "saved: reload the page to see the current version, then make your changes "
             "again.") % {"who": who}


def save_if_current(obj: Any, version: int | None,
                    after: Callable[[Any], None] | None = None) -> Any:
    """Save ``obj`` if its row still has ``version``; raise :class:`StaleEditError` otherwise.

    ``after(obj)`` runs in the same transaction (e.g. saving a formset).
    """
    model = type(obj)
    with transaction.atomic():
        current = (model.objects.select_for_update().filter(pk=obj.pk)
                   .values_list("version", flat=True).first())
        if obj.pk is not None and (current is None or version is None or current != version):
            raise StaleEditError(obj, current)
        obj.version = (current or 0) + 1 if obj.pk is not None else 1
        obj.save()
        if after is not None:
            after(obj)
    return obj
