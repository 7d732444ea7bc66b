"""Errors shown to a person are plain sentences, never an exception's repr."""

from __future__ import annotations

import errno
import sqlite3

import pytest

from photofinder.core.errors import EmptyLibraryError, PhotoFinderError, PhotoReadError
from photofinder.core.messages import plain_error


def test_a_photofinder_error_reads_as_its_own_text() -> None:
    assert plain_error(PhotoFinderError("no folders to index")) == "no folders to index"
    unreadable = PhotoReadError("/p/a.jpg", "cut short")
    assert plain_error(unreadable) == "/p/a.jpg: unreadable (cut short)"


def test_a_photofinder_error_without_text_reads_as_its_description() -> None:
    assert plain_error(EmptyLibraryError()) == (
        "A search or duplicate scan was asked of a library with nothing indexed."
    )


def test_an_os_error_names_its_reason_and_file() -> None:
    missing = FileNotFoundError(errno.ENOENT, "No such file or directory", "/photos/a.jpg")
    assert plain_error(missing) == "No such file or directory: /photos/a.jpg"
    full = OSError(errno.ENOSPC, "No space left on device")
    assert plain_error(full) == "No space left on device"
    moved = OSError(errno.EXDEV, "Invalid cross-device link", "/a.jpg", None, "/mnt/b.jpg")
    assert plain_error(moved) == "Invalid cross-device link: /a.jpg → /mnt/b.jpg"


def test_a_file_name_that_is_not_utf8_is_shown_escaped() -> None:
    odd = PermissionError(errno.EACCES, "Permission denied", b"/photos/caf\xe9.jpg")
    assert plain_error(odd) == "Permission denied: /photos/caf\\xe9.jpg"


def test_running_out_of_memory_is_said_plainly() -> None:
    assert plain_error(MemoryError()) == "not enough memory"


@pytest.mark.parametrize(
    "exc",
    [ValueError("x must be > 0"), KeyError("photo"), sqlite3.OperationalError("boom"),
     RuntimeError(), OSError()],
    ids=lambda exc: type(exc).__name__,
)
def test_anything_else_asks_to_be_reported_and_is_never_a_repr(exc: BaseException) -> None:
    text = plain_error(exc)
    assert text == f"an unexpected error ({type(exc).__name__}) — please report it"
    assert repr(exc) not in text


def test_plural_counts_what_it_names() -> None:
    from photofinder.core.messages import plural

    assert [plural(n, "photo") for n in (0, 1, 2)] == ["0 photos", "1 photo", "2 photos"]
