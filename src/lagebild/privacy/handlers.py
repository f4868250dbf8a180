"""What the retention engine does per record type: find what is due, delete or anonymise it.

Every record type in ``records.RECORD_TYPES`` names a handler by dotted path. A handler is
an object (or a class, instantiated without arguments) with this signature. Other apps may
provide their own (``lagebild.core.audit_retention.handler`` does, for the audit chain); the
bodycam and sharing handlers live here and delete through those apps' own code::

    class Handler:
        action: str   # "deleted" or "anonymised"

        def find_due(self, *, now: datetime, retention: Retention, authority_id: int | None,
                     skip: Sequence[QuerySet], limit: int | None) -> Iterable[Due]:
            '''Records due at ``now`` (due_at <= now), oldest first, at most ``limit``.
            ``authority_id``: only that authority's records (None: all). ``skip``: querysets
            of rows with an integer ``object_id`` not to return (on hold, done in this run),
            e.g. ``q.filter(object_id__in=ids)`` per page of candidates. Records anonymised
            in earlier runs must not be returned again: recognise them by their state.
            A handler is used for one run: it may keep a cursor between calls.'''

        def apply(self, due: Sequence[Due], *, now: datetime) -> Iterable[Path] | None:
            '''Delete or anonymise these records inside the engine's transaction. Files to
            remove from disk are returned: the engine removes them after the commit.'''

Handlers must not change any field the analytics count tables are built from
(``analytics/aggregates.py``): anonymising keeps them, deleting is only used for records
that are not counted. ``HandlerUnavailable`` means the app is not installed (skipped).
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import secrets
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from .records import Retention

CHUNK = 2000  # candidates read per query


class HandlerUnavailable(Exception):
    """The app holding this record type is not installed (yet)."""


@dataclass(frozen=True)
class Due:
    object_id: str
    authority_id: int | None
    due_at: dt.datetime
    # What the retention counts from. With the id it names the record in the deletion log: an
    # id given again to a new record after a deletion (SQLite, imports that number from MAX+1)
    # is then not mistaken for the record anonymised before.
    start: dt.datetime | None = None


def _loose_cutoff(now: dt.datetime, retention: Retention) -> dt.datetime:
    # Every record due at ``now`` started before this (months counted short, a day of slack
    # for DST); the exact due date is then computed per record.
    span = dt.timedelta(days=retention.years * 365 + retention.months * 28 + retention.days - 1)
    return now - span


class ModelHandler(abc.ABC):
    """Handler for a model of this project: due = start + retention, scoped by an authority path."""

    model_label = ""
    action = "anonymised"
    start: str | Any = ""  # field name or expression
    start_is_date = False
    authority_path: str | None = "authority_id"
    id_field = "pk"  # the integer that names a record in the deletion log
    # Rows that already look anonymised (``done``), confirmed per row by ``looks_done`` over
    # ``check_fields``: a run skips them, so a repeated or resumed run does nothing twice and
    # an id given again to a new record (SQLite, imports numbering from MAX+1) is still handled.
    done: Q | None = None
    check_fields: tuple[str, ...] = ()

    def looks_done(self, values: dict[str, Any]) -> bool:
        return True

    def __init__(self) -> None:
        self._after: tuple[Any, int] | None = None  # keyset cursor within one run

    def model(self) -> type[models.Model]:
        app_label, name = self.model_label.split(".")
        try:
            return apps.get_model(app_label, name)
        except LookupError as exc:
            raise HandlerUnavailable(self.model_label) from exc

    def queryset(self) -> QuerySet:
        return self.model()._default_manager.all()

    def candidates(self, *, cutoff: dt.datetime | dt.date, authority_id: int | None) -> QuerySet:
        qs = self.queryset().annotate(_start=self._start_expression())
        qs = qs.filter(_start__isnull=False, _start__lte=cutoff)
        if authority_id is not None:
            if self.authority_path is None:
                return qs.none()
            qs = qs.filter(**{self.authority_path: authority_id})
        return qs

    def _start_expression(self) -> Any:
        return models.F(self.start) if isinstance(self.start, str) else self.start

    def find_due(
        self,
        *,
        now: dt.datetime,
        retention: Retention,
        authority_id: int | None,
        skip: Sequence[QuerySet],
        limit: int | None,
    ) -> Iterator[Due]:
        zone = timezone.get_current_timezone()
        cutoff: dt.datetime | dt.date = _loose_cutoff(now, retention)
        if self.start_is_date:
            cutoff = cutoff.astimezone(zone).date()  # type: ignore[union-attr]
        qs = self.candidates(cutoff=cutoff, authority_id=authority_id)
        authority = (
            models.F(self.authority_path)
            if self.authority_path
            else models.Value(None, output_field=models.BigIntegerField())
        )
        maybe_done = (
            models.Case(models.When(self.done, then=True), default=False, output_field=models.BooleanField())
            if self.done is not None
            else models.Value(False, output_field=models.BooleanField())
        )
        base = (
            qs.annotate(_authority=authority, _maybe_done=maybe_done)
            .order_by("_start", self.id_field)
            .values_list(self.id_field, "_authority", "_start", "_maybe_done", *self.check_fields)
        )
        chunk_size = max(limit or 0, CHUNK)
        handed_out = 0
        # Keyset pagination (within a run the cursor stays where the last batch ended) and the
        # skip lists looked up per chunk by id: every candidate is read once per run, and no
        # plan depends on the planner's estimate of the deletion log (an anti-join against it
        # ran 50 s per batch on PostgreSQL with the statistics of an empty log).
        while True:
            page = base
            if self._after is not None:
                last_start, last_id = self._after
                page = page.filter(
                    Q(_start__gt=last_start) | Q(_start=last_start, **{f"{self.id_field}__gt": last_id})
                )
            rows = list(page[:chunk_size])
            if not rows:
                return
            ids = [row[0] for row in rows]
            skipped: set[int] = set()
            for rows_to_skip in skip:
                skipped.update(rows_to_skip.filter(object_id__in=ids).values_list("object_id", flat=True))
            for pk, authority_id_of_row, stored_start, maybe_done, *checked in rows:
                start = stored_start
                if self.start_is_date:
                    start = dt.datetime.combine(stored_start, dt.time(0), tzinfo=zone)
                due_at = retention.due(start, zone)
                if due_at > now:
                    return  # due dates grow with the start: nothing later is due either
                self._after = (stored_start, pk)
                if pk in skipped:
                    continue
                if maybe_done and self.looks_done(dict(zip(self.check_fields, checked, strict=True))):
                    continue
                yield Due(str(pk), authority_id_of_row, due_at, start)
                handed_out += 1
                if limit is not None and handed_out >= limit:
                    return

    def ids(self, due: Sequence[Due]) -> list[int]:
        return [int(d.object_id) for d in due]

    @abc.abstractmethod
    def apply(self, due: Sequence[Due], *, now: dt.datetime) -> Iterable[Path] | None:
        """Delete or anonymise the due records; each record type says how."""


def _cell_centre(h3_cell: str) -> tuple[float, float, float, float] | None:
    """(lat, lon, x, y) of the centre of an H3 cell: the coarsened position of an anonymised record."""
    if not h3_cell:
        return None
    import h3

    from lagebild.geo.points import COORDINATE_DECIMALS, to_utm32

    lat, lon = h3.cell_to_latlng(h3_cell)
    lat, lon = round(lat, COORDINATE_DECIMALS), round(lon, COORDINATE_DECIMALS)
    x, y = to_utm32(lat, lon)
    return lat, lon, x, y


# --- field ---------------------------------------------------------------------------------


def _coarsen(queryset: QuerySet, ids: list[int]) -> None:
    """Move the points of these records to the centre of their H3 cell: one UPDATE per cell
    (records of a batch share few cells; a CASE per row made SQLite slow)."""
    by_cell: dict[str, list[int]] = defaultdict(list)
    for pk, cell in queryset.filter(pk__in=ids).values_list("pk", "h3_cell"):
        by_cell[cell].append(pk)
    for cell, pks in by_cell.items():
        centre = _cell_centre(cell)
        if centre is not None:
            lat, lon, x, y = centre
            queryset.filter(pk__in=pks).update(lat=lat, lon=lon, x_utm=x, y_utm=y)


def _at_cell_centre(values: dict[str, Any]) -> bool:
    centre = _cell_centre(values["h3_cell"])
    return centre is None or values["lat"] is None or (values["lat"], values["lon"]) == centre[:2]


class IncidentHandler(ModelHandler):
    model_label = "field.Incident"
    start = "occurred_at"
    done = Q(description="", address_text="", external_id="", recorded_by__isnull=True)
    check_fields = ("lat", "lon", "h3_cell")

    def looks_done(self, values: dict[str, Any]) -> bool:
        return _at_cell_centre(values)

    def apply(self, due: Sequence[Due], *, now: dt.datetime) -> None:
        incidents = self.model()._default_manager
        ids = self.ids(due)
        incidents.filter(pk__in=ids).update(description="", address_text="", external_id="", recorded_by=None)
        _coarsen(incidents.all(), ids)


class MeasureHandler(ModelHandler):
    model_label = "field.Measure"
    start = "taken_at"
    done = Q(person__isnull=True, note="", taken_by__isnull=True)

    def apply(self, due: Sequence[Due], *, now: dt.datetime) -> None:
        self.model()._default_manager.filter(pk__in=self.ids(due)).update(person=None, note="", taken_by=None)


class PersonHandler(ModelHandler):
    model_label = "field.Person"
    action = "deleted"
    start = Coalesce(Max("measures__taken_at"), "created_at")

    def apply(self, due: Sequence[Due], *, now: dt.datetime) -> None:
        from lagebild.field.models import Measure

        ids = self.ids(due)
        Measure._default_manager.filter(person_id__in=ids).update(person=None)
        self.model()._default_manager.filter(pk__in=ids).delete()


class ShiftHandler(ModelHandler):
    model_label = "field.Shift"
    start = "ends_at"
    done = Q(note="", lead__isnull=True)

    def apply(self, due: Sequence[Due], *, now: dt.datetime) -> None:
        self.model()._default_manager.filter(pk__in=self.ids(due)).update(note="", lead=None)


class DeploymentPlanHandler(ModelHandler):
    """The plan stays, as the record of where the teams were sent and what an edit cost; the
    employees named in it and the free-text reasons of the edits go."""

    model_label = "deployment.DeploymentPlan"
    start = "week"
    start_is_date = True

    @property
    def done(self) -> Q:  # type: ignore[override]
        from lagebild.deployment.models import PlanChange

        named = PlanChange.objects.filter(plan=OuterRef("pk")).exclude(user__isnull=True, reason="")
        return Q(created_by__isnull=True, approved_by__isnull=True) & ~Q(Exists(named))

    def apply(self, due: Sequence[Due], *, now: dt.datetime) -> None:
        from lagebild.deployment.models import PlanChange

        ids = self.ids(due)
        self.model()._default_manager.filter(pk__in=ids).update(created_by=None, approved_by=None)
        PlanChange.objects.filter(plan_id__in=ids).update(user=None, reason="")


PLACEHOLDER_PREFIX = "~anonym-"


def placeholder_users(authority_id: int, count: int) -> list[Any]:
    """``count`` locked placeholder accounts of an authority (created on first use)."""
    from lagebild.core.models import Authority, Role, User

    code = Authority.objects.only("code").get(pk=authority_id).code
    names = [f"{PLACEHOLDER_PREFIX}{code}-{n}" for n in range(1, count + 1)]
    existing = {u.username: u for u in User.objects.filter(username__in=names)}
    result = []
    for n, name in enumerate(names, start=1):
        user = existing.get(name)
        if user is None:
            user = User(
                username=name,
                authority_id=authority_id,
                role=Role.FIELD_OFFICER,
                is_active=False,
                first_name="Anonymisiert",
                last_name=str(n),
            )
            user.set_unusable_password()
            user.save()
        result.append(user)
    return result


class PatrolHandler(ModelHandler):
    model_label = "field.Patrol"
    start = "planned_start"

    @property
    def done(self) -> Q:  # type: ignore[override]
        from lagebild.field.models import PatrolMember

        real_members = PatrolMember.objects.filter(patrol=OuterRef("pk")).exclude(
            user__username__startswith=PLACEHOLDER_PREFIX
        )
        return ~Q(Exists(real_members))

    def apply(self, due: Sequence[Due], *, now: dt.datetime) -> None:
        from lagebild.field.models import PatrolMember

        members: dict[int, dict[int, list[PatrolMember]]] = defaultdict(lambda: defaultdict(list))
        for member in PatrolMember.objects.filter(patrol_id__in=self.ids(due)).order_by("id"):
            members[member.patrol_id][member.authority_id].append(member)
        changed = []
        for by_authority in members.values():
            for authority_id, rows in by_authority.items():
                # The n-th member of an authority becomes that authority's n-th placeholder: the
                # number per authority (the staff hours) stays, the persons are gone.
                for row, placeholder in zip(rows, placeholder_users(authority_id, len(rows)), strict=True):
                    if row.user_id != placeholder.pk:
                        row.user_id = placeholder.pk
                        changed.append(row)
        # Two steps would be needed only if a row already held another row's placeholder,
        # which an anonymised patrol never does; patrols are anonymised once.
        PatrolMember.objects.bulk_update(changed, ["user"], batch_size=500)


# --- citizen reports -----------------------------------------------------------------------


def _closed() -> Q:
    from lagebild.citizen.models import CLOSED_STATUSES

    return Q(status__in=CLOSED_STATUSES, closed_at__isnull=False)


class ReporterContactHandler(ModelHandler):
    model_label = "citizen.Report"
    start = "closed_at"

    def queryset(self) -> QuerySet:
        return (
            super()
            .queryset()
            .filter(_closed(), anonymised_at__isnull=True)
            .filter(~Q(reporter_name="") | ~Q(reporter_email="") | ~Q(reporter_phone=""))
        )

    def apply(self, due: Sequence[Due], *, now: dt.datetime) -> None:
        from lagebild.citizen.retention import anonymise_contact

        anonymise_contact(self.ids(due), now=now)


class ReportContentHandler(ModelHandler):
    model_label = "citizen.Report"
    start = "closed_at"
    done = Q(
        description="", address_text="", address_id="", external_id="",
        reporter_name="", reporter_email="", reporter_phone="",
    )  # fmt: skip
    check_fields = ("lat", "lon", "h3_cell", "attributes")

    def looks_done(self, values: dict[str, Any]) -> bool:
        return not values["attributes"] and _at_cell_centre(values)

    def queryset(self) -> QuerySet:
        return super().queryset().filter(_closed())

    def apply(self, due: Sequence[Due], *, now: dt.datetime) -> None:
        reports = self.model()._default_manager
        ids = self.ids(due)
        reports.filter(pk__in=ids).update(
            description="", address_text="", address_id="", external_id="", attributes={},
            reporter_name="", reporter_email="", reporter_phone="",
        )  # fmt: skip
        reports.filter(pk__in=ids, anonymised_at__isnull=True).update(anonymised_at=now)
        for pk in ids:
            # The citizen's status link stops working (the token is unique: one row at a time).
            reports.filter(pk=pk).update(public_token=secrets.token_urlsafe(16))
        _coarsen(reports.all(), ids)


class PhotoHandler(ModelHandler):
    model_label = "citizen.Photo"
    action = "deleted"
    start = "report__closed_at"
    authority_path = "report__authority_id"

    def queryset(self) -> QuerySet:
        from lagebild.citizen.models import CLOSED_STATUSES

        return super().queryset().filter(report__status__in=CLOSED_STATUSES)

    def apply(self, due: Sequence[Due], *, now: dt.datetime) -> list[Path]:
        from lagebild.citizen.photos import photo_path

        photos = list(self.model()._default_manager.filter(pk__in=self.ids(due)))
        paths = []
        for photo in photos:
            # A name leaving the photo folder raises: never touch such a path.
            with contextlib.suppress(FileNotFoundError):
                paths.append(photo_path(photo))
        self.model()._default_manager.filter(pk__in=[p.pk for p in photos]).delete()
        return paths


class StatusHistoryHandler(ModelHandler):
    model_label = "citizen.StatusChange"
    start = "report__closed_at"
    authority_path = "report__authority_id"
    done = Q(public_note="", internal_note="", user__isnull=True)

    def queryset(self) -> QuerySet:
        from lagebild.citizen.models import CLOSED_STATUSES

        return super().queryset().filter(report__status__in=CLOSED_STATUSES)

    def apply(self, due: Sequence[Due], *, now: dt.datetime) -> None:
        self.model()._default_manager.filter(pk__in=self.ids(due)).update(
            public_note="", internal_note="", user=None
        )


# --- audit, accounts, tokens, task force ---------------------------------------------------


class UserAccountHandler(ModelHandler):
    model_label = "core.User"
    start = Coalesce("last_login", "date_joined")
    done = Q(username__startswith="geloescht-", first_name="", last_name="", email="", service_number="")

    def queryset(self) -> QuerySet:
        return super().queryset().filter(is_active=False).exclude(username__startswith=PLACEHOLDER_PREFIX)

    def apply(self, due: Sequence[Due], *, now: dt.datetime) -> None:
        model = self.model()
        users = list(model._default_manager.filter(pk__in=self.ids(due)))
        for user in users:
            user.username = f"geloescht-{user.pk}"
            user.first_name = user.last_name = user.email = user.service_number = ""
            user.is_active = user.is_staff = user.is_superuser = False
            user.set_unusable_password()
        model._default_manager.bulk_update(
            users,
            ["username", "first_name", "last_name", "email", "service_number", "is_active", "is_staff",
             "is_superuser", "password"],
            batch_size=500,
        )  # fmt: skip


class ApiTokenHandler(ModelHandler):
    """Expired or revoked API tokens (``lagebild.accounts``); live tokens are never touched."""

    model_label = "accounts.ApiToken"
    action = "deleted"
    start = Coalesce("revoked_at", "expires_at")
    authority_path = "user__authority_id"

    def apply(self, due: Sequence[Due], *, now: dt.datetime) -> None:
        self.model()._default_manager.filter(pk__in=self.ids(due)).delete()


class IdempotencyKeyHandler(ModelHandler):
    """Idempotency keys with their stored first answer (``core.idempotency``): kept one day."""

    model_label = "core.IdempotencyKey"
    action = "deleted"
    start = "created_at"
    authority_path = None  # keys belong to a login or an Open311 client: only in runs over all

    def apply(self, due: Sequence[Due], *, now: dt.datetime) -> None:
        self.model()._default_manager.filter(pk__in=self.ids(due)).delete()


class MeetingHandler(ModelHandler):
    model_label = "taskforce.Meeting"
    start = "date"
    start_is_date = True
    authority_path = None  # the task force is joint: only in runs over all authorities

    @property
    def done(self) -> Q:  # type: ignore[override]
        attendees = self.model().attendees.through.objects.filter(meeting_id=OuterRef("pk"))
        return Q(minutes="") & ~Q(Exists(attendees))

    def apply(self, due: Sequence[Due], *, now: dt.datetime) -> None:
        model = self.model()
        ids = self.ids(due)
        model._default_manager.filter(pk__in=ids).update(minutes="")
        model.attendees.through.objects.filter(meeting_id__in=ids).delete()


# --- apps built alongside: bodycam, sharing, the audit chain --------------------------------


class BodycamHandler(ModelHandler):
    """Recordings whose ``delete_after`` has come (``lagebild.bodycam``).

    The bodycam app sets ``delete_after`` at registration (14 days, or the date of a four-eyes
    retention decision) and deletes through ``services.delete_recording``: file removed, row
    kept as a tombstone with hash and custody chain. The engine only finds and logs them.
    """

    model_label = "bodycam.Recording"
    action = "deleted"
    start = "delete_after"

    def find_due(self, *, retention: Retention, **kwargs: Any) -> Iterator[Due]:
        # The due date is the recording's own delete_after: retention zero from there.
        return super().find_due(retention=Retention(), **kwargs)

    def queryset(self) -> QuerySet:
        from lagebild.bodycam.models import RetentionState

        return super().queryset().filter(state__in=[RetentionState.STORED, RetentionState.RETAINED])

    def apply(self, due: Sequence[Due], *, now: dt.datetime) -> None:
        from lagebild.bodycam.retention import PURGE_REASON
        from lagebild.bodycam.services import delete_recording

        for recording in self.model()._default_manager.filter(pk__in=self.ids(due)).order_by("pk"):
            reason = PURGE_REASON if recording.state == "stored" else "Löschdatum der Sicherung erreicht"
            delete_recording(recording, now=now, reason=reason)


class TransferHandler(ModelHandler):
    """Transfer records (``lagebild.sharing``) with their events, at the end of the following year.

    The sharing app's rows are append-only for the application (no update, no single delete);
    retention removes them as a set, events first (they protect their transfer).
    """

    model_label = "sharing.Transfer"
    action = "deleted"
    start = "created_at"
    authority_path = "sender_authority_id"

    def apply(self, due: Sequence[Due], *, now: dt.datetime) -> None:
        from lagebild.sharing.models import TransferEvent

        ids = self.ids(due)
        TransferEvent.objects.filter(transfer_id__in=ids).delete()
        self.model()._default_manager.filter(pk__in=ids).delete()


class ProceedingsPersonHandler(ModelHandler):
    """Identity data of a person concerned (§ 111 OWiG) once all their cases are closed.

    Closed means paid, discontinued, lapsed or handed to the prosecutor (``closed_on``); the retention
    counts from the last closure. The cases, their events and amounts stay for the figures; the person
    row keeps only the birth year (so juvenile shares can still be counted) and the anonymisation time.
    """

    model_label = "proceedings.ProceedingsPerson"
    start = Max("cases__closed_on")
    start_is_date = True
    done = Q(anonymised_at__isnull=False)

    def queryset(self) -> QuerySet:
        from lagebild.proceedings.models import CLOSED_STATES, Case

        open_case = Case._default_manager.filter(person_id=OuterRef("pk")).exclude(state__in=CLOSED_STATES)
        with_cases = super().queryset().filter(anonymised_at__isnull=True, cases__isnull=False)
        return with_cases.exclude(Exists(open_case))

    def apply(self, due: Sequence[Due], *, now: dt.datetime) -> None:
        persons = self.model()._default_manager
        for person in persons.filter(pk__in=self.ids(due)).only("pk", "date_of_birth"):
            persons.filter(pk=person.pk).update(
                family_name="anonymisiert",
                given_names="",
                birth_name="",
                date_of_birth=dt.date(person.date_of_birth.year, 1, 1),
                place_of_birth="",
                marital_status="",
                occupation="",
                street="",
                postcode="",
                city="",
                nationality="",
                phone="",
                email="",
                field_person=None,
                anonymised_at=now,
            )


class AuditEntryHandler:
    """Audit entries: pruned by the audit chain's own handler, when it provides one.

    The audit log is a hash chain and, on PostgreSQL, append-only by trigger; only the chain's
    module can remove its oldest entries and anchor the new start. It is expected at
    ``lagebild.core.audit_retention.handler`` with this module's handler signature; until
    then the engine reports the type as skipped and deletes nothing.
    """

    target = "lagebild.core.audit_retention.handler"

    def _target(self) -> Any:
        from django.utils.module_loading import import_string

        try:
            handler = import_string(self.target)
        except ImportError as exc:
            raise HandlerUnavailable(self.target) from exc
        return handler() if isinstance(handler, type) else handler

    @property
    def action(self) -> str:
        return self._target().action

    def find_due(self, **kwargs: Any) -> Iterable[Due]:
        return self._target().find_due(**kwargs)

    def apply(self, due: Sequence[Due], **kwargs: Any) -> Iterable[Path] | None:
        return self._target().apply(due, **kwargs)
