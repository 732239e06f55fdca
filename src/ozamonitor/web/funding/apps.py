"""AppConfig of the who-pays pages."""

from django.utils.translation import gettext_lazy as _

from ozamonitor.web.apps import NavItem, OzamonitorApp


class FundingConfig(OzamonitorApp):
    """The funding-route advisor over :mod:`ozamonitor.funding` (issue 13)."""

    name = "ozamonitor.web.funding"
    label = "funding"
    verbose_name = _("Who pays")
    url_prefix = "funding/"
    api_prefix = "funding"
    nav = (NavItem(_("Who pays?"), "funding:advisor", order=30),)
