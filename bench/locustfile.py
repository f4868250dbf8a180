"""The load scenario of ``bench.load``: a city's day on one installation, compressed.

Run by ``bench.load`` (``locust -f bench/locustfile.py --headless …``) with these variables:

* ``LOAD_WORLD``: JSON from the seeding step (API tokens and web sessions per role and authority,
  recent incident ids, open-data files).
* ``LOAD_RATE`` (requests per second, all users together) and ``LOAD_USERS``: every user waits an
  exponentially distributed time with mean ``LOAD_USERS / LOAD_RATE`` seconds before each request
  (also before its first), so the requests of all users together arrive as a Poisson stream at
  ``LOAD_RATE`` per second, as independent people would send them. (Before, locust's
  ``constant_throughput`` kept every user on a fixed period from its spawn: the 40 users, spawned
  within 5 s, sent a whole period's requests within those 5 s, again and again, so the server saw
  bursts at about 2.7 times the nominal rate and pages queued for the CPU even at "3 requests/s".)
* ``LOAD_ONLY``: one request type only (for single-type phases); empty: the whole mix.
* ``LOAD_OUT``: where this process writes every request's type, start, latency and outcome.
* ``LOAD_JOURNAL``: one JSON line per write attempt chain (marker, idempotency key, acknowledged id).
* ``LOAD_RUN``: a run id that goes into every write's marker.

Who does what (weights are requests per 100):

| user | request type | weight |
|---|---|---|
| field officer (both authorities) | ``api_incident_create`` POST /api/v1/incidents/ (2 measures, key) | 5 |
| field officer | ``web_incident_form`` GET /feststellungen/neu/, ``web_incident_post`` saves it | 2 + 2 |
| field officer | ``web_overview`` GET / (the start page with today's map) | 4 |
| shift lead | ``web_incident_list`` GET /feststellungen/ | 12 |
| shift lead | ``web_incident_detail`` GET /feststellungen/<id>/ | 7 |
| shift lead / control room | ``api_incident_list`` GET /api/v1/incidents/ | 8 |
| analyst | ``web_cockpit`` GET /auswertung/lage/ | 4 |
| analyst | ``web_balance`` GET /auswertung/bilanz/ | 3 |
| citizen | ``web_report_form`` GET /melden/graffiti/ then ``web_report_post`` POST it | 4 + 3 |
| citizen | ``opendata_index`` GET /offene-daten/, ``opendata_csv`` a month's CSV | 8 + 1 |
| Open311 client | ``open311_requests`` GET /open311/v2/requests.json | 20 |
| Open311 client | ``open311_services`` GET /open311/v2/services.json | 8 |
| Open311 client | ``open311_post`` POST /open311/v2/requests.json | 2 |

Writes are about 14 % of the requests. A write the server did not acknowledge (error status or no
answer) is retried with the same key (``Idempotency-Key`` header for the API and Open311, the entry
form's ``entry_key``) for up to ``LOAD_RETRY_SECONDS``; the citizen web form has no key and is not
retried (``bench.load_check`` accepts an unacknowledged write stored once or not at all, never twice).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import re
import time
import uuid
from pathlib import Path
from typing import Any

from locust import FastHttpUser, events, task

WORLD: dict[str, Any] = json.loads(
    Path(os.environ.get("LOAD_WORLD", "/tmp/lagebild-load/world.json")).read_text()
)
RATE = float(os.environ.get("LOAD_RATE", "20"))
USERS = max(1, int(os.environ.get("LOAD_USERS", "20")))
ONLY = os.environ.get("LOAD_ONLY", "").strip()
RUN = os.environ.get("LOAD_RUN", "run")
RETRY_SECONDS = float(os.environ.get("LOAD_RETRY_SECONDS", "60"))
OUT = os.environ.get("LOAD_OUT", "")
JOURNAL = os.environ.get("LOAD_JOURNAL", "")
CENTRE = (51.5140, 7.4650)
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

WEIGHTS = {
    "api_incident_create": 5,
    "web_incident_form": 2,  # followed by web_incident_post
    "web_overview": 4,
    "web_incident_list": 12,
    "web_incident_detail": 7,
    "api_incident_list": 8,
    "web_cockpit": 4,
    "web_balance": 3,
    "web_report_form": 4,  # followed by web_report_post 3 times in 4
    "opendata_index": 8,
    # A month's file is computed from the count tables on every request (about a second of CPU);
    # cacheable (public, max-age 3600) and rarely fetched.
    "opendata_csv": 1,
    "open311_requests": 20,
    "open311_services": 8,
    "open311_post": 2,
}
WRITES = {"api_incident_create", "web_incident_post", "web_report_post", "open311_post"}
DETAIL_URL = re.compile(r"/feststellungen/(\d+)/$")
INPUT = re.compile(r'<input type="hidden" name="(csrfmiddlewaretoken|entry_key)" value="([^"]+)"')

# --- recording -------------------------------------------------------------------------------------------

samples: list[tuple[str, float, float, int]] = []  # type, start (epoch s), latency ms, ok (1/0)
errors: list[dict[str, Any]] = []
journal_lines: list[str] = []
_counter = itertools.count(1)


def record(kind: str, started: float, elapsed_ms: float, ok: bool, detail: str = "") -> None:
    samples.append((kind, started, elapsed_ms, 1 if ok else 0))
    if not ok:
        # "at": when the answer (or the broken connection) came, the instant the client saw the error.
        errors.append({"type": kind, "at": round(started + elapsed_ms / 1000, 3), "detail": detail[:200]})


@events.quitting.add_listener
def _write_results(environment: Any, **_kwargs: Any) -> None:
    if OUT:
        Path(OUT).write_text(json.dumps({"samples": samples, "errors": errors}))
    if JOURNAL:
        with open(JOURNAL, "a", encoding="utf-8") as journal:
            journal.writelines(journal_lines)


def csrf_cookie_of(response: Any) -> str:
    """The csrftoken a response sets ("" if none); a response may carry several Set-Cookie headers."""
    if response is None:
        return ""
    headers = response.headers
    values = (
        headers.getlist("Set-Cookie") if hasattr(headers, "getlist") else [headers.get("Set-Cookie") or ""]
    )
    for value in values:
        found = re.search(r"csrftoken=([^;]+)", str(value))
        if found:
            return found.group(1)
    return ""


def marker() -> str:
    return f"LT-{RUN}-{os.getpid()}-{next(_counter)}"


def point() -> tuple[float, float]:
    return (
        round(CENTRE[0] + random.gauss(0, 0.006), 6),
        round(CENTRE[1] + random.gauss(0, 0.009), 6),
    )


def accounts(role: str) -> list[dict[str, Any]]:
    return [a for a in WORLD["accounts"].values() if a["role"] == role]


FIELD = accounts("field_officer")
LEADS = accounts("shift_lead")
ANALYSTS = accounts("analyst")


# --- the user ---------------------------------------------------------------------------------------------


class CityUser(FastHttpUser):
    """One simulated person or client; each request picks a type by the weights above."""

    def wait_time(self) -> float:
        return random.expovariate(RATE / USERS)

    network_timeout = 60.0
    connection_timeout = 10.0
    _numbers = itertools.count()

    def on_start(self) -> None:
        # The first request too comes after an exponential wait: no burst while the users spawn.
        self.wait()
        # The session cookie is sent by hand: one user plays several roles (per request type).
        self.client.client.cookiejar = None
        self.number = next(self._numbers)
        self.csrf_cookie = ""

    # Each request goes through here: timing, the type header for the server's CPU accounting,
    # and the outcome in our own records (exact percentiles, error times for the fault run).
    def call(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        expect: tuple[int, ...] = (200,),
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> tuple[bool, int, bytes, Any]:
        headers = {"X-Load-Type": kind, **(headers or {})}
        started = time.time()
        status, body, response = 0, b"", None
        try:
            with self.client.request(
                method, path, name=kind, headers=headers, catch_response=True, allow_redirects=False, **kwargs
            ) as response:
                status = response.status_code or 0
                body = response.content or b""
                if status in expect:
                    response.success()
                else:
                    response.failure(f"HTTP {status}")
        except Exception as exc:  # connection refused/reset while a worker or the database restarts
            body = str(exc).encode()
        elapsed = (time.time() - started) * 1000
        ok = status in expect
        record(kind, started, elapsed, ok, "" if ok else f"{status}: {body[:160]!r}")
        return ok, status, body, response

    def web_headers(self, role_accounts: list[dict[str, Any]]) -> dict[str, str]:
        account = role_accounts[self.number % len(role_accounts)]
        sessions = account["sessions"]
        cookie = f"sessionid={sessions[self.number % len(sessions)]}"
        return {"Cookie": cookie}

    # --- field officers ----------------------------------------------------------------------------------

    def api_incident_create(self) -> None:
        account = random.choice(FIELD)
        mark = marker()
        lat, lon = point()
        if account["authority"] == "polizei":
            measures = [{"type": "dispersal_order"}, {"type": "contact"}]
        else:
            measures = [{"type": "dispersal_order"}, {"type": "caution_fee", "amount": "35.00"}]
        body = json.dumps({
            "category": "aggressive-begging",
            "occurred_at": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=random.randint(1, 90)))
            .isoformat(),
            "lat": lat,
            "lon": lon,
            "address_text": "Westenhellweg",
            "description": f"Lasttest {mark}",
            "measures": measures,
        })  # fmt: skip
        key = str(uuid.uuid4())
        headers = {
            "Authorization": f"Token {account['token']}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        }
        entry: dict[str, Any] = {
            "kind": "incident",
            "marker": mark,
            "key": key,
            "authority": account["authority"],
        }
        self.write_with_retries(
            "api_incident_create", "/api/v1/incidents/", body, headers, (201,), entry, retry=True
        )

    def write_with_retries(
        self,
        kind: str,
        path: str,
        body: str,
        headers: dict[str, str],
        expect: tuple[int, ...],
        entry: dict[str, Any],
        *,
        retry: bool,
        parse_id: Any = None,
        need_id: bool = False,
    ) -> None:
        first = time.time()
        attempts, delay = 0, 0.25
        statuses: list[int] = []
        record_id: Any = None
        while True:
            attempts += 1
            ok, status, content, response = self.call(
                kind, "POST", path, expect=expect, headers=headers, data=body
            )
            statuses.append(status)
            if ok:
                try:
                    record_id = parse_id(content, response) if parse_id else json.loads(content)["id"]
                except (ValueError, KeyError, TypeError, IndexError):
                    record_id = None
                if need_id and record_id is None:
                    # The form's first submission is still being saved: not acknowledged yet, ask again.
                    ok, status = False, 409
            # 4xx other than 409/429 is the client's fault and final; 5xx and no answer may be transient.
            transient = status == 0 or status >= 500 or status in (409, 429)
            if ok or not retry or not transient or time.time() - first > RETRY_SECONDS:
                break
            time.sleep(delay)
            delay = min(delay * 2, 4.0)
        entry.update(acknowledged=ok, attempts=attempts, statuses=statuses, first_at=round(first, 3))
        if ok:
            entry["id"] = record_id
            entry["acknowledged_at"] = round(time.time(), 3)
        journal_lines.append(json.dumps(entry) + "\n")

    def web_incident_form(self) -> None:
        """The entry form as an officer uses it: open it, fill it in, save (with the form's key)."""
        account = FIELD[self.number % len(FIELD)]
        session = self.web_headers(FIELD)["Cookie"]
        ok, _status, content, response = self.call(
            "web_incident_form", "GET", "/feststellungen/neu/", headers={"Cookie": session}
        )
        if not ok:
            return
        self.csrf_cookie = csrf_cookie_of(response) or self.csrf_cookie
        hidden = dict(INPUT.findall(content.decode("utf-8", "replace")))
        if "csrfmiddlewaretoken" not in hidden or "entry_key" not in hidden or not self.csrf_cookie:
            record("web_incident_form", time.time(), 0.0, False, "Formular ohne Schlüssel oder CSRF-Token")
            return
        mark = marker()
        lat, lon = point()
        measures = "&measure_types=dispersal_order&measure_types=contact"
        when = dt.datetime.now(dt.UTC).astimezone().strftime("%Y-%m-%dT%H:%M")
        body = (
            f"csrfmiddlewaretoken={hidden['csrfmiddlewaretoken']}&entry_key={hidden['entry_key']}"
            f"&category={WORLD['category_ids'][account['authority']]}{measures}&caution_amount="
            f"&lat={lat:.6f}&lon={lon:.6f}&address_text=Kampstra%C3%9Fe&occurred_at={when}"
            f"&occurred_at_offset=&source=patrol&description=Lasttest+{mark}&patrol="
        )
        headers = {
            "Cookie": f"{session}; csrftoken={self.csrf_cookie}",
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        }
        entry = {
            "kind": "incident",
            "marker": mark,
            "key": hidden["entry_key"],
            "authority": account["authority"],
        }

        def incident_id(_content: bytes, response: Any) -> Any:
            found = DETAIL_URL.search(response.headers.get("Location", "")) if response is not None else None
            return int(found.group(1)) if found else None

        self.write_with_retries(
            "web_incident_post", "/feststellungen/neu/", body, headers, (302,), entry, retry=True,
            parse_id=incident_id, need_id=True,
        )  # fmt: skip

    def web_overview(self) -> None:
        self.call("web_overview", "GET", "/", headers=self.web_headers(FIELD))

    # --- shift leads -------------------------------------------------------------------------------------

    def web_incident_list(self) -> None:
        self.call("web_incident_list", "GET", "/feststellungen/", headers=self.web_headers(LEADS))

    def web_incident_detail(self) -> None:
        headers = self.web_headers(LEADS)
        account = LEADS[self.number % len(LEADS)]
        ids = WORLD["recent_incidents"][account["authority"]]
        self.call("web_incident_detail", "GET", f"/feststellungen/{random.choice(ids)}/", headers=headers)

    def api_incident_list(self) -> None:
        account = random.choice(LEADS)
        self.call(
            "api_incident_list",
            "GET",
            "/api/v1/incidents/",
            headers={"Authorization": f"Token {account['token']}"},
        )

    # --- analysts ----------------------------------------------------------------------------------------

    def web_cockpit(self) -> None:
        self.call("web_cockpit", "GET", "/auswertung/lage/", headers=self.web_headers(ANALYSTS))

    def web_balance(self) -> None:
        self.call("web_balance", "GET", "/auswertung/bilanz/", headers=self.web_headers(ANALYSTS))

    # --- citizens ----------------------------------------------------------------------------------------

    def web_report_form(self, post: bool | None = None) -> None:
        ok, _status, content, response = self.call("web_report_form", "GET", "/melden/graffiti/")
        if not ok:
            return
        self.csrf_cookie = csrf_cookie_of(response) or self.csrf_cookie
        token = CSRF_INPUT.search(content.decode("utf-8", "replace"))
        if post is None:
            post = random.random() < 0.75
        if not post or not token or not self.csrf_cookie:
            return
        mark = marker()
        lat, lon = point()
        body = (
            f"csrfmiddlewaretoken={token.group(1)}&lat={lat:.6f}&lon={lon:.6f}&address_text="
            f"&description=Neue+Schmiererei+an+der+Hauswand+{mark}&confirm_new=1&website="
            # With an address the confirmation mail goes out as a background task (Celery).
            "&reporter_email=buerger%40example.org"
        )
        headers = {
            "Cookie": f"csrftoken={self.csrf_cookie}",
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        }
        entry = {"kind": "report", "marker": mark}
        self.write_with_retries(
            "web_report_post",
            "/melden/graffiti/",
            body,
            headers,
            (302,),
            entry,
            retry=False,
            parse_id=lambda _c: None,
        )

    def opendata_index(self) -> None:
        self.call("opendata_index", "GET", "/offene-daten/")

    def opendata_csv(self) -> None:
        if WORLD["open_data"]:
            self.call("opendata_csv", "GET", random.choice(WORLD["open_data"]))

    # --- Open311 clients ---------------------------------------------------------------------------------

    def open311_requests(self) -> None:
        self.call("open311_requests", "GET", "/open311/v2/requests.json")

    def open311_services(self) -> None:
        self.call("open311_services", "GET", "/open311/v2/services.json")

    def open311_post(self) -> None:
        mark = marker()
        lat, lon = point()
        body = (
            f"api_key=demo-key&service_code=wilder-muell&lat={lat:.6f}&long={lon:.6f}"
            f"&description=Sperrm%C3%BCll+neben+dem+Container+{mark}&attribute%5Bmenge%5D=mittel"
            "&attribute%5Bart%5D%5B%5D=sperrmuell&email=buerger%40example.org"
        )
        key = str(uuid.uuid4())
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Idempotency-Key": key}
        entry = {"kind": "report", "marker": mark, "key": key}

        def service_request_id(content: bytes, _response: Any) -> Any:
            return json.loads(content)[0].get("service_request_id")

        self.write_with_retries(
            "open311_post",
            "/open311/v2/requests.json",
            body,
            headers,
            (200, 201),
            entry,
            retry=True,
            parse_id=service_request_id,
        )

    # --- the mix -----------------------------------------------------------------------------------------

    @task
    def one_request(self) -> None:
        kind = ONLY or random.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        if kind == "web_report_post":
            self.web_report_form(post=True)
            return
        if kind == "web_incident_post":
            kind = "web_incident_form"
        getattr(self, kind)()
