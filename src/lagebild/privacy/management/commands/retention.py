"""``lagebild retention run [--dry-run] [--authority CODE] [--type KEY]``: the retention engine."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lagebild.core.models import Authority
from lagebild.privacy import engine
from lagebild.privacy.records import BY_KEY, RECORD_TYPES, Action


class Command(BaseCommand):
    help = (
        "Löscht oder anonymisiert, was nach den Aufbewahrungsfristen fällig ist, und schreibt das "
        "Löschprotokoll (docs/data-protection.md). Für einen täglichen Lauf gedacht; ein abgebrochener "
        "Lauf wird beim nächsten Start fortgesetzt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, title="Befehle")
        run = sub.add_parser("run", help="Fälliges löschen oder anonymisieren")
        run.add_argument("--dry-run", action="store_true", help="Nur zählen, nichts ändern")
        run.add_argument("--authority", metavar="KÜRZEL", help="Nur Datensätze dieser Behörde")
        run.add_argument(
            "--type",
            action="append",
            dest="types",
            metavar="TYP",
            help="Nur diesen Datensatztyp (mehrfach möglich): "
            + ", ".join(rt.key for rt in RECORD_TYPES if rt.action is not Action.KEEP),
        )
        run.add_argument(
            "--batch-size", type=int, default=engine.BATCH_SIZE, help="Datensätze je Transaktion"
        )
        sub.add_parser("policies", help="Geltende Fristen je Datensatztyp anzeigen")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "policies":
            self._policies()
            return
        authority = None
        if options.get("authority"):
            authority = Authority.objects.filter(code=options["authority"]).first()
            if authority is None:
                raise CommandError(f"Unbekannte Behörde {options['authority']!r}.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size muss mindestens 1 sein.")
        try:
            report = engine.run(
                dry_run=options["dry_run"],
                authority_id=authority.pk if authority else None,
                types=options.get("types"),
                batch_size=options["batch_size"],
            )
        except (ValueError, ImproperlyConfigured) as exc:
            raise CommandError(str(exc)) from exc
        self._print(report)

    def _policies(self) -> None:
        for key, retention in engine.due_dates().items():
            rt = BY_KEY[key]
            text = "keine (anonym)" if retention is None else f"{retention.iso} ({retention.describe()})"
            self.stdout.write(f"{key:24} {text}, gezählt ab: {rt.retention_from}; {rt.action.label}")

    def _print(self, report: engine.RunReport) -> None:
        names = dict(Authority.objects.values_list("pk", "name"))
        if report.dry_run:
            self.stdout.write("Probelauf: nichts geändert. Fällig wären:")
        else:
            state = " (fortgesetzt nach Abbruch)" if report.resumed else ""
            self.stdout.write(f"Löschlauf {report.run_id}{state}:")
        for rt in RECORD_TYPES:
            counts = report.counts.get(rt.key)
            if counts:
                done = ", ".join(
                    f"{n} {'gelöscht' if action == 'deleted' else 'anonymisiert'}"
                    for action, n in counts.items()
                )
                self.stdout.write(f"  {rt.name} ({rt.key}): {done}")
        if not report.total:
            self.stdout.write("  nichts fällig")
        if report.per_authority:
            self.stdout.write("Je Behörde:")
            for authority_id, counts in sorted(
                report.per_authority.items(), key=lambda i: (i[0] is None, i[0])
            ):
                name = names.get(authority_id, "ohne Behörde (Sonderstab, System)")
                parts = ", ".join(f"{key} {n}" for key, n in sorted(counts.items()))
                self.stdout.write(f"  {name}: {parts}")
        for key, why in report.skipped.items():
            self.stdout.write(f"Übersprungen: {key} – {why}")
