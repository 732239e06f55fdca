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
and administrators only; see ``core/views.py``). Given a ``reader`` that is not
an administrator (the study team), it keeps only the models whose access rules
let the study team read every row (``study_team_reads``: no case files) and
shows every user, as author or as a field value, by a stable pseudonym.
"""

from __future__ import annotations

import hashlib
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
    "readable_models",
    "user_pseudonym",
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


def user_pseudonym(user_id: int | None, *, purpose: str = "user", prefix: str = "U-",
                   digits: int = 8) -> str:
    """A stable pseudonym of a user (keyed by the site's secret) for pseudonymised pages.

    ``purpose`` separates pseudonyms of the same user on different pages (the survey's
    respondents use ``purpose="respondent", prefix="R-", digits=6``); "" for no user.
    """
    from django.conf import settings

    if user_id is None:
        return ""
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{purpose}:{user_id}".encode()).hexdigest()
    return prefix + digest[:digits]


def _is_user_field(field: Any) -> bool:
    from django.contrib.auth import get_user_model

    return bool(field.is_relation and field.related_model is get_user_model())


def _field_value(record: Any, field: Any, pseudonymise: bool = False) -> Any:
    """A field's value for display: a related object's name rather than its id."""
    if pseudonymise and _is_user_field(field):
        return user_pseudonym(getattr(record, field.attname)) or None
    if field.is_relation:
        try:
            obj = getattr(record, field.name)
        except Exception:  # the related row is gone; show its id
            return getattr(record, field.attname)
        return str(obj) if obj is not None else None
    return getattr(record, field.attname)


def _changes(record: Any, pseudonymise: bool = False) -> tuple[tuple[str, Any, Any], ...]:
    fields = {f.attname: f for f in record.instance_type._meta.concrete_fields}
    if record.history_type == "+":
        out = []
        for attname, f in fields.items():
            if attname in _SKIP or getattr(record, attname, None) in (None, "", [], {}):
                continue
            out.append((f.name, None, _field_value(record, f, pseudonymise)))
        return tuple(out)
    if record.history_type == "-":
        return ()
    prev = record.prev_record
    if prev is None:
        return ()
    delta = record.diff_against(prev, foreign_keys_are_objs=True)
    by_name = {f.name: f for f in fields.values()}

    def shown(value: Any, field: Any) -> Any:
        if value is None:
            return None
        if pseudonymise and field is not None and _is_user_field(field):
            return user_pseudonym(getattr(value, "pk", value))
        return str(value) if hasattr(value, "pk") else value

    return tuple((c.field, shown(c.old, by_name.get(c.field)), shown(c.new, by_name.get(c.field)))
                 for c in delta.changes if c.field not in _SKIP)


def _to_entry(record: Any, pseudonymise: bool = False) -> AuditEntry:
    model = record.instance_type
    user = record.history_user
    if user is None:
        who = ""
    elif pseudonymise:
        who = user_pseudonym(user.pk)
    else:
        who = user.get_username()
    return AuditEntry(
        when=record.history_date,
        user=who,
        model=model._meta.label,
        model_label=str(model._meta.verbose_name),
        object_id=getattr(record, model._meta.pk.attname),
        object_repr=str(record.instance) if record.history_type != "-" else
        getattr(record, "code", None) or getattr(record, "name", None) or str(record.pk),
        action=ACTIONS[record.history_type],
        changes=_changes(record, pseudonymise),
        reason=record.history_change_reason or "",
    )


def history_entries(records: Any) -> list[AuditEntry]:
    """Audit entries of a queryset of historical records (one model's), newest first."""
    return [_to_entry(r) for r in records.select_related("history_user")
            .order_by("-history_date", "-history_id")]


def readable_models(reader: Any) -> list[type[models.Model]]:
    """The audited models whose log ``reader`` may read (all for administrators)."""
    from ozamonitor.web import access

    found = audited_models()
    if reader is None or reader.is_admin:
        return found
    out = []
    for m in found:
        rules = access.rules_for(m)
        if rules is not None and rules.study_team_reads and reader.is_study_team:
            out.append(m)
    return out


def entries(*, model: str | None = None, object_id: Any = None, user: str | None = None,
            limit: int | None = None, offset: int = 0,
            reader: Any = None) -> Iterator[AuditEntry]:
    """The audit log, newest first, across every audited model.

    Parameters
    ----------
    model : str, optional
        A model label (``registry.Arrangement``) to keep.
    object_id : optional
        Keep one object's history (with ``model``).
    user : str, optional
        Keep the changes of one username (of one pseudonym for a pseudonymised reader).
    limit, offset : int, optional
        A page of the log.
    reader : ozamonitor.web.access.Principal, optional
        Who reads the log. An administrator (or None: commands) reads everything as it
        is; anyone else reads only the models the study team may read row by row, with
        every user pseudonymised.
    """
    pseudonymise = reader is not None and not reader.is_admin
    user_ids: list[int] | None = None
    if user and pseudonymise:
        from django.contrib.auth import get_user_model

        user_ids = [pk for pk in get_user_model().objects.values_list("pk", flat=True)
                    if user_pseudonym(pk) == user]
    streams = []
    for m in readable_models(reader):
        if model and m._meta.label != model:
            continue
        qs = m.history.select_related("history_user").order_by("-history_date", "-history_id")
        if object_id is not None:
            qs = qs.filter(**{m._meta.pk.attname: object_id})
        if user_ids is not None:
            qs = qs.filter(history_user_id__in=user_ids)
        elif user:
            qs = qs.filter(history_user__username=user)
        if limit is not None:
            qs = qs[: offset + limit]
        streams.append(qs.iterator(chunk_size=500))
    merged = heapq.merge(*streams, key=lambda r: (r.history_date, r.history_id), reverse=True)
    stop = None if limit is None else offset + limit
    for record in itertools.islice(merged, offset, stop):
        yield _to_entry(record, pseudonymise)
