"""Administration pages for the registry (administrators; the pages at /registry/ are for
everyone else)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from ozamonitor.web.registry.models import Arrangement, Initiative


@admin.register(Initiative)
class InitiativeAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "swv", "applicant", "admitted")
    list_filter = ("admitted",)
    search_fields = ("code", "name")
    raw_id_fields = ("applicant", "swv")


@admin.register(Arrangement)
class ArrangementAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "swv", "type", "status")
    list_filter = ("status", "type", "sector")
    search_fields = ("code", "name")
    raw_id_fields = ("initiative", "swv", "gemeente")
