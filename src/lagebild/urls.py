from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from lagebild.accounts.views import LoginView
from lagebild.core.views import favicon

urlpatterns = [
    path("anmelden/", LoginView.as_view(), name="login"),
    path("abmelden/", auth_views.LogoutView.as_view(), name="logout"),
    path("favicon.ico", favicon, name="favicon"),
    path("konto/", include("lagebild.accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("lagebild.api.urls")),
    path("geo/", include("lagebild.geo.urls")),
    path("melden/", include("lagebild.citizen.urls_public")),
    path("hinweise/", include("lagebild.citizen.urls_office")),
    path("open311/v2/", include("lagebild.citizen.open311.urls")),
    path("auswertung/", include("lagebild.analytics.urls")),
    path("sonderstab/", include("lagebild.taskforce.urls")),
    path("sonderstab/", include("lagebild.taskforce.urls_feeds")),
    path("offene-daten/", include("lagebild.analytics.urls_public")),
    path("bodycam/", include("lagebild.bodycam.urls")),
    path("weitergaben/", include("lagebild.sharing.urls")),
    path("bussgeld/", include("lagebild.proceedings.urls")),
    path("prognose/", include("lagebild.forecast.urls")),
    path("einsatzplanung/", include("lagebild.deployment.urls")),
    path("datenschutz/protokoll/", include("lagebild.core.urls_audit")),
    # Health and metrics (/healthz, /readyz, /metrics), served early by OpsEndpointsMiddleware.
    path("", include("lagebild.ops.urls")),
    path("", include("lagebild.field.urls")),
]
