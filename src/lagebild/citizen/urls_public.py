"""Public reporting under /melden/ (no login)."""

from django.urls import path

from . import views_public as views

app_name = "melden"
urlpatterns = [
    path("", views.start, name="start"),
    path("orte/", views.place_suggestions, name="places"),
    path("gebiete.geojson", views.areas_geojson, name="areas"),
    path("unterstuetzen/", views.support, name="support"),
    path("danke/", views.thanks, name="thanks"),
    path("eingegangen/<str:token>/", views.done, name="done"),
    path("status/<str:token>/", views.status, name="status"),
    path("fotos/<int:pk>/", views.photo, name="photo"),
    path("<slug:code>/", views.report_form, name="form"),
    path("<slug:code>/in-der-naehe/", views.nearby, name="nearby"),
]
