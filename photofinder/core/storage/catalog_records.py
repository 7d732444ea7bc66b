"""What the catalogue hands out (roots, file records, counts) and how it stores paths and hashes."""

from __future__ import annotations

import os
from dataclasses import dataclass

FILE_COLUMNS = (
    "id, root_id, path, size, mtime_ns, content_hash, width, height, format, captured_at, "
    "status, error, camera"
)
UINT64_MASK = (1 << 64) - 1  # a stored (signed) layout hash back to its unsigned 64 bits


@dataclass(frozen=True)
class Root:
    id: int
    path: str
    excluded: bool
    photo_count: int = 0


@dataclass(frozen=True)
class FileRecord:
    id: int
    root_id: int | None
    path: str
    size: int
    mtime_ns: int
    content_hash: str | None
    width: int | None
    height: int | None
    format: str | None
    captured_at: str | None
    status: str
    error: str | None
    camera: str | None = None


@dataclass(frozen=True)
class PhotoMetadata:
    """What one read of a photo tells us, stored on its file row."""

    content_hash: str
    width: int
    height: int
    format: str
    captured_at: str | None
    camera: str | None = None
    layout_hash: int | None = None


@dataclass(frozen=True)
class StatusCounts:
    total: int
    indexed: int
    pending: int
    failed: int


def signed_64(value: int | None) -> int | None:
    """SQLite integers are signed 64-bit: store an unsigned 64-bit hash as its two's complement."""
    if value is None:
        return None
    return value - (1 << 64) if value >= 1 << 63 else value


def path_to_db(path: str) -> str | bytes:
    """A path as the catalogue stores it: TEXT when it is valid UTF-8, else its OS bytes as
    a BLOB (a name with undecodable bytes holds lone surrogates that SQLite cannot encode)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path)
    return path


def path_from_db(value: object) -> str:
    """A stored path back as the str the OS functions take (a BLOB through os.fsdecode)."""
    return os.fsdecode(value) if isinstance(value, bytes) else str(value)


def file_record(row: tuple[object, ...]) -> FileRecord:
    """A FileRecord from a row selected with FILE_COLUMNS."""
    values = list(row)
    values[2] = path_from_db(values[2])  # FILE_COLUMNS: path is the third
    return FileRecord(*values)  # type: ignore[arg-type]


def id_marks(ids: list[int]) -> str:
    """SQL placeholders for an `IN (...)` list of these ids."""
    return ",".join("?" * len(ids))
