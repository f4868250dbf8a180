"""Settings for Lagebild, read from the environment.

Everything a city needs to change is an environment variable prefixed ``LAGEBILD_``
(plus ``DATABASE_URL``). The defaults are safe for production: DEBUG is off unless
``LAGEBILD_DEBUG`` is set, and the embedded SQLite database needs no server.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import ipaddress
import os
import secrets
from pathlib import Path

import dj_database_url


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "ja"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def _api_rate(name: str, default: str) -> str | None:
    value = os.environ.get(name, default).strip()
    return None if value in {"", "0", "off", "aus"} else value


def _trusted_proxies(value: str) -> list[str]:
    """LAGEBILD_TRUSTED_PROXY as a list for lagebild.accounts.client_ip ("*": the peer is the proxy)."""
    text = value.strip()
    if not text or text.lower() in {"0", "false", "no", "nein", "off"}:
        return []
    if text.lower() in {"1", "true", "yes", "ja", "on"}:
        return ["*"]
    items = [item.strip() for item in text.split(",") if item.strip()]
    for item in items:
        ipaddress.ip_network(item, strict=False)  # a typo stops the start, not the first login
    return items


PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("LAGEBILD_VAR_DIR", Path.cwd() / "var")).resolve()

DEBUG = env_bool("LAGEBILD_DEBUG", False)


def _secret_key() -> str:
    configured = os.environ.get("LAGEBILD_SECRET_KEY", "").strip()
    if configured:
        return configured
    # Without a configured key, keep a random one on disk so sessions survive restarts
    # but no two installations share a key.
    key_file = VAR_DIR / "secret_key"
    try:
        return key_file.read_text().strip()
    except FileNotFoundError:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list(
    "LAGEBILD_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if not DEBUG else ["*"]
)
CSRF_TRUSTED_ORIGINS = env_list("LAGEBILD_CSRF_TRUSTED_ORIGINS", [])

# Map tiles come from a URL the city configures (own tile server, basemap.de);
# empty means no tiles: maps then show area outlines and points only.
TILE_URL = os.environ.get("LAGEBILD_TILE_URL", "").strip()
TILE_ATTRIBUTION = os.environ.get("LAGEBILD_TILE_ATTRIBUTION", "").strip()
# The Sonderstab's recommendation workflow (JSON, see docs/taskforce.md); empty: the German default.
LAGEBILD_RECOMMENDATION_WORKFLOW = os.environ.get("LAGEBILD_RECOMMENDATION_WORKFLOW", "").strip()
# This installation's address for links in e-mails (e.g. https://lagebild.dortmund.de); empty: paths only.
LAGEBILD_SITE_URL = os.environ.get("LAGEBILD_SITE_URL", "").strip().rstrip("/")
# Retention per record type, overriding the defaults (ISO 8601, e.g. "incident=P3Y,photo=P6M"; keys and
# defaults in docs/data-protection.md); checked at start by lagebild.privacy.
LAGEBILD_RETENTION = {
    key.strip(): value.strip()
    for key, _, value in (
        item.partition("=") for item in os.environ.get("LAGEBILD_RETENTION", "").split(",") if item.strip()
    )
}
# Offence proceedings: the city's choices where the law leaves one (docs/proceedings.md).
LAGEBILD_PROCEEDINGS_FOUR_EYES = env_bool("LAGEBILD_PROCEEDINGS_FOUR_EYES", False)
# Days of warning before a deadline, per kind, e.g. "payment=7,objection=5" (kinds in docs/proceedings.md).
LAGEBILD_PROCEEDINGS_WARN_DAYS = {
    key.strip(): value.strip()
    for key, _, value in (
        item.partition("=")
        for item in os.environ.get("LAGEBILD_PROCEEDINGS_WARN_DAYS", "").split(",")
        if item.strip()
    )
}
LAGEBILD_PROCEEDINGS_HEARING_REPLY_DAYS = os.environ.get("LAGEBILD_PROCEEDINGS_HEARING_REPLY_DAYS", "14")
LAGEBILD_PROCEEDINGS_REMINDER_DAYS = os.environ.get("LAGEBILD_PROCEEDINGS_REMINDER_DAYS", "7")
LAGEBILD_PROCEEDINGS_PAYEE = {
    key: os.environ.get(f"LAGEBILD_PROCEEDINGS_PAYEE_{key.upper()}", "").strip()
    for key in ("recipient", "iban", "bic", "bank")
}
ADDR = os.environ.get("LAGEBILD_ADDR", "127.0.0.1:8000")
CITY_NAME = os.environ.get("LAGEBILD_CITY_NAME", "Dortmund")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "rules.apps.AutodiscoverRulesConfig",
    "lagebild.core",
    "lagebild.geo",
    "lagebild.catalog",
    "lagebild.field",
    "lagebild.citizen",
    "lagebild.analytics",
    "lagebild.taskforce",
    "lagebild.bodycam",
    "lagebild.sharing",
    "lagebild.proceedings",
    "lagebild.forecast",
    "lagebild.deployment",
    "lagebild.demo",
    # Login lockout, second factor, API tokens (issue 13, lagebild.accounts).
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "lagebild.accounts",
    "lagebild.api",
    "lagebild.privacy",
    # Production operations: job schedule in the database (django-celery-beat), job runs,
    # health, metrics, backups (docs/operations.md).
    "django_celery_beat",
    "lagebild.ops",
]

MIDDLEWARE = [
    # Request id, request metrics and access log (lagebild.ops): around everything, so every
    # answer is counted and every log line carries the id.
    "lagebild.ops.middleware.RequestIdMiddleware",
    "lagebild.ops.middleware.RequestMetricsMiddleware",
    # Security headers (see the "Security headers" block below): outermost, so static files
    # and error pages carry them too.
    "lagebild.core.security_headers.ServerHeaderMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # /healthz, /readyz, /metrics: before sessions, CSRF, login, second factor and audit.
    "lagebild.ops.middleware.OpsEndpointsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Audit log: remembers the request (client address, web or API) for the entries it writes.
    "lagebild.core.audit.AuditContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Session limits and the second factor (lagebild.accounts): after auth, messages and htmx.
    "django_otp.middleware.OTPMiddleware",
    "lagebild.accounts.middleware.SessionLimitsMiddleware",
    "lagebild.accounts.middleware.TwoFactorMiddleware",
    "lagebild.core.middleware.AuthorityScopeMiddleware",
    "lagebild.core.middleware.GermanNotFoundMiddleware",
    # django-axes turns a locked-out login into its answer; last, as axes asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lagebild.urls"
WSGI_APPLICATION = "lagebild.wsgi.application"

# Form widgets render through the project's templates, so templates/django/forms/ can replace a
# built-in widget template (select.html: the options inline, see there).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lagebild.core.context_processors.lagebild",
            ],
        },
    },
]


def _database() -> dict:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{VAR_DIR / 'lagebild.sqlite3'}"
    # Health checks: after a database restart a worker's kept connection is dead; Django then
    # opens a new one instead of failing the worker's next request (load test, docs/operations.md).
    config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0
        # WAL lets readers work while a patrol writes; IMMEDIATE transactions avoid
        # "database is locked" upgrade deadlocks; the busy timeout queues writers.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 10,
        }
    return config


DATABASES = {"default": _database()}
# Scale-out (docs/operations.md): an optional read replica for the cockpit and reports, and a
# cache shared by all processes (API throttling) when LAGEBILD_CACHE_URL names Redis or "db".
from lagebild.ops.scaleout import cache_settings, replica_databases  # noqa: E402

DATABASES |= replica_databases(os.environ.get("LAGEBILD_REPLICA_DATABASE_URL", ""), DATABASES["default"])
DATABASE_ROUTERS = ["lagebild.ops.db_router.AnalyticsReplicaRouter"]
CACHES = cache_settings(os.environ.get("LAGEBILD_CACHE_URL", ""))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username+address before any password is checked (django-axes).
    "lagebild.accounts.backends.LockoutBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": int(os.environ.get("LAGEBILD_PASSWORD_MIN_LENGTH", "12"))},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "field:overview"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "de"
LANGUAGES = [("de", "Deutsch")]
TIME_ZONE = os.environ.get("LAGEBILD_TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [PACKAGE_DIR / "locale"]

STATIC_URL = "/static/"
# Leaflet comes from the django-leaflet wheel; only its static files are used (its app
# module imports GeoDjango, which needs GDAL).
_leaflet_spec = importlib.util.find_spec("leaflet")
STATICFILES_DIRS = [PACKAGE_DIR / "static"] + (
    [Path(_leaflet_spec.submodule_search_locations[0]) / "static"]
    if _leaflet_spec and _leaflet_spec.submodule_search_locations
    else []
)
STATIC_ROOT = Path(os.environ.get("LAGEBILD_STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed names once `lagebild collectstatic` has run (production); before
    # that (development, tests, demo) WhiteNoise serves the files straight from the finders.
    "staticfiles": {
        "BACKEND": "lagebild.ops.staticfiles.StaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Without collectstatic (tests, demo) WhiteNoise serves straight from the finders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = VAR_DIR / "media"
# Audit log: `lagebild audit anchor` appends the chain head here (keep a copy outside the server).
LAGEBILD_AUDIT_ANCHOR_FILE = os.environ.get("LAGEBILD_AUDIT_ANCHOR_FILE", "").strip() or str(
    VAR_DIR / "audit-anchors.jsonl"
)
# Bodycam recordings (docs/bodycam.md): never under STATIC_ROOT/MEDIA_ROOT, never served by a URL;
# only streamed to authorised users with a logged reason (system check lagebild.bodycam.E001).
LAGEBILD_RECORDINGS_DIR = Path(os.environ.get("LAGEBILD_RECORDINGS_DIR", VAR_DIR / "recordings")).resolve()
LAGEBILD_RECORDINGS_RETENTION_DAYS = int(os.environ.get("LAGEBILD_RECORDINGS_RETENTION_DAYS", "14"))
LAGEBILD_RECORDINGS_MAX_BYTES = int(os.environ.get("LAGEBILD_RECORDINGS_MAX_BYTES", str(4 * 1024**3)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# Production-safe defaults whenever DEBUG is off; LAGEBILD_HTTPS=0 for plain-HTTP setups
# behind a trusted proxy or for local trials.
HTTPS = env_bool("LAGEBILD_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if HTTPS and not DEBUG:
    SECURE_HSTS_SECONDS = int(os.environ.get("LAGEBILD_HSTS_SECONDS", "31536000"))

# --- Security headers (issue 13) ---------------------------------------------------------
# Content-Security-Policy (django-csp) and Permissions-Policy (django-permissions-policy)
# from lagebild.core.security_headers; Django's SecurityMiddleware adds HSTS (above),
# Referrer-Policy, nosniff and Cross-Origin-Opener-Policy.
from lagebild.core.security_headers import (  # noqa: E402
    PERMISSIONS_POLICY,  # noqa: F401  (a setting: django-permissions-policy reads it from here)
    content_security_policy,
)

CONTENT_SECURITY_POLICY = content_security_policy(TILE_URL)
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("LAGEBILD_HSTS_SUBDOMAINS", False)
# Redirect plain HTTP to HTTPS in the application (usually the proxy does it).
SECURE_SSL_REDIRECT = env_bool("LAGEBILD_SSL_REDIRECT", False)
# X-Forwarded-Proto is trusted only when a reverse proxy is declared that sets it (and strips
# what the client sent): LAGEBILD_TRUSTED_PROXY=1, or the proxies' addresses (comma-separated;
# they also let login throttling read X-Forwarded-For, see LAGEBILD_TRUSTED_PROXIES below).
LAGEBILD_TRUSTED_PROXY = os.environ.get("LAGEBILD_TRUSTED_PROXY", "").strip()
if LAGEBILD_TRUSTED_PROXY.lower() in {"0", "false", "no", "nein", "off"}:
    LAGEBILD_TRUSTED_PROXY = ""
if LAGEBILD_TRUSTED_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# --- end security headers ----------------------------------------------------------------

# --- Access hardening (issue 13, lagebild.accounts; docs/access.md) --------------------------
# Two-factor login (TOTP, recovery codes) for every account. Switching it off is for demo and
# development only: with DEBUG off the setting is refused, not silently ignored.
LAGEBILD_TWO_FACTOR_REQUIRED = env_bool("LAGEBILD_TWO_FACTOR_REQUIRED", True)
if not LAGEBILD_TWO_FACTOR_REQUIRED and not DEBUG:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "LAGEBILD_TWO_FACTOR_REQUIRED=0 ist nur mit LAGEBILD_DEBUG=1 (Demo, Entwicklung) erlaubt."
    )
OTP_TOTP_ISSUER = f"Lagebild {CITY_NAME}"
# Sessions end 12 hours after the login (a shift plus margin) and after 30 idle minutes.
LAGEBILD_SESSION_MAX_MINUTES = int(os.environ.get("LAGEBILD_SESSION_MAX_MINUTES", str(12 * 60)))
LAGEBILD_SESSION_IDLE_MINUTES = int(os.environ.get("LAGEBILD_SESSION_IDLE_MINUTES", "30"))
SESSION_COOKIE_AGE = LAGEBILD_SESSION_MAX_MINUTES * 60
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # htmx takes the token from the page, no script reads the cookie
# Login lockout (django-axes): after 5 wrong passwords for one username from one address,
# that pair is locked for 15 minutes, whatever password comes next.
AXES_FAILURE_LIMIT = int(os.environ.get("LAGEBILD_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("LAGEBILD_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "lagebild.accounts.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "lagebild.accounts.client_ip.client_ip"
AXES_DISABLE_ACCESS_LOG = True  # successful logins go to the audit log; no second record of them
AXES_VERBOSE = False
# The addresses login lockout and API throttling count by: behind LAGEBILD_TRUSTED_PROXY the
# client's address from X-Forwarded-For, else the peer's. A bare "1" means the peer is the
# proxy; addresses or networks (comma-separated) name the proxies.
LAGEBILD_TRUSTED_PROXIES = _trusted_proxies(LAGEBILD_TRUSTED_PROXY)
# API tokens: valid 90 days unless the creator chooses fewer; never more than a year.
LAGEBILD_API_TOKEN_DAYS = int(os.environ.get("LAGEBILD_API_TOKEN_DAYS", "90"))
LAGEBILD_API_TOKEN_MAX_DAYS = int(os.environ.get("LAGEBILD_API_TOKEN_MAX_DAYS", "365"))
# --- end access hardening ---------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "lagebild.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Per user and, without a login, per client address (lagebild.accounts.throttling): 429 with
    # Retry-After. LAGEBILD_API_RATE_USER / LAGEBILD_API_RATE_ANON, e.g. "600/min"; "0" switches off.
    "DEFAULT_THROTTLE_CLASSES": [
        "lagebild.accounts.throttling.LagebildUserThrottle",
        "lagebild.accounts.throttling.LagebildAnonThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": _api_rate("LAGEBILD_API_RATE_USER", "600/min"),
        "anon": _api_rate("LAGEBILD_API_RATE_ANON", "60/min"),
    },
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "lagebild.api.pagination.StandardPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Adds the error answers every operation can give (401, 403, 404, bad pages); see api/schema.py.
    "DEFAULT_SCHEMA_CLASS": "lagebild.api.schema.LagebildAutoSchema",
    "EXCEPTION_HANDLER": "lagebild.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Lagebild API",
    "DESCRIPTION": "Feststellungen, Maßnahmen, Streifen, Schichten, Gebiete und Sachverhalte "
    "der Ordnungspartnerschaft. Authentifizierung: `Authorization: Token <key>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Offline: no schema upload to validator.swagger.io from the docs page.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {
        "ShiftKindEnum": "lagebild.field.models.Shift.Kind",
        "AreaKindEnum": "lagebild.geo.models.Area.Kind",
    },
}


# Mail (status links for citizens). Without LAGEBILD_EMAIL_HOST, development prints mails
# to the console; production configures its relay.
EMAIL_HOST = os.environ.get("LAGEBILD_EMAIL_HOST", "").strip()
EMAIL_PORT = int(os.environ.get("LAGEBILD_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("LAGEBILD_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("LAGEBILD_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("LAGEBILD_EMAIL_TLS", False)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("LAGEBILD_FROM_EMAIL", f"Lagebild {CITY_NAME} <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background tasks (docs/operations.md). Without a broker, tasks run in the calling process.
LAGEBILD_BROKER_URL = os.environ.get("LAGEBILD_BROKER_URL", "").strip()
CELERY_BROKER_URL = LAGEBILD_BROKER_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not LAGEBILD_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# A task is acknowledged when done, and handed back if its worker dies (kill -9): it runs again,
# so every task is idempotent (lagebild.core.tasking). One message at a time per process, so a
# dying worker takes no others with it. No result backend: tasks write outcomes to the database.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_MAX_TASKS_PER_CHILD = 500
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis hands an unacknowledged task to another worker only after this many seconds: longer
# than the longest task (tasking.TIME_LIMIT, 30 min), or a slow task would run twice at once.
_BROKER_VISIBILITY_TIMEOUT = int(os.environ.get("LAGEBILD_BROKER_VISIBILITY_TIMEOUT", "3600"))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _BROKER_VISIBILITY_TIMEOUT,
    # Workers look for such abandoned tasks every few seconds. kombu 5.7 otherwise scans only
    # on every tenth sweep of ten seconds (about 100 s), so a task handed back after a short
    # visibility timeout waited far longer than the timeout says.
    "unacked_restore_interval": max(1, min(10, _BROKER_VISIBILITY_TIMEOUT // 4)),
    "unacked_restore_throttle": 1,
}
# Balance reports (PDF/XLSX) of longer periods are made by a worker when there is a broker.
LAGEBILD_REPORT_BACKGROUND_DAYS = int(os.environ.get("LAGEBILD_REPORT_BACKGROUND_DAYS", "92"))

# --- Health, metrics, logs (lagebild.ops; docs/operations.md "Health and metrics") ---------
from lagebild.ops.logging import log_format, logging_config  # noqa: E402

# Logs to standard error; LAGEBILD_LOG_FORMAT=json for JSON lines with the request id.
LAGEBILD_LOG_FORMAT = log_format(os.environ.get("LAGEBILD_LOG_FORMAT", "text"))
# One line per request (method, path without query string, status, duration, user id, request
# id); on by default with JSON logs (gunicorn's own LAGEBILD_ACCESS_LOG is then not needed).
LAGEBILD_REQUEST_LOG = env_bool("LAGEBILD_REQUEST_LOG", LAGEBILD_LOG_FORMAT == "json")
LOGGING = logging_config(
    log_format=LAGEBILD_LOG_FORMAT,
    level=os.environ.get("LAGEBILD_LOG_LEVEL", "WARNING").strip().upper() or "WARNING",
    access_log=LAGEBILD_REQUEST_LOG,
)
# /metrics answers only with this bearer token and/or to these addresses (comma-separated
# addresses or networks); with neither it answers 404.
LAGEBILD_METRICS_TOKEN = os.environ.get("LAGEBILD_METRICS_TOKEN", "").strip()
LAGEBILD_METRICS_ALLOWED_IPS = env_list("LAGEBILD_METRICS_ALLOWED_IPS", [])
for _network in LAGEBILD_METRICS_ALLOWED_IPS:
    ipaddress.ip_network(_network, strict=False)  # a typo stops the start, not the first scrape
# /readyz fails when a deferred count run waits longer than this (seconds) or the broker does
# not answer within the timeout (seconds).
LAGEBILD_READY_MAX_PENDING_AGE = int(os.environ.get("LAGEBILD_READY_MAX_PENDING_AGE", "900"))
LAGEBILD_READY_BROKER_TIMEOUT = float(os.environ.get("LAGEBILD_READY_BROKER_TIMEOUT", "2"))
# A load balancer probing over plain HTTP gets its answer, not a redirect to HTTPS. /metrics
# too: a redirect would not protect the token, which the first request has already sent.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# --- end health, metrics, logs ------------------------------------------------------------
