"""Root URLs: the core pages, the API, and every ozamonitor app under its prefix."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from ozamonitor.web.api import api
from ozamonitor.web.apps import ozamonitor_apps
from ozamonitor.web.core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True),
         name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("audit/", views.audit_log, name="audit"),
    path("audit/export.<str:fmt>", views.audit_export, name="audit_export"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]

for _app in ozamonitor_apps():
    if _app.url_prefix is not None:
        urlpatterns.append(path(_app.url_prefix, include(f"{_app.name}.urls")))

handler403 = "ozamonitor.web.core.views.error_403"
handler404 = "ozamonitor.web.core.views.error_404"
handler500 = "ozamonitor.web.core.views.error_500"
