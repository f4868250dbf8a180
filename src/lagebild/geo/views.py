from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from .models import Area
from .selectors import area_list, areas_feature_collection, place_search


@login_required
def areas_geojson(request: HttpRequest) -> JsonResponse:
    kinds = [k for k in request.GET.getlist("kind") if k in Area.Kind.values]
    return JsonResponse(areas_feature_collection(area_list(kinds=kinds or None)))


@login_required
def place_suggestions(request: HttpRequest) -> HttpResponse:
    """Offline gazetteer lookup; answers an htmx fragment or JSON."""
    places = place_search(request.GET.get("q", request.GET.get("address_text", ""))[:100])
    if request.GET.get("format") == "json":
        return JsonResponse(
            {"results": [{"name": p.name, "kind": p.kind, "lat": p.lat, "lon": p.lon} for p in places]}
        )
    return render(request, "geo/place_suggestions.html", {"places": places})
