"""What the questionnaire's pages and API do, in one place: open a wave, save a part,
count responses, find overdue parts and remind their respondents.

Every rule of the answers themselves (skip logic, checks, completeness,
prefill) is the library's (:mod:`ozamonitor.survey`); this module stores its
results and decides nothing about who may do what (``rules.py`` and
``ozamonitor.web.access`` do).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from ozamonitor.survey.answers import FormState, completeness, evaluate_part
from ozamonitor.survey.instrument import Instrument, load_instrument
from ozamonitor.survey.submissions import prefill
from ozamonitor.web.registry.concurrency import StaleEditError
from ozamonitor.web.survey.models import PARTS, STATUSES, Response, Wave
from ozamonitor.web.survey.questionnaire import stored_answers

PART_NAMES = tuple(p for p, _l in PARTS)
STATUS_LABELS = {**dict(STATUSES), "not_started": gettext_lazy("not started")}


@functools.lru_cache(maxsize=8)
def instrument(version: str | None = None) -> Instrument:
    """A shipped instrument version (cached; loading runs pyxform)."""
    return load_instrument(version)


# ---------------------------------------------------------------- waves


def open_wave(year: int, arrangements: Iterable[Any], *, version: str | None = None,
              deadline: dt.date | None = None, prefill_from_previous: bool = True,
              user: Any = None) -> Wave:
    """Open wave ``year`` for ``arrangements``; start each part from the last submitted one.

    A part answered (submitted) in an earlier wave becomes a draft of this
    wave with those answers, marked as prefilled
    (:func:`ozamonitor.survey.submissions.prefill`); answers the new
    instrument version does not take are dropped.
    """
    inst = instrument(version)
    arrangements = list(arrangements)
    with transaction.atomic():
        wave = Wave(year=year, instrument_version=inst.version, deadline=deadline, is_open=True)
        wave._history_user = user
        wave.save()
        wave.arrangements.set(arrangements)
        if prefill_from_previous:
            prefill_wave(wave, user=user)
    return wave


def prefill_wave(wave: Wave, *, user: Any = None) -> int:
    """Create prefilled drafts of ``wave`` for parts not started yet; return how many."""
    inst = instrument(wave.instrument_version)
    existing = set(wave.responses.values_list("arrangement_id", "part"))
    latest: dict[tuple[int, str], Response] = {}
    for r in (Response.objects.filter(wave__year__lt=wave.year, status="submitted",
                                      arrangement__in=wave.arrangements.all())
              .select_related("wave", "arrangement").order_by("wave__year")):
        latest[(r.arrangement_id, r.part)] = r
    made = 0
    for (arr_id, part), prev in sorted(latest.items()):
        if (arr_id, part) in existing or part not in inst.part_names:
            continue
        sub = prefill(prev.submission(), wave=wave.year, instrument=inst)
        r = Response(wave=wave, arrangement_id=arr_id, part=part,
                     instrument_version=inst.version, answers=sub.answers,
                     prefilled=sorted(sub.prefilled), respondent_role=prev.respondent_role)
        _set_counts(r, inst)
        r._history_user = user
        r.save()
        made += 1
    return made


# ---------------------------------------------------------------- answering


def _set_counts(r: Response, inst: Instrument, state: FormState | None = None) -> None:
    c = completeness(inst, r.part, r.answers, state)
    r.shown, r.answered = c.shown, c.answered


@dataclass
class SaveResult:
    """The outcome of :func:`save_part`."""

    response: Response
    state: FormState
    submitted: bool


def save_part(response: Response, raw: dict[str, Any], *, submit: bool, user: Any,
              role: str, version: int | None) -> SaveResult:
    """Evaluate and store one part; submit it only when the final check passes.

    The answers are always stored (a draft keeps what was entered; skipped
    answers are cleared and answers of the wrong type left out, each with its
    message); ``submit`` turns the part to *submitted* when no field has an
    error, with required answers checked. ``version`` is the response's
    version the form was opened with (:class:`StaleEditError` when someone
    saved in between).
    """
    inst = instrument(response.instrument_version)
    state = evaluate_part(inst, response.part, raw, final=submit)
    answers = stored_answers(inst, state)
    old = response.answers or {}
    response.prefilled = sorted(n for n in (response.prefilled or [])
                                if n in answers and answers[n] == old.get(n))
    response.answers = answers
    ok = submit and state.ok
    response.status = "submitted" if ok else "draft"
    response.submitted_at = timezone.now() if ok else None
    response.respondent_role = role
    response.updated_by = user if getattr(user, "pk", None) else None
    _set_counts(response, inst, evaluate_part(inst, response.part, answers))
    response._history_user = response.updated_by
    with transaction.atomic():
        if response.pk is not None:
            current = (Response.objects.select_for_update().filter(pk=response.pk)
                       .values_list("version", flat=True).first())
            if version is not None and current != version:
                raise StaleEditError(response, current)
            response.version = (current or 0) + 1
        response.save()
    return SaveResult(response, state, ok)


# ---------------------------------------------------------------- overview


@dataclass
class PartCount:
    """Response to one part in one wave."""

    part: str
    label: Any
    expected: int = 0
    submitted: int = 0
    draft: int = 0
    completeness: float = 0.0

    @property
    def not_started(self) -> int:
        """Expected parts without a saved answer."""
        return self.expected - self.submitted - self.draft

    @property
    def rate(self) -> float:
        """Share submitted."""
        return self.submitted / self.expected if self.expected else 0.0


@dataclass
class Overdue:
    """Parts of one SWV's arrangements not yet submitted."""

    swv: Any
    parts: list[tuple[Any, str, str]] = field(default_factory=list)  # (arrangement, part, status)


def response_counts(wave: Wave, arrangements: Any) -> list[PartCount]:
    """Per part: expected, submitted, in draft, not started, mean completeness (of saved ones).

    ``arrangements``: the arrangements of the wave the viewer may see.
    """
    ids = set(arrangements.values_list("pk", flat=True))
    rows = {p: PartCount(p, label, expected=len(ids)) for p, label in PARTS}
    shares: dict[str, list[float]] = defaultdict(list)
    for part, st, shown, answered in wave.responses.filter(arrangement_id__in=ids).values_list(
            "part", "status", "shown", "answered"):
        pc = rows[part]
        if st == "submitted":
            pc.submitted += 1
        else:
            pc.draft += 1
        shares[part].append(answered / shown if shown else 0.0)
    for p, xs in shares.items():
        rows[p].completeness = sum(xs) / len(xs)
    return list(rows.values())


def overdue(wave: Wave, arrangements: Any) -> list[Overdue]:
    """Per SWV, the parts of ``arrangements`` in ``wave`` not submitted (draft or not started)."""
    status = {(a, p): st for a, p, st in
              wave.responses.values_list("arrangement_id", "part", "status")}
    out: dict[int, Overdue] = {}
    for a in arrangements.select_related("swv").order_by("swv__name", "code"):
        for p in PART_NAMES:
            st = status.get((a.pk, p), "not_started")
            if st != "submitted":
                out.setdefault(a.swv_id, Overdue(a.swv)).parts.append((a, p, st))
    return sorted(out.values(), key=lambda o: o.swv.name)


def respondents(arrangement: Any, part: str) -> list[Any]:
    """The active users who answer ``part`` for ``arrangement`` (by their memberships)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from ozamonitor.web.survey.rules import PART_ROLES

    q = Q(pk__in=[])
    for role, partner_role in PART_ROLES[part]:
        if partner_role is None:
            q |= Q(memberships__role=role, memberships__organisation_id=arrangement.swv_id)
        else:
            orgs = list(arrangement.partners.filter(role=partner_role)
                        .values_list("organisation_id", flat=True))
            q |= Q(memberships__role=role, memberships__organisation_id__in=orgs)
            if role == "school_staff":  # a school's board answers for it too
                q |= Q(memberships__role=role, memberships__organisation__children__in=orgs)
    return list(get_user_model().objects.filter(q, is_active=True).distinct().order_by("pk"))


def remind(wave: Wave, arrangements: Any, *, lang: str = "nl") -> int:
    """E-mail every respondent with overdue parts of ``wave`` one list of them.

    Uses Django's mail backend (the console by default; set ``EMAIL_BACKEND``
    and friends for a real server). Users without an e-mail address are
    skipped. Returns the number of messages sent.
    """
    from django.conf import settings
    from django.core.mail import send_mass_mail
    from django.utils import translation
    from django.utils.translation import gettext as _

    todo: dict[Any, list[str]] = defaultdict(list)
    labels = dict(PARTS)
    with translation.override(lang):
        for od in overdue(wave, arrangements):
            for arr, part, st in od.parts:
                for user in respondents(arr, part):
                    if user.email:
                        todo[user].append(f"- {arr.code} {arr.name}: {labels[part]} "
                                          f"({STATUS_LABELS[st]})")
        subject = _("Questionnaire %(year)s: parts still open") % {"year": wave.year}
        deadline = wave.deadline.isoformat() if wave.deadline else _("none")
        msgs = [(subject,
                 _("These parts of the questionnaire are not submitted yet "
                   "(deadline: %(deadline)s):") % {"deadline": deadline}
                 + "\n\n" + "\n".join(lines) + "\n",
                 getattr(settings, "DEFAULT_FROM_EMAIL", None), [user.email])
                for user, lines in todo.items()]
    return send_mass_mail(msgs, fail_silently=False) if msgs else 0
