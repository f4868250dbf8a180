"""Open-data files: ``<dataset>-YYYY-MM.csv``, ``<dataset>-YYYY.csv`` and ``<dataset>-YYYY-MM.geojson``.

Any number is accepted in the pattern so that a month 13 or a year 1800 gets the German "not
published" page from the view instead of the generic 404.
"""

from django.urls import path, re_path

from . import views_opendata

_DATASET = r"(?P<dataset>[a-z]{1,40})"
_YEAR = r"(?P<year>\d{1,6})"
_MONTH = r"(?P<month>\d{1,6})"

urlpatterns = [
    path("", views_opendata.index, name="index"),
    re_path(rf"^{_DATASET}-{_YEAR}-{_MONTH}\.csv$", views_opendata.month_csv, name="month-csv"),
    re_path(rf"^{_DATASET}-{_YEAR}-{_MONTH}\.geojson$", views_opendata.month_geojson, name="month-geojson"),
    re_path(rf"^{_DATASET}-{_YEAR}\.csv$", views_opendata.year_csv, name="year-csv"),
]
