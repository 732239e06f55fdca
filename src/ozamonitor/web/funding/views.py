"""Pages of the who-pays app: the advisor, funding maps, summaries. Access via web.access only."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ozamonitor.funding import RegionMatrix, example_matrix_path, national_rules
from ozamonitor.web import access
from ozamonitor.web.funding import tables
from ozamonitor.web.funding.advisor_form import (
    State,
    activity_choices,
    evaluate,
    form_data_of_case,
    kind_choices,
    lang_of,
)
from ozamonitor.web.funding.models import FundingMap, RegionMatrixFile
from ozamonitor.web.registry.concurrency import StaleEditError, save_if_current
from ozamonitor.web.registry.models import Arrangement

EXAMPLE = "example"

#: Registry location codes -> the advisor's setting.location.
_LOCATIONS = {"school": "school", "home": "home", "care_location": "care_location",
              "care_farm": "care_location", "private_location": "private",
              "distance": "distance"}
#: Registry deviation codes -> the advisor's setting.oza_deviations.
_DEVIATIONS = {"time": "teaching_time", "core_objectives": "core_objectives",
               "location": "location", "funding": "funding"}


def _lang() -> str:
    return lang_of(get_language())


@lru_cache(maxsize=1)
def example_matrix() -> RegionMatrix:
    """The shipped example region matrix."""
    return RegionMatrix.load(example_matrix_path())


def matrix_options(request: HttpRequest, lang: str) -> list[tuple[str, str]]:
    """The region matrices the user may use: none, the shipped example, the visible ones."""
    opts = [("", _("national default only")), (EXAMPLE, example_matrix().title(lang))]
    for m in access.visible(request, RegionMatrixFile).filter(active=True).select_related(
            "organisation"):
        opts.append((str(m.pk), f"{m.name} ({m.organisation.name})"))
    return opts


def chosen_matrix(request: HttpRequest, choice: str) -> tuple[RegionMatrix | None,
                                                              RegionMatrixFile | None]:
    """The matrix behind a choice of the matrix select (404 when not visible to the user)."""
    if not choice:
        return None, None
    if choice == EXAMPLE:
        return example_matrix(), None
    if not choice.isdigit():
        raise Http404
    row = access.get_visible_or_404(request, RegionMatrixFile, pk=int(choice), active=True)
    return row.matrix, row


def _partial(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _save_targets(request: HttpRequest) -> list[Arrangement]:
    qs = access.visible(request, Arrangement).select_related("swv").order_by("code")
    return [a for a in qs if access.can_change(request, a)]


def _initial(request: HttpRequest, code: str) -> tuple[dict[str, list[str]], Arrangement,
                                                       FundingMap | None]:
    """Form data to open the advisor for an arrangement: its saved map, else its own fields."""
    arr = access.get_visible_or_404(request, Arrangement, code=code)
    fmap = FundingMap.objects.filter(arrangement=arr).first()
    if fmap is not None:
        data = form_data_of_case(fmap.case)
        data["matrix"] = [str(fmap.matrix_id) if fmap.matrix_id else
                          (EXAMPLE if fmap.example_matrix else "")]
        return data, arr, fmap
    setting: dict[str, Any] = {"oza": True,
                               "oza_deviations": [_DEVIATIONS[d] for d in arr.deviations
                                                  if d in _DEVIATIONS]}
    places = {_LOCATIONS[x] for x in arr.locations if x in _LOCATIONS}
    if len(places) == 1:
        setting["location"] = places.pop()
    if arr.sector in ("po", "vo"):
        setting["sector"] = arr.sector
    data = form_data_of_case({"setting": setting, "components": []})
    # the region's own matrix: the SWV's, else the gemeente's (if one is active and visible)
    owners = [o for o in (arr.swv_id, arr.gemeente_id) if o is not None]
    own = {m.organisation_id: m for m in access.visible(request, RegionMatrixFile).filter(
        active=True, organisation_id__in=owners).order_by("pk")}
    chosen = next((own[o] for o in owners if o in own), None)
    data["matrix"] = [str(chosen.pk)] if chosen else [""]
    return data, arr, None


def _first(data: Any, name: str) -> str:
    values = data.getlist(name) if hasattr(data, "getlist") else data.get(name, [])
    return values[-1] if values else ""


@require_http_methods(["GET", "POST"])
def advisor(request: HttpRequest) -> HttpResponse:
    """The who-pays advisor: asks only the facts the components need, then answers."""
    lang = _lang()
    arrangement = fmap = None
    if request.method == "POST":
        data: Any = request.POST
    elif request.GET.get("arrangement"):
        data, arrangement, fmap = _initial(request, request.GET["arrangement"])
    else:
        data = {}
    choice = _first(data, "matrix")
    matrix, matrix_row = chosen_matrix(request, choice)
    state = evaluate(data, matrix, lang, choice)
    status = 200
    if request.method == "POST" and _first(data, "action") == "save":
        done = _save(request, state, matrix, matrix_row, lang)
        if isinstance(done, HttpResponse):
            return done
        status = done
    target = arrangement.code if arrangement else (_first(data, "arrangement")
                                                   or _first(data, "target"))
    version = str(fmap.version) if fmap else _first(data, "version")
    ctx = {"state": state, "kinds": kind_choices(lang),
           "activities": activity_choices(matrix, lang),
           "matrix_options": matrix_options(request, lang), "matrix": matrix,
           "rows": _advice_rows(state.advice.to_json(lang)["components"], lang)
           if state.advice else [],
           "targets": _save_targets(request), "target": target, "version": version,
           "lang": lang}
    tpl = "funding/_advisor.html" if _partial(request) else "funding/advisor.html"
    return render(request, tpl, ctx, status=status)


def _save(request: HttpRequest, state: State, matrix: RegionMatrix | None,
          matrix_row: RegionMatrixFile | None, lang: str) -> HttpResponse | int:
    """Save the advice as the funding map of the chosen arrangement (or say why not)."""
    code = _first(request.POST, "arrangement")
    if not code:
        state.errors.append(_("Choose the arrangement to save the funding map with."))
        return 400
    arr = access.get_visible_or_404(request, Arrangement, code=code)
    access.require_change(request, arr)
    if state.advice is None or state.case is None:
        state.errors.append(_("Answer the open questions first; nothing was saved."))
        return 400
    fmap = FundingMap.objects.filter(arrangement=arr).first() or FundingMap(arrangement=arr)
    version = _first(request.POST, "version")
    fmap.case = state.case
    fmap.advice_en = state.advice.to_json("en")
    fmap.advice_nl = state.advice.to_json("nl")
    fmap.matrix = matrix_row
    fmap.example_matrix = matrix is not None and matrix_row is None
    fmap.matrix_label = matrix.title(lang) if matrix is not None else ""
    fmap.rule_set = state.advice.rule_set
    fmap.saved_by = request.user
    try:
        save_if_current(fmap, int(version) if version.isdigit() else None)
    except StaleEditError as e:
        state.errors.append(str(e))
        return 409
    messages.success(request, _("Funding map of %(code)s saved.") % {"code": arr.code})
    if _partial(request):
        resp = HttpResponse(status=204)
        resp["HX-Redirect"] = fmap.get_absolute_url()
        return resp
    return redirect(fmap)


def _advice_rows(components: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Advice JSON components with labels for the table."""
    rules = national_rules()
    rows = []
    for c in components:
        kind = rules.kind_labels[c["kind"]](lang)
        if c.get("activity"):
            cat, _s, act = c["activity"].partition("/")
            entry = rules.activity(cat, act)
            kind += f": {entry.label(lang) if entry else act}"
        rows.append({
            **c, "kind_label": kind,
            "payer_labels": [rules.payer_labels[p](lang) for p in c["payers"]],
            "law_labels": [(law, rules.laws[law](lang) if law in rules.laws else law)
                           for law in c["laws"]],
            "rule_text_lang": c["rule_text"][lang],
            "facts_list": [(k, _show(v)) for k, v in sorted(c["facts"].items())],
        })
    return rows


def _show(value: Any) -> str:
    """A fact's value as the rule files write it (``true``, ``[funding, location]``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


# --------------------------------------------------------------------------- funding maps

def map_list(request: HttpRequest) -> HttpResponse:
    """The arrangements the user sees, with their funding map (if saved) and its gaps."""
    arrs = access.visible(request, Arrangement).select_related("swv").order_by("code")
    maps = {m.arrangement_id: m for m in access.visible(request, FundingMap)}
    rows = [(a, maps.get(a.pk), access.can_change(request, a)) for a in arrs]
    return render(request, "funding/map_list.html", {"rows": rows})


def map_detail(request: HttpRequest, code: str) -> HttpResponse:
    """The funding map of one arrangement: who pays for each component, and why."""
    lang = _lang()
    arr = access.get_visible_or_404(request, Arrangement.objects.select_related("swv"),
                                    code=code)
    fmap = access.visible(request, FundingMap).filter(arrangement=arr).select_related(
        "saved_by", "matrix").first()
    return render(request, "funding/map_detail.html", {
        "arrangement": arr, "map": fmap, "can_change": access.can_change(request, arr),
        "rows": _advice_rows(fmap.advice(lang)["components"], lang) if fmap else [],
    })


def map_json(request: HttpRequest, code: str) -> HttpResponse:
    """The saved advice JSON of an arrangement (``?lang=nl|en``), as a download."""
    arr = access.get_visible_or_404(request, Arrangement, code=code)
    fmap = access.get_visible_or_404(request, FundingMap, arrangement=arr)
    lang = "nl" if request.GET.get("lang", _lang()).startswith("nl") else "en"
    resp = JsonResponse(fmap.advice(lang), json_dumps_params={"ensure_ascii": False,
                                                              "indent": 1})
    resp["Content-Disposition"] = f'attachment; filename="{arr.code}.json"'
    return resp


@require_POST
def map_delete(request: HttpRequest, code: str) -> HttpResponse:
    """Delete the funding map of an arrangement."""
    arr = access.get_visible_or_404(request, Arrangement, code=code)
    fmap = access.get_visible_or_404(request, FundingMap, arrangement=arr)
    access.require_change(request, fmap)
    fmap.delete()
    messages.success(request, _("Funding map of %(code)s deleted.") % {"code": code})
    return redirect("funding:maps")


def maps_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """Every component of the funding maps the user sees, as CSV or xlsx."""
    maps = access.visible(request, FundingMap).select_related("arrangement__swv").order_by(
        "arrangement__code")
    return _download(tables.to_bytes(
        [("components", tables.MAP_COLUMNS, tables.map_rows(maps, _lang()))], _fmt(fmt)),
        "funding-maps", fmt)


def _fmt(fmt: str) -> str:
    if fmt not in ("csv", "xlsx"):
        raise Http404
    return fmt


def _download(content: tuple[bytes, str], name: str, fmt: str) -> HttpResponse:
    data, ctype = content
    resp = HttpResponse(data, content_type=ctype)
    resp["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return resp


# --------------------------------------------------------------------------- summaries

def _summary_maps(request: HttpRequest) -> tuple[list[FundingMap], str, list[tuple[str, str]]]:
    maps = list(access.visible(request, FundingMap).select_related("arrangement__swv"))
    swvs = sorted({(m.arrangement.swv.code, m.arrangement.swv.name) for m in maps})
    swv = request.GET.get("swv", "")
    if swv:
        maps = [m for m in maps if m.arrangement.swv.code == swv]
    return maps, swv, swvs


def summary(request: HttpRequest) -> HttpResponse:
    """Where the gaps fall: components by kind and payer, per SWV and across, and the gaps."""
    lang = _lang()
    maps, swv, swvs = _summary_maps(request)
    public = request.GET.get("published") == "1"
    total = tables.summary_of(maps)
    per_swv = tables.by_swv(maps)
    across = total.by_kind_payer
    if public:
        per_swv, across = tables.published(per_swv), tables.published(across)
    return render(request, "funding/summary.html", {
        "maps": len(maps), "swv": swv, "swvs": swvs, "public": public,
        "by_kind": tables.labelled(total.by_kind, lang),
        "across": tables.labelled(across, lang), "per_swv": tables.labelled(per_swv, lang),
        "gaps": [] if public else tables.labelled(total.gaps, lang),
        "threshold": tables.DEFAULT_THRESHOLD,
    })


def summary_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The summary as CSV (the per-SWV table) or xlsx (every table); ``?published=1``."""
    maps, _swv, _swvs = _summary_maps(request)
    public = request.GET.get("published") == "1"
    name = "funding-summary-published" if public else "funding-summary"
    return _download(tables.to_bytes(tables.summary_sheets(maps, public=public), _fmt(fmt)),
                     name, fmt)
