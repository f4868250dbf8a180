"""Upload handling for recordings: the browser's upload is spooled inside the recordings directory.

Django spools large uploads to the system's temporary directory (``/tmp``), where a video of
people in a vulnerable situation would lie outside the protected directory until the request
ends. This handler writes the temporary file to ``<LAGEBILD_RECORDINGS_DIR>/.incoming/``
instead (mode 0600); it disappears when the request ends, and the service then copies it to
its final, hash-named place.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from .storage import recordings_root


def incoming_dir():  # type: ignore[no-untyped-def]
    directory = recordings_root() / ".incoming"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


class IncomingRecording(UploadedFile):
    def __init__(
        self, name: str, content_type: str, size: int, charset: str | None, extra: dict | None
    ) -> None:
        # NamedTemporaryFile creates the file with mode 0600.
        # Closed (and so deleted) with the request's files, like Django's own temporary uploads.
        file = tempfile.NamedTemporaryFile(suffix=".upload", dir=incoming_dir())  # noqa: SIM115
        super().__init__(file, name, content_type, size, charset, extra)

    def temporary_file_path(self) -> str:
        return self.file.name

    def close(self) -> None:
        with contextlib.suppress(FileNotFoundError):  # already moved or removed
            self.file.close()


class RecordingUploadHandler(FileUploadHandler):
    def new_file(self, *args: object, **kwargs: object) -> None:
        super().new_file(*args, **kwargs)  # type: ignore[arg-type]
        self.file = IncomingRecording(
            self.file_name, self.content_type, 0, self.charset, self.content_type_extra
        )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.file.write(raw_data)

    def file_complete(self, file_size: int) -> UploadedFile:
        self.file.seek(0)
        self.file.size = file_size
        return self.file

    def upload_interrupted(self) -> None:
        if hasattr(self, "file"):
            path = self.file.temporary_file_path()
            self.file.close()
            if os.path.exists(path):
                os.remove(path)
