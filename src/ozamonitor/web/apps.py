"""The base of every ozamonitor web app: URL prefix, API router, navigation, access rules.

An app (``src/ozamonitor/web/<app>/``) declares itself with an
:class:`OzamonitorApp` subclass in its ``apps.py`` and is listed in
``settings.OZAMONITOR_WEB_APPS``; the core then

- includes ``<app>.urls`` under :attr:`OzamonitorApp.url_prefix`
  (``/registry/``, ``/dashboard/``, ...);
- mounts ``<app>.api.router`` (a Django Ninja ``Router``), if the module exists,
  under ``/api/`` + :attr:`OzamonitorApp.api_prefix`;
- shows :attr:`OzamonitorApp.nav` entries in the menu for users they apply to;
- imports ``<app>.rules`` (if it exists) when Django starts, where the app
  registers the access rules of its models with :func:`ozamonitor.web.access.register`
  and any roles of its own with :func:`ozamonitor.web.access.register_role`.

Nothing in the core names an app, so apps are added without touching it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.apps import AppConfig, apps
from django.urls import NoReverseMatch, reverse

if TYPE_CHECKING:
    from django.http import HttpRequest

    from ozamonitor.web.access import Principal


@dataclass(frozen=True)
class NavItem:
    """A menu entry.

    Parameters
    ----------
    label : str
        Lazily translated label (``gettext_lazy``).
    url_name : str
        The URL name to link to.
    visible : callable, optional
        ``visible(principal) -> bool``; default: every logged-in user. Use
        ``lambda p: True`` together with ``public=True`` for anonymous pages.
    public : bool
        Shown to anonymous visitors too (the public dashboard).
    order : int
        Position in the menu (smaller first).
    """

    label: Any
    url_name: str
    visible: Callable[[Principal], bool] | None = None
    public: bool = False
    order: int = 100


class OzamonitorApp(AppConfig):
    """Base class of the AppConfig of every ozamonitor web app."""

    default_auto_field = "django.db.models.BigAutoField"
    #: Django picks the AppConfig of an ``apps.py`` among the classes it defines or imports;
    #: the base is never picked, each subclass is (see ``__init_subclass__``).
    default = False
    #: URL prefix of the app's pages (``"registry/"``); ``None``: no pages.
    url_prefix: str | None = None
    #: Prefix under ``/api/`` of the app's Ninja router (``""`` mounts it at ``/api/``).
    api_prefix: str = ""
    #: Menu entries.
    nav: tuple[NavItem, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "default" not in cls.__dict__:
            cls.default = True

    def ready(self) -> None:
        """Import ``<app>.rules`` so the app's access rules are registered."""
        self.module_of("rules")

    def module_of(self, name: str) -> Any | None:
        """The app's optional module ``<app>.<name>``, or None when it has none."""
        try:
            return importlib.import_module(f"{self.name}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{self.name}.{name}":
                raise
            return None

    def api_router(self) -> Any | None:
        """The app's Ninja router (``<app>.api.router``) or None."""
        return getattr(self.module_of("api"), "router", None)

    def demo_accounts(self, orgs: dict[str, Any]) -> list[tuple[str, str, Any]]:
        """Extra demo accounts ``(username, role, organisation)`` the app needs.

        From ``<app>.demo.accounts(orgs)`` if the app has one (roles of its own,
        such as a case director); the core creates and prints them with the others.
        """
        fn = getattr(self.module_of("demo"), "accounts", None)
        return list(fn(orgs)) if fn is not None else []

    def load_demo(self, register: Any, orgs: dict[str, Any]) -> None:
        """Add the app's demo data: ``<app>.demo.load(register, orgs)`` if it exists.

        Called by ``ozamonitor web init --demo`` after the registry and the accounts
        exist, inside the same transaction, with the synthetic
        :class:`~ozamonitor.register.store.Register` and the organisations by code.
        """
        fn = getattr(self.module_of("demo"), "load", None)
        if fn is not None:
            fn(register, orgs)


def ozamonitor_apps() -> list[OzamonitorApp]:
    """The installed ozamonitor apps, in settings order."""
    return [a for a in apps.get_app_configs() if isinstance(a, OzamonitorApp)]


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Template context processor: ``nav_items`` for the current user."""
    from ozamonitor.web.access import principal

    p = principal(request.user)
    items = []
    for app in ozamonitor_apps():
        for item in app.nav:
            if not p.is_authenticated and not item.public:
                continue
            if item.visible is not None and not item.visible(p):
                continue
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                continue
            items.append((item.order, str(item.label), url))
    items.sort(key=lambda t: t[0])
    path = request.path
    return {
        "nav_items": [{"label": lbl, "url": url, "active": path.startswith(url)}
                      for _, lbl, url in items],
        "principal": p,
    }
