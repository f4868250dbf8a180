"""Background tasks of the Sonderstab: sending the notification e-mails."""

from __future__ import annotations

from typing import Any

from lagebild.core import tasking

from . import notifications


@tasking.task(name="taskforce.send_notification_emails")
def send_notification_emails() -> dict[str, Any]:
    """One digest per user of the notifications wanted by e-mail and not sent yet.

    Each notification is claimed (``emailed_at``) before its digest goes to the relay, so two
    runs, or a run repeated by the broker, never send it twice; a relay error releases the claim
    and a later run sends it (see ``notifications.send_pending_emails``).
    """
    result = notifications.send_pending_emails()
    return {"sent": result.emails_sent, "failed": result.emails_failed}
