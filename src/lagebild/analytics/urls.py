"""Internal analytics pages under /auswertung/ (namespace ``analytics``)."""

from django.urls import include, path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.index, name="index"),
    path("", include("lagebild.analytics.urls_cockpit")),
    path("", include("lagebild.analytics.urls_balance")),
    path("", include("lagebild.analytics.urls_displacement")),
    path("", include("lagebild.analytics.urls_hotspots")),
]
