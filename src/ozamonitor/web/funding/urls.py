"""URLs of the who-pays pages (mounted under /funding/)."""

from django.urls import path

from ozamonitor.web.funding import matrices, views

app_name = "funding"

urlpatterns = [
    path("", views.advisor, name="advisor"),
    path("maps/", views.map_list, name="maps"),
    path("maps.<str:fmt>", views.maps_export, name="maps_export"),
    path("maps/<str:code>/", views.map_detail, name="map"),
    path("maps/<str:code>/map.json", views.map_json, name="map_json"),
    path("maps/<str:code>/delete/", views.map_delete, name="map_delete"),
    path("summary/", views.summary, name="summary"),
    path("summary.<str:fmt>", views.summary_export, name="summary_export"),
    path("matrices/", matrices.matrix_list, name="matrices"),
    path("matrices/new/", matrices.matrix_edit, name="matrix_new"),
    path("matrices/<int:pk>/", matrices.matrix_detail, name="matrix"),
    path("matrices/<int:pk>/edit/", matrices.matrix_edit, name="matrix_edit"),
    path("matrices/<int:pk>/matrix.yaml", matrices.matrix_yaml, name="matrix_yaml"),
    path("matrices/<int:pk>/delete/", matrices.matrix_delete, name="matrix_delete"),
]
