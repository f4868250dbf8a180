"""Unsafe settings of an installation, beyond Django's ``check --deploy``.

Pure: :func:`find_problems` judges a :class:`DeployConfig` (read from the settings by
:func:`config_from_settings`) and the demo accounts still present; the command
``lagebild check-deploy`` prints the findings in German with the fix and exits 1 when
there is any.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Keys that are public (examples in documentation, tutorials, the demo) or trivially guessed.
KNOWN_DEFAULT_KEYS = frozenset(
    {
        "changeme",
        "change-me",
        "secret",
        "secret-key",
        "secretkey",
        "lagebild",
        "demo",
        "dev",
        "development",
        "test",
        "insecure",
        "your-secret-key",
        "django-insecure",
    }
)
MIN_SECRET_LENGTH = 50
MIN_SECRET_DISTINCT = 5
MIN_HSTS_SECONDS = 31_536_000  # one year, the usual minimum for HSTS preload lists
CONSOLE_BACKENDS = frozenset(
    {
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
        "django.core.mail.backends.dummy.EmailBackend",
    }
)


@dataclass(frozen=True)
class DeployConfig:
    debug: bool
    secret_key: str
    allowed_hosts: tuple[str, ...]
    ssl_redirect: bool
    hsts_seconds: int
    session_cookie_secure: bool
    csrf_cookie_secure: bool
    proxy_ssl_header: tuple[str, str] | None
    trusted_proxy: str
    two_factor_required: bool
    email_backend: str
    demo_usernames: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Finding:
    code: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.problem}\n    Abhilfe: {self.fix}"


def config_from_settings(settings: Any, demo_usernames: Iterable[str] = ()) -> DeployConfig:
    return DeployConfig(
        debug=bool(settings.DEBUG),
        secret_key=str(settings.SECRET_KEY),
        allowed_hosts=tuple(settings.ALLOWED_HOSTS),
        ssl_redirect=bool(getattr(settings, "SECURE_SSL_REDIRECT", False)),
        hsts_seconds=int(getattr(settings, "SECURE_HSTS_SECONDS", 0) or 0),
        session_cookie_secure=bool(getattr(settings, "SESSION_COOKIE_SECURE", False)),
        csrf_cookie_secure=bool(getattr(settings, "CSRF_COOKIE_SECURE", False)),
        proxy_ssl_header=getattr(settings, "SECURE_PROXY_SSL_HEADER", None),
        trusted_proxy=str(getattr(settings, "LAGEBILD_TRUSTED_PROXY", "") or ""),
        two_factor_required=bool(getattr(settings, "LAGEBILD_TWO_FACTOR_REQUIRED", True)),
        email_backend=str(getattr(settings, "EMAIL_BACKEND", "")),
        demo_usernames=tuple(demo_usernames),
    )


def weak_secret_reason(key: str) -> str | None:
    """Why a secret key is weak, or None."""
    lowered = key.strip().lower()
    if lowered in KNOWN_DEFAULT_KEYS:
        return "ist ein bekannter Standardwert"
    if lowered.startswith("django-insecure") or "insecure" in lowered:
        return "ist als unsicher gekennzeichnet („insecure“)"
    if len(key) < MIN_SECRET_LENGTH:
        return f"ist zu kurz ({len(key)} Zeichen, mindestens {MIN_SECRET_LENGTH})"
    if len(set(key)) < MIN_SECRET_DISTINCT:
        return "besteht aus zu wenigen verschiedenen Zeichen"
    return None


def find_problems(config: DeployConfig) -> list[Finding]:
    findings: list[Finding] = []
    add = findings.append
    if config.debug:
        add(
            Finding(
                "debug",
                "DEBUG ist eingeschaltet: Fehlerseiten zeigen Programmcode und Einstellungen, "
                "Demo-Konten dürfen ohne zweiten Faktor anmelden.",
                "LAGEBILD_DEBUG entfernen oder auf 0 setzen.",
            )
        )
    reason = weak_secret_reason(config.secret_key)
    if reason:
        add(
            Finding(
                "secret-key",
                f"Der geheime Schlüssel (LAGEBILD_SECRET_KEY) {reason}.",
                "Einen zufälligen Schlüssel setzen, z. B. mit "
                "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`, "
                "oder LAGEBILD_SECRET_KEY entfernen (dann erzeugt Lagebild einen in var/secret_key).",
            )
        )
    if "*" in config.allowed_hosts:
        add(
            Finding(
                "allowed-hosts",
                "ALLOWED_HOSTS enthält „*“: jede Host-Angabe wird angenommen (Host-Header-Angriffe, "
                "falsche Links in E-Mails).",
                "LAGEBILD_ALLOWED_HOSTS auf den Namen der Installation setzen, z. B. lagebild.dortmund.de.",
            )
        )
    if not config.ssl_redirect:
        add(
            Finding(
                "https-redirect",
                "Aufrufe über unverschlüsseltes HTTP werden nicht auf HTTPS umgeleitet.",
                "LAGEBILD_SSL_REDIRECT=1 setzen (hinter einem Proxy zusätzlich LAGEBILD_TRUSTED_PROXY).",
            )
        )
    if config.hsts_seconds < MIN_HSTS_SECONDS:
        add(
            Finding(
                "hsts",
                "HSTS fehlt oder gilt kürzer als ein Jahr: Browser dürfen die Seite noch über HTTP laden.",
                "LAGEBILD_HTTPS nicht abschalten und LAGEBILD_HSTS_SECONDS auf mindestens 31536000 setzen.",
            )
        )
    if not (config.session_cookie_secure and config.csrf_cookie_secure):
        add(
            Finding(
                "secure-cookies",
                "Sitzungs- oder CSRF-Cookie werden auch über unverschlüsseltes HTTP gesendet.",
                "LAGEBILD_HTTPS=0 entfernen (Standard: sichere Cookies, sobald DEBUG aus ist).",
            )
        )
    if config.proxy_ssl_header and not config.trusted_proxy:
        add(
            Finding(
                "proxy-header",
                "SECURE_PROXY_SSL_HEADER ist gesetzt, aber kein Proxy erklärt: jeder Client kann "
                "mit X-Forwarded-Proto eine verschlüsselte Verbindung vortäuschen.",
                "Nur hinter einem Proxy, der den Header setzt und den des Clients verwirft, "
                "LAGEBILD_TRUSTED_PROXY setzen; sonst SECURE_PROXY_SSL_HEADER entfernen.",
            )
        )
    if not config.two_factor_required:
        add(
            Finding(
                "two-factor",
                "Die Zwei-Faktor-Anmeldung ist abgeschaltet, obwohl alle Rollen "
                "personenbezogene Daten sehen.",
                "LAGEBILD_TWO_FACTOR_REQUIRED=0 entfernen.",
            )
        )
    if not config.debug and config.email_backend in CONSOLE_BACKENDS:
        add(
            Finding(
                "email",
                "E-Mails (Statuslinks für Bürgerinnen und Bürger, Benachrichtigungen) werden nicht "
                "versandt, sondern nur in die Konsole oder eine Datei geschrieben.",
                "LAGEBILD_EMAIL_HOST (und ggf. LAGEBILD_EMAIL_USER, LAGEBILD_EMAIL_PASSWORD, "
                "LAGEBILD_EMAIL_TLS) auf das Mail-Relay der Stadt setzen.",
            )
        )
    if config.demo_usernames:
        names = ", ".join(sorted(config.demo_usernames))
        add(
            Finding(
                "demo-users",
                f"Demo-Konten mit öffentlich bekanntem Passwort sind vorhanden: {names}.",
                "Diese Konten löschen oder sperren (Verwaltung → Benutzer), oder die Datenbank "
                "ohne `lagebild demo` neu aufsetzen.",
            )
        )
    return findings
