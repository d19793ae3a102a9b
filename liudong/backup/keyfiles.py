"""The key material a backup carries: ONE list, :data:`KEY_FILES`.

Each entry names where a key lives on this machine (a callable, because the place comes
from settings and the environment at run time) under a stable name used inside the
backup file. A folder is carried whole (every regular file in it); a file alone. To back
up a new kind of key, add one line here; nothing else changes.

Keys are written back with mode 0600 in folders of mode 0700. This module reads and
writes files only; it knows nothing of the archive or the database.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


def _secret_key_file() -> Path:
    # settings._secret_key() keeps the Django secret key here unless LIUDONG_SECRET_KEY is set.
    return Path(settings.VAR_DIR) / "secret_key"


def _node_key_folder() -> Path:
    from liudong.certificates.keys import key_folder

    return key_folder()


def _audit_key_file() -> Path:
    from liudong.audit.keys import key_path

    return key_path()


@dataclass(frozen=True)
class KeyFile:
    name: str  # stable name inside the backup: never rename one, old backups carry it
    path: Callable[[], Path]


KEY_FILES: list[KeyFile] = [
    KeyFile("secret-key", _secret_key_file),
    KeyFile("node-keys", _node_key_folder),
    # The audit chain's MAC key: without it the restored log cannot be verified or extended.
    KeyFile("audit-key", _audit_key_file),
]


def collect() -> dict[str, dict]:
    """The key material on this machine: {name: {"kind": "file"|"folder", "files":
    {relative path: bytes}}}. A key that does not exist here is left out (named by the
    caller), e.g. the secret key when it comes from LIUDONG_SECRET_KEY."""
    found: dict[str, dict] = {}
    for item in KEY_FILES:
        path = item.path()
        if path.is_dir():
            files = {
                str(p.relative_to(path)): p.read_bytes()
                for p in sorted(path.rglob("*"))
                if p.is_file() and not p.name.startswith(".")
            }
            found[item.name] = {"kind": "folder", "files": files}
        elif path.is_file():
            found[item.name] = {"kind": "file", "files": {"": path.read_bytes()}}
    return found


@dataclass(frozen=True)
class Placement:
    target: Path
    content: bytes
    state: str  # "new", "same" (identical file there: nothing to do) or "different"


def plan(material: dict[str, dict]) -> list[Placement]:
    """Where each key file of a backup goes on this machine and what lies there now."""
    by_name = {item.name: item for item in KEY_FILES}
    placements = []
    for name, entry in material.items():
        item = by_name.get(name)
        if item is None:
            # A key kind this version does not know: refusing is safer than dropping it.
            raise ValueError(f"the backup holds key material “{name}” this version does not know")
        base = item.path()
        for relative, content in entry["files"].items():
            target = base / relative if entry["kind"] == "folder" else base
            if not _inside(base, target):
                raise ValueError(f"the backup names a key file outside its folder: {relative}")
            if not target.exists():
                state = "new"
            elif target.is_file() and target.read_bytes() == content:
                state = "same"
            else:
                state = "different"
            placements.append(Placement(target, content, state))
    return placements


def _inside(base: Path, target: Path) -> bool:
    try:
        target.resolve().relative_to(base.resolve())
    except ValueError:
        return False
    return True


class Written:
    """What :func:`place` changed, so a failed restore can put everything back."""

    def __init__(self) -> None:
        self.created: list[Path] = []
        self.moved: list[tuple[Path, Path]] = []  # (aside, original place)

    def undo(self) -> None:
        for path in self.created:
            path.unlink(missing_ok=True)
        for aside, original in self.moved:
            os.replace(aside, original)


def place(placements: list[Placement], *, replace: bool, stamp: str) -> Written:
    """Write the backup's keys. A different key already there is moved aside to
    ``NAME.replaced-STAMP`` (never destroyed: it may be the only copy of a key that
    signed something), and only when ``replace`` is set; the caller checks first."""
    written = Written()
    try:
        for item in placements:
            if item.state == "same":
                continue
            if item.state == "different":
                if not replace:
                    raise FileExistsError(f"{item.target} exists and differs from the backup's")
                aside = item.target.with_name(f"{item.target.name}.replaced-{stamp}")
                os.replace(item.target, aside)
                written.moved.append((aside, item.target))
            item.target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Mode 0600 from the first byte, as certificates.keys writes them.
            fd = os.open(item.target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            written.created.append(item.target)
            with os.fdopen(fd, "wb") as handle:
                handle.write(item.content)
    except BaseException:
        written.undo()
        raise
    return written
