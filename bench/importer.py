"""Benchmark: CSV import of incidents with measures (``lagebild.field.importer``).

Generates ``--rows`` valid rows with ``importer.sample_csv`` and imports them as a KOD
shift lead. Target: at least 10,000 rows per second (``csv_import``).

A large import leaves the count tables to the next analytic read (``aggregates.catch_up``);
``csv_import_catch_up`` times that catch-up and reports import + catch-up together, so the
whole cost is visible (no target of its own).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from .common import base_world, db_vendor, emit, log, migrate, setup

TARGET_ROWS_PER_SECOND = 10_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    setup()

    from django.utils import timezone

    from lagebild.catalog.models import CategoryRule
    from lagebild.core.models import User
    from lagebild.field import importer

    migrate()
    base_world()
    # KOD categories (competence city or both); caution fees only where the rule allows one.
    today = timezone.localdate()
    rules = CategoryRule.objects.filter(
        category__active=True, category__competent_authority__in=["city", "both"]
    )
    codes = sorted({rule.category.code for rule in rules.select_related("category")})
    caution = sorted({
        rule.category.code for rule in rules.select_related("category")
        if rule.applies_on(today) and rule.caution_allowed and rule.caution_amount == 35
    })  # fmt: skip
    end = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    started = time.perf_counter()
    text = importer.sample_csv(
        args.rows, seed=args.seed, categories=codes, caution_categories=caution, end=end
    )
    log(f"{args.rows:,} Zeilen erzeugt in {time.perf_counter() - started:.1f} s ({len(text) / 1e6:.1f} MB)")

    user = User.objects.get(username="kod-lead")
    started = time.perf_counter()
    result = importer.import_incidents(user=user, data=text.encode("utf-8"), file_name="bench.csv")
    seconds = time.perf_counter() - started
    if not result.ok:
        log(f"Import fehlgeschlagen: {result.file_error or [str(e) for e in result.errors[:5]]}")
    rows_per_second = result.imported / seconds if seconds else 0.0
    emit(
        bench="csv_import",
        db=db_vendor(),
        rows=args.rows,
        imported=result.imported,
        measures=result.measures,
        seconds=round(seconds, 2),
        rows_per_s=round(rows_per_second),
        target_rows_per_s=TARGET_ROWS_PER_SECOND,
        ok=result.ok and result.imported == args.rows and rows_per_second >= TARGET_ROWS_PER_SECOND,
    )

    from lagebild.analytics import aggregates
    from lagebild.analytics.models import CITY_AREA, DailyCount, PendingCounts

    pending = PendingCounts.objects.count()
    started = time.perf_counter()
    aggregates.catch_up()
    catch_up_seconds = time.perf_counter() - started
    counted = sum(
        DailyCount.objects.filter(area_id=CITY_AREA, fact="incident").values_list("count", flat=True)
    )
    emit(
        bench="csv_import_catch_up",
        db=db_vendor(),
        rows=args.rows,
        pending_runs=pending,
        seconds=round(catch_up_seconds, 2),
        import_and_catch_up_seconds=round(seconds + catch_up_seconds, 2),
        rows_per_s_including_counts=round(result.imported / (seconds + catch_up_seconds)),
        incidents_counted=counted,
        ok=counted == result.imported,
    )


if __name__ == "__main__":
    main()
