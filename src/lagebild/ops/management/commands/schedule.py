"""``lagebild schedule install|list|run|set|enable|disable``: the scheduled jobs (docs/operations.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from lagebild.ops import jobs, schedules
from lagebild.ops.models import JobRun


class Command(BaseCommand):
    help = (
        "Geplante Aufgaben: Zeitplan in der Datenbank anlegen (install, läuft auch nach jedem "
        "migrate), anzeigen mit letztem Lauf (list), eine Aufgabe sofort ausführen (run), Zeit "
        "ändern (set) oder ab- und einschalten (disable, enable). Ausgeführt werden sie von "
        "`celery -A lagebild beat` und den Workern."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, title="Befehle")
        install = sub.add_parser("install", help="Standard-Zeitplan anlegen oder aktualisieren")
        install.add_argument(
            "--reset", action="store_true", help="Geänderte Zeiten zurücksetzen und alle Aufgaben einschalten"
        )
        sub.add_parser("list", help="Aufgaben mit Zeitplan und letztem Lauf anzeigen")
        run = sub.add_parser("run", help="Eine Aufgabe jetzt ausführen (im Vordergrund, mit Protokoll)")
        run.add_argument("job", choices=list(jobs.JOBS), metavar="AUFGABE")
        set_time = sub.add_parser(
            "set", help="Zeitplan einer Aufgabe ändern, z. B. set retention '30 2 * * *'"
        )
        set_time.add_argument("job", choices=list(jobs.JOBS), metavar="AUFGABE")
        set_time.add_argument("crontab", metavar="ZEITPLAN", help="Minute Stunde Tag Monat Wochentag")
        for name, text in (("enable", "Aufgabe einschalten"), ("disable", "Aufgabe ausschalten")):
            switch = sub.add_parser(name, help=text)
            switch.add_argument("job", choices=list(jobs.JOBS), metavar="AUFGABE")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "install":
                self.stdout.write(schedules.install(reset=options["reset"]).summary_de())
            elif action == "list":
                self._list()
            elif action == "run":
                self._run(options["job"])
            elif action == "set":
                entry = schedules.set_time(options["job"], options["crontab"])
                self.stdout.write(f"{entry.name}: {schedules.describe(entry)}")
            else:
                entry = schedules.set_enabled(options["job"], action == "enable")
                self.stdout.write(f"{entry.name}: {'eingeschaltet' if entry.enabled else 'ausgeschaltet'}")
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

    def _list(self) -> None:
        installed = {e.name: e for e in schedules.entries()}
        latest = jobs.last_runs()
        for name, job in jobs.JOBS.items():
            entry = installed.get(name)
            when = schedules.describe(entry) if entry else "nicht im Zeitplan (lagebild schedule install)"
            state = "" if entry is None or entry.enabled else " [ausgeschaltet]"
            self.stdout.write(f"{name:20} {job.label}{state}\n{'':20} Zeitplan: {when}")
            run = latest.get(name)
            if run is None:
                self.stdout.write(f"{'':20} Letzter Lauf: noch keiner")
            else:
                self.stdout.write(
                    f"{'':20} Letzter Lauf: {timezone.localtime(run.started_at):%d.%m.%Y %H:%M:%S}, "
                    f"{run.duration.total_seconds():.1f} s, {run.get_outcome_display()}: {run.summary}"
                )

    def _run(self, name: str) -> None:
        try:
            run = jobs.run_named(name)
        except Exception as exc:
            raise CommandError(f"{jobs.label(name)} fehlgeschlagen: {exc.__class__.__name__}: {exc}") from exc
        self.stdout.write(
            f"{run.get_outcome_display()} ({run.duration.total_seconds():.1f} s): {run.summary}"
        )
        if run.outcome in (JobRun.Outcome.DIFFERENCES, JobRun.Outcome.FAILED):
            raise CommandError(run.summary, returncode=1)
