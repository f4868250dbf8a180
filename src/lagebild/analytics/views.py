"""The analytics landing page; each analysis has its own views module."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

SECTIONS = (
    (
        "analytics:cockpit",
        "Lagebild (CompStat)",
        "Woche, 28 Tage und Jahr im Vergleich zum Vorjahr mit Poisson-Test.",
    ),
    ("analytics:hotspots", "Brennpunkte", "Kerndichte, Getis-Ord Gi* und Konzentration auf Rasterzellen."),
    ("analytics:displacement", "Verdrängung", "WDD und WDQ für Zielgebiet, Pufferringe und Kontrollgebiete."),
    (
        "analytics:balance",
        "Einsatzbilanz",
        "Personalstunden, Maßnahmen und Hinweise für Zeitraum und Gebiet.",
    ),
    (
        "opendata:index",
        "Offene Daten",
        "Monatszahlen je Stadtbezirk und Sachverhalt mit Schutz kleiner Fallzahlen.",
    ),
)


@login_required
@permission_required("analytics.view", raise_exception=True)
def index(request: HttpRequest) -> HttpResponse:
    sections = []
    for name, title, text in SECTIONS:
        try:
            sections.append({"url": reverse(name), "title": title, "text": text})
        except NoReverseMatch:
            continue
    return render(request, "analytics/index.html", {"sections": sections, "current": "analytics"})
