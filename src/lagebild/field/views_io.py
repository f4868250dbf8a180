"""Placeholder: replaced by the real views."""
from django.http import HttpResponse


def export_csv(request, *args, **kwargs):
    return HttpResponse('TODO')


def export_geojson(request, *args, **kwargs):
    return HttpResponse('TODO')


def import_upload(request, *args, **kwargs):
    return HttpResponse('TODO')
