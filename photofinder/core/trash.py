"""Safe deletion: move a photo to the platform trash and make the library forget it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from photofinder.core.errors import PhotoFinderError

if TYPE_CHECKING:
    from photofinder.core.library import Library

TrashFunction = Callable[[str], None]


class TrashError(PhotoFinderError):
    """A file could not be moved to the trash (nothing was deleted)."""


def _send2trash(path: str) -> None:
    from send2trash import send2trash

    send2trash(path)


def trash_file(library: Library, file_id: int, send: TrashFunction | None = None) -> Path:
    """Move a catalogued photo to the trash (never a hard delete), then drop its catalogue row
    and its vector from the index. Returns the trashed path."""
    record = library.catalog.file_by_id(file_id)
    if record is None:
        raise TrashError(f"photo {file_id} is not in the catalogue")
    path = Path(record.path)
    if path.exists():
        try:
            (send or _send2trash)(str(path))
        except OSError as exc:
            raise TrashError(f"{path}: could not move to the trash ({exc})") from exc
    library.catalog.delete_files([file_id])
    library.index.remove(file_id)
    return path
