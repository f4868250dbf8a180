"""Static files for WhiteNoise: hashed, compressed names once ``collectstatic`` has run.

With DEBUG off the templates ask this storage for every ``{% static %}`` URL. After
``lagebild collectstatic`` (``lagebild serve`` runs it) the answer is the content-hashed name
(``app.3f2a9c1e.css``), which WhiteNoise serves with a ten-year, immutable Cache-Control and
as gzip or Brotli when the browser accepts it. Before that (tests, a first start without
collectstatic) and for a file added since the last run the plain name is returned, which
WhiteNoise serves from the source directories with a short cache time, instead of failing the
page with Django's "Missing staticfiles manifest entry".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import brotli
from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage

# Brotli's top quality 11 costs about 25 times the CPU of 9 for files 9 % smaller (the API
# documentation's 1.6 MB bundle: 3.3 s against 0.13 s); browsers keep the files for years, but
# a start of `lagebild serve` after an upgrade should not wait a minute for that.
BROTLI_QUALITY = 9


class _Compressor(Compressor):
    # Source maps are read by developer tools only, and are half of all static bytes.
    SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")

    @staticmethod
    def compress_brotli(data: bytes) -> bytes:
        return brotli.compress(data, quality=BROTLI_QUALITY)


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def stored_name(self, name: str) -> str:
        if not self.hashed_files:  # no manifest yet
            return name
        try:
            return super().stored_name(name)
        except ValueError:  # not in the manifest: collected before this file existed
            return name

    def create_compressor(self, **kwargs: Any) -> Compressor:
        return _Compressor(**kwargs)

    def compress_files(self, paths: Iterable[str]) -> Iterator[tuple[str, str]]:
        # Pages only link the hashed names; the plain copies stay uncompressed.
        hashed = set(self.hashed_files.values())
        yield from super().compress_files([path for path in paths if path in hashed])
