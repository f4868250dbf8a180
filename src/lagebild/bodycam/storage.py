"""The recordings directory: streaming copy with hashing, safe paths, re-hashing.

Files live in ``settings.LAGEBILD_RECORDINGS_DIR`` (default ``var/recordings``), a directory no
URL serves: the system check in ``checks.py`` refuses a directory inside STATIC_ROOT,
MEDIA_ROOT or a static source directory. A file is named by its SHA-256, written to a
temporary name in the same directory first and renamed when complete, so a crash never
leaves a half-written file under a final name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

CHUNK_SIZE = 1024 * 1024


def recordings_root() -> Path:
    return Path(settings.LAGEBILD_RECORDINGS_DIR).resolve()


def absolute_path(relative: str) -> Path:
    """Absolute path of a stored file; refuses anything that would leave the directory."""
    root = recordings_root()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise FileNotFoundError(relative)
    return path


# Leading bytes of the container formats body-worn cameras write. The browser's content
# type and the file name are not trusted.
def sniff_media_type(head: bytes) -> str | None:
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        return "video/quicktime" if brand == b"qt  " else "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head.startswith(b"\x00\x00\x01\xba"):
        return "video/mpeg"
    if len(head) >= 189 and head[0] == 0x47 and head[188] == 0x47:
        return "video/mp2t"
    return None


EXTENSIONS = {
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "video/x-matroska": "mkv",
    "video/x-msvideo": "avi",
    "video/mpeg": "mpg",
    "video/mp2t": "ts",
}


@dataclass(frozen=True)
class StoredFile:
    relative_path: str
    sha256: str
    size: int
    created: bool  # False: an identical file was already stored under this name


def store_stream(chunks: Iterable[bytes], *, folder: str, extension: str) -> StoredFile:
    """Copy ``chunks`` into the recordings directory, hashing while copying.

    The file lands under ``<folder>/<sha256>.<extension>``. If that name exists already the
    temporary copy is removed and the existing file is kept (the caller refuses duplicates).
    """
    root = recordings_root()
    target_dir = absolute_path(folder) if folder else root
    target_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = target_dir / f".upload-{secrets.token_hex(8)}.part"
    digest = hashlib.sha256()
    size = 0
    try:
        with open(temporary, "xb") as handle:
            os.chmod(temporary, 0o600)
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        sha = digest.hexdigest()
        relative = f"{folder}/{sha}.{extension}" if folder else f"{sha}.{extension}"
        final = absolute_path(relative)
        created = not final.exists()
        if created:
            os.replace(temporary, final)
        else:
            temporary.unlink()
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return StoredFile(relative_path=relative, sha256=sha, size=size, created=created)


def hash_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def remove(relative: str) -> None:
    """Delete a stored file; a file that is already gone is fine (a purge may be resumed)."""
    with contextlib.suppress(FileNotFoundError):  # also a path outside the directory
        absolute_path(relative).unlink(missing_ok=True)
