"""Cautions with a fee (§ 56 OWiG): documented from the incident page, paid at the Bußgeldstelle;
included by urls.py."""

from django.urls import URLPattern, path

from . import views_caution as views

urlpatterns: list[URLPattern] = [
    path("massnahmen/<int:pk>/verwarnung/", views.caution_give, name="caution-give"),
    path("verwarnungen/", views.caution_list, name="caution-list"),
    path("verwarnungen/<int:pk>/bezahlt/", views.caution_paid, name="caution-paid"),
]
