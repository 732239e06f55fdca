"""AppConfig of the registry."""

from django.utils.translation import gettext_lazy as _

from ozamonitor.web.apps import NavItem, OzamonitorApp


class RegistryConfig(OzamonitorApp):
    """Initiatives and arrangements, their documents and the Besluit checks."""

    name = "ozamonitor.web.registry"
    label = "registry"
    verbose_name = _("Arrangements registry")
    url_prefix = "registry/"
    api_prefix = ""
    nav = (
        NavItem(_("Initiatives"), "registry:initiatives", order=10),
        NavItem(_("Arrangements"), "registry:arrangements", order=20),
    )
