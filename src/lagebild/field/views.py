"""Placeholder: replaced by the real views."""
from django.http import HttpResponse


def overview(request, *args, **kwargs):
    return HttpResponse('TODO')


def overview_points(request, *args, **kwargs):
    return HttpResponse('TODO')


def incident_list(request, *args, **kwargs):
    return HttpResponse('TODO')


def incident_create(request, *args, **kwargs):
    return HttpResponse('TODO')


def incident_detail(request, *args, **kwargs):
    return HttpResponse('TODO')


def measure_add(request, *args, **kwargs):
    return HttpResponse('TODO')


def shift_list(request, *args, **kwargs):
    return HttpResponse('TODO')


def shift_create(request, *args, **kwargs):
    return HttpResponse('TODO')


def shift_detail(request, *args, **kwargs):
    return HttpResponse('TODO')


def patrol_create(request, *args, **kwargs):
    return HttpResponse('TODO')


def patrol_detail(request, *args, **kwargs):
    return HttpResponse('TODO')


def patrol_start(request, *args, **kwargs):
    return HttpResponse('TODO')


def patrol_end(request, *args, **kwargs):
    return HttpResponse('TODO')
