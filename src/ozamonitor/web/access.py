"""THE place where roles and organisations decide what a user may see or change.

Every page, API route, export and file download asks this module; none
filters by organisation on its own. The pieces:

Roles
    :data:`ROLES` (code -> :class:`Role`). The core defines ``admin``,
    ``study_team``, ``swv_staff``, ``school_staff`` and ``provider_staff``;
    an app adds its own with :func:`register_role` (e.g. ``leerplichtambtenaar``
    for the case chain). A user holds roles through ``core.Membership`` rows
    (user, organisation, role); Django superusers are administrators.
Principal
    :func:`principal` turns a user into a :class:`Principal`: the roles held
    and, per role, the organisations (and for SWV staff the SWVs) they cover.
Object rules
    :func:`register` declares, per model, which rows a principal may *see*
    (a ``Q`` filter), *change* and *create*. Administrators may do everything;
    the study team reads every model whose rule says ``study_team_reads``.
    Every other principal sees what the rule's ``visible`` allows, nothing
    else: a model without a rule is visible to administrators only.
Using it
    Views call :func:`visible` (a filtered queryset), :func:`get_visible_or_404`,
    :func:`can_change` / :func:`require_change` and :func:`can_create`; pages
    that need a role use :func:`role_required`; the API uses :class:`BearerAuth`
    and the same functions. Objects of another organisation give 404 (their
    existence is not revealed); forbidden actions on visible objects give 403.

Declaring the rules of an app's model (in ``<app>/rules.py``)::

    from django.db.models import Q
    from ozamonitor.web import access

    access.register(
        Case,
        visible=lambda p: Q(gemeente__in=p.orgs("leerplichtambtenaar"))
                          | Q(director=p.user_id),
        change=lambda p, case: case.gemeente_id in p.orgs("leerplichtambtenaar"),
        create=lambda p: p.has("leerplichtambtenaar"),
        study_team_reads=False,   # the study team sees aggregates only
    )
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.contrib.auth.middleware import LoginRequiredMiddleware as _DjangoLoginRequired
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja.security import HttpBearer

__all__ = [
    "ROLES",
    "BearerAuth",
    "LoginRequiredMiddleware",
    "Principal",
    "Role",
    "can_change",
    "can_create",
    "get_visible_or_404",
    "principal",
    "register",
    "register_role",
    "require_change",
    "require_create",
    "role_required",
    "visible",
]

M = TypeVar("M", bound=Model)

# ---------------------------------------------------------------------------
# roles
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Role:
    """A role a membership can grant.

    Parameters
    ----------
    code : str
        Stored in ``Membership.role``.
    label : str
        Lazily translated label.
    org_kinds : tuple of str, optional
        Organisation kinds the role can be held at (``None``: any).
    """

    code: str
    label: Any
    org_kinds: tuple[str, ...] | None = None


ROLES: dict[str, Role] = {}


def register_role(code: str, label: Any, org_kinds: Iterable[str] | None = None) -> Role:
    """Add a role (an app calls this in its ``rules.py``); re-registering replaces it."""
    role = Role(code, label, tuple(org_kinds) if org_kinds is not None else None)
    ROLES[code] = role
    return role


register_role("admin", _("administrator"))
register_role("study_team", _("study team"), ("study_team",))
register_role("swv_staff", _("SWV staff"), ("swv_po", "swv_vo"))
register_role("school_staff", _("school staff"), ("school", "school_board"))
register_role("provider_staff", _("care provider staff"), ("care_provider",))

# ---------------------------------------------------------------------------
# principal
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """Who is asking: the roles held and the organisations each role covers."""

    user_id: int | None
    is_authenticated: bool
    is_admin: bool = False
    #: role code -> organisation ids where the user holds that role
    role_orgs: dict[str, frozenset[int]] = field(default_factory=dict)
    #: organisation ids covered through a school board (its schools)
    child_orgs: frozenset[int] = frozenset()

    def has(self, *roles: str) -> bool:
        """Whether the user holds any of ``roles`` (administrators hold every role)."""
        return self.is_admin or any(r in self.role_orgs for r in roles)

    def orgs(self, *roles: str) -> frozenset[int]:
        """Organisation ids where the user holds one of ``roles`` (all roles if none given)."""
        keys = roles or tuple(self.role_orgs)
        out: set[int] = set()
        for r in keys:
            out |= self.role_orgs.get(r, frozenset())
        return frozenset(out)

    @property
    def is_study_team(self) -> bool:
        """Holds the study-team role."""
        return "study_team" in self.role_orgs

    @property
    def reads_all(self) -> bool:
        """Administrator or study team: reads every record that allows it."""
        return self.is_admin or self.is_study_team


ANONYMOUS = Principal(user_id=None, is_authenticated=False)


def principal(user: Any) -> Principal:
    """The :class:`Principal` of a Django user (cached on the user object)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    cached = getattr(user, "_ozm_principal", None)
    if cached is not None:
        return cached
    from ozamonitor.web.core.models import Membership, Organisation

    role_orgs: dict[str, set[int]] = {}
    for role, org in Membership.objects.filter(user_id=user.pk).values_list(
            "role", "organisation_id"):
        role_orgs.setdefault(role, set()).add(org)
    boards = role_orgs.get("school_staff", set())
    children = frozenset(Organisation.objects.filter(parent_id__in=boards)
                         .values_list("pk", flat=True)) if boards else frozenset()
    p = Principal(
        user_id=user.pk,
        is_authenticated=True,
        is_admin=bool(user.is_superuser or "admin" in role_orgs) and user.is_active,
        role_orgs={k: frozenset(v) for k, v in role_orgs.items()},
        child_orgs=children,
    )
    user._ozm_principal = p
    return p

# ---------------------------------------------------------------------------
# object rules
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectRules:
    """What principals may do with one model's rows (see :func:`register`)."""

    visible: Callable[[Principal], Q]
    change: Callable[[Principal, Any], bool]
    create: Callable[[Principal], bool]
    study_team_reads: bool


_RULES: dict[type[Model], ObjectRules] = {}


def register(model: type[Model], *, visible: Callable[[Principal], Q],
             change: Callable[[Principal, Any], bool] | None = None,
             create: Callable[[Principal], bool] | None = None,
             study_team_reads: bool = True) -> None:
    """Declare the access rules of ``model``.

    Parameters
    ----------
    model : Django model class
    visible : callable
        ``visible(principal) -> Q``: the rows a non-administrator may see
        (applied for the study team too when ``study_team_reads`` is False).
    change : callable, optional
        ``change(principal, obj) -> bool`` for a *visible* object; default: no one
        but administrators.
    create : callable, optional
        ``create(principal) -> bool``; default: administrators only.
    study_team_reads : bool, default True
        The study team reads every row (read-only).
    """
    _RULES[model] = ObjectRules(
        visible=visible,
        change=change or (lambda p, obj: False),
        create=create or (lambda p: False),
        study_team_reads=study_team_reads,
    )


def rules_for(model: type[Model]) -> ObjectRules | None:
    """The registered rules of ``model`` (or of its concrete parent), or None."""
    for cls in model.__mro__:
        if cls in _RULES:
            return _RULES[cls]
    return None


def _user(who: Any) -> Any:
    return who.user if isinstance(who, HttpRequest) else who


def _p(who: Any) -> Principal:
    return who if isinstance(who, Principal) else principal(_user(who))


def visible(who: Any, model_or_qs: type[M] | QuerySet[M]) -> QuerySet[M]:
    """The rows of ``model_or_qs`` that ``who`` (request, user or principal) may see."""
    qs = model_or_qs if isinstance(model_or_qs, QuerySet) else model_or_qs._default_manager.all()
    p = _p(who)
    if not p.is_authenticated:
        return qs.none()
    if p.is_admin:
        return qs
    rules = rules_for(qs.model)
    if rules is None:
        return qs.none()
    if p.is_study_team and rules.study_team_reads:
        return qs
    return qs.filter(rules.visible(p)).distinct()


def get_visible_or_404(who: Any, model_or_qs: type[M] | QuerySet[M], **lookup: Any) -> M:
    """One visible row matching ``lookup``; 404 when it does not exist *or* is not visible."""
    try:
        return visible(who, model_or_qs).get(**lookup)
    except (model_or_qs.model if isinstance(model_or_qs, QuerySet)
            else model_or_qs).DoesNotExist:
        raise Http404 from None


def can_change(who: Any, obj: Model) -> bool:
    """Whether ``who`` may change (or delete) ``obj``; the study team never may."""
    p = _p(who)
    if not p.is_authenticated:
        return False
    if p.is_admin:
        return True
    rules = rules_for(type(obj))
    return bool(rules and rules.change(p, obj))


def require_change(who: Any, obj: Model) -> None:
    """Raise ``PermissionDenied`` (403) unless :func:`can_change`."""
    if not can_change(who, obj):
        raise PermissionDenied


def can_create(who: Any, model: type[Model]) -> bool:
    """Whether ``who`` may create rows of ``model``."""
    p = _p(who)
    if not p.is_authenticated:
        return False
    if p.is_admin:
        return True
    rules = rules_for(model)
    return bool(rules and rules.create(p))


def require_create(who: Any, model: type[Model]) -> None:
    """Raise ``PermissionDenied`` (403) unless :func:`can_create`."""
    if not can_create(who, model):
        raise PermissionDenied


def role_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Page decorator: 403 unless the user holds one of ``roles`` (administrators pass)."""

    def deco(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not principal(request.user).has(*roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return deco

# ---------------------------------------------------------------------------
# login and API authentication
# ---------------------------------------------------------------------------


class LoginRequiredMiddleware(_DjangoLoginRequired):
    """Every page needs a login unless its view is marked ``@login_not_required``.

    The API (``/api/``) authenticates itself (Bearer tokens), so it is exempt here.
    A view marked ``@login_not_required`` (``/healthz``, the login page, the public
    dashboard) is let through before ``request.user`` is touched, so it costs no
    session or user query (Django's own middleware asks for the user first).
    """

    def process_view(self, request: HttpRequest, view_func: Any, view_args: Any,
                     view_kwargs: Any) -> Any:
        if request.path_info.startswith("/api/"):
            return None
        if not getattr(view_func, "login_required", True):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


def token_digest(token: str) -> str:
    """How a token is stored: its SHA-256 (the token itself is shown once)."""
    return hashlib.sha256(token.encode()).hexdigest()


class BearerAuth(HttpBearer):
    """Django Ninja auth: ``Authorization: Bearer <token>`` from ``POST /api/token``.

    On success ``request.user`` is the token's user, so the audit log records
    who changed what through the API as it does for pages.
    """

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from django.utils import timezone

        from ozamonitor.web.core.models import ApiToken

        try:
            row = ApiToken.objects.select_related("user").get(digest=token_digest(token.strip()))
        except ApiToken.DoesNotExist:
            return None
        if not row.user.is_active or (row.expires and row.expires < timezone.now()):
            return None
        request.user = row.user
        return row.user
