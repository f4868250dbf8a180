from django.urls import path

from . import views, views_io

app_name = "field"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("karte/punkte.geojson", views.overview_points, name="overview-points"),
    path("feststellungen/", views.incident_list, name="incident-list"),
    path("feststellungen/neu/", views.incident_create, name="incident-create"),
    path("feststellungen/<int:pk>/", views.incident_detail, name="incident-detail"),
    path("feststellungen/<int:pk>/massnahme/", views.measure_add, name="measure-add"),
    path("feststellungen/export.csv", views_io.export_csv, name="incident-export-csv"),
    path("feststellungen/tabelle.csv", views_io.export_table, name="incident-export-table"),
    path("feststellungen/export.geojson", views_io.export_geojson, name="incident-export-geojson"),
    path("feststellungen/import/", views_io.import_upload, name="incident-import"),
    path("schichten/", views.shift_list, name="shift-list"),
    path("schichten/neu/", views.shift_create, name="shift-create"),
    path("schichten/<int:pk>/", views.shift_detail, name="shift-detail"),
    path("schichten/<int:pk>/streife/", views.patrol_create, name="patrol-create"),
    path("streifen/<int:pk>/", views.patrol_detail, name="patrol-detail"),
    path("streifen/<int:pk>/beginn/", views.patrol_start, name="patrol-start"),
    path("streifen/<int:pk>/ende/", views.patrol_end, name="patrol-end"),
    path("streifen/<int:pk>/mitglieder/", views.patrol_members, name="patrol-members"),
]
