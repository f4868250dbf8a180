from django.urls import path

from . import views

app_name = "geo"
urlpatterns = [
    path("gebiete.geojson", views.areas_geojson, name="areas-geojson"),
    path("orte/", views.place_suggestions, name="place-suggestions"),
    path("orte.geojson", views.places_geojson, name="places-geojson"),
    path("ort-am-punkt/", views.place_at_point, name="place-at-point"),
]
