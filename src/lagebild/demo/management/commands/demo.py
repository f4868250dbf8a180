import datetime as dt
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from lagebild.core.models import Role
from lagebild.demo.generator import DEFAULT_MONTHS
from lagebild.demo.service import DemoConfig, setup_demo


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Ungültiges Datum {value!r} (erwartet JJJJ-MM-TT).") from exc


class Command(BaseCommand):
    help = (
        "Richtet die Demo-Stadt Dortmund ein (Behörden, Gebiete, Katalog, Demo-Konten, "
        f"{DEFAULT_MONTHS} Monate synthetische Einsatzdaten bis heute) und startet den Entwicklungsserver."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-serve", action="store_true", help="Nur Daten anlegen, keinen Server starten"
        )
        parser.add_argument("--addrport", default="127.0.0.1:8000", help="Adresse des Servers (HOST:PORT)")
        parser.add_argument("--seed", type=int, default=2023, help="Startwert des Zufallsgenerators")
        parser.add_argument(
            "--end-date",
            type=_date,
            default=None,
            help="Stichtag (JJJJ-MM-TT): Daten bis zum Vortag, Schichten des Tages geplant; Standard heute",
        )
        parser.add_argument(
            "--months",
            type=int,
            default=DEFAULT_MONTHS,
            help=f"Zeitraum in Monaten (Standard {DEFAULT_MONTHS}: Vorjahresvergleiche mit echten Zahlen)",
        )
        parser.add_argument("--scale", type=float, default=1.0, help="Umfang der Grundlast (1 = realistisch)")
        parser.add_argument(
            "--no-forecasts",
            action="store_true",
            help="Ohne Backtest und Risikokarten der Woche (spart etwa eine Minute)",
        )

    def handle(self, *args: object, **options: object) -> None:
        months = int(options["months"])  # type: ignore[arg-type]
        scale = float(options["scale"])  # type: ignore[arg-type]
        if months < 1 or months > 60:
            raise CommandError("--months muss zwischen 1 und 60 liegen.")
        if not 0 < scale <= 10:
            raise CommandError("--scale muss größer als 0 und höchstens 10 sein.")
        started = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(f"Datenbank migriert ({time.perf_counter() - started:.1f} s).")
        config = DemoConfig(
            end_date=options["end_date"] or timezone.localdate(),  # type: ignore[arg-type]
            seed=int(options["seed"]),  # type: ignore[arg-type]
            months=months,
            scale=scale,
            forecasts=not options["no_forecasts"],
        )
        report = setup_demo(config, log=self.stdout.write)
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(f"Fertig nach {time.perf_counter() - started:.1f} s.")

        addrport = str(options["addrport"])
        self.stdout.write("")
        self.stdout.write(f"Lagebild-Demo: http://{addrport}/  (Anmeldung: http://{addrport}/anmelden/)")
        self.stdout.write("")
        self.stdout.write(f"{'Benutzer':<12} {'Rolle':<30} {'Behörde':<32} Passwort")
        for login in report.logins:
            role = Role(login.role).label
            self.stdout.write(f"{login.username:<12} {role:<30} {login.authority_name:<32} demo")
        self.stdout.write("")
        if not options["no_serve"]:
            call_command("runserver", addrport, use_reloader=False)
