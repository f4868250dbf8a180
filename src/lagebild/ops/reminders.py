"""Overdue citizen reports: flagged once per due date, and their office reminded once by e-mail.

"Overdue" is the queue's rule (open and past ``due_at``, NRW working days). The responsible
office is the report's routing target when it has an e-mail address, otherwise the shift
leads of the report's authority. A reminder names the report's number, category, status and
due date and links to it; it never contains what the citizen wrote or who they are.

Idempotent: the flag is created before the mail goes out and marked sent afterwards; a mail
that could not be sent is tried again by the next run, a sent one never.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from lagebild.citizen.models import OPEN_STATUSES, Report
from lagebild.core.models import Role, User
from lagebild.core.scoping import unscoped

from .models import OverdueReminder

logger = logging.getLogger(__name__)


@dataclass
class ReminderResult:
    flagged: int = 0
    emails_sent: int = 0
    emails_failed: int = 0
    without_recipient: int = 0
    per_authority: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def summary_de(self) -> str:
        text = f"{self.flagged} Hinweise neu überfällig vermerkt, {self.emails_sent} Erinnerungen versandt"
        if self.emails_failed:
            text += f", {self.emails_failed} nicht zustellbar (der nächste Lauf versucht es erneut)"
        if self.without_recipient:
            text += f", {self.without_recipient} Hinweise ohne erreichbare Stelle"
        return text + "."

    def details(self) -> dict[str, Any]:
        return {
            "neu_ueberfaellig": self.flagged,
            "je_behoerde": {str(k): v for k, v in self.per_authority.items()},
            "emails": self.emails_sent,
            "emails_fehlgeschlagen": self.emails_failed,
            "ohne_empfaenger": self.without_recipient,
        }


def flag_overdue(now: Any = None) -> list[tuple[OverdueReminder, int]]:
    """Flag every open report past its due date that has no flag for that date; returns the
    new flags with the report's authority."""
    now = now or timezone.now()
    created = []
    with unscoped():
        overdue = Report.objects.filter(status__in=OPEN_STATUSES, due_at__lt=now).values_list(
            "pk", "due_at", "authority_id"
        )
        known = set(
            OverdueReminder.objects.filter(report__status__in=OPEN_STATUSES).values_list(
                "report_id", "due_at"
            )
        )
        for report_id, due_at, authority_id in overdue:
            if (report_id, due_at) in known:
                continue
            try:
                with transaction.atomic():  # two runs at once: the second insert is refused
                    reminder = OverdueReminder.objects.create(
                        report_id=report_id, due_at=due_at, flagged_at=now
                    )
            except IntegrityError:
                continue
            created.append((reminder, authority_id))
    return created


def _recipients(report: Report, leads: dict[int, list[str]]) -> list[str]:
    if report.target is not None and report.target.email:
        return [report.target.email]
    return leads.get(report.authority_id, [])


def _body(reports: list[Report]) -> str:
    base = getattr(settings, "LAGEBILD_SITE_URL", "")
    lines = ["Guten Tag,", "", "die Bearbeitungsfrist dieser Bürgerhinweise ist abgelaufen:", ""]
    for report in reports:
        due = timezone.localtime(report.due_at)
        url = base + reverse("office:report-detail", args=[report.pk])
        lines.append(
            f"- Hinweis Nr. {report.pk} ({report.service.name}), Status {report.get_status_display()}, "
            f"fällig seit {due:%d.%m.%Y}: {url}"
        )
    lines += ["", "Diese Nachricht wurde automatisch von Lagebild erstellt; sie kommt je Frist nur einmal."]
    return "\n".join(lines)


def send_pending(result: ReminderResult) -> None:
    """Mail every flag not yet mailed whose report is still overdue, grouped by recipient."""
    with unscoped():
        pending = list(
            OverdueReminder.objects.filter(emailed_at__isnull=True, report__status__in=OPEN_STATUSES)
            .select_related("report__service", "report__target")
            .order_by("report_id")
        )
        authority_ids = {r.report.authority_id for r in pending}
        leads: dict[int, list[str]] = defaultdict(list)
        for authority_id, email in (
            User.objects.filter(authority_id__in=authority_ids, role=Role.SHIFT_LEAD, is_active=True)
            .exclude(email="")
            .order_by("pk")
            .values_list("authority_id", "email")
        ):
            leads[authority_id].append(email)
    by_recipients: dict[tuple[str, ...], list[OverdueReminder]] = defaultdict(list)
    for reminder in pending:
        recipients = tuple(_recipients(reminder.report, leads))
        if not recipients:
            result.without_recipient += 1
            continue
        by_recipients[recipients].append(reminder)
    for recipients, reminders in by_recipients.items():
        count = len(reminders)
        subject = "Überfälliger Bürgerhinweis" if count == 1 else f"{count} überfällige Bürgerhinweise"
        try:
            send_mail(
                subject,
                _body([r.report for r in reminders]),
                getattr(settings, "DEFAULT_FROM_EMAIL", None),
                list(recipients),
                fail_silently=False,
                connection=get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or 10),
            )
        except Exception:  # mail relay down: the next run tries again
            logger.exception("Overdue reminder to %s recipient(s) could not be sent", len(recipients))
            result.emails_failed += 1
            continue
        OverdueReminder.objects.filter(pk__in=[r.pk for r in reminders]).update(
            emailed_at=timezone.now(), recipients=len(recipients)
        )
        result.emails_sent += 1


def forget_closed() -> int:
    """Flags of closed reports are no longer needed (the report leaves the overdue list)."""
    deleted, _ = OverdueReminder.objects.exclude(report__status__in=OPEN_STATUSES).delete()
    return deleted


def remind_overdue() -> ReminderResult:
    result = ReminderResult()
    for _reminder, authority_id in flag_overdue():
        result.flagged += 1
        result.per_authority[authority_id] += 1
    send_pending(result)
    forget_closed()
    return result
