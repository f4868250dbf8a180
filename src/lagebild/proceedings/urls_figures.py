"""Figures page and case export (CSV) of the offence proceedings; included by ``proceedings/urls.py``."""

from django.urls import URLPattern, path

from . import views_figures

urlpatterns: list[URLPattern] = [
    path("kennzahlen/", views_figures.dashboard, name="figures"),
    path("verfahren/export.csv", views_figures.case_export_csv, name="case-export-csv"),
]
