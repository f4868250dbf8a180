"""Fixtures for the bodycam tests: a private recordings directory and small video files."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from lagebild.bodycam import services
from lagebild.bodycam.models import ActivationReason, Recording
from lagebild.core.models import User
from lagebild.core.scoping import authority_scope


def video_bytes(seed: str, size: int = 4096) -> bytes:
    """A deterministic file that starts like an MP4 (``ftyp`` box); the content differs per seed."""
    header = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    body = b""
    counter = 0
    while len(header) + len(body) < size:
        body += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return (header + body)[:size]


def upload(seed: str = "a", *, name: str = "aufnahme.mp4", data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, video_bytes(seed) if data is None else data, content_type="video/mp4")


@pytest.fixture
def recordings_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "recordings"
    settings.LAGEBILD_RECORDINGS_DIR = path
    return path


@pytest.fixture
def register(recordings_dir) -> Callable[..., Recording]:  # type: ignore[no-untyped-def]
    """``register(user, seed, started_at=...)`` registers a recording through the service."""

    def make(
        user: User,
        seed: str = "a",
        *,
        started_at: dt.datetime | None = None,
        wearer: User | None = None,
        minutes: int = 3,
    ) -> Recording:
        start = started_at or (timezone.now() - dt.timedelta(minutes=30)).replace(microsecond=0)
        with authority_scope(user.authority_id):
            return services.register_recording(
                user=user,
                upload=upload(seed),
                data=services.RegistrationInput(
                    device_serial="BC-0001",
                    wearer=wearer,
                    started_at=start,
                    ended_at=start + dt.timedelta(minutes=minutes),
                    activation_reason=ActivationReason.DANGER,
                    location_text="Nordmarkt",
                ),
            )

    return make
