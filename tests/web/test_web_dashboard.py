"""The public dashboard: pages, downloads and API read one publication folder."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest
from django.test import Client

from ozamonitor.privacy.folder import read_folder

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(publication, settings) -> Client:
    settings.OZAMONITOR_PUBLICATION = str(publication)
    return Client()


def _csv(resp) -> pl.DataFrame:
    assert resp.status_code == 200, resp.status_code
    return pl.read_csv(io.BytesIO(resp.content), infer_schema=False)


def test_public_without_login_dutch_and_english(client):
    page = client.get("/dashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert ('lang="nl"' in html and "Thuiszitters" in html) or "thuiszitters" in html
    assert "<svg" in html and 'id="chart-trend"' in html
    en = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="en"' in en and "Definitions side by side" in en
    for url in ("/dashboard/monitor/", "/dashboard/definitions/",
                "/dashboard/definitions/ocw2016/", "/api/dashboard/manifest"):
        assert client.get(url).status_code == 200, url


def test_selection_number_and_permalink(client, publication):
    _, tables, _ = read_folder(publication)
    gm = tables["by_gemeente"].filter((pl.col("definition") == "vws")
                                      & (pl.col("category") == "total")
                                      & (pl.col("period") == "2024-2025"))
    gm = gm.filter(pl.col("count") != "x").with_columns(n=pl.col("count").cast(pl.Int64))
    row = gm.sort("n", descending=True).row(0, named=True)
    q = f"definition=vws&level=gemeente&region={row['region']}&period=2024-2025"
    html = client.get(f"/dashboard/?{q}").content.decode()
    assert f'data-testid="number">{row["count"]}<' in html.replace("\n", "")
    assert f"?{q}".replace("&", "&amp;") in html  # the permalink encodes the selection
    # unknown values fall back to defaults instead of failing
    assert client.get("/dashboard/?definition=nope&level=mars&period=1900").status_code == 200


@pytest.mark.parametrize("view", ["trend", "definitions", "categories", "map"])
def test_downloads_hold_what_the_publication_holds(client, publication, view):
    _, tables, _ = read_folder(publication)
    q = "definition=ocw2016&level=swv_po&region=PO01&period=2023-10-01"
    df = _csv(client.get(f"/dashboard/download/{view}.csv?{q}"))
    assert df.height > 0
    level_table = {"swv_po": "by_swv", "gemeente": "by_gemeente", "nation": "by_nation"}
    for r in df.iter_rows(named=True):
        table = tables[level_table.get(r.get("level", "swv_po"), "by_swv")]
        cat = r.get("category", "total")
        hit = table.filter((pl.col("definition") == r["definition"])
                           & (pl.col("category") == cat) & (pl.col("region") == r["region"])
                           & (pl.col("period") == r["period"]))
        assert hit["count"][0] == r["count"], r
    xlsx = client.get(f"/dashboard/download/{view}.xlsx?{q}")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client.get(f"/dashboard/download/{view}.pdf?{q}").status_code == 404


def test_monitor_tab_and_downloads(client, publication):
    _, tables, _ = read_folder(publication)
    html = client.get("/dashboard/monitor/").content.decode()
    assert 'id="oza_flows"' in html and 'id="oza_outcomes"' in html
    got = _csv(client.get("/dashboard/monitor/oza_flows.csv"))
    assert got.equals(tables["oza_flows"])
    assert client.get("/dashboard/monitor/secret.csv").status_code == 404


def test_definition_page_from_the_definition_file(client, publication):
    import json

    defs = json.loads((publication / "definitions.json").read_text(encoding="utf-8"))
    d = next(x for x in defs if x["name"] == "ocw2016")
    html = client.get("/dashboard/definitions/ocw2016/").content.decode()
    from django.utils.html import escape

    assert escape(d["description"]) in html and escape(d["source"]) in html
    assert all(escape(c["label"]) in html for c in d["categories"])
    assert client.get("/dashboard/definitions/nope/").status_code == 404


def test_api_views(client, publication):
    r = client.get("/api/dashboard/view/trend?definition=vws&level=nation&period=2023-2024")
    assert r.status_code == 200
    body = r.json()
    assert body["selection"]["definition"] == "vws"
    assert [row[4] for row in body["rows"]] == ["2023-2024", "2024-2025"]
    assert client.get("/api/dashboard/tables/oza_regions").status_code == 200
    assert client.get("/api/dashboard/tables/by_school").status_code == 404


def test_plotly_is_served_offline(client):
    r = client.get("/dashboard/plotly.min.js")
    assert r.status_code == 200 and b"plotly" in b"".join(r.streaming_content)[:2000].lower()


def test_missing_publication_is_a_clear_error(settings, tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    from ozamonitor.web.dashboard import data

    settings.OZAMONITOR_PUBLICATION = ""
    with pytest.raises(ImproperlyConfigured, match="--publication"):
        data.publication_path()
    from ozamonitor.privacy.folder import FolderError

    with pytest.raises(FolderError, match=r"manifest\.json"):
        data.load(tmp_path)


def test_dashboard_catalogue_is_complete_and_compiled():
    import gettext
    import re

    import polib

    from ozamonitor.web import dashboard

    here = Path(dashboard.__file__).parent
    po_path = here / "locale" / "nl" / "LC_MESSAGES" / "django.po"
    po = polib.pofile(str(po_path))
    ids = {e.msgid for e in po if e.msgstr}
    used: set[str] = set()
    for p in (here.parent / "templates" / "dashboard").glob("*.html"):
        s = p.read_text(encoding="utf-8")
        used |= set(re.findall(r'{% translate "([^"]+)"', s))
        used |= set(re.findall(r"{% translate '([^']+)'", s))
        for m in re.findall(r"{% blocktranslate[^%]*%}(.*?){% endblocktranslate %}", s, re.S):
            used.add(re.sub(r"{{\s*(\w+)\s*}}", r"%(\1)s", m))
    for p in here.glob("*.py"):
        used |= set(re.findall(r'\b_\("([^"]+)"\)', p.read_text(encoding="utf-8")))
    assert used <= ids, sorted(used - ids)
    with po_path.with_suffix(".mo").open("rb") as f:
        mo = gettext.GNUTranslations(f)
    assert all(mo.gettext(e.msgid) == e.msgstr for e in po)


def test_map_classes():
    import itertools

    from ozamonitor.web.dashboard.selection import CLASSES, classes

    assert classes([]) == []
    assert classes([0, 0, 3]) == [(0, 0), (3, 3)]
    got = classes(list(range(100)))
    assert len(got) == len(CLASSES) and got[0][0] == 0 and got[-1][1] == 99
    assert all(a[1] < b[0] for a, b in itertools.pairwise(got))


def test_every_dashboard_route_is_public(client):
    """docs/web.md step 5 for a public app: every route answers an anonymous visitor (no
    login redirect); the pages reach nothing but the publication folder."""
    from django.urls import get_resolver

    names = {p.name for p in get_resolver().url_patterns
             if getattr(p, "namespace", None) == "dashboard" for p in p.url_patterns}
    urls = {"index": "/dashboard/", "download": "/dashboard/download/map.csv",
            "monitor": "/dashboard/monitor/",
            "monitor_download": "/dashboard/monitor/oza_flows.csv",
            "definitions": "/dashboard/definitions/",
            "definition": "/dashboard/definitions/vws/", "plotly": "/dashboard/plotly.min.js"}
    assert names == set(urls)
    for url in urls.values():
        assert client.get(url).status_code == 200, url


def test_memoised_views_never_mix_selections_or_languages(client):
    """The rows and HTML memoised per publication answer exactly what a fresh
    publication answers, whatever the order of selections and languages."""
    import re

    from ozamonitor.web.dashboard import data, selection

    pub = data.current()
    g1, g2 = pub.regions_of("gemeente")[:2]
    s1 = pub.regions_of("swv_po")[0]
    qs = [f"definition=vws&level=gemeente&region={g1}&period=2024-2025",
          f"definition=vws&level=gemeente&region={g2}&period=2024-2025",
          f"definition=ocw2016&level=gemeente&region={g1}&period=2024-2025",
          f"definition=vws&level=gemeente&region={g1}&period=2023-10-01",
          f"definition=vws&level=swv_po&region={s1}&period=2024-2025",
          "definition=vws&level=nation&region=NL&period=2024-2025"]
    urls = [f"/dashboard/?{q}" for q in qs] + [
        f"/dashboard/download/{v}.csv?{q}" for v in selection.VIEWS for q in qs[::2]] + [
        f"/api/dashboard/view/{v}?{q}" for v in selection.VIEWS for q in qs[:2]]
    token = re.compile(rb'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+')

    def get(url: str, lang: str) -> bytes:
        r = client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
        assert r.status_code == 200, url
        return token.sub(rb"\1", r.content)

    seen = {(u, lang): get(u, lang) for u in urls for lang in ("nl", "en")}
    assert pub.memo and pub.pages  # something was memoised
    # every selection and language differs from its neighbours where it should
    assert seen[(urls[0], "nl")] != seen[(urls[0], "en")]
    assert len({seen[(u, "nl")] for u in urls[:6]}) == 6
    assert f'class="sel" data-region="{g1}"'.encode() in seen[(urls[0], "nl")]
    assert f'class="sel" data-region="{g2}"'.encode() in seen[(urls[1], "nl")]
    assert b'class="sel"' not in seen[(urls[5], "nl")]
    # a fresh publication (nothing memoised), asked in the reverse order, agrees
    fresh = data.load(pub.path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(data, "current", lambda: fresh)
        for (u, lang), body in reversed(list(seen.items())):
            assert get(u, lang) == body, (u, lang)
    for q in qs:
        s = selection.Selection.parse(fresh, dict(p.split("=") for p in q.split("&")))
        for lang in ("nl", "en"):
            assert selection.rows(fresh, s, "definitions", lang) == selection.definitions(
                fresh, s, lang)
            assert selection.rows(fresh, s, "categories", lang) == selection.categories(
                fresh, s, lang)
        assert selection.rows(fresh, s, "map") == selection.map_values(fresh, s)
        assert selection.rows(fresh, s, "trend") == selection.trend(fresh, s)


def test_download_skips_formula_safe_only_when_it_would_change_nothing():
    import polars as pl

    from ozamonitor.files import formula_safe
    from ozamonitor.web.dashboard.views import _plain

    for rows in ([("GM0001", "Aa", "12")], [("=HYPERLINK(1)", "x")], [("a", "-1")],
                 [("@a", "b")], [("+31", "c")], [("\tx", "y")], [("a", ".")]):
        df = pl.DataFrame(rows, schema=[f"c{i}" for i in range(len(rows[0]))], orient="row")
        if _plain(rows):
            assert formula_safe(df).equals(df)
    assert _plain([("GM0001", "Aa", "12", ".", "x")])
    assert not _plain([("=HYPERLINK(1)", "x")])
