"""Support for the authority-separation matrix (tests/test_security_matrix.py, issue 13).

Shared helpers first (body normalisation for "not yours" = "does not exist", marker strings),
then the matrix entries: one per URL pattern of the resolver and one per operation of the
OpenAPI schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lagebild.core.models import Role

# Distinctive texts seeded into the free text of each authority's records: they must never
# appear in an answer to a user of the other authority.
CITY_MARKER = "STADTGEHEIMNIS-7Q2"
POLICE_MARKER = "POLIZEIGEHEIMNIS-4K9"
JOINT_MARKER = "GEMEINSAM-HINWEIS-3Z5"

_VOLATILE = [
    # Messages queued by an earlier request of the same session (shown on whatever page comes
    # next): they belong to that request, not to this answer.
    (re.compile(r'<div class="messages">.*?</div>', re.S), ""),
    (re.compile(r'<ul class="messagelist">.*?</ul>', re.S), ""),
    # Per-request values: CSRF tokens, CSP nonces, request ids.
    (re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*'), r"\1"),
    (re.compile(r'(name="csrf-token" content=")[^"]*'), r"\1"),
    (re.compile(r'(csrfToken["\']?\s*[:=]\s*["\'])[^"\']*'), r"\1"),
    (re.compile(r'(nonce=")[^"]*'), r"\1"),
    (re.compile(r'("X-CSRFToken"\s*:\s*")[^"]*'), r"\1"),
    (re.compile(r"(hx-headers='\{[^}]*:\s*\")[^\"]*"), r"\1"),
    # The server's clock at rendering, for the quick time and date buttons (data-now).
    (re.compile(r'(data-now=")[^"]*'), r"\1"),
]


def normalise(body: str, *replace: str) -> str:
    """The body without per-request values and with the asked-for ids/paths replaced, so the
    answer for a record of the other authority can be compared with the one for a missing id."""
    for pattern, keep in _VOLATILE:
        body = pattern.sub(keep, body)
    for value in sorted({v for v in replace if v}, key=len, reverse=True):
        if "/" in value:  # a path: replaced wherever it appears (links, "next" parameters)
            body = body.replace(value, "<X>")
            continue
        # A bare id only where a message quotes it: id 1 must not change "initial-scale=1".
        for quoted in (f"„{value}“", f'"{value}"', f"'{value}'", f"#{value}", f">{value}<"):
            body = body.replace(quoted, quoted.replace(value, "<X>"))
    return body


# --- entries ---------------------------------------------------------------------------------
#
# An entry says how to fill a URL pattern's kwargs and what to expect. Kwarg values starting
# with "@" name a seeded record type: the matrix fills them with the record owned by the city,
# by the police and jointly (where such a record exists) and with an id that does not exist.
# Other values are used as they are. For every user whose authority may not see the record,
# the answer must equal the answer for the missing id (status, Location, body shape).
#
# Record types the matrix seeds (tests/test_security_matrix.py ``seed``): incident, measure,
# shift, patrol, report (citizen report), user (an account of the authority), audit (an audit
# entry of the authority), token (an API token of the authority's field officer), recording
# (bodycam), transfer_received / transfer_sent (a criminal complaint the KOD handed to the
# police), totp_device / static_device (second factors), area (shared).


@dataclass(frozen=True)
class Entry:
    kwargs: dict[str, str] = field(default_factory=dict)
    # Roles that may get 200 for their own record / the page at all; others must not.
    # None: not checked here (access rules are tested in the app's own module).
    roles: frozenset[str] | None = None
    # Query strings to try as well (search, filters, counts, paging): none may leak.
    params: tuple[dict[str, str], ...] = ()
    # False: the record is not scoped by authority (access by membership or by a secret):
    # only the leak checks run, not "not yours = missing".
    scoped: bool = True
    # Expensive to render (PDF, XLSX, maps): one user per authority and role group only.
    heavy: bool = False
    # A JSON list of records of this type: no id of the other authority's record may be in it.
    lists: str = ""
    note: str = ""


def E(**kwargs: Any) -> Entry:  # reads like a table
    options = {k: kwargs.pop(k) for k in list(kwargs) if k in _OPTIONS}
    if "roles" in options and options["roles"] is not None:
        options["roles"] = frozenset(options["roles"])
    return Entry(kwargs=kwargs, **options)


_OPTIONS = {"roles", "params", "scoped", "heavy", "lists", "note"}

OPERATIONAL = (Role.FIELD_OFFICER, Role.SHIFT_LEAD, Role.ADMIN)
RECORD_READERS = (*OPERATIONAL, Role.ANALYST)
EXPORTERS = (Role.SHIFT_LEAD, Role.ANALYST, Role.ADMIN)
NO_RECORD = "999999999"  # an id no seeded record has (pattern without seeded records)

# Searches use the markers' common stem: a search text ends up in the audit log (export
# filters), where the full marker would then show up as a false alarm.
CITY_SEARCH = CITY_MARKER.split("-")[0]
POLICE_SEARCH = POLICE_MARKER.split("-")[0]
LIST_PARAMS = (
    {"q": POLICE_SEARCH},
    {"q": CITY_SEARCH},
    {"seite": "2"},
)
API_LIST_PARAMS = (
    {"authority": "polizei"},
    {"authority": "stadt"},
    {"category": "drug-dealing"},
    {"page_size": "1"},
    {"page": "2", "page_size": "1"},
    {"ordering": "-occurred_at"},
)

ROUTES: dict[str, Entry] = {
    # --- accounts, site ---
    "anmelden/": E(),
    "abmelden/": E(note="POST logs out; GET answers 405"),
    "favicon.ico": E(),
    "konto/": E(),
    "konto/zwei-faktor/": E(),
    "konto/zwei-faktor/neue-codes/": E(),
    "konto/zwei-faktor/einrichten/": E(),
    "konto/api-tokens/": E(),
    "konto/api-tokens/<int:pk>/widerrufen/": E(pk="@token", note="POST only; tokens are per user"),
    # --- API documentation ---
    "api/schema/": E(heavy=True),
    "api/docs/": E(),
    "api/redoc/": E(),
    "api/v1/": E(),
    "api/^(?P<rest>.*)$": E(rest="gibt-es-nicht/"),
    # --- API v1: records (scoped) ---
    "api/v1/incidents/": E(roles=RECORD_READERS, params=API_LIST_PARAMS, lists="incident"),
    "api/v1/incidents/<int:pk>/": E(pk="@incident", roles=RECORD_READERS),
    "api/v1/incidents/<int:pk>/measures/": E(pk="@incident", roles=RECORD_READERS, lists="measure"),
    "api/v1/measures/": E(
        roles=RECORD_READERS, params=({"type": "custody"}, {"page_size": "1"}), lists="measure"
    ),
    "api/v1/measures/<int:pk>/": E(pk="@measure", roles=RECORD_READERS),
    "api/v1/patrols/": E(params=({"page_size": "1"},), lists="patrol"),
    "api/v1/patrols/<int:pk>/": E(pk="@patrol"),
    "api/v1/patrols/<int:pk>/end/": E(pk="@patrol", note="POST only"),
    "api/v1/patrols/<int:pk>/start/": E(pk="@patrol", note="POST only"),
    "api/v1/shifts/": E(params=({"page_size": "1"},), lists="shift"),
    "api/v1/shifts/<int:pk>/": E(pk="@shift"),
    # --- API v1: shared reference data and the task force (not scoped by authority) ---
    "api/v1/areas/": E(),
    "api/v1/areas/<int:pk>/": E(pk="@area", scoped=False),
    "api/v1/categories/": E(),
    "api/v1/categories/<slug:code>/": E(code="drug-dealing", scoped=False),
    "api/v1/taskforce/groups/": E(),
    "api/v1/taskforce/groups/<int:pk>/": E(pk=NO_RECORD, scoped=False),
    "api/v1/taskforce/goals/": E(),
    "api/v1/taskforce/goals/<int:pk>/": E(pk=NO_RECORD, scoped=False),
    "api/v1/taskforce/milestones/": E(),
    "api/v1/taskforce/milestones/<int:pk>/": E(pk=NO_RECORD, scoped=False),
    "api/v1/taskforce/recommendations/": E(),
    "api/v1/taskforce/recommendations/<int:pk>/": E(pk=NO_RECORD, scoped=False),
    "api/v1/taskforce/recommendations/<int:pk>/transition/": E(pk=NO_RECORD, scoped=False),
    "api/v1/taskforce/meetings/": E(),
    "api/v1/taskforce/meetings/<int:pk>/": E(pk=NO_RECORD, scoped=False),
    "api/v1/analytics/displacement/": E(heavy=True),
    "api/v1/analytics/displacement": E(heavy=True),
    # --- geo ---
    "geo/gebiete.geojson": E(),
    "geo/orte/": E(),
    "geo/orte.geojson": E(),
    "geo/ort-am-punkt/": E(),
    # --- citizens (public, no login) ---
    "melden/": E(),
    "melden/orte/": E(),
    "melden/gebiete.geojson": E(),
    "melden/unterstuetzen/": E(),
    "melden/danke/": E(),
    "melden/eingegangen/<str:token>/": E(token="@report_token", scoped=False, note="secret token"),
    "melden/status/<str:token>/": E(token="@report_token", scoped=False, note="secret token"),
    "melden/fotos/<int:pk>/": E(pk=NO_RECORD, scoped=False),
    "melden/<slug:code>/": E(code="matrix-betteln", scoped=False),
    "melden/<slug:code>/in-der-naehe/": E(code="matrix-betteln", scoped=False),
    # --- citizen reports, back office (scoped) ---
    "hinweise/": E(
        roles=RECORD_READERS, params=({"q": POLICE_SEARCH}, {"q": CITY_SEARCH}, {"status": "new"})
    ),
    "hinweise/punkte.geojson": E(roles=RECORD_READERS),
    "hinweise/neu/": E(),
    "hinweise/streife/": E(),
    "hinweise/statistik/": E(heavy=True),
    "hinweise/<int:pk>/": E(pk="@report", roles=RECORD_READERS),
    "hinweise/<int:pk>/status/": E(pk="@report"),
    "hinweise/<int:pk>/schritt/": E(pk="@report"),
    "hinweise/<int:pk>/zuweisen/": E(pk="@report"),
    "hinweise/<int:pk>/zusammenfuehren/": E(pk="@report"),
    "hinweise/<int:pk>/feststellung/": E(pk="@report"),
    "hinweise/<int:pk>/fotos/<int:photo_pk>/": E(pk="@report", photo_pk=NO_RECORD),
    "hinweise/<int:pk>/fotos/<int:photo_pk>/schwaerzen/": E(pk="@report", photo_pk=NO_RECORD),
    "hinweise/<int:pk>/fotos/<int:photo_pk>/freigabe/": E(pk="@report", photo_pk=NO_RECORD),
    # --- Open311 (public) ---
    "open311/v2/^discovery\\.(?P<fmt>[A-Za-z0-9]+)$": E(fmt="json"),
    "open311/v2/^services\\.(?P<fmt>[A-Za-z0-9]+)$": E(fmt="json"),
    "open311/v2/^services/(?P<code>[^/]+?)\\.(?P<fmt>[A-Za-z0-9]+)$": E(code="matrix-betteln", fmt="xml"),
    "open311/v2/^requests\\.(?P<fmt>[A-Za-z0-9]+)$": E(fmt="json", params=({"extensions": "true"},)),
    "open311/v2/^requests/(?P<request_id>[^/]+?)\\.(?P<fmt>[A-Za-z0-9]+)$": E(
        request_id="@report_public_id", fmt="json", scoped=False
    ),
    "open311/v2/^tokens/(?P<token>[^/]+?)\\.(?P<fmt>[A-Za-z0-9]+)$": E(
        token="@report_token", fmt="json", scoped=False
    ),
    "open311/v2/^(?P<rest>.*)$": E(rest="gibt-es-nicht.json"),
    # --- analytics (aggregates, shared) ---
    "auswertung/": E(),
    "auswertung/lage/": E(heavy=True),
    "auswertung/lage.pdf": E(heavy=True),
    "auswertung/lage.xlsx": E(heavy=True),
    "auswertung/bilanz/": E(heavy=True),
    "auswertung/bilanz.pdf": E(heavy=True),
    "auswertung/bilanz.xlsx": E(heavy=True),
    "auswertung/verdraengung/": E(heavy=True),
    "auswertung/verdraengung.pdf": E(heavy=True),
    "auswertung/brennpunkte/": E(heavy=True),
    "auswertung/brennpunkte/karte.json": E(heavy=True),
    "auswertung/brennpunkte/kerndichte.geojson": E(heavy=True),
    "auswertung/brennpunkte/kerndichte.asc": E(heavy=True),
    "auswertung/brennpunkte/kerndichte.prj": E(),
    "auswertung/brennpunkte/gistar.geojson": E(heavy=True),
    # --- task force (access by membership, not by authority) ---
    "sonderstab/": E(),
    "sonderstab/ag/<int:pk>/": E(pk=NO_RECORD, scoped=False),
    "sonderstab/ag/<int:pk>/ziel/neu/": E(pk=NO_RECORD, scoped=False),
    "sonderstab/ag/<int:pk>/meilenstein/neu/": E(pk=NO_RECORD, scoped=False),
    "sonderstab/ag/<int:pk>/empfehlung/neu/": E(pk=NO_RECORD, scoped=False),
    "sonderstab/ziele/<int:pk>/": E(pk=NO_RECORD, scoped=False),
    "sonderstab/meilensteine/<int:pk>/": E(pk=NO_RECORD, scoped=False),
    "sonderstab/empfehlungen/<int:pk>/": E(pk=NO_RECORD, scoped=False),
    "sonderstab/empfehlungen/<int:pk>/bearbeiten/": E(pk=NO_RECORD, scoped=False),
    "sonderstab/empfehlungen/<int:pk>/schritt/": E(pk=NO_RECORD, scoped=False),
    "sonderstab/sitzungen/": E(),
    "sonderstab/sitzungen/<int:pk>/": E(pk=NO_RECORD, scoped=False),
    "sonderstab/sitzungen/<int:pk>/eroeffnen/": E(pk=NO_RECORD, scoped=False),
    "sonderstab/sitzungen/<int:pk>/festlegung/": E(pk=NO_RECORD, scoped=False),
    "sonderstab/sitzungen/<int:pk>/aufgabe/": E(pk=NO_RECORD, scoped=False),
    "sonderstab/sitzungen/<int:pk>/schliessen/": E(pk=NO_RECORD, scoped=False),
    "sonderstab/aufgaben/<int:pk>/erledigt/": E(pk=NO_RECORD, scoped=False),
    "sonderstab/kurzbericht.pdf": E(heavy=True),
    "sonderstab/zwischenbilanz/": E(heavy=True),
    "sonderstab/kalender/": E(),
    "sonderstab/benachrichtigungen/": E(),
    "sonderstab/einsaetze/": E(),
    "sonderstab/einsaetze/<int:pk>/": E(pk=NO_RECORD, scoped=False),
    "sonderstab/kalender/<str:token>.ics": E(token="gibt-es-nicht", scoped=False),
    # --- open data (public aggregates) ---
    "offene-daten/": E(heavy=True),
    "offene-daten/^(?P<dataset>[a-z]{1,40})-(?P<year>\\d{1,6})-(?P<month>\\d{1,6})\\.csv$": E(
        dataset="feststellungen", year="2024", month="05"
    ),
    "offene-daten/^(?P<dataset>[a-z]{1,40})-(?P<year>\\d{1,6})-(?P<month>\\d{1,6})\\.geojson$": E(
        dataset="feststellungen", year="2024", month="05"
    ),
    "offene-daten/^(?P<dataset>[a-z]{1,40})-(?P<year>\\d{1,6})\\.csv$": E(
        dataset="feststellungen", year="2024"
    ),
    # --- field records (scoped) ---
    "": E(),
    "karte/punkte.geojson": E(),
    "feststellungen/": E(roles=RECORD_READERS, params=LIST_PARAMS),
    "feststellungen/neu/": E(roles=OPERATIONAL),
    "feststellungen/<int:pk>/": E(pk="@incident", roles=RECORD_READERS),
    "feststellungen/<int:pk>/massnahme/": E(pk="@incident", note="POST only"),
    "feststellungen/export.csv": E(
        roles=EXPORTERS, params=({"q": POLICE_SEARCH}, {"delimiter": "semicolon"})
    ),
    "feststellungen/tabelle.csv": E(roles=EXPORTERS),
    "feststellungen/export.geojson": E(roles=EXPORTERS),
    "feststellungen/import/": E(),
    "schichten/": E(),
    "schichten/neu/": E(),
    "schichten/<int:pk>/": E(pk="@shift"),
    "schichten/<int:pk>/streife/": E(pk="@shift"),
    "streifen/<int:pk>/": E(pk="@patrol"),
    "streifen/<int:pk>/beginn/": E(pk="@patrol", note="POST only"),
    "streifen/<int:pk>/ende/": E(pk="@patrol", note="POST only"),
    "streifen/<int:pk>/mitglieder/": E(pk="@patrol", roles=(Role.SHIFT_LEAD, Role.ADMIN)),
    # --- bodycam register (scoped by authority) ---
    "bodycam/": E(),
    "bodycam/neu/": E(),
    "bodycam/<int:pk>/": E(pk="@recording"),
    "bodycam/<int:pk>/zugriff/": E(pk="@recording"),
    "bodycam/<int:pk>/datei/": E(pk="@recording"),
    "bodycam/<int:pk>/uebergabe/": E(pk="@recording"),
    "bodycam/<int:pk>/sicherung/": E(pk="@recording"),
    "bodycam/<int:pk>/sicherung/<int:decision_pk>/bestaetigen/": E(pk="@recording", decision_pk=NO_RECORD),
    "bodycam/<int:pk>/sicherung/<int:decision_pk>/ablehnen/": E(pk="@recording", decision_pk=NO_RECORD),
    # --- sharing between authorities ---
    "weitergaben/": E(),
    "weitergaben/eingegangen/": E(),
    "weitergaben/eingegangen/<int:pk>/": E(pk="@transfer_received"),
    "weitergaben/eingegangen/<int:pk>/bestaetigen/": E(pk="@transfer_received"),
    "weitergaben/ausgegangen/": E(),
    "weitergaben/ausgegangen/<int:pk>/": E(pk="@transfer_sent"),
    "weitergaben/ausgegangen/<int:pk>/zurueckziehen/": E(pk="@transfer_sent"),
    "weitergaben/feststellung/<int:pk>/": E(pk="@incident"),
    "weitergaben/hinweis/<int:pk>/": E(pk="@report"),
    # --- audit log for the data-protection officer ---
    # Every request is logged, so two searches in a row never count the same: no search check.
    "datenschutz/protokoll/": E(params=({"q": "m-city-field_officer"}, {"q": "m-police-field_officer"})),
    "datenschutz/protokoll/zugriffe/": E(),
    # --- health and metrics (lagebild.ops): no login, no records; /metrics needs its token ---
    "healthz": E(note="load balancer probe: process alive"),
    "readyz": E(note="load balancer probe: counts only, nothing per authority"),
    "metrics": E(note="404 without LAGEBILD_METRICS_TOKEN/ALLOWED_IPS, else 401/403 without them"),
    # --- Django admin, site-wide pages (model pages: ADMIN_MODELS below) ---
    "admin/": E(),
    "admin/login/": E(),
    "admin/logout/": E(),
    "admin/password_change/": E(),
    "admin/password_change/done/": E(),
    "admin/autocomplete/": E(),
    "admin/jsi18n/": E(),
    "admin/r/<path:content_type_id>/<path:object_id>/": E(content_type_id=NO_RECORD, object_id=NO_RECORD),
    "admin/(?P<url>.*)$": E(url="gibt-es-nicht/"),
}

# Every model registered in the admin: the record type whose city/police/joint objects fill
# ``<path:object_id>``, or a literal id for shared catalogue data (not scoped by authority).
ADMIN_MODELS: dict[str, str] = {
    "core.user": "@user",
    "core.auditevent": "@audit",
    "core.authority": "@authority",
    "citizen.report": "@report",
    "auth.group": NO_RECORD,
    "axes.accessattempt": NO_RECORD,
    "axes.accessfailurelog": NO_RECORD,
    "axes.accesslog": NO_RECORD,
    "otp_static.staticdevice": "@static_device",
    "otp_totp.totpdevice": "@totp_device",
    "analytics.indicator": NO_RECORD,
    "analytics.indicatorset": NO_RECORD,
    "catalog.category": NO_RECORD,
    "citizen.apiclient": NO_RECORD,
    "citizen.routingrule": NO_RECORD,
    "citizen.routingtarget": NO_RECORD,
    "citizen.servicetype": NO_RECORD,
    "geo.area": NO_RECORD,
    "geo.place": NO_RECORD,
    "taskforce.goal": NO_RECORD,
    "taskforce.milestone": NO_RECORD,
    "taskforce.notification": NO_RECORD,
    "taskforce.notificationpreference": NO_RECORD,
    "taskforce.operation": NO_RECORD,
    "taskforce.recommendation": NO_RECORD,
    "taskforce.taskforce": NO_RECORD,
    "taskforce.workinggroup": NO_RECORD,
    # Scheduled jobs and their runs: platform administration only, read-only (ops/admin.py).
    "ops.scheduledjob": NO_RECORD,
    "ops.jobrun": NO_RECORD,
}
ADMIN_APP_INDEX = "admin/^(?P<app_label>"

# Every operation of the OpenAPI schema. GET operations are exercised through their URL
# pattern above (named here); writes name the record type whose "not yours" answer must
# equal the answer for a missing id (sent with an empty body by a user who cannot see it).
API_OPERATIONS: dict[str, str] = {
    "GET /api/v1/analytics/displacement/": "route",
    "GET /api/v1/areas/": "route",
    "GET /api/v1/areas/{id}/": "route",
    "GET /api/v1/categories/": "route",
    "GET /api/v1/categories/{code}/": "route",
    "GET /api/v1/incidents/": "route",
    "POST /api/v1/incidents/": "create",
    "GET /api/v1/incidents/{id}/": "route",
    "GET /api/v1/incidents/{id}/measures/": "route",
    "POST /api/v1/incidents/{id}/measures/": "@incident",
    "GET /api/v1/measures/": "route",
    "GET /api/v1/measures/{id}/": "route",
    "GET /api/v1/patrols/": "route",
    "POST /api/v1/patrols/": "create",
    "GET /api/v1/patrols/{id}/": "route",
    "POST /api/v1/patrols/{id}/end/": "@patrol",
    "POST /api/v1/patrols/{id}/start/": "@patrol",
    "GET /api/v1/shifts/": "route",
    "POST /api/v1/shifts/": "create",
    "GET /api/v1/shifts/{id}/": "route",
    "GET /api/v1/taskforce/goals/": "route",
    "GET /api/v1/taskforce/goals/{id}/": "route",
    "GET /api/v1/taskforce/groups/": "route",
    "GET /api/v1/taskforce/groups/{id}/": "route",
    "GET /api/v1/taskforce/meetings/": "route",
    "GET /api/v1/taskforce/meetings/{id}/": "route",
    "GET /api/v1/taskforce/milestones/": "route",
    "GET /api/v1/taskforce/milestones/{id}/": "route",
    "GET /api/v1/taskforce/recommendations/": "route",
    "GET /api/v1/taskforce/recommendations/{id}/": "route",
    "POST /api/v1/taskforce/recommendations/{id}/transition/": "membership",
}


def admin_entry(route: str, model_label: str) -> Entry:
    value = ADMIN_MODELS[model_label]
    # object_id, id, pk …: every kwarg of a model page names the object.
    kwargs = {name: value for name in re.findall(r"<(?:\w+:)?(\w+)>", route)}
    return Entry(kwargs=kwargs, scoped=value.startswith("@"))


# Failures the matrix knows about, with the reason; a line of the failure list containing one
# of these texts is reported but does not fail the suite. Remove an entry once it is fixed.
KNOWN_GAPS: dict[str, str] = {
    # e.g. "/admin/otp_totp/totpdevice/": "why it is accepted for now, who fixes it",
}


# Offence proceedings (issue 15), forecasts and deployment plans (issue 16) keep their entries in their own
# modules, one per part.
from . import security_matrix_deployment as _deployment  # noqa: E402
from . import security_matrix_forecast as _forecast  # noqa: E402
from . import security_matrix_proceedings_api as _p_api  # noqa: E402
from . import security_matrix_proceedings_documents as _p_documents  # noqa: E402
from . import security_matrix_proceedings_web as _p_web  # noqa: E402

for _part in (_p_web, _p_documents, _p_api, _deployment, _forecast):
    ROUTES.update(_part.ROUTES)
    ADMIN_MODELS.update(_part.ADMIN_MODELS)
    API_OPERATIONS.update(_part.API_OPERATIONS)
