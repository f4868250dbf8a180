"""Background tasks of citizen reports: the status-link mail and the Open311 import."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from lagebild.core import tasking
from lagebild.core.scoping import unscoped

from . import mail
from .models import Report, StatusMail
from .open311.client import ImportResult, import_requests

logger = logging.getLogger(__name__)


def _claim_timeout() -> dt.timedelta:
    """How long a claimed mail may be in the relay's hands before its attempt counts as dead."""
    return dt.timedelta(seconds=4 * (getattr(settings, "EMAIL_TIMEOUT", None) or 10) + 20)


@tasking.task(name="citizen.send_status_mail", bind=True)
def send_status_mail(self: Any, report_id: int, status_url: str) -> bool:
    """Send the status link of a report once; True when this run sent it.

    Claim, send, mark: the claim (a unique row per report) is committed before the relay is
    asked, so two runs never send at the same time and a finished run is never repeated. A
    relay error releases the claim and the task is retried. A worker killed while sending
    leaves a claim without ``sent_at``: the run redelivered by the broker waits until that claim
    is older than any relay conversation can take, then sends. Only a kill in the milliseconds
    between the relay's acceptance and the mark can lead to a second copy (same Message-ID).
    """
    with unscoped():
        report = Report.objects.select_related("service").filter(pk=report_id).first()
    if report is None or not report.reporter_email:
        return False  # deleted or anonymised in the meantime: nothing to send
    now = timezone.now()
    with transaction.atomic():
        record, created = StatusMail.objects.select_for_update().get_or_create(
            report_id=report_id, defaults={"claimed_at": now}
        )
        if not created:
            if record.sent_at is not None:
                return False
            if record.claimed_at > now - _claim_timeout():
                if self.request.is_eager:
                    return False
                countdown = (record.claimed_at + _claim_timeout() - now).total_seconds() + 1
                raise self.retry(countdown=countdown)
            record.claimed_at = now
            record.save(update_fields=["claimed_at"])
    try:
        mail.deliver_status_link(report, status_url)
    except Exception:
        StatusMail.objects.filter(pk=record.pk, sent_at__isnull=True).delete()
        raise
    StatusMail.objects.filter(pk=record.pk).update(sent_at=timezone.now())
    return True


def import_exclusively(url: str, **options: Any) -> ImportResult | None:
    """The Open311 import of ``url`` (see ``open311.client.import_requests``), one run at a time.

    A report is keyed by (server, ``service_request_id``) and each is created in its own
    transaction, so a run repeated after a crash creates nothing twice; the lock keeps two runs
    of the same server (a command and a scheduled task, or a redelivered task) from both
    creating a report that neither has seen yet. ``None`` when another run holds the lock.
    """
    with tasking.exclusive(f"open311-import:{url.rstrip('/')}") as mine:
        if not mine:
            return None
        return import_requests(url, **options)


@tasking.task(name="citizen.open311_import", time_limit=25 * 60)
def open311_import(
    url: str,
    *,
    service_codes: list[str] | None = None,
    api_key: str = "",
    jurisdiction: str = "",
    since: str = "",
    default_service: str = "",
    code_map: dict[str, str] | None = None,
    page_size: int = 1000,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Background form of ``lagebild open311-import`` (``since`` as ISO 8601); the figures it logs."""
    result = import_exclusively(
        url,
        service_codes=service_codes or [],
        api_key=api_key,
        jurisdiction=jurisdiction,
        since=dt.datetime.fromisoformat(since) if since else None,
        default_service=default_service,
        code_map=code_map or {},
        page_size=page_size,
        timeout=timeout,
        log=logger.info,
    )
    if result is None:
        logger.info("Open311 import of %s skipped: another run of it is in progress", url)
        return {"skipped": True}
    figures = {
        "fetched": result.fetched,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "invalid": len(result.invalid),
        "unknown_services": sum(result.unknown_services.values()),
    }
    logger.info("Open311 import of %s: %s", url, figures)
    return figures
