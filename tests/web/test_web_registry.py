"""Registry flows: forms, Besluit checklist, documents, audit log, concurrency, security."""

from __future__ import annotations

import io
import os
import stat
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from fixtures_web import PDF

pytestmark = pytest.mark.django_db


def _initiative_post(world, **over):
    data = {"code": "INI9", "name": "Thuisnabij onderwijs", "applicant": world.orgs["A"].pk,
            "swv": world.orgs["A"].pk, "received_by_duo": "2023-07-20",
            "contains_personal_data": "false", "pupils_enrolled": "true", "notes": "",
            "co-TOTAL_FORMS": "2", "co-INITIAL_FORMS": "0",
            "co-0-kind": "school", "co-0-name": "Basisschool A",
            "co-0-organisation": world.orgs["schoolA"].pk,
            "co-1-kind": "care_provider", "co-1-name": "Zorg A",
            "co-1-organisation": world.orgs["provA"].pk, "co-1-financier": "gemeente"}
    data.update(over)
    return data


def test_create_initiative_and_arrangement_then_checklist_passes(world, client_for) -> None:
    client = client_for(world.users["swvA"])
    resp = client.post(reverse("registry:initiative_new"), _initiative_post(world))
    assert resp.status_code == 302, resp.context and resp.context["form"].errors
    from ozamonitor.web.registry.models import Initiative

    ini = Initiative.objects.get(code="INI9")
    report = ini.besluit_report()
    status = {r.id: r.status for r in report.results}
    assert status["cooperation_agreement"] == "fail" and status["arrangements_named"] == "fail"
    assert not report.ok
    page = client.get(reverse("registry:initiative", args=["INI9"])).content.decode()
    assert 'data-condition="project_plan" data-status="fail"' in page
    resp = client.post(reverse("registry:arrangement_new"), {
        "code": "oza900", "name": "Klas op school", "initiative": ini.pk, "swv": world.orgs["A"].pk,
        "sector": "po",
        "type": "class_at_school", "locations": ["school"], "school_id": "11AA00",
        "deviations": ["time", "location"], "target_groups": ["long_term_absent"],
        "support_needs": ["mental_health"], "status": "planned", "swv_spend_eur": "50000",
        "pt-TOTAL_FORMS": "1", "pt-INITIAL_FORMS": "0",
        "pt-0-organisation": world.orgs["provA"].pk, "pt-0-role": "care_provider",
        "pt-0-financier": "gemeente"})
    assert resp.status_code == 302, resp.context and resp.context["form"].errors
    for kind in ("cooperation_agreement", "project_plan", "mr_advice"):
        r = client.post(reverse("registry:attachment_upload", args=["INI9"]),
                        {"kind": kind, "file": SimpleUploadedFile(f"{kind}.pdf", PDF)})
        assert r.status_code == 302
    report = ini.besluit_report()
    assert report.ok, [(r.id, r.message("en")) for r in report.results if r.status != "pass"]
    assert all(r.status == "pass" for r in report.results)
    fragment = client.get(reverse("registry:initiative_checks", args=["INI9"])).content.decode()
    assert 'data-status="fail"' not in fragment


def test_form_errors_name_the_field(world, client_for) -> None:
    client = client_for(world.users["swvA"])
    resp = client.post(reverse("registry:initiative_new"),
                       _initiative_post(world, received_by_duo="2023-13-45", **{
                           "co-1-financier": ""}))
    assert resp.status_code == 400
    assert "received_by_duo" in resp.context["form"].errors
    assert "financier" in resp.context["formset"].forms[1].errors
    resp = client.post(reverse("registry:arrangement_new"), {
        "code": "OZA901", "name": "x", "initiative": world.initiatives["A"].pk,
        "swv": world.orgs["A"].pk, "sector": "po",
        "type": "opdc", "status": "planned", "school_id": "bad", "start": "2024-02-01",
        "end": "2024-01-01", "pt-TOTAL_FORMS": "0", "pt-INITIAL_FORMS": "0"})
    assert resp.status_code == 400
    assert "school_id" in resp.context["form"].errors


def test_stale_form_gets_a_conflict_not_an_overwrite(world, client_for) -> None:
    arr = world.arrangements["A"]
    client = client_for(world.users["swvA"])
    form = client.get(reverse("registry:arrangement_edit", args=["OZAA"])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update({"initiative": arr.initiative.pk, "gemeente": arr.gemeente.pk,
                 "pt-TOTAL_FORMS": "0", "pt-INITIAL_FORMS": "0", "version": arr.version,
                 "code": "OZAA"})
    first = dict(data, name="First save")
    second = dict(data, name="Second save, stale")
    assert client.post(reverse("registry:arrangement_edit", args=["OZAA"]), first) \
        .status_code == 302
    resp = client.post(reverse("registry:arrangement_edit", args=["OZAA"]), second)
    assert resp.status_code == 409
    assert "changed this record after you opened the form" in resp.content.decode() or \
        "heeft dit record gewijzigd" in resp.content.decode()
    arr.refresh_from_db()
    assert arr.name == "First save" and arr.version == 2


def test_audit_log_records_who_what_before_after(world, client_for) -> None:
    client = client_for(world.users["swvA"])
    arr = world.arrangements["A"]
    r = client.post(reverse("registry:partner_edit", args=["OZAA", world.partners["schoolA"].pk]),
                    {"contribution": "rooms", "financier": "swv", "version": 1})
    assert r.status_code == 302
    from ozamonitor.web.registry.concurrency import save_if_current

    arr.name = "Renamed"
    arr._history_user = world.users["swvA"]
    save_if_current(arr, 1)
    from ozamonitor.web.audit import user_pseudonym

    admin_page = client_for(world.users["admin"]).get(reverse("audit")).content.decode()
    assert "Renamed" in admin_page and "swvA" in admin_page
    study = client_for(world.users["study"])
    page = study.get(reverse("audit")).content.decode()
    who = user_pseudonym(world.users["swvA"].pk)  # the study team reads users pseudonymised
    assert "Renamed" in page and "Arrangement A" in page and who in page
    csv_text = study.get(reverse("audit_export", args=["csv"]) + "?model=registry.Arrangement") \
        .content.decode()
    row = next(line for line in csv_text.splitlines() if ",name," in line)
    assert who in row and "swvA" not in row and "Arrangement A" in row and "Renamed" in row
    hist = study.get(reverse("registry:arrangement_history", args=["OZAA"])).content.decode()
    assert "rooms" in hist and "Renamed" in hist
    xlsx = study.get(reverse("audit_export", args=["xlsx"]))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_deletes_are_audited(world, client_for) -> None:
    client = client_for(world.users["swvA"])
    att = world.attachments["A"]
    assert client.post(reverse("registry:attachment_delete", args=[att.pk])).status_code == 302
    from ozamonitor.web.registry.models import Attachment

    rec = Attachment.history.filter(id=att.pk, history_type="-").get()
    assert rec.history_user == world.users["swvA"]


def test_bulk_writes_that_bypass_the_audit_log_are_refused(world) -> None:
    from ozamonitor.web.audit import AuditBypassError
    from ozamonitor.web.registry.models import Arrangement, Initiative

    with pytest.raises(AuditBypassError):
        Arrangement.objects.filter(code="OZAA").update(name="sneaky")
    with pytest.raises(AuditBypassError):
        Initiative.objects.all().bulk_update([world.initiatives["A"]], ["name"])
    with pytest.raises(AuditBypassError):
        Arrangement.objects.bulk_create([])
    assert Arrangement.objects.get(code="OZAA").name == "Arrangement A"


def _docx(extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        for k, v in (extra or {}).items():
            z.writestr(k, v)
    return buf.getvalue()


@pytest.mark.parametrize(("name", "content", "ok"), [
    ("plan.pdf", PDF, True),
    ("plan.docx", _docx(), True),
    ("plan.pdf", b"<html><script>alert(1)</script></html>", False),
    ("plan.docx", _docx({"word/vbaProject.bin": b"macro"}), False),
    ("plan.exe", b"MZ\x90\x00", False),
    ("empty.pdf", b"", False),
])
def test_uploads_are_sniffed(world, client_for, name: str, content: bytes, ok: bool) -> None:
    from ozamonitor.web.registry.models import Attachment

    client = client_for(world.users["swvA"])
    before = Attachment.objects.count()
    client.post(reverse("registry:attachment_upload", args=["INIA"]),
                {"kind": "other", "file": SimpleUploadedFile(name, content)})
    assert Attachment.objects.count() == before + ok


@override_settings(UPLOAD_MAX_BYTES=1000)
def test_uploads_are_size_limited(world, client_for) -> None:
    from ozamonitor.web.registry.models import Attachment

    client = client_for(world.users["swvA"])
    big = PDF + b"0" * 2000
    resp = client.post(reverse("registry:attachment_upload", args=["INIA"]),
                       {"kind": "other", "file": SimpleUploadedFile("big.pdf", big)},
                       follow=True)
    assert Attachment.objects.count() == 6
    assert "MB" in resp.content.decode()


def test_documents_are_downloads_never_inline(world, client_for) -> None:
    from django.conf import settings

    from ozamonitor.web.registry.files import path_of

    att = world.attachments["A"]
    resp = client_for(world.users["swvA"]).get(reverse("registry:attachment", args=[att.pk]))
    assert resp.status_code == 200
    assert resp["Content-Disposition"].startswith("attachment;")
    assert resp["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in resp["Content-Security-Policy"]
    assert b"".join(resp.streaming_content) == PDF
    path = path_of(att.stored_name)
    assert path.is_relative_to(settings.FILES_DIR)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_secret_key_is_created_once_with_mode_0600(tmp_path) -> None:
    from ozamonitor.web.secret import read_or_create_secret_key

    key = read_or_create_secret_key(tmp_path / "secret_key")
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600
    assert read_or_create_secret_key(tmp_path / "secret_key") == key and len(key) >= 50


def test_csrf_is_enforced(world) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["swvA"])
    resp = client.post(reverse("registry:initiative_delete", args=["INIA"]))
    assert resp.status_code == 403


def test_cookies_are_secure_outside_debug() -> None:
    from django.conf import settings

    if settings.DEBUG or os.environ.get("OZAMONITOR_INSECURE_COOKIES"):
        pytest.skip("debug settings")
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SESSION_COOKIE_HTTPONLY


def test_login_is_rate_limited(world) -> None:
    client = Client()
    for _ in range(4):
        r = client.post(reverse("login"), {"username": "swvA", "password": "wrong"})
        assert r.status_code == 200
    r = client.post(reverse("login"), {"username": "swvA", "password": "wrong"})
    assert r.status_code == 429  # the fifth failure locks the pair out
    r = client.post(reverse("login"), {"username": "swvA", "password": "pw-swvA"})
    assert r.status_code == 429
    # the API's token endpoint shares the limit
    r = client.post("/api/token", {"username": "swvA", "password": "pw-swvA"},
                    content_type="application/json")
    assert r.status_code == 429
    # another user is not locked out
    r = client.post(reverse("login"), {"username": "swvB", "password": "pw-swvB"})
    assert r.status_code == 302


def test_no_stack_traces_to_users(world, client_for, monkeypatch) -> None:
    from ozamonitor.web.registry import views

    def boom(*a, **k):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views, "_page", boom)
    client = client_for(world.users["swvA"])
    client.raise_request_exception = False
    resp = client.get(reverse("registry:arrangements"))
    assert resp.status_code == 500
    assert b"secret internals" not in resp.content and b"Traceback" not in resp.content


def test_healthz(client) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.content == b"ok\n"


def test_htmx_list_returns_a_fragment(world, client_for) -> None:
    client = client_for(world.users["study"])
    resp = client.get(reverse("registry:arrangements") + "?q=OZAB", HTTP_HX_REQUEST="true",
                      HTTP_HX_TARGET="results")
    body = resp.content.decode()
    assert "<html" not in body and "OZAB" in body and "OZAA" not in body


def test_admin_pages(world, client_for) -> None:
    client = client_for(world.users["admin"])
    for url in ("/admin/", "/admin/core/organisation/", "/admin/core/membership/add/",
                "/admin/registry/arrangement/", f"/admin/registry/arrangement/"
                f"{world.arrangements['A'].pk}/history/"):
        assert client.get(url).status_code == 200, url
    assert client_for(world.users["swvA"]).get("/admin/").status_code == 302
