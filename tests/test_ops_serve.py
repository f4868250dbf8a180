"""`lagebild serve`: gunicorn with several workers, static files from WhiteNoise, a clean stop.

Starts the real command as an operator would (a subprocess, settings from the environment,
DEBUG off) on a free port against a migrated database: on SQLite a copy of the test database
in a file, on PostgreSQL the test database itself. No fixed sleeps: every wait polls with a
deadline.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import brotli
import pytest
from django.db import connection

from lagebild.ops.appserver import MAX_DEFAULT_WORKERS, ServerConfigError, default_workers, server_settings

DEADLINE_SECONDS = 240  # a busy shared machine needs a minute to boot the workers; an idle one seconds
ONE_YEAR = 365 * 24 * 3600


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def _get(url: str, headers: dict[str, str] | None = None) -> Answer:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Answer(
                response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
            )
    except urllib.error.HTTPError as error:
        return Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> set[int]:
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        # "pid (comm) state ppid ...": comm may contain spaces, so split after the last ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            children.add(int(entry.name))
    return children


def _served_database_url(tmp_path: Path) -> str:
    """A migrated database the server can open: the test database (copied to a file on SQLite)."""
    connection.ensure_connection()
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        target = tmp_path / "lagebild.sqlite3"
        copy = sqlite3.connect(target)
        try:
            connection.connection.backup(copy)
        finally:
            copy.close()
        return f"sqlite:///{target}"
    credentials = quote(settings["USER"] or "", safe="")
    if settings["PASSWORD"]:
        credentials += ":" + quote(settings["PASSWORD"], safe="")
    host, port = settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{settings['NAME']}"


@dataclass
class Server:
    process: subprocess.Popen
    base_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture
def server(transactional_db, tmp_path: Path) -> Iterator[Server]:
    database_url = _served_database_url(tmp_path)
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LAGEBILD_") and key not in {"DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR"}
    }
    env |= {
        "DATABASE_URL": database_url,
        "LAGEBILD_VAR_DIR": str(tmp_path / "var"),
        "LAGEBILD_SECRET_KEY": "test-serve-" + "k3y" * 20,
        "LAGEBILD_ALLOWED_HOSTS": "127.0.0.1",
        "LAGEBILD_BIND": f"127.0.0.1:{port}",
        "LAGEBILD_WORKERS": "2",
        "LAGEBILD_ACCESS_LOG": "-",
    }
    script = Path(sys.executable).with_name("lagebild")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "lagebild.manage"]
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "serve"], env=env, cwd=tmp_path, stdout=output, stderr=subprocess.STDOUT
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"lagebild serve endete mit {process.returncode}:\n{server.output()}")
            try:
                if _get(server.base_url + "/healthz").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"lagebild serve antwortet nicht:\n{server.output()}")
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def test_serves_pages_and_static_files_with_several_workers_and_stops_cleanly(server: Server) -> None:
    login = _get(server.base_url + "/anmelden/")
    assert login.status == 200, server.output()
    page = login.body.decode()
    assert "Anmelden" in page
    # Readiness checks the database and its migrations through the served application.
    assert _get(server.base_url + "/readyz").status == 200, server.output()

    # The page links the stylesheet under its content-hashed name (collectstatic ran first) ...
    stylesheet = re.search(r'href="(/static/lagebild/css/app\.[0-9a-f]{12}\.css)"', page)
    assert stylesheet, page[:2000]
    url = server.base_url + stylesheet.group(1)
    plain = _get(url)
    assert plain.status == 200
    assert b"{" in plain.body
    # ... which browsers may keep for a year without asking again ...
    cache_control = plain.headers["cache-control"]
    max_age = int(re.search(r"max-age=(\d+)", cache_control).group(1))
    assert max_age >= ONE_YEAR
    assert "immutable" in cache_control
    # ... and which comes compressed when the browser accepts it.
    gzipped = _get(url, {"Accept-Encoding": "gzip"})
    assert gzipped.headers.get("content-encoding") == "gzip"
    assert len(gzipped.body) < len(plain.body)
    brotlied = _get(url, {"Accept-Encoding": "br, gzip"})
    assert brotlied.headers.get("content-encoding") == "br"
    assert brotli.decompress(brotlied.body) == plain.body

    # LAGEBILD_WORKERS=2: the gunicorn master (the PID of `lagebild serve`) has two workers.
    deadline = time.monotonic() + DEADLINE_SECONDS
    while len(workers := _children(server.process.pid)) != 2:
        assert time.monotonic() < deadline, f"Prozesse: {workers}\n{server.output()}"
        time.sleep(0.1)

    # SIGTERM (systemd's stop): the master stops its workers and exits with 0.
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=DEADLINE_SECONDS) == 0, server.output()
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    output = server.output()
    assert "GET /anmelden/" in output  # LAGEBILD_ACCESS_LOG=- writes the access log to stdout
    assert "Traceback" not in output


def test_server_settings_come_from_the_environment() -> None:
    settings = server_settings(
        {
            "LAGEBILD_BIND": "unix:/run/lagebild/web.sock, 127.0.0.1:9000",
            "LAGEBILD_WORKERS": "3",
            "LAGEBILD_THREADS": "4",
            "LAGEBILD_TIMEOUT": "120",
            "LAGEBILD_MAX_REQUESTS": "500",
            "LAGEBILD_TRUSTED_PROXY": "10.0.0.0/24",
        }
    )
    assert settings.bind == ("unix:/run/lagebild/web.sock", "127.0.0.1:9000")
    assert (settings.workers, settings.threads, settings.timeout) == (3, 4, 120)
    assert (settings.max_requests, settings.max_requests_jitter) == (500, 50)
    assert settings.forwarded_allow_ips == "10.0.0.0/24"
    defaults = server_settings({}, cores=2)
    assert defaults.bind == ("127.0.0.1:8000",)
    assert defaults.workers == 5
    assert defaults.access_log is None
    assert default_workers(64) == MAX_DEFAULT_WORKERS


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LAGEBILD_WORKERS", "viele", "keine ganze Zahl"),
        ("LAGEBILD_WORKERS", "0", "zu klein"),
        ("LAGEBILD_TIMEOUT", "-5", "zu klein"),
    ],
)
def test_a_bad_server_setting_stops_the_start_with_a_german_message(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(ServerConfigError, match=message):
        server_settings({name: value})
