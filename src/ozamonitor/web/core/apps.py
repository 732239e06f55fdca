"""AppConfig of the core."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Organisations, memberships (roles), API tokens, home, audit log, health check."""

    name = "ozamonitor.web.core"
    label = "core"
    verbose_name = _("Core")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ozamonitor.web.core import rules  # noqa: F401  (registers access rules)
