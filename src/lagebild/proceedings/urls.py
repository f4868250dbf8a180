"""Pages of the Bußgeldstelle under /bussgeld/ (worklist, cases, steps) and its documents."""

from django.urls import URLPattern, URLResolver

from . import urls_documents

app_name = "proceedings"

urlpatterns: list[URLPattern | URLResolver] = [
    *urls_documents.urlpatterns,
]
