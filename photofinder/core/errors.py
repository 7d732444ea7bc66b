"""Typed errors: environment and input problems a user can act on, each with a reason."""

from __future__ import annotations


class PhotoFinderError(Exception):
    """Base of every error PhotoFinder reports to a user instead of crashing."""


class PhotoReadError(PhotoFinderError):
    """A photo could not be read; `reason` is the short text stored in the catalogue."""

    reason = "unreadable"

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
