"""The dashboard's JSON API (public, read-only): the publication's tables as JSON.

Mounted at /api/dashboard/. Like the pages it reads only the publication folder.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router

from ozamonitor.web.dashboard import data, selection
from ozamonitor.web.dashboard.selection import VIEWS, Selection

router = Router(tags=["dashboard"])


@router.get("/manifest", auth=None)
def manifest(request: HttpRequest) -> dict[str, Any]:
    """The publication's manifest (tables, periods, symbols, protection, source)."""
    return data.current().manifest


@router.get("/view/{view}", auth=None)
def view(request: HttpRequest, view: str, definition: str = "", level: str = "",
         region: str = "", period: str = "") -> dict[str, Any]:
    """The rows of one dashboard view (trend, definitions, categories, map) for a
    selection; unknown values fall back to the defaults, as on the page."""
    if view not in VIEWS:
        raise Http404(view)
    pub = data.current()
    s = Selection.parse(pub, {"definition": definition, "level": level, "region": region,
                              "period": period})
    return {"selection": {"definition": s.definition, "level": s.level, "region": s.region,
                          "period": s.period},
            "columns": list(selection.COLUMNS[view]),
            "rows": [list(r) for r in selection.rows(pub, s, view)]}


@router.get("/tables/{name}", auth=None)
def table(request: HttpRequest, name: str) -> dict[str, Any]:
    """A monitor table (``oza_*``) of the publication."""
    pub = data.current()
    if name not in pub.monitor:
        raise Http404(name)
    df = pub.monitor[name]
    return {"name": name, "columns": df.columns, "rows": [list(r) for r in df.iter_rows()]}
