from django.urls import path

from . import views_audit

app_name = "audit"

urlpatterns = [
    path("", views_audit.search, name="search"),
    path("zugriffe/", views_audit.accesses, name="accesses"),
]
