"""Typed errors: environment and input problems a user can act on, each with a reason."""

from __future__ import annotations


class PhotoFinderError(Exception):
    """Base of every error PhotoFinder reports to a user instead of crashing."""


class PhotoReadError(PhotoFinderError):
    """A photo could not be read; `reason` is the short text stored in the catalogue."""

    reason = "unreadable"
    transient = False  # True: the cause may go away (permission, I/O), so the file is retried

    def __init__(self, path: str, detail: str = "") -> None:
        self.path = path
        self.detail = detail
        message = f"{path}: {self.reason}"
        super().__init__(f"{message} ({detail})" if detail else message)

    @property
    def full_reason(self) -> str:
        return f"{self.reason}: {self.detail}" if self.detail else self.reason


class EmptyFileError(PhotoReadError):
    reason = "empty file (0 bytes)"


class FileTooLargeError(PhotoReadError):
    reason = "file too large"


class NotAnImageError(PhotoReadError):
    reason = "not an image or an unsupported format"


class TruncatedImageError(PhotoReadError):
    reason = "truncated or corrupt image data"


class ImageTooLargeError(PhotoReadError):
    reason = "too many pixels (decompression-bomb guard)"


class FileVanishedError(PhotoReadError):
    reason = "file disappeared while being read"


class PermissionDeniedError(PhotoReadError):
    reason = "permission denied"
    transient = True


class FileReadError(PhotoReadError):
    """The operating system failed the read (I/O error, busy, too many open files)."""

    reason = "unreadable"
    transient = True


class NotARegularFileError(PhotoReadError):
    """A FIFO, socket, device or symbolic link where a photo file was expected; never read."""

    reason = "not a regular file"


class CatalogError(PhotoFinderError):
    """The catalogue database cannot be used."""


class NewerCatalogError(CatalogError):
    """The catalogue was written by a newer PhotoFinder and is left untouched."""


class DeviceUnavailableError(PhotoFinderError):
    """The requested compute device (CUDA, MPS) is not present."""


class MethodUnavailableError(PhotoFinderError):
    """An embedding method is unknown or cannot run on this machine."""


class EmptyLibraryError(PhotoFinderError):
    """A search or duplicate scan was asked of a library with nothing indexed."""


class CatalogDamagedError(CatalogError):
    """The catalogue is corrupt, or empty where a library existed; `photofinder repair` helps."""


class CatalogUnavailableError(CatalogError):
    """The catalogue cannot be written or read now: disk full, read-only, I/O error, locked."""


class IndexSaveError(PhotoFinderError):
    """A search index could not be saved; the previous file on disk is kept."""


class StorageError(PhotoFinderError):
    """A file PhotoFinder keeps could not be written (disk full, read-only, permission)."""


class LibraryBusyError(PhotoFinderError):
    """Another PhotoFinder process holds a lock this one needs."""
