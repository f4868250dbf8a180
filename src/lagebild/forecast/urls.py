"""Forecast pages under /prognose/ (namespace "forecast")."""

from django.urls import URLPattern, path

from . import views

app_name = "forecast"

urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("zone/<int:area_id>/", views.zone, name="zone"),
    path("zone/<int:area_id>/geojson/", views.zone_geojson, name="zone-geojson"),
    path("backtest/", views.backtest, name="backtest"),
    path("backtest.pdf", views.backtest_pdf, name="backtest-pdf"),
]
