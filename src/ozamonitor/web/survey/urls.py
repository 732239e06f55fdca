"""URLs of the questionnaire (mounted under /survey/)."""

from django.urls import path

from ozamonitor.web.survey import views

app_name = "survey"

urlpatterns = [
    path("", views.index, name="index"),
    path("waves/new/", views.wave_new, name="wave_new"),
    path("waves/<int:year>/", views.wave_detail, name="wave"),
    path("waves/<int:year>/toggle/", views.wave_toggle, name="wave_toggle"),
    path("waves/<int:year>/remind/", views.wave_remind, name="wave_remind"),
    path("waves/<int:year>/export.<str:fmt>", views.wave_export, name="wave_export"),
    path("waves/<int:year>/<str:code>/<str:part>/", views.answer, name="answer"),
]
