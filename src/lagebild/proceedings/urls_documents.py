"""Letters (PDF, also in bulk for a day's output) and the case file export; included by urls.py."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
