"""Setting up the demo city in one call (used by ``lagebild demo``, tests and benchmarks)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from lagebild.analytics import aggregates
from lagebild.analytics.services import load_indicators
from lagebild.citizen.models import ApiClient
from lagebild.citizen.services_catalog import load_services
from lagebild.core.models import Authority, User

from . import base, citizen
from . import calibration as cal
from . import proceedings as demo_proceedings
from . import taskforce as demo_taskforce
from .generator import DemoConfig, DemoResult, generate

__all__ = ["DemoConfig", "DemoReport", "setup_demo"]


@dataclass(frozen=True)
class LoginRow:
    username: str
    role: str
    authority_name: str


@dataclass
class DemoReport:
    areas: int = 0
    places: int = 0
    catalogue: int = 0
    users: int = 0
    data: DemoResult = field(default_factory=DemoResult)
    logins: list[LoginRow] = field(default_factory=list)
    balances: list[str] = field(default_factory=list)
    citizen: citizen.CitizenResult = field(default_factory=citizen.CitizenResult)
    taskforce: demo_taskforce.TaskForceResult = field(default_factory=demo_taskforce.TaskForceResult)
    proceedings: demo_proceedings.ProceedingsResult = field(
        default_factory=demo_proceedings.ProceedingsResult
    )
    forecast: str = ""
    seconds: float = 0.0

    def lines(self) -> list[str]:
        lines = [
            f"Stammdaten: {self.areas} Gebiete, {self.places} Orte, {self.catalogue} Katalogeinträge, "
            f"{self.users} Konten neu angelegt (Gebietsgrenzen sind Näherungen, nicht amtlich).",
        ]
        data = self.data
        if data.skipped:
            lines.append(
                "Demodaten sind bereits vorhanden – nichts hinzugefügt "
                "(für einen Neuaufbau eine leere Datenbank verwenden)."
            )
        else:
            counts = data.created
            lines.append(
                f"Demodaten {data.first_day:%d.%m.%Y}–{data.last_day:%d.%m.%Y}: "
                f"{counts.get('shifts', 0)} Schichten, {counts.get('patrols', 0)} Streifen, "
                f"{counts.get('incidents', 0)} Feststellungen, {counts.get('measures', 0)} Maßnahmen, "
                f"{counts.get('persons', 0)} Personen (pseudonym) in {data.seconds:.1f} s."
            )
        lines.extend(self.balances)
        lines.append(self.citizen.line())
        lines.append(self.taskforce.line())
        lines.append(self.proceedings.line())
        if self.forecast:
            lines.append(self.forecast)
        lines.append("Open311-Schnittstelle: /open311/v2/discovery.xml (API-Key für Demo-Clients: demo-key).")
        return lines


def setup_demo(config: DemoConfig, log: Callable[[str], None] = lambda _msg: None) -> DemoReport:
    started = time.perf_counter()
    report = DemoReport()
    with transaction.atomic():
        authorities = base.ensure_authorities()
        report.areas, report.places = base.ensure_geography()
        report.catalogue = base.ensure_catalogue()
        report.users = base.ensure_users(authorities)
        load_services()
        load_indicators()
        ApiClient.objects.get_or_create(api_key="demo-key", defaults={"name": "Demo-Client"})
    report.data = generate(config, log=log)
    report.citizen = citizen.generate_reports(config, log=log)
    log("Verdichtete Zahlen für die Auswertung …")
    aggregates.rebuild()
    if not report.data.skipped:
        report.balances = balances(report.data, authorities)
    report.taskforce = demo_taskforce.generate_task_force(
        config.last_day,
        operation=report.data.operation,
        police_window=report.data.police_window,
        november_operation=report.data.november_operation,
        log=log,
    )
    # Offence proceedings (issue 15): a year of cases from the OWi-Anzeigen, worked up to the last day.
    report.proceedings = demo_proceedings.generate(
        end_date=config.end_date, first_day=demo_proceedings.first_day(config), seed=config.seed, log=log
    )
    # Bodycam evidence register: five small recordings with custody chains (issue 13).
    from lagebild.bodycam import demo as bodycam_demo

    bodycam_demo.generate(log=log)
    # Forecasts (issue 16): backtest of every model against the baselines, then the week's risk maps.
    from lagebild.forecast import jobs as forecast_jobs

    if config.forecasts:
        report.forecast = forecast_jobs.demo(config.first_day, config.end_date, log=log)
    names = {a.pk: a.name for a in Authority.objects.all()}
    users = {
        u.username: u
        for u in User.objects.filter(username__in=[login.username for login in base.DEMO_LOGINS])
    }
    report.logins = [
        LoginRow(login.username, users[login.username].role, names[users[login.username].authority_id])
        for login in base.DEMO_LOGINS
        if login.username in users
    ]
    report.seconds = time.perf_counter() - started
    return report


def balances(result: DemoResult, authorities: dict[str, Authority]) -> list[str]:
    from lagebild.geo.models import Area

    lines = []
    wallring = Area.objects.filter(code=cal.OPERATION_AREA).first()
    if result.operation and wallring:
        op = cal.operation_figures(
            result.operation, authority_id=authorities[base.CITY].pk, area_id=wallring.pk
        )
        lines.append(
            f"Sondereinsatz KOD im Wallring {result.operation.start:%d.%m.}–{result.operation.end:%d.%m.%Y}: "
            f"{op['dispersal_order']} Platzverweise, {op['offence_report']} OWi-Anzeigen "
            f"(davon {op['offence_report_drugs']} Drogenkonsum, "
            f"{op['offence_report_begging']} aggressives Betteln)."
        )
    if result.police_window:
        police = cal.police_figures(result.police_window, authority_id=authorities[base.POLICE].pk)
        cash = f"{police['cash']:,.0f}".replace(",", ".")
        lines.append(
            f"Polizei {result.police_window.start:%d.%m.}–{result.police_window.end:%d.%m.%Y}: "
            f"{police['staff_hours']:.0f} Personalstunden, {police['dispersal_order']} Platzverweise, "
            f"{police['weapons']} Waffen und {cash} € Bargeld sichergestellt, "
            f"{police['offences']} Straftaten und OWi, {police['contact']} Bürgergespräche."
        )
    city = Area.objects.filter(code=cal.NOVEMBER_AREA).first()
    if result.november_operation and city:
        period = result.november_operation
        nov = cal.operation_figures(period, authority_id=authorities[base.CITY].pk, area_id=city.pk)
        staff = cal.staff_per_day(period, authority_id=authorities[base.CITY].pk)
        lines.append(
            f"Sondereinsatz KOD in der City {period.start:%d.%m.}–{period.end:%d.%m.%Y} "
            f"({min(staff.values())}–{max(staff.values())} Kräfte am Tag, angenommene Zahlen): "
            f"{nov['dispersal_order']} Platzverweise, {nov['offence_report']} OWi-Anzeigen "
            f"(davon {nov['offence_report_drugs']} Drogenkonsum, "
            f"{nov['offence_report_begging']} aggressives Betteln)."
        )
    return lines
