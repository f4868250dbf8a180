"""Bar charts as PNG images for Word documents, drawn with Pillow (no Django).

The PDF reports draw their charts with ReportLab; ReportLab's bitmap renderer needs a cairo
backend that is not installable from wheels, and matplotlib is not a dependency. Pillow is, so
the DOCX gets the same bar charts (same colours, German numbers) drawn here. The font is the
Bitstream Vera that ships with ReportLab, else Pillow's built-in font.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

COLOURS = ("#1d4ed8", "#b45309", "#047857", "#b91c1c", "#6d28d9")
GRID = "#d1d5db"
TEXT = "#111827"
MUTED = "#4b5563"


def _font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        import reportlab

        folder = Path(reportlab.__file__).parent / "fonts"
        return ImageFont.truetype(str(folder / ("VeraBd.ttf" if bold else "Vera.ttf")), size)
    except (ImportError, OSError):
        return ImageFont.load_default(size)


def number_de(value: float) -> str:
    decimals = 0 if float(value).is_integer() else 1
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def nice_step(maximum: float, ticks: int = 5) -> float:
    """A round step (1, 2, 2.5 or 5 × 10ⁿ) that divides 0…maximum into about ``ticks`` parts."""
    if maximum <= 0 or not math.isfinite(maximum):
        return 1.0
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _text_width(draw: ImageDraw.ImageDraw, text: str, font: object) -> float:
    left, _top, right, _bottom = draw.textbbox((0, 0), text, font=font)  # type: ignore[arg-type]
    return right - left


def _fit(draw: ImageDraw.ImageDraw, text: str, font: object, width: float) -> str:
    if _text_width(draw, text, font) <= width:
        return text
    while text and _text_width(draw, text + "…", font) > width:
        text = text[:-1]
    return text + "…"


def bar_chart_png(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    title: str = "",
    width: int = 1600,
    height: int = 720,
) -> bytes:
    """Grouped vertical bars, one colour per series, value above each bar; a PNG image."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    title_font, font, small = _font(30, bold=True), _font(22), _font(19)
    names = list(series)
    values = [[max(float(v or 0), 0.0) for v in series[name]] for name in names]
    top = 20
    if title:
        draw.text((20, top), title, fill=TEXT, font=title_font)
        top += 50
    if len(names) > 1:
        x = 20
        for i, name in enumerate(names):
            colour = COLOURS[i % len(COLOURS)]
            draw.rectangle((x, top + 4, x + 22, top + 26), fill=colour)
            draw.text((x + 30, top), name, fill=TEXT, font=font)
            x += 30 + _text_width(draw, name, font) + 40
        top += 45
    maximum = max((v for row in values for v in row), default=0.0)
    step = nice_step(maximum)
    axis_max = step * max(1, math.ceil(maximum / step)) if maximum > 0 else step * 5
    left, right, bottom = 110, width - 30, height - 90
    plot_height = bottom - top - 30
    tick = 0.0
    while tick <= axis_max + step / 2:
        y = bottom - plot_height * tick / axis_max
        draw.line((left, y, right, y), fill=GRID, width=1)
        label = number_de(tick)
        draw.text((left - 12 - _text_width(draw, label, small), y - 12), label, fill=MUTED, font=small)
        tick += step
    draw.line((left, bottom, right, bottom), fill=TEXT, width=2)
    count = max(len(labels), 1)
    slot = (right - left) / count
    bar = min(slot * 0.8 / max(len(names), 1), 120)
    for index, label in enumerate(labels):
        start = left + slot * index + (slot - bar * len(names)) / 2
        for s, row in enumerate(values):
            value = row[index] if index < len(row) else 0.0
            x0 = start + s * bar
            y0 = bottom - plot_height * value / axis_max
            draw.rectangle((x0 + 2, y0, x0 + bar - 2, bottom), fill=COLOURS[s % len(COLOURS)])
            text = number_de(value)
            width_text = _text_width(draw, text, small)
            draw.text((x0 + (bar - width_text) / 2, y0 - 26), text, fill=TEXT, font=small)
        shown = _fit(draw, label, small, slot - 8)
        draw.text(
            (left + slot * index + (slot - _text_width(draw, shown, small)) / 2, bottom + 12),
            shown,
            fill=TEXT,
            font=small,
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
