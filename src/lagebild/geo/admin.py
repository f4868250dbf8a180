import json

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from lagebild.core.admin_scoping import AuthorityAdminMixin
from lagebild.core.models import Authority

from .geometry import InvalidGeometry, parse_polygon
from .models import Area, Place
from .services import area_save


class AreaForm(forms.ModelForm):
    geometry = forms.JSONField(
        label="Geometrie (GeoJSON, WGS84)",
        widget=forms.Textarea(attrs={"rows": 8, "class": "vLargeTextField"}),
        help_text="GeoJSON-Polygon oder -MultiPolygon, z. B. aus einem GIS exportiert.",
    )

    class Meta:
        model = Area
        fields = ["kind", "code", "name", "geometry", "is_approximate", "source", "active"]

    def clean_geometry(self) -> dict:
        value = self.cleaned_data["geometry"]
        try:
            parse_polygon(value)
        except InvalidGeometry as exc:
            raise ValidationError(str(exc)) from exc
        return value


@admin.register(Area)
class AreaAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    # Shared geography, maintained by the city; the police read it.
    authority_field = None
    shared_editor_kinds = frozenset({Authority.Kind.CITY})
    form = AreaForm
    list_display = ["name", "kind", "code", "area_km2", "is_approximate", "active"]
    list_filter = ["kind", "active", "is_approximate"]
    search_fields = ["name", "code"]
    change_form_template = "admin/geo/area/change_form.html"

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        area_save(area=obj, geometry=form.cleaned_data["geometry"])

    def render_change_form(self, request, context, *args, **kwargs):  # type: ignore[no-untyped-def]
        obj = context.get("original")
        context["area_geojson"] = json.dumps(obj.geometry) if obj is not None else "null"
        return super().render_change_form(request, context, *args, **kwargs)


@admin.register(Place)
class PlaceAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    authority_field = None
    shared_editor_kinds = frozenset({Authority.Kind.CITY})
    list_display = ["name", "kind", "lat", "lon"]
    list_filter = ["kind"]
    search_fields = ["name", "aliases"]
