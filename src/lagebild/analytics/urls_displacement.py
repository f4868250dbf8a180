"""Displacement analysis: /auswertung/verdraengung/ and its PDF."""

from django.urls import path

from . import views_displacement as views

urlpatterns = [
    path("verdraengung/", views.displacement, name="displacement"),
    path("verdraengung.pdf", views.displacement_pdf, name="displacement-pdf"),
]
