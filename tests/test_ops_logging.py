"""Structured logs: JSON lines with the request id the answer returns, no query strings, no
secrets from paths, no names; the id reaches the log lines of the tasks a request starts."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from lagebild.core import requestid, tasking
from lagebild.ops.logging import log_format, logging_config

task_logger = logging.getLogger("lagebild.tests.ops_task")


@tasking.task(name="tests.ops.logging.write_line")
def write_line(text: str) -> None:
    task_logger.warning("Aufgabe: %s", text)


def starts_a_task(request: HttpRequest) -> HttpResponse:
    """Like the import view: the work is done by a task (in-process without a broker)."""
    tasking.run_or_enqueue(write_line, "gezählt")
    return HttpResponse("ok")


# This module doubles as a URLconf (pytest.mark.urls): the site plus a view that starts a task.
urlpatterns = [
    path("test-aufgabe/", starts_a_task, name="test-task"),
    path("", include("lagebild.urls")),
]


class Lines:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def json(self) -> list[dict]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def of(self, logger: str) -> list[dict]:
        return [line for line in self.json() if line["logger"] == logger]


def _configured(log_format_name: str, access_log: bool = True) -> Iterator[Lines]:
    from django.conf import settings

    stream = io.StringIO()
    config = logging_config(log_format=log_format_name, level="INFO", access_log=access_log)
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)
    try:
        yield Lines(stream)
    finally:
        logging.config.dictConfig(settings.LOGGING)


@pytest.fixture
def json_logs() -> Iterator[Lines]:
    yield from _configured("json")


@pytest.fixture
def text_logs() -> Iterator[Lines]:
    yield from _configured("text")


def test_a_request_gives_one_json_line_with_the_id_it_returns(world, kod, json_logs):
    client = Client()
    client.force_login(kod)
    response = client.get("/feststellungen/", {"q": "Meiersohn"})
    assert response.status_code == 200
    (line,) = json_logs.of("lagebild.request")
    assert line["request_id"] == response["X-Request-ID"]
    assert len(response["X-Request-ID"]) == 32
    assert {k: line[k] for k in ("level", "method", "path", "view", "status", "user_id")} == {
        "level": "INFO",
        "method": "GET",
        "path": "/feststellungen/",
        "view": "field:incident-list",
        "status": 200,
        "user_id": kod.pk,
    }
    assert line["time"].endswith("Z") and line["duration_ms"] >= 0
    assert "Meiersohn" not in json_logs.text  # the query string is never logged
    assert '"kod"' not in json_logs.text and kod.last_name not in json_logs.text


def test_each_request_gets_its_own_id(db, json_logs):
    client = Client()
    first, second = client.get("/anmelden/"), client.get("/anmelden/")
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert [line["request_id"] for line in json_logs.of("lagebild.request")] == [
        first["X-Request-ID"],
        second["X-Request-ID"],
    ]


def test_djangos_error_lines_carry_the_id_but_no_query_string(db, json_logs):
    response = Client().get("/gibt-es-nicht/", {"name": "Erika Mustermann"})
    assert response.status_code == 404
    (line,) = json_logs.of("django.request")
    assert line["request_id"] == response["X-Request-ID"]
    assert line["message"] == "Not Found: /gibt-es-nicht/"
    assert "Mustermann" not in json_logs.text


def test_a_citizens_secret_status_link_is_not_logged(db, json_logs):
    secret = "AbCdEf0123456789GeheimerStatuslink"
    response = Client().get(f"/melden/status/{secret}/")
    assert response.status_code == 404
    assert secret not in json_logs.text
    (line,) = json_logs.of("lagebild.request")
    assert line["path"] == "/melden/status/<token>/"
    assert json_logs.of("django.request")[0]["message"] == "Not Found: /melden/status/<token>/"


def test_the_proxys_request_id_is_taken_only_when_trusted_and_well_formed(db, settings, json_logs):
    nginx_id = "0f3c5e9a1b2d4c6e8f0a1b2c3d4e5f60"
    client = Client()
    # No proxy declared: a client cannot choose the id its requests are logged under.
    settings.LAGEBILD_TRUSTED_PROXIES = []
    assert client.get("/anmelden/", HTTP_X_REQUEST_ID=nginx_id)["X-Request-ID"] != nginx_id

    settings.LAGEBILD_TRUSTED_PROXIES = ["10.0.0.0/8"]
    proxied = client.get("/anmelden/", HTTP_X_REQUEST_ID=nginx_id, REMOTE_ADDR="10.0.0.2")
    assert proxied["X-Request-ID"] == nginx_id
    assert json_logs.of("lagebild.request")[-1]["request_id"] == nginx_id
    other_peer = client.get("/anmelden/", HTTP_X_REQUEST_ID=nginx_id, REMOTE_ADDR="203.0.113.5")
    assert other_peer["X-Request-ID"] != nginx_id

    for malformed in (
        "kurz",
        "a" * 200,
        "id mit leerzeichen",
        'x"}{"level":"ERROR',
        "abcdefgh\nX-Injected: 1",
    ):
        answer = client.get("/anmelden/", HTTP_X_REQUEST_ID=malformed, REMOTE_ADDR="10.0.0.2")
        assert answer["X-Request-ID"] != malformed
        assert len(answer["X-Request-ID"]) == 32
    assert "leerzeichen" not in json_logs.text and "Injected" not in json_logs.text

    settings.LAGEBILD_TRUSTED_PROXIES = ["*"]  # LAGEBILD_TRUSTED_PROXY=1: the peer is the proxy
    assert client.get("/anmelden/", HTTP_X_REQUEST_ID=nginx_id)["X-Request-ID"] == nginx_id


@pytest.mark.urls(__name__)
def test_a_task_started_by_a_request_logs_under_the_requests_id(db, json_logs):
    response = Client().get("/test-aufgabe/")
    assert response.status_code == 200
    (line,) = json_logs.of("lagebild.tests.ops_task")
    assert line["message"] == "Aufgabe: gezählt"
    assert line["request_id"] == response["X-Request-ID"]


def test_a_task_outside_a_request_logs_without_an_id(db, json_logs):
    tasking.run_or_enqueue(write_line, "nachts")
    (line,) = json_logs.of("lagebild.tests.ops_task")
    assert line["request_id"] == "-"
    assert requestid.current() == ""


def test_probes_stay_out_of_the_access_log_unless_they_fail(db, settings, json_logs):
    assert Client().get("/healthz").status_code == 200
    assert json_logs.of("lagebild.request") == []
    settings.LAGEBILD_METRICS_TOKEN = "t" * 40
    assert Client().get("/metrics").status_code == 401
    assert [line["view"] for line in json_logs.of("lagebild.request")] == ["ops:metrics"]
    assert "t" * 40 not in json_logs.text


def test_text_lines_by_default_carry_the_request_id_too(db, text_logs):
    response = Client().get("/gibt-es-nicht/")
    assert f"[{response['X-Request-ID']}] Not Found: /gibt-es-nicht/" in text_logs.text


def test_no_access_log_unless_asked_for():
    config = logging_config(log_format="text", level="WARNING", access_log=False)
    assert config["loggers"]["lagebild.request"]["level"] == "WARNING"
    assert (
        logging_config(log_format="json", level="WARNING", access_log=True)["loggers"]["lagebild.request"][
            "level"
        ]
        == "INFO"
    )


def test_a_typo_in_the_log_format_stops_the_start():
    assert log_format("JSON") == "json"
    assert log_format("") == "text"
    with pytest.raises(ValueError, match="LAGEBILD_LOG_FORMAT"):
        log_format("jsno")
