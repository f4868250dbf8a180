"""The Sonderstab calendar as an iCalendar feed (RFC 5545) per user, for Outlook and Thunderbird.

A user subscribes to ``/sonderstab/kalender/<token>.ics``: the token is the only credential (a
calendar program cannot log in), so it is long and random, and rotating it ends every old
subscription. The feed holds

* the meetings of every task force the user sees (:func:`selectors.visible_task_forces`), at
  their local start time (``DTSTART;TZID=Europe/Berlin``) with a default length of
  :data:`MEETING_MINUTES`;
* the due dates of milestones the user owns or that belong to a working group the user leads or
  is a member of, as all-day events (dropped milestones are left out).

UIDs are stable (``sitzung-<id>@…``, ``meilenstein-<id>@…``), so a moved meeting or a new due
date updates the entry in the calendar program instead of adding a second one. The time zone is
the city's (``TIME_ZONE``); for Europe/Berlin the feed carries the compact VTIMEZONE with the EU
rule (last Sunday of March / October), which Outlook reads best.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from lagebild.core import audit

from . import links, selectors
from .models import CalendarToken, Meeting, Milestone

MEETING_MINUTES = 90
PAST_DAYS = 400  # how far back the feed reaches: last year's meetings stay visible
TOKEN_BYTES = 32  # secrets.token_urlsafe(32): 43 characters, 256 bits
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
REFRESH = dt.timedelta(hours=1)


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    summary: str
    start: dt.datetime | dt.date
    end: dt.datetime | dt.date
    description: str = ""
    location: str = ""
    url: str = ""
    busy: bool = True
    categories: tuple[str, ...] = ()


# --- tokens (writes) -----------------------------------------------------------------------------


def _new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_for(user: Any) -> CalendarToken:
    """The user's calendar token, created on first use."""
    found = CalendarToken.objects.filter(user=user).first()
    return found if found is not None else token_rotate(user)


def token_rotate(user: Any) -> CalendarToken:
    """A new secret for the user's feed; every address handed out before stops working."""
    for _attempt in range(3):
        try:
            with transaction.atomic():
                token, created = CalendarToken.objects.select_for_update().get_or_create(
                    user=user, defaults={"token": _new_token()}
                )
                if not created:
                    token.token = _new_token()
                    token.created = timezone.now()
                    token.save(update_fields=["token", "created"])
                audit.log("taskforce.calendar_token", user=user, obj=token, rotated=not created)
                return token
        except IntegrityError:  # two rotations at once, or (never seen) the same random token
            continue
    raise RuntimeError("Der Kalender-Schlüssel konnte nicht angelegt werden.")


def user_for_token(token: str) -> Any | None:
    """The active user whose feed ``token`` opens, or None (unknown, malformed, user deactivated)."""
    if not isinstance(token, str) or not TOKEN_PATTERN.match(token):
        return None
    found = CalendarToken.objects.filter(token=token).select_related("user").first()
    if found is None or not found.user.is_active:
        return None
    return found.user


# --- events (reads) ------------------------------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _uid(kind: str, pk: int) -> str:
    domain = slugify(getattr(settings, "CITY_NAME", "")) or "stadt"
    return f"{kind}-{pk}@lagebild-{domain}"


def meeting_start(meeting: Meeting) -> dt.datetime:
    """The meeting's start as an aware local time (wall-clock time on the meeting's day)."""
    return dt.datetime.combine(meeting.date, meeting.starts_at, tzinfo=_zone())


def feed_events(user: Any, *, base_url: str = "", today: dt.date | None = None) -> list[FeedEvent]:
    """What ``user``'s calendar shows: meetings of their task forces, due dates of their milestones."""
    if not getattr(user, "is_active", False):
        return []
    day = today or timezone.localdate()
    since = day - dt.timedelta(days=PAST_DAYS)
    task_forces = list(selectors.visible_task_forces(user))
    events: list[FeedEvent] = []
    meetings = (
        Meeting.objects.filter(task_force__in=task_forces, date__gte=since)
        .select_related("task_force")
        .order_by("date", "starts_at", "pk")
    )
    for meeting in meetings:
        start = meeting_start(meeting)
        path = links.path_to("meeting-detail", meeting.pk)
        lines = [
            f"{meeting.number}. Sitzung – {meeting.task_force.name}",
            f"Stand: {meeting.get_state_display()}",
            f"Zahlen bis einschließlich {meeting.as_of:%d.%m.%Y}",
            f"Tagesordnung und Unterlagen: {links.absolute(path, base_url)}",
        ]
        events.append(
            FeedEvent(
                uid=_uid("sitzung", meeting.pk),
                summary=f"{meeting.task_force.name}: {meeting.number}. Sitzung",
                start=start,
                end=start + dt.timedelta(minutes=MEETING_MINUTES),
                description="\n".join(lines),
                location=meeting.location,
                url=links.absolute(path, base_url),
                categories=("Sonderstab", "Sitzung"),
            )
        )
    groups = selectors.groups_of(user, task_forces)
    milestones = (
        Milestone.objects.filter(Q(owner=user) | Q(working_group__in=groups))
        .filter(working_group__task_force__in=task_forces, due__gte=since)
        .exclude(status=Milestone.Status.DROPPED)
        .select_related("working_group", "owner")
        .distinct()
        .order_by("due", "pk")
    )
    for milestone in milestones:
        done = milestone.status == Milestone.Status.DONE
        # The feed is fetched again every hour: an open milestone past its date says so in the title.
        overdue = milestone.is_overdue()
        path = links.path_to("milestone-update", milestone.pk)
        status = milestone.get_status_display() + (", überfällig" if overdue else "")
        lines = [
            f"Arbeitsgruppe: {milestone.working_group.name}",
            f"Verantwortlich: {milestone.owner}",
            f"Stand: {status}",
            links.absolute(path, base_url),
        ]
        label = "erledigt" if done else ("überfällig" if overdue else "fällig")
        events.append(
            FeedEvent(
                uid=_uid("meilenstein", milestone.pk),
                summary=f"Meilenstein {label}: {milestone.title}",
                start=milestone.due,
                end=milestone.due + dt.timedelta(days=1),
                description="\n".join(lines),
                url=links.absolute(path, base_url),
                busy=False,
                categories=("Sonderstab", "Meilenstein"),
            )
        )
    return events


# --- iCalendar -----------------------------------------------------------------------------------


def _berlin_timezone() -> icalendar.Timezone:
    """Europe/Berlin with the EU rule, valid for every year since 1996 (no list of dates)."""
    zone = icalendar.Timezone()
    zone.add("tzid", "Europe/Berlin")
    zone.add("x-lic-location", "Europe/Berlin")
    summer = icalendar.TimezoneDaylight()
    summer.add("tzname", "MESZ")
    summer.add("tzoffsetfrom", dt.timedelta(hours=1))
    summer.add("tzoffsetto", dt.timedelta(hours=2))
    summer.add("dtstart", dt.datetime(1996, 3, 31, 2, 0))
    summer.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1SU"})
    winter = icalendar.TimezoneStandard()
    winter.add("tzname", "MEZ")
    winter.add("tzoffsetfrom", dt.timedelta(hours=2))
    winter.add("tzoffsetto", dt.timedelta(hours=1))
    winter.add("dtstart", dt.datetime(1996, 10, 27, 3, 0))
    winter.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1SU"})
    zone.add_component(summer)
    zone.add_component(winter)
    return zone


def to_ics(events: list[FeedEvent], *, name: str) -> bytes:
    """The events as an iCalendar file (CRLF lines, folded at 75 octets, UTF-8)."""
    feed = icalendar.Calendar()
    feed.add("prodid", f"-//Lagebild {getattr(settings, 'CITY_NAME', '')}//Sonderstab//DE")
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("method", "PUBLISH")
    feed.add("x-wr-calname", name)
    feed.add("x-wr-timezone", settings.TIME_ZONE)
    feed.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    feed.add("x-published-ttl", "PT1H")  # the same as REFRESH-INTERVAL, for Outlook
    zone_name = settings.TIME_ZONE
    if zone_name == "Europe/Berlin":
        feed.add_component(_berlin_timezone())
    stamp = timezone.now().astimezone(dt.UTC)
    for item in events:
        event = icalendar.Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", item.start)
        event.add("dtend", item.end)
        event.add("summary", item.summary)
        if item.description:
            event.add("description", item.description)
        if item.location:
            event.add("location", item.location)
        if item.url:
            event.add("url", item.url)
        if item.categories:
            event.add("categories", list(item.categories))
        event.add("transp", "OPAQUE" if item.busy else "TRANSPARENT")
        event.add("status", "CONFIRMED")
        feed.add_component(event)
    if zone_name != "Europe/Berlin":
        feed.add_missing_timezones()
    return feed.to_ical()


def feed_ics(user: Any, *, base_url: str = "") -> bytes:
    """``user``'s calendar as an iCalendar file."""
    city = getattr(settings, "CITY_NAME", "")
    name = f"Sonderstab – Lagebild {city}".strip()
    return to_ics(feed_events(user, base_url=base_url), name=name)
