"""URLs of the dashboard (mounted under /dashboard/)."""

from django.urls import path

from ozamonitor.web.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.index, name="index"),
    path("download/<str:view>.<str:fmt>", views.download, name="download"),
    path("monitor/", views.monitor, name="monitor"),
    path("monitor/<str:name>.<str:fmt>", views.monitor_download, name="monitor_download"),
    path("definitions/", views.definitions, name="definitions"),
    path("definitions/<str:name>/", views.definition, name="definition"),
    path("plotly.min.js", views.plotly_js, name="plotly"),
]
