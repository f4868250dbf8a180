"""Letters (PDF, also in bulk for a day's output) and the case file export; included by urls.py."""

from django.urls import URLPattern, path

from . import views_documents as views

urlpatterns: list[URLPattern] = [
    path("verfahren/<int:pk>/anhoerung.pdf", views.hearing_pdf, name="letter-hearing"),
    path("verfahren/<int:pk>/bescheid.pdf", views.notice_pdf, name="letter-notice"),
    path("verfahren/<int:pk>/mahnung.pdf", views.reminder_pdf, name="letter-reminder"),
    path("verfahren/<int:pk>/akte/", views.export_view, name="case-export"),
    path("verwarnungen/<int:pk>/bescheinigung.pdf", views.caution_pdf, name="letter-caution"),
    path("schreiben/tagesausgang.pdf", views.day_output_pdf, name="letters-day"),
]
