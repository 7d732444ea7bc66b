"""One-line reasons for storage failures: SQLite result codes and OS errors a user can act on."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from photofinder.core.errors import (
    CatalogDamagedError,
    CatalogError,
    CatalogUnavailableError,
    PhotoFinderError,
    StorageError,
)

OS_REASONS: dict[int, str] = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EIO: "an I/O error (the disk may be failing)",
}

_DAMAGED = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_LOCKED = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_DENIED = frozenset({sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH})


def os_error_reason(exc: OSError) -> str:
    """What went wrong, in words: "the disk is full", "the file system is read-only", …"""
    known = OS_REASONS.get(exc.errno) if exc.errno is not None else None
    return known or exc.strerror or str(exc)


def is_storage_os_error(exc: BaseException) -> bool:
    """An OSError about the disk or permissions (not a bug): full, read-only, denied, I/O."""
    return isinstance(exc, OSError) and exc.errno in OS_REASONS


def _primary_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def catalog_error(exc: sqlite3.Error, path: Path) -> CatalogError:
    """The typed error, with a one-line reason naming the file, for an SQLite failure."""
    code = _primary_code(exc)
    if code in _DAMAGED:
        return CatalogDamagedError(
            f"the catalogue {path} is damaged ({exc}): run `photofinder repair`"
        )
    if code == sqlite3.SQLITE_FULL:
        return CatalogUnavailableError(
            f"cannot write the catalogue {path}: the disk is full; free some space and try again"
        )
    if code == sqlite3.SQLITE_READONLY:
        return CatalogUnavailableError(
            f"cannot write the catalogue {path}: it is read-only ({exc}); check the folder's "
            "permissions"
        )
    if code == sqlite3.SQLITE_IOERR:
        return CatalogUnavailableError(
            f"cannot read or write the catalogue {path}: I/O error ({exc}); the disk may be "
            "failing or full"
        )
    if code in _LOCKED:
        return CatalogUnavailableError(
            f"the catalogue {path} is locked by another process ({exc}); try again when it "
            "finishes"
        )
    if code == sqlite3.SQLITE_CANTOPEN:
        return CatalogUnavailableError(
            f"cannot open the catalogue {path} ({exc}): check that its folder exists and is "
            "writable"
        )
    if code in _DENIED:
        return CatalogUnavailableError(f"cannot use the catalogue {path}: permission denied")
    return CatalogError(f"the catalogue {path} failed: {exc}")


def user_facing_error(exc: BaseException, catalog_path: Path) -> PhotoFinderError | None:
    """The typed error to show for an exception that reached the CLI or the GUI's top level;
    None when it is not a storage problem (a bug, which should stay a traceback)."""
    if isinstance(exc, PhotoFinderError):
        return exc
    if isinstance(exc, sqlite3.Error):
        return catalog_error(exc, catalog_path)
    if isinstance(exc, OSError) and is_storage_os_error(exc):
        where = f"{exc.filename}: " if exc.filename else ""
        return StorageError(f"{where}{os_error_reason(exc)}")
    return None
