"""Where an association activity's photos are kept on disk (not public media: the files are
served only by the scoped photo view), and their removal.

Below ``services.models`` (whose post-delete receiver removes a deleted photo's files) and
``campaigns.services`` (which stores them); it must not import either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from django.conf import settings


class StoredPhoto(Protocol):
    """What removal needs of an ``ActivityPhoto``: its file and thumbnail names."""

    file: str

    @property
    def thumbnail_name(self) -> str: ...


def photo_folder() -> Path:
    """Not public media: the files are served only by the scoped photo view."""
    return Path(settings.VAR_DIR) / "media" / "activity-photos"


def photo_path(name: str) -> Path:
    return photo_folder() / Path(name).name  # never a path outside the folder


def remove_photo_files(photo: StoredPhoto) -> None:
    for name in (photo.file, photo.thumbnail_name):
        photo_path(name).unlink(missing_ok=True)
