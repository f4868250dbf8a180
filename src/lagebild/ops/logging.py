"""Log configuration: human-readable lines by default, JSON lines with ``LAGEBILD_LOG_FORMAT=json``.

Every line carries the id of the request or task it belongs to (``lagebild.core.requestid``),
so one request can be followed from the proxy's access log through the application to the
tasks it started. settings.py builds ``LOGGING`` with :func:`logging_config`; this module is
imported by the settings and must therefore not import Django models.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from lagebild.core import requestid

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# Fields of every JSON line (in this order); request lines add method, path, view, status,
# duration_ms and user_id, passed as ``extra``.
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"
JSON_RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}
# What Django passes along with its log records and a JSON line would print as text: the
# request's repr carries the query string (search terms, names), never logged.
NEVER_LOGGED = ("request", "response")
# The logger of the one line per request (lagebild.ops.middleware.RequestMetricsMiddleware).
REQUEST_LOGGER = "lagebild.request"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record: the id of the request or task being served.

    A filter on the handler (not on a logger), so records of every logger that reach the
    handler get it, Django's and Celery's included.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if not getattr(record, "request_id", ""):
            # Django logs a request's 4xx/5xx summary after the middleware has returned: the
            # request it passes along still knows its id.
            record.request_id = requestid.current() or getattr(request, "request_id", "") or "-"
        if request is not None and isinstance(record.args, tuple):
            # "Not Found: /melden/status/<the citizen's secret>/": the path as the access log has it.
            from .middleware import loggable_path

            path = getattr(request, "path", None)
            record.args = tuple(loggable_path(request) if arg == path else arg for arg in record.args)
        return True


class LagebildJsonFormatter(JsonFormatter):
    """One JSON object per line with time (ISO 8601, UTC), level, logger, message, request_id."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", JSON_RENAMED)
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, *NEVER_LOGGED])
        super().__init__(JSON_FIELDS, *args, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = dt.datetime.fromtimestamp(record.created, tz=dt.UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def log_format(value: str) -> str:
    """``LAGEBILD_LOG_FORMAT`` checked: a typo stops the start instead of logging unreadably."""
    text = (value or "text").strip().lower()
    if text not in FORMATS:
        raise ValueError(f"LAGEBILD_LOG_FORMAT={value!r}: erlaubt sind {', '.join(FORMATS)}")
    return text


def logging_config(*, log_format: str, level: str, access_log: bool) -> dict[str, Any]:
    """The ``LOGGING`` dictionary: everything to standard error (twelve-factor), one format.

    ``access_log`` logs one line per request (method, path without query string, view, status,
    duration, user id) at INFO on ``lagebild.request``, whatever the root level.
    """
    formatter: dict[str, Any] = (
        {"()": LagebildJsonFormatter}
        if log_format == "json"
        else {"format": TEXT_FORMAT, "datefmt": "%Y-%m-%dT%H:%M:%S%z"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"lagebild": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "lagebild",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own console handler (DEBUG only) would print every django.* line a second
            # time, and not as JSON: its records go to the root handler only.
            "django": {"level": "INFO", "handlers": [], "propagate": True},
            REQUEST_LOGGER: {"level": "INFO" if access_log else "WARNING"},
            # runserver's own access lines would duplicate ours (and carry the query string).
            **({"django.server": {"level": "WARNING", "propagate": True}} if access_log else {}),
        },
    }


def use_for_celery() -> None:
    """Celery's worker and beat log through ``settings.LOGGING`` too (JSON lines, request ids)
    instead of installing their own handlers: a receiver of ``setup_logging`` replaces Celery's
    logging setup (``-l/--loglevel`` is then ignored; ``LAGEBILD_LOG_LEVEL`` counts)."""
    from celery.signals import setup_logging

    setup_logging.connect(_configure_from_settings, dispatch_uid="lagebild.ops.logging", weak=False)


def _configure_from_settings(**kwargs: Any) -> None:
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
