import time

from django.core.management.base import BaseCommand

from lagebild.analytics import aggregates


class Command(BaseCommand):
    help = "Berechnet die vorverdichteten Tages-, Wochen- und Stundenzahlen neu aus den Datensätzen."

    def handle(self, *args: object, **options: object) -> None:
        started = time.perf_counter()
        counts = aggregates.rebuild()
        self.stdout.write(
            f"Verdichtete Zahlen neu berechnet: {counts['daily']} Tageszeilen, "
            f"{counts['weekly']} Wochenzeilen, {counts['monthly']} Monatszeilen, "
            f"{counts['hourly']} Stundenzeilen in {time.perf_counter() - started:.1f} s."
        )
