"""Photos of citizen reports: checked, re-encoded without metadata, stored outside the web root.

Uploads are decoded with Pillow (the file name and the browser's content type are not
trusted), turned upright by their EXIF orientation, scaled down and written again without
any metadata, so that GPS positions, camera serial numbers and times never reach storage.
Files live under ``VAR_DIR/private/photos/<report id>/``; nothing there is served by the
static or media URLs. A photo becomes public only when staff release it, after they have
blacked out faces or number plates with :func:`photo_redact`.
"""

from __future__ import annotations

import io
import math
import secrets
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageDraw, ImageOps

from lagebild.core import audit

from .models import Photo, Report

MAX_PHOTOS = 3
MAX_BYTES = 8 * 1024 * 1024
MAX_EDGE = 2560
MAX_PIXELS = 60_000_000  # larger pictures are refused before decoding (decompression bombs)
JPEG_QUALITY = 85
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}


@dataclass
class PreparedPhoto:
    """A decoded, cleaned image ready to be written (nothing is on disk yet)."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def photo_root() -> Path:
    return Path(settings.VAR_DIR) / "private" / "photos"


def photo_path(photo: Photo) -> Path:
    """Absolute path of a stored photo; refuses anything that would leave the photo directory."""
    root = photo_root().resolve()
    path = (root / photo.file).resolve()
    if root not in path.parents:
        raise FileNotFoundError(photo.file)
    return path


# The only entry of ``Image.info`` the new file needs; everything else is metadata.
KEPT_INFO = ("transparency",)


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    # Pillow writes some entries of ``info`` into the new file by itself: a JPEG's comment
    # (COM segment: found by the fuzz test with "Max Mustermann, Handy 0171" in it) and a
    # PNG's ICC profile, which may name the device. Only the transparency survives.
    image.info = {key: image.info[key] for key in KEPT_INFO if key in image.info}
    if fmt == "PNG":
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        # No pnginfo/exif arguments: text chunks and eXIf are not written.
        image.save(buffer, format="PNG", optimize=True)
    else:
        if image.mode != "RGB":
            if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
                background = Image.new("RGB", image.size, (255, 255, 255))
                rgba = image.convert("RGBA")
                background.paste(rgba, mask=rgba.getchannel("A"))
                image = background
            else:
                image = image.convert("RGB")
        # No exif/icc_profile arguments: Pillow then writes no metadata at all.
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()


def prepare_photo(upload: UploadedFile) -> PreparedPhoto:
    """Check and clean one upload; raises ValidationError with a German message."""
    name = getattr(upload, "name", "") or "Foto"
    if upload.size is not None and upload.size > MAX_BYTES:
        raise ValidationError(f"„{name}“ ist größer als 8 MB.")
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload)
            fmt = image.format
            if fmt not in ACCEPTED_FORMATS:
                raise ValidationError(f"„{name}“ ist kein JPEG-, PNG- oder WebP-Bild.")
            if image.width * image.height > MAX_PIXELS:
                raise ValidationError(f"„{name}“ hat zu viele Bildpunkte.")
            image.load()
            image = ImageOps.exif_transpose(image)
            image.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS)
            out_format = "PNG" if fmt == "PNG" else "JPEG"
            data = _encode(image, out_format)
    except ValidationError:
        raise
    except Exception as exc:  # Pillow raises many kinds of errors for broken or hostile files
        raise ValidationError(
            f"„{name}“ konnte nicht als Bild gelesen werden. Erlaubt sind JPEG, PNG und WebP."
        ) from exc
    return PreparedPhoto(
        data=data,
        content_type="image/png" if out_format == "PNG" else "image/jpeg",
        extension="png" if out_format == "PNG" else "jpg",
        width=image.width,
        height=image.height,
    )


def prepare_uploads(uploads: Sequence[UploadedFile]) -> tuple[list[PreparedPhoto], list[str]]:
    """Check up to three uploads; returns the cleaned photos and German error messages."""
    uploads = [u for u in uploads if u is not None and (u.size or getattr(u, "name", ""))]
    if len(uploads) > MAX_PHOTOS:
        return [], [f"Höchstens {MAX_PHOTOS} Fotos pro Meldung."]
    prepared: list[PreparedPhoto] = []
    errors: list[str] = []
    for upload in uploads:
        try:
            prepared.append(prepare_photo(upload))
        except ValidationError as exc:
            errors.extend(exc.messages)
    return prepared, errors


def store_photos(report: Report, prepared: Iterable[PreparedPhoto]) -> list[Photo]:
    """Write cleaned photos for a report and create their rows (call inside the report's transaction)."""
    folder = photo_root() / str(report.pk)
    stored: list[Photo] = []
    written: list[Path] = []
    try:
        for item in prepared:
            folder.mkdir(parents=True, exist_ok=True)
            filename = f"{secrets.token_hex(12)}.{item.extension}"
            path = folder / filename
            path.write_bytes(item.data)
            path.chmod(0o600)
            written.append(path)
            stored.append(
                Photo.objects.create(
                    report=report,
                    file=f"{report.pk}/{filename}",
                    content_type=item.content_type,
                    width=item.width,
                    height=item.height,
                    size=len(item.data),
                )
            )
    except Exception:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return stored


def _check_staff(user: object, photo: Photo, perm: str) -> None:
    if user is None:
        return  # system code (commands, retention jobs)
    if not getattr(user, "has_perm", None) or not user.has_perm(perm):  # type: ignore[attr-defined]
        raise PermissionDenied("Ihre Rolle erlaubt diese Aktion nicht.")
    # Scoped manager: another authority's report is invisible here.
    if not Report.objects.filter(pk=photo.report_id).exists():
        raise PermissionDenied("Diese Meldung ist nicht sichtbar.")


def _rectangle(raw: object) -> dict[str, float]:
    if isinstance(raw, dict):
        values = [raw.get("x"), raw.get("y"), raw.get("w"), raw.get("h")]
    elif isinstance(raw, list | tuple) and len(raw) == 4:
        values = list(raw)
    else:
        raise ValidationError({"redactions": "Ein Bereich besteht aus x, y, Breite und Höhe."})
    try:
        x, y, w, h = (float(v) for v in values)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValidationError({"redactions": "Bereiche werden als Anteile von 0 bis 1 angegeben."}) from exc
    if not all(math.isfinite(v) for v in (x, y, w, h)) or not (0 <= x <= 1 and 0 <= y <= 1):
        raise ValidationError({"redactions": "Bereiche werden als Anteile von 0 bis 1 angegeben."})
    if w <= 0 or h <= 0:
        raise ValidationError({"redactions": "Ein Bereich braucht eine Breite und eine Höhe."})
    return {"x": x, "y": y, "w": min(w, 1 - x), "h": min(h, 1 - y)}


def photo_redact(photo: Photo, rectangles: Sequence[object], *, user: object = None) -> Photo:
    """Black out rectangles (fractions 0..1 of width and height: x, y, w, h) in the stored file.

    The pixels are overwritten in the file itself, so no unredacted copy remains.
    """
    _check_staff(user, photo, "citizen.handle")
    boxes = [_rectangle(r) for r in rectangles]
    if not boxes:
        return photo
    path = photo_path(photo)
    with Image.open(path) as source:
        fmt = source.format or ("PNG" if photo.content_type == "image/png" else "JPEG")
        image = source.copy()
    draw = ImageDraw.Draw(image)
    fill: object = (0, 0, 0, 255) if image.mode == "RGBA" else 0 if image.mode in ("L", "P") else (0, 0, 0)
    if image.mode == "P":
        image = image.convert("RGB")
        draw = ImageDraw.Draw(image)
        fill = (0, 0, 0)
    width, height = image.size
    for box in boxes:
        left = math.floor(box["x"] * width)
        top = math.floor(box["y"] * height)
        right = math.ceil((box["x"] + box["w"]) * width) - 1
        bottom = math.ceil((box["y"] + box["h"]) * height) - 1
        draw.rectangle((left, top, max(left, right), max(top, bottom)), fill=fill)  # type: ignore[arg-type]
    data = _encode(image, "PNG" if fmt == "PNG" else "JPEG")
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(data)
    temporary.chmod(0o600)
    temporary.replace(path)
    photo.redactions = [*(photo.redactions or []), *boxes]
    photo.size = len(data)
    photo.save(update_fields=["redactions", "size"])
    audit.log("citizen.photo.redacted", user=user, obj=photo, report=photo.report_id, boxes=len(boxes))
    return photo


def photo_release(photo: Photo, *, user: object = None, released: bool = True) -> Photo:
    """Publish a photo (or withdraw it with ``released=False``)."""
    _check_staff(user, photo, "citizen.triage")
    photo.released = released
    photo.save(update_fields=["released"])
    audit.log(
        "citizen.photo.released" if released else "citizen.photo.withdrawn",
        user=user,
        obj=photo,
        report=photo.report_id,
    )
    return photo


def photo_visible(photo: Photo, user: object) -> bool:
    """Public only when released; logged-in staff whenever their authority sees the report."""
    if photo.released:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    return Report.objects.filter(pk=photo.report_id).exists()
