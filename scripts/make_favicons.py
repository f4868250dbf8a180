"""Render the hand-written favicon.svg to the PNG and ICO fallbacks with Debian's Chromium.

Older browsers and programs (bookmarks, Windows shortcuts, iOS home screens) do not take an SVG
icon, so ``favicon.ico`` (16/32/48 px), ``favicon-32.png`` and ``apple-touch-icon.png`` (180 px,
square corners: iOS rounds them itself) are the same drawing, rendered by the browser the test
suite uses. Run after changing the SVG::

    .venv/bin/python scripts/make_favicons.py
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

IMG = Path(__file__).resolve().parents[1] / "src/lagebild/static/lagebild/img"
CHROMIUM = os.environ.get("LAGEBILD_CHROMIUM", "/usr/bin/chromium")


def render(svg: str, size: int) -> Image.Image:
    sized = svg.replace("<svg ", f'<svg width="{size}" height="{size}" ', 1)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": size, "height": size})
        page.set_content(f'<body style="margin:0;background:transparent">{sized}</body>')
        png = page.screenshot(omit_background=True, clip={"x": 0, "y": 0, "width": size, "height": size})
        browser.close()
    return Image.open(io.BytesIO(png)).convert("RGBA")


def main() -> None:
    svg = (IMG / "favicon.svg").read_text(encoding="utf-8")
    icons = {size: render(svg, size) for size in (16, 32, 48)}
    icons[32].save(IMG / "favicon-32.png", optimize=True)
    icons[48].save(
        IMG / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)], append_images=[icons[16], icons[32]]
    )
    render(svg.replace('rx="6"', 'rx="0"'), 180).save(IMG / "apple-touch-icon.png", optimize=True)


if __name__ == "__main__":
    main()
