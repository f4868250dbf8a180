"""Citizen reports (Hinweise): services offered to the public, reports, their history,
photos, routing and Open311 clients.

A report belongs to the authority responsible for it (the city's Ordnungsamt until triage
routes it elsewhere); the default manager is authority-scoped like the field records.
Reporter name, e-mail and phone are personal data: only triage roles see them, every
access is logged, and they are anonymised a configurable time after closure.
"""

from __future__ import annotations

import base64
import secrets

from django.conf import settings
from django.db import models

from lagebild.catalog.models import Category
from lagebild.core.models import Authority
from lagebild.core.scoping import AuthorityScopedManager, own_or_joint
from lagebild.geo.models import Area


class ServiceType(models.Model):
    """What a citizen can report (an Open311 service), in plain language."""

    class Precision(models.TextChoices):
        EXACT = "exact", "Genau"
        COARSE = "coarse", "Vergröbert (ca. 100 m)"
        HIDDEN = "hidden", "Nicht veröffentlichen"

    code = models.SlugField("Service-Code", max_length=60, unique=True)
    name = models.CharField("Bezeichnung für Bürgerinnen und Bürger", max_length=120)
    description = models.CharField("Kurzbeschreibung", max_length=400, blank=True)
    group = models.CharField("Gruppe", max_length=80, blank=True)
    keywords = models.CharField("Stichwörter", max_length=300, blank=True)
    category = models.ForeignKey(
        Category,
        verbose_name="Sachverhalt im Katalog",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acute = models.BooleanField(
        "Akut (Notruf statt Formular)",
        default=False,
        help_text="Statt des Formulars werden Notruf 110 und die Rufnummer des Ordnungsdienstes angezeigt.",
    )
    acute_notice = models.CharField("Hinweis bei akuten Lagen", max_length=400, blank=True)
    about_people = models.BooleanField(
        "Betrifft Personen", default=False, help_text="Öffentlich nur vergröbert oder gar nicht zeigen."
    )
    publish_precision = models.CharField(
        "Ortsangabe in offenen Daten", max_length=10, choices=Precision.choices, default=Precision.EXACT
    )
    # Privacy by default (Art. 25 GDPR): a new category's reports stay out of the public
    # Open311 feed until an administrator decides otherwise; the catalogue loader publishes
    # only categories that are not police matters (issue 13).
    public_in_open311 = models.BooleanField(
        "Meldungen im öffentlichen Open311-Feed zeigen",
        default=False,
        help_text="Nur für Kategorien ohne Bezug zu Ermittlungen: Hinweise an die Polizei "
        "(z. B. auf Drogenhandel) werden nie veröffentlicht.",
    )
    service_level_days = models.PositiveSmallIntegerField("Bearbeitungsziel (Arbeitstage)", default=5)
    active = models.BooleanField("Aktiv", default=True)
    sort_order = models.PositiveIntegerField("Reihenfolge", default=100)

    class Meta:
        verbose_name = "Meldekategorie"
        verbose_name_plural = "Meldekategorien"
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_precision(self) -> str:
        return effective_precision(self.publish_precision, self.about_people)


def effective_precision(configured: str, about_people: bool) -> str:
    """The precision locations are published at: reports about people never exactly."""
    if configured == ServiceType.Precision.EXACT and about_people:
        return ServiceType.Precision.COARSE
    return configured


class ServiceAttribute(models.Model):
    """A category-specific question (Open311 service definition attribute)."""

    class Datatype(models.TextChoices):
        STRING = "string", "Text (einzeilig)"
        NUMBER = "number", "Zahl"
        DATETIME = "datetime", "Datum/Uhrzeit"
        TEXT = "text", "Text (mehrzeilig)"
        SINGLE = "singlevaluelist", "Auswahl (eine)"
        MULTI = "multivaluelist", "Auswahl (mehrere)"

    service = models.ForeignKey(ServiceType, on_delete=models.CASCADE, related_name="attributes")
    code = models.SlugField("Code", max_length=60)
    description = models.CharField("Frage", max_length=300)
    datatype = models.CharField("Datentyp", max_length=20, choices=Datatype.choices)
    datatype_description = models.CharField("Hilfetext", max_length=300, blank=True)
    required = models.BooleanField("Pflichtangabe", default=False)
    variable = models.BooleanField("Eingabe nötig", default=True)
    order = models.PositiveSmallIntegerField("Reihenfolge", default=1)
    values = models.JSONField(
        "Auswahlwerte", default=list, blank=True, help_text='[{"key": "…", "name": "…"}]'
    )

    class Meta:
        verbose_name = "Zusatzfrage"
        verbose_name_plural = "Zusatzfragen"
        ordering = ["service", "order"]
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="attribute_code_unique"),
            models.UniqueConstraint(fields=["service", "order"], name="attribute_order_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.service.code}: {self.code}"


class RoutingTarget(models.Model):
    """Who handles a report: KOD, police, the city's waste company, another office."""

    class Kind(models.TextChoices):
        KOD = "kod", "Kommunaler Ordnungsdienst"
        POLICE = "police", "Polizei"
        WASTE = "waste", "Entsorgungsbetrieb"
        OFFICE = "office", "Anderes Amt"
        EXTERNAL = "external", "Externe Stelle"

    name = models.CharField("Name", max_length=120, unique=True)
    kind = models.CharField("Art", max_length=10, choices=Kind.choices)
    authority = models.ForeignKey(
        Authority,
        verbose_name="Behörde in Lagebild",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Leer bei Stellen außerhalb von Lagebild: die Meldung wird dann weitergeleitet.",
    )
    email = models.EmailField("E-Mail", blank=True)

    class Meta:
        verbose_name = "Zuständige Stelle"
        verbose_name_plural = "Zuständige Stellen"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """Ordered rules; the first matching rule routes a report."""

    position = models.PositiveIntegerField("Reihenfolge", default=100)
    name = models.CharField("Bezeichnung", max_length=120)
    service = models.ForeignKey(
        ServiceType, verbose_name="Meldekategorie", null=True, blank=True, on_delete=models.CASCADE
    )
    area = models.ForeignKey(Area, verbose_name="Gebiet", null=True, blank=True, on_delete=models.CASCADE)
    weekdays = models.CharField(
        "Wochentage", max_length=20, blank=True, help_text="z. B. 1-5 (Mo–Fr) oder 6,7; leer = alle"
    )
    time_from = models.TimeField("Von (Uhrzeit)", null=True, blank=True)
    time_to = models.TimeField("Bis (Uhrzeit)", null=True, blank=True)
    target = models.ForeignKey(RoutingTarget, verbose_name="Zuständig", on_delete=models.PROTECT)
    active = models.BooleanField("Aktiv", default=True)

    class Meta:
        verbose_name = "Zuständigkeitsregel"
        verbose_name_plural = "Zuständigkeitsregeln"
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"


class ReportStatus(models.TextChoices):
    NEW = "new", "Neu"
    TRIAGE = "triage", "In Prüfung"
    ASSIGNED = "assigned", "Zugewiesen"
    IN_PROGRESS = "in_progress", "In Bearbeitung"
    RESOLVED = "resolved", "Erledigt"
    NOT_RESOLVABLE = "not_resolvable", "Nicht lösbar"
    FORWARDED = "forwarded", "Weitergeleitet"
    DUPLICATE = "duplicate", "Doppelmeldung"
    REJECTED = "rejected", "Abgelehnt"


OPEN_STATUSES = frozenset(
    {ReportStatus.NEW, ReportStatus.TRIAGE, ReportStatus.ASSIGNED, ReportStatus.IN_PROGRESS}
)
CLOSED_STATUSES = frozenset(set(ReportStatus.values) - set(OPEN_STATUSES))


class Channel(models.TextChoices):
    WEB = "web", "Online-Formular"
    OPEN311 = "open311", "Open311-Schnittstelle"
    PHONE = "phone", "Telefon"
    EMAIL = "email", "E-Mail"
    LETTER = "letter", "Brief"
    CITYWACHE = "citywache", "Citywache (persönlich)"
    EXTERNAL = "external", "Externe Melde-App"


def new_public_token() -> str:
    return secrets.token_urlsafe(16)


def new_public_id() -> str:
    """The id a report has in the public Open311 feed: random (80 bits), never the row number,
    so the feed cannot be walked by counting (issue 13)."""
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()


class Report(models.Model):
    authority = models.ForeignKey(Authority, verbose_name="Zuständige Behörde", on_delete=models.PROTECT)
    joint = models.BooleanField("Für Stadt und Polizei sichtbar", default=False)
    service = models.ForeignKey(ServiceType, verbose_name="Kategorie", on_delete=models.PROTECT)
    status = models.CharField("Status", max_length=20, choices=ReportStatus.choices, default=ReportStatus.NEW)
    channel = models.CharField("Eingangsweg", max_length=20, choices=Channel.choices, default=Channel.WEB)
    description = models.TextField("Beschreibung", max_length=4000, blank=True)
    attributes = models.JSONField("Zusatzangaben", default=dict, blank=True)
    address_text = models.CharField("Ortsangabe", max_length=300, blank=True)
    address_id = models.CharField("Adress-ID", max_length=64, blank=True)
    lat = models.FloatField("Breite (WGS84)", null=True, blank=True)
    lon = models.FloatField("Länge (WGS84)", null=True, blank=True)
    x_utm = models.FloatField(null=True, blank=True)
    y_utm = models.FloatField(null=True, blank=True)
    h3_cell = models.CharField(max_length=16, blank=True)
    areas = models.ManyToManyField(Area, through="ReportArea", related_name="+")
    reporter_name = models.CharField("Name", max_length=120, blank=True)
    reporter_email = models.EmailField("E-Mail", blank=True)
    reporter_phone = models.CharField("Telefon", max_length=40, blank=True)
    anonymised_at = models.DateTimeField("Anonymisiert am", null=True, blank=True)
    public_token = models.CharField(max_length=40, unique=True, default=new_public_token, editable=False)
    public_id = models.CharField(
        "Öffentliche Kennung (Open311)", max_length=24, unique=True, default=new_public_id, editable=False
    )
    requested_at = models.DateTimeField("Eingegangen", db_index=True)
    updated_at = models.DateTimeField("Geändert")
    first_response_at = models.DateTimeField("Erste Reaktion", null=True, blank=True)
    closed_at = models.DateTimeField("Abgeschlossen", null=True, blank=True)
    due_at = models.DateTimeField("Fällig", null=True, blank=True)
    target = models.ForeignKey(
        RoutingTarget, verbose_name="Zuständige Stelle", null=True, blank=True, on_delete=models.PROTECT
    )
    routing_rule = models.ForeignKey(
        RoutingRule, verbose_name="Zugeordnet durch Regel", null=True, blank=True, on_delete=models.SET_NULL
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name="Doppelmeldung von",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
    )
    supporters = models.PositiveIntegerField("Unterstützungen", default=0)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_client = models.ForeignKey(
        "ApiClient", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    external_source = models.CharField("Externe Quelle", max_length=200, blank=True)
    external_id = models.CharField("Externe Kennung", max_length=100, blank=True)
    incidents = models.ManyToManyField(
        "field.Incident", verbose_name="Feststellungen", blank=True, related_name="citizen_reports"
    )

    objects = AuthorityScopedManager(own_or_joint())

    class Meta:
        verbose_name = "Bürgerhinweis"
        verbose_name_plural = "Bürgerhinweise"
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["authority", "status", "requested_at"]),
            models.Index(fields=["service", "requested_at"]),
            models.Index(fields=["status", "requested_at"]),
            models.Index(fields=["h3_cell"]),
            models.Index(fields=["external_source", "external_id"]),
        ]

    def __str__(self) -> str:
        return f"Hinweis {self.pk}: {self.service}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ReportArea(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="area_links", db_index=False)
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="report_links", db_index=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "area"], name="report_area_unique")]
        indexes = [models.Index(fields=["area", "report"])]

    def __str__(self) -> str:
        return f"{self.report_id} in {self.area_id}"


class StatusChange(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField("Zeitpunkt")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    from_status = models.CharField(max_length=20, choices=ReportStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ReportStatus.choices)
    public_note = models.CharField("Öffentliche Notiz", max_length=1000, blank=True)
    internal_note = models.CharField("Interne Notiz", max_length=1000, blank=True)

    class Meta:
        verbose_name = "Statusänderung"
        verbose_name_plural = "Statusänderungen"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.from_status} → {self.to_status}"


class Photo(models.Model):
    """A photo stored outside the web root; public only after staff released it."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos")
    file = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    size = models.PositiveIntegerField(default=0)
    redactions = models.JSONField(default=list, blank=True)
    released = models.BooleanField("Freigegeben", default=False)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Foto"
        verbose_name_plural = "Fotos"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.file


class ApiClient(models.Model):
    """An Open311 client with its api_key (needed for POST requests)."""

    name = models.CharField("Name", max_length=120)
    api_key = models.CharField("API-Key", max_length=64, unique=True)
    active = models.BooleanField("Aktiv", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Open311-Client"
        verbose_name_plural = "Open311-Clients"

    def __str__(self) -> str:
        return self.name


class RateCounter(models.Model):
    """Database-backed rate limit counters (work on SQLite without a cache server)."""

    key = models.CharField(max_length=120)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="rate_counter_unique")]
        indexes = [models.Index(fields=["window_start"])]

    def __str__(self) -> str:
        return f"{self.key}@{self.window_start}: {self.count}"


class StatusMail(models.Model):
    """The mail with the status link of a report: claimed before it is sent, at most one.

    The background task (``citizen.tasks.send_status_mail``) claims it in a transaction; a
    task run again after a crash finds it sent, or claimed by a dead attempt (see the task).
    """

    report = models.OneToOneField(Report, on_delete=models.CASCADE, related_name="status_mail")
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Statusmail {self.report_id}: {'versandt' if self.sent_at else 'in Arbeit'}"
