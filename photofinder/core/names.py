"""File names as text a person can read: bytes that are not UTF-8 (Linux allows any) are shown
as escapes (caf\\xe9.jpg) instead of being dropped."""

from __future__ import annotations

import os
from pathlib import PurePath


def shown(path: str | PurePath) -> str:
    """`path` for display: unchanged when it is valid text."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "backslashreplace")
    return text


def shown_name(path: str | PurePath) -> str:
    return shown(PurePath(path).name)


def shown_folder(path: str | PurePath) -> str:
    return shown(PurePath(path).parent)
