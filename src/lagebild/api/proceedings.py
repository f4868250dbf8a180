"""API of the offence proceedings (issue 15, item 7): registered on the v1 router by ``register``."""

from __future__ import annotations

from django.urls import URLPattern
from rest_framework.routers import DefaultRouter

urlpatterns: list[URLPattern] = []


def register(router: DefaultRouter) -> None:
    """Add the proceedings' viewsets to the v1 router."""
