"""URLs of the case chain (mounted under /cases/)."""

from django.urls import path

from ozamonitor.web.casework import views

app_name = "casework"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("due/", views.due_list, name="due"),
    path("new/", views.case_new, name="new"),
    path("import/", views.case_import, name="import"),
    path("oogo/", views.oogo_list, name="oogo"),
    path("counts/", views.counts, name="counts"),
    path("ledger.<str:fmt>", views.ledger_export, name="ledger"),
    path("<str:code>/", views.case_detail, name="case"),
    path("<str:code>/events/", views.event_add, name="event_add"),
    path("<str:code>/director/", views.director_set, name="director_set"),
    path("<str:code>/consents/", views.consent_add, name="consent_add"),
    path("<str:code>/ledger/", views.ledger_add, name="ledger_add"),
]
