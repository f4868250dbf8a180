"""The scheduled jobs: what each one does, when it runs by default, and the record of its runs.

Every job is a plain function returning a :class:`JobResult`; :func:`run_job` runs it and writes
a :class:`~lagebild.ops.models.JobRun` (start, duration, outcome, German summary, details,
error, host, task and request id), which the admin lists per job. The Celery tasks in
``ops.tasks`` call :func:`run_job`; ``lagebild schedule run JOB`` does the same by hand.

Each job calls the service its management command calls and is idempotent: a second run finds
nothing left to do (or, for the consistency check, reports the same).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from lagebild.core import requestid

from .models import JobRun

logger = logging.getLogger("lagebild.ops.jobs")

ENV_HISTORY_DAYS = "LAGEBILD_JOB_HISTORY_DAYS"
# Crontab day-of-week numbers (0 and 7 = Sunday) as the German plural adverb.
WEEKDAYS_DE = {"0": "sonntags", "1": "montags", "2": "dienstags", "3": "mittwochs", "4": "donnerstags",
               "5": "freitags", "6": "samstags", "7": "sonntags"}  # fmt: skip
DEFAULT_HISTORY_DAYS = 90


@dataclass
class JobResult:
    """What a job did: a short German sentence, details for the admin, and its outcome."""

    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    outcome: str = JobRun.Outcome.OK


@dataclass(frozen=True)
class Job:
    name: str  # also the Celery task's short name: lagebild.ops.<name>
    label: str
    description: str
    by_hand: str  # the management command doing the same
    # Default schedule (Europe/Berlin), crontab fields.
    minute: str
    hour: str = "*"
    day_of_week: str = "*"

    @property
    def task(self) -> str:
        return f"lagebild.ops.{self.name}"

    @property
    def when_de(self) -> str:
        if self.hour == "*":
            return (
                f"alle {self.minute.removeprefix('*/')} Minuten"
                if self.minute.startswith("*/")
                else "stündlich"
            )
        times = ", ".join(f"{int(h):02d}:{int(self.minute):02d}" for h in self.hour.split(","))
        if self.day_of_week == "*":
            return f"täglich {times} Uhr"
        days = ", ".join(WEEKDAYS_DE.get(day, day) for day in self.day_of_week.split(","))
        return f"{days} {times} Uhr"


def history_days() -> int:
    raw = os.environ.get(ENV_HISTORY_DAYS, "").strip()
    try:
        return max(int(raw), 1) if raw else DEFAULT_HISTORY_DAYS
    except ValueError:
        logger.warning("%s=%r is not a number; keeping %s days", ENV_HISTORY_DAYS, raw, DEFAULT_HISTORY_DAYS)
        return DEFAULT_HISTORY_DAYS


def _task_request(task: Any) -> tuple[str, str, int]:
    """(task id, host, attempt) of the Celery task running the job, if any."""
    request = getattr(task, "request", None)
    task_id = str(getattr(request, "id", "") or "")
    host = str(getattr(request, "hostname", "") or "") or socket.gethostname()
    attempt = int(getattr(request, "retries", 0) or 0) + 1
    return task_id, host, attempt


def run_job(name: str, func: Callable[[], JobResult | str], *, task: Any = None) -> JobRun:
    """Run ``func`` as job ``name`` and record the run; an exception is recorded and re-raised
    (so the task's retry policy applies), differences are recorded and logged at ERROR."""
    task_id, host, attempt = _task_request(task)
    started_at = timezone.now()
    started = time.perf_counter()
    error = ""
    try:
        result = func()
        if isinstance(result, str):
            result = JobResult(result)
    except Exception as exc:
        error = traceback.format_exc()[-4000:]
        result = JobResult(f"{exc.__class__.__name__}: {exc}"[:500], outcome=JobRun.Outcome.FAILED)
        failure: Exception | None = exc
    else:
        failure = None
    duration = dt.timedelta(seconds=time.perf_counter() - started)
    run = JobRun.objects.create(
        job=name,
        started_at=started_at,
        finished_at=started_at + duration,
        duration=duration,
        outcome=result.outcome,
        summary=result.summary[:500],
        details=result.details,
        error=error,
        host=host[:120],
        task_id=task_id[:64],
        request_id=requestid.current()[:64],
        attempt=attempt,
    )
    JobRun.objects.filter(job=name, started_at__lt=started_at - dt.timedelta(days=history_days())).delete()
    if failure is not None:
        logger.error("Job %s failed (attempt %s): %s", name, attempt, result.summary, exc_info=failure)
        raise failure
    level = logging.ERROR if result.outcome == JobRun.Outcome.DIFFERENCES else logging.INFO
    logger.log(
        level, "Job %s: %s (%.1f s) %s", name, result.outcome, duration.total_seconds(), result.summary
    )
    return run


# --- the jobs -------------------------------------------------------------------------------


def retention() -> JobResult:
    """Delete or anonymise what is due (``lagebild retention run``; reporter contact data too,
    which ``lagebild anonymise-reports`` is an alias for)."""
    from lagebild.privacy import engine

    report = engine.run()
    counts = {key: dict(actions) for key, actions in report.counts.items() if actions}
    per_authority = {
        str(authority_id if authority_id is not None else "ohne"): dict(c)
        for authority_id, c in report.per_authority.items()
    }
    parts = ", ".join(f"{key} {sum(actions.values())}" for key, actions in counts.items())
    summary = f"Löschlauf {report.run_id}: {report.total} Datensätze bearbeitet" + (
        f" ({parts})." if parts else "."
    )
    if report.skipped:
        summary += f" Übersprungen: {', '.join(report.skipped)}."
    return JobResult(
        summary,
        {"lauf": report.run_id, "fortgesetzt": report.resumed, "je_typ": counts, "je_behoerde": per_authority,
         "uebersprungen": report.skipped},
    )  # fmt: skip


def citizen_overdue() -> JobResult:
    from .reminders import remind_overdue

    result = remind_overdue()
    return JobResult(result.summary_de(), result.details())


def notify() -> JobResult:
    """The Sonderstab's notifications (``lagebild notify``)."""
    from lagebild.taskforce import notifications

    result = notifications.run()
    return JobResult(
        result.summary_de(),
        {"neu": dict(result.created), "personen": len(result.people), "emails": result.emails_sent,
         "emails_fehlgeschlagen": result.emails_failed},
    )  # fmt: skip


def evaluate_operations() -> JobResult:
    """Operation evaluations once they are due (``lagebild evaluate-operations``)."""
    from lagebild.taskforce import operations

    tally: dict[str, int] = {}
    failed: dict[str, str] = {}
    checked = 0
    for operation in operations.candidates():
        checked += 1
        try:
            outcome = operations.evaluate_operation(operation)
        except Exception as exc:  # one broken operation must not stop the others
            logger.exception("Evaluation of operation %s failed", operation.code)
            failed[operation.code] = f"{exc.__class__.__name__}: {exc}"[:300]
            continue
        tally[outcome.action] = tally.get(outcome.action, 0) + 1
    written = sum(tally.get(action, 0) for action in operations.WRITTEN)
    summary = (
        f"{checked} Schwerpunkteinsätze geprüft: {tally.get(operations.EVALUATED, 0)} ausgewertet, "
        f"{tally.get(operations.COMPLETED, 0)} vervollständigt, {tally.get(operations.REEVALUATED, 0)} neu "
        f"ausgewertet, {checked - written - len(failed)} unverändert."
    )
    if failed:
        summary += f" {len(failed)} nicht auswertbar: {', '.join(failed)}."
        return JobResult(summary, {"je_ergebnis": tally, "fehler": failed}, JobRun.Outcome.FAILED)
    return JobResult(summary, {"je_ergebnis": tally})


def audit_anchor() -> JobResult:
    """Anchor the audit chain's head (``lagebild audit anchor``), once per new head."""
    from lagebild.core.audit_verify import anchor, anchor_file, read_anchors
    from lagebild.core.models import AuditChainHead

    path = anchor_file()
    head = AuditChainHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
    anchors = read_anchors(path)
    if anchors and anchors[-1].get("seq") == head:
        return JobResult(
            f"Kettenkopf {head} ist schon verankert; nichts angehängt.",
            {"laufnummer": head, "datei": str(path)},
            JobRun.Outcome.SKIPPED,
        )
    item = anchor(path)
    return JobResult(f"Verankert: Laufnummer {item['seq']} in {path}.", {**item, "datei": str(path)})


def recordings_purge() -> JobResult:
    """Delete bodycam recordings whose deletion date has come (``lagebild recordings purge``)."""
    from lagebild.bodycam.retention import purge_due

    count = purge_due(timezone.now(), dry_run=False)
    return JobResult(f"{count} fällige Aufnahmen gelöscht.", {"geloescht": count})


def count_consistency(day: dt.date | None = None) -> JobResult:
    """Compare yesterday's counts with a recount from the records; differences are reported."""
    from .consistency import check_day

    report = check_day(day or timezone.localdate() - dt.timedelta(days=1))
    outcome = JobRun.Outcome.OK if report.ok else JobRun.Outcome.DIFFERENCES
    return JobResult(report.summary_de(), report.details(), outcome)


# No job between 02:00 and 03:00: that local hour is skipped on the spring night and comes twice
# on the autumn night (the nightly jobs are idempotent anyway, but need not run twice).
def idempotency_purge() -> JobResult:
    """Delete idempotency keys (with their stored answers, which can hold personal data) after
    their 24 hours."""
    from lagebild.core.idempotency import purge_expired

    deleted = purge_expired()
    return JobResult(f"{deleted} abgelaufene Idempotenz-Schlüssel gelöscht.", {"geloescht": deleted})


def opendata_warm() -> JobResult:
    """Compute the protection of every published open-data month into the shared cache, so that
    no visitor waits for it (one month of a city takes 0.3 to 10 s; a file is computed once per
    changed table, and each process with its own cache would compute it again)."""
    from django.conf import settings

    from lagebild.analytics import opendata

    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith("LocMemCache"):
        return JobResult(
            "Übersprungen: jeder Prozess hat seinen eigenen Cache (LAGEBILD_CACHE_URL leer); "
            "vorberechnete Tabellen kämen bei den Web-Prozessen nicht an.",
            {"cache": backend},
            JobRun.Outcome.SKIPPED,
        )
    started = time.perf_counter()
    tables = {}
    for dataset in opendata.DATASETS.values():
        months = opendata.published_months(dataset)
        for year, month in months:
            opendata.monthly_table(year, month, dataset)
        tables[dataset.slug] = len(months)
    seconds = round(time.perf_counter() - started, 1)
    total = sum(tables.values())
    return JobResult(
        f"{total} Monatstabellen der offenen Daten berechnet ({seconds} s).",
        {"tabellen": tables, "sekunden": seconds},
    )


def proceedings_daily() -> JobResult:
    """The daily run of the offence proceedings (``lagebild proceedings-daily``): finality after the
    objection period, lapse after the limitation, cautions not paid within the week, each recorded
    explicitly and dated."""
    from lagebild.core.scoping import unscoped
    from lagebild.proceedings import services

    day = timezone.localdate()
    with unscoped():
        result = services.daily_run(today=day)
    return JobResult(
        f"Bußgeldverfahren zum {day:%d.%m.%Y}: {result.became_final} rechtskräftig, "
        f"{result.lapsed} verjährt, {result.cautions_unpaid} Verwarnungsgelder nicht fristgerecht bezahlt.",
        {"rechtskraeftig": result.became_final, "verjaehrt": result.lapsed,
         "verwarnungen_unbezahlt": result.cautions_unpaid},
    )  # fmt: skip


def forecast_weekly() -> JobResult:
    """The week's forecasts (``lagebild forecast-week``): a backtest per category group with data,
    then the forecast of the week and of its shifts with the model the backtest chose."""
    from lagebild.forecast import jobs as forecast_jobs

    result = forecast_jobs.weekly()
    details = {"woche": result.week_start.isoformat(), "modelle": result.weeks, "schichten": result.shifts,
               "backtests": result.backtests, "fehler": result.failed, "geloescht": result.deleted,
               "sekunden": round(result.seconds, 1)}  # fmt: skip
    if result.failed:
        return JobResult(result.summary_de(), details, JobRun.Outcome.FAILED)
    if not result.weeks:
        return JobResult(result.summary_de(), details, JobRun.Outcome.SKIPPED)
    return JobResult(result.summary_de(), details)


def deployment_deviations() -> JobResult:
    """Keeps the deviations of every applied deployment plan whose last shift is over (plan against
    the patrols done), so each week is recorded even when nobody pressed the button."""
    from lagebild.core.scoping import unscoped
    from lagebild.deployment import services

    with unscoped():
        kept = services.deviations_record_ended_weeks()
    details = {"plaene": len(kept), "abweichungen": sum(kept.values())}
    if not kept:
        return JobResult("Keine abgelaufene Planwoche ohne festgehaltene Abweichungen.", details,
                         JobRun.Outcome.SKIPPED)  # fmt: skip
    return JobResult(
        f"Abweichungen von {len(kept)} Einsatzplänen festgehalten ({sum(kept.values())} Abweichungen).",
        details,
    )


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job("retention", "Aufbewahrung und Anonymisierung",
            "Löscht oder anonymisiert, was nach den Fristen fällig ist (auch Kontaktdaten in Hinweisen).",
            "lagebild retention run", minute="30", hour="1"),
        Job("recordings_purge", "Bodycam-Aufnahmen löschen",
            "Löscht Aufnahmen, deren Löschdatum erreicht ist (Nachweis mit Prüfsumme bleibt).",
            "lagebild recordings purge", minute="45", hour="1"),
        Job("opendata_warm", "Offene Daten vorberechnen",
            "Berechnet den Schutz kleiner Zahlen für jeden veröffentlichten Monat im gemeinsamen "
            "Cache vor (nur mit LAGEBILD_CACHE_URL), damit kein Abruf darauf wartet.",
            "lagebild schedule run opendata_warm", minute="20", hour="3"),
        Job("audit_anchor", "Protokollkette verankern",
            "Hängt den Kopf der Hash-Kette an die Ankerdatei an (nur wenn er sich geändert hat).",
            "lagebild audit anchor", minute="30", hour="3"),
        Job("idempotency_purge", "Idempotenz-Schlüssel löschen",
            "Löscht gespeicherte Antworten wiederholbarer Anfragen nach ihren 24 Stunden.",
            "lagebild schedule run idempotency_purge", minute="40", hour="3"),
        Job("count_consistency", "Zähltabellen prüfen",
            "Zählt den Vortag aus den Datensätzen nach und vergleicht mit den Zähltabellen; "
            "Abweichungen werden gemeldet, nicht korrigiert.",
            "lagebild schedule run count_consistency", minute="15", hour="3"),
        Job("evaluate_operations", "Schwerpunkteinsätze auswerten",
            "Wertet beendete Einsätze am Montag danach aus und vervollständigt die Auswertung später.",
            "lagebild evaluate-operations", minute="0", hour="6"),
        Job("citizen_overdue", "Überfällige Hinweise erinnern",
            "Vermerkt Hinweise, deren Bearbeitungsfrist abgelaufen ist, und erinnert die zuständige "
            "Stelle einmal je Frist per E-Mail.",
            "lagebild schedule run citizen_overdue", minute="30", hour="6"),
        Job("proceedings_daily", "Bußgeldverfahren: Rechtskraft und Verjährung",
            "Vermerkt Rechtskraft nach Ablauf der Einspruchsfrist, eingetretene Verjährung und nicht "
            "fristgerecht bezahlte Verwarnungsgelder, ausdrücklich und datiert.",
            "lagebild proceedings-daily", minute="15", hour="0"),
        Job("forecast_weekly", "Prognosen der Woche",
            "Prüft die Prognosemodelle je Sachverhaltsgruppe im Backtest gegen einfache "
            "Vergleichsprognosen und berechnet mit dem gewählten Modell die Risikokarten der Woche "
            "und ihrer Schichten.",
            "lagebild forecast-week", minute="30", hour="4", day_of_week="1"),
        Job("deployment_deviations", "Einsatzpläne: Abweichungen festhalten",
            "Hält für jeden umgesetzten Einsatzplan, dessen letzte Schicht vorbei ist, die Abweichungen der "
            "Streifen vom Plan fest (einmal je Woche; die Schichtleitung kann es vorher selbst tun).",
            "lagebild schedule run deployment_deviations", minute="30", hour="7", day_of_week="1"),
        Job("notify", "Sonderstab benachrichtigen",
            "Benachrichtigt die Mitglieder der Sonderstäbe (Meilensteine, Ziele, Entscheidungen, Aufgaben).",
            "lagebild notify", minute="*/15"),
    )
}  # fmt: skip

JOB_FUNCTIONS: dict[str, Callable[[], JobResult]] = {
    "retention": retention,
    "recordings_purge": recordings_purge,
    "audit_anchor": audit_anchor,
    "count_consistency": count_consistency,
    "evaluate_operations": evaluate_operations,
    "citizen_overdue": citizen_overdue,
    "notify": notify,
    "idempotency_purge": idempotency_purge,
    "opendata_warm": opendata_warm,
    "proceedings_daily": proceedings_daily,
    "forecast_weekly": forecast_weekly,
    "deployment_deviations": deployment_deviations,
}


def run_named(name: str, *, task: Any = None) -> JobRun:
    """Run the job ``name`` now (the tasks and ``lagebild schedule run``); skipped, and
    recorded as such, while another run of it is still going (a slow night, a redelivery)."""
    from lagebild.core import tasking

    func = JOB_FUNCTIONS[name]
    with tasking.exclusive(f"lagebild.ops.job.{name}") as held:
        if not held:
            skipped = JobResult(
                "Läuft bereits; dieser Lauf wurde ausgelassen.", outcome=JobRun.Outcome.SKIPPED
            )
            return run_job(name, lambda: skipped, task=task)
        return run_job(name, func, task=task)


def last_runs() -> dict[str, JobRun]:
    """The latest run of every job that ran."""
    latest: dict[str, JobRun] = {}
    for name in JOBS:
        run = JobRun.objects.filter(job=name).order_by("-started_at", "-id").first()
        if run is not None:
            latest[name] = run
    return latest


def label(name: str) -> str:
    job = JOBS.get(name)
    return job.label if job else name
