"""Authority separation, proven by a generated matrix (issue 13, section 1).

Built from Django's URL resolver and the OpenAPI schema: every URL pattern and every API
operation needs an entry in ``tests/security_matrix.py`` (a new endpoint without one fails
here, with the line to add). Then, for every role of both authorities (and anonymous) ×
every pattern × records owned by the city, by the police and jointly:

* no answer is a server error;
* a record the user's authority may not see answers exactly like an id that does not exist
  (status, redirect target, content type and body once per-request values are taken out);
* no answer to a city user contains the police's marker text and vice versa (markers are
  seeded into the free text of incidents, measures, shifts, patrols and citizen reports);
  anonymous answers contain neither; a search for the other authority's marker answers like
  a search for nothing;
* where an entry names the roles that may use a page, the other roles do not get a 200.

Every API write operation on a record is sent (empty body) by users who cannot see the record
and must answer like the same write on a missing id.

The data are built once; the matrix runs in one test that collects every failure and reports
them together.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections import Counter
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.db.models import Max
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from lagebild.accounts.tokens import token_create
from lagebild.bodycam import services as bodycam
from lagebild.bodycam.models import ActivationReason, Recording
from lagebild.citizen import services as intake
from lagebild.citizen.models import Report, ServiceType
from lagebild.core.models import AuditEvent, Authority, Role, User
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.deployment.models import DeploymentPlan, PlanAssignment
from lagebild.field import selectors as field_selectors
from lagebild.field import services
from lagebild.field.measures import MeasureInput
from lagebild.field.models import Incident, Measure, Patrol, Shift
from lagebild.geo.models import Area
from lagebild.proceedings import services as proceedings
from lagebild.proceedings.models import Case, Caution, ProceedingsPerson
from lagebild.sharing import services as sharing
from lagebild.sharing.catalogue import LegalBasis, Purpose, RecordType
from lagebild.sharing.models import Transfer

from . import security_matrix as spec
from .bodycam_fixtures import recordings_dir, upload  # noqa: F401  (fixture)
from .conftest import INSIDE
from .security_matrix import CITY_MARKER, JOINT_MARKER, POLICE_MARKER, Entry, normalise

OWNERS = ("city", "police", "joint")
ROLES = [role.value for role in Role]
# One user per authority and role group for expensive pages (PDF, XLSX, maps, schema).
HEAVY_ROLES = {Role.FIELD_OFFICER, Role.ANALYST, Role.LEADERSHIP}
ADMIN_ROLES = (Role.ADMIN, Role.PLATFORM_ADMIN)


# --- the patterns and operations ------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    route: str
    name: str
    admin_model: str | None  # "app.model" for the admin's model pages


def url_patterns() -> list[Pattern]:
    registry = {m._meta.label_lower: m for m in admin.site._registry}
    found: list[Pattern] = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = ":".join(part for part in (namespace, pattern.namespace or "") if part)
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                name = f"{namespace}:{pattern.name}" if namespace and pattern.name else (pattern.name or "")
                model = None
                parts = route.split("/")
                if route.startswith("admin/") and len(parts) > 3 and f"{parts[1]}.{parts[2]}" in registry:
                    model = f"{parts[1]}.{parts[2]}"
                found.append(Pattern(route, name, model))

    walk(get_resolver().url_patterns, "", "")
    return found


def entry_for(pattern: Pattern) -> Entry | None:
    if pattern.route in spec.ROUTES:
        return spec.ROUTES[pattern.route]
    if pattern.admin_model is not None:
        if pattern.admin_model not in spec.ADMIN_MODELS:
            return None
        return spec.admin_entry(pattern.route, pattern.admin_model)
    if pattern.route.startswith(spec.ADMIN_APP_INDEX):
        return Entry(kwargs={"app_label": "core"})
    return None


def api_operations() -> list[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )


def test_every_url_pattern_has_a_matrix_entry():
    missing = [p for p in url_patterns() if entry_for(p) is None]
    lines = []
    for p in missing:
        if p.admin_model:
            lines.append(f'    ADMIN_MODELS["{p.admin_model}"] = "@<record type>" or NO_RECORD  # {p.route}')
        else:
            kwargs = ", ".join(
                f'{k}="@<record type>"' for k in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", p.route) if k
            )
            lines.append(f'    "{p.route}": E({kwargs}),  # {p.name}')
    assert not missing, (
        f"{len(missing)} URL pattern(s) without an entry in tests/security_matrix.py. Add to ROUTES "
        "(or ADMIN_MODELS), saying how to fill the URL's kwargs for a record of the city, the police "
        "and a joint one ('@incident', '@report', ... or NO_RECORD) and, if you like, which roles may "
        "use it:\n" + "\n".join(lines)
    )


def test_every_entry_still_has_its_pattern():
    routes = {p.route for p in url_patterns()}
    stale = sorted(set(spec.ROUTES) - routes)
    assert not stale, f"Entries in tests/security_matrix.py ROUTES without a URL pattern: {stale}"


def test_every_api_operation_has_a_matrix_entry():
    operations = api_operations()
    missing = [op for op in operations if op not in spec.API_OPERATIONS]
    assert not missing, (
        "OpenAPI operations without an entry in tests/security_matrix.py API_OPERATIONS: add "
        '"route" (a GET exercised through its URL pattern), "create" (a write without a record), '
        '"membership" (task force, not scoped by authority) or "@<record type>" (a write on a '
        "record: not yours must answer like missing):\n" + "\n".join(f'    "{op}": "...",' for op in missing)
    )
    stale = sorted(set(spec.API_OPERATIONS) - set(operations))
    assert not stale, f"Entries in API_OPERATIONS without an operation in the schema: {stale}"


# --- the data ---------------------------------------------------------------------------------


def seed(world, make_user, city: Authority, police: Authority, now: dt.datetime) -> dict:
    """Users of every role on both sides and one record per type and owner, markers in the text."""
    users: dict[tuple[str, str], User] = {}
    for side, authority in (("city", city), ("police", police)):
        for role in ROLES:
            staff = role in (Role.ADMIN, Role.PLATFORM_ADMIN)
            users[(side, role)] = make_user(f"m-{side}-{role}", authority, role, is_staff=staff)
    kod, polizei = users[("city", Role.FIELD_OFFICER)], users[("police", Role.FIELD_OFFICER)]
    kod_lead, police_lead = users[("city", Role.SHIFT_LEAD)], users[("police", Role.SHIFT_LEAD)]
    cats = world["categories"]
    records: dict[str, dict[str, object]] = {}

    def incident(user: User, marker: str, joint: bool = False) -> Incident:
        with authority_scope(user.authority_id):
            return services.incident_create(
                user=user,
                category=cats["begging"] if user.authority_id == city.pk else cats["dealing"],
                occurred_at=now - dt.timedelta(hours=2),
                lat=INSIDE[0],
                lon=INSIDE[1],
                description=f"Beschreibung {marker}",
                address_text=f"Ort {marker}",
                joint=joint,
                measures=[MeasureInput(type="contact", note=f"Notiz {marker}")],
            )

    incidents = {
        "city": incident(kod, CITY_MARKER),
        "police": incident(polizei, POLICE_MARKER),
        "joint": incident(kod, JOINT_MARKER, joint=True),
    }
    records["incident"] = {owner: i.pk for owner, i in incidents.items()}
    with unscoped():
        records["measure"] = {
            owner: Measure.objects.filter(incident=i).values_list("pk", flat=True).first()
            for owner, i in incidents.items()
        }
    today = now.date()
    shifts = {}
    for owner, lead, marker in (("city", kod_lead, CITY_MARKER), ("police", police_lead, POLICE_MARKER)):
        with authority_scope(lead.authority_id):
            shifts[owner] = services.shift_create(user=lead, date=today, kind=Shift.Kind.LATE, note=marker)
    records["shift"] = {owner: s.pk for owner, s in shifts.items()}
    patrols = {}
    for owner, lead, shift, members, marker in (
        ("city", kod_lead, shifts["city"], [kod], CITY_MARKER),
        ("police", police_lead, shifts["police"], [polizei], POLICE_MARKER),
        ("joint", kod_lead, shifts["city"], [kod, polizei], JOINT_MARKER),
    ):
        with authority_scope(lead.authority_id):
            patrols[owner] = services.patrol_create(
                user=lead, shift=shift, name=f"Streife {marker}", members=members
            )
    records["patrol"] = {owner: p.pk for owner, p in patrols.items()}

    service = ServiceType.objects.create(
        code="matrix-betteln",
        name="Betteln (Matrix)",
        about_people=True,
        publish_precision=ServiceType.Precision.COARSE,
        public_in_open311=True,
    )
    reports = {}
    for owner, marker in (("city", CITY_MARKER), ("police", POLICE_MARKER), ("joint", JOINT_MARKER)):
        report = intake.report_create(
            service=service,
            channel="phone",
            entered_by=kod,
            lat=INSIDE[0],
            lon=INSIDE[1],
            description=f"Hinweis {marker}",
            address_text="Platz von Leeds",  # published (coarsened) in Open311: no marker here
            reporter_name=f"Name {marker}",
        )
        with unscoped():
            Report.objects.filter(pk=report.pk).update(
                authority=police if owner == "police" else city, joint=owner == "joint"
            )
            reports[owner] = Report.objects.get(pk=report.pk)
    records["report"] = {owner: r.pk for owner, r in reports.items()}
    records["report_token"] = {owner: r.public_token for owner, r in reports.items()}
    records["report_public_id"] = {owner: r.public_id for owner, r in reports.items()}
    records["user"] = {"city": kod.pk, "police": polizei.pk}
    records["authority"] = {"city": city.pk, "police": police.pk}
    with unscoped():
        records["audit"] = {
            side: AuditEvent.objects.filter(authority=authority)
            .order_by("-pk")
            .values_list("pk", flat=True)[0]
            for side, authority in (("city", city), ("police", police))
        }
    records["token"] = {
        "city": token_create(user=kod, name=f"Token {CITY_MARKER}").token.pk,
        "police": token_create(user=polizei, name=f"Token {POLICE_MARKER}").token.pk,
    }
    records["area"] = {"city": world["areas"]["west"].pk}
    # A criminal complaint handed from the KOD to the police (no marker: its snapshot is
    # legitimately the police's to read): received by the police, sent by the city.
    with authority_scope(city.pk):
        handed = services.incident_create(
            user=kod_lead,
            category=cats["drugs"],
            occurred_at=now - dt.timedelta(hours=1),
            lat=INSIDE[0],
            lon=INSIDE[1],
            description="Übergabe an die Polizei",
            address_text="Platz von Leeds",
            measures=[MeasureInput(type="criminal_complaint")],
        )
        complaint_ids = list(handed.measures.filter(type="criminal_complaint").values_list("pk", flat=True))
        transfer = sharing.transfer_create(
            user=kod_lead,
            record_type=RecordType.INCIDENT,
            record_id=handed.pk,
            recipient_id=police.pk,
            purpose=Purpose.CRIMINAL_COMPLAINT,
            legal_basis=LegalBasis.STPO_158,
            fields=["location"],
            measure_ids=complaint_ids,
        )
    records["transfer_received"] = {"police": transfer.pk}
    records["transfer_sent"] = {"city": transfer.pk}
    for kind, model in (("totp_device", TOTPDevice), ("static_device", StaticDevice)):
        for owner, user in (("city", kod), ("police", polizei)):
            device = model.objects.filter(user=user).first() or model.objects.create(user=user, name="Matrix")
            records.setdefault(kind, {})[owner] = device.pk
    recordings = {}
    for owner, user, marker in (("city", kod, CITY_MARKER), ("police", polizei, POLICE_MARKER)):
        start = (now - dt.timedelta(minutes=40)).replace(microsecond=0)
        with authority_scope(user.authority_id):
            recordings[owner] = bodycam.register_recording(
                user=user,
                upload=upload(owner),
                data=bodycam.RegistrationInput(
                    device_serial=f"BC-{owner}",
                    wearer=None,
                    started_at=start,
                    ended_at=start + dt.timedelta(minutes=3),
                    activation_reason=ActivationReason.DANGER,
                    activation_note=f"Anlass {marker}",
                    location_text=f"Ort {marker}",
                ),
            )
    records["recording"] = {owner: r.pk for owner, r in recordings.items()}
    # Offence proceedings (issue 15): a case with an identified person per authority.
    for owner, marker in (("city", CITY_MARKER), ("police", POLICE_MARKER)):
        clerk = users[(owner, Role.PROCEEDINGS)]
        with authority_scope(clerk.authority_id):
            concerned = proceedings.person_create(
                user=clerk,
                data={
                    "family_name": f"Name {marker}",
                    "given_names": "Matrix",
                    "date_of_birth": dt.date(1990, 1, 1),
                    "place_of_birth": "Dortmund",
                    "street": f"Straße {marker}",
                    "postcode": "44137",
                    "city": "Dortmund",
                },
            )
            case = proceedings.case_open(
                user=clerk,
                category=cats["begging"],
                offence_at=now - dt.timedelta(hours=3),
                offence_description=f"Vorwurf {marker}",
                person=concerned,
                now=now,
            )
        records.setdefault("case", {})[owner] = case.pk
        records.setdefault("proceedings_person", {})[owner] = concerned.pk
    # A caution with fee (§ 56 OWiG) per authority, open (to be paid within the week).
    for owner, officer in (("city", kod), ("police", polizei)):
        with authority_scope(officer.authority_id):
            cautioned = services.incident_create(
                user=officer,
                category=cats["litter"],
                occurred_at=now - dt.timedelta(hours=1),
                lat=INSIDE[0],
                lon=INSIDE[1],
                measures=[MeasureInput(type="caution_fee")],
            )
            caution = proceedings.caution_give(
                user=officer,
                measure=cautioned.measures.get(),
                informed_of_right_to_refuse=True,
                consented=True,
                paid_on_spot=False,
            )
        records.setdefault("caution", {})[owner] = caution.pk
    # Deployment plans (issue 16): a draft plan per authority, the marker in an assignment's reason.
    monday = today - dt.timedelta(days=today.weekday())
    for owner, lead, marker in (("city", kod_lead, CITY_MARKER), ("police", police_lead, POLICE_MARKER)):
        with authority_scope(lead.authority_id):
            plan = DeploymentPlan.objects.create(
                authority_id=lead.authority_id,
                week=monday,
                created_by=lead,
                created_at=now,
                result={"status": "optimal", "objective": 1.0, "covered_risk": 1.0, "total_risk": 2.0},
            )
            starts_at, ends_at = services.shift_times(monday, Shift.Kind.EARLY)
            PlanAssignment.objects.create(
                plan=plan,
                slot_key=f"{monday.isoformat()}-early",
                date=monday,
                shift_kind=Shift.Kind.EARLY,
                zone=world["areas"]["west"],
                kind=PlanAssignment.Kind.KOD,
                teams=1,
                starts_at=starts_at,
                ends_at=ends_at,
                reason=f"Begründung {marker}",
            )
        records.setdefault("plan", {})[owner] = plan.pk
    missing = {}
    for kind, model in (
        ("incident", Incident),
        ("measure", Measure),
        ("shift", Shift),
        ("patrol", Patrol),
        ("report", Report),
        ("user", User),
        ("authority", Authority),
        ("audit", AuditEvent),
        ("area", Area),
        ("recording", Recording),
        ("case", Case),
        ("proceedings_person", ProceedingsPerson),
        ("caution", Caution),
        ("plan", DeploymentPlan),
        ("transfer_received", Transfer),
        ("transfer_sent", Transfer),
        ("totp_device", TOTPDevice),
        ("static_device", StaticDevice),
    ):
        with unscoped():
            missing[kind] = str((model._base_manager.aggregate(top=Max("pk"))["top"] or 0) + 100000)
    missing["token"] = str(int(records["token"]["police"]) + 100000)
    missing["report_token"] = "gibt-es-nicht-0000000000"
    missing["report_public_id"] = "aaaaaaaaaaaaaaaa"
    return {"users": users, "records": records, "missing": missing}


# --- running it -------------------------------------------------------------------------------


def _fill(route: str, kwargs: dict[str, str]) -> str:
    """The URL for a route string and its kwargs (path converters and regex groups)."""
    url = route
    for name, value in kwargs.items():
        url = re.sub(rf"\(\?P<{name}>(?:[^()]|\([^()]*\))*\)", value, url)
        url = re.sub(rf"<(?:\w+:)?{name}>", value, url)
    url = url.replace("^", "").replace("$", "").replace("\\.", ".")
    assert "<" not in url and "(?P" not in url, f"kwargs not filled: {route} {kwargs}"
    return "/" + url


def _answer(response) -> tuple[int, str, str, str]:
    streaming = getattr(response, "streaming", False)
    body = b"".join(response.streaming_content) if streaming else response.content
    return (
        response.status_code,
        response.get("Location", ""),
        response.get("Content-Type", "").split(";")[0],
        body.decode("utf-8", "replace"),
    )


def _shape(answer: tuple[int, str, str, str], *replace: str) -> tuple[int, str, str, str]:
    status, location, content_type, body = answer
    return status, normalise(location, *replace), content_type, normalise(body, *replace)


def _first_difference(a: tuple, b: tuple) -> str:
    for name, x, y in zip(("status", "location", "type"), a, b, strict=False):
        if x != y:
            return f"{name} {x!r} / {y!r}"
    for line_a, line_b in zip(a[3].splitlines(), b[3].splitlines(), strict=False):
        if line_a != line_b:
            return f"{line_a.strip()[:90]!r} / {line_b.strip()[:90]!r}"
    return "body length differs"


def _without(body: str, params: dict[str, str]) -> str:
    """The body without the echoed query values (a search form shows what was searched)."""
    for value in params.values():
        body = body.replace(value, "<Q>")
    return body


def _listed_ids(body: str) -> set[int]:
    """Ids of the records in a JSON list answer (paginated or plain)."""
    try:
        data = json.loads(body)
    except ValueError:
        return set()
    rows = data.get("results", []) if isinstance(data, dict) else data
    return {row["id"] for row in rows if isinstance(row, dict) and isinstance(row.get("id"), int)}


def _echo_removed(answer: tuple[int, str, str, str], params: dict[str, str]) -> tuple[int, str, str, str]:
    status, location, content_type, body = answer
    return status, _without(location, params), content_type, _without(body, params)


def _visible(side: str | None, owner: str) -> bool:
    return owner == "joint" or owner == side


def _forbidden_markers(side: str | None, role: str | None, route: str) -> tuple[str, ...]:
    if side is None:
        return (CITY_MARKER, POLICE_MARKER, JOINT_MARKER)
    if role == Role.PLATFORM_ADMIN and route.startswith("admin/"):
        return ()  # cross-authority administration by design (and logged)
    return (POLICE_MARKER,) if side == "city" else (CITY_MARKER,)


def run_matrix(
    data: dict, only: set[str] | None = None, writes: bool = True
) -> tuple[list[str], Counter, dict]:
    """Every user × pattern (× owner); ``only`` restricts to some routes. Returns the failures,
    the counters and the figures for the report."""
    users, records, missing = data["users"], data["records"], data["missing"]
    patterns = [(p, entry_for(p)) for p in url_patterns() if only is None or p.route in only]
    patterns = [(p, e) for p, e in patterns if e is not None]  # missing entries: test above
    # Server errors come back as 500 answers (and are reported), not as exceptions.
    clients: dict[tuple[str, str] | None, Client] = {None: Client(raise_request_exception=False)}
    for key, user in users.items():
        clients[key] = Client(raise_request_exception=False)
        clients[key].force_login(user)
    failures: list[str] = []
    counted: Counter[str] = Counter()
    timing: Counter[str] = Counter()
    started = time.monotonic()

    def fail(who: str, route: str, message: str) -> None:
        failures.append(f"{who:28} {route}: {message}")

    for key, client in clients.items():
        side, role = key if key is not None else (None, None)
        who = f"{side}/{role}" if key else "anonym"
        for pattern, entry in patterns:
            if entry.heavy and role is not None and role not in HEAVY_ROLES:
                continue
            # The admin sends everyone without staff status to its login page, whatever the
            # role: one such user per authority stands for the others.
            if pattern.route.startswith("admin/") and role not in (None, *ADMIN_ROLES, Role.FIELD_OFFICER):
                continue
            # Pages not scoped by authority without a seeded record (task force by membership,
            # shared catalogue data): they answer alike for every role; two per authority.
            unscoped_sample = not entry.scoped and not any(v.startswith("@") for v in entry.kwargs.values())
            if unscoped_sample and role not in (None, Role.FIELD_OFFICER, Role.LEADERSHIP):
                continue
            record_kinds = {k: v[1:] for k, v in entry.kwargs.items() if v.startswith("@")}
            fixed = {k: v for k, v in entry.kwargs.items() if not v.startswith("@")}
            if not record_kinds:
                variants = [({}, None)] + [(params, None) for params in entry.params]
            else:
                variants = [({}, owner) for owner in OWNERS]
            missing_answer = None
            if record_kinds:
                missing_url = _fill(
                    pattern.route, {**fixed, **{k: missing[kind] for k, kind in record_kinds.items()}}
                )
                missing_answer = _answer(client.get(missing_url))
                counted["requests"] += 1
                if missing_answer[0] >= 500:
                    fail(who, pattern.route, f"server error {missing_answer[0]} for a missing id")
            for params, owner in variants:
                values = dict(fixed)
                if owner is not None:
                    ids = {k: records[kind].get(owner) for k, kind in record_kinds.items()}
                    if any(v is None for v in ids.values()):
                        continue  # no such record for this owner (e.g. no joint shift)
                    values.update({k: str(v) for k, v in ids.items()})
                url = _fill(pattern.route, values)
                tick = time.monotonic()
                answer = _answer(client.get(url, params))
                timing[pattern.route] += time.monotonic() - tick
                counted["requests"] += 1
                status, _location, _type, body = answer
                label = f"{url}{'?' + str(params) if params else ''}"
                if status >= 500:
                    fail(who, label, f"server error {status}")
                    continue
                for marker in _forbidden_markers(side, role, pattern.route):
                    if marker in _without(body, params):
                        fail(who, label, f"answer contains the marker {marker} of another authority")
                if entry.lists and side is not None and status == 200:
                    other_side = "police" if side == "city" else "city"
                    foreign = {records[entry.lists].get(other_side)} - {None}
                    listed = _listed_ids(body)
                    if listed & foreign:
                        fail(
                            who,
                            label,
                            f"lists {entry.lists} {sorted(listed & foreign)} of the other authority",
                        )
                    counted["list checks"] += 1
                cross_admin = role == Role.PLATFORM_ADMIN and pattern.route.startswith("admin/")
                if (
                    owner is not None
                    and entry.scoped
                    and not _visible(side, owner)
                    and missing_answer
                    and not cross_admin
                ):
                    if _shape(answer, url) != _shape(missing_answer, missing_url):
                        fail(
                            who,
                            label,
                            f"'not yours' ({status}) differs from 'does not exist' ({missing_answer[0]}): "
                            + _first_difference(_shape(answer, url), _shape(missing_answer, missing_url)),
                        )
                    counted["not-yours comparisons"] += 1
                if entry.roles is not None and role is not None and not params:
                    own_record = owner is None or owner == side
                    if own_record and role not in entry.roles and status == 200:
                        fail(who, label, "role without the right to this page got 200")
                    if own_record and role in entry.roles and status != 200:
                        fail(who, label, f"role with the right to this page got {status}")
                # A search for the other authority's marker answers like a search for nothing.
                other = spec.POLICE_SEARCH if side == "city" else spec.CITY_SEARCH
                if side is not None and other in params.values():
                    nothing = {k: ("NICHTSZUFINDEN" if v == other else v) for k, v in params.items()}
                    baseline = _answer(client.get(url, nothing))
                    counted["requests"] += 1
                    searched = _shape(_echo_removed(answer, params), url)
                    expected = _shape(_echo_removed(baseline, nothing), url)
                    if searched != expected:
                        difference = _first_difference(searched, expected)
                        fail(
                            who,
                            label,
                            f"a search for the other authority's text answers differently: {difference}",
                        )

    # API writes on records: not yours = missing (token-free APIClient, forced authentication).
    for operation, kind in spec.API_OPERATIONS.items():
        if not writes or not kind.startswith("@"):
            continue
        method, path = operation.split(" ", 1)
        for key, user in users.items():
            side, role = key
            api = APIClient()
            api.force_authenticate(user)
            missing_path = re.sub(r"\{\w+\}", missing[kind[1:]], path)
            missing_answer = _answer(api.generic(method, missing_path, "{}", content_type="application/json"))
            for owner in OWNERS:
                pk = records[kind[1:]].get(owner)
                if pk is None or _visible(side, owner):
                    continue
                url = re.sub(r"\{\w+\}", str(pk), path)
                answer = _answer(api.generic(method, url, "{}", content_type="application/json"))
                counted["requests"] += 2
                counted["not-yours comparisons"] += 1
                if answer[0] >= 500 or _shape(answer, url) != _shape(missing_answer, missing_path):
                    fail(
                        f"{side}/{role}",
                        f"{operation} ({owner})",
                        f"write: {answer[0]} vs missing {missing_answer[0]}",
                    )

    elapsed = time.monotonic() - started
    print(
        f"\nAuthority matrix: {len(patterns)} URL patterns, {len(spec.API_OPERATIONS)} API operations, "
        f"{len(clients)} users ({len(ROLES)} roles × 2 authorities + anonymous), owners {OWNERS}: "
        f"{counted['requests']} requests, {counted['not-yours comparisons']} not-yours comparisons, "
        f"{counted['list checks']} list-id checks, "
        f"{elapsed:.1f} s"
    )
    figures = {"patterns": len(patterns), "clients": len(clients), "elapsed": elapsed}
    print("slowest patterns (s):", [(r, round(t, 1)) for r, t in timing.most_common(8)])
    return failures, counted, figures


@pytest.mark.django_db
def test_authority_matrix(world, make_user, city, police, now, recordings_dir):  # noqa: F811
    failures, _counted, _figures = run_matrix(seed(world, make_user, city, police, now))
    known = [f for f in failures if any(gap in f for gap in spec.KNOWN_GAPS)]
    stale = [gap for gap in spec.KNOWN_GAPS if not any(gap in f for f in failures)]
    if stale:
        print(f"KNOWN_GAPS no longer seen (remove them from tests/security_matrix.py): {stale}")
    if known:
        print(f"{len(known)} known gap(s) (tests/security_matrix.py KNOWN_GAPS):\n" + "\n".join(known))
    real = [f for f in failures if f not in known]
    assert not real, f"{len(real)} leak(s) or inconsistencies:\n" + "\n".join(real[:150])


@pytest.mark.django_db
def test_the_matrix_notices_a_leak(world, make_user, city, police, now, recordings_dir, monkeypatch):  # noqa: F811
    """Mutation check: with the incident lookup of the detail page unscoped (a bug someone
    could write), the matrix reports the other authority's incident for every role that may
    open details, both as 'not yours' differing from 'missing' and as a marker in the page."""
    data = seed(world, make_user, city, police, now)
    scoped_get = field_selectors.incident_get

    def leaky_get(pk: int):  # type: ignore[no-untyped-def]
        with unscoped():
            return scoped_get(pk)

    monkeypatch.setattr(field_selectors, "incident_get", leaky_get)
    failures, _counted, _figures = run_matrix(data, only={"feststellungen/<int:pk>/"}, writes=False)
    leaked_to = {line.split()[0] for line in failures if "differs from 'does not exist'" in line}
    assert leaked_to == {f"{side}/{role}" for side in ("city", "police") for role in spec.RECORD_READERS}
    assert any("marker POLIZEIGEHEIMNIS" in line for line in failures if line.startswith("city/"))
