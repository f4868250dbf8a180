"""Areas (districts, focus areas, patrol zones, ...) and a small gazetteer of named places."""

from __future__ import annotations

from django.db import models


class Area(models.Model):
    class Kind(models.TextChoices):
        CITY = "city", "Stadtgebiet"
        DISTRICT = "district", "Stadtbezirk"
        STATISTICAL_DISTRICT = "statistical_district", "Statistischer Bezirk"
        PATROL_ZONE = "patrol_zone", "Streifenbereich"
        FOCUS_AREA = "focus_area", "Schwerpunktraum"
        VIDEO_AREA = "video_area", "Videobeobachteter Ort"
        CUSTOM = "custom", "Eigenes Gebiet"

    kind = models.CharField("Art", max_length=30, choices=Kind.choices, db_index=True)
    code = models.SlugField("Kürzel", max_length=60)
    name = models.CharField("Name", max_length=200)
    geometry = models.JSONField(
        "Geometrie (GeoJSON, WGS84)",
        help_text="GeoJSON-Polygon oder -MultiPolygon in geografischen Koordinaten (WGS84).",
    )
    min_lon = models.FloatField(editable=False, default=0)
    min_lat = models.FloatField(editable=False, default=0)
    max_lon = models.FloatField(editable=False, default=0)
    max_lat = models.FloatField(editable=False, default=0)
    area_km2 = models.FloatField("Fläche (km²)", editable=False, default=0)
    is_approximate = models.BooleanField(
        "Näherung", default=False, help_text="Die Grenze ist nur angenähert, nicht amtlich."
    )
    source = models.CharField("Quelle", max_length=300, blank=True)
    active = models.BooleanField("Aktiv", default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Gebiet"
        verbose_name_plural = "Gebiete"
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="area_kind_code_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class Place(models.Model):
    """A named street, square or facility, so that officers can locate by address text offline."""

    class Kind(models.TextChoices):
        STREET = "street", "Straße"
        PLACE = "place", "Platz"
        FACILITY = "facility", "Einrichtung"
        STATION = "station", "Haltestelle/Bahnhof"

    name = models.CharField("Name", max_length=200)
    kind = models.CharField("Art", max_length=20, choices=Kind.choices, default=Kind.STREET)
    aliases = models.CharField("Andere Namen", max_length=400, blank=True)
    lat = models.FloatField("Breite")
    lon = models.FloatField("Länge")

    class Meta:
        verbose_name = "Ort"
        verbose_name_plural = "Orte (Ortsverzeichnis)"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
