"""Exceptions as plain sentences for a person to read: never Python's repr of an exception."""

from __future__ import annotations

import os

from photofinder.core.errors import PhotoFinderError
from photofinder.core.names import shown


def plain_error(exc: BaseException) -> str:
    """What went wrong, in words: a PhotoFinderError's own text, an OS error's reason and file,
    "not enough memory", or a request to report anything else (a bug)."""
    if isinstance(exc, PhotoFinderError):
        return str(exc) or _first_line(type(exc).__doc__) or _unexpected(exc)
    if isinstance(exc, MemoryError):
        return "not enough memory"
    if isinstance(exc, OSError):
        return _os_error(exc)
    return _unexpected(exc)


def _os_error(exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    if not reason:
        return _unexpected(exc)
    files = [_file_name(name) for name in (exc.filename, exc.filename2) if name is not None]
    return f"{reason}: {' → '.join(files)}" if files else reason


def _file_name(name: object) -> str:
    if isinstance(name, str | bytes | os.PathLike):
        return shown(os.fsdecode(name))
    return str(name)  # a file descriptor


def _unexpected(exc: BaseException) -> str:
    return f"an unexpected error ({type(exc).__name__}) — please report it"


def _first_line(text: str | None) -> str:
    return text.strip().splitlines()[0].strip() if text and text.strip() else ""


def plural(count: int, noun: str) -> str:
    """`count` with its noun: "1 photo", "3 photos"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
