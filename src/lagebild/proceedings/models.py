"""Offence proceedings (Bußgeldverfahren): persons, cases, their events, notices, payments, cautions.

The events of a case are the truth and are never changed (append-only, like the audit log); the
case row carries a projection of them (state, dates, amounts) for lists and figures, rewritten by
``services`` whenever an event is added. ``CaseDeadline`` rows are derived from the events by the
pure limitation engine (``limitation.py``) and rebuilt on every change, so the daily worklist is an
indexed query. Everything here belongs to one authority (``own_only`` scope); cases and persons are
shown only to the proceedings role of that authority (``rules.py``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from lagebild.catalog.models import Category, CategoryRule
from lagebild.core.models import Authority
from lagebild.core.scoping import AuthorityScopedManager, own_only
from lagebild.field.models import Incident, Measure


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete a case event, payment or approved notice."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(
            "Verfahrensereignisse werden nie geändert; eine Korrektur ist ein neues Ereignis."
        )


class AppendOnlyModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{self._meta.verbose_name} wird nie geändert.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError(f"{self._meta.verbose_name} wird nicht einzeln gelöscht.")


class ProceedingsPerson(models.Model):
    """The person concerned (Betroffene/r) with the identity data of § 111 OWiG.

    § 111 Abs. 1 OWiG obliges a person to state first, family or birth name, place and day of birth,
    marital status, occupation, residence, address and nationality; these fields are marked
    ``MANDATORY_FIELDS``. Telephone and e-mail are voluntary. Kept apart from the pseudonymous
    ``field.Person``: only the proceedings role reads it, and each read is logged.
    """

    class MaritalStatus(models.TextChoices):
        UNKNOWN = "", "nicht angegeben"
        SINGLE = "single", "ledig"
        MARRIED = "married", "verheiratet / eingetragene Lebenspartnerschaft"
        DIVORCED = "divorced", "geschieden / aufgehoben"
        WIDOWED = "widowed", "verwitwet"

    authority = models.ForeignKey(Authority, verbose_name="Behörde", on_delete=models.PROTECT)
    family_name = models.CharField("Familienname", max_length=120)
    given_names = models.CharField("Vornamen", max_length=160)
    birth_name = models.CharField("Geburtsname", max_length=120, blank=True)
    date_of_birth = models.DateField("Geburtsdatum")
    place_of_birth = models.CharField("Geburtsort", max_length=120)
    marital_status = models.CharField(
        "Familienstand", max_length=10, choices=MaritalStatus.choices, blank=True
    )
    occupation = models.CharField("Beruf", max_length=120, blank=True)
    street = models.CharField("Straße und Hausnummer", max_length=200)
    postcode = models.CharField("Postleitzahl", max_length=10)
    city = models.CharField("Wohnort", max_length=120)
    nationality = models.CharField("Staatsangehörigkeit", max_length=80, blank=True)
    phone = models.CharField("Telefon (freiwillig)", max_length=40, blank=True)
    email = models.EmailField("E-Mail (freiwillig)", blank=True)
    field_person = models.ForeignKey(
        "field.Person",
        verbose_name="Pseudonym im Einsatzbericht",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("Angelegt", auto_now_add=True)
    anonymised_at = models.DateTimeField("Anonymisiert", null=True, blank=True)

    objects = AuthorityScopedManager(own_only())

    # § 111 Abs. 1 OWiG: the person must state these (marital status, occupation and nationality
    # too, but they may be unknown at the first report and are asked for in the hearing).
    MANDATORY_FIELDS = (
        "family_name",
        "given_names",
        "date_of_birth",
        "place_of_birth",
        "street",
        "postcode",
        "city",
    )
    ASKED_IN_HEARING = ("marital_status", "occupation", "nationality")
    VOLUNTARY_FIELDS = ("birth_name", "phone", "email")

    class Meta:
        verbose_name = "Betroffene Person"
        verbose_name_plural = "Betroffene Personen"
        ordering = ["family_name", "given_names", "id"]
        indexes = [models.Index(fields=["authority", "family_name", "given_names"])]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_names}"


class CaseState(models.TextChoices):
    REPORTED = "reported", "Anzeige eingegangen"
    HEARING = "hearing", "Anhörung versandt"
    NOTICE_DRAFT = "notice_draft", "Bescheid im Entwurf"
    NOTICE_ISSUED = "notice_issued", "Bescheid erlassen, Zustellung offen"
    SERVED = "served", "Bescheid zugestellt, Einspruchsfrist läuft"
    OBJECTION = "objection", "Einspruch eingelegt"
    TRANSFERRED = "transferred", "An die Staatsanwaltschaft abgegeben"
    FINAL = "final", "Rechtskräftig, Zahlung offen"
    INSTALMENTS = "instalments", "Ratenzahlung bewilligt"
    ENFORCEMENT = "enforcement", "In Vollstreckung"
    PAID = "paid", "Bezahlt"
    DISCONTINUED = "discontinued", "Eingestellt"
    LAPSED = "lapsed", "Verjährt"


CLOSED_STATES = frozenset({CaseState.PAID, CaseState.DISCONTINUED, CaseState.LAPSED, CaseState.TRANSFERRED})


class Case(models.Model):
    """One offence proceeding against one person for one act (Tat)."""

    authority = models.ForeignKey(Authority, verbose_name="Behörde", on_delete=models.PROTECT)
    file_number = models.CharField("Aktenzeichen", max_length=40)
    category = models.ForeignKey(Category, verbose_name="Sachverhalt", on_delete=models.PROTECT)
    category_rule = models.ForeignKey(
        CategoryRule, verbose_name="Geltende Regel", on_delete=models.PROTECT, related_name="+"
    )
    incident = models.ForeignKey(
        Incident,
        verbose_name="Feststellung",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    offence_report = models.OneToOneField(
        Measure,
        verbose_name="OWi-Anzeige",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="proceedings_case",
    )
    person = models.ForeignKey(
        ProceedingsPerson,
        verbose_name="Betroffene Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    offence_at = models.DateTimeField("Tatzeit")
    offence_date = models.DateField("Tattag (Beginn der Verjährung)")
    offence_place = models.CharField("Tatort", max_length=200, blank=True)
    offence_description = models.TextField("Tatvorwurf", max_length=4000, blank=True)
    max_fine = models.DecimalField("Höchstbetrag Geldbuße (€)", max_digits=10, decimal_places=2)
    juvenile = models.BooleanField("Jugendliche/r zur Tatzeit (14–17)", default=False)

    # Projection of the events (rewritten by services.apply_event; the events are the truth).
    state = models.CharField("Stand", max_length=20, choices=CaseState.choices, default=CaseState.REPORTED)
    opened_at = models.DateTimeField("Eingegangen")
    first_hearing_on = models.DateField("Erste Anhörung", null=True, blank=True)
    notice_issued_on = models.DateField("Bescheid erlassen", null=True, blank=True)
    served_on = models.DateField("Zugestellt", null=True, blank=True)
    objection_on = models.DateField("Einspruch eingegangen", null=True, blank=True)
    final_on = models.DateField("Rechtskräftig seit", null=True, blank=True)
    payment_due_on = models.DateField("Zahlung fällig", null=True, blank=True)
    fine = models.DecimalField("Geldbuße (€)", max_digits=10, decimal_places=2, null=True, blank=True)
    total_due = models.DecimalField(
        "Gesamtbetrag (€)", max_digits=10, decimal_places=2, null=True, blank=True
    )
    paid_total = models.DecimalField("Gezahlt (€)", max_digits=10, decimal_places=2, default=Decimal("0"))
    closed_on = models.DateField("Abgeschlossen am", null=True, blank=True)
    discontinued_reason = models.CharField("Einstellungsgrund", max_length=30, blank=True)
    lapsed_on = models.DateField("Verjährt am", null=True, blank=True)
    limitation_deadline = models.DateField("Verjährung: letzter Tag", null=True, blank=True)
    updated_at = models.DateTimeField("Zuletzt geändert", auto_now=True)

    objects = AuthorityScopedManager(own_only())

    class Meta:
        verbose_name = "Bußgeldverfahren"
        verbose_name_plural = "Bußgeldverfahren"
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["authority", "state"]),
            models.Index(fields=["authority", "opened_at"]),
            models.Index(fields=["category", "offence_date"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["authority", "file_number"], name="case_file_number_unique"),
        ]

    def __str__(self) -> str:
        return self.file_number

    @property
    def is_open(self) -> bool:
        return self.state not in CLOSED_STATES


class EventKind(models.TextChoices):
    OPENED = "opened", "Verfahren eingeleitet"
    HEARING_SENT = "hearing_sent", "Anhörung versandt (§ 55 OWiG)"
    STATEMENT_RECEIVED = "statement_received", "Äußerung eingegangen"
    NOTICE_DRAFTED = "notice_drafted", "Bescheid entworfen"
    NOTICE_ISSUED = "notice_issued", "Bescheid erlassen (§ 65 OWiG)"
    NOTICE_SERVED = "notice_served", "Bescheid zugestellt"
    OBJECTION_RECEIVED = "objection_received", "Einspruch eingegangen (§ 67 OWiG)"
    REMEDY = "remedy", "Abhilfe: Bescheid zurückgenommen (§ 69 Abs. 2 OWiG)"
    OBJECTION_WITHDRAWN = "objection_withdrawn", "Einspruch zurückgenommen"
    OBJECTION_REJECTED = "objection_rejected", "Einspruch als unzulässig verworfen (§ 69 Abs. 1 OWiG)"
    TRANSFERRED = "transferred", "Abgabe an die Staatsanwaltschaft (§ 69 Abs. 3 OWiG)"
    BECAME_FINAL = "became_final", "Rechtskräftig"
    PAYMENT = "payment", "Zahlung eingegangen"
    INSTALMENTS_GRANTED = "instalments_granted", "Zahlungserleichterung bewilligt (§ 93 OWiG)"
    REMINDER_SENT = "reminder_sent", "Mahnung versandt"
    ENFORCEMENT_STARTED = "enforcement_started", "Vollstreckung eingeleitet (§ 95 OWiG)"
    DISCONTINUED = "discontinued", "Eingestellt (§ 47 OWiG)"
    LAPSED = "lapsed", "Verjährung eingetreten (§ 31 OWiG)"
    PERSON_IDENTIFIED = "person_identified", "Betroffene Person festgestellt"


class CaseEvent(AppendOnlyModel):
    """One dated step of a case, by whom and why; never changed or deleted."""

    case = models.ForeignKey(Case, verbose_name="Verfahren", on_delete=models.PROTECT, related_name="events")
    authority = models.ForeignKey(
        Authority, verbose_name="Behörde", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField("Schritt", max_length=30, choices=EventKind.choices)
    on = models.DateField("Datum (rechtlich maßgeblich)")
    recorded_at = models.DateTimeField("Erfasst")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Bearbeitet von",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # Kept when the account is deleted: the file must still say who acted.
    user_name = models.CharField("Bearbeitet von (Name)", max_length=200)
    state_before = models.CharField("Stand vorher", max_length=20, choices=CaseState.choices, blank=True)
    state_after = models.CharField("Stand nachher", max_length=20, choices=CaseState.choices)
    reason = models.TextField("Begründung / Vermerk", max_length=2000, blank=True)
    data = models.JSONField("Angaben", default=dict, blank=True)

    objects = AuthorityScopedManager.from_queryset(AppendOnlyQuerySet)(own_only())

    class Meta:
        verbose_name = "Verfahrensschritt"
        verbose_name_plural = "Verfahrensschritte"
        ordering = ["on", "recorded_at", "id"]
        indexes = [models.Index(fields=["case", "on"]), models.Index(fields=["authority", "kind", "on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} am {self.on:%d.%m.%Y}"


class Notice(models.Model):
    """A Bußgeldbescheid: drafted, then approved (and from then on immutable, § 66 contents frozen)."""

    case = models.ForeignKey(Case, verbose_name="Verfahren", on_delete=models.PROTECT, related_name="notices")
    authority = models.ForeignKey(
        Authority, verbose_name="Behörde", on_delete=models.PROTECT, related_name="+"
    )
    fine = models.DecimalField("Geldbuße (€)", max_digits=10, decimal_places=2)
    fee = models.DecimalField("Gebühr (€)", max_digits=10, decimal_places=2)
    expenses = models.DecimalField("Auslagen (€)", max_digits=10, decimal_places=2)
    total = models.DecimalField("Gesamtbetrag (€)", max_digits=10, decimal_places=2)
    # The § 66 contents as approved (person, act, legal basis, evidence, instructions):
    # exactly what the letter prints.
    contents = models.JSONField("Inhalt (§ 66 OWiG)")
    drafted_at = models.DateTimeField("Entworfen")
    drafted_by_name = models.CharField("Entworfen von", max_length=200)
    approved_at = models.DateTimeField("Freigegeben", null=True, blank=True)
    approved_by_name = models.CharField("Freigegeben von", max_length=200, blank=True)
    issued_on = models.DateField("Erlassen am", null=True, blank=True)
    withdrawn_on = models.DateField("Zurückgenommen am", null=True, blank=True)

    objects = AuthorityScopedManager(own_only())

    class Meta:
        verbose_name = "Bußgeldbescheid"
        verbose_name_plural = "Bußgeldbescheide"
        ordering = ["case", "drafted_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(fine__gt=0), name="notice_fine_positive"),
        ]

    def __str__(self) -> str:
        return f"Bescheid {self.case.file_number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            stored = Notice.objects.filter(pk=self.pk).values("approved_at", "withdrawn_on").first()
            # Approval freezes the contents; only the withdrawal date (remedy, § 69 Abs. 2) is set later.
            if stored and stored["approved_at"] is not None:
                update_fields = set(kwargs.get("update_fields") or ())
                if update_fields != {"withdrawn_on"} or stored["withdrawn_on"] is not None:
                    raise AppendOnlyError("Ein freigegebener Bescheid wird nie geändert.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("Bescheide werden nicht gelöscht.")


class Payment(AppendOnlyModel):
    case = models.ForeignKey(
        Case, verbose_name="Verfahren", on_delete=models.PROTECT, related_name="payments"
    )
    authority = models.ForeignKey(
        Authority, verbose_name="Behörde", on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField("Betrag (€)", max_digits=10, decimal_places=2)
    paid_on = models.DateField("Eingang am")
    reference = models.CharField("Verwendungszweck / Beleg", max_length=120, blank=True)
    recorded_at = models.DateTimeField("Erfasst")
    recorded_by_name = models.CharField("Erfasst von", max_length=200)

    objects = AuthorityScopedManager.from_queryset(AppendOnlyQuerySet)(own_only())

    class Meta:
        verbose_name = "Zahlung"
        verbose_name_plural = "Zahlungen"
        ordering = ["paid_on", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]

    def __str__(self) -> str:
        return f"{self.amount} € am {self.paid_on:%d.%m.%Y}"


class DeadlineKind(models.TextChoices):
    PROSECUTION_LIMITATION = "prosecution_limitation", "Verfolgungsverjährung"
    ABSOLUTE_LIMITATION = "absolute_limitation", "Absolute Verjährung"
    SERVICE = "service", "Zustellung binnen zwei Wochen (§ 33 Abs. 1 Nr. 9)"
    OBJECTION = "objection", "Einspruchsfrist"
    PAYMENT = "payment", "Zahlungsfrist"
    ENFORCEMENT_ALLOWED = "enforcement_allowed", "Beitreibung zulässig ab"
    ENFORCEMENT_LIMITATION = "enforcement_limitation", "Vollstreckungsverjährung"


class CaseDeadline(models.Model):
    """A deadline derived from a case's events; rebuilt on every change (never edited by hand)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="deadlines", db_index=False)
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField("Frist", max_length=30, choices=DeadlineKind.choices)
    due = models.DateField("Letzter Tag")
    # Days before ``due`` from which the worklist warns (configurable per kind, see services).
    warn_from = models.DateField("Warnen ab")

    objects = AuthorityScopedManager(own_only())

    class Meta:
        verbose_name = "Frist"
        verbose_name_plural = "Fristen"
        ordering = ["due", "case_id"]
        indexes = [models.Index(fields=["authority", "warn_from", "due"])]
        constraints = [models.UniqueConstraint(fields=["case", "kind"], name="case_deadline_once_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.due:%d.%m.%Y}"


class Caution(models.Model):
    """A caution with a fee (Verwarnung mit Verwarnungsgeld, § 56 OWiG) given on the spot.

    Effective only if the person was told of the right to refuse, consented, and paid on the spot or
    within the week (§ 56 Abs. 2 OWiG); then no proceedings for the same act (§ 56 Abs. 4). Refused or
    not paid in time: proceedings may follow. No costs are charged (§ 56 Abs. 3 S. 2).
    """

    class Status(models.TextChoices):
        OPEN = "open", "Zahlung binnen einer Woche offen"
        EFFECTIVE = "effective", "Wirksam (bezahlt)"
        REFUSED = "refused", "Verweigert"
        UNPAID = "unpaid", "Nicht fristgerecht bezahlt"

    authority = models.ForeignKey(Authority, verbose_name="Behörde", on_delete=models.PROTECT)
    measure = models.OneToOneField(
        Measure, verbose_name="Maßnahme", on_delete=models.PROTECT, related_name="caution_record"
    )
    certificate_number = models.CharField("Bescheinigungsnummer", max_length=40)
    amount = models.DecimalField("Verwarnungsgeld (€)", max_digits=5, decimal_places=2)
    category_rule = models.ForeignKey(
        CategoryRule, verbose_name="Geltende Regel", on_delete=models.PROTECT, related_name="+"
    )
    given_at = models.DateTimeField("Erteilt")
    informed_of_right_to_refuse = models.BooleanField("Über das Weigerungsrecht belehrt")
    consented = models.BooleanField("Einverstanden")
    paid_on_spot = models.BooleanField("Sofort bezahlt", default=False)
    pay_by = models.DateField("Zahlbar bis")
    paid_on = models.DateField("Bezahlt am", null=True, blank=True)
    status = models.CharField("Stand", max_length=10, choices=Status.choices)

    objects = AuthorityScopedManager(own_only())

    class Meta:
        verbose_name = "Verwarnung mit Verwarnungsgeld"
        verbose_name_plural = "Verwarnungen mit Verwarnungsgeld"
        ordering = ["-given_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "certificate_number"], name="caution_certificate_unique"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=5) & Q(amount__lte=55), name="caution_amount_5_55"
            ),
        ]

    def __str__(self) -> str:
        return f"Verwarnung {self.certificate_number}"
