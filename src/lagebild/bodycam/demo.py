"""Demo recordings: a few small, deterministic files with their custody chains.

Called by ``lagebild demo`` (``demo/service.py``). The files are not real videos: they begin
like an MP4 file and are filled with bytes derived from a fixed seed, so every run yields the
same hashes. Times lie in the last 14 days before the run, so the deletion dates are real.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from lagebild.core.models import User
from lagebild.core.scoping import unscoped

from . import services
from .models import ActivationReason, Recording, RetentionReason

FILE_SIZE = 64 * 1024


def demo_file(seed: str, size: int = FILE_SIZE) -> bytes:
    header = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    blocks = []
    length = len(header)
    counter = 0
    while length < size:
        block = hashlib.sha256(f"lagebild-demo-bodycam:{seed}:{counter}".encode()).digest()
        blocks.append(block)
        length += len(block)
        counter += 1
    return (header + b"".join(blocks))[:size]


@dataclass(frozen=True)
class DemoRecording:
    wearer: str
    device: str
    days_ago: float
    minutes: int
    reason: str
    place: str
    note: str = ""
    announced: bool = True


RECORDINGS = [
    DemoRecording("kod", "KOD-BC-07", 1.3, 4, ActivationReason.DANGER, "Nordmarkt"),
    DemoRecording(
        "kod", "KOD-BC-07", 6.2, 7, ActivationReason.IMMINENT, "Keuenhof", "Angriff ohne Vorwarnung", False
    ),
    DemoRecording(
        "kod", "KOD-BC-03", 10.4, 3, ActivationReason.OTHER, "Königswall", "Bedrohung mit einem Messer"
    ),
    DemoRecording("polizei", "PP-BC-112", 0.8, 5, ActivationReason.DANGER, "Münsterstraße"),
    DemoRecording("polizei", "PP-BC-112", 12.5, 9, ActivationReason.DANGER, "Mallinckrodtstraße"),
]


def generate(log: Callable[[str], None] = lambda _msg: None, now: dt.datetime | None = None) -> int:
    """Register the demo recordings unless any exist; returns how many were created."""
    now = now or timezone.now()
    with unscoped():
        users = {u.username: u for u in User.objects.filter(username__in=["kod", "kod-lead", "polizei"])}
        if len(users) < 3 or Recording.objects.filter(wearer__in=users.values()).exists():
            return 0
        created = []
        for index, item in enumerate(RECORDINGS):
            start = (now - dt.timedelta(days=item.days_ago)).replace(second=0, microsecond=0)
            wearer = users[item.wearer]
            recording = services.register_recording(
                user=wearer,
                upload=SimpleUploadedFile(f"demo-{index}.mp4", demo_file(f"{index}"), "video/mp4"),
                data=services.RegistrationInput(
                    device_serial=item.device,
                    wearer=wearer,
                    started_at=start,
                    ended_at=start + dt.timedelta(minutes=item.minutes),
                    activation_reason=item.reason,
                    activation_note=item.note,
                    announced=item.announced,
                    location_text=item.place,
                ),
                now=start + dt.timedelta(hours=3),
            )
            created.append(recording)
        kod, lead = users["kod"], users["kod-lead"]
        kept = created[1]
        decision = services.request_retention(
            user=kod,
            recording=kept,
            reason=RetentionReason.CRIMINAL,
            reference="StA Dortmund 400 Js 1234/26",
            note="Körperverletzung zum Nachteil einer Einsatzkraft; Strafanzeige erstattet.",
            delete_after=now + dt.timedelta(days=180),
            now=now - dt.timedelta(days=5),
        )
        services.confirm_retention(user=lead, decision=decision, now=now - dt.timedelta(days=5, hours=-2))
        services.record_access(
            user=lead, recording=kept, purpose="copy", reason="Kopie für die Staatsanwaltschaft"
        )
        services.hand_over(
            user=lead,
            recording=kept,
            recipient="Staatsanwaltschaft Dortmund",
            reference="400 Js 1234/26",
            reason="Beweismittel zur Strafanzeige",
        )
        services.record_access(
            user=lead, recording=created[2], purpose="view", reason="Prüfung, ob eine Anzeige nötig ist"
        )
    log(f"Bodycam: {len(created)} Demo-Aufnahmen, eine davon im Vier-Augen-Prinzip gesichert.")
    return len(created)
