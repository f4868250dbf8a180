"""Photo upload of the citizen form, fuzzed with hypothesis: whatever a citizen (or an attacker)
uploads is either refused with a German message or stored as a clean re-encoded picture with no
metadata left in it (no EXIF, no GPS, no comment, no ICC profile, no text chunks), upright and
at most 2560 pixels on its longest edge. Never an exception, never a 500.

Inputs: arbitrary bytes; real JPEG/PNG/WebP/GIF/BMP/TIFF pictures in every common mode with
EXIF (orientation, GPS, camera), comments, ICC profiles and PNG text chunks, then truncated or
with bytes flipped; PNG headers that promise a decompression bomb; any file name and content
type, also through the public form. Deterministic (derandomize) and bounded.
"""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from lagebild.citizen import photos
from lagebild.citizen.models import Photo, RateCounter
from lagebild.core.scoping import unscoped

from .citizen_fixtures import *  # noqa: F403
from .conftest import INSIDE

SECRET = "Erika Mustermann 0171-2345678"
FUZZ = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def private_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def _srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


SRGB = _srgb_profile()


@st.composite
def pictures(draw: st.DrawFn) -> tuple[bytes, str, int]:
    """A real picture full of metadata: (bytes, format, EXIF orientation or 0)."""
    fmt = draw(st.sampled_from(["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"]))
    modes = {
        "JPEG": ["RGB", "L", "CMYK"],
        "PNG": ["RGB", "RGBA", "L", "LA", "P", "1", "I;16"],
        "WEBP": ["RGB", "RGBA"],
        "GIF": ["P", "L"],
        "BMP": ["RGB", "L", "P", "1"],
        "TIFF": ["RGB", "L", "CMYK", "F"],
    }[fmt]
    mode = draw(st.sampled_from(modes))
    size = (draw(st.integers(1, 48)), draw(st.integers(1, 48)))
    image = Image.new(mode, size)
    if mode == "P":
        image.putpalette([v % 256 for v in range(768)])
        if draw(st.booleans()):
            image.info["transparency"] = 0
    orientation = draw(st.integers(0, 9))  # 0: none; 9: not a valid orientation
    exif = Image.Exif()
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = SECRET
    exif[ExifTags.Base.ImageDescription] = draw(st.text(max_size=30))
    if draw(st.booleans()):
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef] = "N"
        gps[ExifTags.GPS.GPSLatitude] = (51.0, 30.0, 53.0)
        gps[ExifTags.GPS.GPSLongitudeRef] = "E"
        gps[ExifTags.GPS.GPSLongitude] = (7.0, 27.0, 49.0)
    options: dict = {}
    if fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        options["exif"] = exif.tobytes()
    if fmt in ("JPEG", "PNG", "WEBP", "TIFF") and mode in ("RGB", "RGBA") and draw(st.booleans()):
        options["icc_profile"] = SRGB
    if fmt == "JPEG":
        options["comment"] = SECRET.encode()
    if fmt == "PNG":
        text = PngImagePlugin.PngInfo()
        text.add_text("Author", SECRET)
        text.add_itxt("XML:com.adobe.xmp", f"<x:xmpmeta>{SECRET}</x:xmpmeta>")
        options["pnginfo"] = text
    if fmt == "GIF":
        options["comment"] = SECRET.encode()
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue(), fmt, orientation


@st.composite
def damaged(draw: st.DrawFn) -> tuple[bytes, str, int]:
    data, fmt, orientation = draw(pictures())
    how = draw(st.sampled_from(["truncate", "flip", "append", "none"]))
    if how == "truncate":
        data = data[: draw(st.integers(0, max(len(data) - 1, 0)))]
    elif how == "flip":
        raw = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            position = draw(st.integers(0, len(raw) - 1))
            raw[position] = draw(st.integers(0, 255))
        data = bytes(raw)
    elif how == "append":
        data += draw(st.binary(max_size=200))
    return data, fmt, orientation


def _png_promising(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` × ``height`` pixels (a decompression bomb)."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def _upload(data: bytes, name: str = "foto.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def _check(
    data: bytes, name: str = "foto.jpg", content_type: str = "image/jpeg"
) -> photos.PreparedPhoto | None:
    """The prepared photo, or None when refused with a German message naming the file."""
    try:
        prepared = photos.prepare_photo(_upload(data, name, content_type))
    except ValidationError as exc:
        (message,) = exc.messages
        assert message.startswith(f"„{name}“"), message
        assert any(word in message for word in ("Bild", "8 MB", "Bildpunkte")), message
        return None
    _assert_clean(prepared)
    return prepared


def _assert_clean(prepared: photos.PreparedPhoto) -> None:
    assert prepared.content_type in ("image/jpeg", "image/png")
    assert SECRET.encode() not in prepared.data
    assert b"Exif" not in prepared.data and b"xmpmeta" not in prepared.data
    with Image.open(io.BytesIO(prepared.data)) as stored:
        assert stored.format == ("PNG" if prepared.content_type == "image/png" else "JPEG")
        assert not stored.getexif()
        assert not set(stored.info) & {"exif", "comment", "icc_profile", "xmp", "Author", "XML:com.adobe.xmp"}
        assert stored.size == (prepared.width, prepared.height)
        assert max(stored.size) <= photos.MAX_EDGE
        stored.load()


@FUZZ
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes_are_refused_with_a_german_message(data):
    _check(data)


@FUZZ
@given(picture=pictures())
def test_pictures_full_of_metadata_come_out_clean_and_upright(picture):
    data, fmt, orientation = picture
    with Image.open(io.BytesIO(data)) as original:
        size = original.size
    prepared = _check(data, name=f"bild.{fmt.lower()}")
    if fmt in ("GIF", "BMP", "TIFF"):
        assert prepared is None  # only JPEG, PNG and WebP are accepted
        return
    if prepared is None:
        # Pillow cannot store every mode in every format; such files are refused, not crashed on.
        return
    turned = orientation in (5, 6, 7, 8)
    assert (prepared.width, prepared.height) == ((size[1], size[0]) if turned else size)


@FUZZ
@given(picture=damaged())
def test_truncated_and_corrupted_pictures_are_refused_or_cleaned(picture):
    data, fmt, _orientation = picture
    _check(data, name=f"kaputt.{fmt.lower()}")


@settings(FUZZ, max_examples=40)
@given(
    width=st.integers(1, 2**31 - 1),
    height=st.integers(1, 2**31 - 1),
)
def test_decompression_bombs_are_refused_before_decoding(width, height):
    prepared = _check(_png_promising(width, height), name="bombe.png")
    if width * height > photos.MAX_PIXELS:
        assert prepared is None


@settings(FUZZ, max_examples=30)
@given(
    picture=st.one_of(damaged(), st.binary(max_size=512).map(lambda b: (b, "?", 0))),
    name=st.text(min_size=1, max_size=80).filter(lambda n: "\x00" not in n and "/" not in n),
    content_type=st.sampled_from(
        ["image/jpeg", "image/png", "application/pdf", "text/html", "image/svg+xml", "", "x/\x7f"]
    ),
)
def test_the_public_form_never_answers_500(client, services, picture, name, content_type):
    RateCounter.objects.all().delete()  # the form's abuse limit is not what is tested here
    data, _fmt, _orientation = picture
    form = {
        "lat": f"{INSIDE[0]}",
        "lon": f"{INSIDE[1]}",
        "description": "Am Eingang werden Passanten bedrängt.",
        "attr_personen": "3",
        "attr_tageszeit": ["abends"],
        "website": "",
        "confirm_new": "1",
        "photos": [_upload(data, name, content_type)],
    }
    with unscoped():
        before = Photo.objects.count()
    response = client.post("/melden/betteln/", form)
    assert response.status_code in (200, 302), response.status_code
    with unscoped():
        stored = list(Photo.objects.order_by("id")[before:])
    if response.status_code == 200:
        assert "Bitte prüfen Sie Ihre Angaben" in response.content.decode()
        assert stored == []
    for photo in stored:
        data = photos.photo_path(photo).read_bytes()
        assert SECRET.encode() not in data
        with Image.open(io.BytesIO(data)) as image:
            assert not image.getexif()
