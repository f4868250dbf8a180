"""Public open data under /offene-daten/ (namespace ``opendata``), no login."""

from django.urls import include, path

app_name = "opendata"

urlpatterns = [path("", include("lagebild.analytics.urls_opendata"))]
