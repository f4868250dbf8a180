"""Backup sets and their restore (``lagebild backup`` / ``lagebild restore``; docs/operations.md).

A backup set is a directory:

* ``database.pgdump`` (PostgreSQL: ``pg_dump --format=custom``) or ``database.sqlite3`` (SQLite:
  a copy made with SQLite's online backup API, so writers may go on meanwhile),
* ``files/<root>/…``: the private files: citizens' photos (``VAR_DIR/private``), uploads under
  ``MEDIA_ROOT`` and bodycam recordings (``LAGEBILD_RECORDINGS_DIR``); static files are part of
  the software and not saved,
* ``manifest.json``: Lagebild version, creation time (UTC), database engine, the applied
  migrations, the row count of every table and the SHA-256 and size of every file of the set,
  with a checksum of the manifest itself.

Row counts and migrations are read from the same snapshot the dump is made of (PostgreSQL: an
exported snapshot in a repeatable-read transaction; SQLite: the copy), so they describe the dump
exactly. A restore checks the whole set first and changes nothing when a file is missing,
changed or added, when the manifest was edited, or when the set comes from newer software
(migrations this code does not know); then it restores the database, then the files, and
finally compares the row counts with the manifest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.migrations.loader import MigrationLoader

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_DUMP = "database.sqlite3"
POSTGRES_DUMP = "database.pgdump"
FILES = "files"
CHUNK = 1024 * 1024
# How long pg_restore waits for a table another session still holds before it gives up
# (application servers and workers should be stopped; a hanging restore helps nobody).
RESTORE_LOCK_TIMEOUT = "60s"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is for the operator (German)."""


@dataclass(frozen=True)
class FileRoot:
    name: str
    path: Path


def file_roots() -> list[FileRoot]:
    """The private file directories of this installation, each once (a directory configured
    inside another one is saved with the outer one)."""
    candidates = [
        FileRoot("private", Path(settings.VAR_DIR) / "private"),
        FileRoot("media", Path(settings.MEDIA_ROOT)),
        FileRoot("recordings", Path(settings.LAGEBILD_RECORDINGS_DIR)),
    ]
    roots: list[FileRoot] = []
    for root in candidates:
        path = root.path.resolve()
        if any(path == other.path or other.path in path.parents for other in roots):
            continue
        roots = [other for other in roots if path not in other.path.parents]
        roots.append(FileRoot(root.name, path))
    return roots


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files_below(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def _manifest_checksum(manifest: dict[str, Any]) -> str:
    body = {key: value for key, value in manifest.items() if key != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def lagebild_version() -> str:
    try:
        return importlib.metadata.version("lagebild")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        return "unbekannt"


# --- database: reading --------------------------------------------------------------------------


def _table_names(cursor: Any, vendor: str) -> list[str]:
    if vendor == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    else:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    return sorted(row[0] for row in cursor.fetchall())


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _row_counts(cursor: Any, vendor: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in _table_names(cursor, vendor):
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")
        counts[table] = int(cursor.fetchone()[0])
    return counts


def _applied_migrations(cursor: Any) -> dict[str, list[str]]:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    applied: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        applied.setdefault(app, []).append(name)
    return applied


def current_row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        return _row_counts(cursor, connection.vendor)


# --- database: dump -----------------------------------------------------------------------------


def _postgres_environment() -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore; the password only in the environment."""
    config = connection.settings_dict
    arguments: list[str] = ["--no-password"]
    if config.get("HOST"):
        arguments += ["--host", str(config["HOST"])]
    if config.get("PORT"):
        arguments += ["--port", str(config["PORT"])]
    if config.get("USER"):
        arguments += ["--username", str(config["USER"])]
    environment = dict(os.environ)
    if config.get("PASSWORD"):
        environment["PGPASSWORD"] = str(config["PASSWORD"])
    options = config.get("OPTIONS") or {}
    if options.get("sslmode"):
        environment["PGSSLMODE"] = str(options["sslmode"])
    return arguments, environment


def _program(name: str) -> str:
    directory = os.environ.get("LAGEBILD_PG_BIN_DIR", "").strip()
    found = str(Path(directory) / name) if directory else shutil.which(name)
    if not found or not Path(found).exists():
        raise BackupError(
            f"{name} wurde nicht gefunden. Bitte die PostgreSQL-Clientprogramme installieren "
            "(Debian: postgresql-client, gleiche Hauptversion wie der Server) oder "
            "LAGEBILD_PG_BIN_DIR setzen."
        )
    return found


def _run(command: list[str], environment: dict[str, str]) -> None:
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(
            f"{Path(command[0]).name} ist fehlgeschlagen (Code {result.returncode}): "
            + (" / ".join(detail[-5:]) or "ohne Meldung")
        )


def _dump_postgres(target: Path) -> tuple[dict[str, int], dict[str, list[str]]]:
    arguments, environment = _postgres_environment()
    connection.ensure_connection()
    with transaction.atomic(), connection.cursor() as cursor:
        # One snapshot for the dump, the counts and the migrations: they describe the same state.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        counts = _row_counts(cursor, "postgresql")
        applied = _applied_migrations(cursor)
        _run(
            [
                _program("pg_dump"),
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={target}",
                *arguments,
                f"--dbname={connection.settings_dict['NAME']}",
            ],
            environment,
        )
    return counts, applied


def _dump_sqlite(target: Path) -> tuple[dict[str, int], dict[str, list[str]]]:
    source = sqlite3.connect(str(connection.settings_dict["NAME"]))
    try:
        copy = sqlite3.connect(str(target))
        try:
            source.backup(copy)
            # A self-contained file: no -wal/-shm companions in the set.
            copy.execute("PRAGMA journal_mode=DELETE")
            cursor = copy.cursor()
            return _row_counts(cursor, "sqlite"), _applied_migrations(cursor)
        finally:
            copy.close()
    finally:
        source.close()


# --- backup -------------------------------------------------------------------------------------


def create_backup(output: Path) -> dict[str, Any]:
    """Write a backup set into ``output`` (new or empty directory); returns the manifest."""
    output = output.resolve()
    if output.exists() and any(output.iterdir()):
        raise BackupError(f"Das Zielverzeichnis {output} ist nicht leer.")
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"Datenbank {vendor} wird nicht unterstützt (nur PostgreSQL und SQLite).")
    output.mkdir(parents=True, exist_ok=True)
    output.chmod(0o700)  # personal data: only the operator's account may read the set
    created = dt.datetime.now(dt.UTC)
    if vendor == "postgresql":
        database_file = POSTGRES_DUMP
        counts, applied = _dump_postgres(output / database_file)
    else:
        database_file = SQLITE_DUMP
        counts, applied = _dump_sqlite(output / database_file)
    roots = file_roots()
    for root in roots:
        target = output / FILES / root.name
        if root.path.is_dir():
            shutil.copytree(root.path, target, symlinks=False, dirs_exist_ok=False)
        else:
            target.mkdir(parents=True)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "lagebild_version": lagebild_version(),
        "created_at": created.isoformat().replace("+00:00", "Z"),
        "database_engine": vendor,
        "database_file": database_file,
        "migrations": {app: names[-1] for app, names in applied.items()},
        "applied_migrations": applied,
        "row_counts": counts,
        "file_roots": {root.name: str(root.path) for root in roots},
        "files": [
            {
                "path": path.relative_to(output).as_posix(),
                "sha256": sha256_of(path),
                "size": path.stat().st_size,
            }
            for path in _files_below(output)
        ],
    }
    manifest["manifest_sha256"] = _manifest_checksum(manifest)
    (output / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return manifest


# --- restore ------------------------------------------------------------------------------------


def read_verified_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of a complete, unchanged set; raises BackupError (German) otherwise."""
    path = directory / MANIFEST
    if not directory.is_dir():
        raise BackupError(f"{directory} ist kein Verzeichnis.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"Im Verzeichnis {directory} fehlt die Datei {MANIFEST}.") from None
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"{MANIFEST} ist beschädigt (kein gültiges JSON).") from None
    if not isinstance(manifest, dict) or manifest.get("manifest_sha256") != _manifest_checksum(manifest):
        raise BackupError(f"{MANIFEST} wurde verändert (Prüfsumme des Manifests stimmt nicht).")
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unbekanntes Format der Sicherung: {manifest.get('format')!r}.")
    problems: list[str] = []
    listed: set[str] = set()
    for entry in manifest["files"]:
        relative = entry["path"]
        listed.add(relative)
        file = (directory / relative).resolve()
        if directory.resolve() not in file.parents:
            problems.append(f"{relative}: Pfad außerhalb der Sicherung")
        elif not file.is_file():
            problems.append(f"{relative}: fehlt")
        elif file.stat().st_size != entry["size"] or sha256_of(file) != entry["sha256"]:
            problems.append(f"{relative}: Inhalt verändert (Prüfsumme)")
    for file in _files_below(directory):
        relative = file.relative_to(directory).as_posix()
        if relative != MANIFEST and relative not in listed:
            problems.append(f"{relative}: nicht im Manifest")
    if manifest["database_file"] not in listed:
        problems.append(f"{manifest['database_file']}: Datenbank fehlt im Manifest")
    if problems:
        shown = "; ".join(problems[:10]) + (
            f" … und {len(problems) - 10} weitere" if len(problems) > 10 else ""
        )
        raise BackupError(f"Die Sicherung ist unvollständig oder verändert: {shown}.")
    return manifest


def check_restorable(manifest: dict[str, Any]) -> None:
    """Refuse a set of another engine or of newer software (migrations the code lacks)."""
    if manifest["database_engine"] != connection.vendor:
        raise BackupError(
            f"Die Sicherung stammt aus {manifest['database_engine']}, konfiguriert ist {connection.vendor}."
        )
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = [
        f"{app}.{name}"
        for app, names in manifest["applied_migrations"].items()
        for name in names
        if (app, name) not in known
    ]
    if unknown:
        raise BackupError(
            "Die Sicherung stammt aus einer neueren Lagebild-Version (unbekannte Migrationen: "
            + ", ".join(unknown[:5])
            + (" …" if len(unknown) > 5 else "")
            + "). Bitte zuerst die Software aktualisieren."
        )


def _restore_postgres(dump: Path) -> None:
    arguments, environment = _postgres_environment()
    environment["PGOPTIONS"] = f"-c lock_timeout={RESTORE_LOCK_TIMEOUT}"
    connections.close_all()
    _run(
        [
            _program("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            # Grants name roles the target server may not have: setup-db-roles sets them again.
            "--no-acl",
            "--single-transaction",
            "--exit-on-error",
            *arguments,
            f"--dbname={connection.settings_dict['NAME']}",
            str(dump),
        ],
        environment,
    )


def _restore_sqlite(dump: Path) -> None:
    connections.close_all()
    target = Path(str(connection.settings_dict["NAME"]))
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    try:
        live = sqlite3.connect(str(target))
        try:
            source.backup(live)
        finally:
            live.close()
    finally:
        source.close()


def _restore_files(directory: Path, manifest: dict[str, Any]) -> None:
    """Replace each private directory by the set's copy: staged next to it, then swapped."""
    configured = {root.name: root.path for root in file_roots()}
    for name in manifest["file_roots"]:
        target = configured.get(name)
        if target is None:
            continue  # that directory is part of another root here
        source = directory / FILES / name
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.restore-", dir=target.parent))
        if source.is_dir():
            shutil.copytree(source, staging, dirs_exist_ok=True)
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            target.rename(old)
            staging.rename(target)
            shutil.rmtree(old)
        else:
            staging.rename(target)
        target.chmod(0o700)


def restore_backup(directory: Path, manifest: dict[str, Any]) -> dict[str, tuple[int, int | None]]:
    """Restore a verified set (``read_verified_manifest``, ``check_restorable``); returns the
    tables whose row count differs from the manifest (expected, found)."""
    dump = directory / manifest["database_file"]
    if manifest["database_engine"] == "postgresql":
        _restore_postgres(dump)
    else:
        _restore_sqlite(dump)
    _restore_files(directory, manifest)
    found = current_row_counts()
    return {
        table: (expected, found.get(table))
        for table, expected in manifest["row_counts"].items()
        if found.get(table) != expected
    }
