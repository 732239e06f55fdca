"""The audit log shared by every app: who changed what, when, before and after.

Models the field edits carry ``history = HistoricalRecords()``
(django-simple-history) and derive from :class:`AuditedModel`. simple-history
records ``save()`` and ``delete()`` (through signals), not
``QuerySet.update()``, ``bulk_update()`` or ``bulk_create()``; an
:class:`AuditedModel`'s manager refuses those three, so no change can bypass
the log by accident. The user is taken from the request
(``HistoryRequestMiddleware``; the API's Bearer auth sets ``request.user``);
commands set ``obj._history_user`` before saving.

:func:`entries` lists the log across every audited model (newest first) with
the changed fields, for the audit page and its CSV/xlsx export (study team
and administrators only; see ``core/views.py``).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models

__all__ = [
    "AuditBypassError",
    "AuditEntry",
    "AuditedModel",
    "audited_models",
    "entries",
    "history_entries",
]

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


class AuditBypassError(TypeError):
    """A bulk write that the audit log would not record."""


class AuditedQuerySet(models.QuerySet):
    """A queryset whose bulk writes (invisible to simple-history) are refused."""

    def update(self, **kwargs: Any) -> int:
        raise AuditBypassError(
            f"{self.model.__name__}: QuerySet.update() bypasses the audit log; "
            "change each object and call save()")

    def bulk_update(self, objs: Any, fields: Any, batch_size: Any = None) -> int:
        raise AuditBypassError(
            f"{self.model.__name__}: bulk_update() bypasses the audit log; call save()")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> Any:
        raise AuditBypassError(
            f"{self.model.__name__}: bulk_create() bypasses the audit log; call save()")


class AuditedManager(models.Manager.from_queryset(AuditedQuerySet)):  # type: ignore[misc]
    """Manager of audited models."""


class AuditedModel(models.Model):
    """Abstract base of every model whose changes must be audited."""

    objects = AuditedManager()

    class Meta:
        abstract = True


def audited_models() -> list[type[models.Model]]:
    """Every installed model with a simple-history ``history`` manager, by label."""
    from django.apps import apps
    from simple_history.manager import HistoryManager

    out = [m for m in apps.get_models() if isinstance(getattr(m, "history", None), HistoryManager)]
    return sorted(out, key=lambda m: m._meta.label)


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log."""

    when: datetime
    user: str
    model: str
    model_label: str
    object_id: Any
    object_repr: str
    action: str
    changes: tuple[tuple[str, Any, Any], ...]
    reason: str


_SKIP = {"id", "version", "updated_at"}


def _field_value(record: Any, field: Any) -> Any:
    """A field's value for display: a related object's name rather than its id."""
    if field.is_relation:
        try:
            obj = getattr(record, field.name)
        except Exception:  # the related row is gone; show its id
            return getattr(record, field.attname)
        return str(obj) if obj is not None else None
    return getattr(record, field.attname)


def _changes(record: Any) -> tuple[tuple[str, Any, Any], ...]:
    fields = {f.attname: f for f in record.instance_type._meta.concrete_fields}
    if record.history_type == "+":
        out = []
        for attname, f in fields.items():
            if attname in _SKIP or getattr(record, attname, None) in (None, "", [], {}):
                continue
            out.append((f.name, None, _field_value(record, f)))
        return tuple(out)
    if record.history_type == "-":
        return ()
    prev = record.prev_record
    if prev is None:
        return ()
    delta = record.diff_against(prev, foreign_keys_are_objs=True)
    return tuple((c.field, None if c.old is None else (c.old if not hasattr(c.old, "pk")
                                                      else str(c.old)),
                  None if c.new is None else (c.new if not hasattr(c.new, "pk")
                                              else str(c.new)))
                 for c in delta.changes if c.field not in _SKIP)


def _to_entry(record: Any) -> AuditEntry:
    model = record.instance_type
    user = record.history_user
    return AuditEntry(
        when=record.history_date,
        user=user.get_username() if user is not None else "",
        model=model._meta.label,
        model_label=str(model._meta.verbose_name),
        object_id=getattr(record, model._meta.pk.attname),
        object_repr=str(record.instance) if record.history_type != "-" else
        getattr(record, "code", None) or getattr(record, "name", None) or str(record.pk),
        action=ACTIONS[record.history_type],
        changes=_changes(record),
        reason=record.history_change_reason or "",
    )


def history_entries(records: Any) -> list[AuditEntry]:
    """Audit entries of a queryset of historical records (one model's), newest first."""
    return [_to_entry(r) for r in records.select_related("history_user")
            .order_by("-history_date", "-history_id")]


def entries(*, model: str | None = None, object_id: Any = None, user: str | None = None,
            limit: int | None = None, offset: int = 0) -> Iterator[AuditEntry]:
    """The audit log, newest first, across every audited model.

    Parameters
    ----------
    model : str, optional
        A model label (``registry.Arrangement``) to keep.
    object_id : optional
        Keep one object's history (with ``model``).
    user : str, optional
        Keep the changes of one username.
    limit, offset : int, optional
        A page of the log.
    """
    streams = []
    for m in audited_models():
        if model and m._meta.label != model:
            continue
        qs = m.history.select_related("history_user").order_by("-history_date", "-history_id")
        if object_id is not None:
            qs = qs.filter(**{m._meta.pk.attname: object_id})
        if user:
            qs = qs.filter(history_user__username=user)
        if limit is not None:
            qs = qs[: offset + limit]
        streams.append(qs.iterator(chunk_size=500))
    merged = heapq.merge(*streams, key=lambda r: (r.history_date, r.history_id), reverse=True)
    stop = None if limit is None else offset + limit
    for record in itertools.islice(merged, offset, stop):
        yield _to_entry(record)
