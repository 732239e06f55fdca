"""URLs of the registry (mounted under /registry/)."""

from django.urls import path
from django.views.generic import RedirectView

from ozamonitor.web.registry import views

app_name = "registry"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="registry:initiatives"), name="index"),
    path("initiatives/", views.initiative_list, name="initiatives"),
    path("initiatives/new/", views.initiative_edit, name="initiative_new"),
    path("initiatives/checks/", views.initiative_preview, name="initiative_preview"),
    path("initiatives/<str:code>/", views.initiative_detail, name="initiative"),
    path("initiatives/<str:code>/edit/", views.initiative_edit, name="initiative_edit"),
    path("initiatives/<str:code>/checks/", views.initiative_checks, name="initiative_checks"),
    path("initiatives/<str:code>/delete/", views.initiative_delete, name="initiative_delete"),
    path("initiatives/<str:code>/attachments/", views.attachment_upload,
         name="attachment_upload"),
    path("initiatives/<str:code>/history/", views.object_history,
         {"kind": "initiative"}, name="initiative_history"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("attachments/<int:pk>/delete/", views.attachment_delete, name="attachment_delete"),
    path("arrangements/", views.arrangement_list, name="arrangements"),
    path("arrangements/new/", views.arrangement_edit, name="arrangement_new"),
    path("arrangements/<str:code>/", views.arrangement_detail, name="arrangement"),
    path("arrangements/<str:code>/edit/", views.arrangement_edit, name="arrangement_edit"),
    path("arrangements/<str:code>/delete/", views.arrangement_delete,
         name="arrangement_delete"),
    path("arrangements/<str:code>/history/", views.object_history,
         {"kind": "arrangement"}, name="arrangement_history"),
    path("arrangements/<str:code>/partners/<int:pk>/", views.partner_edit,
         name="partner_edit"),
    path("export.<str:fmt>", views.export, name="export"),
]
