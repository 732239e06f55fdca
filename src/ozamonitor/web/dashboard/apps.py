"""AppConfig of the public dashboard."""

from django.utils.translation import gettext_lazy as _

from ozamonitor.web.apps import NavItem, OzamonitorApp


class DashboardConfig(OzamonitorApp):
    """Public pages and API over a publication folder (no database models)."""

    name = "ozamonitor.web.dashboard"
    label = "dashboard"
    verbose_name = _("Dashboard")
    url_prefix = "dashboard/"
    api_prefix = "dashboard"
    nav = (
        NavItem(_("Dashboard"), "dashboard:index", visible=lambda p: True, public=True,
                order=1),
        NavItem(_("OZA monitor"), "dashboard:monitor", visible=lambda p: True, public=True,
                order=2),
    )
