"""Every kind of page answers with the security headers; no template carries inline script.

Pages, API, Open311, the public form, the admin and downloads (CSV, PDF) are fetched with
the Django test client; the browser check for CSP violations is in
tests/e2e/test_security_headers.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from lagebild.analytics.services import load_indicators
from lagebild.core.models import Role
from lagebild.core.security_headers import content_security_policy, tile_sources

from .test_analytics_cockpit import INDICATORS

PACKAGE = Path(settings.PACKAGE_DIR)


def _directives(header: str) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            result[words[0]] = words[1:]
    return result


def assert_security_headers(response) -> None:
    csp = response.get("Content-Security-Policy")
    assert csp, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = _directives(csp)
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-eval'" not in csp
    policy = response.get("Permissions-Policy", "")
    assert "geolocation=(self)" in policy
    assert "camera=()" in policy and "microphone=()" in policy and "payment=()" in policy
    assert response.get("Referrer-Policy") == "same-origin"
    assert response.get("X-Content-Type-Options") == "nosniff"
    assert response.get("Cross-Origin-Opener-Policy") == "same-origin"
    if not response.request["PATH_INFO"].startswith("/static/"):
        # Static files leave before XFrameOptionsMiddleware; CSP frame-ancestors covers them.
        assert response.get("X-Frame-Options") == "DENY"
    assert response.get("Server") == "Lagebild"


@pytest.fixture
def pages_world(world, make_user, city, police, tmp_path) -> dict:
    indicators = tmp_path / "indicators.json"
    indicators.write_text(json.dumps(INDICATORS), encoding="utf-8")
    load_indicators(indicators)  # the cockpit PDF needs at least one indicator set
    return {
        "analyst": make_user("analyse-h", city, Role.ANALYST),
        "admin": make_user("admin-h", city, Role.ADMIN, is_staff=True),
    }


ANONYMOUS_PAGES = [
    "/anmelden/",
    "/melden/",
    "/open311/v2/services.json",
    "/open311/v2/discovery.json",
    "/open311/v2/requests.json",
    "/api/schema/",
    "/api/docs/",
    "/api/docs/?script=",
    "/api/redoc/",
    "/api/v1/incidents/",  # 401/403 without login
    "/admin/login/",
    "/offene-daten/",
    "/gibt-es-nicht/",  # 404
    "/static/lagebild/css/app.css",
]


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_anonymous_pages_carry_the_headers(client, pages_world, path):
    response = client.get(path)
    assert response.status_code < 500
    assert_security_headers(response)


def test_field_pages_and_downloads_carry_the_headers(client, kod, kod_lead, pages_world):
    client.force_login(kod)
    for name in ["field:overview", "field:incident-create", "field:incident-list"]:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert_security_headers(response)
    response = client.get("/api/v1/incidents/")
    assert response.status_code == 200
    assert_security_headers(response)
    # A refusal carries them as well as the download itself.
    refused = client.get(reverse("field:incident-export-csv"))
    assert refused.status_code == 403
    assert_security_headers(refused)
    client.force_login(kod_lead)
    download = client.get(reverse("field:incident-export-csv"))
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert_security_headers(download)


def test_analyst_pages_and_pdf_carry_the_headers(client, pages_world):
    client.force_login(pages_world["analyst"])
    for name in ["analytics:index", "analytics:cockpit", "analytics:hotspots", "analytics:cockpit-pdf"]:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert_security_headers(response)
    assert response["Content-Type"] == "application/pdf"


def test_admin_pages_carry_the_headers(client, pages_world):
    client.force_login(pages_world["admin"])
    for path in ["/admin/", "/admin/core/user/", "/admin/core/auditevent/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response)


def test_pages_of_a_login_are_not_cached_public_ones_may_be(client, kod, pages_world):
    assert "Cache-Control" not in client.get("/melden/")
    client.force_login(kod)
    for path in ["/", "/feststellungen/", "/api/v1/incidents/"]:
        response = client.get(path)
        assert "no-store" in response["Cache-Control"], path
    assert "no-store" not in client.get("/static/lagebild/css/app.css").get("Cache-Control", "")


def test_htmx_adds_no_style_element_and_evaluates_nothing(client, kod, pages_world):
    client.force_login(kod)
    page = client.get("/").content.decode()
    config = """content='{"includeIndicatorStyles": false, "allowEval": false}'"""
    assert f'<meta name="htmx-config" {config}>' in page


def test_hsts_over_https_when_debug_is_off(client, pages_world):
    assert not settings.DEBUG
    response = client.get("/anmelden/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=")
    assert int(response["Strict-Transport-Security"].split("=")[1].split(";")[0]) >= 31536000


def test_swagger_ui_start_script_is_a_file_not_inline(client, pages_world):
    page = client.get("/api/docs/").content.decode()
    assert re.search(r"<script>\s*\S", page) is None
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def test_tile_server_is_allowed_for_images_only():
    assert tile_sources("https://{s}.tile.example.org/{z}/{x}/{y}.png") == ["https://*.tile.example.org"]
    assert tile_sources("https://sgx.geodatenzentrum.de/wmts_basemapde/tile/{z}/{y}/{x}.png") == [
        "https://sgx.geodatenzentrum.de"
    ]
    assert tile_sources("/kacheln/{z}/{x}/{y}.png") == []
    directives = content_security_policy("https://tiles.example.org:8443/{z}/{x}/{y}.png")["DIRECTIVES"]
    assert "https://tiles.example.org:8443" in directives["img-src"]
    assert "https://tiles.example.org:8443" not in directives["script-src"]
    assert "https://tiles.example.org:8443" not in directives["connect-src"]


# --- templates: no inline script, no event handler attributes -----------------------------

TEMPLATE_DIRS = [PACKAGE / "templates", *sorted(PACKAGE.glob("*/templates"))]
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"""<[a-z][^>]*\son[a-z]+\s*=\s*["'{]""", re.IGNORECASE | re.DOTALL)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)


def _templates() -> list[Path]:
    return [path for folder in TEMPLATE_DIRS for path in folder.rglob("*.html")]


def test_templates_exist_to_scan():
    assert len(_templates()) > 50


@pytest.mark.parametrize("template", _templates(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_template_has_no_inline_script_or_event_handler(template):
    text = template.read_text(encoding="utf-8")
    for match in SCRIPT_TAG.finditer(text):
        attributes = match.group(1)
        assert "src=" in attributes or 'type="application/json"' in attributes, (
            f"inline <script> in {template.name}: {match.group(0)}"
        )
    assert EVENT_HANDLER.search(text) is None, f"on…= event handler in {template.name}"
    assert JS_URL.search(text) is None, f"javascript: URL in {template.name}"


# --- X-Forwarded-Proto only behind a declared proxy ----------------------------------------


def _settings_value(tmp_path: Path, name: str, **env: str) -> str:
    code = f"import lagebild.settings as s; print(repr(getattr(s, {name!r}, None)))"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("LAGEBILD_TRUSTED")}
    environment.update({"LAGEBILD_VAR_DIR": str(tmp_path), **env})
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_forwarded_proto_is_trusted_only_with_a_declared_proxy(tmp_path):
    assert settings.SECURE_PROXY_SSL_HEADER is None
    assert _settings_value(tmp_path, "SECURE_PROXY_SSL_HEADER") == "None"
    assert _settings_value(tmp_path, "SECURE_PROXY_SSL_HEADER", LAGEBILD_TRUSTED_PROXY="0") == "None"
    declared = _settings_value(tmp_path, "SECURE_PROXY_SSL_HEADER", LAGEBILD_TRUSTED_PROXY="10.0.0.5")
    assert declared == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_a_forged_forwarded_proto_does_not_make_a_request_secure(client, pages_world):
    response = client.get("/anmelden/", HTTP_X_FORWARDED_PROTO="https")
    assert "Strict-Transport-Security" not in response  # HSTS is only sent on secure requests
