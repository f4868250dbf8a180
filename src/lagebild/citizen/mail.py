"""Mails to reporters. A mail problem is logged and never fails the reporter's request."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import get_connection, send_mail

from .models import Report

logger = logging.getLogger(__name__)


def send_status_link(report: Report, status_url: str) -> bool:
    """Confirm receipt and send the link to the status page; True when the mail went out."""
    if not report.reporter_email:
        return False
    city = getattr(settings, "CITY_NAME", "")
    subject = f"Ihre Meldung „{report.service.name}“ ist eingegangen"
    greeting = f"Guten Tag {report.reporter_name}," if report.reporter_name else "Guten Tag,"
    body = "\n".join(
        [
            greeting,
            "",
            f"vielen Dank für Ihre Meldung an das Ordnungsamt {city}.".replace("  ", " "),
            f"Kategorie: {report.service.name}",
            f"Meldungsnummer: {report.pk}",
            "",
            "Den Bearbeitungsstand können Sie jederzeit hier ansehen:",
            status_url,
            "",
            "Bitte geben Sie den Link nicht weiter: Wer ihn kennt, kann den Stand Ihrer Meldung sehen.",
            "Ihre E-Mail-Adresse nutzen wir nur für Rückmeldungen zu dieser Meldung. Sie wird",
            "365 Tage nach Abschluss der Meldung automatisch gelöscht.",
            "",
            "Diese Nachricht wurde automatisch erstellt.",
        ]
    )
    try:
        send_mail(
            subject,
            body,
            getattr(settings, "DEFAULT_FROM_EMAIL", None),
            [report.reporter_email],
            fail_silently=False,
            # Without a timeout an unreachable mail server would hold the reporter's request.
            connection=get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or 10),
        )
    except Exception:  # SMTP down, misconfigured backend, refused address: log and move on
        logger.exception("Status mail for report %s could not be sent", report.pk)
        return False
    return True
