"""System check: the recordings directory must never be reachable through a static or media URL."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register


def _inside(path: Path, other: object) -> bool:
    if not other:
        return False
    other_path = Path(str(other)).resolve()
    return path == other_path or other_path in path.parents or path in other_path.parents


@register()
def recordings_dir_not_served(app_configs: object = None, **kwargs: object) -> list[Error]:
    root = Path(settings.LAGEBILD_RECORDINGS_DIR).resolve()
    served = [settings.STATIC_ROOT, settings.MEDIA_ROOT, *getattr(settings, "STATICFILES_DIRS", [])]
    for directory in served:
        directory = directory[1] if isinstance(directory, tuple) else directory
        if _inside(root, directory):
            return [
                Error(
                    f"LAGEBILD_RECORDINGS_DIR ({root}) liegt in oder über einem Verzeichnis, das der "
                    f"Webserver ausliefert ({directory}).",
                    hint="Bodycam-Aufnahmen in ein eigenes Verzeichnis außerhalb von STATIC_ROOT, "
                    "MEDIA_ROOT und den Static-Verzeichnissen legen.",
                    id="lagebild.bodycam.E001",
                )
            ]
    return []
