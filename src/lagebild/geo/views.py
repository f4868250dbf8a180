import math

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import points
from .models import Area
from .selectors import area_list, areas_feature_collection, describe_point, place_search, places_in_box


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


def _coordinate(request: HttpRequest, name: str, kind: str) -> float:
    return points.parse_coordinate(request.GET.get(name, "")[:40], kind=kind)


@login_required
@require_GET
def place_at_point(request: HttpRequest) -> JsonResponse:
    """Reverse geocoding for the entry form: the nearest street or place of the gazetteer.

    ``?lat=51.51&lon=7.46`` answers ``{"address_text": "Nähe Hansaplatz (ca. 120 m)", ...}``;
    an empty ``address_text`` means nothing named is near. No external service is asked.
    """
    try:
        lat = _coordinate(request, "lat", "Breite")
        lon = _coordinate(request, "lon", "Länge")
    except points.InvalidCoordinate as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    found = describe_point(lat, lon)
    return JsonResponse(
        {
            "address_text": found.text,
            "place": found.place,
            "distance_m": found.distance_m,
            "area": found.area,
        }
    )


@login_required
@require_GET
def places_geojson(request: HttpRequest) -> JsonResponse:
    """Named places of the gazetteer inside ``?bbox=min_lon,min_lat,max_lon,max_lat`` as GeoJSON
    points, so maps without tiles can show street and place names for orientation."""
    parts = request.GET.get("bbox", "").split(",")
    try:
        min_lon, min_lat, max_lon, max_lat = (float(part) for part in parts)
        if not all(math.isfinite(v) for v in (min_lon, min_lat, max_lon, max_lat)):
            raise ValueError
    except ValueError:
        return JsonResponse({"error": "bbox=min_lon,min_lat,max_lon,max_lat erwartet."}, status=400)
    places = places_in_box(min_lat, min_lon, max_lat, max_lon)
    return JsonResponse(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": place.pk,
                    "geometry": {"type": "Point", "coordinates": [place.lon, place.lat]},
                    "properties": {"name": place.name, "kind": place.kind},
                }
                for place in places
            ],
        }
    )
