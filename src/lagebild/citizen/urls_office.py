from django.urls import path

from . import views_office as views

app_name = "office"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("punkte.geojson", views.report_points, name="report-points"),
    path("neu/", views.report_create, name="report-create"),
    path("streife/", views.patrol_reports, name="patrol-reports"),
    path("statistik/", views.statistics, name="statistics"),
    path("<int:pk>/", views.report_detail, name="report-detail"),
    path("<int:pk>/status/", views.report_transition, name="report-transition"),
    path("<int:pk>/schritt/", views.report_step, name="report-step"),
    path("<int:pk>/zuweisen/", views.report_assign, name="report-assign"),
    path("<int:pk>/zusammenfuehren/", views.report_merge, name="report-merge"),
    path("<int:pk>/feststellung/", views.report_link_incident, name="report-link-incident"),
    path("<int:pk>/fotos/<int:photo_pk>/", views.photo_file, name="photo"),
    path("<int:pk>/fotos/<int:photo_pk>/schwaerzen/", views.photo_redact, name="photo-redact"),
    path("<int:pk>/fotos/<int:photo_pk>/freigabe/", views.photo_release, name="photo-release"),
]
