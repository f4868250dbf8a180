"""Notifications of the Sonderstab (``lagebild notify``): what each member finds in Lagebild and in
the mailbox, nothing twice, as each chose, for police and city members alike, never for outsiders."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from lagebild.taskforce import notifications, services
from lagebild.taskforce.models import Notification, NotificationPreference

from .taskforce_fixtures import *  # noqa: F403
from .taskforce_fixtures import _record_begging


class BrokenBackend(BaseEmailBackend):
    """A mail relay that is down."""

    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError("Relay nicht erreichbar")


def _days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


def _notify(*args: str) -> str:
    out = io.StringIO()
    call_command("notify", *args, stdout=out)
    return out.getvalue().strip()


def _mine(user, kind: str | None = None) -> list[Notification]:
    found = Notification.objects.filter(user=user)
    return list(found.filter(kind=kind) if kind else found)


@pytest.fixture
def people(staff) -> dict:
    for name, user in staff.items():
        user.email = f"{name}@example.org"
        user.save(update_fields=["email"])
    return staff


@pytest.fixture
def occasions(task_force, group, people) -> dict:
    """A milestone due soon, one overdue, a board decision and an action item from a meeting."""
    lead, member = people["lead"], people["member"]
    soon = services.milestone_create(group, lead, title="Standorte prüfen", owner=member, due=_days(2))
    late = services.milestone_create(group, lead, title="Kosten schätzen", owner=lead, due=_days(-1))
    services.milestone_create(group, lead, title="Später", owner=member, due=_days(30))
    recommendation = services.recommendation_create(group, lead, title="Mehr Streetwork", text="…")
    services.recommendation_transition(recommendation, lead, target="submitted")
    services.recommendation_transition(recommendation, people["board"], target="approved")
    meeting = services.meeting_schedule(task_force, people["secretary"], date=_days(0))
    services.meeting_open(meeting, people["mayor"])
    action = services.action_create(
        meeting, people["secretary"], title="Kostenplan vorlegen", owner=lead, due=_days(7)
    )
    return {"soon": soon, "late": late, "recommendation": recommendation, "action": action}


def test_notify_twice_sends_nothing_twice_and_says_so_in_german(occasions, people):
    first = _notify()
    assert first.startswith(
        "Benachrichtigungen: 9 neu für 5 Personen (Aufgaben 1, Entscheidungen 5, Meilensteine 3)."
    )
    assert first.endswith("5 E-Mails versandt.")
    assert len(mail.outbox) == 5
    lead_mail = next(m for m in mail.outbox if m.to == ["lead@example.org"])
    assert lead_mail.subject == "Sonderstab: 4 neue Benachrichtigungen"
    assert "Meilenstein überfällig: Kosten schätzen" in lead_mail.body
    assert "Neue Aufgabe bis" in lead_mail.body and "Kostenplan vorlegen" in lead_mail.body
    assert f"{occasions['recommendation'].number} – Beschlossen" in lead_mail.body
    member = people["member"]
    assert {n.subject for n in notifications.unread(member)} == {
        f"Meilenstein fällig am {_days(2):%d.%m.%Y}: Standorte prüfen",
        f"Verwaltungsvorstand: {occasions['recommendation'].number} – Beschlossen",
    }
    assert _mine(people["board"]) == []  # who decided is not told about it

    assert _notify() == "Keine neuen Benachrichtigungen. 0 E-Mails versandt."
    assert len(mail.outbox) == 5
    assert Notification.objects.count() == 9
    # The milestone is moved: a new due date is a new occasion.
    occasions["soon"].due = _days(3)
    occasions["soon"].save(update_fields=["due"])
    assert _notify().startswith("Benachrichtigungen: 2 neu für 2 Personen")


def test_each_member_gets_what_they_chose(occasions, people):
    member, lead, mayor = people["member"], people["lead"], people["mayor"]
    notifications.preference_set(member, "milestone", in_app=True, email=False)
    notifications.preference_set(lead, "decision", in_app=False, email=True)
    notifications.preference_set(mayor, "decision", in_app=False, email=False)
    assert notifications.preferences(member)["milestone"] == (True, False)
    assert notifications.preferences(member)["decision"] == (True, True)  # default: both on
    result = _notify()
    assert "Davon 1 nur vermerkt (abbestellt)." in result
    # The member's mail has the decision only; the milestone is in Lagebild.
    member_mail = next(m for m in mail.outbox if m.to == ["member@example.org"])
    assert "Standorte prüfen" not in member_mail.body and "Beschlossen" in member_mail.body
    assert any("Standorte prüfen" in n.subject for n in notifications.unread(member))
    # The lead reads decisions by mail only.
    assert not [n for n in notifications.unread(lead) if n.kind == "decision"]
    lead_mail = next(m for m in mail.outbox if m.to == ["lead@example.org"])
    assert "Beschlossen" in lead_mail.body
    # The mayor switched decisions off: nothing to see, no mail, and it stays that way.
    assert list(notifications.unread(mayor)) == []
    assert not [m for m in mail.outbox if m.to == ["mayor@example.org"]]
    notifications.preference_set(mayor, "decision", in_app=True, email=True)
    assert _notify() == "Keine neuen Benachrichtigungen. 0 E-Mails versandt."
    with pytest.raises(Exception, match="gibt es nicht"):
        notifications.preference_set(member, "newsletter", in_app=True, email=True)
    assert NotificationPreference.objects.filter(user=member).count() == 1


def test_a_goal_changing_status_gives_each_member_exactly_one_notification(
    task_force, group, people, indicators, kod
):
    goal = services.goal_create(
        group,
        people["lead"],
        title="Aggressives Betteln unter 40 Fälle in 28 Tagen",
        target_date=_days(120),
        indicator_code="begging-observed",
        baseline_start=_days(-70),
        baseline_end=_days(-43),
        baseline_value=60,
        target_value=40,
    )
    assert "1 Ziel erstmals erfasst" in _notify()  # no figures yet: 0 cases, "erreicht", noted only
    assert Notification.objects.filter(kind="goal_status").count() == 0
    _record_begging(kod, _days(-2), 50)  # the last 28 days now count 50 cases: target missed
    _notify()
    _notify()
    found = Notification.objects.filter(kind="goal_status")
    assert sorted(n.user.username for n in found) == sorted(
        ["ag-leitung", "ag-stadt", "ob", "pp", "geschaeftsstelle"]
    )  # group lead (police), member (city), both chairs, secretariat: once each
    text = found.get(user=people["member"]).body
    assert "(bisher „erreicht“)" in text and "Aktueller Wert: 50" in text
    assert found.get(user=people["member"]).subject.startswith("Ziel jetzt „")
    assert goal.notified_status.changes == 1


def test_outsiders_of_either_authority_get_nothing(task_force, group, people):
    # Even a milestone an outsider owns: they do not see the Sonderstab, so they are not told.
    services.milestone_create(
        group, people["lead"], title="Kontrolle Nordmarkt", owner=people["outsider_police"], due=_days(1)
    )
    _notify()
    assert _mine(people["outsider_police"]) == [] and _mine(people["outsider_city"]) == []
    assert [n.subject for n in _mine(people["lead"])] == [
        f"Meilenstein fällig am {_days(1):%d.%m.%Y}: Kontrolle Nordmarkt"
    ]


def test_mails_that_fail_are_sent_by_the_next_run(occasions, people):
    with override_settings(EMAIL_BACKEND="tests.test_taskforce_notifications.BrokenBackend"):
        first = _notify()
    assert "0 E-Mails versandt, 5 nicht zustellbar (der nächste Lauf versucht es erneut)." in first
    assert Notification.objects.filter(email=True, emailed_at__isnull=True).count() == 9
    assert _notify() == "Keine neuen Benachrichtigungen. 5 E-Mails versandt."
    assert _notify() == "Keine neuen Benachrichtigungen. 0 E-Mails versandt."
    assert len(mail.outbox) == 5


def test_dry_run_stores_and_sends_nothing(occasions):
    assert _notify("--dry-run").startswith("Probelauf: 9 neue Benachrichtigungen für 5 Personen")
    assert Notification.objects.count() == 0 and mail.outbox == []


def test_reading_marks_only_ones_own_notifications(occasions, people):
    _notify("--no-email")
    assert mail.outbox == []
    member, lead = people["member"], people["lead"]
    theirs = notifications.unread(lead).first()
    mine = list(notifications.unread(member))
    assert notifications.mark_read(member, [mine[0].pk, theirs.pk, "kein-id", None]) == 1
    assert len(notifications.unread(member)) == len(mine) - 1
    assert notifications.unread(lead).filter(pk=theirs.pk).exists()
    assert notifications.mark_read(member) == len(mine) - 1
    assert list(notifications.unread(member)) == []
    assert len(notifications.recent(member)) == len(mine)
    assert _notify() == "Keine neuen Benachrichtigungen. 5 E-Mails versandt."  # --no-email left them


def test_mails_link_to_the_page_with_the_sites_address(occasions, people):
    with override_settings(LAGEBILD_SITE_URL="https://lagebild.example/"):
        _notify()
    member_mail = next(m for m in mail.outbox if m.to == ["member@example.org"])
    number = occasions["recommendation"].number
    stored = Notification.objects.get(user=people["member"], kind="decision")
    assert stored.url.startswith("/") and f"https://lagebild.example{stored.url}" in member_mail.body
    assert f"Verwaltungsvorstand: {number} – Beschlossen" in member_mail.body
