"""Pages of the case chain. Every queryset goes through ``ozamonitor.web.access``.

State, due steps and timelines come from the library's engine
(:mod:`ozamonitor.casework`) over the stored records; every page that shows a
case records the read (who, when, role, legal basis).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ozamonitor.casework.machine import STATE_LABELS_NL
from ozamonitor.casework.model import CaseEvent as EngineEvent
from ozamonitor.errors import InputError, OzamonitorError
from ozamonitor.web import access
from ozamonitor.web.casework import bridge, exports, importer, rules
from ozamonitor.web.casework.forms import (
    CaseForm,
    ConsentForm,
    DirectorForm,
    EventForm,
    LedgerForm,
    OOGOForm,
    SignalImportForm,
)
from ozamonitor.web.casework.models import Case, CaseEvent, LedgerEntry, OOGOAgreement

#: Status order of a step in the lists (the most urgent first).
_URGENCY = {"overdue": 0, "due": 1, "upcoming": 2}


def asof(request: HttpRequest) -> dt.date:
    """The date the timers are computed for: ``?asof=YYYY-MM-DD`` or today."""
    try:
        return dt.date.fromisoformat(request.GET.get("asof", ""))
    except ValueError:
        return dt.date.today()


def _cases(request: HttpRequest) -> Any:
    return access.visible(request, Case).select_related("gemeente", "swv", "school",
                                                        "director")


def case_list(request: HttpRequest) -> HttpResponse:
    """The cases the user may see with their state and most urgent open step."""
    when = asof(request)
    cases = list(_cases(request).prefetch_related(*bridge.PREFETCH))
    steps = bridge.case_steps(cases, when)
    nxt: dict[str, dict] = {}
    for s in steps:
        if s["status"] in _URGENCY and (s["case_id"] not in nxt or _URGENCY[s["status"]]
                                        < _URGENCY[nxt[s["case_id"]]["status"]]):
            nxt[s["case_id"]] = s
    wanted = request.GET.get("status", "")
    rows = []
    for c in cases:
        if c.opened_on > when:
            continue
        state = next((s["state"] for s in steps if s["case_id"] == c.code), "signalled")
        step = nxt.get(c.code)
        if wanted and (step is None or step["status"] != wanted):
            continue
        rows.append({"case": c, "state": STATE_LABELS_NL[state], "state_code": state,
                     "days": (when - c.start).days, "step": step})
    rows.sort(key=lambda r: (_URGENCY.get(r["step"]["status"], 9) if r["step"] else 9,
                             r["step"]["due"] if r["step"] else dt.date.max, r["case"].code))
    return render(request, "casework/case_list.html", {
        "rows": rows, "asof": when, "status": wanted,
        "can_create": access.can_create(request, Case)})


def due_list(request: HttpRequest) -> HttpResponse:
    """The work list: due and overdue steps per gemeente and SWV (the 3-month alarm first)."""
    when = asof(request)
    cases = list(_cases(request).prefetch_related(*bridge.PREFETCH))
    names = {c.code: c for c in cases}
    steps = [s | {"case": names[s["case_id"]]}
             for s in bridge.case_steps(cases, when, only_open=True)]
    steps.sort(key=lambda s: (_URGENCY[s["status"]], s["step"] != "arbitration", s["due"]))
    by: dict[str, dict[tuple[str, str], dict[str, int]]] = {"gemeente": {}, "swv": {}}
    for s in steps:
        for key, region in (("gemeente", s["case"].gemeente), ("swv", s["case"].swv)):
            label = (region.code, region.name) if region else ("—", _("no SWV"))
            cell = by[key].setdefault(label, {"overdue": 0, "due": 0, "alarm": 0})
            cell[s["status"]] += 1
            cell["alarm"] += s["step"] == "arbitration" and s["status"] == "overdue"
    return render(request, "casework/due_list.html", {
        "steps": steps, "asof": when,
        "by_gemeente": sorted(by["gemeente"].items()), "by_swv": sorted(by["swv"].items())})


@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    """Open a case by hand."""
    access.require_create(request, Case)
    form = CaseForm(request.POST or None, user=request.user,
                    initial={"opened_on": dt.date.today()})
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            case = form.save(commit=False)
            access.require_change(request, case)
            case.source = "manual"
            case.save()
            CaseEvent(case=case, date=case.opened_on, kind="open", actor=request.user,
                      note=_("opened by hand")).save()
        messages.success(request, _("Case %(code)s opened.") % {"code": case.code})
        return redirect(case)
    return render(request, "casework/case_form.html", {"form": form},
                  status=400 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
def case_import(request: HttpRequest) -> HttpResponse:
    """Open cases from an ``ozamonitor signals`` CSV (all or nothing)."""
    access.require_create(request, Case)
    form = SignalImportForm(request.POST or None, request.FILES or None, user=request.user)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            p = access.principal(request.user)
            try:
                sig = importer.read_signals(upload.read(), upload.name)
                gem = form.cleaned_data.get("gemeente")
                res = importer.import_signals(
                    sig, file=upload.name, gemeente=gem.code if gem else None,
                    kinds=form.cleaned_data["kinds"], user=request.user,
                    allowed=lambda g: p.is_admin or g.pk in p.orgs("leerplichtambtenaar"))
            except InputError as e:
                form.add_error("file", str(e))
            else:
                messages.success(request, _("%(n)d cases opened, %(s)d signals of cases that "
                                            "exist already.") % {"n": len(res.created),
                                                                 "s": res.skipped})
                return redirect("casework:list")
    return render(request, "casework/import.html", {"form": form}, status=status)


def case_detail(request: HttpRequest, code: str) -> HttpResponse:
    """One case: state, timers, timeline, consent, ledger, OOGO agreements, read log."""
    case = access.get_visible_or_404(request, _cases(request), code=code)
    rules.record_read(request, case, "page")
    when = asof(request)
    p = access.principal(request.user)
    details = rules.sees_details(p, case)
    can_change = access.can_change(request, case)
    state, label = bridge.state_of(case, when)
    steps = bridge.case_steps([case], when) if case.opened_on <= when else []
    return render(request, "casework/case_detail.html", {
        "case": case, "asof": when, "state": state, "state_label": label,
        "days": (when - case.start).days,
        "steps": steps, "timeline": bridge.timeline_rows(case, when),
        "details": details, "can_change": can_change,
        "consents": access.visible(request, case.consents.select_related("recorded_by")),
        "ledger": access.visible(request, case.ledger.all()),
        "agreements": bridge.agreements_of(
            OOGOAgreement.objects.select_related("region"), case),
        "reads": access.visible(request, case.reads.select_related("user"))[:20],
        "event_form": EventForm(), "director_form": DirectorForm(instance=case),
        "consent_form": ConsentForm(
            initial={"date": dt.date.today()}),
        "ledger_form": LedgerForm(initial={"date": dt.date.today()}),
    })


def _changeable(request: HttpRequest, code: str) -> Case:
    case = access.get_visible_or_404(request, _cases(request), code=code)
    access.require_change(request, case)
    return case


def _form_errors(request: HttpRequest, form: Any) -> None:
    for field, errs in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        messages.error(request, f"{label}: {' '.join(errs)}" if label else " ".join(errs))


@require_POST
def event_add(request: HttpRequest, code: str) -> HttpResponse:
    """Record a step (a transition of the chain) or a record (meeting, offer, ...)."""
    case = _changeable(request, code)
    form = EventForm(request.POST)
    if form.is_valid():
        ev = form.save(commit=False)
        ev.case, ev.actor = case, request.user
        try:
            bridge.check_event(case, EngineEvent(
                date=ev.date, kind=ev.kind, outcome=ev.outcome or None,
                step=ev.step or None, note=ev.note or None))
        except (InputError, ValueError) as e:
            messages.error(request, _("Not recorded: %(e)s") % {"e": getattr(e, "message",
                                                                               str(e))})
        else:
            ev.save()
            messages.success(request, _("Recorded."))
    else:
        _form_errors(request, form)
    return redirect(case)


@require_POST
def director_set(request: HttpRequest, code: str) -> HttpResponse:
    """Set or change the case director and the mandating bodies (audited like every change)."""
    case = _changeable(request, code)
    form = DirectorForm(request.POST, instance=case)
    if form.is_valid():
        form.save()
        messages.success(request, _("Case director saved."))
    else:
        _form_errors(request, form)
    return redirect(case)


@require_POST
def consent_add(request: HttpRequest, code: str) -> HttpResponse:
    """Record consent given or withdrawn by a parent or the child."""
    case = _changeable(request, code)
    form = ConsentForm(request.POST)
    if form.is_valid():
        c = form.save(commit=False)
        c.case, c.recorded_by = case, request.user
        c.save()
        messages.success(request, _("Consent recorded."))
    else:
        _form_errors(request, form)
    return redirect(case)


@require_POST
def ledger_add(request: HttpRequest, code: str) -> HttpResponse:
    """Add a friction-budget entry to a case."""
    case = _changeable(request, code)
    form = LedgerForm(request.POST, case=case)
    if form.is_valid():
        e = form.save(commit=False)
        e.case = case
        e.save()
        messages.success(request, _("Ledger entry added."))
    else:
        _form_errors(request, form)
    return redirect(case)


def ledger_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The friction-budget ledger of the visible cases (``?case=`` one case), CSV or Excel."""
    cases = access.visible(request, Case).filter(
        pk__in=access.visible(request, LedgerEntry).values("case"))
    if request.GET.get("case"):
        cases = cases.filter(code=request.GET["case"])
    if fmt not in ("csv", "xlsx"):
        raise Http404
    cases = list(cases.select_related("gemeente", "swv", "director")
                 .prefetch_related(*bridge.PREFETCH))
    for c in cases:
        rules.record_read(request, c, "export")
    return exports.ledger_response(cases, fmt)


def oogo_list(request: HttpRequest) -> HttpResponse:
    """The regional OOGO agreements, and a form to record one."""
    qs = access.visible(request, OOGOAgreement).select_related("region")
    can_create = access.can_create(request, OOGOAgreement)
    form = OOGOForm(request.POST or None, user=request.user) if can_create else None
    if request.method == "POST":
        access.require_create(request, OOGOAgreement)
        if form is not None and form.is_valid():
            obj = form.save(commit=False)
            access.require_change(request, obj)
            obj.save()
            messages.success(request, _("Agreement recorded."))
            return redirect("casework:oogo")
    return render(request, "casework/oogo.html", {"agreements": qs, "form": form},
                  status=400 if request.method == "POST" else 200)


@access.role_required("study_team")
def counts(request: HttpRequest) -> HttpResponse:
    """Pseudonymised, disclosure-controlled counts of cases per gemeente and state."""
    when = asof(request)
    try:
        table = exports.case_counts(Case.objects.select_related("gemeente", "swv")
                                    .prefetch_related(*bridge.PREFETCH), when)
    except OzamonitorError as e:
        messages.error(request, str(e))
        table = None
    rows = table.rows() if table is not None else []
    return render(request, "casework/counts.html", {"rows": rows, "asof": when})

