"""Backup and restore drill (issue 14, point 5): back up a small demo city, wipe it, restore it,
and find every row of every table, every count-table row and every private file identical.

The drill runs the real commands in subprocesses against a database of its own: a SQLite file
(online backup API) or, when the suite runs on PostgreSQL, a scratch database next to the test
database (pg_dump/pg_restore). A set that was changed, is incomplete or comes from newer
software is refused with a German message before anything is touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from lagebild.ops import backup

LAGEBILD = [sys.executable, "-m", "lagebild.manage"]
CONFIGURED_URL = os.environ.get("DATABASE_URL", "").strip()
ON_POSTGRES = CONFIGURED_URL.startswith(("postgres://", "postgresql://"))

# Seeds what the demo lacks: a citizen's photo (a private file) and audit entries of both
# authorities; prints the counts the drill relies on.
SEED = """
import json
from django.db import transaction
from lagebild.citizen.models import Report
from lagebild.citizen.photos import PreparedPhoto, store_photos
from lagebild.core import audit
from lagebild.core.models import Authority
from lagebild.core.scoping import unscoped
from lagebild.field.models import Incident
from lagebild.analytics.models import DailyCount
from lagebild.bodycam.models import Recording
with unscoped(), transaction.atomic():
    report = Report.objects.order_by("pk").first()
    store_photos(report, [PreparedPhoto(data=bytes(range(256)) * 40, content_type="image/jpeg",
                                        extension="jpg", width=8, height=8)])
    for authority in Authority.objects.all():
        audit.log("ops.backup.drill", authority=authority, object_type="core.authority",
                  object_id=authority.pk)
    print(json.dumps({
        "incidents_per_authority": sorted(set(
            Incident.objects.values_list("authority__code", flat=True))),
        "daily_counts": DailyCount.objects.count(),
        "recordings": Recording.objects.count(),
    }))
"""


@dataclass
class Site:
    root: Path
    env: dict[str, str]
    database_url: str

    @property
    def var(self) -> Path:
        return self.root / "var"

    def run(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*LAGEBILD, *arguments],
            cwd=self.root,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"lagebild {' '.join(arguments)}: {result.returncode}\n{result.stderr[-3000:]}"
            )
        return result


def _scratch_url() -> str:
    parts = urlsplit(CONFIGURED_URL)
    name = parts.path.lstrip("/") or "lagebild"
    suffix = os.environ.get("PYTEST_XDIST_WORKER", "")
    return urlunsplit(parts._replace(path=f"/{name}_backup_drill{suffix}"))


def _postgres(url: str, database: str | None = None) -> Any:
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or None,
        port=parts.port or None,
        user=parts.username or None,
        password=parts.password or None,
        dbname=database or parts.path.lstrip("/"),
        autocommit=True,
    )


def _recreate_postgres(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with _postgres(url, "postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("backup-drill")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LAGEBILD_", "DATABASE_URL", "DJANGO_SETTINGS"))
    }
    env.update(LAGEBILD_VAR_DIR=str(root / "var"), LAGEBILD_DEBUG="1", LAGEBILD_TWO_FACTOR_REQUIRED="0")
    database_url = ""
    if ON_POSTGRES:
        database_url = _scratch_url()
        _recreate_postgres(database_url)
        env["DATABASE_URL"] = database_url
    drill = Site(root=root, env=env, database_url=database_url)
    drill.run("migrate", "-v0")
    drill.run("demo", "--no-serve", "--months", "1", "--scale", "0.05")
    seeded = json.loads(drill.run("shell", "-c", SEED).stdout.strip().splitlines()[-1])
    # Records of both authorities, count-table rows and recordings: the drill is meaningful.
    assert seeded["incidents_per_authority"] == ["polizei", "stadt"]
    assert seeded["daily_counts"] > 0 and seeded["recordings"] > 0
    drill.run("backup", "--output", str(root / "set"))
    yield drill
    if ON_POSTGRES:
        with _postgres(database_url, "postgres") as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{urlsplit(database_url).path.lstrip("/")}" WITH (FORCE)')


def table_digests(site: Site) -> dict[str, tuple[int, str]]:
    """Per table: row count and a digest of all rows (sorted, so the physical order does not count)."""
    if site.database_url:
        connection = _postgres(site.database_url)
        vendor = "postgresql"
    else:
        connection = sqlite3.connect(f"file:{site.var / 'lagebild.sqlite3'}?mode=ro", uri=True)
        vendor = "sqlite"
    try:
        cursor = connection.cursor()
        digests = {}
        for table in backup._table_names(cursor, vendor):
            cursor.execute(f'SELECT * FROM "{table}"')
            rows = sorted(repr(tuple(row)) for row in cursor.fetchall())
            digests[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
        return digests
    finally:
        connection.close()


def file_hashes(site: Site) -> dict[str, str]:
    hashes = {}
    for folder in ("private", "media", "recordings"):
        base = site.var / folder
        for path in sorted(base.rglob("*")) if base.exists() else []:
            if path.is_file():
                hashes[path.relative_to(site.var).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def wipe(site: Site) -> None:
    if site.database_url:
        _recreate_postgres(site.database_url)
    else:
        for path in site.var.glob("lagebild.sqlite3*"):
            path.unlink()
    for folder in ("private", "media", "recordings"):
        shutil.rmtree(site.var / folder, ignore_errors=True)


def copy_of_set(site: Site, name: str) -> Path:
    target = site.root / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(site.root / "set", target)
    return target


def test_drill_backup_wipe_restore_brings_back_every_row_and_file(site):
    before_rows, before_files = table_digests(site), file_hashes(site)
    assert any(name.startswith("private/photos/") for name in before_files)
    assert any(name.startswith("recordings/stadt/") for name in before_files)
    assert any(name.startswith("recordings/polizei/") for name in before_files)

    wipe(site)
    assert not file_hashes(site)
    restored = site.run("restore", str(site.root / "set"), "--yes")

    assert "Zeilenzahlen wie im Manifest" in restored.stdout
    after_rows = table_digests(site)
    assert after_rows == before_rows
    assert after_rows["analytics_dailycount"][0] > 0 and after_rows["core_auditevent"][0] > 0
    assert file_hashes(site) == before_files
    verified = site.run("audit", "verify")
    assert "Protokoll in Ordnung" in verified.stdout
    # Both authorities' records are back under their authority, not merged or lost.
    manifest = json.loads((site.root / "set" / "manifest.json").read_text())
    assert manifest["row_counts"]["field_incident"] == after_rows["field_incident"][0]
    assert manifest["database_engine"] == ("postgresql" if ON_POSTGRES else "sqlite")
    assert manifest["migrations"]["core"] and manifest["created_at"].endswith("Z")


def _refused(site: Site, directory: Path, *options: str) -> str:
    before_rows, before_files = table_digests(site), file_hashes(site)
    result = site.run("restore", str(directory), *(options or ("--yes",)), check=False)
    assert result.returncode != 0
    assert table_digests(site) == before_rows and file_hashes(site) == before_files
    return result.stderr


def test_changed_file_in_the_set_is_refused_and_nothing_is_touched(site):
    tampered = copy_of_set(site, "tampered")
    recording = next((tampered / "files" / "recordings").rglob("*.mp4"))
    recording.write_bytes(recording.read_bytes()[:-1] + b"\x00")

    message = _refused(site, tampered)

    assert "verändert (Prüfsumme)" in message and recording.name in message


def test_edited_manifest_is_refused(site):
    tampered = copy_of_set(site, "edited-manifest")
    path = tampered / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["row_counts"]["field_incident"] += 1
    path.write_text(json.dumps(manifest))

    assert "Prüfsumme des Manifests" in _refused(site, tampered)


def test_incomplete_set_is_refused(site):
    incomplete = copy_of_set(site, "incomplete")
    photo = next((incomplete / "files" / "private").rglob("*.jpg"))
    photo.unlink()

    message = _refused(site, incomplete)

    assert "unvollständig oder verändert" in message and "fehlt" in message


def test_set_of_newer_software_is_refused(site):
    newer = copy_of_set(site, "newer")
    path = newer / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["applied_migrations"]["core"].append("9999_from_the_future")
    manifest["manifest_sha256"] = backup._manifest_checksum(manifest)
    path.write_text(json.dumps(manifest))

    message = _refused(site, newer)

    assert "neueren Lagebild-Version" in message and "core.9999_from_the_future" in message


def test_restore_without_terminal_asks_for_yes(site):
    message = _refused(site, site.root / "set", "--app-role=lagebild_app")

    assert "--yes" in message and "Nichts wurde verändert" in message
