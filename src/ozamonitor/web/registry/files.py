"""Attachments: checked by content and size, stored in the data folder, served as downloads.

Only PDF and DOCX are accepted, recognised by their content, not by the name
or the browser's content type: a PDF starts with ``%PDF-``; a DOCX is a ZIP
holding ``[Content_Types].xml`` and ``word/document.xml`` (and no macros).
Files are stored under ``<data>/files/`` with a random name (0600), never
under a name the user chose, and always served with
``Content-Disposition: attachment``, ``nosniff`` and a sandboxing
Content-Security-Policy, so a browser never renders one inline.
"""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from ozamonitor.files import atomic_write_bytes, confined, safe_name

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def sniff(head: bytes, data: bytes) -> str | None:
    """The content type of an accepted document, or None."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return None
        if {"[Content_Types].xml", "word/document.xml"} <= names and \
                not any(n.lower().endswith("vbaproject.bin") for n in names):
            return DOCX
    return None


def check_upload(upload: Any) -> tuple[bytes, str]:
    """Read and check an uploaded file; ``ValidationError`` naming the problem otherwise."""
    limit = settings.UPLOAD_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(_("The file is larger than %(mb)s MB.")
                              % {"mb": f"{limit / 1024 / 1024:g}"}, code="too_large")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(_("The file is larger than %(mb)s MB.")
                              % {"mb": f"{limit / 1024 / 1024:g}"}, code="too_large")
    if not data:
        raise ValidationError(_("The file is empty."), code="empty")
    ctype = sniff(data[:8], data)
    if ctype is None:
        raise ValidationError(_("Only PDF and Word (DOCX) documents are accepted."),
                              code="type")
    return data, ctype


def store(data: bytes, ctype: str) -> tuple[str, str]:
    """Write ``data`` into the data folder; return (stored name, sha256)."""
    ext = ".pdf" if ctype == PDF else ".docx"
    name = f"{uuid.uuid4().hex}{ext}"
    path = confined(settings.FILES_DIR, Path(name[:2]) / name)
    atomic_write_bytes(path, data, private=True)
    return f"{name[:2]}/{name}", hashlib.sha256(data).hexdigest()


def path_of(stored_name: str) -> Path:
    """The file of a stored attachment (confined to the data folder)."""
    return confined(settings.FILES_DIR, stored_name)


def remove(stored_name: str) -> None:
    """Delete a stored file (missing is fine)."""
    path_of(stored_name).unlink(missing_ok=True)


def download(attachment: Any) -> FileResponse:
    """A download response that no browser renders inline."""
    path = path_of(attachment.stored_name)
    if not path.exists():
        raise Http404
    ext = ".pdf" if attachment.content_type == PDF else ".docx"
    filename = safe_name(Path(attachment.original_name).stem) + ext
    resp = FileResponse(path.open("rb"), as_attachment=True, filename=filename,
                        content_type=attachment.content_type)
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp["Cache-Control"] = "private, no-store"
    return resp
