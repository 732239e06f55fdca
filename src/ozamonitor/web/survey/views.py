"""Pages of the questionnaire. Every queryset goes through ``ozamonitor.web.access``."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ozamonitor.web import access, audit
from ozamonitor.web.registry.concurrency import StaleEditError
from ozamonitor.web.registry.models import Arrangement
from ozamonitor.web.survey import questionnaire, rules, service
from ozamonitor.web.survey.forms import WaveForm
from ozamonitor.web.survey.models import PARTS, Response, Wave

EXPORT_FORMATS = ("csv", "xlsx", "sav", "dta")


def _lang() -> str:
    return "en" if (get_language() or "nl").startswith("en") else "nl"


def pseudonym(user_id: int | None) -> str:
    """A stable pseudonym of a respondent for the study team's pages."""
    if user_id is None:
        return "—"
    return audit.user_pseudonym(user_id, purpose="respondent", prefix="R-", digits=6)


def _wave_arrangements(request: HttpRequest, wave: Wave) -> Any:
    return access.visible(request, Arrangement).filter(survey_waves=wave)


# --------------------------------------------------------------------------- overview

def index(request: HttpRequest) -> HttpResponse:
    """Waves with the response rate (study team) or the user's own parts to answer."""
    p = access.principal(request.user)
    waves = list(access.visible(request, Wave).order_by("-year").distinct())
    todo = []
    for wave in waves:
        if not wave.is_open:
            continue
        status = {(r.arrangement_id, r.part): r for r in
                  access.visible(request, Response.objects.filter(wave=wave))}
        for arr in _wave_arrangements(request, wave).order_by("code"):
            for part in rules.parts_for(p, arr):
                todo.append((wave, arr, part, dict(PARTS)[part], status.get((arr.pk, part))))
    counts = {w.year: service.response_counts(w, _wave_arrangements(request, w))
              for w in waves} if p.reads_all else {}
    return render(request, "survey/index.html", {
        "waves": [(w, counts.get(w.year)) for w in waves], "todo": todo,
        "can_open": access.can_create(request, Wave), "reads_all": p.reads_all})


@require_http_methods(["GET", "POST"])
def wave_new(request: HttpRequest) -> HttpResponse:
    """Open a wave (study team)."""
    access.require_create(request, Wave)
    form = WaveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        wave = service.open_wave(d["year"], form.chosen(), version=d["instrument_version"],
                                 deadline=d["deadline"], prefill_from_previous=d["prefill"],
                                 user=request.user)
        messages.success(request, _("Wave %(year)s is open.") % {"year": wave.year})
        return redirect(wave)
    return render(request, "survey/wave_form.html", {"form": form},
                  status=400 if form.is_bound else 200)


def wave_detail(request: HttpRequest, year: int) -> HttpResponse:
    """Response and completeness per part, overdue parts per SWV, exports."""
    wave = access.get_visible_or_404(request, Wave, year=year)
    arrs = _wave_arrangements(request, wave)
    p = access.principal(request.user)
    return render(request, "survey/wave_detail.html", {
        "wave": wave, "counts": service.response_counts(wave, arrs),
        "overdue": service.overdue(wave, arrs), "n_arrangements": arrs.count(),
        "can_change": access.can_change(request, wave), "reads_all": p.reads_all,
        "formats": EXPORT_FORMATS})


@require_POST
def wave_toggle(request: HttpRequest, year: int) -> HttpResponse:
    """Close or reopen a wave (study team)."""
    wave = access.get_visible_or_404(request, Wave, year=year)
    access.require_change(request, wave)
    wave.is_open = not wave.is_open
    wave.save()
    return redirect(wave)


@require_POST
def wave_remind(request: HttpRequest, year: int) -> HttpResponse:
    """E-mail the respondents of overdue parts (study team)."""
    wave = access.get_visible_or_404(request, Wave, year=year)
    access.require_change(request, wave)
    n = service.remind(wave, _wave_arrangements(request, wave), lang=_lang())
    messages.success(request, _("%(n)d reminders sent.") % {"n": n})
    return redirect(wave)


@access.role_required("study_team")
def wave_export(request: HttpRequest, year: int, fmt: str) -> HttpResponse:
    """The wave's submitted answers for researchers: a zip with the wide table, one table
    per repeat and the codebook (SPSS and Stata with variable and value labels)."""
    from ozamonitor.survey.export import export

    if fmt not in EXPORT_FORMATS:
        raise Http404
    wave = access.get_visible_or_404(request, Wave, year=year)
    subs = [r.submission() for r in access.visible(request, wave.responses.all())
            .select_related("wave", "arrangement")]
    inst = service.instrument(wave.instrument_version)
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="ozm-export-") as tmp:
        out = Path(tmp) / f"oza-survey-{wave.year}.{fmt}"
        files = export(subs, out, fmt=fmt, instrument=inst, lang=_lang())  # type: ignore[arg-type]
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in files:
                zf.write(f, f.name)
    resp = HttpResponse(buf.getvalue(), content_type="application/zip")
    resp["Content-Disposition"] = f'attachment; filename="oza-survey-{wave.year}-{fmt}.zip"'
    return resp


# --------------------------------------------------------------------------- answering

def find_response(request: HttpRequest, year: int, code: str, part: str) -> Response:
    """The response to show (an unsaved one when the part is not started); 404 when the
    user may not see it."""
    wave = access.get_visible_or_404(request, Wave, year=year)
    arr = access.get_visible_or_404(request, _wave_arrangements(request, wave), code=code)
    if part not in service.PART_NAMES:
        raise Http404
    row = Response.objects.filter(wave=wave, arrangement=arr, part=part).first()
    p = access.principal(request.user)
    if row is not None:
        return access.get_visible_or_404(request, Response, pk=row.pk)
    if not p.reads_all and part not in rules.parts_for(p, arr):
        raise Http404
    return Response(wave=wave, arrangement=arr, part=part,
                    instrument_version=wave.instrument_version)


def _version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, year: int, code: str, part: str) -> HttpResponse:
    """One part of the questionnaire: fill in, check (htmx), save a draft, submit."""
    resp = find_response(request, year, code, part)
    editable = access.can_change(request, resp)
    inst = service.instrument(resp.instrument_version)
    raw: dict[str, Any] = dict(resp.answers or {})
    state, status, conflict = None, 200, ""
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        raw = questionnaire.answers_from_post(inst, part, request.POST)
        action = request.POST.get("action", "check")
        if action in ("save", "submit"):
            p = access.principal(request.user)
            try:
                res = service.save_part(resp, raw, submit=action == "submit",
                                        user=request.user,
                                        role=rules.role_for(p, resp.arrangement, part),
                                        version=_version(request))
            except StaleEditError as e:
                conflict, status = str(e), 409
            else:
                state, resp = res.state, res.response
                if res.submitted:
                    messages.success(request, _("Submitted. Thank you."))
                    return redirect("survey:index")
                if action == "save" and state.ok:
                    messages.success(request, _("Draft saved."))
                    return redirect(resp)
                messages.warning(request, _("Saved as a draft. Correct the marked answers "
                                            "before submitting."))
                status = 400 if action == "submit" else 200
        else:
            raw = questionnaire.apply_action(raw, action)
    if state is None:
        state = questionnaire.evaluate(inst, part, raw)
    items = questionnaire.layout(inst, part, raw, state, lang=_lang(),
                                 prefilled=set(resp.prefilled or []))
    ctx = {"response": resp, "items": items, "state": state, "editable": editable,
           "conflict": conflict, "part_label": dict(PARTS)[part],
           "title": inst.title(_lang()), "n_errors": len(state.errors),
           "respondent": pseudonym(resp.updated_by_id),
           "reads_all": access.principal(request.user).reads_all,
           "history": _history(request, resp), "parts": _parts(request, resp)}
    partial = request.headers.get("HX-Request") == "true"
    tpl = "survey/_check.html" if partial else "survey/answer.html"
    return render(request, tpl, ctx, status=status)


def _parts(request: HttpRequest, resp: Response) -> list[dict[str, Any]]:
    """The parts of this arrangement and wave the user may see, with status and completeness."""
    p = access.principal(request.user)
    mine = service.PART_NAMES if p.reads_all else rules.parts_for(p, resp.arrangement)
    rows = {r.part: r for r in Response.objects.filter(wave=resp.wave,
                                                       arrangement=resp.arrangement)}
    return [{"part": part, "label": label, "row": rows.get(part), "current": part == resp.part}
            for part, label in PARTS if part in mine]


def _history(request: HttpRequest, resp: Response) -> list[dict[str, Any]]:
    """Who saved this part when, and which answers each save changed (the study team
    sees pseudonyms)."""
    if resp.pk is None:
        return []
    reads_all = access.principal(request.user).reads_all
    rows = list(resp.history.select_related("history_user").order_by("-history_date",
                                                                        "-history_id")[:21])
    out = []
    for h, older in zip(rows, [*rows[1:], None], strict=False):
        if len(out) == 20:
            break
        before, after = (older.answers or {}) if older else {}, h.answers or {}
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        who = (pseudonym(h.history_user_id) if reads_all else
               (h.history_user.get_username() if h.history_user else "—"))
        out.append({"when": h.history_date, "who": who, "status": h.status,
                    "role": h.respondent_role, "changed": changed})
    return out
