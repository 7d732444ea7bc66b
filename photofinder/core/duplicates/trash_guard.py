"""What may go to the trash: only a photo that is still exactly what the user reviewed."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from photofinder.core.errors import PhotoReadError
from photofinder.core.photos.imageio import content_hash, read_file_bytes
from photofinder.core.storage.catalog import FileRecord, Root


def watched_folder_of(path: str, roots: Sequence[Root]) -> Root | None:
    """The watched folder holding `path`, None when it is outside them or in an excluded one."""
    target = Path(path)
    if any(r.excluded and target.is_relative_to(r.path) for r in roots):
        return None
    return next((r for r in roots if not r.excluded and target.is_relative_to(r.path)), None)


def why_not_trashable(record: FileRecord, roots: Sequence[Root]) -> str | None:
    """None when the file on disk is the catalogued photo (inside a watched folder, a regular
    file and not a link, same size, modification time and content); else the reason."""
    if watched_folder_of(record.path, roots) is None:
        return "not inside a watched folder"
    try:
        info = os.lstat(record.path)
    except FileNotFoundError:
        return "no longer there"
    except OSError as exc:
        return f"cannot be checked ({exc.strerror or exc})"
    if stat.S_ISLNK(info.st_mode):
        return "a symbolic link now, not the photo that was reviewed"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if (info.st_size, info.st_mtime_ns) != (record.size, record.mtime_ns):
        return "changed since it was indexed (size or modification time differ)"
    if record.status != "ok" or not record.content_hash:
        return "not indexed yet, so not what was reviewed"
    try:  # the indexer's own read and hash, so "the same bytes" means what it meant then
        data = read_file_bytes(Path(record.path))
    except PhotoReadError as exc:
        return f"cannot be read to check it ({exc.full_reason})"
    if content_hash(data) != record.content_hash:
        return "its content changed since it was indexed"
    return None
