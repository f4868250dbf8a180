"""Health and metrics endpoints at the root of the site (``/healthz``, ``/readyz``, ``/metrics``)."""

from django.urls import path

from . import views

app_name = "ops"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics_view, name="metrics"),
]
