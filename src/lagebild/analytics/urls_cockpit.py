"""CompStat cockpit: /auswertung/lage/ with its PDF and XLSX (same GET parameters)."""

from django.urls import path

from . import views_cockpit

urlpatterns = [
    path("lage/", views_cockpit.cockpit_page, name="cockpit"),
    path("lage.pdf", views_cockpit.cockpit_pdf, name="cockpit-pdf"),
    path("lage.xlsx", views_cockpit.cockpit_xlsx, name="cockpit-xlsx"),
]
