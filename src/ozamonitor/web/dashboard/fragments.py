"""HTML of the dashboard's long lists (map regions, region options, table rows).

The Django template language costs about 5 µs per variable; a gemeente page has
some 6,000 (342 map regions, 342 table rows, 342 options), so these lists are
built here as strings, escaped as the template would (``django.utils.html.escape``,
the function behind autoescaping), and memoised on the publication: it is
immutable for the life of a worker, and every memo key holds everything the
fragment depends on (level, definition, period; never the language, which no
fragment here contains).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ozamonitor.web.dashboard.data import Publication


def rows_html(rows: Sequence[Sequence[Any]]) -> SafeString:
    """``<tr><td>…</td></tr>`` of every row, as ``dashboard/_table.html`` writes them."""
    return mark_safe("".join(
        "<tr>" + "".join(f"<td>{'' if v is None else escape(v)}</td>" for v in row) + "</tr>"
        for row in rows))


def options_html(pub: Publication, level: str, selected: str) -> SafeString:
    """The ``<option>`` list of the level's regions with ``selected`` marked."""
    opts = pub.memoise(("options", level), lambda: {
        r: (f'<option value="{escape(r)}"', f">{escape(pub.region_name(r))}</option>")
        for r in pub.regions_of(level)})
    return mark_safe("".join(a + (" selected" if r == selected else "") + b
                             for r, (a, b) in opts.items()))


def map_paths(regions: list[dict[str, Any]], selected: str) -> SafeString:
    """The map's ``<a><path/></a>`` per region (``regions`` from ``map_regions``)."""
    return mark_safe("".join(r["html"] if r["id"] != selected else r["html_sel"]
                             for r in regions))


def region_html(r: dict[str, Any]) -> tuple[str, str]:
    """One map region's link, unselected and selected."""
    label = f"{escape(r['name'])}: {escape(r['count'])}"
    head = f'<a href="?{escape(r["query"])}" aria-label="{label}"><path d="{escape(r["d"])}" ' \
           f'fill="{escape(r["fill"])}" class="'
    tail = f'" data-region="{escape(r["id"])}"><title>{label}</title></path></a>'
    return head + tail, head + "sel" + tail
