"""Translated labels of the engine's codes (states, steps, statuses, timeline kinds)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from ozamonitor.web.casework.models import EVENT_LABELS, OUTCOME_LABELS

register = template.Library()

LABELS: dict[str, Any] = {
    # states
    "signalled": _("signalled"), "opened": _("opened"), "mdt": _("multidisciplinary team"),
    "casusregie": _("case director"), "doorbraak": _("breakthrough team"),
    "arbitration": _("binding arbitration"), "resolved": _("resolved"), "closed": _("closed"),
    # steps
    "consent": _("consent"),
    # statuses
    "done": _("done"), "done_late": _("done late"), "waived": _("waived"),
    "not_needed": _("not needed"), "overdue": _("overdue"), "due": _("due"),
    "upcoming": _("upcoming"),
    # timeline kinds
    "episode_start": _("first day of absence"), "deadline": _("deadline"),
    "ledger": _("friction budget"),
    # count measures
    "cases": _("cases"), "alarm_overdue": _("3-month alarm overdue"),
    **EVENT_LABELS, **OUTCOME_LABELS,
}


@register.filter
def label(code: Any) -> Any:
    """The translated label of an engine code (the code itself when unknown)."""
    return LABELS.get(code, code) if code is not None else ""


@register.filter
def deadline_parts(what: str) -> tuple[str, str]:
    """``"casusregie: overdue"`` -> the step's and the status's labels."""
    step, _sep, status = (what or "").partition(": ")
    return LABELS.get(step, step), LABELS.get(status, status)
