"""AppConfig of the questionnaire."""

from django.utils.translation import gettext_lazy as _

from ozamonitor.web.apps import NavItem, OzamonitorApp


class SurveyConfig(OzamonitorApp):
    """The four-level questionnaire: waves, parts per respondent, drafts, exports."""

    name = "ozamonitor.web.survey"
    label = "survey"
    verbose_name = _("Questionnaire")
    url_prefix = "survey/"
    api_prefix = "survey"
    nav = (NavItem(_("Questionnaire"), "survey:index", order=30,
                   visible=lambda p: p.has("study_team", "swv_staff", "school_staff",
                                           "provider_staff")),)
