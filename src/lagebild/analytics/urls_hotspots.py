"""Hotspots under /auswertung/brennpunkte/: page, map data and downloads."""

from django.urls import path

from . import views_hotspots as views

urlpatterns = [
    path("brennpunkte/", views.hotspots_page, name="hotspots"),
    path("brennpunkte/karte.json", views.hotspots_map, name="hotspots-map"),
    path("brennpunkte/kerndichte.geojson", views.kde_geojson, name="hotspots-kde-geojson"),
    path("brennpunkte/kerndichte.asc", views.kde_ascii, name="hotspots-kde-asc"),
    path("brennpunkte/kerndichte.prj", views.kde_prj, name="hotspots-kde-prj"),
    path("brennpunkte/gistar.geojson", views.gi_geojson, name="hotspots-gi-geojson"),
]
