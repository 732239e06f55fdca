"""Self-contained HTML reports.

A :class:`ReportDocument` is a list of :class:`Section` objects rendered with
a Jinja2 template into one HTML file with inline CSS and figures embedded as
base64 PNG (or inline SVG), so a report can be mailed or archived as a single
file and opened offline.

Analyses contribute sections (``counting_section``, ``trajectories_section``,
``impact_section``); each builds its HTML from :func:`table_html`,
:func:`figure_html` and :func:`paragraph`, in the report's language.
Tables that show counts of persons must be disclosure-controlled first
(:mod:`ozamonitor.privacy.disclosure`).

>>> doc = ReportDocument(title="Thuiszitters", lang="nl")
>>> doc.add(Section(id="intro", title="Inleiding", html=paragraph("Hallo.")))
>>> "<h2" in doc.render()
True
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import polars as pl

from ozamonitor import __version__

LANGS = ("nl", "en")


def tr(lang: str, nl: str, en: str) -> str:
    """Pick the Dutch or English text."""
    if lang not in LANGS:
        raise ValueError(f"unknown report language {lang!r}; choose one of {LANGS}")
    return nl if lang == "nl" else en


@dataclass
class Section:
    """One section of a report: an anchor id, a title and an HTML body."""

    id: str
    title: str
    html: str
    subsections: list[Section] = field(default_factory=list)
    #: files written beside the report (name -> text), e.g. a CSV the section links to
    files: dict[str, str] = field(default_factory=dict)


def paragraph(text: str) -> str:
    """An escaped paragraph."""
    return f"<p>{html.escape(text)}</p>"


def note(text: str) -> str:
    """A small grey note (e.g. disclosure-control remarks)."""
    return f'<p class="note">{html.escape(text)}</p>'


def _fmt(v: Any, decimals: int) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if v != v:  # NaN
            return ""
        return f"{v:,.{decimals}f}".replace(",", "\u202f")
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}".replace(",", "\u202f")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def table_html(
    df: pl.DataFrame | Any,
    *,
    caption: str | None = None,
    decimals: int = 2,
    max_rows: int = 500,
    labels: dict[str, str] | None = None,
) -> str:
    """Render a (small) frame as an HTML table; numbers right-aligned.

    ``labels`` renames column headers for display. A pandas frame is accepted too.
    """
    if not isinstance(df, pl.DataFrame):
        df = pl.from_pandas(df)
    labels = labels or {}
    head = "".join(f"<th>{html.escape(labels.get(c, c))}</th>" for c in df.columns)
    numeric = [dtype.is_numeric() for dtype in df.dtypes]
    body = []
    for row in df.head(max_rows).iter_rows():
        cells = "".join(
            f'<td class="{"num" if num else "txt"}">{html.escape(_fmt(v, decimals))}</td>'
            for v, num in zip(row, numeric, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    more = ""
    if df.height > max_rows:
        more = f'<p class="note">… {df.height - max_rows} more rows not shown</p>'
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        f'<div class="tablewrap"><table>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{more}</div>"
    )


def figure_html(fig: Any, *, caption: str | None = None, fmt: str = "png", dpi: int = 110,
                alt: str | None = None) -> str:
    """Embed a matplotlib figure (closed afterwards) as base64 PNG or inline SVG.

    ``alt``: the image's text alternative (default: the caption).
    """
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    if fmt == "svg":
        img = buf.getvalue().decode("utf-8")
        img = img[img.find("<svg"):]
    else:
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        text = html.escape(alt or caption or "figure")
        img = f'<img src="data:image/png;base64,{data}" alt="{text}">'
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f"<figure>{img}{cap}</figure>"


_TEMPLATE = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined).from_string(
    """<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title|e }}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;
line-height:1.45;background:#fafafa}
header{background:#154273;color:#fff;padding:1.2rem 2rem}
header h1{margin:0;font-size:1.6rem} header p{margin:.3rem 0 0;opacity:.85}
nav{padding:.6rem 2rem;background:#e8eef5;font-size:.92rem}
nav a{margin-right:1rem;color:#154273}
main{padding:1rem 2rem;max-width:1200px}
h2{border-bottom:2px solid #154273;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.88rem;margin:.6rem 0;background:#fff}
th,td{border:1px solid #d0d7de;padding:.25rem .55rem}
th{background:#f0f3f6;text-align:left} td.num{text-align:right;font-variant-numeric:tabular-nums}
caption{caption-side:top;text-align:left;font-weight:600;padding:.3rem 0}
.tablewrap{overflow-x:auto} figure{margin:1rem 0} figure img{max-width:100%}
figcaption{font-size:.85rem;color:#555} .note{font-size:.85rem;color:#666}
footer{padding:1rem 2rem;font-size:.8rem;color:#666}
</style>
</head>
<body>
<header><h1>{{ title|e }}</h1>{% if subtitle %}<p>{{ subtitle|e }}</p>{% endif %}</header>
<nav>{% for s in sections %}<a href="#{{ s.id }}">{{ s.title|e }}</a>{% endfor %}</nav>
<main>
{% for s in sections %}
<section id="{{ s.id }}"><h2>{{ s.title|e }}</h2>
{{ s.html }}
{% for sub in s.subsections %}<section id="{{ sub.id }}"><h3>{{ sub.title|e }}</h3>
{{ sub.html }}</section>{% endfor %}
</section>
{% endfor %}
</main>
<footer>{{ footer|e }}</footer>
</body>
</html>
"""
)


@dataclass
class ReportDocument:
    """An HTML report assembled from sections."""

    title: str
    lang: str = "nl"
    subtitle: str | None = None
    sections: list[Section] = field(default_factory=list)

    def __post_init__(self) -> None:
        tr(self.lang, "", "")  # validates the language

    def add(self, section: Section | Sequence[Section]) -> None:
        """Append one or more sections."""
        if isinstance(section, Section):
            self.sections.append(section)
        else:
            self.sections.extend(section)

    def render(self) -> str:
        footer = tr(
            self.lang,
            f"Gemaakt met ozamonitor {__version__}. Celwaarden 1 t/m 9 zijn onderdrukt "
            "(getoond als <10), met secundaire onderdrukking.",
            f"Made with ozamonitor {__version__}. Cells of 1 to 9 are suppressed "
            "(shown as <10), with secondary suppression.",
        )
        return _TEMPLATE.render(
            lang=self.lang,
            title=self.title,
            subtitle=self.subtitle,
            sections=self.sections,
            footer=footer,
        )

    def files(self) -> dict[str, str]:
        """Files the sections attach (name -> text), written beside the report."""
        out: dict[str, str] = {}
        for s in self.sections:
            for part in (s, *s.subsections):
                out.update(part.files)
        return out

    def write(self, path: str | Path) -> Path:
        """Write the report and the files its sections attach (beside it), atomically;
        return the report's path."""
        from ozamonitor.files import atomic_write_text, confined

        path = Path(path)
        for name, text in self.files().items():  # first: the report links to them
            atomic_write_text(confined(path.parent, name), text)
        return atomic_write_text(path, self.render())  # a report is published: umask
