"""Mails to reporters. A mail problem is logged and never fails the reporter's request.

The mail goes out in a background task (:func:`lagebild.citizen.tasks.send_status_mail`), which
records it (:class:`~lagebild.citizen.models.StatusMail`) so a task run again never sends twice.
Without a broker the task runs at once in the request, as before.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from lagebild.core import tasking

from .models import Report

logger = logging.getLogger(__name__)


def send_status_link(report: Report, status_url: str) -> bool:
    """Confirm receipt and send the link to the status page.

    True when the mail went out (no broker) or is on its way (broker; the task retries a relay
    that is down). Never raises.
    """
    if not report.reporter_email:
        return False
    from .tasks import send_status_mail

    try:
        sent = tasking.run_or_enqueue(send_status_mail, report.pk, status_url)
    except Exception:  # SMTP down, misconfigured backend, refused address: log and move on
        logger.exception("Status mail for report %s could not be sent", report.pk)
        return False
    return sent is None or bool(sent)


def deliver_status_link(report: Report, status_url: str) -> None:
    """Send the mail now; raises when the relay does not accept it."""
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
    message = EmailMessage(
        subject,
        body,
        getattr(settings, "DEFAULT_FROM_EMAIL", None),
        [report.reporter_email],
        # The same Message-ID on every attempt: should a crash right after the relay accepted
        # the mail make the task send it again, mail programs show the copy as one message.
        headers={"Message-ID": f"<status-{report.public_id}@lagebild.invalid>"},
        # Without a timeout an unreachable mail server would hold the task (or the request).
        connection=get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or 10),
    )
    message.send(fail_silently=False)
