"""The JSON API: ``POST /api/token``, every app's router, the OpenAPI document.

``/api/openapi.json`` describes every route; ``/api/docs`` shows it (assets
shipped with Django Ninja, nothing from the internet). Errors are JSON
(``{"detail": ..., "field": ...}``), never a stack trace.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError

from ozamonitor import __version__
from ozamonitor.web.access import BearerAuth, token_digest
from ozamonitor.web.apps import ozamonitor_apps

log = logging.getLogger("ozamonitor.web")

api = NinjaAPI(
    title="ozamonitor registry API",
    version=__version__,
    description="Arrangements registry of the OZA experiment. Get a token with "
    "`POST /api/token`, then send `Authorization: Bearer <token>`.",
    auth=BearerAuth(),
    urls_namespace="api",
)


class Credentials(Schema):
    username: str
    password: str


class TokenOut(Schema):
    token: str


class Problem(Schema):
    detail: str
    field: str | None = None


@api.post("/token", auth=None, response={200: TokenOut, 401: Problem, 429: Problem},
          tags=["auth"])
def token(request: HttpRequest, payload: Credentials) -> Any:
    """Exchange a username and password for a token (rate-limited like the login page).

    The token is valid for 30 days (``OZAMONITOR_API_TOKEN_DAYS``); only its SHA-256 is
    stored.
    """
    from axes.exceptions import AxesBackendPermissionDenied
    from axes.handlers.proxy import AxesProxyHandler

    from ozamonitor.web.core.models import ApiToken

    creds = {"username": payload.username}
    if AxesProxyHandler.is_locked(request, credentials=creds):
        return Status(429, {"detail": "too many failed attempts; try again later"})
    try:
        user = authenticate(request, username=payload.username, password=payload.password)
    except AxesBackendPermissionDenied:
        return Status(429, {"detail": "too many failed attempts; try again later"})
    if user is None or not user.is_active:
        if getattr(request, "axes_locked_out", False):
            return Status(429, {"detail": "too many failed attempts; try again later"})
        return Status(401, {"detail": "wrong username or password"})
    raw = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, digest=token_digest(raw),
                            expires=timezone.now() + settings.API_TOKEN_LIFETIME)
    return Status(200, {"token": raw})


for _app in ozamonitor_apps():
    _router = _app.api_router()
    if _router is not None:
        api.add_router(f"/{_app.api_prefix.strip('/')}" if _app.api_prefix else "", _router)


def _json(request: HttpRequest, status: int, detail: str, field: str | None = None
          ) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "field": field}, status=status)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _json(request, exc.status_code, str(exc), getattr(exc, "field", None))


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    err = exc.errors[0] if exc.errors else {}
    loc = [str(x) for x in err.get("loc", ()) if x not in ("body", "payload", "query", "path")]
    return _json(request, 422, err.get("msg", "invalid input"), ".".join(loc) or None)


@api.exception_handler(AuthenticationError)
def _unauthorised(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _json(request, 401, "send Authorization: Bearer <token> (POST /api/token)")


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _json(request, 403, "not allowed for your role")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _json(request, 404, "not found")


@api.exception_handler(Exception)
def _internal(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("API error on %s", request.path)
    return _json(request, 500, "internal error (logged on the server)")
