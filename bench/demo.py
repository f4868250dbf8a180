"""Benchmark: the demo city with its default 24 months of synthetic records (``lagebild demo``).

Measures ``setup_demo`` on a freshly migrated database (authorities, areas, catalogue,
accounts and the synthetic records) and checks the calibration to the published
figures. Target: ``lagebild demo`` (migration included) under 60 seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt

from .common import db_vendor, emit, log, migrate, setup

TARGET_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--months", type=int, default=None, help="default: that of lagebild demo")
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--end-date", type=dt.date.fromisoformat, default=None)
    args = parser.parse_args()
    setup()

    from django.utils import timezone

    from lagebild.core.models import Authority
    from lagebild.demo import calibration as cal
    from lagebild.demo.generator import DEFAULT_MONTHS
    from lagebild.demo.service import DemoConfig, setup_demo
    from lagebild.geo.models import Area

    months = args.months or DEFAULT_MONTHS
    migrate_seconds = migrate()
    config = DemoConfig(end_date=args.end_date or timezone.localdate(), seed=args.seed, months=months)
    report = setup_demo(config, log=log)
    for line in report.lines():
        log(line)
    data = report.data
    checks: dict[str, object] = {}
    if data.operation:
        city = Authority.objects.get(code="stadt")
        wallring = Area.objects.get(code=cal.OPERATION_AREA)
        op = cal.operation_figures(data.operation, authority_id=city.pk, area_id=wallring.pk)
        checks["operation"] = op
        checks["operation_ok"] = all(cal.within(op[k], v) for k, v in cal.OPERATION_TARGETS.items())
    if data.police_window:
        police = Authority.objects.get(code="polizei")
        figures = cal.police_figures(data.police_window, authority_id=police.pk)
        checks["police"] = figures
        checks["police_ok"] = (
            cal.within(figures["dispersal_order"], 1000)
            and cal.within(figures["offences"], 440)
            and figures["staff_hours"] >= 8900
            and figures["contact"] >= 800
            and figures["weapons"] == 18
            and figures["cash"] == 50000
        )
    if data.november_operation:
        city = Authority.objects.get(code="stadt")
        zone = Area.objects.get(code=cal.NOVEMBER_AREA)
        nov = cal.operation_figures(data.november_operation, authority_id=city.pk, area_id=zone.pk)
        staff = cal.staff_per_day(data.november_operation, authority_id=city.pk)
        checks["november"] = {**nov, "staff_per_day_max": max(staff.values())}
        checks["november_ok"] = max(staff.values()) == 45 and all(
            cal.within(nov[k], v, 0.05) for k, v in cal.november_targets().items()
        )
    emit(
        bench="demo",
        db=db_vendor(),
        months=months,
        first_day=str(data.first_day),
        last_day=str(data.last_day),
        incidents=data.created.get("incidents", 0),
        measures=data.created.get("measures", 0),
        patrols=data.created.get("patrols", 0),
        migrate_seconds=round(migrate_seconds, 1),
        seconds=round(migrate_seconds + report.seconds, 1),
        setup_seconds=round(report.seconds, 1),
        generate_seconds=round(data.seconds, 1),
        target_seconds=TARGET_SECONDS,
        **checks,
        ok=migrate_seconds + report.seconds < TARGET_SECONDS
        and checks.get("operation_ok", True) is True
        and checks.get("police_ok", True) is True
        and checks.get("november_ok", True) is True,
    )


if __name__ == "__main__":
    main()
