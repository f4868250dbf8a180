"""Pages of the bodycam evidence register (included under /bodycam/). No URL serves the
recordings directory: the file is only answered by ``recording_file`` after a logged reason."""

from django.urls import path

from . import views

app_name = "bodycam"

urlpatterns = [
    path("", views.recording_list, name="list"),
    path("neu/", views.recording_register, name="register"),
    path("<int:pk>/", views.recording_detail, name="detail"),
    path("<int:pk>/zugriff/", views.recording_access, name="access"),
    path("<int:pk>/datei/", views.recording_file, name="file"),
    path("<int:pk>/uebergabe/", views.recording_handover, name="handover"),
    path("<int:pk>/sicherung/", views.retention_request, name="retention"),
    path(
        "<int:pk>/sicherung/<int:decision_pk>/bestaetigen/",
        views.retention_confirm,
        name="retention-confirm",
    ),
    path(
        "<int:pk>/sicherung/<int:decision_pk>/ablehnen/",
        views.retention_reject,
        name="retention-reject",
    ),
]
