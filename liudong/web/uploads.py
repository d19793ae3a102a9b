"""Files people upload for a check-then-confirm import: kept under var/uploads/ between
the preview and the confirmation, named by a random token held in the user's session."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from liudong.filecheck import mib

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

ALLOWED_SUFFIXES = (".csv", ".xlsx", ".txt")


def _folder() -> Path:
    folder = settings.VAR_DIR / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_upload(uploaded: UploadedFile) -> str:
    suffix = Path(uploaded.name or "").suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise ValidationError(
            {"file": _("Upload a .csv or .xlsx file (got “%(name)s”).") % {"name": uploaded.name}}
        )
    # The request was bounded by UploadSizeMiddleware; what each importer takes is
    # checked by liudong.filecheck when it reads the file.
    if (uploaded.size or 0) > settings.UPLOAD_MAX_BYTES:
        raise ValidationError(
            {
                "file": _("The file is larger than %(limit)s MiB.")
                % {"limit": mib(settings.UPLOAD_MAX_BYTES)}
            }
        )
    token = secrets.token_hex(16) + suffix
    with (_folder() / token).open("wb") as handle:
        for chunk in uploaded.chunks():
            handle.write(chunk)
    return token


def upload_path(token: str) -> Path:
    path = _folder() / Path(token).name  # never a path outside the folder
    if not path.exists():
        raise FileNotFoundError(token)
    return path


def discard(token: str) -> None:
    (_folder() / Path(token).name).unlink(missing_ok=True)
