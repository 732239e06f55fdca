"""AppConfig of the case chain."""

from django.utils.translation import gettext_lazy as _

from ozamonitor.web.apps import NavItem, OzamonitorApp

#: Roles that work with cases (see rules.py).
CASE_ROLES = ("leerplichtambtenaar", "casusregisseur", "swv_staff", "school_staff")


class CaseworkConfig(OzamonitorApp):
    """Cases from absence signals, their timers and the 3-month alarm (issue 14)."""

    name = "ozamonitor.web.casework"
    label = "casework"
    verbose_name = _("Case chain")
    url_prefix = "cases/"
    api_prefix = "cases"
    nav = (
        NavItem(_("Cases"), "casework:list", order=40, visible=lambda p: p.has(*CASE_ROLES)),
        NavItem(_("Case counts"), "casework:counts", order=45,
                visible=lambda p: p.is_study_team),
    )
