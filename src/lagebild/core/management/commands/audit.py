"""``lagebild audit verify|anchor``: check the audit log's hash chain and anchor its head."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from lagebild.core.audit_verify import anchor, anchor_file, verify

DAILY = """Tägliche Aufgaben (Zeitplaner, z. B. 02:30):
  lagebild audit anchor   hängt den Kettenkopf (Laufnummer, Hash, Zeit) an die Ankerdatei
                          (LAGEBILD_AUDIT_ANCHOR_FILE, Standard var/audit-anchors.jsonl) an;
                          die Datei außerhalb der Datenbank sichern oder in den Tagesbericht
                          übernehmen, damit auch ein vollständig neu geschriebenes Protokoll
                          auffällt.
  lagebild audit verify   prüft die ganze Kette und alle Anker; Rückgabewert 1 bei einem Fehler."""


class Command(BaseCommand):
    help = (
        "Prüft das Protokoll (Hash-Kette: geänderte, entfernte, vertauschte und eingefügte Einträge, "
        "Anker) oder verankert den aktuellen Kettenkopf in der Ankerdatei."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> argparse.ArgumentParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.epilog = DAILY
        return parser

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("action", choices=["verify", "anchor"], help="verify: prüfen; anchor: verankern")
        parser.add_argument(
            "--anchor-file",
            type=Path,
            default=None,
            help="Ankerdatei (Standard: LAGEBILD_AUDIT_ANCHOR_FILE bzw. var/audit-anchors.jsonl)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["anchor_file"] or anchor_file()
        if options["action"] == "anchor":
            item = anchor(path)
            self.stdout.write(f"Verankert: Laufnummer {item['seq']}, Hash {item['hash']} → {path}")
            return
        started = time.perf_counter()
        result = verify(
            anchors_path=path,
            progress=lambda n: self.stderr.write(f"… {n:,} Einträge geprüft".replace(",", ".")),
        )
        seconds = time.perf_counter() - started
        if result.ok:
            self.stdout.write(
                f"Protokoll in Ordnung: {result.entries} Einträge, letzte Laufnummer {result.last_seq}, "
                f"{result.anchors} Anker geprüft ({seconds:.1f} s)."
            )
            return
        for problem in result.problems:
            self.stdout.write(f"FEHLER {problem.kind}: {problem}")
        more = result.problem_count - len(result.problems)
        if more > 0:
            self.stdout.write(f"… und {more} weitere Fehler.")
        raise CommandError(
            f"Protokoll verändert: {result.problem_count} Fehler in {result.entries} Einträgen.", returncode=1
        )
